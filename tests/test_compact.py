"""Manifest compaction (issue 18, part 3): parts merged into files of ~N rows sorted by cue
id, every row unchanged; readers, resume, removal, check and repair work with compacted
files; a compaction killed at any moment loses nothing and reads nothing twice."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from empathynet.cli import compact as compact_cmd
from empathynet.cli.main import main
from empathynet.config import EmpathyNetConfig
from empathynet.demo import DemoClip
from empathynet.pipeline import build as build_module
from empathynet.pipeline.build import _remove_build_outputs, build_dataset, summarize
from empathynet.store import compact as compact_module
from empathynet.store.check import check_dataset
from empathynet.store.compact import compact_dataset
from empathynet.store.dataset import open_dataset
from empathynet.store.layout import DatasetLayout
from empathynet.store.parts import (
    CHUNK_MAP_KEY,
    DamagedPartError,
    manifest_files,
    read_chunk_map,
    read_manifest,
    read_part,
    readable_parts,
)
from empathynet.store.removals import remove_from_dataset
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.spec import TaskLayout
from empathynet.testing.synthetic import write_synthetic_dataset

ROWS = 400  #: rows per compacted file in these tests


def synthetic(root: Path, seed: int = 0, cue_groups: int = 2400, sources: int = 30) -> Path:
    """Parts of 16 rows, as a build writes them (the last of each source shorter)."""
    write_synthetic_dataset(
        root,
        cue_groups=cue_groups,
        sources=sources,
        rejected=25,
        part_rows=16,
        labels_in_manifest=True,
        attributes_in_manifest=True,
        seed=seed,
    )
    return root


@pytest.fixture(scope="module")
def parts_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic dataset in parts (read-only: tests change copies)."""
    return synthetic(tmp_path_factory.mktemp("compact") / "parts")


def copy_of(dataset: Path, tmp_path: Path, name: str = "dataset") -> Path:
    return Path(shutil.copytree(dataset, tmp_path / name))


def rows(root: Path) -> pa.Table:
    """Every row read through the package's readers, sorted by cue id, no metadata."""
    table = read_manifest(DatasetLayout(root))
    table = table.take(pc.sort_indices(table, sort_keys=[("cue_id", "ascending")]))
    return table.replace_schema_metadata(None)


def cues_files(root: Path) -> dict[str, str]:
    """Every file in cues/ with its SHA-256."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "cues").iterdir())
    }


def test_compaction_keeps_every_row_and_value_and_a_second_one_changes_nothing(
    parts_dataset: Path, tmp_path: Path
) -> None:
    root = copy_of(parts_dataset, tmp_path)
    before = rows(root)
    parts = len(list((root / "cues").glob("part-*.parquet")))
    assert parts > 150

    result = compact_dataset(root, rows=ROWS)

    assert result.parts_merged == parts and result.parts_left == 0
    assert result.rows == before.num_rows == result.rows
    assert not list((root / "cues").glob("part-*"))
    assert rows(root).equals(before)  # every value, byte for byte
    files = manifest_files(DatasetLayout(root), maps=True)
    assert [p.name for p in files.compacted] == sorted(p.name for p in files.compacted)
    # in cue id order across files, each file sorted, whole sources, sizes near ROWS
    read = [read_part(p) for p in files.compacted]
    ids = pa.chunked_array([t.column("cue_id") for t in read]).to_pylist()
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    sources = [set(t.column("source_id").to_pylist()) for t in read]
    assert all(not a & b for i, a in enumerate(sources) for b in sources[i + 1 :])
    assert all(ROWS // 2 <= t.num_rows <= ROWS + ROWS // 2 for t in read)
    # each file's chunk map names every chunk (part) once, with its rows
    chunk_count = sum(len(read_chunk_map(p).chunks) for p in files.compacted)
    assert chunk_count == parts
    with pq.ParquetFile(files.compacted[0]) as handle:
        assert handle.metadata.num_row_groups >= 1
        assert CHUNK_MAP_KEY in (handle.schema_arrow.metadata or {})

    stored = cues_files(root)
    again = compact_dataset(root, rows=ROWS)
    assert again.files_written == 0 and again.line().startswith("nothing to compact")
    assert cues_files(root) == stored


def test_inspect_counts_and_readers_are_the_same_after_compaction(
    parts_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_of(parts_dataset, tmp_path)
    before = summarize(DatasetLayout(root)).to_dict()
    assert main(["inspect", str(root), "--json"]) == 0
    inspected = json.loads(capsys.readouterr().out)
    compact_dataset(root, rows=ROWS)
    after = summarize(DatasetLayout(root)).to_dict()
    assert after == before and after["chunks_done"] > 150
    assert main(["inspect", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == inspected

    dataset = open_dataset(root)
    assert dataset.count(None) == before["utterances"]
    assert [c.cue_id for c in dataset.cues(status=None)] == rows(parts_dataset)[
        "cue_id"
    ].to_pylist()
    some = sorted({c.source_id for c in dataset.cues()})[:3]
    chosen = list(dataset.cues(sources=some))
    assert chosen and {c.source_id for c in chosen} == set(some)
    assert len(chosen) == sum(1 for c in open_dataset(parts_dataset).cues() if c.source_id in some)


def test_records_come_a_row_group_at_a_time_and_all_of_them(
    parts_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_of(parts_dataset, tmp_path)
    monkeypatch.setattr(compact_module, "ROW_GROUP_ROWS", 100)
    compact_dataset(root, rows=ROWS)
    first = manifest_files(DatasetLayout(root)).compacted[0]
    with pq.ParquetFile(first) as handle:
        assert handle.metadata.num_row_groups > 3
    tables = list(readable_parts(DatasetLayout(root), ["cue_id", "status"], batches=True))
    assert max(t.num_rows for _, t in tables) == 100
    ids = [c for _, t in tables for c in t["cue_id"].to_pylist()]
    assert ids == rows(parts_dataset)["cue_id"].to_pylist()
    assert [c.cue_id for c in open_dataset(root).cues(status=None)] == ids


def make_two_tasks(root: Path) -> dict[str, bytes]:
    """An MCQ and a classification task; their items files' bytes."""
    requests = [
        TaskRequest(family="mcq", query="stills", answer="audio_blur", name="mcq", seed=0),
        TaskRequest(family="classification", query="text", name="cls", seed=0),
    ]
    found = {}
    for request in requests:
        make_task(root, request)
        for split in ("train", "validation", "test"):
            path = TaskLayout(root, request.name or "").items(split)
            found[f"{request.name}/{split}"] = pq.read_table(path).to_pandas().to_json().encode()
    return found


def test_tasks_made_from_a_compacted_dataset_are_the_same(
    parts_dataset: Path, tmp_path: Path
) -> None:
    plain = copy_of(parts_dataset, tmp_path, "plain")
    compacted = copy_of(parts_dataset, tmp_path, "compacted")
    compact_dataset(compacted, rows=ROWS)
    assert make_two_tasks(compacted) == make_two_tasks(plain)
    spec_a = (TaskLayout(plain, "mcq").folder / "spec.yaml").read_text()
    spec_b = (TaskLayout(compacted, "mcq").folder / "spec.yaml").read_text()
    fingerprint = [line for line in spec_a.splitlines() if "fingerprint" in line]
    assert fingerprint and fingerprint == [
        line for line in spec_b.splitlines() if "fingerprint" in line
    ]


def add_new_parts(root: Path, tmp_path: Path, seed: int, cue_groups: int, sources: int) -> int:
    """Parts of other sources, as a resumed build that added them writes; how many."""
    other = synthetic(tmp_path / f"new-{seed}", seed=seed, cue_groups=cue_groups, sources=sources)
    parts = list((other / "cues").glob("part-*.parquet"))
    for part in parts:
        shutil.copyfile(part, root / "cues" / part.name)
    return len(parts)


def test_new_parts_are_merged_into_the_compacted_files_in_order(
    parts_dataset: Path, tmp_path: Path
) -> None:
    root = copy_of(parts_dataset, tmp_path)
    compact_dataset(root, rows=ROWS)
    expected = rows(root).num_rows + 600 + 25  # (each synthetic set has 25 rejected rows)
    added = add_new_parts(root, tmp_path, seed=1, cue_groups=600, sources=8)
    assert rows(root).num_rows == expected  # readers see the new parts at once

    result = compact_dataset(root, rows=ROWS)

    assert result.parts_merged == added and result.compacted_merged >= 1
    table = rows(root)
    assert table.num_rows == expected and len(set(table.column("cue_id").to_pylist())) == expected
    files = manifest_files(DatasetLayout(root), maps=True)
    assert not files.parts and not files.leftovers
    ids = [c for p in files.compacted for c in read_part(p, ["cue_id"])["cue_id"].to_pylist()]
    assert ids == sorted(ids)  # still one run in cue id order
    assert all(t <= ROWS + ROWS // 2 for t in (read_chunk_map(p).rows for p in files.compacted))

    # a few new parts go into the neighbouring file, not into a file of their own
    count = len(files.compacted)
    add_new_parts(root, tmp_path, seed=2, cue_groups=3, sources=1)
    compact_dataset(root, rows=ROWS)
    assert len(manifest_files(DatasetLayout(root)).compacted) in (count, count + 1)
    assert rows(root).num_rows == expected + 3 + 25


KILLER = """
import os, sys
from empathynet.store import compact
point, root, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
if point == "before-commit":  # killed once two new files are in place, before the list
    real_write = compact._write_compacted
    written = []
    def write(*args, **kwargs):
        real_write(*args, **kwargs)
        written.append(1)
        if len(written) == 2:
            os._exit(9)
    compact._write_compacted = write
else:  # killed right after the list is committed, before anything is deleted
    real_finish = compact.finish_compaction
    calls = []
    def finish(layout):
        calls.append(1)
        if len(calls) == 2:
            os._exit(9)
        return real_finish(layout)
    compact.finish_compaction = finish
compact.compact_dataset(root, rows=rows)
raise SystemExit("not killed")
"""


def kill_compaction(root: Path, point: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLER, point, str(root), str(ROWS)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 9, done.stderr


def each_row_once(root: Path, reference: pa.Table, chunks: int) -> None:
    """Every reader sees each row exactly once."""
    assert rows(root).equals(reference)
    assert open_dataset(root).count(None) == reference.num_rows
    summary = summarize(DatasetLayout(root), warn=pytest.fail)
    assert summary.utterances == reference.num_rows and summary.chunks_done == chunks
    statuses = pa.concat_tables(
        [t for t in (read_part(p, ["status"]) for p in manifest_files(DatasetLayout(root)).files)]
    )
    assert statuses.num_rows == reference.num_rows


@pytest.mark.parametrize("resumed", [False, True], ids=["first", "with-new-parts"])
@pytest.mark.parametrize("point", ["before-commit", "after-commit"])
def test_a_compaction_killed_at_any_moment_loses_nothing_and_reads_nothing_twice(
    parts_dataset: Path, tmp_path: Path, point: str, resumed: bool
) -> None:
    root = copy_of(parts_dataset, tmp_path)
    if resumed:
        compact_dataset(root, rows=ROWS)
        add_new_parts(root, tmp_path, seed=3, cue_groups=900, sources=12)
    reference = rows(root)
    chunks = summarize(DatasetLayout(root)).chunks_done
    finished = copy_of(root, tmp_path, "uninterrupted")
    compact_dataset(finished, rows=ROWS)

    kill_compaction(root, point)

    files = manifest_files(DatasetLayout(root))
    assert files.leftovers  # what the kill left: files whose rows are read from elsewhere
    each_row_once(root, reference, chunks)
    report = check_dataset(root)  # (a synthetic dataset.json has no hash, nor its rows media)
    assert {p.kind for p in report.problems} - {"dataset_json", "missing_media"} == {"leftover"}
    assert "left by a stopped compaction" in "\n".join(report.lines())

    result = compact_dataset(root, rows=ROWS)  # finishes the job

    assert result.leftovers_deleted == len(files.leftovers)
    assert not manifest_files(DatasetLayout(root)).leftovers
    each_row_once(root, reference, chunks)
    assert sorted(cues_files(root).values()) == sorted(cues_files(finished).values())


def test_check_repair_deletes_what_a_killed_compaction_left(tmp_path: Path) -> None:
    root = tmp_path / "media"
    write_synthetic_dataset(root, cue_groups=48, sources=8, media=True, min_ms=400, max_ms=900)
    reference = rows(root)
    kill_compaction(root, "after-commit")
    report = check_dataset(root, repair=True)
    assert [p.repaired for p in report.problems if p.kind == "leftover"] == [True] * len(
        [p for p in report.problems if p.kind == "leftover"]
    )
    assert report.rebuild_command is None  # nothing to build again
    assert not manifest_files(DatasetLayout(root)).leftovers
    assert rows(root).equals(reference)


@pytest.fixture
def media_dataset(tmp_path: Path) -> Path:
    """48 cue groups over 8 sources with tiny real media, compacted into files of about
    10 rows (a few sources each)."""
    root = tmp_path / "media"
    write_synthetic_dataset(root, cue_groups=48, sources=8, media=True, min_ms=400, max_ms=900)
    compact_dataset(root, rows=10)
    assert len(manifest_files(DatasetLayout(root)).compacted) >= 3
    return root


def problems(root: Path, repair: bool = False) -> list[tuple[str, str | None, bool]]:
    """(kind, chunk, repaired) of each problem but the synthetic dataset.json's."""
    report = check_dataset(root, repair=repair)
    return [(p.kind, p.chunk, p.repaired) for p in report.problems if p.kind != "dataset_json"]


def test_removing_a_cue_inside_a_compacted_file_rewrites_that_file(media_dataset: Path) -> None:
    root = media_dataset
    layout = DatasetLayout(root)
    assert problems(root) == []
    before = rows(root)
    files = manifest_files(layout, maps=True)
    target = files.compacted[1]
    row = read_part(target, ["cue_id", "source_id"]).slice(1, 1).to_pylist()[0]
    cue_id, source_id = row["cue_id"], row["source_id"]
    assert (root / "media" / source_id / cue_id).is_dir()
    untouched = {p: p.read_bytes() for p in files.compacted if p != target}

    result = remove_from_dataset(root, cue_ids=[cue_id], reason="asked")

    assert result.counts.parts_rewritten == 1 and result.counts.media_folders == 1
    after = rows(root)
    assert after.num_rows == before.num_rows - 1
    assert after.equals(before.filter(pc.not_equal(before["cue_id"], cue_id)))
    assert not (root / "media" / source_id / cue_id).exists()
    assert {p: p.read_bytes() for p in files.compacted if p != target} == untouched
    assert read_chunk_map(target).rows == read_part(target).num_rows  # the map fits
    assert problems(root) == []

    # a whole source, then every source of one file: that file goes, unlisted first
    last = manifest_files(layout, maps=True).compacted[-1]
    its_sources = read_chunk_map(last).sources
    remove_from_dataset(root, source_ids=its_sources)
    assert not last.exists()
    assert last.name not in (root / "cues" / "compacted.json").read_text()
    left = rows(root)
    assert not set(left["source_id"].to_pylist()) & set(its_sources)
    assert problems(root) == []


def test_check_finds_a_damaged_compacted_file_and_repair_deletes_it(
    media_dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = media_dataset
    layout = DatasetLayout(root)
    files = manifest_files(layout)
    damaged = files.compacted[0]
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])

    assert main(["inspect", str(root)]) == 0
    captured = capsys.readouterr()
    assert len([line for line in captured.err.splitlines() if damaged.name in line]) == 1
    assert "damaged compacted manifest file" in captured.err and "its chunks" in captured.err
    assert problems(root) == [("damaged_part", None, False)]

    assert [kind for kind, _, repaired in problems(root, repair=True) if repaired] == [
        "damaged_part"
    ]
    assert not damaged.exists() and damaged.name not in layout.compacted_index.read_text()
    assert problems(root) == []
    capsys.readouterr()
    assert main(["inspect", str(root)]) == 0
    assert capsys.readouterr().err == ""


def test_check_repair_deletes_only_the_chunk_with_a_missing_file(media_dataset: Path) -> None:
    root = media_dataset
    before = rows(root)
    files = manifest_files(DatasetLayout(root))
    target = files.compacted[1]
    row = read_part(target).slice(2, 1).to_pylist()[0]
    (root / row["still_paths"][0]).unlink()
    chunk = f"part-{row['source_id']}-00000.parquet"  # one part per source in this set
    assert problems(root) == [("missing_media", chunk, False)]

    report = check_dataset(root, repair=True)

    assert any(f"deleted 1 chunks of cues/{target.name}" in a for a in report.actions)
    assert report.rebuild_command is not None
    after = rows(root)
    assert after.equals(before.filter(pc.not_equal(before["source_id"], row["source_id"])))
    assert target.exists() and problems(root) == []


def test_a_chunk_map_that_does_not_fit_the_rows_is_damage(
    parts_dataset: Path, tmp_path: Path
) -> None:
    root = copy_of(parts_dataset, tmp_path)
    compact_dataset(root, rows=ROWS)
    path = manifest_files(DatasetLayout(root)).compacted[0]
    table = pq.read_table(path)
    chunk_map = json.loads(table.schema.metadata[CHUNK_MAP_KEY])
    chunk_map["chunks"][0], chunk_map["chunks"][-1] = (
        chunk_map["chunks"][-1],
        chunk_map["chunks"][0],
    )
    pq.write_table(table.replace_schema_metadata({CHUNK_MAP_KEY: json.dumps(chunk_map)}), path)
    with pytest.raises(DamagedPartError, match="its chunk map says"):
        read_part(path)


def test_overwrite_deletes_compacted_files_and_their_sources_media(media_dataset: Path) -> None:
    root = media_dataset
    assert list((root / "media").iterdir())
    (root / "sources.parquet").unlink()  # the sources are then known from the chunk maps only
    _remove_build_outputs(DatasetLayout(root))
    assert not (root / "cues").exists() and not (root / "media").exists()


def test_the_cli_compacts_and_says_what_it_did(
    parts_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_of(parts_dataset, tmp_path)
    parser = argparse.ArgumentParser()
    compact_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["compact", str(root), "--rows", "1000", "--json"])
    assert args.run(args) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["files_written"] >= 2 and done["parts_left"] == 0
    args = parser.parse_args(["compact", str(root)])
    assert args.run(args) == 0
    assert "nothing to compact" in capsys.readouterr().out


# -- a real build: resume and damage with compacted files ------------------------------

#: One sentence per chunk: a part per sentence, as many parts as the build can make.
CONFIG = EmpathyNetConfig(chunk_size=1)


@pytest.fixture(scope="module")
def built(
    demo_media: list[DemoClip], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[Path], Path]]:
    """The inputs and a build of them left in parts (read-only: tests use copies)."""
    pytest.importorskip("mediapipe")
    inputs = [c.video_path for c in demo_media if c.name in ("large_face", "no_face")]
    dataset = tmp_path_factory.mktemp("compact-build") / "reference"
    build_dataset(inputs, dataset, CONFIG, progress=False, log=lambda line: None, compact=False)
    yield inputs, dataset


def manifest_json(root: Path) -> list[str]:
    table = rows(root)
    return [json.dumps(row, sort_keys=True, default=str) for row in table.to_pylist()]


def test_a_build_compacts_at_its_end_and_its_rows_are_the_same(
    built: tuple[list[Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, reference = built
    monkeypatch.setattr(build_module, "AUTO_COMPACT_PARTS", 2)
    lines: list[str] = []
    out = tmp_path / "compacted"
    summary = build_dataset(inputs, out, CONFIG, progress=False, log=lines.append)
    assert any(line.startswith("compacted ") for line in lines)
    assert not list((out / "cues").glob("part-*")) and list((out / "cues").glob("compact-*"))
    assert manifest_json(out) == manifest_json(reference)
    expected = summarize(DatasetLayout(reference))
    assert summary.chunks_done == expected.chunks_done == len(list(reference.glob("cues/part-*")))
    assert summary.status_counts == expected.status_counts
    assert summary.stage_seconds.keys() == expected.stage_seconds.keys()


def test_a_resumed_build_skips_the_chunks_of_compacted_files(
    built: tuple[list[Path], Path], tmp_path: Path
) -> None:
    inputs, reference = built
    out = copy_of(reference, tmp_path)
    stage_seconds = summarize(DatasetLayout(out)).stage_seconds
    compact_dataset(out, rows=5)
    assert summarize(DatasetLayout(out)).stage_seconds == pytest.approx(stage_seconds)
    stored = cues_files(out)

    summary = build_dataset(inputs, out, CONFIG, progress=False, log=lambda line: None)

    assert summary.chunks_written == 0 and summary.chunks_skipped == summary.chunks_done > 2
    assert cues_files(out) == stored  # nothing written, nothing compacted again
    assert manifest_json(out) == manifest_json(reference)
    assert check_dataset(out).ok


def test_a_compacted_chunk_with_rows_of_another_chunk_is_set_aside_and_redone(
    built: tuple[list[Path], Path], tmp_path: Path
) -> None:
    inputs, reference = built
    out = copy_of(reference, tmp_path)
    compact_dataset(out, rows=1000)
    layout = DatasetLayout(out)
    (path,) = manifest_files(layout).compacted
    # two chunks of one source swap numbers in the chunk map: each then holds the other's
    # rows (the file itself reads well)
    table = pq.read_table(path)
    chunk_map = json.loads(table.schema.metadata[CHUNK_MAP_KEY])
    entries = chunk_map["chunks"]
    first, second = next(
        (i, j)
        for i in range(len(entries))
        for j in range(i + 1, len(entries))
        if entries[i][0] == entries[j][0]
    )
    entries[first][1], entries[second][1] = entries[second][1], entries[first][1]
    metadata = {**table.schema.metadata, CHUNK_MAP_KEY: json.dumps(chunk_map).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)
    read_part(path)  # not damaged as a file
    lines: list[str] = []

    summary = build_dataset(inputs, out, CONFIG, progress=False, log=lines.append)

    assert len(summary.parts_redone) == 2 and summary.chunks_written == 2
    moved = [line for line in lines if "moved aside" in line]
    assert len(moved) == 2 and all("rows of another chunk" in line for line in moved)
    assert all((out / "cues" / f"{name}.damaged").is_file() for name in summary.parts_redone)
    assert manifest_json(out) == manifest_json(reference)
    assert check_dataset(out).ok


def test_a_damaged_compacted_file_is_set_aside_and_its_chunks_redone(
    built: tuple[list[Path], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, reference = built
    out = copy_of(reference, tmp_path)
    compact_dataset(out, rows=1000)
    (path,) = manifest_files(DatasetLayout(out)).compacted
    path.write_bytes(b"not parquet at all\n" * 10)
    assert main(["inspect", str(out)]) == 0
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if path.name in line]) == 1
    lines: list[str] = []

    summary = build_dataset(inputs, out, CONFIG, progress=False, log=lines.append)

    assert summary.parts_redone == [path.name]
    assert summary.chunks_written == summary.chunks_done
    assert [line for line in lines if path.name in line] == [
        next(line for line in lines if "moved aside" in line)
    ]
    assert (out / "cues" / f"{path.name}.damaged").is_file()
    assert manifest_json(out) == manifest_json(reference)
    assert check_dataset(out).ok


def test_build_with_no_compact_leaves_the_manifest_in_parts(
    built: tuple[list[Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, reference = built
    monkeypatch.setattr(build_module, "AUTO_COMPACT_PARTS", 2)
    config = tmp_path / "config.yaml"
    config.write_text("chunk_size: 1\n", encoding="utf-8")
    out = tmp_path / "parts"
    command = ["build", *map(str, inputs), "--out", str(out), "--config", str(config)]
    assert main([*command, "--no-compact", "--no-progress"]) == 0
    assert list((out / "cues").glob("part-*")) and not list((out / "cues").glob("compact-*"))
    assert manifest_json(out) == manifest_json(reference)
    # without the flag the same command compacts (nothing left to build: only that)
    assert main([*command, "--no-progress"]) == 0
    assert not list((out / "cues").glob("part-*")) and list((out / "cues").glob("compact-*"))
    assert manifest_json(out) == manifest_json(reference)


def test_blurring_again_keeps_a_compacted_file_in_row_groups(
    built: tuple[list[Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empathynet.pipeline import reblur

    _, reference = built
    out = copy_of(reference, tmp_path)
    compact_dataset(out)
    monkeypatch.setattr(compact_module, "ROW_GROUP_ROWS", 2)
    monkeypatch.setattr(reblur, "ROW_GROUP_ROWS", 2)
    before = rows(out)
    accepted = reblur.reblur_dataset(out, progress=False)
    assert accepted  # the demo's large face is accepted: its rows were rewritten
    (compacted,) = (out / "cues").glob("compact-*.parquet")
    metadata = pq.ParquetFile(compacted).metadata
    assert metadata.num_row_groups == -(-metadata.num_rows // 2) > 1
    after = rows(out)
    assert after.num_rows == before.num_rows and after["cue_id"] == before["cue_id"]
    assert check_dataset(out).ok
