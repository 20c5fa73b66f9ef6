"""probe() and content_hash() on generated and real media; damaged files fail clearly."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from empathynet.data.models import Source
from empathynet.errors import CorruptMediaError, NoVideoStreamError
from empathynet.media.probe import content_hash, probe

from .media_helpers import ffmpeg, truncated_copy


def test_probe_generated_video(lavfi_video: Path) -> None:
    info = probe(lavfi_video)
    assert info.duration_ms == 4000
    assert info.format_name.startswith("mov,mp4")
    video = info.video
    assert (video.width, video.height) == (640, 360)
    assert video.fps == 25
    assert not video.variable_frame_rate
    assert video.rotation == 0
    assert video.codec == "h264"
    assert video.time_base == Fraction(1, 12800)
    assert video.frame_count == 100
    assert len(info.audio_streams) == 1
    assert info.audio is not None
    assert (info.audio.sample_rate, info.audio.channels, info.audio.codec) == (44100, 1, "aac")
    Source(source_id="x", path=str(lavfi_video), **info.source_fields())  # fields fit the model


def test_probe_variable_frame_rate(make_media: Callable[..., Path]) -> None:
    # Every third frame dropped, timestamps kept: steps of 1 and 2 frames.
    path = make_media(
        "vfr.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
        "-vf", "select='not(eq(mod(n\\,3)\\,2))'", "-fps_mode", "vfr", "-c:v", "libx264",
    )  # fmt: skip
    info = probe(path)
    assert info.video.variable_frame_rate
    assert info.video.fps == Fraction(67, 4)  # 67 frames in 4 s


def test_probe_rotation(lavfi_video: Path, media_dir: Path) -> None:
    rotated = media_dir / "rotated.mp4"
    # -display_rotation is counter-clockwise; a player then turns the picture 270° clockwise.
    ffmpeg("-display_rotation", "90", "-i", str(lavfi_video), "-c", "copy", str(rotated))
    info = probe(rotated)
    assert info.video.rotation == 270
    assert (info.video.width, info.video.height) == (640, 360)
    assert info.video.display_size == (360, 640)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.mp4"
    with pytest.raises(CorruptMediaError, match=r"nothing\.mp4: cannot open media: file not found"):
        probe(missing)
    with pytest.raises(CorruptMediaError, match="is a directory"):
        probe(tmp_path)


def test_not_media(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("these are not the frames you are looking for\n" * 50)
    with pytest.raises(CorruptMediaError) as caught:
        probe(text)
    message = str(caught.value)
    assert "notes.mp4" in message and "\n" not in message


def test_truncated_mp4_without_index(lavfi_video: Path, tmp_path: Path) -> None:
    # ffmpeg writes the MP4 index (moov) last: half a file has none.
    broken = truncated_copy(lavfi_video, tmp_path / "half.mp4", 0.5)
    with pytest.raises(CorruptMediaError, match=r"half\.mp4: cannot open as media"):
        probe(broken)


def test_audio_only_file_has_no_video(make_media: Callable[..., Path]) -> None:
    path = make_media(
        "voice.m4a", "-f", "lavfi", "-i", "sine=frequency=300:duration=1", "-c:a", "aac"
    )
    with pytest.raises(NoVideoStreamError, match=r"voice\.m4a: no video stream"):
        probe(path)


def test_content_hash(lavfi_video: Path, tmp_path: Path) -> None:
    digest = content_hash(lavfi_video)
    assert len(digest) == 16 and int(digest, 16) >= 0
    renamed = shutil.copyfile(lavfi_video, tmp_path / "renamed.mp4")
    assert content_hash(renamed) == digest
    changed = bytearray(renamed.read_bytes())
    changed[len(changed) // 2] ^= 0xFF
    renamed.write_bytes(bytes(changed))
    assert content_hash(renamed) != digest


def test_content_hash_large_file_reads_samples(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    size = 40 * 1024 * 1024
    with big.open("wb") as handle:
        handle.truncate(size)
    digest = content_hash(big)
    with big.open("r+b") as handle:  # the tail is always hashed
        handle.seek(size - 10)
        handle.write(b"x")
    assert content_hash(big) != digest
    with pytest.raises(CorruptMediaError, match="cannot read file"):
        content_hash(tmp_path / "absent.bin")


# -- real files ---------------------------------------------------------------------

REAL_VIDEOS = {
    # name: (duration ms, fps, variable frame rate, display size, audio streams)
    "talking_head/videoretalking_face1.mp4": (6133, Fraction(1350, 61), True, (700, 700), 1),
    "talking_head/videoretalking_face2.mp4": (5015, Fraction(25), False, (844, 844), 1),
    "talking_head/videoretalking_face4.mp4": (6633, Fraction(30), False, (700, 700), 1),
    "talking_head/videoretalking_face5.mp4": (4880, Fraction(25), False, (524, 524), 1),
    "talking_head/lipnet_grid_bbaf2n.mpg": (2980, Fraction(25), False, (360, 288), 1),
    "talking_head/lipnet_grid_lbbc2a.mpg": (2980, Fraction(25), False, (360, 288), 1),
    "talking_head/lipnet_grid_swiz3n.mpg": (2980, Fraction(25), False, (360, 288), 1),
    "negative/moviepy_doc_medias_example.mp4": (2000, Fraction(25), False, (640, 480), 0),
    "negative/moviepy_doc_medias_example2.mp4": (2012, Fraction(24), False, (1280, 720), 1),
    "negative/moviepy_chaplin.mp4": (9640, Fraction(25), False, (640, 360), 1),
    "negative/moviepy_smpte-2997.mp4": (10048, Fraction(25), False, (1920, 1080), 1),
    "negative/moviepy_video_with_failing_audio.mp4": (11233, Fraction(25), False, (640, 360), 1),
}


@pytest.mark.real
@pytest.mark.parametrize("name", sorted(REAL_VIDEOS))
def test_probe_real_videos(shared_data: Path, name: str) -> None:
    path = shared_data / "video" / name
    if not path.exists():
        pytest.skip(f"real test material not found: {path}")
    duration_ms, fps, variable, display_size, audio_streams = REAL_VIDEOS[name]
    info = probe(path)
    assert info.duration_ms == duration_ms
    assert info.video.fps == fps
    assert info.video.variable_frame_rate is variable
    assert info.video.display_size == display_size
    assert info.video.rotation == 0
    assert len(info.audio_streams) == audio_streams
    if audio_streams:
        assert info.audio is not None and info.audio.sample_rate in (44100, 48000)
