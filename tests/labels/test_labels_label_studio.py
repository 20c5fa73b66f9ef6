"""Label Studio export / import and the CSV annotation sheet (no Label Studio server)."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.cli.main import main as run
from empathynet.errors import PathEscapeError
from empathynet.labels import DEFAULT_TAXONOMY, LabelFileError, LabelsLayout, read_votes
from empathynet.labels.aggregate import read_aggregate
from empathynet.labels.labelstudio import (
    LOCAL_FILES_PREFIX,
    export_label_studio,
    import_label_studio,
)
from empathynet.labels.votes import VOTE_SCHEMA, export_label_sheet, import_votes
from empathynet.store.layout import DatasetLayout
from empathynet.testing.synthetic import SyntheticDataset, write_synthetic_dataset


@pytest.fixture
def dataset(tmp_path: Path) -> SyntheticDataset:
    return write_synthetic_dataset(tmp_path / "ds", cue_groups=8, sources=2, rejected=1)


def cue_ids(dataset: SyntheticDataset) -> list[str]:
    return [str(c) for c in dataset.truth.column("cue_id").to_pylist()]


def choices(field: str, *values: str) -> dict[str, Any]:
    return {
        "from_name": field,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [*values]},
    }


def annotation(
    user: Any, label: str | None, when: str, *, cancelled: bool = False, **extra: str
) -> dict[str, Any]:
    result = [choices("label", label)] if label else []
    result += [choices(field, value) for field, value in extra.items()]
    return {
        "id": abs(hash((str(user), label, when))) % 10_000,
        "completed_by": user,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": when,
        "updated_at": when,
        "lead_time": 3.5,
        "prediction": {},
        "task": 1,
        "project": 1,
    }


def recorded_export(ids: list[str]) -> list[dict[str, Any]]:
    """An export as Label Studio 1.23 writes it: two annotators (user 1 as an id, user 2
    as an object), one skipped annotation, a machine prediction."""
    a, b, c = ids[:3]
    return [
        {
            "id": 11,
            "data": {"cue_id": a, "text": "synthetic sentence 0.", "stills": []},
            "annotations": [
                annotation(1, "joy", "2026-05-01T10:00:00.123456Z", gender="female"),
                annotation(
                    {"id": 2, "email": "ann2@example.com"},
                    "joy",
                    "2026-05-01T11:30:00+02:00",
                    age_band="adult",
                ),
            ],
            "predictions": [
                {"model_version": "lexicon", "score": 0.9, "result": [choices("label", "anger")]}
            ],
            "project": 1,
        },
        {
            "id": 12,
            "data": {"cue_id": b, "text": "synthetic sentence 1."},
            "annotations": [
                annotation(1, "fear", "2026-05-01T10:01:00Z"),
                annotation(2, None, "2026-05-01T10:02:00Z", cancelled=True),
            ],
            "predictions": [],
        },
        {
            "id": 13,
            "data": {"cue_id": c, "text": "synthetic sentence 2."},
            "annotations": [
                annotation(1, "sadness", "2026-05-01T10:03:00Z"),
                annotation(2, "anger", "2026-05-01T10:04:00Z"),
            ],
        },
        {"id": 14, "data": {"cue_id": ids[3]}, "annotations": []},
    ]


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def test_config_names_every_class_and_the_attribute_choices(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    result = export_label_studio(dataset.root, tmp_path / "ls")
    root = ET.fromstring((tmp_path / "ls" / "config.xml").read_text(encoding="utf-8"))
    assert root.tag == "View"
    controls = {c.get("name"): c for c in root.iter("Choices")}
    assert set(controls) == {"label", "gender", "age_band"}
    label = controls["label"]
    assert label.get("required") == "true" and label.get("choice") == "single"
    assert [c.get("value") for c in label.iter("Choice")] == list(DEFAULT_TAXONOMY.classes)
    assert [c.get("value") for c in controls["gender"]] == list(DEFAULT_TAXONOMY.genders)
    assert [c.get("value") for c in controls["age_band"]] == list(DEFAULT_TAXONOMY.age_bands)
    objects = {e.tag: e for e in root if e.get("name")}
    assert objects["Image"].get("valueList") == "$stills"
    assert objects["Video"].get("value") == "$face_clip"
    assert objects["Audio"].get("value") == "$audio"
    assert objects["Text"].get("value") == "$text"
    assert not any(e.get("name") == "audio_raw" for e in root)
    assert result.tasks == 8 and result.predictions == 0
    guide = (tmp_path / "ls" / "README.md").read_text(encoding="utf-8")
    assert "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT" in guide and "labels import" in guide


def test_tasks_have_relative_urls_inside_the_dataset(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    export_label_studio(dataset.root, tmp_path / "ls")
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text(encoding="utf-8"))
    assert [t["data"]["cue_id"] for t in tasks] == cue_ids(dataset)  # accepted only, in order
    layout = DatasetLayout(dataset.root)
    for task in tasks:
        data = task["data"]
        assert "audio_raw" not in data
        assert len(data["stills"]) == 5
        for url in [*data["stills"], data["face_clip"], data["audio"]]:
            assert url.startswith(LOCAL_FILES_PREFIX)
            relative = unquote(url[len(LOCAL_FILES_PREFIX) :])
            assert not relative.startswith("/") and ".." not in relative
            assert dataset.root.resolve() in layout.resolve(relative).parents
        assert data["audio"].endswith("audio_blur.wav")
        assert data["nonverbal"] in ("-", "laughs")
    assert any(t["data"]["nonverbal"] == "laughs" for t in tasks)


def test_raw_audio_only_when_asked_and_url_prefix(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    export_label_studio(
        dataset.root, tmp_path / "ls", raw_audio=True, url_prefix="http://localhost:8000/"
    )
    config = ET.fromstring((tmp_path / "ls" / "config.xml").read_text(encoding="utf-8"))
    assert [e.get("name") for e in config.iter("Audio")] == ["audio", "audio_raw"]
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text(encoding="utf-8"))
    raw = tasks[0]["data"]["audio_raw"]
    assert raw.startswith("http://localhost:8000/media/") and raw.endswith("/audio.wav")


def test_a_media_path_leaving_the_dataset_is_refused(tmp_path: Path) -> None:
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=2, sources=1)
    part = DatasetLayout(dataset.root).cue_parts()[0]
    table = pq.read_table(part)
    paths = table.column("audio_blur_path").to_pylist()
    paths[0] = "../outside.wav"
    index = table.schema.get_field_index("audio_blur_path")
    table = table.set_column(index, table.schema.field(index), pa.array(paths, pa.string()))
    pq.write_table(table, part)
    with pytest.raises(PathEscapeError, match="leaves the dataset"):
        export_label_studio(dataset.root, tmp_path / "ls")
    assert not (tmp_path / "ls").exists()


def test_prelabels_become_predictions_never_votes(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    a, b = cue_ids(dataset)[:2]
    LabelsLayout(dataset.root).folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "cue_id": [a, a, b, b],
                "method": ["lexicon", "embedding", "lexicon", "embedding"],
                "label": ["Joy", "fear", None, "not-a-class"],
                "score": [0.8, None, None, 0.4],
            },
            schema=pa.schema(
                [
                    ("cue_id", pa.string()),
                    ("method", pa.string()),
                    ("label", pa.string()),
                    ("score", pa.float64()),
                ]
            ),
        ),
        LabelsLayout(dataset.root).folder / "prelabels.parquet",
    )
    result = export_label_studio(dataset.root, tmp_path / "ls")
    assert result.predictions == 2
    tasks = {
        t["data"]["cue_id"]: t for t in json.loads((tmp_path / "ls" / "tasks.json").read_text())
    }
    predictions = tasks[a]["predictions"]
    assert [(p["model_version"], p["result"][0]["value"]["choices"]) for p in predictions] == [
        ("lexicon", ["joy"]),
        ("embedding", ["fear"]),
    ]
    assert not any("score" in p for p in predictions)  # a cluster id is no confidence
    assert "predictions" not in tasks[b]  # no label / a label outside the taxonomy

    # An export that still carries the predictions: they never become votes.
    exported = [
        {**tasks[a], "id": 1, "annotations": [annotation(5, "sadness", "2026-05-01T09:00:00Z")]}
    ]
    import_label_studio(dataset.root, write_json(tmp_path / "export.json", exported))
    votes = read_votes(dataset.root).to_pylist()
    assert [(v["annotator"], v["label"]) for v in votes] == [("ls-user-5", "sadness")]


def test_recorded_export_imports_as_votes_with_times(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    ids = cue_ids(dataset)
    path = write_json(tmp_path / "project-1-at-2026.json", recorded_export(ids))
    result = import_label_studio(dataset.root, path)
    assert result.votes_read == 5 and result.votes_added == 5  # cancelled one skipped
    votes = {(v["cue_id"], v["annotator"]): v for v in read_votes(dataset.root).to_pylist()}
    assert set(votes) == {
        (ids[0], "ls-user-1"),
        (ids[0], "ls-user-2"),
        (ids[1], "ls-user-1"),
        (ids[2], "ls-user-1"),
        (ids[2], "ls-user-2"),
    }
    first = votes[(ids[0], "ls-user-1")]
    assert first["label"] == "joy" and first["gender"] == "female" and first["age_band"] is None
    assert first["voted_at"] == datetime(2026, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    second = votes[(ids[0], "ls-user-2")]
    assert second["voted_at"] == datetime(2026, 5, 1, 9, 30, tzinfo=UTC)  # +02:00 -> UTC
    assert second["age_band"] == "adult" and second["file"] == path.name
    assert votes[(ids[2], "ls-user-1")]["line"] == 3  # the task's position in the file
    found = read_aggregate(LabelsLayout(dataset.root).aggregate)
    assert found is not None
    aggregate = {row["cue_id"]: row for row in found[0].to_pylist()}
    assert aggregate[ids[0]]["label"] == "joy" and aggregate[ids[0]]["agreement"] == 1.0
    assert aggregate[ids[1]]["label"] == "fear" and aggregate[ids[1]]["votes"] == 1
    assert aggregate[ids[2]]["tie"] and aggregate[ids[2]]["label"] is None
    assert result.cues_labelled == 2 and result.cues_tied == 1

    again = import_votes(dataset.root, path)  # dispatch by suffix, same round
    assert again.already_imported and again.votes_added == 0
    assert read_votes(dataset.root).num_rows == 5


def test_a_later_export_is_a_new_round_where_the_latest_vote_counts(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    ids = cue_ids(dataset)
    first = recorded_export(ids)
    import_label_studio(dataset.root, write_json(tmp_path / "first.json", first))
    later = recorded_export(ids)
    later[2]["annotations"][1] = annotation(2, "sadness", "2026-05-02T08:00:00Z")  # relabelled
    # The content says JSON even without the suffix.
    result = import_votes(dataset.root, write_json(tmp_path / "later.export", later))
    assert not result.already_imported and result.votes_added == 5
    assert read_votes(dataset.root).num_rows == 10  # every raw vote kept
    found = read_aggregate(LabelsLayout(dataset.root).aggregate)
    assert found is not None
    row = next(r for r in found[0].to_pylist() if r["cue_id"] == ids[2])
    assert row["label"] == "sadness" and row["votes"] == 2 and not row["tie"]


@pytest.mark.parametrize(
    ("mutate", "message", "position"),
    [
        (lambda t: t[1]["data"].update(cue_id="nope-000000001"), "unknown cue id", "task 2"),
        (
            lambda t: t[0]["annotations"][0]["result"][0]["value"].update(choices=["bored"]),
            "label 'bored' is not in the taxonomy",
            "task 1",
        ),
        (
            lambda t: t[2]["annotations"][0]["result"][0]["value"].update(choices=["joy", "fear"]),
            "has 2 choices",
            "task 3",
        ),
        (
            lambda t: t[2]["annotations"].append(annotation(1, "joy", "2026-05-03T00:00:00Z")),
            "ls-user-1 has two annotations",
            "task 3",
        ),
        (lambda t: t[1]["annotations"][0].update(result=[]), "has no 'label' choice", "task 2"),
    ],
)
def test_bad_exports_give_one_line_and_write_nothing(
    dataset: SyntheticDataset, tmp_path: Path, mutate: Any, message: str, position: str
) -> None:
    tasks = recorded_export(cue_ids(dataset))
    mutate(tasks)
    path = write_json(tmp_path / "bad.json", tasks)
    with pytest.raises(LabelFileError) as error:
        import_label_studio(dataset.root, path)
    text = str(error.value)
    assert "\n" not in text and message in text and position in text and "bad.json" in text
    assert not LabelsLayout(dataset.root).folder.exists()  # nothing written at all


def test_broken_json_is_one_line(dataset: SyntheticDataset, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('[{"id": 1, "data": ', encoding="utf-8")
    with pytest.raises(LabelFileError, match=r"export\.json, line 1 column \d+: not valid JSON"):
        import_votes(dataset.root, path)
    assert not LabelsLayout(dataset.root).folder.exists()


def test_old_votes_files_without_voted_at_still_read(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    old = pa.schema([f for f in VOTE_SCHEMA if f.name != "voted_at"])
    row = {
        "cue_id": cue_ids(dataset)[0],
        "annotator": "ann1",
        "label": "joy",
        "gender": None,
        "age_band": None,
        "round": "0" * 64,
        "round_index": 1,
        "file": "old.csv",
        "line": 2,
    }
    LabelsLayout(dataset.root).folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([row], schema=old), LabelsLayout(dataset.root).votes)
    assert read_votes(dataset.root).to_pylist()[0]["voted_at"] is None
    import_label_studio(
        dataset.root, write_json(tmp_path / "e.json", recorded_export(cue_ids(dataset)))
    )
    votes = read_votes(dataset.root)
    assert votes.num_rows == 6 and votes.column("voted_at").null_count == 1


def test_csv_sheet_round_trips_through_the_cli(
    dataset: SyntheticDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "sheet.csv"
    assert run(["labels", "export", str(dataset.root), "--format", "csv", "--out", str(sheet)]) == 0
    with sheet.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["cue_id"] for r in rows] == cue_ids(dataset)
    assert "audio_path" not in rows[0] and rows[0]["audio_blur_path"].endswith("audio_blur.wav")
    assert all(r["label"] == r["annotator"] == "" for r in rows)
    assert len(rows[0]["still_paths"].split(" ")) == 5

    truth = {r["cue_id"]: r for r in dataset.truth.to_pylist()}
    for index, row in enumerate(rows[:5]):  # the annotator labels five, leaves three
        row.update(
            annotator="ann1",
            label=str(truth[row["cue_id"]]["label"]).upper(),
            gender=str(truth[row["cue_id"]]["gender"]),
            time=f"2026-05-01T12:0{index}:00" if index else "",
        )
    with sheet.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()
    assert run(["labels", "import", str(dataset.root), str(sheet), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["votes_added"] == 5
    votes = read_votes(dataset.root).to_pylist()
    assert {v["cue_id"]: v["label"] for v in votes} == {
        r["cue_id"]: truth[r["cue_id"]]["label"] for r in rows[:5]
    }
    times = [v["voted_at"] for v in votes]
    assert times[0] is None and times[1] == datetime(2026, 5, 1, 12, 1, tzinfo=UTC)

    raw = tmp_path / "raw.csv"
    export_label_sheet(dataset.root, raw, raw_audio=True)
    assert raw.read_text(encoding="utf-8").splitlines()[0].endswith(",audio_path")


def test_csv_bad_time_is_one_line(dataset: SyntheticDataset, tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(f"cue_id,annotator,label,time\n{cue_ids(dataset)[0]},a,joy,yesterday\n")
    with pytest.raises(LabelFileError, match=r"votes\.csv, line 2: time 'yesterday' is not ISO"):
        import_votes(dataset.root, path)


def test_label_studio_export_through_the_cli(
    dataset: SyntheticDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ls"
    args = ["--format", "label-studio", "--out", str(out), "--raw-audio", "--json"]
    code = run(["labels", "export", str(dataset.root), *args])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["tasks"] == 8 and printed["raw_audio"] is True
    assert sorted(p.name for p in out.iterdir()) == [
        ".empathynet-export.json",  # what the export wrote (store.outputs)
        "README.md",
        "config.xml",
        "tasks.json",
    ]


def test_exports_never_replace_a_users_files(dataset: SyntheticDataset, tmp_path: Path) -> None:
    """A folder holding a README the user wrote, or an existing sheet (maybe filled in),
    is not overwritten without --overwrite; a re-export replaces its own files."""
    from empathynet.errors import ConfigError
    from empathynet.labels.labelstudio import export_label_studio
    from empathynet.labels.votes import export_label_sheet

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "README.md").write_text("my notes\n")
    with pytest.raises(ConfigError, match=r"README\.md that no EmpathyNet export wrote"):
        export_label_studio(dataset.root, folder)
    assert (folder / "README.md").read_text() == "my notes\n"
    assert not (folder / "tasks.json").exists()
    fresh = tmp_path / "fresh"
    export_label_studio(dataset.root, fresh)
    export_label_studio(dataset.root, fresh)  # its own files: replaced
    export_label_studio(dataset.root, folder, overwrite=True)
    assert "Label Studio" in (folder / "README.md").read_text()
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("cue_id,annotator,label\nx,ann,joy\n")
    with pytest.raises(ConfigError, match="exists"):
        export_label_sheet(dataset.root, sheet)
    assert sheet.read_text().startswith("cue_id,annotator,label\nx,ann,joy")
    export_label_sheet(dataset.root, sheet, overwrite=True)
    assert "text" in sheet.read_text().splitlines()[0]
