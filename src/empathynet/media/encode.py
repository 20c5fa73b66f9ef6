"""Write the cue media: exact clips (H.264 + AAC in MP4), JPEG stills and face crops.

Clips are encoded with PyAV from frames a ``WindowDecoder`` already decoded, so a
window is decoded once for detection, shot scores, stills, crops and clips. The
cut is frame-accurate because every frame is re-encoded (no keyframe copy): the
first frame is the one on screen at ``start_ms``, the last the one on screen just
before ``end_ms``; timestamps are rebased so that ``start_ms`` is 0 (the first
frame, which appeared up to one frame earlier, is shown from 0), and each frame
keeps its exact offset from ``start_ms``, so variable frame rates and audio sync
survive the cut. Audio given to the clip starts at ``start_ms`` too.

Every file is written under a temporary name in its folder (``.<name>.<random>.tmp``),
fsynced and renamed: a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import av
import av.error
import cv2
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream
from PIL import Image

from empathynet.errors import MediaError
from empathynet.media.decode import DecodedFrame, plane_rows
from empathynet.media.probe import error_reason
from empathynet.store.atomic import atomic_write_with, commit, temporary_beside
from empathynet.timeline import ms_to_seconds

#: Side of the face crops and of the face clip, pixels.
DEFAULT_FACE_SIZE = 224
#: x264 constant rate factor (lower is better quality, larger files).
DEFAULT_CRF = 23
#: x264 preset: speed against compression; "veryfast" keeps encoding well below decoding time.
DEFAULT_PRESET = "veryfast"
#: AAC bit rate for a 16 kHz mono voice track, bits per second.
_AAC_BIT_RATE = 48_000
#: Output timestamps are in the source time base when it is at least this fine,
#: else in 1/90000 s (so rebasing to ``start_ms`` loses less than 1/1000 s).
_COARSEST_TIME_BASE = Fraction(1, 1000)
_FINE_TIME_BASE = Fraction(1, 90_000)
#: A frame on screen for longer than this many nominal frame durations is repeated.
_MAX_HELD_FRAMES = 2
#: Pictures up to this many pixels are encoded by one x264 thread: its threads cost more
#: than they bring on small pictures (224²: 0.30 against 0.44 ms a frame, and a file 8 %
#: smaller), and a build already runs one encoder per worker process.
_SINGLE_THREAD_MAX_PIXELS = 640 * 360

RGBArray = np.ndarray[Any, np.dtype[np.uint8]]


@dataclass(frozen=True)
class CropBox:
    """A square region of the displayed frame, in pixels (left, top, side)."""

    x: int
    y: int
    size: int


@dataclass(frozen=True)
class ClipSummary:
    """What an encoded clip holds."""

    path: str
    frame_count: int
    first_source_pts: int | None  #: source timestamp of the first frame (``None``: no video)
    last_source_pts: int | None
    first_start: Fraction | None  #: media seconds the first frame appeared in the source
    last_start: Fraction | None  #: media seconds the last frame appeared in the source
    width: int
    height: int
    audio_samples: int  #: samples written (0 without audio)


def square_crop_box(
    x: float,
    y: float,
    width: float,
    height: float,
    frame_width: int,
    frame_height: int,
    *,
    scale: float = 1.0,
) -> CropBox:
    """A square box centred on the box ``(x, y, width, height)`` (pixels), with side
    ``max(width, height) * scale``, no larger than the frame's shorter side, moved
    (not shrunk) to lie inside the frame."""
    if frame_width <= 0 or frame_height <= 0:
        raise ValueError(f"frame size must be positive, got {frame_width}x{frame_height}")
    side = round(max(width, height) * scale)
    side = max(2, min(side, frame_width, frame_height))
    centre_x = x + width / 2
    centre_y = y + height / 2
    left = min(max(0, round(centre_x - side / 2)), frame_width - side)
    top = min(max(0, round(centre_y - side / 2)), frame_height - side)
    return CropBox(left, top, side)


def crop_square(rgb: RGBArray, box: CropBox, size: int = DEFAULT_FACE_SIZE) -> RGBArray:
    """Cut ``box`` out of an ``(h, w, 3)`` RGB array and resize it to ``size`` × ``size``.

    The box is clamped to the array first (a box partly outside keeps its inside part).
    """
    height, width = rgb.shape[:2]
    left, top = max(0, box.x), max(0, box.y)
    right, bottom = min(width, box.x + box.size), min(height, box.y + box.size)
    if right <= left or bottom <= top:
        raise ValueError(f"crop box {box} lies outside the {width}x{height} frame")
    region = np.ascontiguousarray(rgb[top:bottom, left:right])
    # Area averaging to shrink (no aliasing, ~8x faster than PIL's bicubic here), cubic to grow.
    shrink = (right - left) >= size and (bottom - top) >= size
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    return cast(RGBArray, cv2.resize(region, (size, size), interpolation=interpolation))


def still_times(start_ms: int, end_ms: int, n: int = 5) -> list[int]:
    """``n`` instants at equal intervals inside ``[start_ms, end_ms)``: the centres of ``n``
    equal parts (rounded down to integer ms), so none falls on a bound."""
    if n <= 0:
        raise ValueError(f"need at least one still, got n={n}")
    if end_ms <= start_ms:
        raise ValueError(f"empty segment [{start_ms}, {end_ms}) ms")
    span = end_ms - start_ms
    return [start_ms + (2 * k + 1) * span // (2 * n) for k in range(n)]


def write_jpeg(path: str | os.PathLike[str], rgb: RGBArray, quality: int = 90) -> None:
    """Write an ``(h, w, 3)`` uint8 RGB array as a JPEG (``quality`` 1-95), atomically."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    image = Image.fromarray(np.ascontiguousarray(rgb))
    atomic_write_with(Path(path), lambda tmp: image.save(tmp, format="JPEG", quality=quality))


def even_size(width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` rounded down to even numbers (H.264 4:2:0 needs even sizes)."""
    return max(2, width - width % 2), max(2, height - height % 2)


class ClipWriter:
    """Encode one exact clip frame by frame (MP4: H.264 yuv420p + optional AAC mono).

    ``start_ms`` is the clip's time 0. Frames go in display order; the video stream is
    set up from the first one. Used as a context manager the file is committed (renamed
    into place) on a normal exit and removed on an exception::

        with ClipWriter(out, start_ms=12_000, crop=box, size=(224, 224)) as writer:
            for decoded in frames:
                writer.add_frame(decoded)
            writer.add_audio(samples)  # mono float32 at audio_rate, from start_ms

    Raises ``MediaError`` when FFmpeg cannot encode or write the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        start_ms: int,
        size: tuple[int, int] | None = None,
        crop: CropBox | None = None,
        audio_rate: int | None = None,
        crf: int = DEFAULT_CRF,
        preset: str = DEFAULT_PRESET,
    ) -> None:
        """``size``: output ``(width, height)`` in pixels (even); default the displayed frame
        size for a full-frame clip and ``DEFAULT_FACE_SIZE`` square with ``crop``.
        ``crop``: a square of the displayed frame (pixels) to cut out and scale to ``size``.
        ``audio_rate``: Hz of the samples ``add_audio`` will get (``None``: no audio track)."""
        self.path = Path(path)
        self._start = ms_to_seconds(start_ms)
        if crop is not None and size is None:
            size = (DEFAULT_FACE_SIZE, DEFAULT_FACE_SIZE)
        self._size = even_size(*size) if size is not None else None
        self._crop = crop
        self._audio_rate = audio_rate
        self._crf = crf
        self._preset = preset
        self._tmp = temporary_beside(self.path)
        try:
            self._container: OutputContainer = av.open(
                str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
            )
        except (av.error.FFmpegError, OSError) as error:
            self._tmp.unlink(missing_ok=True)
            raise MediaError(f"cannot create clip: {error_reason(error)}", path) from error
        self._video: VideoStream | None = None
        self._audio: AudioStream | None = None
        self._reformatter = VideoReformatter()
        self._time_base = _FINE_TIME_BASE
        self._nominal_ticks = 1
        self._last_out_pts = -1
        self._pending: tuple[VideoFrame, int] | None = None
        self._audio_buffer: list[np.ndarray[Any, np.dtype[np.float32]]] = []
        self._audio_written = 0
        self._first: DecodedFrame | None = None
        self._last: DecodedFrame | None = None
        self._frame_count = 0
        self._closed = False

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @property
    def frame_count(self) -> int:
        """Frames added so far."""
        return self._frame_count

    # -- input -------------------------------------------------------------------

    def add_frame(self, decoded: DecodedFrame) -> None:
        """Append the next frame (display order). Its time in the clip is its exact offset
        from ``start_ms``; a frame that appeared before ``start_ms`` is shown from 0."""
        if self._video is None:
            self._open_video(decoded)
        assert self._video is not None
        out_pts = max(0, round((decoded.start - self._start) / self._time_base))
        out_pts = max(out_pts, self._last_out_pts + 1)
        if self._pending is not None:
            # The previous frame lasts until this one starts.
            self._encode(self._pending[0], self._pending[1], out_pts - self._pending[1])
        self._pending = (self._picture(decoded), out_pts)
        self._last_out_pts = out_pts
        self._first = self._first or decoded
        self._last = decoded
        self._frame_count += 1

    def add_audio(self, samples: np.ndarray[Any, Any]) -> None:
        """Append mono samples (float, [-1, 1]) at ``audio_rate``; the first is at ``start_ms``."""
        if self._audio_rate is None:
            raise ValueError("this clip was created without an audio track (audio_rate=None)")
        # Kept until ``close``: the MP4 header, written with the first packet, must already
        # list both streams, and the video stream only exists once a frame arrived.
        self._audio_buffer.append(np.asarray(samples, dtype=np.float32).reshape(-1))

    # -- output ------------------------------------------------------------------

    def close(self, end_ms: int | None = None) -> ClipSummary:
        """Finish encoding and move the file into place. ``end_ms``: where the clip ends
        (sets the last frame's duration; default: the last frame's own end)."""
        if self._closed:
            raise ValueError("clip already closed")
        try:
            if self._pending is not None:
                assert self._last is not None
                last_end = self._last.end
                if end_ms is not None:
                    last_end = min(last_end, ms_to_seconds(end_ms))
                end_pts = round((last_end - self._start) / self._time_base)
                frame, pts = self._pending
                self._encode(frame, pts, max(1, end_pts - pts))
                self._pending = None
            if self._video is not None:
                self._mux(self._video.encode(None))
            if self._audio_rate is not None:
                self._encode_audio()
            self._container.close()
            commit(self._tmp, self.path)
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise MediaError(f"cannot encode clip: {error_reason(error)}", self.path) from error
        except BaseException:
            self.abort()
            raise
        self._closed = True
        width, height = self._size or (0, 0)
        return ClipSummary(
            path=str(self.path),
            frame_count=self._frame_count,
            first_source_pts=self._first.pts if self._first else None,
            last_source_pts=self._last.pts if self._last else None,
            first_start=self._first.start if self._first else None,
            last_start=self._last.start if self._last else None,
            width=width,
            height=height,
            audio_samples=self._audio_written,
        )

    def abort(self) -> None:
        """Drop the clip: close and delete the temporary file. Idempotent."""
        if self._closed:
            return
        self._closed = True
        # Closing may fail on a broken stream; the temporary file goes either way.
        with contextlib.suppress(av.error.FFmpegError, OSError):
            self._container.close()
        self._tmp.unlink(missing_ok=True)

    # -- internals ---------------------------------------------------------------

    def _open_video(self, decoded: DecodedFrame) -> None:
        if self._size is None:
            self._size = even_size(*decoded.display_size)
        if decoded.time_base <= _COARSEST_TIME_BASE:
            self._time_base = decoded.time_base
        nominal = decoded.nominal_duration or (decoded.end - decoded.start)
        self._nominal_ticks = max(1, round(nominal / self._time_base))
        nominal_rate = (1 / nominal).limit_denominator(1001)
        options = {"crf": str(self._crf), "preset": self._preset}
        if self._size[0] * self._size[1] <= _SINGLE_THREAD_MAX_PIXELS:
            options["threads"] = "1"
        stream = self._container.add_stream("libx264", rate=nominal_rate, options=options)
        stream.width, stream.height = self._size
        stream.pix_fmt = "yuv420p"
        # Exact (possibly variable) frame timing: timestamps in a fine time base.
        stream.codec_context.time_base = self._time_base
        stream.time_base = self._time_base
        self._video = stream
        self._add_audio_stream()

    def _add_audio_stream(self) -> None:
        if self._audio_rate is not None and self._audio is None:
            self._audio = self._container.add_stream("aac", rate=self._audio_rate, layout="mono")
            self._audio.bit_rate = _AAC_BIT_RATE

    def _picture(self, decoded: DecodedFrame) -> VideoFrame:
        """The frame as the encoder takes it: displayed orientation, cropped, scaled, yuv420p."""
        assert self._size is not None
        width, height = self._size
        upright = decoded.rotation == 0 and decoded.sample_aspect_ratio == 1
        if self._crop is None and upright:
            source = decoded.frame
        elif self._crop is not None and upright and decoded.frame.format.name == "yuv420p":
            source = _crop_yuv420p(decoded.frame, self._crop)
        else:
            rgb = decoded.to_rgb()
            if self._crop is not None:
                box = self._crop
                rgb = rgb[box.y : box.y + box.size, box.x : box.x + box.size]
            source = VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        # One reformatter for the whole clip keeps FFmpeg's scaler set up between frames.
        return self._reformatter.reformat(source, width=width, height=height, format="yuv420p")

    def _encode(self, frame: VideoFrame, pts: int, duration: int) -> None:
        """Encode ``frame`` at ``pts`` for ``duration`` ticks; a frame held for more than
        ``_MAX_HELD_FRAMES`` nominal frames is repeated at the nominal step (an encoder
        with B-frames shifts its timestamps by the longest step, which would make the
        clip's stated duration longer than the clip)."""
        assert self._video is not None
        step = self._nominal_ticks
        while duration > _MAX_HELD_FRAMES * step:
            self._encode_once(frame, pts, step)
            pts += step
            duration -= step
        self._encode_once(frame, pts, duration)

    def _encode_once(self, frame: VideoFrame, pts: int, duration: int) -> None:
        assert self._video is not None
        frame.pts = pts
        frame.time_base = self._time_base
        frame.duration = duration
        self._mux(self._video.encode(frame))

    def _encode_audio(self) -> None:
        """Encode the buffered samples, the first at clip time 0, and flush the encoder."""
        self._add_audio_stream()
        assert self._audio is not None and self._audio_rate is not None
        samples = np.concatenate(self._audio_buffer) if self._audio_buffer else np.zeros(0)
        frame_size = self._audio.codec_context.frame_size or 1024
        for offset in range(0, len(samples), frame_size):
            chunk = np.ascontiguousarray(samples[offset : offset + frame_size], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            frame.sample_rate = self._audio_rate
            frame.pts = self._audio_written
            frame.time_base = Fraction(1, self._audio_rate)
            self._audio_written += len(chunk)
            self._mux(self._audio.encode(frame))
        self._mux(self._audio.encode(None))
        self._audio_buffer = []

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self._container.mux(packet)


def _crop_yuv420p(frame: VideoFrame, box: CropBox) -> VideoFrame:
    """Cut ``box`` out of a 4:2:0 frame without converting it to RGB (three times cheaper).

    The box is aligned to the chroma grid: left and top rounded down to even pixels, the
    side down to a multiple of 4 (so it shifts or shrinks by at most 3 pixels).
    """
    side = max(4, box.size - box.size % 4)
    side = min(side, frame.width - frame.width % 4, frame.height - frame.height % 4)
    left = min(max(0, box.x - box.x % 2), (frame.width - side) & ~1)
    top = min(max(0, box.y - box.y % 2), (frame.height - side) & ~1)
    cropped = VideoFrame(side, side, "yuv420p")
    for index, (plane, target) in enumerate(zip(frame.planes[:3], cropped.planes, strict=True)):
        shift = 0 if index == 0 else 1
        part = side >> shift
        # Copy straight into the new frame's plane (rows padded to its line size).
        plane_rows(target)[:, :part] = plane_rows(plane)[
            top >> shift : (top >> shift) + part, left >> shift : (left >> shift) + part
        ]
    return cropped


def encode_clip(
    path: str | os.PathLike[str],
    frames: Iterable[DecodedFrame],
    start_ms: int,
    end_ms: int,
    *,
    audio: np.ndarray[Any, Any] | None = None,
    audio_rate: int = 16_000,
    crop: CropBox | None = None,
    size: tuple[int, int] | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
) -> ClipSummary:
    """Encode the exact segment ``[start_ms, end_ms)`` (integer media ms) as an MP4.

    ``frames``: decoded frames in display order (e.g. ``WindowDecoder.frames`` of a wider
    window); only those on screen during the segment are used. ``audio``: mono float
    samples of exactly the segment at ``audio_rate`` Hz, or ``None`` for no audio track.
    ``crop`` / ``size`` as in ``ClipWriter``. Raises ``MediaError`` when no frame falls in
    the segment or encoding fails.
    """
    if end_ms <= start_ms:
        raise ValueError(f"empty segment [{start_ms}, {end_ms}) ms")
    start, end = ms_to_seconds(start_ms), ms_to_seconds(end_ms)
    writer = ClipWriter(
        path,
        start_ms=start_ms,
        size=size,
        crop=crop,
        audio_rate=audio_rate if audio is not None else None,
        crf=crf,
        preset=preset,
    )
    try:
        for decoded in frames:
            if decoded.end <= start:
                continue
            if decoded.start >= end:
                break
            writer.add_frame(decoded)
        if writer.frame_count == 0:
            raise MediaError(
                f"no video frame between {start_ms} ms and {end_ms} ms to encode", path
            )
        if audio is not None:
            writer.add_audio(audio)
    except BaseException:
        writer.abort()
        raise
    return writer.close(end_ms=end_ms)


def frame_count_between(start_ms: int, end_ms: int, fps: Fraction) -> int:
    """Frames of a constant-rate stream (first frame at 0) on screen during
    ``[start_ms, end_ms)``: from the one shown at ``start_ms`` to the one shown just
    before ``end_ms``."""
    first = math.floor(ms_to_seconds(start_ms) * fps)
    last = math.ceil(ms_to_seconds(end_ms) * fps) - 1
    return max(0, last - first + 1)
