"""Audio-visual sync (faces/sync.py): generated series, and real talking-head clips with
their own voice, another clip's voice muxed over them, or their voice delayed by ffmpeg.

The video-retalking clips have no subtitles: the windows here are the speech spans of
../shared/data/README.md; the GRID clips use their hand-made .srt spans.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path
from empathynet.config import FaceConfig
from empathynet.demo import srt_time
from empathynet.faces.detectors import create_detector
from empathynet.faces.sync import MouthSeries, SyncResult, judge_sync, measure_sync
from empathynet.faces.tracking import detect_frames, sample_times_ms, track_faces
from empathynet.media.audio import AudioReader
from empathynet.media.decode import WindowDecoder, select_frames

RATE = 16_000
FRAME_MS = 40

#: (clip, start_ms, end_ms): every speech span of the real talking-head clips.
SPANS = (
    ("videoretalking_face1.mp4", 0, 2350),
    ("videoretalking_face1.mp4", 3530, 4490),
    ("videoretalking_face2.mp4", 0, 1970),
    ("videoretalking_face2.mp4", 2670, 3830),
    ("videoretalking_face4.mp4", 0, 2800),
    ("videoretalking_face4.mp4", 3220, 6600),
    ("videoretalking_face5.mp4", 0, 2600),
    ("videoretalking_face5.mp4", 3700, 4880),
    ("lipnet_grid_bbaf2n.mpg", 400, 2500),
    ("lipnet_grid_lbbc2a.mpg", 450, 2000),
    ("lipnet_grid_swiz3n.mpg", 550, 2750),
)


# -- generated series ---------------------------------------------------------------


def _series(count: int, mouth: np.ndarray) -> MouthSeries:
    firsts = np.arange(count, dtype=np.int64) * FRAME_MS * RATE // 1000
    return MouthSeries(firsts, firsts + FRAME_MS * RATE // 1000, mouth.astype(np.float64))


def _syllables(count: int, seed: int = 0) -> np.ndarray:
    """An irregular syllable envelope (0..1) per 40 ms frame, like speech at ~4 Hz."""
    rng = np.random.default_rng(seed)
    envelope = np.zeros(count)
    frame = 0
    while frame < count:
        length = min(int(rng.integers(3, 8)), count - frame)
        envelope[frame : frame + length] = np.sin(np.linspace(0, np.pi, length)) * rng.uniform(
            0.4, 1.0
        )
        frame += length + int(rng.integers(0, 4))
    return envelope


def _voice(envelope: np.ndarray, delay_ms: int, margin_ms: int) -> np.ndarray:
    """A 600 Hz tone following ``envelope`` (one value per frame), late by ``delay_ms``,
    with ``margin_ms`` of audio before frame 0 and after the last frame."""
    per_frame = FRAME_MS * RATE // 1000
    total = len(envelope) * per_frame + 2 * margin_ms * RATE // 1000
    gain = np.zeros(total)
    start = (margin_ms + delay_ms) * RATE // 1000
    stretched = np.repeat(envelope, per_frame)
    end = min(total, start + stretched.size)
    gain[start:end] = stretched[: end - start]
    t = np.arange(total) / RATE
    noise = np.random.default_rng(1).normal(0, 1e-3, total)
    return (0.3 * gain * np.sin(2 * np.pi * 600 * t) + noise).astype(np.float32)


def test_a_mouth_that_follows_the_voice_is_in_sync_at_offset_zero() -> None:
    envelope = _syllables(60)
    result = judge_sync(_series(60, envelope), _voice(envelope, 0, 1000), -1000)
    assert result.verdict == "in_sync"
    assert result.offset_ms is not None and abs(result.offset_ms) <= 10
    assert result.score is not None and result.score > 0.8
    assert result.frames == 60 and result.searched_ms == (-1000, 1000)


@pytest.mark.parametrize("delay_ms", [120, 200, 400, -300])
def test_a_delayed_voice_is_found_at_its_delay(delay_ms: int) -> None:
    envelope = _syllables(60)
    result = judge_sync(_series(60, envelope), _voice(envelope, delay_ms, 1000), -1000)
    assert result.offset_ms is not None and abs(result.offset_ms - delay_ms) <= 20
    assert result.peak is not None and result.score is not None
    # rejected exactly when the offset is far from 0 and clearly better than near 0
    clearly_better = result.peak - result.score >= FaceConfig().sync_min_margin
    assert (result.verdict == "out_of_sync") == clearly_better
    if delay_ms == 400:  # far from any offset near 0: nothing there correlates
        assert result.verdict == "out_of_sync"


def test_a_voice_that_does_not_follow_the_mouth_is_out_of_sync() -> None:
    mouth = _syllables(60)
    # loud while the mouth is closed, quiet while it is open; these syllables change
    # within 2 frames, so offsets near 0 are taken as half a frame here
    config = FaceConfig(sync_max_offset_ms=20)
    result = judge_sync(_series(60, mouth), _voice(1.0 - mouth, 0, 1000), -1000, RATE, config)
    assert result.verdict == "out_of_sync"
    assert result.score is not None and result.score < FaceConfig().sync_min_score


def test_too_few_frames_or_a_still_mouth_are_not_measured() -> None:
    envelope = _syllables(60)
    voice = _voice(envelope, 0, 1000)
    few = judge_sync(_series(5, envelope[:5]), voice, -1000)
    still = judge_sync(_series(60, np.full(60, -0.4)), voice, -1000)
    for result in (few, still):
        assert result.verdict == "not_measured" and result.offset_ms is None
    # no audio near offset 0 at all (the audio ends before the frames)
    short = judge_sync(_series(60, envelope), voice[: RATE // 2], 0)
    assert short.verdict == "not_measured"


def test_offsets_are_searched_only_where_there_is_audio() -> None:
    envelope = _syllables(60)
    # audio starts with the first frame: no negative offset can be compared
    result = judge_sync(_series(60, envelope), _voice(envelope, 0, 0)[: 2400 * RATE // 1000], 0)
    assert result.searched_ms is not None and result.searched_ms[0] == 0
    assert result.verdict == "in_sync"


def test_sync_settings_are_checked() -> None:
    from empathynet.errors import ConfigError

    with pytest.raises(ConfigError, match="sync_max_offset_ms"):
        FaceConfig(sync_max_offset_ms=2000)
    with pytest.raises(ConfigError, match="sync_min_frames"):
        FaceConfig(sync_min_frames=1)


# -- real clips ---------------------------------------------------------------------


def _ffmpeg() -> str:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def _mux(video: Path, voice: Path, out: Path, delay_s: float = 0.0) -> Path:
    """``video``'s picture with ``voice``'s audio (late by ``delay_s``), video copied."""
    audio_input = ["-itsoffset", f"{delay_s}", "-i", str(voice)] if delay_s else ["-i", str(voice)]
    # MPEG-PS (the GRID clips) carries MP2 audio, MP4 carries AAC
    audio_codec = "mp2" if video.suffix == ".mpg" else "aac"
    command = [_ffmpeg(), "-v", "error", "-y", "-i", str(video), *audio_input]
    command += ["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", audio_codec]
    subprocess.run([*command, "-b:a", "128k", str(out)], check=True)
    return out


def _measure(path: Path, start_ms: int, end_ms: int) -> SyncResult:
    """Sync of the main face over ``[start_ms, end_ms)`` as the cue stage measures it."""
    pytest.importorskip("mediapipe")
    with WindowDecoder(path) as decoder:
        frames = list(decoder.frames(start_ms, end_ms))
        duration_ms = decoder.info.duration_ms
    times = sample_times_ms(start_ms, end_ms, 5)
    sampled = [
        (t, f.to_rgb(width=320, interpolation="AREA")) for t, f in select_frames(frames, times)
    ]
    tracks = track_faces(detect_frames(create_detector(), sampled))
    main = max(tracks, key=lambda track: track.coverage)
    config = FaceConfig()
    margin_start = max(0, start_ms - config.sync_search_ms)
    margin_end = min(end_ms + config.sync_search_ms, max(end_ms, duration_ms))
    with AudioReader(path) as reader:
        audio = reader.read(margin_start, margin_end)
    return measure_sync(frames, main, audio, margin_start, RATE, config)


def _clip(name: str) -> Path:
    return shared_path("video", "talking_head", name)


@pytest.mark.real
@pytest.mark.parametrize(("name", "start_ms", "end_ms"), SPANS)
def test_real_speakers_with_their_own_voice_are_in_sync(
    name: str, start_ms: int, end_ms: int
) -> None:
    result = _measure(_clip(name), start_ms, end_ms)
    assert result.verdict == "in_sync", result
    assert result.frames >= 20 and result.offset_ms is not None


@pytest.mark.real
@pytest.mark.parametrize(
    ("video", "voice", "start_ms", "end_ms"),
    [
        ("videoretalking_face5.mp4", "videoretalking_face2.mp4", 0, 2600),
        ("videoretalking_face4.mp4", "videoretalking_face2.mp4", 0, 2800),
        ("videoretalking_face4.mp4", "videoretalking_face1.mp4", 0, 2800),
        ("lipnet_grid_swiz3n.mpg", "videoretalking_face5.mp4", 550, 2750),
    ],
)
def test_another_persons_voice_is_out_of_sync(
    tmp_path: Path, video: str, voice: str, start_ms: int, end_ms: int
) -> None:
    dubbed = _mux(_clip(video), _clip(voice), tmp_path / f"dubbed{_clip(video).suffix}")
    result = _measure(dubbed, start_ms, end_ms)
    assert result.verdict == "out_of_sync", result
    assert result.score is not None and result.score < FaceConfig().sync_min_score


@pytest.mark.real
@pytest.mark.parametrize(
    ("name", "start_ms", "end_ms"),
    [
        ("videoretalking_face5.mp4", 0, 2600),
        ("videoretalking_face2.mp4", 2670, 3830),
        ("lipnet_grid_bbaf2n.mpg", 400, 2500),
    ],
)
def test_a_200_ms_audio_delay_is_measured_within_one_frame(
    tmp_path: Path, name: str, start_ms: int, end_ms: int
) -> None:
    clip = _clip(name)
    original = _measure(clip, start_ms, end_ms)
    delayed = _measure(_mux(clip, clip, tmp_path / f"late{clip.suffix}", 0.2), start_ms, end_ms)
    assert original.offset_ms is not None and abs(original.offset_ms) <= 40, original
    # one frame at 25 fps: the tolerance these clips reach (see faces/sync.py)
    assert delayed.offset_ms is not None and abs(delayed.offset_ms - 200) <= 40, delayed


# -- through the build --------------------------------------------------------------


@pytest.mark.real
def test_the_build_rejects_a_dubbed_voice_and_keeps_the_original(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    from empathynet.pipeline.build import build_dataset, read_manifest

    face5, face2 = _clip("videoretalking_face5.mp4"), _clip("videoretalking_face2.mp4")
    media = tmp_path / "media"
    media.mkdir()
    _mux(face5, face5, media / "original.mp4")
    _mux(face5, face2, media / "dubbed.mp4")
    # made here: one sentence over face5's first speech span (0-2.60 s, data README)
    subtitle = f"1\n{srt_time(0)} --> {srt_time(2600)}\nFace five speaks its first sentence.\n"
    for stem in ("original", "dubbed"):
        (media / f"{stem}.srt").write_text(subtitle, encoding="utf-8")
    build_dataset([media], tmp_path / "dataset", progress=False)
    rows = read_manifest(tmp_path / "dataset")
    assert len(rows) == 2
    by_reason = {row.reason: row for row in rows}
    dubbed = by_reason["out_of_sync"]
    original = by_reason[None]
    assert original.status == "accepted" and dubbed.status == "rejected"
    assert original.source_id != dubbed.source_id
    assert original.checks.sync_offset_ms is not None and abs(original.checks.sync_offset_ms) <= 40
    assert original.checks.sync_score is not None and original.checks.sync_score > 0.2
    dubbed_score = dubbed.checks.sync_score
    assert dubbed_score is not None and dubbed_score < FaceConfig().sync_min_score
    assert dubbed.checks.sync_offset_ms is not None
