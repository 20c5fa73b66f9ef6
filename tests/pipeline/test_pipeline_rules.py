"""Each selection rule of the cue stage, on its own tiny generated case: the rule fires
with its own reason (and no other rule stands in for it).

The demo set covers no_face, face_too_small, several_faces, shot_cut, dialogue and the
broken sources; here: overlap, too_short, too_long, face_partial (a face panned out of
the frame, no cut), a shot cut that the same face continues across (accepted), and a
media error while extracting (a failed row with its own reason).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from empathynet.config import EmpathyNetConfig, FaceConfig, SelectConfig
from empathynet.data.models import CueGroup
from empathynet.demo import DemoClip, make_clip
from empathynet.errors import (
    CorruptMediaError,
    EmpathyNetError,
    MediaError,
    NoAudioStreamError,
    NoVideoStreamError,
)
from empathynet.pipeline import cues
from empathynet.pipeline.build import build_dataset, read_manifest

pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> DemoClip:
    """One large speaking face, two sentences (400-1598 ms, 2298-3749 ms), 4.36 s."""
    return make_clip(tmp_path_factory.mktemp("rules") / "source" / "face.mp4")


def build_rows(
    tmp_path: Path, video: Path, config: EmpathyNetConfig | None = None
) -> list[CueGroup]:
    build_dataset([video], tmp_path / "dataset", config, progress=False, log=lambda line: None)
    return sorted(read_manifest(tmp_path / "dataset"), key=lambda r: (r.start_ms, r.text))


def with_subtitles(clip: DemoClip, folder: Path, srt: str) -> Path:
    """A link to ``clip``'s video in ``folder`` with its own sidecar SRT."""
    folder.mkdir(parents=True)
    video = folder / "film.mp4"
    video.symlink_to(clip.video_path)
    video.with_suffix(".srt").write_text(srt, encoding="utf-8")
    return video


def ffmpeg_filtered(clip: DemoClip, folder: Path, *video_filter: str) -> Path:
    """``clip`` re-encoded through an FFmpeg video filter (audio copied), with its SRT."""
    folder.mkdir(parents=True)
    out = folder / "film.mp4"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(clip.video_path)]
    command += [*video_filter, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy"]
    subprocess.run([*command, str(out)], check=True)
    shutil.copy(clip.subtitle_path, out.with_suffix(".srt"))
    return out


def test_overlap_too_short_and_too_long_each_name_their_rule(
    clip: DemoClip, tmp_path: Path
) -> None:
    # Two events with the same start are both on screen (kept overlapping by the
    # subtitle fixer); the other two fall outside 1000..1600 ms.
    srt = (
        "1\n00:00:00,100 --> 00:00:00,800\nHi.\n\n"
        "2\n00:00:01,000 --> 00:00:02,500\nFirst voice here.\n\n"
        "3\n00:00:01,000 --> 00:00:02,400\nSecond voice here.\n\n"
        "4\n00:00:02,600 --> 00:00:04,300\nIt is a lovely day.\n"
    )
    video = with_subtitles(clip, tmp_path / "media", srt)
    config = EmpathyNetConfig(select=SelectConfig(min_duration_ms=1000, max_duration_ms=1600))
    rows = build_rows(tmp_path, video, config)
    assert {(r.text, r.status, r.reason) for r in rows} == {
        ("Hi.", "rejected", "too_short"),
        ("First voice here.", "rejected", "overlap"),
        ("Second voice here.", "rejected", "overlap"),
        ("It is a lovely day.", "rejected", "too_long"),
    }
    # Rejected by the rules alone: no face was looked for, no media written.
    assert all(r.face.coverage is None and r.media.audio_path is None for r in rows)


def test_the_same_sentences_pass_those_rules_when_they_are_switched_off(
    clip: DemoClip, tmp_path: Path
) -> None:
    """The control of the test above: the reasons come from the rules, not the media."""
    srt = (
        "1\n00:00:01,000 --> 00:00:02,500\nFirst voice here.\n\n"
        "2\n00:00:01,000 --> 00:00:02,400\nSecond voice here.\n"
    )
    video = with_subtitles(clip, tmp_path / "media", srt)
    config = EmpathyNetConfig(select=SelectConfig(reject_overlap=False))
    rows = build_rows(tmp_path, video, config)
    assert len(rows) == 2 and all(r.reason != "overlap" for r in rows)
    assert all(r.face.coverage is not None for r in rows)  # they reached the face rules


def test_a_face_that_leaves_the_frame_is_face_partial(clip: DemoClip, tmp_path: Path) -> None:
    second = clip.sentences[1]
    leave_s = (second.start_ms + 300) / 1000
    # Pan the picture out to the left (over 0.4 s, no cut): the face is gone for the
    # rest of the second sentence.
    pan = f"pad=iw*2:ih:0:0:black,crop=iw/2:ih:'min(iw/2,max(0,(t-{leave_s})*1600))':0"
    video = ffmpeg_filtered(clip, tmp_path / "media", "-vf", pan)
    first_row, second_row = build_rows(tmp_path, video)
    assert first_row.status == "accepted" and first_row.face.coverage == 1.0
    assert second_row.start_ms == second.start_ms
    assert (second_row.status, second_row.reason) == ("rejected", "face_partial")
    assert second_row.checks.shot_cuts == 0  # not a cut: the pan is gradual
    coverage = second_row.face.coverage
    assert coverage is not None and 0 < coverage < FaceConfig().min_track_coverage


def test_the_same_face_across_a_cut_inside_a_sentence_is_accepted(
    clip: DemoClip, tmp_path: Path
) -> None:
    second = clip.sentences[1]
    cut_s = (second.start_ms + 700) / 1000
    # A zoom cut: from the cut on, the picture is the same shot scaled by 1.2 (a second
    # camera closer in). Every pixel changes at once (a real cut); the face is the same.
    zoom = (
        "[0:v]split[a][b];[b]scale=iw*1.2:ih*1.2,crop=640:360[z];"
        f"[a][z]overlay=enable='gte(t,{cut_s})'"
    )
    video = ffmpeg_filtered(clip, tmp_path / "media", "-filter_complex", zoom)
    first_row, second_row = build_rows(tmp_path, video)
    assert first_row.status == "accepted" and first_row.checks.shot_cuts == 0
    assert second_row.checks.shot_cuts == 1, "the zoom cut was not detected as a cut"
    assert (second_row.status, second_row.reason) == ("accepted", None)


def test_a_media_error_while_extracting_fails_the_row_with_its_own_reason(
    clip: DemoClip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_encoder(path: Path, *args: Any, **kwargs: Any) -> None:
        raise MediaError("could not encode the clip: encoder crashed", path=path)

    monkeypatch.setattr(cues, "encode_clip", broken_encoder)
    rows = build_rows(tmp_path, clip.video_path)
    assert len(rows) == len(clip.sentences) == 2
    for row in rows:
        assert (row.status, row.reason) == ("failed", "media_error")
        assert row.error is not None and "encoder crashed" in row.error
        assert "\n" not in row.error and str(tmp_path) not in row.error


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (NoAudioStreamError("no audio stream"), "no_audio"),
        (NoVideoStreamError("no video stream"), "no_video"),
        (CorruptMediaError("truncated"), "corrupt_media"),
        (MediaError("encoder crashed"), "media_error"),
        (EmpathyNetError("something else"), "error"),
        (ValueError("a bug"), "internal_error"),
    ],
)
def test_each_failure_class_has_its_own_reason(error: BaseException, reason: str) -> None:
    assert cues.failure_reason(error) == reason
