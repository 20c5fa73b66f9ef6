"""Making tasks end to end: files, specs, determinism, and validate catching every change."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from empathynet.cli import tasks as tasks_cli
from empathynet.cli.main import main as run
from empathynet.errors import ConfigError, DatasetError
from empathynet.labels import import_labels
from empathynet.store.hashing import file_sha256
from empathynet.tasks.cuetable import load_cue_table
from empathynet.tasks.make import TaskRequest, make_suite, make_task, suite_requests
from empathynet.tasks.spec import TaskLayout, list_tasks, read_spec_values
from empathynet.tasks.validate import TaskValidationError, validate_task
from empathynet.tasks.views import MissingViewError
from empathynet.testing.synthetic import (
    SyntheticDataset,
    write_synthetic_dataset,
    write_votes_csv,
)

SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    root = tmp_path_factory.mktemp("make") / "ds"
    dataset = write_synthetic_dataset(
        root,
        cue_groups=1500,
        sources=30,
        rejected=5,
        shared_speaker_sources=3,
        unknown_attribute_share=0.1,
    )
    votes = write_votes_csv(root.parent / "votes.csv", dataset.truth, agreement=0.85)
    import_labels(root, votes)
    return dataset


@pytest.fixture
def dataset(base: SyntheticDataset, tmp_path: Path) -> Path:
    """A fresh copy of the labelled dataset for tests that change files."""
    copy = tmp_path / "ds"
    shutil.copytree(base.root, copy)
    return copy


def all_items(root: Path, name: str) -> pa.Table:
    layout = TaskLayout(root, name)
    return pa.concat_tables([pq.read_table(layout.items(s)) for s in SPLITS])


def tamper(root: Path, name: str, split: str, change: Callable[[pa.Table], pa.Table]) -> None:
    """Rewrite one item file and update the spec's hash and count, as a forger would."""
    layout = TaskLayout(root, name)
    table = change(pq.read_table(layout.items(split)))
    pq.write_table(table, layout.items(split))
    spec = yaml.safe_load(layout.spec.read_text(encoding="utf-8"))
    spec["files"][split]["sha256"] = file_sha256(layout.items(split))
    spec["files"][split]["items"] = table.num_rows
    layout.spec.write_text(yaml.safe_dump(spec, sort_keys=True), encoding="utf-8")


def set_cell(table: pa.Table, column: str, row: int, value: Any) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    index = table.schema.get_field_index(column)
    return table.set_column(index, column, pa.array(values, table.schema.field(column).type))


def test_classification_items_are_the_labelled_cue_groups(dataset: Path) -> None:
    made = make_task(dataset, TaskRequest(family="classification", query="stills+text"))
    assert made.name == "cls-text+stills"
    spec = read_spec_values(dataset, made.name)
    cues = load_cue_table(dataset)
    labelled = int((cues.class_code >= 0).sum())
    assert sum(made.items.values()) == labelled
    assert spec["dropped"]["tied"] == cues.rows - labelled > 0
    items = all_items(dataset, made.name)
    assert items.column_names[:7] == [
        "item_id",
        "split",
        "cue_id",
        "source_id",
        "speaker",
        "query_text",
        "query_stills",
    ]
    truth = dict(zip(cues.cue_ids().to_pylist(), cues.column("label").to_pylist(), strict=True))
    for row in items.slice(0, 50).to_pylist():
        assert row["label"] == truth[row["cue_id"]]
        assert row["query_stills"][0].startswith(f"media/{row['source_id']}/{row['cue_id']}/")
    assert spec["class_counts"]["train"]["neutral"] > 0
    report = validate_task(dataset, made.name, check_media=False)
    assert any("every labelled cue group is an item" in c for c in report.checks)


def test_mcq_items_meet_every_constraint(dataset: Path) -> None:
    # "any": big buckets, so unknown-gender answers find unknown-gender distractors
    request = TaskRequest(family="mcq", query="stills", answer="text", seed=4, distractors="any")
    made = make_task(dataset, request)
    spec = read_spec_values(dataset, made.name)
    constraints = spec["constraints"]
    assert constraints["options"] == 4
    assert "identity can solve items" in constraints["distractors"]["rule"]
    assert "uniform place" in constraints["duration"]["rule"]
    assert spec["family_version"] == 4
    assert constraints["same_gender"]["status"] == "partly matched"
    assert constraints["same_gender"]["answers_unknown"] > 0
    assert constraints["distinct_answer_content"] == ["text"]
    items = all_items(dataset, made.name)
    assert items.schema.field("option_text").type.value_type == pa.string()
    cues = load_cue_table(dataset)
    index = {c: i for i, c in enumerate(cues.cue_ids().to_pylist())}
    options = np.array(
        [[index[c] for c in row] for row in items.column("option_cue_ids").to_pylist()]
    )
    answer = np.array(items.column("answer_index").to_pylist())
    rows = np.array([index[c] for c in items.column("cue_id").to_pylist()])
    assert (options[np.arange(len(rows)), answer] == rows).all()
    mask = np.arange(4)[None, :] != answer[:, None]
    distractors = options[mask].reshape(-1, 3)
    assert (cues.class_code[distractors] != cues.class_code[rows][:, None]).all()
    assert (cues.gender_code[distractors] == cues.gender_code[rows][:, None]).all()
    assert (cues.age_code[distractors] == cues.age_code[rows][:, None]).all()
    # duration rank: the answer is sometimes the shortest option, sometimes the longest
    rank = (cues.duration_ms[distractors] < cues.duration_ms[rows][:, None]).sum(1)
    assert set(rank.tolist()) == {0, 1, 2, 3}
    # the option in the answer slot shows the answer's own text, the others other texts
    text = cues.column("text").to_pylist()
    for item, row in enumerate(items.slice(0, 200).to_pylist()):
        shown = row["option_text"]
        assert shown[row["answer_index"]] == text[rows[item]]
        assert sum(t == text[rows[item]] for t in shown) == 1
    report = validate_task(dataset, made.name, check_media=False)
    assert len(report.checks) > 20


def test_grouped_taxonomy_and_same_speaker_distractors(tmp_path: Path) -> None:
    root = tmp_path / "grouped"
    truth = write_synthetic_dataset(
        root, cue_groups=2500, sources=12, speakers_per_source=2, unknown_speaker_share=0.2
    ).truth
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text(
        "classes: [anger, disgust, fear, joy, neutral, sadness, surprise]\n"
        "class_groups:\n  negative: [anger, disgust, fear, sadness]\n"
        "  positive: [joy, surprise]\n  neutral: [neutral]\n",
        encoding="utf-8",
    )
    import_labels(
        root, write_votes_csv(tmp_path / "v.csv", truth, agreement=1.0), taxonomy_path=taxonomy
    )
    made = make_task(
        root,
        TaskRequest(
            family="mcq",
            query="text",
            answer="face_stills",
            options=3,
            distractors="same-speaker",
            duration_tolerance_pct=60,
        ),
    )
    assert sum(made.items.values()) > 100
    cues = load_cue_table(root)
    index = {c: i for i, c in enumerate(cues.cue_ids().to_pylist())}
    items = all_items(root, made.name)
    for row in items.to_pylist():
        answer = index[row["cue_id"]]
        for cue in row["option_cue_ids"]:
            other = index[cue]
            if other == answer:
                continue
            assert cues.group_code[other] != cues.group_code[answer]
            if cues.speaker_code[answer] >= 0:
                assert cues.speaker_code[other] == cues.speaker_code[answer]
            else:
                assert cues.source_code[other] == cues.source_code[answer]
    spec = read_spec_values(root, made.name)
    assert spec["constraints"]["different_class_group"] is True
    assert spec["labels"]["class_groups"]["positive"] == ["joy", "surprise"]
    validate_task(root, made.name, check_media=False)


def test_answer_positions_are_uniform_over_10000_items(tmp_path: Path) -> None:
    from test_tasks_mcq_sampler import chi_square_p

    root = tmp_path / "big"
    write_synthetic_dataset(
        root, cue_groups=13_000, sources=60, labels_in_manifest=True, attributes_in_manifest=True
    )
    made = make_task(root, TaskRequest(family="mcq", query="stills", answer="audio_blur", seed=7))
    items = all_items(root, made.name)
    assert items.num_rows >= 10_000
    counts = np.bincount(np.array(items.column("answer_index").to_pylist()), minlength=4)
    assert chi_square_p(counts) > 0.01, counts
    spec = read_spec_values(root, made.name)
    assert sum(sum(v) for v in spec["answer_positions"].values()) == items.num_rows


def test_same_dataset_and_seed_give_byte_identical_files(
    base: SyntheticDataset, tmp_path: Path
) -> None:
    copies = [tmp_path / "a" / "ds", tmp_path / "b" / "ds"]
    for copy in copies:
        shutil.copytree(base.root, copy)
    request = TaskRequest(family="mcq", query="text", answer="stills", seed=11)
    for copy in copies:
        make_task(copy, request)
    name = request.task_name()
    for file in ["spec.yaml", *(f"{s}.parquet" for s in SPLITS)]:
        first = (copies[0] / "tasks" / name / file).read_bytes()
        assert first == (copies[1] / "tasks" / name / file).read_bytes(), file
    again = make_task(copies[0], request)
    assert again.unchanged
    # another seed: other splits or items
    other = make_task(
        copies[0], TaskRequest(family="mcq", query="text", answer="stills", seed=12, name="other")
    )
    assert not other.unchanged
    first_items = all_items(copies[0], name)
    other_items = all_items(copies[0], "other")
    assert (
        first_items.column("option_cue_ids").to_pylist()
        != other_items.column("option_cue_ids").to_pylist()
    )
    # a different request under an existing name needs --overwrite
    clash = TaskRequest(family="mcq", query="text", answer="stills", seed=13, name=name)
    with pytest.raises(DatasetError, match="exists with another spec"):
        make_task(copies[0], clash)
    assert not make_task(copies[0], clash, overwrite=True).unchanged
    assert read_spec_values(copies[0], name)["seed"] == 13


def test_validate_catches_forged_items(dataset: Path) -> None:
    request = TaskRequest(family="mcq", query="stills", answer="text", seed=2)
    name = make_task(dataset, request).name
    layout = TaskLayout(dataset, name)
    original = {s: layout.items(s).read_bytes() for s in SPLITS}
    spec_text = layout.spec.read_bytes()

    def restore() -> None:
        for split, data in original.items():
            layout.items(split).write_bytes(data)
        layout.spec.write_bytes(spec_text)

    # 1. any byte change without updating the spec
    table = pq.read_table(layout.items("train"))
    pq.write_table(
        set_cell(table, "answer_index", 0, (table.column("answer_index")[0].as_py() + 1) % 4),
        layout.items("train"),
    )
    with pytest.raises(TaskValidationError, match="SHA-256 differs"):
        validate_task(dataset, name, check_media=False)
    restore()

    # 2. the answer moved to another slot (spec hash updated)
    tamper(
        dataset,
        name,
        "train",
        lambda t: set_cell(t, "answer_index", 0, (t.column("answer_index")[0].as_py() + 1) % 4),
    )
    with pytest.raises(
        TaskValidationError, match="the answer slot holds the query's own cue group"
    ):
        validate_task(dataset, name, check_media=False)
    restore()

    # 3. a distractor replaced by a cue group of the answer's class
    cues = load_cue_table(dataset)
    ids = cues.cue_ids().to_pylist()
    items = pq.read_table(layout.items("train")).to_pylist()
    first = items[0]
    answer_row = ids.index(first["cue_id"])
    same_class = next(
        ids[i]
        for i in range(cues.rows)
        if cues.class_code[i] == cues.class_code[answer_row]
        and i != answer_row
        and ids[i] not in first["option_cue_ids"]
    )
    slot = (first["answer_index"] + 1) % 4
    forged = list(first["option_cue_ids"])
    forged[slot] = same_class
    tamper(dataset, name, "train", lambda t: set_cell(t, "option_cue_ids", 0, forged))
    with pytest.raises(TaskValidationError, match="another class than the answer"):
        validate_task(dataset, name, check_media=False)
    restore()

    # 3b. a distractor replaced by one meeting every rule but the item's duration window
    speaker = cues.column("speaker").to_pylist()
    text = cues.column("text").to_pylist()
    forged_row = None
    for number, item in enumerate(items):
        a = ids.index(item["cue_id"])
        reach = max(500, cues.duration_ms[a])  # beyond every window that holds the answer
        for i in range(cues.rows):
            if (
                ids[i] not in item["option_cue_ids"]
                and cues.class_code[i] >= 0
                and cues.group_code[i] != cues.group_code[a]
                and speaker[i] is not None
                and speaker[i] == speaker[a]
                and cues.gender_code[i] == cues.gender_code[a]
                and cues.age_code[i] == cues.age_code[a]
                and text[i].strip().lower() != text[a].strip().lower()
                and abs(cues.duration_ms[i] - cues.duration_ms[a]) > reach
            ):
                forged_row = (number, item, ids[i])
                break
        if forged_row:
            break
    assert forged_row is not None
    number, item, far = forged_row
    forged = list(item["option_cue_ids"])
    forged[(item["answer_index"] + 1) % 4] = far
    tamper(dataset, name, "train", lambda t: set_cell(t, "option_cue_ids", number, forged))
    with pytest.raises(TaskValidationError, match="in the item's duration window fails for 1 "):
        validate_task(dataset, name, check_media=False)
    restore()

    # 3c. a task made by an older family version (centred windows) must be remade
    spec = yaml.safe_load(layout.spec.read_text(encoding="utf-8"))
    spec["family_version"] = 1
    layout.spec.write_text(yaml.safe_dump(spec, sort_keys=True), encoding="utf-8")
    with pytest.raises(TaskValidationError, match=r"family version 1.*remake the task"):
        validate_task(dataset, name, check_media=False)
    restore()

    # 4. an item dropped although it had distractors
    tamper(dataset, name, "test", lambda t: t.slice(1))
    with pytest.raises(TaskValidationError, match="dropped only when no distractors exist"):
        validate_task(dataset, name, check_media=False)
    restore()

    # 5. an item moved to another split
    tamper(dataset, name, "validation", lambda t: set_cell(t, "split", 0, "train"))
    with pytest.raises(TaskValidationError, match="not in the validation split"):
        validate_task(dataset, name, check_media=False)
    restore()
    validate_task(dataset, name, check_media=False)


def test_validate_notices_a_changed_dataset(dataset: Path, tmp_path: Path) -> None:
    name = make_task(dataset, TaskRequest(family="classification", query="text")).name
    cue = load_cue_table(dataset).cue_ids()[0].as_py()
    votes = tmp_path / "more.csv"
    votes.write_text(
        f"cue_id,annotator,label\n{cue},late,fear\n{cue},later,fear\n", encoding="utf-8"
    )
    import_labels(dataset, votes)
    with pytest.raises(TaskValidationError, match="the dataset changed since the task was made"):
        validate_task(dataset, name, check_media=False)


def test_views_the_dataset_lacks_are_errors_and_the_suite_skips_them(tmp_path: Path) -> None:
    root = tmp_path / "unblurred"
    truth = write_synthetic_dataset(root, cue_groups=300, sources=6, audio_blur=False).truth
    with pytest.raises(DatasetError, match="needs labels"):
        make_task(root, TaskRequest(family="classification", query="text"))
    import_labels(root, write_votes_csv(tmp_path / "v.csv", truth))
    with pytest.raises(
        MissingViewError,
        match=r"view audio_blur: \d+ of \d+ cue groups have no audio_blur_path .*run the blur",
    ):
        make_task(root, TaskRequest(family="mcq", query="stills", answer="audio_blur"))
    with pytest.raises(MissingViewError, match="--full-clips"):
        make_task(root, TaskRequest(family="classification", query="video"))
    result = make_suite(root, seed=0)
    skipped = dict(result.skipped)
    assert set(skipped) == {"cls-group", "cls-audio", "mcq-stills-to-audio", "mcq-audio-to-text"}
    assert all("audio_blur" in reason for reason in skipped.values())
    assert {t.name for t in result.made} == {
        "cls-text",
        "cls-stills",
        "mcq-text-to-stills",
        "gen-text-from-stills",
    }
    assert [t.name for t in list_tasks(root)] == sorted(t.name for t in result.made)
    made = read_spec_values(root, "mcq-text-to-stills")
    assert made["constraints"]["distractors"]["mode"] == "same-speaker"


def test_mcq_distractors_default_to_the_answers_speaker() -> None:
    # in "any" mode the answer is often the only option from the query's speaker
    assert TaskRequest(family="mcq", query="text", answer="stills").distractors == "same-speaker"
    modes = {r.name: r.distractors for r in suite_requests("standard", 0) if r.family == "mcq"}
    assert len(modes) == 3 and set(modes.values()) == {"same-speaker"}
    parser = argparse.ArgumentParser(prog="empathynet")
    tasks_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    common = ["tasks", "make", "ds", "--family", "mcq", "--query", "text", "--answer", "stills"]
    assert parser.parse_args(common).distractors == "same-speaker"
    assert parser.parse_args([*common, "--distractors", "any"]).distractors == "any"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "mcq", "query": "text", "answer": "audio_raw"}, "carry the spoken words"),
        ({"family": "mcq", "query": "audio_raw", "answer": "stills"}, "carry the spoken words"),
        ({"family": "mcq", "query": "text+stills", "answer": "stills"}, "share \\['stills'\\]"),
        ({"family": "mcq", "query": "text"}, "needs --answer"),
        ({"family": "classification", "query": "text", "answer": "stills"}, "no --answer"),
        ({"family": "generation", "query": "text", "answer": "stills"}, "one target view"),
        ({"family": "generation", "query": "text", "answer": "text+audio_blur"}, "one target view"),
        ({"family": "ranking", "query": "text"}, "unknown family"),
        ({"family": "classification", "query": "text+smell"}, "unknown view 'smell'"),
        ({"family": "classification", "query": "text+text"}, "given twice"),
        ({"family": "classification", "query": "text", "name": "../x"}, "task name"),
        ({"family": "classification", "query": "text", "seed": -1}, "non-negative"),
    ],
)
def test_bad_requests_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TaskRequest(**kwargs)


def test_leaking_views_are_allowed_on_request_and_flagged(dataset: Path) -> None:
    request = TaskRequest(
        family="mcq", query="audio_raw", answer="stills", allow_leaking_views=True, name="leaky"
    )
    make_task(dataset, request)
    assert read_spec_values(dataset, "leaky")["views"]["leaks_words"] == ["audio_raw"]
    silent = TaskRequest(family="mcq", query="face_video", answer="stills", name="silent")
    make_task(dataset, silent)  # the clips are silent: no words to leak
    assert read_spec_values(dataset, "silent")["views"]["leaks_words"] == []
    made = make_task(dataset, TaskRequest(family="classification", query="audio_raw"))
    assert read_spec_values(dataset, made.name)["views"]["leaks_words"] == ["audio_raw"]


def test_generation_items_state_their_dimensions(dataset: Path) -> None:
    made = make_task(dataset, TaskRequest(family="generation", query="stills", answer="audio_blur"))
    assert made.name == "gen-audio_blur-from-stills"
    spec = read_spec_values(dataset, made.name)
    assert spec["target"]["view"] == "audio_blur"
    assert spec["target"]["dims"] == "8 * duration_ms"
    items = all_items(dataset, made.name)
    cues = load_cue_table(dataset)
    assert items.num_rows == cues.rows  # no labels needed
    durations = dict(zip(cues.cue_ids().to_pylist(), cues.duration_ms.tolist(), strict=True))
    for row in items.slice(0, 20).to_pylist():
        assert row["target_dims"] == 8 * durations[row["cue_id"]]
    assert (
        sum(spec["target_dims_per_split"].values()) == pc.sum(items.column("target_dims")).as_py()
    )
    validate_task(dataset, made.name, check_media=False)


def test_cli_make_ls_validate(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:

    root = str(dataset)
    assert (
        run(
            [
                "tasks",
                "make",
                root,
                "--family",
                "mcq",
                "--query",
                "stills+text",
                "--answer",
                "audio_blur",
                "--options",
                "3",
                "--seed",
                "1",
                "--name",
                "m3",
            ]
        )
        == 0
    )
    assert "m3: mcq" in capsys.readouterr().out
    assert run(["tasks", "ls", root]) == 0
    assert "m3" in capsys.readouterr().out
    assert run(["tasks", "validate", root, "m3", "--no-media-check"]) == 0
    assert "task m3 (mcq): valid" in capsys.readouterr().out
    assert run(["tasks", "validate", root, "nope"]) == 2
    assert "no task 'nope'" in capsys.readouterr().err
    assert run(["tasks", "make", root, "--family", "mcq", "--query", "text"]) == 2
    assert "needs --answer" in capsys.readouterr().err
    assert read_spec_values(dataset, "m3")["constraints"]["options"] == 3
