"""Damaged datasets (issue 12, item 5): a bad manifest part is one line and is redone by the
build; ``empathynet check`` finds damaged parts, missing or cut media and a bad dataset.json,
and ``--repair`` makes the build redo exactly the chunks concerned."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from empathynet.cli.main import main
from empathynet.config import EmpathyNetConfig
from empathynet.demo import DemoClip
from empathynet.labels.store import cue_statuses
from empathynet.pipeline.build import build_dataset, read_manifest
from empathynet.store.check import check_dataset
from empathynet.store.layout import DatasetLayout

pytest.importorskip("mediapipe")

#: Two chunks for the large face's three sentences: more than one part per source.
CONFIG = EmpathyNetConfig(chunk_size=2)


@pytest.fixture(scope="module")
def built(
    demo_media: list[DemoClip], tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[Path], Path]:
    """The inputs (a clip with accepted cues, one without) and an undamaged build of them
    (read-only: tests damage copies)."""
    inputs = [c.video_path for c in demo_media if c.name in ("large_face", "no_face")]
    dataset = tmp_path_factory.mktemp("check") / "reference"
    build_dataset(inputs, dataset, CONFIG, progress=False, log=lambda line: None)
    return inputs, dataset


def copy_of(dataset: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "dataset"
    shutil.copytree(dataset, copy)
    return copy


def rows(dataset: Path) -> list[str]:
    """The manifest, comparable (JSON keeps NaN equal to NaN)."""
    return [json.dumps(row.to_dict(), sort_keys=True) for row in read_manifest(dataset)]


def media(dataset: Path) -> list[tuple[str, int]]:
    return sorted(
        (p.relative_to(dataset).as_posix(), p.stat().st_size)
        for p in (dataset / "media").rglob("*")
        if p.is_file()
    )


def accepted_part(dataset: Path) -> Path:
    """The first part with accepted rows (the large face's first chunk)."""
    for part in DatasetLayout(dataset).cue_parts():
        if "accepted" in pq.read_table(part, columns=["status"]).column("status").to_pylist():
            return part
    raise AssertionError("no part with accepted rows")


def damage(part: Path, how: str) -> None:
    parts = sorted(part.parent.glob("part-*.parquet"))
    if how == "truncated":
        data = part.read_bytes()
        part.write_bytes(data[: len(data) // 2])
    elif how == "junk":
        part.write_bytes(b"this is not parquet\n" * 20)
    elif how == "other_source":
        other = next(p for p in parts if p.name.split("-")[1] != part.name.split("-")[1])
        shutil.copyfile(other, part)
    elif how == "other_chunk":  # the same source's next chunk under this chunk's name
        other = next(p for p in parts if p != part and p.name[:-14] == part.name[:-14])
        shutil.copyfile(other, part)


@pytest.mark.parametrize("how", ["truncated", "junk", "other_source", "other_chunk"])
def test_a_damaged_part_is_one_line_and_the_build_redoes_its_chunk(
    built: tuple[list[Path], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    inputs, reference = built
    dataset = copy_of(reference, tmp_path)
    part = accepted_part(dataset)
    damage(part, how)

    if how != "other_chunk":  # readers cannot tell another chunk of the same source
        assert main(["inspect", str(dataset)]) == 0
        captured = capsys.readouterr()
        output = captured.out + captured.err
        assert "Traceback" not in output
        assert [line for line in output.splitlines() if part.name in line] == [
            line for line in captured.err.splitlines() if part.name in line
        ]
        assert len([line for line in output.splitlines() if part.name in line]) == 1
        assert "damaged manifest parts skipped: 1" in captured.out
        # the other readers skip it too, with one line each
        statuses = cue_statuses(dataset)
        assert statuses and all(cue_id in rows_ids(reference) for cue_id in statuses)
        assert len(read_manifest(dataset)) < len(read_manifest(reference))
        assert capsys.readouterr().err.count(part.name) == 2
        assert main(["report", str(dataset)]) == 0
        assert capsys.readouterr().err.count(part.name) == 1
    assert not check_dataset(dataset).ok

    lines: list[str] = []
    summary = build_dataset(inputs, dataset, CONFIG, progress=False, log=lines.append)
    assert summary.parts_redone == [part.name] and summary.chunks_written == 1
    assert [line for line in lines if part.name in line] == [
        next(line for line in lines if "moved aside" in line)
    ]
    assert (part.parent / f"{part.name}.damaged").is_file()
    assert "damaged manifest parts redone: 1" in "\n".join(summary.lines())
    assert rows(dataset) == rows(reference)
    assert media(dataset) == media(reference)
    assert check_dataset(dataset).ok


def rows_ids(dataset: Path) -> set[str]:
    return {row.cue_id for row in read_manifest(dataset)}


def test_check_finds_a_deleted_still_and_blurred_audio_and_repair_lets_the_build_restore_them(
    built: tuple[list[Path], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, reference = built
    dataset = copy_of(reference, tmp_path)
    assert main(["check", str(dataset)]) == 0
    assert "ok: no problems" in capsys.readouterr().out
    accepted = [row for row in read_manifest(dataset) if row.status == "accepted"]
    still, blurred = accepted[0].media.still_paths[0], accepted[-1].media.audio_blur_path
    assert still is not None and blurred is not None
    assert still.endswith("still_0.jpg") and blurred.endswith("audio_blur.wav")
    (dataset / still).unlink()
    (dataset / blurred).unlink()

    assert main(["check", str(dataset)]) == 1
    out = capsys.readouterr().out
    assert f"problem: {still}: missing" in out and f"problem: {blurred}: missing" in out
    report = check_dataset(dataset)
    assert sorted((p.kind, p.path) for p in report.problems) == sorted(
        [("missing_media", still), ("missing_media", blurred)]
    )

    assert main(["check", str(dataset), "--repair"]) == 0
    out = capsys.readouterr().out
    command = next(line for line in out.splitlines() if "run: empathynet build" in line)
    words = shlex.split(command.split("run: ", 1)[1])
    assert [Path(w) for w in words[2 : 2 + len(inputs)]] == inputs
    assert "--config" in words  # the dataset's options are not the defaults
    assert check_dataset(dataset).ok  # what is left is whole

    assert main([*words[1:], "--no-progress"]) == 0  # the printed command, as printed
    capsys.readouterr()
    assert (dataset / still).is_file() and (dataset / blurred).is_file()
    assert rows(dataset) == rows(reference)
    assert media(dataset) == media(reference)
    assert check_dataset(dataset).ok


def test_check_finds_a_file_cut_short_and_media_outside_the_dataset(
    built: tuple[list[Path], Path], tmp_path: Path
) -> None:
    _, reference = built
    dataset = copy_of(reference, tmp_path)
    row = next(r for r in read_manifest(dataset) if r.status == "accepted")
    assert row.media.audio_path is not None and row.media.media_bytes
    audio = dataset / row.media.audio_path
    audio.write_bytes(audio.read_bytes()[:-100])
    # a row naming a file outside the dataset
    part = accepted_part(dataset)
    table = pq.read_table(part)
    paths = table.column("audio_blur_path").to_pylist()
    paths[0] = "../outside.wav"
    (tmp_path / "outside.wav").write_bytes(b"RIFF")
    index = table.schema.get_field_index("audio_blur_path")
    pq.write_table(table.set_column(index, "audio_blur_path", [paths]), part)

    found = {(p.kind, p.path) for p in check_dataset(dataset).problems}
    assert ("media_size", row.media.audio_path) in found
    assert ("path_escape", part.relative_to(dataset).as_posix()) in found


def test_check_falls_back_to_existence_for_rows_without_sizes(
    built: tuple[list[Path], Path], tmp_path: Path
) -> None:
    _, reference = built
    dataset = copy_of(reference, tmp_path)
    for part in DatasetLayout(dataset).cue_parts():  # as written before sizes were recorded
        pq.write_table(pq.read_table(part).drop_columns(["media_files", "media_bytes"]), part)
    assert check_dataset(dataset).ok
    row = next(r for r in read_manifest(dataset) if r.status == "accepted")
    assert row.media.face_crop_paths
    (dataset / row.media.face_crop_paths[0]).write_bytes(b"")  # cut short: not seen without sizes
    assert check_dataset(dataset).ok
    (dataset / row.media.face_crop_paths[1]).unlink()
    (problem,) = check_dataset(dataset).problems
    assert (problem.kind, problem.path) == ("missing_media", row.media.face_crop_paths[1])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (None, "missing"),
        ({"format": "something-else"}, "format is 'something-else'"),
        ({"format_version": 99}, "format_version 99 is not supported"),
        ({"format_version": "1"}, "format_version is '1'"),
        ({"config_hash": None}, "config_hash is None"),
        ({"config_hash": "000000000000"}, "the manifest rows were built with"),
    ],
)
def test_check_reports_a_bad_dataset_json(
    built: tuple[list[Path], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str | dict[str, object] | None,
    expected: str,
) -> None:
    _, reference = built
    dataset = copy_of(reference, tmp_path)
    path = dataset / "dataset.json"
    if text is None:
        path.unlink()
    elif isinstance(text, dict):
        path.write_text(json.dumps({**json.loads(path.read_text()), **text}))
    else:
        path.write_text(text)
    assert main(["check", str(dataset)]) == 1
    problems = [line for line in capsys.readouterr().out.splitlines() if "problem:" in line]
    assert any(expected in line for line in problems), problems
    # dataset.json is never "repaired" by deleting data
    before = sorted(p.name for p in (dataset / "cues").iterdir())
    report = check_dataset(dataset, repair=True)
    assert not report.ok and not report.actions and report.rebuild_command is None
    assert sorted(p.name for p in (dataset / "cues").iterdir()) == before


def test_check_refuses_a_folder_that_is_no_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path)]) == 2
    assert "not an EmpathyNet dataset" in capsys.readouterr().err
