"""Exact clips, face-crop clips, stills and face crops, checked by what the pixels show."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from empathynet.errors import MediaError
from empathynet.media.audio import read_audio
from empathynet.media.decode import WindowDecoder, select_frames
from empathynet.media.encode import (
    ClipWriter,
    CropBox,
    crop_square,
    encode_clip,
    frame_count_between,
    square_crop_box,
    still_times,
    write_jpeg,
)
from empathynet.timeline import ms_to_samples

from .media_helpers import BURST_STARTS_MS, read_index

START_MS, END_MS = 1010, 2530  # frames 25 (1.000-1.040 s) to 63 (2.520-2.560 s)


def decoded_clip(path: Path) -> tuple[list[int], list[Fraction], list[tuple[int, int]]]:
    """Frame numbers shown, frame times (s) and frame sizes of an encoded clip."""
    with av.open(str(path)) as container:
        frames = list(container.decode(container.streams.video[0]))
    return (
        [read_index(f.to_ndarray(format="gray")) for f in frames],
        [f.pts * f.time_base for f in frames if f.pts is not None and f.time_base],
        [(f.width, f.height) for f in frames],
    )


def clip_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])


def test_exact_cut_full_frame(indexed_video: Path, tmp_path: Path) -> None:
    with WindowDecoder(indexed_video) as decoder:
        frames = list(decoder.frames(START_MS - 400, END_MS + 400))  # a wider window
    audio = read_audio(indexed_video, START_MS, END_MS)
    out = tmp_path / "clip.mp4"
    summary = encode_clip(out, frames, START_MS, END_MS, audio=audio)
    shown, times, sizes = decoded_clip(out)
    assert shown == list(range(25, 64))  # the frame on screen at start ... just before end
    assert summary.frame_count == 39
    assert (summary.first_source_pts, summary.last_source_pts) == (25 * 512, 63 * 512)
    assert set(sizes) == {(320, 240)}
    # Rebased: 0 for the first frame, then each frame's exact offset from START_MS.
    assert times[0] == 0
    assert times[1] == Fraction(26, 25) - Fraction(START_MS, 1000)
    assert times[-1] == Fraction(63, 25) - Fraction(START_MS, 1000)
    # Audio: exactly the segment, in sync (the burst at 1.500 s is 490 ms in).
    assert summary.audio_samples == ms_to_samples(END_MS, 16_000) - ms_to_samples(START_MS, 16_000)
    sound = clip_audio(out)
    assert len(sound) >= summary.audio_samples
    burst = int(np.flatnonzero(np.abs(sound) > 0.1)[0])
    assert abs(burst - ms_to_samples(BURST_STARTS_MS[0] - START_MS, 16_000)) <= 32  # 2 ms
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_face_crop_clip(indexed_video: Path, tmp_path: Path) -> None:
    box = square_crop_box(40, 60, 200, 150, 320, 240, scale=1.2)
    assert box == CropBox(20, 0, 240)  # 240 px side, moved up to fit the 240 px height
    with WindowDecoder(indexed_video) as decoder:
        frames = list(decoder.frames(START_MS, END_MS))
    summary = encode_clip(tmp_path / "face.mp4", frames, START_MS, END_MS, crop=box)
    shown, _, sizes = decoded_clip(tmp_path / "face.mp4")
    assert set(sizes) == {(224, 224)}
    assert summary.frame_count == 39 and len(shown) == 39
    # The crop shows source x 20-260, stripes 1-5 whole; frame 25 is 0b00011001.
    with av.open(str(tmp_path / "face.mp4")) as container:
        first = next(container.decode(container.streams.video[0])).to_ndarray(format="gray")
    stripe = 320 / 8 * 224 / box.size  # one stripe, in output pixels
    offset = box.x * 224 / box.size
    lit = [first[112, int((b + 0.5) * stripe - offset)] > 128 for b in range(1, 6)]
    assert lit == [bool(25 >> b & 1) for b in range(1, 6)]


def test_unaligned_crop_box(indexed_video: Path, tmp_path: Path) -> None:
    """Odd boxes are cut on the 4:2:0 grid (at most 3 px off) and still match the picture."""
    box = CropBox(37, 11, 179)
    with WindowDecoder(indexed_video) as decoder:
        frames = list(decoder.frames(START_MS, START_MS + 200))
    encode_clip(tmp_path / "odd.mp4", frames, START_MS, START_MS + 200, crop=box, size=(96, 96))
    with av.open(str(tmp_path / "odd.mp4")) as container:
        first = next(container.decode(container.streams.video[0])).to_ndarray(format="rgb24")
    expected = crop_square(frames[0].to_rgb(), box, 96).astype(int)
    assert first.shape == (96, 96, 3)
    # Stripe edges may move by a pixel or two; the rest of the picture is the same.
    assert np.median(np.abs(first.astype(int) - expected)) < 4


def test_frame_count_between() -> None:
    assert frame_count_between(START_MS, END_MS, Fraction(25)) == 39
    assert frame_count_between(1000, 1040, Fraction(25)) == 1
    assert frame_count_between(1000, 1041, Fraction(25)) == 2
    assert frame_count_between(0, 1000, Fraction(30000, 1001)) == 30


def test_square_crop_box_is_clamped_and_square() -> None:
    assert square_crop_box(100, 100, 50, 80, 640, 360) == CropBox(85, 100, 80)
    near_edge = square_crop_box(600, 300, 100, 100, 640, 360, scale=1.5)
    assert near_edge == CropBox(490, 210, 150)  # moved inside, not shrunk
    assert square_crop_box(0, 0, 1000, 1000, 640, 360).size == 360


def test_still_times_are_inside_and_evenly_spaced(indexed_video: Path, tmp_path: Path) -> None:
    times = still_times(START_MS, END_MS)
    assert times == [1162, 1466, 1770, 2074, 2378]
    assert all(START_MS < t < END_MS for t in times)
    assert len({b - a for a, b in itertools.pairwise(times)}) == 1
    assert still_times(0, 3, 5) == [0, 0, 1, 2, 2]
    with WindowDecoder(indexed_video) as decoder:
        stills = list(select_frames(decoder.frames(START_MS, END_MS), times))
    box = CropBox(0, 0, 240)
    for k, (time_ms, frame) in enumerate(stills):
        rgb = frame.to_rgb()
        write_jpeg(tmp_path / f"still_{k}.jpg", rgb)
        write_jpeg(tmp_path / f"face_{k}.jpg", crop_square(rgb, box, 224))
        back = np.asarray(Image.open(tmp_path / f"still_{k}.jpg"))
        assert back.shape == (240, 320, 3)
        assert read_index(back) == time_ms * 25 // 1000  # the frame on screen at that time
        assert Image.open(tmp_path / f"face_{k}.jpg").size == (224, 224)
    assert len(list(tmp_path.iterdir())) == 10


def test_crop_square_and_jpeg_errors(tmp_path: Path) -> None:
    rgb = np.zeros((100, 200, 3), dtype=np.uint8)
    rgb[:, 100:] = 255
    crop = crop_square(rgb, CropBox(50, 0, 100), 50)
    assert crop.shape == (50, 50, 3)
    assert crop[:, :20].max() == 0 and crop[:, 30:].min() == 255
    with pytest.raises(ValueError, match="outside"):
        crop_square(rgb, CropBox(300, 0, 10))
    with pytest.raises(ValueError, match="uint8"):
        write_jpeg(tmp_path / "x.jpg", rgb.astype(np.float32))


def test_clip_writer_removes_its_file_on_error(indexed_video: Path, tmp_path: Path) -> None:
    with WindowDecoder(indexed_video) as decoder:
        frames = list(decoder.frames(0, 400))
    with (
        pytest.raises(RuntimeError, match="stage failed"),
        ClipWriter(tmp_path / "x.mp4", start_ms=0) as writer,
    ):
        for frame in frames:
            writer.add_frame(frame)
        raise RuntimeError("stage failed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(MediaError, match="no video frame"):
        encode_clip(tmp_path / "y.mp4", frames, 5000, 6000)
    assert list(tmp_path.iterdir()) == []


def test_clip_writer_takes_audio_before_frames(indexed_video: Path, tmp_path: Path) -> None:
    with WindowDecoder(indexed_video) as decoder:
        frames = list(decoder.frames(0, 400))
    with ClipWriter(tmp_path / "a.mp4", start_ms=0, audio_rate=16_000) as writer:
        writer.add_audio(np.zeros(6400, dtype=np.float32))
        for frame in frames:
            writer.add_frame(frame)
    with av.open(str(tmp_path / "a.mp4")) as container:
        assert [stream.type for stream in container.streams] == ["video", "audio"]
    assert 6400 <= len(clip_audio(tmp_path / "a.mp4")) < 6400 + 1024


def test_rotated_source_gives_an_upright_clip(
    lavfi_video: Path, tmp_path: Path, make_media: Callable[..., Path]
) -> None:
    rotated = make_media(
        "rotated_encode.mp4", "-display_rotation", "90", "-i", str(lavfi_video), "-c", "copy"
    )
    with WindowDecoder(rotated) as decoder:
        frames = list(decoder.frames(1000, 1400))
    encode_clip(tmp_path / "up.mp4", frames, 1000, 1400)
    with av.open(str(tmp_path / "up.mp4")) as container:
        stream = container.streams.video[0]
        first = next(container.decode(stream))
    assert (first.width, first.height) == (360, 640)
    assert first.rotation == 0
    expected = frames[0].to_rgb().astype(int)
    assert np.abs(first.to_ndarray(format="rgb24").astype(int) - expected).mean() < 6
