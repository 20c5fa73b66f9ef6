"""Shot cuts: one at a real join, none inside continuous footage (moving or talking)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from empathynet.faces.tracking import sample_times_ms
from empathynet.media.decode import DecodedFrame, WindowDecoder
from empathynet.media.probe import probe
from empathynet.media.shots import (
    ShotConfig,
    ShotDetector,
    content_score,
    detect_cuts,
    rgb_to_hsv,
    screened_cuts,
)

FRAME = Fraction(1, 25)


def cuts_in(path: Path, start_ms: int = 0, end_ms: int | None = None) -> list[Fraction]:
    end_ms = end_ms if end_ms is not None else probe(path).duration_ms
    with WindowDecoder(path) as decoder:
        return [cut.time for cut in detect_cuts(decoder.frames(start_ms, end_ms))]


def test_join_of_two_clips_is_one_cut(make_media: Callable[..., Path]) -> None:
    joined = make_media(
        "joined.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2",
        "-f", "lavfi", "-i", "mandelbrot=size=320x180:rate=25",
        "-filter_complex", "[1:v]trim=duration=2[m];[0:v][m]concat=n=2:v=1:a=0[v]",
        "-map", "[v]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
    )  # fmt: skip
    cuts = cuts_in(joined)
    assert len(cuts) == 1
    assert abs(cuts[0] - 2) <= FRAME
    # A window that starts after the join sees no cut.
    assert cuts_in(joined, 2200, 4000) == []


def test_continuous_motion_has_no_cut(lavfi_video: Path) -> None:
    assert cuts_in(lavfi_video) == []


def test_hsv_matches_the_opencv_convention() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128], [255, 255, 0]]])
    hsv = rgb_to_hsv(rgb.astype(np.uint8))
    np.testing.assert_allclose(hsv[0, :, 0], [0, 60, 120, 0, 30])
    np.testing.assert_allclose(hsv[0, :, 1], [255, 255, 255, 0, 255])
    np.testing.assert_allclose(hsv[0, :, 2], [255, 255, 255, 128, 255])
    # Hue is compared around the circle: 178 and 2 are 4 apart, not 176.
    a = np.zeros((1, 1, 3), np.float32)
    b = a.copy()
    a[..., 0], b[..., 0] = 178, 2
    assert content_score(a, b) == pytest.approx(4 / 3)


def test_adaptive_rule_and_minimum_shot_length() -> None:
    detector = ShotDetector(ShotConfig(min_shot_ms=250))
    grey = [np.full((8, 8, 3), v, np.uint8) for v in (10, 12, 14, 100, 102, 104, 250, 252)]
    times = [Fraction(k, 25) for k in range(len(grey))]
    for time, picture in zip(times, grey, strict=True):
        detector.add(time, picture)
    # Two jumps 3 frames (120 ms) apart: one cut kept, the stronger one.
    cuts = detector.cuts()
    assert [c.time for c in cuts] == [times[6]]
    detector = ShotDetector(ShotConfig(min_shot_ms=100))
    for time, picture in zip(times, grey, strict=True):
        detector.add(time, picture)
    assert [c.time for c in detector.cuts()] == [times[3], times[6]]


@pytest.mark.real
def test_real_shot_cut_between_two_talking_heads(
    shared_data: Path, make_media: Callable[..., Path]
) -> None:
    folder = shared_data / "video" / "talking_head"
    first, second = folder / "videoretalking_face1.mp4", folder / "videoretalking_face5.mp4"
    if not (first.exists() and second.exists()):
        pytest.skip(f"real test material not found in {folder}")
    part = "scale=320:320,setsar=1,fps=25,trim=duration=3,setpts=PTS-STARTPTS"
    joined = make_media(
        "faces_joined.mp4",
        "-i", str(first), "-i", str(second),
        "-filter_complex", f"[0:v]{part}[a];[1:v]{part}[b];[a][b]concat=n=2:v=1:a=0[v]",
        "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
    )  # fmt: skip
    cuts = cuts_in(joined)
    assert len(cuts) == 1
    assert abs(cuts[0] - 3) <= FRAME


@pytest.mark.real
@pytest.mark.parametrize(
    "name",
    [
        "videoretalking_face1.mp4",
        "videoretalking_face2.mp4",
        "videoretalking_face4.mp4",
        "videoretalking_face5.mp4",
        "lipnet_grid_bbaf2n.mpg",
    ],
)
def test_no_cut_inside_one_real_clip(shared_data: Path, name: str) -> None:
    path = shared_data / "video" / "talking_head" / name
    if not path.exists():
        pytest.skip(f"real test material not found: {path}")
    assert cuts_in(path) == []


def _screened_and_full(path: Path, start_ms: int, end_ms: int) -> tuple[list[Fraction], ...]:
    """Cuts of one window by ``screened_cuts`` (5 samples a second at 96 px, as the build
    samples for detection) and by ``detect_cuts`` on every frame."""
    with WindowDecoder(path) as decoder:
        frames = list(decoder.frames(start_ms, end_ms))
    samples = [
        (time_ms, next(f for f in frames if f.covers(time_ms)).to_rgb(width=96))
        for time_ms in sample_times_ms(start_ms, end_ms, 5)
    ]
    screened = [cut.time for cut in screened_cuts(frames, samples)]
    full = [cut.time for cut in detect_cuts(frames)]
    return screened, full


@pytest.mark.parametrize(("start_ms", "end_ms"), [(0, 6000), (1000, 3000), (1960, 4000), (0, 2050)])
def test_screened_cuts_are_the_full_passes(
    make_media: Callable[..., Path], start_ms: int, end_ms: int
) -> None:
    # cuts at 2 s and 4 s; windows with the cut in the middle, near a bound, or none
    joined = make_media(
        "three.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2",
        "-f", "lavfi", "-i", "mandelbrot=size=320x180:rate=25",
        "-f", "lavfi", "-i", "smptebars=size=320x180:rate=25:duration=2",
        "-filter_complex",
        "[1:v]trim=duration=2,setpts=PTS-STARTPTS[m];[0:v][m][2:v]concat=n=3:v=1:a=0[v]",
        "-map", "[v]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
    )  # fmt: skip
    screened, full = _screened_and_full(joined, start_ms, end_ms)
    assert screened == full
    if start_ms < 1900 and end_ms > 2100:
        assert any(abs(cut - 2) <= FRAME for cut in full)


def test_screened_cuts_score_few_frames_in_continuous_footage(
    lavfi_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scored: list[Fraction] = []
    add_frame = ShotDetector.add_frame

    def counting(self: ShotDetector, decoded: DecodedFrame) -> None:
        scored.append(decoded.start)
        add_frame(self, decoded)

    monkeypatch.setattr(ShotDetector, "add_frame", counting)
    screened, full = _screened_and_full(lavfi_video, 0, 2000)
    assert screened == full == []
    # the full pass scored all 50 frames; the screened one the head and tail only
    assert len(scored) - 50 < 20, len(scored)
