"""Takedown: ``empathynet remove`` deletes a source or cue groups for good, logs it first,
finishes a removal that was killed half-way, and nothing (a resumed build, a task made
before, an export) brings the removed cue groups back."""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import demo_clips_in, write_small_task_dataset
from empathynet.cli import remove as remove_cmd
from empathynet.demo import DemoClip
from empathynet.errors import ConfigError, DatasetError
from empathynet.export import export_dataset
from empathynet.labels.aggregate import TIE_RULE_KEY, read_aggregate
from empathynet.labels.store import LabelsLayout, read_manifest_columns
from empathynet.labels.votes import import_labels, read_votes
from empathynet.store import removals
from empathynet.store.layout import DatasetLayout
from empathynet.store.parts import read_part
from empathynet.store.removals import (
    REMOVALS_FILE,
    read_removals,
    remove_from_dataset,
    stale_tasks,
)
from empathynet.tasks.make import TaskRequest, make_task, remake_tasks
from empathynet.tasks.validate import TaskValidationError, validate_task

HAS_DATASETS = importlib.util.find_spec("datasets") is not None
CLS = TaskRequest(family="classification", query="text+audio_blur+stills", name="cls")
MCQ = TaskRequest(
    family="mcq",
    query="face_video",
    answer="audio_blur",
    name="mcq",
    distractors="any",
    duration_tolerance_pct=1000,
    split_ratios=(0.5, 0.1, 0.4),
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 cue groups with media over 8 sources (one with a title and url), two votes and
    a pre-label each, and a classification and an MCQ task made after the votes."""
    folder = tmp_path_factory.mktemp("removals")
    root = write_small_task_dataset(folder / "dataset", requests=())
    manifest = read_manifest_columns(root, ["cue_id", "label"]).to_pylist()
    votes = folder / "votes.csv"
    with votes.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cue_id", "annotator", "label"])
        for row in manifest:
            writer.writerows([row["cue_id"], name, row["label"]] for name in ("ann1", "ann2"))
    import_labels(root, votes, tie_rule="taxonomy-order")
    prelabels = pa.table(
        {
            "cue_id": [row["cue_id"] for row in manifest],
            "method": ["vader"] * len(manifest),
            "label": pa.nulls(len(manifest), pa.string()),
            "score": [0.5] * len(manifest),
        }
    )
    pq.write_table(prelabels, LabelsLayout(root).folder / "prelabels.parquet")
    sources = pq.read_table(root / "sources.parquet")
    titles = ["Talk one"] + [None] * (sources.num_rows - 1)
    urls = ["https://example.org/talk-one"] + [None] * (sources.num_rows - 1)
    sources = sources.set_column(
        sources.schema.get_field_index("title"), "title", pa.array(titles, pa.string())
    )
    sources = sources.set_column(
        sources.schema.get_field_index("url"), "url", pa.array(urls, pa.string())
    )
    pq.write_table(sources, root / "sources.parquet")
    make_task(root, CLS)
    make_task(root, MCQ)
    return root


@pytest.fixture
def dataset(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template to remove things from."""
    return Path(shutil.copytree(template, tmp_path / "dataset"))


def cue_ids(root: Path) -> list[str]:
    return sorted(read_manifest_columns(root, ["cue_id"]).column("cue_id").to_pylist())


def source_ids(root: Path) -> list[str]:
    return sorted(pq.read_table(root / "sources.parquet").column("source_id").to_pylist())


def snapshot(root: Path) -> dict[str, str]:
    """Every file of the dataset (but the lock) -> the SHA-256 of its bytes."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".empathynet.lock"
    }


def killed(*args: object) -> None:
    """Stands for a deletion step: the removal is killed right after its log line was made
    durable (``kill -9`` gives no chance to clean up either)."""
    raise KeyboardInterrupt


def log_lines(root: Path) -> list[dict[str, object]]:
    text = (root / REMOVALS_FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_removing_a_cue_group_deletes_its_row_media_votes_and_prelabels(dataset: Path) -> None:
    before = cue_ids(dataset)
    cue = before[5]
    source = cue.split("-")[0]
    votes_before = read_votes(dataset).num_rows
    part = DatasetLayout(dataset).cue_part(source, 0)
    metadata_before = pq.read_schema(part).metadata

    result = remove_from_dataset(dataset, cue_ids=[cue], reason="asked by the speaker")

    assert cue_ids(dataset) == [c for c in before if c != cue]
    assert not (dataset / "media" / source / cue).exists()
    others = [c for c in before if c.startswith(f"{source}-") and c != cue]
    assert others and all((dataset / "media" / source / c).is_dir() for c in others)
    # the part was rewritten whole (a committed chunk, its metadata kept), not damaged
    assert read_part(part).column("cue_id").to_pylist() == others
    assert pq.read_schema(part).metadata == metadata_before
    votes = read_votes(dataset)
    assert votes.num_rows == votes_before - 2
    assert cue not in votes.column("cue_id").to_pylist()
    found = read_aggregate(LabelsLayout(dataset).aggregate)
    assert found is not None
    aggregate, tie_rule = found
    assert sorted(aggregate.column("cue_id").to_pylist()) == cue_ids(dataset)
    assert tie_rule == "taxonomy-order"  # the stored rule is kept
    metadata = pq.read_schema(LabelsLayout(dataset).aggregate).metadata or {}
    assert metadata[TIE_RULE_KEY] == b"taxonomy-order"
    prelabels = pq.read_table(LabelsLayout(dataset).folder / "prelabels.parquet")
    assert prelabels.num_rows == len(before) - 1
    assert cue not in prelabels.column("cue_id").to_pylist()
    [line] = log_lines(dataset)
    assert line["kind"] == "cue" and line["id"] == cue and line["cue_ids"] == [cue]
    assert line["source_id"] == source and line["reason"] == "asked by the speaker"
    assert str(line["time"]).endswith("Z")
    assert result.counts.parts_rewritten == 1 and result.counts.media_folders == 1
    assert result.counts.votes == 2 and result.counts.prelabels == 1
    assert result.stale_tasks["cls"] == 1  # every labelled cue group is a cls item
    assert read_removals(dataset).cue_ids == {cue}


def test_removing_every_cue_group_of_a_part_deletes_the_part(dataset: Path) -> None:
    source = source_ids(dataset)[3]
    of_source = [c for c in cue_ids(dataset) if c.startswith(f"{source}-")]
    result = remove_from_dataset(dataset, cue_ids=of_source)
    assert not list((dataset / "cues").glob(f"part-{source}-*"))
    assert result.counts.parts_deleted == 1 and result.counts.parts_rewritten == 0
    assert len(log_lines(dataset)) == len(of_source)
    assert source in source_ids(dataset)  # the source row stays: only its cue groups went


def test_removing_a_source_deletes_its_parts_media_row_and_labels(dataset: Path) -> None:
    first = pq.read_table(dataset / "sources.parquet").to_pylist()[0]
    source = first["source_id"]
    of_source = [c for c in cue_ids(dataset) if c.startswith(f"{source}-")]
    others = [c for c in cue_ids(dataset) if not c.startswith(f"{source}-")]

    result = remove_from_dataset(dataset, source_ids=[source], reason="licence withdrawn")

    assert cue_ids(dataset) == others
    assert source not in source_ids(dataset) and len(source_ids(dataset)) == 7
    assert not (dataset / "media" / source).exists()
    assert not list((dataset / "cues").glob(f"part-{source}-*"))
    assert not any(
        c.startswith(f"{source}-") for c in read_votes(dataset).column("cue_id").to_pylist()
    )
    [line] = log_lines(dataset)
    assert line["kind"] == "source" and line["id"] == source
    assert line["cue_ids"] == of_source
    assert line["title"] == "Talk one" and line["url"] == "https://example.org/talk-one"
    assert any("removed source" in text and "Talk one" in text for text in result.lines())
    assert read_removals(dataset).source_ids == {source}


def test_an_unknown_or_malformed_id_changes_nothing(dataset: Path) -> None:
    before = snapshot(dataset)
    good = cue_ids(dataset)[0]
    with pytest.raises(DatasetError) as error:
        remove_from_dataset(dataset, cue_ids=[good, "deadbeefdeadbeef-000000100"])
    message = str(error.value)
    assert "deadbeefdeadbeef-000000100" in message and str(dataset) in message
    assert "\n" not in message
    with pytest.raises(DatasetError, match="no source 0123456789abcdef"):
        remove_from_dataset(dataset, source_ids=["0123456789abcdef"])
    for bad in ("../../etc", "a/b", ".."):
        with pytest.raises(ConfigError, match="is not a"):
            remove_from_dataset(dataset, cue_ids=[bad])
        with pytest.raises(ConfigError, match="is not a"):
            remove_from_dataset(dataset, source_ids=[bad])
    with pytest.raises(ConfigError, match="nothing to remove"):
        remove_from_dataset(dataset)
    assert snapshot(dataset) == before
    assert not (dataset / REMOVALS_FILE).exists()


def test_the_same_removal_again_is_a_no_op_that_says_so(dataset: Path) -> None:
    cue = cue_ids(dataset)[7]
    source = source_ids(dataset)[2]
    remove_from_dataset(dataset, cue_ids=[cue], source_ids=[source], reason="takedown")
    before = snapshot(dataset)

    again = remove_from_dataset(dataset, cue_ids=[cue], source_ids=[source], reason="takedown")

    assert snapshot(dataset) == before
    assert again.removed == () and {e.id for e in again.already} == {cue, source}
    assert not again.counts.changed
    assert any("nothing to do" in line for line in again.lines())
    # a cue group of a removed source is removed already too
    of_source = removals.read_removals(dataset).entry(source)
    assert of_source is not None and of_source.cue_ids
    third = remove_from_dataset(dataset, cue_ids=[of_source.cue_ids[0]])
    assert [e.id for e in third.already] == [source] and snapshot(dataset) == before


def test_a_removal_killed_after_logging_is_finished_by_running_it_again(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cue = cue_ids(dataset)[11]
    source = cue.split("-")[0]

    monkeypatch.setattr(removals, "_delete_cues", killed)
    with pytest.raises(KeyboardInterrupt):
        remove_from_dataset(dataset, cue_ids=[cue], reason="killed")
    monkeypatch.undo()
    assert [line["id"] for line in log_lines(dataset)] == [cue]
    assert cue in cue_ids(dataset)  # nothing deleted yet

    result = remove_from_dataset(dataset, cue_ids=[cue], reason="killed")

    assert result.removed == () and [e.id for e in result.already] == [cue]
    assert result.counts.parts_rewritten == 1 and result.counts.votes == 2
    assert any("interrupted removal was finished" in line for line in result.lines())
    assert cue not in cue_ids(dataset) and not (dataset / "media" / source / cue).exists()
    assert len(log_lines(dataset)) == 1  # logged once


def test_a_line_cut_short_by_a_kill_is_ignored_and_a_bad_line_is_named(dataset: Path) -> None:
    first, second = cue_ids(dataset)[0], cue_ids(dataset)[20]
    remove_from_dataset(dataset, cue_ids=[first])
    log = dataset / REMOVALS_FILE
    with log.open("a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-05-01T12:00:00Z", "kind": "cue", "id": "abc')  # cut short
    assert read_removals(dataset).cue_ids == {first}

    remove_from_dataset(dataset, cue_ids=[second])  # the partial line is dropped first

    assert [line["id"] for line in log_lines(dataset)] == [first, second]
    log.write_text("not json\n" + log.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"removals\.jsonl, line 1: not a removal record"):
        read_removals(dataset)


def test_tasks_validate_names_a_task_made_before_the_removal(dataset: Path) -> None:
    cue = cue_ids(dataset)[4]
    remove_from_dataset(dataset, cue_ids=[cue])
    with pytest.raises(TaskValidationError) as error:
        validate_task(dataset, "cls", check_media=False)
    assert "task cls: 1 item uses removed cue groups (reports/removals.jsonl): re-make it" in str(
        error.value
    )
    assert "empathynet tasks remake" in str(error.value)
    before = (dataset / "tasks" / "cls" / "spec.yaml").read_text(encoding="utf-8")
    made = remake_tasks(dataset, ["cls"])  # made again from its spec: valid, not stale
    assert [task.name for task in made] == ["cls"]
    assert validate_task(dataset, "cls", check_media=True).name == "cls"
    assert "cls" not in stale_tasks(dataset)
    after = (dataset / "tasks" / "cls" / "spec.yaml").read_text(encoding="utf-8")
    assert after != before and "seed: 0" in after
    assert set(stale_tasks(dataset)) == {"mcq"}  # the removed cue was an option there too
    assert [task.name for task in remake_tasks(dataset)] == ["mcq"]  # every stale one
    assert remake_tasks(dataset) == []  # nothing stale is left


def test_exports_after_a_removal_leave_the_removed_cue_groups_out(
    dataset: Path, tmp_path: Path
) -> None:
    pytest.importorskip("webdataset", reason="the webdataset export needs extra export")
    cue = cue_ids(dataset)[9]
    source = source_ids(dataset)[5]
    removed = 1 + sum(c.startswith(f"{source}-") for c in cue_ids(dataset))
    accepted = len(cue_ids(dataset))
    remove_from_dataset(dataset, cue_ids=[cue], source_ids=[source])
    summary = export_dataset(dataset, "webdataset", tmp_path / "shards")
    assert summary.samples == accepted - removed


@pytest.mark.skipif(not HAS_DATASETS, reason="datasets is not installed (extra hf)")
def test_the_hf_export_refuses_a_task_made_before_the_removal(
    dataset: Path, tmp_path: Path
) -> None:
    remove_from_dataset(dataset, cue_ids=[cue_ids(dataset)[4]])
    with pytest.raises(DatasetError) as error:
        export_dataset(dataset, "hf", tmp_path / "hf", tasks=["cls"])
    assert "task cls: 1 item uses removed cue groups" in str(error.value)
    assert "re-make it with empathynet tasks remake" in str(error.value)
    assert not (tmp_path / "hf").exists() or not any((tmp_path / "hf").iterdir())


def test_the_command_prints_what_it_removed(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    remove_cmd.add_parser(parser.add_subparsers())
    cue = cue_ids(dataset)[3]
    args = parser.parse_args(["remove", str(dataset), "--cue", cue, "--reason", "asked"])
    assert args.run(args) == 0
    assert f"removed cue group {cue}" in capsys.readouterr().out
    args = parser.parse_args(["remove", str(dataset)])
    with pytest.raises(ConfigError, match="--source ID or --cue ID"):
        args.run(args)


def test_a_resumed_build_never_brings_removed_cue_groups_back(
    demo_media: list[DemoClip], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mediapipe")
    from empathynet.cli.build import load_config
    from empathynet.pipeline.build import build_dataset

    media = demo_clips_in(demo_media, ("large_face", "dialogue"), tmp_path / "media", link=True)
    config_file = tmp_path / "build.yaml"
    config_file.write_text("chunk_size: 2\n")
    config = load_config(config_file, {})
    root = tmp_path / "dataset"
    build_dataset([media], root, config, progress=False, log=lambda line: None)
    sources = pq.read_table(root / "sources.parquet").to_pylist()
    by_name = {Path(s["path"]).stem: s["source_id"] for s in sources}
    large, dialogue = by_name["large_face"], by_name["dialogue"]
    of_large = [c for c in cue_ids(root) if c.startswith(f"{large}-")]
    assert len(of_large) >= 3  # two chunks of two: removing the first must not shift them
    cue = of_large[0]
    parts_before = {p.name for p in (root / "cues").glob(f"part-{large}-*")}

    remove_from_dataset(root, cue_ids=[cue], reason="asked")
    # the source's removal is killed once logged: the next build finishes it
    monkeypatch.setattr(removals, "_delete_sources", killed)
    with pytest.raises(KeyboardInterrupt):
        remove_from_dataset(root, source_ids=[dialogue], reason="licence withdrawn")
    monkeypatch.undo()
    assert any(c.startswith(f"{dialogue}-") for c in cue_ids(root))

    lines: list[str] = []
    summary = build_dataset([media], root, config, progress=False, log=lines.append)

    assert summary.chunks_written == 0 and summary.parts_redone == []
    assert cue_ids(root) == of_large[1:]
    assert not (root / "media" / large / cue).exists()
    assert not (root / "media" / dialogue).exists()
    assert {p.name for p in (root / "cues").glob(f"part-{large}-*")} == parts_before
    assert source_ids(root) == [large]
    [skipped] = [s for s in summary.skipped_inputs if Path(s.path).stem == "dialogue"]
    assert skipped.reason.startswith("removed from the dataset on ")
    assert "licence withdrawn" in skipped.reason
    assert any("removed from the dataset" in line for line in lines)
    accepted = pc.sum(
        pc.equal(read_manifest_columns(root, ["status"]).column("status"), "accepted")
    ).as_py()
    assert summary.status_counts["accepted"] == accepted


def _report_text(root: Path) -> str:
    """Every text file of the report (pages and their data), joined."""
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted((root / "reports").rglob("*"))
        if path.is_file() and path.suffix in (".html", ".js")
    )


def test_a_removal_writes_the_report_again_without_what_was_removed(dataset: Path) -> None:
    from empathynet.report import write_report

    write_report(dataset)
    rows = {
        r["cue_id"]: r for r in read_manifest_columns(dataset, ["cue_id", "source_id"]).to_pylist()
    }
    gone_cue = cue_ids(dataset)[0]
    gone_source = next(s for s in source_ids(dataset) if s != rows[gone_cue]["source_id"])
    gone_with_source = [c for c, r in rows.items() if r["source_id"] == gone_source]
    before = _report_text(dataset)
    assert gone_cue in before and all(c in before for c in gone_with_source)

    result = remove_from_dataset(dataset, cue_ids=[gone_cue], source_ids=[gone_source])
    assert result.report == "rewritten"
    assert any("written again without them" in line for line in result.lines())
    after = _report_text(dataset)
    assert gone_cue not in after and not any(c in after for c in gone_with_source)
    assert gone_source not in after
    assert not (dataset / "reports" / "sources" / f"{gone_source}.html").exists()
    kept = next(c for c in cue_ids(dataset))
    assert kept in after


def test_a_removal_without_a_report_writes_none(dataset: Path) -> None:
    result = remove_from_dataset(dataset, cue_ids=[cue_ids(dataset)[0]])
    assert result.report is None and not (dataset / "reports" / "index.html").exists()
