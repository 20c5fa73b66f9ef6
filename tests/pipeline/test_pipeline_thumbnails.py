"""Why a sentence was rejected: the thumbnail and the figures a rejected row records.

Rows a media check rejected have a small JPEG of the frame nearest the sentence's middle
(one the stage decoded for detection), the boxes of the faces found in it, and what was
measured against the thresholds of ``dataset.json``'s build options.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from PIL import Image

from empathynet.config import FaceConfig, from_mapping
from empathynet.data.models import CueGroup, FaceBox
from empathynet.demo import DemoClip
from empathynet.faces.size import size_fraction
from empathynet.faces.tracking import iou, sample_times_ms
from empathynet.pipeline import cues
from empathynet.pipeline.build import build_dataset, read_manifest
from empathynet.store.atomic import atomic_write_table
from empathynet.store.check import check_dataset
from empathynet.store.dataset import open_dataset
from empathynet.store.layout import DatasetLayout
from empathynet.store.removals import remove_from_dataset

pytest.importorskip("mediapipe")

#: The reasons rules 0-3 give without decoding: such rows have no thumbnail.
RULE_REASONS = {"beyond_end", "dialogue", "overlap", "too_short", "too_long"}

#: Columns stage version 4 added: a part written before has none of them.
NEW_COLUMNS = (
    "face_size_fraction",
    "thumb_face_boxes",
    "shot_cut_ms",
    "mouth_activity",
    "voiced_fraction",
    "speaking_method",
    "thumb_path",
    "thumb_ms",
)


def rows_of(dataset: Path, clip: DemoClip) -> list[CueGroup]:
    sources = pq.read_table(dataset / "sources.parquet").to_pylist()
    source_id = next(s["source_id"] for s in sources if Path(s["path"]) == clip.video_path)
    return sorted(
        (r for r in read_manifest(dataset) if r.source_id == source_id), key=lambda r: r.start_ms
    )


def clip_named(clips: list[DemoClip], name: str) -> DemoClip:
    return next(c for c in clips if c.name == name)


def face_config(dataset: Path) -> FaceConfig:
    """The face options the dataset was built with, as a report reads them."""
    info = json.loads((dataset / "dataset.json").read_text())
    return from_mapping(FaceConfig, info["build_config"]["faces"])


def media_rejected(rows: list[CueGroup]) -> list[CueGroup]:
    return [r for r in rows if r.status == "rejected" and r.reason not in RULE_REASONS]


def demo_box(clip: DemoClip, time_ms: int, face: int = 0) -> FaceBox:
    """The generator's face box at ``time_ms`` as fractions of the frame."""
    shot = next(s for s in clip.shots if s.start_ms <= time_ms < s.end_ms)
    box = shot.face_boxes[face]
    return FaceBox(
        x=box.x / clip.width,
        y=box.y / clip.height,
        width=box.width / clip.width,
        height=box.height / clip.height,
        score=1.0,
    )


def test_every_media_rejected_row_has_a_small_thumbnail_of_its_middle(
    demo: tuple[list[DemoClip], Path],
) -> None:
    _, dataset = demo
    rows = read_manifest(dataset)
    rejected = media_rejected(rows)
    reasons = {r.reason for r in rejected}
    assert {"no_face", "face_too_small", "several_faces", "shot_cut", "not_speaking"} <= reasons
    sample_fps = face_config(dataset).sample_fps
    for row in rejected:
        media = row.media
        assert media.thumb_path == f"media/{row.source_id}/{row.cue_id}/{cues.THUMB_NAME}"
        path = dataset / media.thumb_path
        with Image.open(path) as image:
            image.load()
            assert image.format == "JPEG" and image.mode == "RGB"
            assert image.width == cues.THUMB_WIDTH  # the demo is 640 px wide
            assert image.height == round(cues.THUMB_WIDTH * 360 / 640)
        assert media.media_files == (media.thumb_path,)
        assert media.media_bytes == (path.stat().st_size,)
        # The sampled frame nearest the middle: a detection sample time in the sentence.
        middle = (row.start_ms + row.end_ms) / 2
        assert media.thumb_ms in sample_times_ms(row.start_ms, row.end_ms, sample_fps)
        assert abs(media.thumb_ms - middle) <= 1000 / sample_fps / 2
        assert media.still_paths == () and media.face_clip_path is None
    media_folders = {p.name for p in (dataset / "media").glob("*/*") if p.is_dir()}
    assert {r.cue_id for r in rejected} <= media_folders


def test_rule_rejected_and_failed_rows_have_no_thumbnail(
    demo: tuple[list[DemoClip], Path],
) -> None:
    _, dataset = demo
    rows = read_manifest(dataset)
    undecoded = [
        r
        for r in rows
        if r.status == "failed" or (r.status == "rejected" and r.reason in RULE_REASONS)
    ]
    assert {r.status for r in undecoded} == {"rejected", "failed"}
    assert any(r.reason == "dialogue" for r in undecoded)
    for row in undecoded:
        assert row.media.thumb_path is None and row.media.media_files == ()
        assert row.face.thumb_boxes == ()
        assert not (dataset / "media" / row.source_id / row.cue_id).exists()
    assert all(r.media.thumb_path is None for r in rows if r.status == "accepted")


def test_face_too_small_records_the_small_face_in_the_thumbnail(
    demo: tuple[list[DemoClip], Path],
) -> None:
    clips, dataset = demo
    faces = face_config(dataset)
    clip = clip_named(clips, "small_face")
    rows = rows_of(dataset, clip)
    assert rows and all(r.reason == "face_too_small" for r in rows)
    for row in rows:
        size = row.face.size_fraction
        assert size is not None and size < faces.large_fraction
        assert row.face.fraction_min is not None and row.face.fraction_min <= size
        (box,) = row.face.thumb_boxes  # one face, found where the generator put it
        assert size_fraction(box, faces.size_measure) < faces.large_fraction
        assert row.media.thumb_ms is not None
        assert iou(box, demo_box(clip, row.media.thumb_ms)) > 0.5


def test_several_faces_records_every_face_of_the_thumbnail(
    demo: tuple[list[DemoClip], Path],
) -> None:
    clips, dataset = demo
    faces = face_config(dataset)
    clip = clip_named(clips, "two_faces")
    rows = rows_of(dataset, clip)
    assert rows and all(r.reason == "several_faces" for r in rows)
    for row in rows:
        boxes = row.face.thumb_boxes
        assert len(boxes) == 2
        assert all(size_fraction(b, faces.size_measure) >= faces.large_fraction for b in boxes)
        assert row.media.thumb_ms is not None
        expected = [demo_box(clip, row.media.thumb_ms, face) for face in (0, 1)]
        assert all(max(iou(b, e) for b in boxes) > 0.5 for e in expected)


def test_no_face_has_a_thumbnail_without_boxes(demo: tuple[list[DemoClip], Path]) -> None:
    clips, dataset = demo
    rows = rows_of(dataset, clip_named(clips, "no_face"))
    assert rows and all(r.reason == "no_face" for r in rows)
    for row in rows:
        assert row.media.thumb_path is not None
        assert row.face.thumb_boxes == () and row.face.size_fraction is None


def test_shot_cut_records_where_the_cut_is(demo: tuple[list[DemoClip], Path]) -> None:
    clips, dataset = demo
    clip = clip_named(clips, "shot_cut")
    (row,) = [r for r in rows_of(dataset, clip) if r.reason == "shot_cut"]
    (cut_ms,) = [c for c in clip.cuts_ms if row.start_ms < c < row.end_ms]
    assert row.checks.shot_cuts == 1
    assert row.checks.shot_cut_ms is not None
    assert row.start_ms < row.checks.shot_cut_ms < row.end_ms
    assert abs(row.checks.shot_cut_ms - cut_ms) <= 1000 // clip.fps  # within a frame
    # Rows without a cut inside record none.
    others = [r for r in rows_of(dataset, clip) if r is not row and r.checks.shot_cuts == 0]
    assert others and all(r.checks.shot_cut_ms is None for r in others)


def test_not_speaking_records_what_the_rule_compared(demo: tuple[list[DemoClip], Path]) -> None:
    clips, dataset = demo
    faces = face_config(dataset)
    rows = rows_of(dataset, clip_named(clips, "dialogue"))
    (row,) = [r for r in rows if r.reason == "not_speaking"]
    checks = row.checks
    assert checks.speaking_score is not None and -1.0 <= checks.speaking_score <= 1.0
    assert checks.speaking_method in ("landmarks", "pixels")

    def clear_non_speaker(row: CueGroup) -> bool:
        """The rule of faces/speaking.py, from the row's figures and the build options."""
        checks = row.checks
        assert checks.mouth_activity is not None and checks.voiced_fraction is not None
        still = (
            faces.speaking_still_threshold
            if checks.speaking_method == "landmarks"
            else faces.speaking_pixel_still_threshold
        )
        voiced = checks.voiced_fraction >= faces.speaking_min_voiced_fraction
        return voiced and checks.mouth_activity < still

    assert clear_non_speaker(row)
    assert len(row.face.thumb_boxes) == 1 and row.media.thumb_path is not None
    # The accepted rows of the clip were measured too, and are speakers by the same rule.
    accepted = [r for r in rows if r.status == "accepted"]
    assert accepted and not any(clear_non_speaker(r) for r in accepted)


def test_check_verifies_the_thumbnails(demo: tuple[list[DemoClip], Path], tmp_path: Path) -> None:
    _, dataset = demo
    report = check_dataset(dataset)
    assert report.ok, report.lines()
    rows = read_manifest(dataset)
    assert report.media_files == sum(len(r.media.media_files) for r in rows)
    # A copy with one thumbnail cut short and one deleted: both found, both repaired.
    copy = tmp_path / "dataset"
    shutil.copytree(dataset, copy)
    cut, gone = media_rejected(rows)[:2]
    assert cut.media.thumb_path is not None and gone.media.thumb_path is not None
    (copy / cut.media.thumb_path).write_bytes(b"\xff\xd8")
    (copy / gone.media.thumb_path).unlink()
    found = check_dataset(copy)
    assert {(p.kind, p.path) for p in found.problems} == {
        ("media_size", cut.media.thumb_path),
        ("missing_media", gone.media.thumb_path),
    }
    repaired = check_dataset(copy, repair=True)
    assert repaired.ok
    assert not (copy / "media" / cut.source_id / cut.cue_id).exists()


def test_removing_a_rejected_row_removes_its_thumbnail(
    demo: tuple[list[DemoClip], Path], tmp_path: Path
) -> None:
    _, dataset = demo
    copy = tmp_path / "dataset"
    shutil.copytree(dataset, copy)
    row = media_rejected(read_manifest(copy))[0]
    folder = copy / "media" / row.source_id / row.cue_id
    assert folder.is_dir()
    result = remove_from_dataset(copy, cue_ids=[row.cue_id], reason="test")
    assert result.counts.media_folders == 1 and not folder.exists()
    assert check_dataset(copy).ok


def test_parts_of_stage_3_still_read_and_resume(
    demo: tuple[list[DemoClip], Path], tmp_path: Path
) -> None:
    """A dataset built before thumbnails: its parts lack the new columns. Readers and
    ``check`` take them, and a resumed build adds stage-4 parts beside them."""
    clips, dataset = demo
    copy = tmp_path / "dataset"
    shutil.copytree(dataset, copy)
    layout = DatasetLayout(copy)
    parts = layout.cue_parts()
    for part in parts:
        table = pq.read_table(part)
        table = table.drop_columns([c for c in NEW_COLUMNS if c in table.column_names])
        versions = [
            v.replace("cues@4+", "cues@3+") for v in table.column("stage_versions").to_pylist()
        ]
        table = table.set_column(
            table.column_names.index("stage_versions"), "stage_versions", [versions]
        )
        accepted = pc.equal(table.column("status"), "accepted")
        for name in ("media_files", "media_bytes"):  # rejected rows named no media
            column = table.column(name)
            empty = pa.array([[]] * table.num_rows, column.type)
            table = table.set_column(
                table.column_names.index(name), name, pc.if_else(accepted, column, empty)
            )
        atomic_write_table(part, table)
    # Old rejected rows named no media and had no folder.
    old_rows = read_manifest(copy)
    for row in media_rejected(old_rows):
        shutil.rmtree(copy / "media" / row.source_id / row.cue_id)
    assert all(r.media.thumb_path is None for r in old_rows)
    assert len(list(open_dataset(copy).cues(status=None))) == len(old_rows)
    assert check_dataset(copy).ok
    # Resume: the chunk of the shot cut is built again, by this version.
    shot_cut = clip_named(clips, "shot_cut")
    redone = next(r for r in rows_of(copy, shot_cut) if r.reason == "shot_cut")
    (part,) = [p for p in parts if redone.cue_id in pq.read_table(p).column("cue_id").to_pylist()]
    part.unlink()
    build_dataset([clips[0].video_path.parent], copy, progress=False, log=lambda line: None)
    rows = read_manifest(copy)
    assert len(rows) == len(old_rows)
    new = next(r for r in rows if r.cue_id == redone.cue_id)
    assert new.stage_versions is not None and new.stage_versions.startswith("cues@4+")
    assert new.media.thumb_path is not None and new.checks.shot_cut_ms is not None
    assert any(r.stage_versions.startswith("cues@3+") for r in rows if r.stage_versions)
    assert check_dataset(copy).ok
