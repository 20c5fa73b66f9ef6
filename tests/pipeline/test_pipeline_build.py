"""The build on generated demo media: every rule gives its own reason or error."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pyarrow.parquet as pq
import pytest

from empathynet.cli.main import main
from empathynet.config import EmpathyNetConfig
from empathynet.data.models import CueGroup, Source
from empathynet.data.schemas import CUE_SCHEMA, SOURCE_SCHEMA, records_to_table
from empathynet.demo import DemoClip, srt_time
from empathynet.errors import DatasetError, EmpathyNetError
from empathynet.media.audio import read_wav
from empathynet.pipeline import build
from empathynet.pipeline.build import (
    MAX_FAILURES_SHOWN,
    build_dataset,
    read_manifest,
    summarize,
)
from empathynet.store.atomic import atomic_write_json, atomic_write_table
from empathynet.store.layout import DatasetLayout

pytest.importorskip("mediapipe")


def rows_of(dataset: Path, clip: DemoClip) -> list[CueGroup]:
    sources = pq.read_table(dataset / "sources.parquet").to_pylist()
    source_id = next(s["source_id"] for s in sources if Path(s["path"]) == clip.video_path)
    return sorted(
        (r for r in read_manifest(dataset) if r.source_id == source_id),
        key=lambda r: (r.start_ms, r.cue_id),
    )


def clip_named(clips: list[DemoClip], name: str) -> DemoClip:
    return next(c for c in clips if c.name == name)


def test_every_utterance_has_one_row_and_the_report_counts_them(
    demo: tuple[list[DemoClip], Path],
) -> None:
    _, dataset = demo
    rows = read_manifest(dataset)
    assert len({r.cue_id for r in rows}) == len(rows)
    report = json.loads((dataset / "reports" / "build.json").read_text())
    assert report["utterances"] == len(rows)
    assert sum(report["status"].values()) == len(rows)
    assert sum(report["reasons"].values()) == sum(r.status != "accepted" for r in rows)
    assert {"decode", "detect", "shots"} <= set(report["stage_seconds"])
    assert summarize(DatasetLayout(dataset)).to_dict()["status"] == report["status"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("small_face", "face_too_small"),
        ("two_faces", "several_faces"),
        ("no_face", "no_face"),
    ],
)
def test_rejections_name_their_reason(
    demo: tuple[list[DemoClip], Path], name: str, reason: str
) -> None:
    clips, dataset = demo
    rows = rows_of(dataset, clip_named(clips, name))
    assert rows and all(r.status == "rejected" and r.reason == reason for r in rows)


def test_shot_cut_inside_a_sentence_is_rejected(demo: tuple[list[DemoClip], Path]) -> None:
    clips, dataset = demo
    clip = clip_named(clips, "shot_cut")
    rows = rows_of(dataset, clip)
    (cut_ms,) = [c for c in clip.cuts_ms if any(s.start_ms < c < s.end_ms for s in clip.sentences)]
    inside = [r for r in rows if r.start_ms < cut_ms < r.end_ms]
    assert [r.reason for r in inside] == ["shot_cut"]
    assert all(r.reason != "shot_cut" for r in rows if r not in inside)


def test_a_face_whose_mouth_is_still_while_a_voice_speaks_is_not_the_speaker(
    demo: tuple[list[DemoClip], Path],
) -> None:
    clips, dataset = demo
    clip = clip_named(clips, "dialogue")
    off_screen = [s for s in clip.sentences if s.face is None and s.speaker == "JOHN"]
    assert len(off_screen) == 1  # the generator voices JOHN off screen
    rows = {r.start_ms: r for r in rows_of(dataset, clip)}
    row = rows[off_screen[0].start_ms]
    assert row.reason == "not_speaking" and row.checks.speaking_score is not None
    starts = [s.start_ms for s in clip.sentences]
    on_screen = [s for s in clip.sentences if s.face is not None and starts.count(s.start_ms) == 1]
    assert on_screen and all(rows[s.start_ms].status == "accepted" for s in on_screen)


def test_dialogue_turns_are_never_one_cue(demo: tuple[list[DemoClip], Path]) -> None:
    clips, dataset = demo
    rows = rows_of(dataset, clip_named(clips, "dialogue"))
    turns = [r for r in rows if r.reason == "dialogue"]
    assert [r.text for r in turns] == ["Are you coming?", "Yes, I am."]
    assert len({r.cue_id for r in turns}) == 2
    assert any(r.speaker == "JOHN" for r in rows)


@pytest.mark.parametrize(
    ("name", "reason"), [("no_audio", "no_audio"), ("corrupt", "corrupt_media")]
)
def test_broken_sources_fail_with_their_error(
    demo: tuple[list[DemoClip], Path], name: str, reason: str
) -> None:
    clips, dataset = demo
    clip = clip_named(clips, name)
    rows = rows_of(dataset, clip)
    assert rows and all(r.status == "failed" and r.reason == reason for r in rows)
    assert all(r.error and clip.video_path.name in r.error and "\n" not in r.error for r in rows)
    # The file is named relative to its folder: no absolute path of the building machine.
    assert not any(str(clip.video_path.parent) in (r.error or "") for r in rows)
    sources = pq.read_table(dataset / "sources.parquet").to_pylist()
    (source,) = [s for s in sources if Path(s["path"]) == clip.video_path]
    assert source["status"] == "failed" and clip.video_path.name in source["reason"]


def test_large_face_is_accepted_with_exact_bounds_and_five_stills(
    demo: tuple[list[DemoClip], Path],
) -> None:
    clips, dataset = demo
    clip = clip_named(clips, "large_face")
    rows = rows_of(dataset, clip)
    accepted = [r for r in rows if r.status == "accepted"]
    assert len(accepted) == len(rows) == len(clip.sentences) == 3
    frame = Fraction(1, clip.fps)
    layout = DatasetLayout(dataset)
    for row in accepted:
        assert row.face.width_fraction is not None and row.face.width_fraction >= 0.2
        assert row.face.height_fraction is not None and row.face.height_fraction >= 0.2
        assert len(row.media.still_paths) == 5 and len(row.media.face_crop_paths) == 5
        assert len(row.face.boxes) == 5
        # Per still: the box's linear fractions and its area fraction (both >= 20 %).
        assert len(row.face.area_fractions) == 5
        for box, area in zip(row.face.boxes, row.face.area_fractions, strict=True):
            assert box.width >= 0.2 and box.height >= 0.2
            assert area == pytest.approx(box.width * box.height, rel=1e-5) and area >= 0.04
        for still in (*row.media.still_paths, *row.media.face_crop_paths):
            assert layout.resolve(still).stat().st_size > 1000
        assert row.media.face_clip_path is not None and row.media.audio_path is not None
        with av.open(str(layout.resolve(row.media.face_clip_path))) as container:
            video = container.streams.video[0]
            frames = list(container.decode(video))
            assert (video.width, video.height) == (224, 224)
            duration = Fraction(frames[-1].pts - frames[0].pts, 1) * video.time_base + frame
        # the clip spans the sentence within one frame
        assert abs(duration - Fraction(row.end_ms - row.start_ms, 1000)) <= frame
        samples, rate = read_wav(layout.resolve(row.media.audio_path))
        assert rate == 16_000
        assert len(samples) == (row.end_ms - row.start_ms) * 16
        assert float(np.sqrt(np.mean(samples**2))) > 0.01  # the voice is there


def test_paths_in_the_manifest_stay_inside_the_dataset(demo: tuple[list[DemoClip], Path]) -> None:
    _, dataset = demo
    layout = DatasetLayout(dataset)
    for row in read_manifest(dataset):
        for path in (
            *row.media.still_paths,
            *row.media.face_crop_paths,
            row.media.face_clip_path,
            row.media.audio_path,
        ):
            if path is not None:
                assert not Path(path).is_absolute()
                assert layout.resolve(path).is_file()


def test_rebuild_with_other_options_needs_overwrite(
    demo: tuple[list[DemoClip], Path], tmp_path: Path
) -> None:
    clips, _ = demo
    video = clip_named(clips, "no_face").video_path
    dataset = tmp_path / "d"
    build_dataset([video], dataset, progress=False)
    first = read_manifest(dataset)
    # same options: resumes, nothing new
    again = build_dataset([video], dataset, progress=False)
    assert again.chunks_written == 0 and read_manifest(dataset) == first
    other = EmpathyNetConfig(chunk_size=1)
    with pytest.raises(DatasetError, match="other options"):
        build_dataset([video], dataset, other, progress=False)
    build_dataset([video], dataset, other, progress=False, overwrite=True)
    rebuilt = read_manifest(dataset)
    assert rebuilt[0].stage_versions != first[0].stage_versions  # the options are recorded
    assert [dataclasses.replace(r, stage_versions=None) for r in rebuilt] == [
        dataclasses.replace(r, stage_versions=None) for r in first
    ]


def test_building_again_keeps_the_subtitle_fix_counts(
    demo: tuple[list[DemoClip], Path], tmp_path: Path
) -> None:
    clips, _ = demo
    video = tmp_path / "film.mp4"
    video.symlink_to(clip_named(clips, "no_face").video_path)
    video.with_suffix(".srt").write_text(
        "1\n00:00:00,500 --> 00:00:02,000\nA sentence said once.\n\n"
        "2\n00:00:00,500 --> 00:00:02,000\nA sentence said once.\n\n"
        "3\n00:00:03,000 --> 00:00:03,000\nA sentence of no time.\n",
        encoding="utf-8",
    )
    dataset = tmp_path / "d"
    first = build_dataset([video], dataset, progress=False).subtitle_counts
    assert sum(first.values()) >= 2  # the duplicate and the zero-length event
    for _ in range(2):
        again = build_dataset([video], dataset, progress=False)
        assert again.chunks_written == 0 and again.subtitle_counts == first
        report = json.loads((dataset / "reports" / "build.json").read_text())
        assert report["subtitle_fixes"] == dict(sorted(first.items()))
    assert summarize(DatasetLayout(dataset)).subtitle_counts == first


def test_kill_during_build_then_resume_equals_uninterrupted(
    demo: tuple[list[DemoClip], Path], tmp_path: Path
) -> None:
    clips, _ = demo
    media = tmp_path / "media"
    media.mkdir()
    for name in ("large_face", "shot_cut", "dialogue", "no_face"):
        clip = clip_named(clips, name)
        for path in (clip.video_path, clip.subtitle_path):
            (media / path.name).symlink_to(path)
    config = tmp_path / "build.yaml"
    config.write_text("chunk_size: 1\n")
    command = [
        sys.executable,
        "-m",
        "empathynet.cli.main",
        "build",
        str(media),
        "--config",
        str(config),
        "--no-progress",
    ]
    reference = tmp_path / "reference"
    subprocess.run([*command, "--out", str(reference)], check=True, capture_output=True)

    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen(
        [*command, "--out", str(interrupted)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    parts = interrupted / "cues"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(parts.glob("part-*.parquet"))) < 3:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_parts = len(list(parts.glob("part-*.parquet")))
    total_parts = len(list((reference / "cues").glob("part-*.parquet")))
    assert 0 < killed_parts < total_parts, "the kill must land in the middle of the build"

    subprocess.run([*command, "--out", str(interrupted)], check=True, capture_output=True)
    assert read_manifest(interrupted) == read_manifest(reference)
    media_files = sorted(p.relative_to(reference) for p in (reference / "media").rglob("*"))
    assert media_files == sorted(
        p.relative_to(interrupted) for p in (interrupted / "media").rglob("*")
    )
    assert not list(interrupted.rglob("*.tmp"))


def test_windows_too_long_to_keep_decode_twice_with_the_same_result(
    demo: tuple[list[DemoClip], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empathynet.pipeline import cues

    clips, dataset = demo
    clip = clip_named(clips, "shot_cut")
    monkeypatch.setattr(cues, "MAX_KEPT_FRAME_BYTES", 1)  # keep no frames: score on the way
    build_dataset([clip.video_path], tmp_path / "d", progress=False)
    assert read_manifest(tmp_path / "d") == rows_of(dataset, clip)


def test_two_workers_write_the_same_rows_as_one(
    demo: tuple[list[DemoClip], Path], tmp_path: Path
) -> None:
    clips, dataset = demo
    chosen = [clip_named(clips, name) for name in ("large_face", "two_faces")]
    # one chunk a source (as in the reference build), so the two run side by side
    build_dataset([c.video_path for c in chosen], tmp_path / "d", workers=2, progress=False)
    rows = read_manifest(tmp_path / "d")
    expected = sorted((r for c in chosen for r in rows_of(dataset, c)), key=lambda r: r.cue_id)
    strip = [dataclasses.replace(r, stage_versions=None) for r in rows]
    assert strip == [dataclasses.replace(r, stage_versions=None) for r in expected]


def test_sentences_past_the_end_of_the_video_are_rejected_as_such(
    demo: tuple[list[DemoClip], Path], tmp_path: Path
) -> None:
    clips, _ = demo
    clip = clip_named(clips, "no_face")
    video = tmp_path / "film.mp4"
    video.symlink_to(clip.video_path)
    end = clip.duration_ms
    video.with_suffix(".srt").write_text(
        "1\n00:00:00,500 --> 00:00:02,000\nA sentence inside.\n\n"
        f"2\n{srt_time(end - 500)} --> {srt_time(end + 1500)}\nA sentence running past the end.\n\n"
        f"3\n{srt_time(end + 5000)} --> {srt_time(end + 7000)}\nA sentence after the end.\n",
        encoding="utf-8",
    )
    build_dataset([video], tmp_path / "d", progress=False)
    reasons = [r.reason for r in sorted(read_manifest(tmp_path / "d"), key=lambda r: r.start_ms)]
    assert reasons == ["no_face", "beyond_end", "beyond_end"]


def test_the_summary_names_each_failed_source_its_reason_and_error(
    demo: tuple[list[DemoClip], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, dataset = demo
    assert main(["inspect", str(dataset)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # paths relative to the input folder the demo build was given
    assert "  failures (2 sources):" in lines
    assert (
        "    corrupt.mp4: corrupt_media, 2 of 2 cues: cannot open as media: "
        "Invalid data found when processing input"
    ) in lines
    assert "    no_audio.mp4: no_audio, 2 of 2 cues: no audio stream: no audio cue can be cut" in (
        lines
    )
    # each reason is listed under its own status
    failed_at = lines.index("  failed: 4")
    assert lines[failed_at + 1 : failed_at + 3] == ["    corrupt_media: 2", "    no_audio: 2"]
    assert lines.index("    dialogue: 2") < failed_at
    report = json.loads((dataset / "reports" / "build.json").read_text())
    assert report["inputs"] == [str(dataset.parent / "media")]
    assert {(f["reason"], Path(f["path"]).name) for f in report["failures"]} == {
        ("corrupt_media", "corrupt.mp4"),
        ("no_audio", "no_audio.mp4"),
    }


def write_dataset(root: Path, sources: list[Source], rows: list[CueGroup]) -> None:
    """A hand-made dataset: its sources and one manifest part of ``rows`` per source."""
    atomic_write_json(root / "dataset.json", {"format": "empathynet-dataset", "format_version": 1})
    atomic_write_table(root / "sources.parquet", records_to_table(sources, SOURCE_SCHEMA))
    for source_id in sorted({row.source_id for row in rows}):
        own = [row for row in rows if row.source_id == source_id]
        part = root / "cues" / f"part-{source_id}-00000.parquet"
        atomic_write_table(part, records_to_table(own, CUE_SCHEMA))
    atomic_write_json(root / "reports" / "build.json", {"inputs": ["movies"]})


def test_the_summary_lists_partly_failed_sources_and_caps_the_list(tmp_path: Path) -> None:
    many = MAX_FAILURES_SHOWN + 5
    sources = [Source(f"s{i:02d}", f"movies/film{i:02d}.mkv") for i in range(many)]
    sources.append(
        Source("sub", "movies/no_subs.mkv", status="failed", reason="subtitles: no text stream")
    )
    rows = [
        CueGroup(f"s{i:02d}-{j}", f"s{i:02d}", 1000 * j, 1000 * j + 900, "Hi.", "accepted")
        for i in range(many)
        for j in range(1, 8)
    ]
    rows += [
        CueGroup(
            f"s{i:02d}-0",
            f"s{i:02d}",
            0,
            900,
            "Hi.",
            "failed",
            reason="media_error",
            error=f"movies/film{i:02d}.mkv, t=0.000s: cannot decode",
        )
        for i in range(many)
    ]
    write_dataset(tmp_path, sources, rows)
    summary = summarize(DatasetLayout(tmp_path))
    lines = summary.lines()
    assert f"  failures ({many + 1} sources):" in lines
    # one failed cue of eight; the error without the path it already follows
    assert (
        "    film00.mkv: media_error, 1 of 8 cues: movies/film00.mkv, t=0.000s: cannot decode"
        in (lines)
    )
    shown = [line for line in lines if line.startswith("    film") or "no_subs" in line]
    assert len(shown) == MAX_FAILURES_SHOWN
    assert "    and 6 more (empathynet inspect --json lists them all)" in lines
    failures = summary.to_dict()["failures"]
    assert len(failures) == many + 1
    assert {
        "path": "movies/no_subs.mkv",
        "reason": "subtitles",
        "error": "no text stream",
        "failed_cues": 0,
        "cues": 0,
    } in failures


def test_inspect_json_counts_the_chunks_on_disk(
    demo: tuple[list[DemoClip], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips, _ = demo
    video = clip_named(clips, "large_face").video_path
    dataset = tmp_path / "d"
    first = build_dataset([video], dataset, EmpathyNetConfig(chunk_size=1), progress=False)
    parts = len(list((dataset / "cues").glob("part-*.parquet")))
    assert parts == 3 and first.chunks_done == first.chunks_written == parts
    again = build_dataset([video], dataset, EmpathyNetConfig(chunk_size=1), progress=False)
    assert (again.chunks_done, again.chunks_written, again.chunks_skipped) == (3, 0, 3)
    assert main(["inspect", str(dataset), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # committed chunks on disk, then what the last build did
    assert (report["chunks_done"], report["chunks_written"], report["chunks_skipped"]) == (3, 0, 3)


@pytest.mark.parametrize(
    "url", ["https://www.youtube.com/watch?v=abc", "http://example.org/film.mp4", "s3://b/f.mkv"]
)
def test_a_url_is_refused_with_what_to_do(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "d"
    with pytest.raises(EmpathyNetError, match=r"a URL is not an input.*yt-dlp"):
        build_dataset([url], out, progress=False)
    assert main(["build", url, "--out", str(out), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"empathynet: error: {url}: a URL is not an input")
    assert "no such file" not in error and "empathynet build film.mp4" in error
    assert not out.exists()


def test_a_failed_build_leaves_no_empty_folder_behind(
    demo: tuple[list[DemoClip], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips, _ = demo
    out = tmp_path / "new" / "dataset"
    assert main(["build", str(tmp_path / "missing.mp4"), "--out", str(out)]) == 2
    assert not (tmp_path / "new").exists()

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "prepare_source", interrupted)
    video = clip_named(clips, "no_face").video_path
    with pytest.raises(KeyboardInterrupt):
        build_dataset([video], out, progress=False)
    assert not (tmp_path / "new").exists()
    # a folder the user had is kept, even empty
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(KeyboardInterrupt):
        build_dataset([video], mine, progress=False)
    assert mine.is_dir() and not any(mine.iterdir())


def test_a_stopped_build_keeps_what_it_wrote(
    demo: tuple[list[DemoClip], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empathynet.pipeline import cues

    clips, _ = demo

    def crashed(*args: object, **kwargs: object) -> object:
        raise RuntimeError("crash in a stage")

    monkeypatch.setattr(cues, "process_chunk", crashed)
    out = tmp_path / "d"
    with pytest.raises(RuntimeError):
        build_dataset([clip_named(clips, "no_face").video_path], out, progress=False)
    assert (out / "sources.parquet").is_file()  # kept: the re-run resumes from it


def test_out_must_be_a_new_or_empty_folder_or_a_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "film.mp4"
    video.write_bytes(b"")
    mine = tmp_path / "mine"
    files = {
        "media/holiday.jpg": "photo",
        "reports/q3.pdf": "pdf",
        "notes/.draft.tmp": "draft",
        "sources.parquet": "not ours",
    }
    for name, text in files.items():
        (mine / name).parent.mkdir(parents=True, exist_ok=True)
        (mine / name).write_text(text)
    assert main(["build", str(video), "--out", str(mine), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"empathynet: error: {mine}: not an EmpathyNet dataset (no dataset.json)")
    assert "new or empty folder" in err and err.count("\n") == 1
    assert {
        p.relative_to(mine).as_posix(): p.read_text() for p in mine.rglob("*") if p.is_file()
    } == (files)
    a_file = tmp_path / "report.txt"
    a_file.write_text("mine")
    assert main(["build", str(video), "--out", str(a_file), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"empathynet: error: {a_file}: is a file, not a folder")
    assert err.count("\n") == 1 and a_file.read_text() == "mine"


def test_overwrite_deletes_only_what_the_dataset_wrote(
    demo_media: list[DemoClip], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = clip_named(demo_media, "no_face").video_path
    dataset = tmp_path / "d"
    assert main(["build", str(video), "--out", str(dataset), "--no-progress"]) == 0
    (source_id,) = pq.read_table(dataset / "sources.parquet").column("source_id").to_pylist()
    old_cue = dataset / "media" / source_id / "old-cue"
    old_cue.mkdir(parents=True)
    (old_cue / "face.mp4").write_bytes(b"from the first build")
    own_temporary = dataset / "cues" / ".part-x-00000.parquet.a1b2c3d4.tmp"
    own_temporary.write_bytes(b"")
    users = {
        "media/holiday.jpg": "photo",
        "reports/q3.pdf": "pdf",
        "notes.txt": "notes",
        "notes/.draft.tmp": "draft",
        "cues/README.md": "readme",
    }
    for name, text in users.items():
        (dataset / name).parent.mkdir(parents=True, exist_ok=True)
        (dataset / name).write_text(text)
    config = tmp_path / "build.yaml"
    config.write_text("chunk_size: 1\n")
    argv = ["build", str(video), "--out", str(dataset), "--config", str(config), "--no-progress"]
    assert main([*argv, "--overwrite"]) == 0
    for name, text in users.items():
        assert (dataset / name).read_text() == text, name
    assert not old_cue.exists() and not own_temporary.exists()
    assert len(list((dataset / "cues").glob("part-*.parquet"))) > 1  # rebuilt in chunks of 1
    capsys.readouterr()


def test_a_dataset_inside_an_input_folder_is_never_an_input(
    demo_media: list[DemoClip], tmp_path: Path
) -> None:
    clip = clip_named(demo_media, "large_face")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in (clip.video_path, clip.subtitle_path):
        (inputs / path.name).symlink_to(path)
    # another dataset in the folder: its clips are not inputs either
    other = inputs / "other"
    (other / "media" / "s" / "c").mkdir(parents=True)
    (other / "media" / "s" / "c" / "face.mp4").symlink_to(
        clip_named(demo_media, "no_face").video_path
    )
    atomic_write_json(
        other / "dataset.json", {"name": "o", "format": "empathynet-dataset", "format_version": 1}
    )
    dataset = inputs / "d"
    first = build_dataset([inputs], dataset, progress=False)
    assert first.sources == 1 and first.status_counts["accepted"] > 0
    assert list((dataset / "media").rglob("face.mp4"))  # clips a re-run could take as inputs
    again = build_dataset([inputs], dataset, progress=False)
    assert again.sources == 1 and again.chunks_written == 0
    assert pq.read_table(dataset / "sources.parquet").column("path").to_pylist() == [
        str(inputs / clip.video_path.name)
    ]


def test_every_file_of_an_input_folder_is_built_or_reported(
    demo_media: list[DemoClip], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12: a sound file was skipped without a line, and a byte-identical copy of a
    video with other subtitles with a stderr line only: both are now in build.json and
    in the summary, with every other file the build did not use."""
    clip = clip_named(demo_media, "no_face")
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "film.mp4").symlink_to(clip.video_path)
    (inputs / "film.srt").symlink_to(clip.subtitle_path)
    (inputs / "film.en.srt").write_text("1\n00:00:00,500 --> 00:00:01,000\nUnused.\n")
    (inputs / "zcopy.mp4").write_bytes(clip.video_path.read_bytes())  # same bytes
    (inputs / "zcopy.srt").write_text("1\n00:00:00,500 --> 00:00:01,000\nOther words.\n")
    (inputs / "voice.m4a").write_bytes(b"\0" * 64)
    (inputs / "notes.txt").write_text("not media")
    (inputs / "orphan.vtt").write_text("WEBVTT\n")
    summary = build_dataset([inputs], tmp_path / "d", progress=False, log=lambda line: None)
    expected = {
        "film.en.srt": "subtitles not used: film.mp4 takes film.srt",
        "notes.txt": "not a video file",
        "orphan.vtt": "subtitles with no video of the same name beside them",
        "voice.m4a": "no video stream (a sound file): a cue needs a face",
        "zcopy.mp4": f"same content as {inputs / 'film.mp4'} (its subtitles differ: "
        "zcopy.srt is not used, film.srt is)",
    }
    assert {Path(s.path).name: s.reason for s in summary.skipped_inputs} == expected
    assert summary.sources == 1
    report = json.loads((tmp_path / "d" / "reports" / "build.json").read_text())
    assert {Path(s["path"]).name: s["reason"] for s in report["skipped_inputs"]} == expected
    assert main(["inspect", str(tmp_path / "d")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  inputs not built from (5 files):" in lines
    assert "    voice.m4a: no video stream (a sound file): a cue needs a face" in lines
    assert f"    zcopy.mp4: {expected['zcopy.mp4']}" in lines
    # the same subtitles (or none beside either): only the content is named
    (inputs / "zcopy.srt").unlink()
    (inputs / "zcopy.srt").symlink_to(clip.subtitle_path)
    again = build_dataset([inputs], tmp_path / "d", progress=False, log=lambda line: None)
    reasons = {Path(s.path).name: s.reason for s in again.skipped_inputs}
    assert reasons["zcopy.mp4"] == f"same content as {inputs / 'film.mp4'}"


def test_sentences_after_the_end_of_the_video_make_one_compact_part(
    demo_media: list[DemoClip], tmp_path: Path
) -> None:
    """Issue 12: 100,000 events on a 3 s video wrote 6,250 parts of beyond_end rows. They
    all go into one part (still a row each: every sentence is accounted for)."""
    clip = clip_named(demo_media, "no_face")
    video = tmp_path / "film.mp4"
    video.symlink_to(clip.video_path)
    end = clip.duration_ms
    events = ["1\n00:00:00,500 --> 00:00:02,000\nA sentence inside.\n"]
    events += [
        f"{n + 2}\n{srt_time(end + 1000 * n)} --> {srt_time(end + 1000 * n + 600)}\nLate {n}.\n"
        for n in range(2000)
    ]
    video.with_suffix(".srt").write_text("\n".join(events), encoding="utf-8")
    started = time.monotonic()
    summary = build_dataset([video], tmp_path / "d", progress=False, log=lambda line: None)
    elapsed = time.monotonic() - started
    parts = sorted((tmp_path / "d" / "cues").glob("part-*.parquet"))
    assert len(parts) == 2, [p.name for p in parts]
    assert pq.read_table(parts[1]).column("reason").to_pylist() == ["beyond_end"] * 2000
    assert summary.utterances == 2001 and summary.reason_counts["beyond_end"] == 2000
    report = json.loads((tmp_path / "d" / "reports" / "build.json").read_text())
    assert report["reasons"]["beyond_end"] == 2000
    assert "    beyond_end: 2000" in summary.lines()
    assert elapsed < 60
    # resuming finds both parts written
    again = build_dataset([video], tmp_path / "d", progress=False, log=lambda line: None)
    assert again.chunks_written == 0 and again.chunks_skipped == 2 and again.utterances == 2001
