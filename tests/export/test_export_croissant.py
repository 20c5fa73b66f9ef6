"""Croissant export: mlcroissant validates it and reads back the accepted cue groups."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from empathynet.demo import DemoClip
from empathynet.errors import ConfigError
from empathynet.export.croissant import export_croissant
from empathynet.labels import import_labels
from empathynet.pipeline.build import build_dataset
from empathynet.pipeline.reblur import blur_report
from empathynet.store.dataset import open_dataset
from empathynet.store.outputs import MARKER
from empathynet.testing.synthetic import (
    SyntheticDataset,
    write_synthetic_dataset,
    write_votes_csv,
)

mlc = pytest.importorskip("mlcroissant", reason="the Croissant export needs the export extra")


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    root = tmp_path_factory.mktemp("croissant") / "ds"
    dataset = write_synthetic_dataset(root, cue_groups=10, sources=2, rejected=3, media=True)
    import_labels(root, write_votes_csv(root.parent / "votes.csv", dataset.truth, seed=1))
    return dataset


@pytest.fixture(scope="module")
def exported(labelled: SyntheticDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "croissant"
    summary = export_croissant(labelled.root, out)
    assert summary.samples == 10 and summary.format == "croissant"
    assert "croissant.json" in summary.files and "card.md" in summary.files
    return out


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def test_mlcroissant_validates(exported: Path) -> None:
    # the library's own validation, as `mlcroissant validate --jsonld` runs it
    dataset = mlc.Dataset(jsonld=str(exported / "croissant.json"))
    assert not dataset.metadata.ctx.issues.errors
    assert not dataset.metadata.ctx.issues.warnings


def test_records_are_the_accepted_cue_groups(labelled: SyntheticDataset, exported: Path) -> None:
    dataset = mlc.Dataset(jsonld=str(exported / "croissant.json"))
    records = list(dataset.records(record_set="cue_groups"))
    truth = {row["cue_id"]: row for row in labelled.truth.to_pylist()}
    got = {_text(r["cue_groups/cue_id"]): r for r in records}
    assert len(records) == len(got) == 10
    assert set(got) == set(truth)
    assert not set(got) & set(labelled.rejected_ids)
    aggregate = {
        row["cue_id"]: row["label"]
        for row in pq.read_table(labelled.root / "labels" / "aggregate.parquet").to_pylist()
    }
    for cue_id, record in got.items():
        # each cue traces to its source and time range
        assert _text(record["cue_groups/source_id"]) == truth[cue_id]["source_id"]
        assert record["cue_groups/start_ms"] == truth[cue_id]["start_ms"]
        assert record["cue_groups/end_ms"] == truth[cue_id]["end_ms"]
        assert _text(record["cue_groups/label"]) == (aggregate[cue_id] or "")
        audio = exported / _text(record["cue_groups/audio_blur_path"])
        assert audio.read_bytes() == (labelled.root / audio.relative_to(exported)).read_bytes()
        stills = _text(record["cue_groups/still_paths"]).split(";")
        assert len(stills) == 5 and all((exported / s).is_file() for s in stills)


def test_hashes_match_the_files(exported: Path) -> None:
    document = json.loads((exported / "croissant.json").read_text(encoding="utf-8"))
    objects = [d for d in document["distribution"] if d["@type"] == "cr:FileObject"]
    assert len(objects) == 3
    for item in objects:
        data = (exported / item["contentUrl"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
    media = pq.read_table(exported / "media_files.parquet").to_pylist()
    assert media and not any("audio.wav" in row["path"] for row in media)  # no raw audio
    for row in media:
        assert hashlib.sha256((exported / row["path"]).read_bytes()).hexdigest() == row["sha256"]
    sets = {d["@id"] for d in document["distribution"] if d["@type"] == "cr:FileSet"}
    assert sets == {"stills", "face-crops", "blurred-audio", "face-clips"}
    assert "Krippendorff's alpha" in document["rai:dataAnnotationProtocol"]
    for key in ("rai:dataCollection", "rai:dataBiases", "rai:personalSensitiveInformation"):
        assert document[key]
    assert document["description"] == (exported / "card.md").read_text(encoding="utf-8")


def test_cli_validate_passes(exported: Path) -> None:
    cli = Path(sys.executable).parent / "mlcroissant"
    run = subprocess.run(
        [str(cli), "validate", "--jsonld", str(exported / "croissant.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Done." in run.stderr and "warning" not in run.stderr.lower()


def test_refuses_a_users_file_and_reexports(labelled: SyntheticDataset, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "card.md").write_text("my notes\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"card\.md"):
        export_croissant(labelled.root, out)
    assert (out / "card.md").read_text(encoding="utf-8") == "my notes\n"
    assert not (out / "croissant.json").exists()

    clean = tmp_path / "clean"
    first = export_croissant(labelled.root, clean)
    text = (clean / "croissant.json").read_bytes()
    second = export_croissant(labelled.root, clean)  # its own files: replaced, same result
    assert second.files == first.files
    assert (clean / "croissant.json").read_bytes() == text

    # a file an earlier export wrote but this one does not is removed, not left behind
    stale = clean / "media" / "gone" / "still_0.jpg"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    marker = json.loads((clean / MARKER).read_text(encoding="utf-8"))
    (clean / MARKER).write_text(
        json.dumps({**marker, "files": [*marker["files"], "media/gone/still_0.jpg"]}),
        encoding="utf-8",
    )
    export_croissant(labelled.root, clean)
    assert not stale.exists()
    assert (clean / "croissant.json").read_bytes() == text


def test_a_built_dataset_exports_and_validates(demo_media: list[DemoClip], tmp_path: Path) -> None:
    """A dataset the pipeline built from the demo videos: real faces, blurred audio and
    its measured figures, all in the card and the Croissant file."""
    pytest.importorskip("mediapipe")
    dataset = tmp_path / "dataset"
    build_dataset([demo_media[0].video_path.parent], dataset, progress=False, log=lambda _: None)
    accepted = open_dataset(dataset).count("accepted")
    assert accepted > 0
    summary = export_croissant(dataset, tmp_path / "out")
    records = list(
        mlc.Dataset(jsonld=str(tmp_path / "out" / "croissant.json")).records("cue_groups")
    )
    assert summary.samples == len(records) == accepted
    card = (tmp_path / "out" / "card.md").read_text(encoding="utf-8")
    rows = list(open_dataset(dataset).cues())
    report = blur_report(rows)
    assert report, "the build records a blur method"
    for method, figures in report.items():
        assert f"| {method} | {figures['cues']} | " in card
    assert "- face area (fraction of the frame): median " in card
