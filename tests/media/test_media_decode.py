"""WindowDecoder: the right frames (by their pixels), exact intervals, seeking and errors."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from empathynet.errors import CorruptMediaError
from empathynet.faces.tracking import sample_times_ms
from empathynet.media.decode import WindowDecoder, select_frames, times_shown

from .media_helpers import INDEXED_FPS, INDEXED_FRAMES, ffmpeg, read_index, truncated_copy


def expected_indices(start_ms: int, end_ms: int, fps: int = INDEXED_FPS) -> list[int]:
    """Frames of a constant-rate stream on screen during [start_ms, end_ms)."""
    first = start_ms * fps // 1000
    last = math.ceil(Fraction(end_ms * fps, 1000)) - 1
    return list(range(first, min(last, INDEXED_FRAMES - 1) + 1))


@pytest.mark.parametrize(
    ("start_ms", "end_ms"),
    [(0, 100), (1010, 2530), (1960, 2040), (2000, 2040), (2001, 2041), (3950, 4000)],
)
def test_window_frames_are_the_frames_on_screen(
    indexed_video: Path, start_ms: int, end_ms: int
) -> None:
    with WindowDecoder(indexed_video) as decoder:
        frames = list(decoder.frames(start_ms, end_ms))
    shown = [read_index(f.to_gray()) for f in frames]
    assert shown == expected_indices(start_ms, end_ms)
    assert [f.pts for f in frames] == [i * 512 for i in shown]  # 1/12800 time base
    assert frames[0].covers(start_ms)
    assert frames[-1].covers(end_ms - 1)
    for before, after in itertools.pairwise(frames):
        assert before.end == after.start  # contiguous, exact
    assert all(f.end - f.start == Fraction(1, 25) for f in frames)


def test_windows_in_any_order_match_fresh_decoders(indexed_video: Path) -> None:
    windows = [(100, 700), (700, 1000), (1000, 1200), (1900, 2100), (3500, 3999), (300, 500)]
    with WindowDecoder(indexed_video) as shared:
        together = [[f.pts for f in shared.frames(*w)] for w in windows]
        seeks = shared.seeks
    with WindowDecoder(indexed_video, continue_gap=Fraction(0)) as seeking:
        assert [[f.pts for f in seeking.frames(*w)] for w in windows] == together
        assert seeking.seeks == 4  # the first, and every window beyond the decoded frames
    alone = []
    for window in windows:
        with WindowDecoder(indexed_video) as fresh:
            alone.append([f.pts for f in fresh.frames(*window)])
    assert together == alone
    # Abutting windows at a frame boundary share no frame; mid-frame they share one.
    assert together[0][-1] == 17 * 512 and together[1][0] == 17 * 512
    # Forward windows reuse the position; only the first and the backward one seek.
    assert seeks == 2


def test_frames_before_a_window_skip_non_reference_frames(indexed_video: Path) -> None:
    with WindowDecoder(indexed_video) as decoder:
        frames = list(decoder.frames(1900, 2000))
        # The seek lands on the keyframe at 0; of the 47 frames before the window, the
        # non-reference B-frames are not decoded (all of them are with threads=False too).
        assert decoder.decoded_frames < 40
    assert [read_index(f.to_gray()) for f in frames] == [47, 48, 49]


def test_partially_consumed_window_then_next(indexed_video: Path) -> None:
    with WindowDecoder(indexed_video) as decoder:
        first = next(iter(decoder.frames(0, 2000)))  # abandon the window early
        assert read_index(first.to_gray()) == 0
        frames = list(decoder.frames(2480, 2600))
    assert [read_index(f.to_gray()) for f in frames] == expected_indices(2480, 2600)


def test_window_past_the_end_yields_what_exists(indexed_video: Path) -> None:
    with WindowDecoder(indexed_video) as decoder:
        frames = list(decoder.frames(3900, 9000))
        assert [f.pts // 512 for f in frames] == [97, 98, 99]
        assert list(decoder.frames(5000, 6000)) == []


def test_window_after_the_end_does_not_seek(indexed_video: Path) -> None:
    with WindowDecoder(indexed_video) as decoder:
        assert list(decoder.frames(60_000, 61_000)) == []
        assert decoder.seeks == 0


def test_empty_window_is_a_programming_error(indexed_video: Path) -> None:
    with WindowDecoder(indexed_video) as decoder, pytest.raises(ValueError, match="empty"):
        list(decoder.frames(1000, 1000))


def test_to_rgb_sizes_and_rotation(lavfi_video: Path, media_dir: Path) -> None:
    rotated = media_dir / "rotated_decode.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(lavfi_video), "-c", "copy", str(rotated))
    with WindowDecoder(lavfi_video) as plain, WindowDecoder(rotated) as turned:
        upright = next(iter(plain.frames(1000, 1040)))
        shown = next(iter(turned.frames(1000, 1040)))
    assert upright.to_rgb().shape == (360, 640, 3)
    assert upright.to_rgb(width=160).shape == (90, 160, 3)
    assert upright.to_gray(height=45).shape == (45, 80)
    assert shown.display_size == (360, 640)
    picture = shown.to_rgb()
    assert picture.shape == (640, 360, 3)
    # Same stored picture; the rotated file shows it turned 90° counter-clockwise.
    assert np.array_equal(picture, np.rot90(upright.to_rgb(), k=1))
    assert shown.to_rgb(width=90).shape == (160, 90, 3)


def test_sample_times_and_selection(indexed_video: Path) -> None:
    assert sample_times_ms(1000, 2000, 5) == [1000, 1200, 1400, 1600, 1800]
    assert sample_times_ms(1000, 2000, 3) == [1000, 1333, 1666]
    assert sample_times_ms(0, 100, 5) == [0]
    times = sample_times_ms(1010, 2530, 5)
    with WindowDecoder(indexed_video) as decoder:
        selected = list(select_frames(decoder.frames(1010, 2530), times))
    assert [t for t, _ in selected] == times
    assert [read_index(f.to_gray()) for _, f in selected] == [t * 25 // 1000 for t in times]
    # A frame on screen at several instants (sampling faster than the video) is given for each.
    with WindowDecoder(indexed_video) as decoder:
        frame = next(iter(decoder.frames(1000, 1040)))
    assert times_shown(frame, [999, 1000, 1020, 1039, 1040]) == [1000, 1020, 1039]


def test_variable_frame_rate_intervals(media_dir: Path) -> None:
    path = media_dir / "vfr_decode.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2",
        "-vf", "select='not(eq(mod(n\\,3)\\,2))'", "-fps_mode", "vfr", "-c:v", "libx264",
        str(path),
    )  # fmt: skip
    with WindowDecoder(path) as decoder:
        frames = list(decoder.frames(0, 1000))
    durations = [f.end - f.start for f in frames]
    assert set(durations) == {Fraction(1, 25), Fraction(2, 25)}
    assert frames[0].start == 0 and frames[-1].end >= 1


def test_damaged_data_fails_with_the_time(lavfi_video: Path, tmp_path: Path) -> None:
    data = bytearray(lavfi_video.read_bytes())
    noise = np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    for fraction in (0.3, 0.5):
        at = int(len(data) * fraction)
        data[at : at + len(noise)] = noise
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with WindowDecoder(damaged) as decoder:
        where = r"damaged\.mp4, t=00:00:0\d\.\d{3}: video does not decode"
        with pytest.raises(CorruptMediaError, match=where):
            list(decoder.frames(0, 4000))
        # The decoder stays usable: the next window seeks afresh.
        assert len(list(decoder.frames(0, 200))) == 5


def test_truncated_file_fails_with_the_time(faststart_video: Path, tmp_path: Path) -> None:
    # Index first, so the file opens; the second half of the data is missing.
    broken = truncated_copy(faststart_video, tmp_path / "cut.mp4", 0.5)
    with WindowDecoder(broken) as decoder:
        assert len(list(decoder.frames(0, 1000))) == 25  # the start is intact
        # The last, partial packet fails to decode, or the data just stops early.
        where = r"cut\.mp4, t=00:00:0\d\.\d{3}: (video does not decode|.*truncated or damaged)"
        with pytest.raises(CorruptMediaError, match=where):
            list(decoder.frames(4000, 5500))


@pytest.mark.real
@pytest.mark.parametrize(
    "name", ["talking_head/lipnet_grid_bbaf2n.mpg", "talking_head/videoretalking_face1.mp4"]
)
def test_real_windows_match_a_sequential_decode(shared_data: Path, name: str) -> None:
    """MPEG-PS (approximate seeking) and a variable-frame-rate MP4: every window gives
    exactly the frames, and the pixels, of one decode from the start."""
    path = shared_data / "video" / name
    if not path.exists():
        pytest.skip(f"real test material not found: {path}")
    with WindowDecoder(path) as decoder:
        everything = list(decoder.frames(0, 60_000))
    windows = [(2500, 2900), (1230, 1800), (480, 1000), (0, 200)]
    for start_ms, end_ms in windows:
        with WindowDecoder(path) as decoder:
            frames = list(decoder.frames(start_ms, end_ms))
        expected = [f for f in everything if f.end * 1000 > start_ms and f.start * 1000 < end_ms]
        assert [f.pts for f in frames] == [f.pts for f in expected]
        assert np.array_equal(frames[0].to_gray(), expected[0].to_gray())
        assert np.array_equal(frames[-1].to_gray(), expected[-1].to_gray())
