"""Decode only the video a build needs: the frames inside each utterance window.

``WindowDecoder(path)`` opens a source once (per worker) and ``frames(start_ms,
end_ms)`` yields every frame whose display interval overlaps ``[start_ms, end_ms)``:
the first is the frame on screen at ``start_ms``, the last the one on screen just
before ``end_ms``. It seeks once to the keyframe before the window and decodes
through it (per-frame seeking restarts at a keyframe each time and is several
times slower). Windows visited in time order reuse the decoder's position when
the next window's keyframe lies behind it, so close windows are not decoded twice.
Frames shown well before a window are decoded only as references: non-reference
frames there are skipped (FFmpeg ``skip_frame="NONREF"``).

Where the container cannot seek (``seek_mode`` ``"decode_through"``, decided by
``probe``, or a seek that raises at run time) the decoder never seeks: it reads the
file from its start, and up to shortly before each window it only demuxes: packets
are held from the last keyframe on and decoded once the window is near, so the
frames are exact and the skipped stretch costs reading, not decoding. A window
behind the position reopens the file.

A video stream that starts after media time 0 (MP4 with an edit list, MPEG-TS, a
late first frame): its first frame is on screen from 0, as a player shows it, so a
sentence starting before it has a picture.

Frames stay in the decoder's pixel format; ``DecodedFrame.to_rgb`` converts one,
downscaled, with the display rotation applied, only where a caller needs pixels
(sampled frames for detection and shot scores, stills, crops).
"""

from __future__ import annotations

import bisect
import math
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, cast

import av.error
import numpy as np
from av.container import InputContainer
from av.packet import Packet
from av.stream import Stream
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter

from empathynet.errors import CorruptMediaError
from empathynet.media.probe import (
    SEEK_DECODE_THROUGH,
    SEEK_MODES,
    MediaInfo,
    error_reason,
    inspect_container,
    open_input,
    select_video_stream,
)
from empathynet.resources import Closing
from empathynet.timeline import format_ms, ms_to_seconds, seconds_to_ms

#: Windows in time order: the decoder decodes on into the next window instead of seeking
#: when the keyframe a seek would land on (from the container's index) is behind its
#: position. Without a usable index it decodes on when the next window starts at most
#: this far ahead, or at most the longest keyframe interval seen so far. Seconds.
DEFAULT_CONTINUE_GAP = Fraction(1)
#: A seek that lands after the window start is retried this many times, each time
#: further back (1 s, 2 s, 4 s, ...): some demuxers (MPEG-PS/TS) seek approximately.
_SEEK_RETRIES = 6
#: Decoding through (no seeking): packets shown this long before a window are only
#: demuxed (held from the last keyframe on), not decoded. Seconds.
DEMUX_GUARD = Fraction(1, 2)
#: Demuxed packets held before a window: past this many bytes without a keyframe
#: they are decoded, so memory stays bounded.
_MAX_HELD_BYTES = 256 * 1024 * 1024
#: Decoded video ending this much (seconds) before the declared duration means the
#: file is truncated or damaged, not that the declared duration is slightly off.
_TRUNCATION_TOLERANCE = Fraction(1)

RGBArray = np.ndarray[Any, np.dtype[np.uint8]]
#: Decoder pixel formats whose first plane is 8-bit luma at full size (``DecodedFrame.luma``).
_LUMA_FORMATS = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv411p",
     "yuv440p", "yuvj440p", "nv12", "nv21", "gray"}
)  # fmt: skip


def time_position(seconds: Fraction) -> str:
    """A media time as an error position: ``"t=00:01:02.345"``."""
    return f"t={format_ms(seconds_to_ms(seconds, 'floor'))}"


def seek_stream(
    container: InputContainer, stream: Stream, offset: int, path: str, target: Fraction
) -> None:
    """Seek ``stream`` to the keyframe at or before ``offset`` (its time base), for media
    time ``target`` (seconds); a failure is a ``CorruptMediaError`` naming the time."""
    try:
        container.seek(offset, stream=stream, backward=True)
    except av.error.FFmpegError as error:
        raise CorruptMediaError(
            f"cannot seek in the {stream.type}: {error_reason(error)}",
            path,
            time_position(target),
        ) from error


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded video frame and the exact interval it is on screen.

    ``start`` and ``end`` are media seconds (``Fraction``): the frame is on screen for
    ``start <= t < end``; ``end`` is the next frame's ``start`` (the last frame of the
    stream lasts its own duration).
    """

    frame: VideoFrame  #: decoder pixel format and stored size, no rotation applied
    pts: int  #: presentation timestamp in ``time_base`` units, as in the file
    time_base: Fraction  #: seconds per ``pts`` unit
    start: Fraction  #: media seconds when it appears
    end: Fraction  #: media seconds when the next frame replaces it
    rotation: int = 0  #: degrees clockwise to turn it for display (0, 90, 180, 270)
    sample_aspect_ratio: Fraction = Fraction(1)  #: pixel aspect ratio of the stored picture
    #: The stream's nominal frame duration (1 / average fps), seconds, when known: a frame
    #: held much longer (the first frame of a late video stream) is re-encoded at this step.
    nominal_duration: Fraction | None = None
    #: Shared converter: keeps FFmpeg's scaler set up between frames of one size.
    reformatter: VideoReformatter | None = field(default=None, repr=False, compare=False)

    def covers(self, ms: int) -> bool:
        """Whether this frame is on screen at media time ``ms`` (integer milliseconds)."""
        return self.start <= ms_to_seconds(ms) < self.end

    @property
    def start_ms(self) -> int:
        """``start`` rounded down to integer ms (for reports; compare times with ``covers``)."""
        return seconds_to_ms(self.start, "floor")

    @property
    def display_size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels as a player shows this frame."""
        width, height = self.frame.width, self.frame.height
        if self.sample_aspect_ratio != 1:
            width = max(2, 2 * round(width * self.sample_aspect_ratio / 2))
        return (height, width) if self.rotation in (90, 270) else (width, height)

    def scaled_size(self, width: int | None = None, height: int | None = None) -> tuple[int, int]:
        """Display size scaled to ``width`` and/or ``height`` pixels, keeping the aspect ratio
        when only one is given; the full display size when neither is."""
        display_width, display_height = self.display_size
        if width is None and height is None:
            return display_width, display_height
        if width is None:
            assert height is not None
            width = max(1, round(Fraction(height * display_width, display_height)))
        elif height is None:
            height = max(1, round(Fraction(width * display_height, display_width)))
        if width <= 0 or height <= 0:
            raise ValueError(f"target size must be positive, got {width}x{height}")
        return width, height

    def to_rgb(
        self, width: int | None = None, height: int | None = None, interpolation: str | None = None
    ) -> RGBArray:
        """The picture as an ``(height, width, 3)`` uint8 RGB array, as a player shows it.

        ``width`` / ``height`` are display pixels (after rotation); give one to keep the
        aspect ratio, both to force a size, neither for full size. Scaling happens in
        FFmpeg's swscale before the conversion, so a small target is cheap. ``interpolation``:
        a swscale method name (``"AREA"``, ``"FAST_BILINEAR"``, ...; default bilinear).
        """
        return self._displayed("rgb24", width, height, interpolation)

    def to_gray(
        self, width: int | None = None, height: int | None = None, interpolation: str | None = None
    ) -> RGBArray:
        """Luma only, ``(height, width)`` uint8, display orientation; see ``to_rgb``."""
        return self._displayed("gray", width, height, interpolation)

    def luma(self) -> RGBArray | None:
        """The stored luma plane as an ``(height, width)`` uint8 view (no copy, no scaling),
        when it is as a player shows it (no rotation, square pixels) and the decoder's format
        is 8-bit with luma in its first plane; ``None`` otherwise (use ``to_gray``). Its
        levels are the stream's (limited range in most video)."""
        frame = self.frame
        if self.rotation or self.sample_aspect_ratio != 1 or frame.format.name not in _LUMA_FORMATS:
            return None
        return plane_rows(frame.planes[0])[:, : frame.width]

    def _displayed(
        self, pixel_format: str, width: int | None, height: int | None, interpolation: str | None
    ) -> RGBArray:
        """The picture in ``pixel_format``, scaled and turned as ``to_rgb`` describes."""
        out_width, out_height = self.scaled_size(width, height)
        if self.rotation in (90, 270):
            out_width, out_height = out_height, out_width
        reformatter = self.reformatter or VideoReformatter()
        converted = reformatter.reformat(
            self.frame,
            width=out_width,
            height=out_height,
            format=pixel_format,
            interpolation=interpolation,
        )
        array = cast(RGBArray, converted.to_ndarray())
        if self.rotation:
            # np.rot90 turns counter-clockwise for positive k.
            array = np.ascontiguousarray(np.rot90(array, k=-(self.rotation // 90)))
        return array


def plane_rows(plane: Any) -> RGBArray:
    """A frame plane's bytes as ``(height, line_size)`` uint8 rows, without a copy."""
    rows = np.frombuffer(memoryview(plane), dtype=np.uint8, count=plane.line_size * plane.height)
    return rows.reshape(plane.height, plane.line_size)


class WindowDecoder(Closing):
    """Decode time windows of one source's video with one open container.

    Use as a context manager; not thread-safe (one per worker)::

        with WindowDecoder(path) as decoder:
            for window in windows:  # time order is fastest
                for decoded in decoder.frames(window.start_ms, window.end_ms):
                    ...

    ``frames`` raises ``CorruptMediaError`` (with the media time) when a packet fails
    to demux, or to decode inside the window (damaged packets shown well before it are
    skipped and counted in ``damaged_packets``: the decoder conceals them, as players
    do), or when the video data stops well before the video stream's declared duration
    (a truncated file). A window reaching past the end of the video just yields the
    frames that exist (``video_end`` then says where it ended).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        info: MediaInfo | None = None,
        threads: bool = True,
        continue_gap: Fraction | None = None,
        seek_mode: str | None = None,
    ) -> None:
        """Open ``path``. ``info``: a ``probe`` result to reuse (else the file is probed).
        ``threads``: let FFmpeg decode with several threads (``thread_type="AUTO"``).
        ``continue_gap``: ``None`` decides from the keyframe index (see
        ``DEFAULT_CONTINUE_GAP``); a number of seconds decodes on through gaps up to that
        long and seeks past longer ones (0: seek for every window that starts ahead).
        ``seek_mode``: ``"exact"``, ``"approximate"`` or ``"decode_through"``; ``None``
        takes the probe's (a source's recorded ``seek_mode``, to skip probing again)."""
        if seek_mode is not None and seek_mode not in SEEK_MODES:
            raise ValueError(f"seek_mode must be one of {SEEK_MODES}, got {seek_mode!r}")
        self.path = str(path)
        self._threads = threads
        self._container = open_input(path)
        try:
            self._stream = select_video_stream(self._container, path)
            if threads:
                # Must be set before the codec opens (probing decodes a frame).
                self._stream.thread_type = "AUTO"
            if info is None:
                info = inspect_container(self._container, path, seek_mode)
            self.info = info
        except BaseException:
            self._container.close()
            raise
        #: How this decoder moves in the file (``"decode_through"`` after a failed seek).
        self.seek_mode = seek_mode or self.info.seek_mode
        self._time_base = self.info.video.time_base
        self._origin = self.info.start_time
        self._stream_start = self._pts_seconds(self.info.video.start_pts)
        # Decoding through: packets shown before this media time are demuxed, not decoded.
        self._demux_until: Fraction | None = None
        self._rotation = self.info.video.rotation
        self._sar = self.info.video.sample_aspect_ratio
        self._continue_gap = continue_gap
        self._nominal_duration = max(1, round(self.info.video.frame_duration / self._time_base))
        declared = self.info.video.duration_ms
        if declared is not None:
            declared_end = ms_to_seconds(declared) + self._pts_seconds(self.info.video.start_pts)
        else:
            declared_end = ms_to_seconds(self.info.duration_ms)
        self._declared_end = declared_end
        # Without a duration of its own (MKV, WebM) the video may just be shorter than the
        # audio: ending early is then no proof of damage (the audio reader checks its own).
        self._end_is_the_streams = declared is not None
        self._reformatter = VideoReformatter()
        # Frames that end before a window are only decoded to serve as references: skip
        # the non-reference ones there (40 % fewer frames decoded in an H.264 stream with
        # B-frames). A guard of a few frames before the window is decoded in full, so the
        # frame on screen at its start has its true successor; with a variable frame rate
        # a missing frame could not be told from a skipped one, so nothing is skipped.
        self._skip_allowed = not self.info.video.variable_frame_rate
        self._skip_guard = max(4 * self.info.video.frame_duration, Fraction(1, 5))
        self._skip_before: Fraction | None = None
        self._skipping = False
        self._frames: Iterator[DecodedFrame] | None = None
        # Frames already pulled from the decoder that a following window may still need
        # (a frame on screen across two abutting windows belongs to both).
        self._recent: deque[DecodedFrame] = deque(maxlen=4)
        self._seek_target = Fraction(0)
        self._last_key: Fraction | None = None
        self._longest_key_interval = Fraction(0)
        self._exhausted = False
        #: Number of seeks done (reopening the file counts as one), for measurements.
        self.seeks = 0
        #: Packets before a window that failed to decode and were skipped (damaged media).
        self.damaged_packets = 0
        self._window_start = Fraction(0)
        #: Packets only demuxed, never decoded, while decoding through (for measurements).
        self.skipped_packets = 0
        #: Number of frames decoded, for measurements.
        self.decoded_frames = 0

    def close(self) -> None:
        """Close the file. Idempotent."""
        self._frames = None
        self._recent.clear()
        self._container.close()

    @property
    def video_end(self) -> Fraction | None:
        """Media seconds when the last frame of the video leaves the screen, once decoding
        has reached the end of the stream (``None`` before)."""
        if not self._exhausted:
            return None
        return self._recent[-1].end if self._recent else self._seek_target

    def frames(self, start_ms: int, end_ms: int) -> Iterator[DecodedFrame]:
        """Every frame on screen at some time in ``[start_ms, end_ms)`` (integer media ms),
        in display order, each exactly once."""
        if end_ms <= start_ms:
            raise ValueError(f"empty window [{start_ms}, {end_ms}) ms")
        start = ms_to_seconds(start_ms)
        end = ms_to_seconds(end_ms)
        if start >= self._declared_end and not self._recent:
            return  # after the end of the video: nothing to seek for
        self._window_start = start
        self._skip_before = start - self._skip_guard if self._skip_allowed else None
        try:
            if not self._can_continue(start):
                self._seek(start)
            for decoded in list(self._recent):
                if decoded.end <= start:
                    continue
                if decoded.start >= end:
                    return
                yield decoded
            assert self._frames is not None
            for decoded in self._frames:
                self._recent.append(decoded)
                if decoded.end <= start:
                    continue
                if decoded.start >= end:
                    return
                yield decoded
            self._check_complete(end)
        except CorruptMediaError:
            self._frames = None  # the next window starts afresh with a seek
            raise

    # -- positioning -------------------------------------------------------------

    def _can_continue(self, start: Fraction) -> bool:
        """Whether decoding on from the current position reaches ``start`` no slower than a seek."""
        if self._frames is None:
            return False
        earliest = self._recent[0].start if self._recent else self._seek_target
        if start < earliest:
            return False
        if self.seek_mode == SEEK_DECODE_THROUGH:
            # Only demux up to the window: as fast as reading, and the only way forward.
            self._demux_until = start - DEMUX_GUARD
            return True
        if not self._recent or self._exhausted:
            return True
        latest = self._recent[-1].start
        if start <= latest:
            return True
        if self._continue_gap is not None:
            return start - latest <= self._continue_gap
        keyframe = self._indexed_keyframe_before(start)
        if keyframe is not None:
            # A seek would restart at that keyframe: only worth it when it is ahead of us.
            return keyframe <= latest
        return start - latest <= max(DEFAULT_CONTINUE_GAP, self._longest_key_interval)

    def _indexed_keyframe_before(self, start: Fraction) -> Fraction | None:
        """Media seconds of the last indexed keyframe at or before ``start``, when the
        container's index covers ``start`` (MP4/MOV/MKV load a full index on open)."""
        entries = self._stream.index_entries
        if len(entries) == 0:
            return None
        target = math.floor((start + self._origin) / self._time_base)
        indexed_until = self._pts_seconds(entries[len(entries) - 1].timestamp)
        if indexed_until < min(start, self._declared_end - _TRUNCATION_TOLERANCE):
            return None  # index not (yet) built that far, as in MPEG-PS while reading
        position = entries.search_timestamp(target, backward=True)
        if position < 0:
            return None
        # Index timestamps are decode times, at most a few frames before presentation.
        return self._pts_seconds(entries[position].timestamp)

    def _seek(self, start: Fraction) -> None:
        """Seek to the keyframe at or before ``start``; back off when the demuxer overshoots.

        Decoding through (or ``start`` at or before the stream's first frame) reopens the
        file instead; a seek that fails switches this decoder to decoding through."""
        if self.seek_mode == SEEK_DECODE_THROUGH or start <= self._stream_start:
            self._rewind(start)
            return
        backoff = Fraction(0)
        for _ in range(_SEEK_RETRIES + 1):
            target = max(Fraction(0), start - backoff)
            try:
                self._start_decoding_at(target)
            except CorruptMediaError:
                # The container cannot seek here (FLV without an index, some AVI):
                # read it from the start instead, for this and every later window.
                self.seek_mode = SEEK_DECODE_THROUGH
                self._rewind(start)
                return
            first = self._peek_first()
            if first is not None and (first.start <= start or first.start <= self._stream_start):
                return
            if target == 0:
                break
            backoff = max(Fraction(1), 2 * backoff)
        # Even a seek to 0 lands late (MPEG-PS seeks by estimated byte position, up to
        # half a second off): read the file from its first byte instead.
        self._rewind(start)

    def _start_decoding_at(self, target: Fraction) -> None:
        self.seeks += 1
        offset = math.floor((target + self._origin) / self._time_base)
        seek_stream(self._container, self._stream, offset, self.path, target)
        self._reset_position(target)

    def _rewind(self, start: Fraction) -> None:
        """Reopen the file, so decoding starts at its very first packet; packets shown
        well before ``start`` are only demuxed."""
        self.seeks += 1
        self._container.close()
        self._container = open_input(self.path)
        self._stream = select_video_stream(self._container, self.path)
        self._skipping = False
        if self._threads:
            self._stream.thread_type = "AUTO"
        self._reset_position(Fraction(0))
        self._demux_until = start - DEMUX_GUARD
        self._peek_first()

    def _reset_position(self, target: Fraction) -> None:
        self._demux_until = None
        self._set_skipping(None)
        self._seek_target = target
        self._recent.clear()
        self._last_key = None
        self._exhausted = False
        self._frames = self._timed_frames()

    def _peek_first(self) -> DecodedFrame | None:
        assert self._frames is not None
        first = next(self._frames, None)
        if first is not None:
            self._recent.append(first)
        return first

    # -- decoding ----------------------------------------------------------------

    def _pts_seconds(self, pts: int) -> Fraction:
        return pts * self._time_base - self._origin

    def _timed_frames(self) -> Iterator[DecodedFrame]:
        """Decoded frames in display order with their display interval (one frame of lookahead)."""
        pending: VideoFrame | None = None
        pending_pts = 0
        for frame in self._decoded():
            pts = frame.pts if frame.pts is not None else frame.dts
            if pts is None:
                # No timestamp at all: it follows the previous frame by one nominal duration.
                pts = pending_pts + self._nominal_duration if pending is not None else 0
            if pending is not None:
                if pts <= pending_pts:
                    continue  # its timestamp does not advance (damaged timing): dropped
                yield self._timed(pending, pending_pts, pts)
            pending, pending_pts = frame, pts
        if pending is not None:
            duration = pending.duration if pending.duration > 0 else self._nominal_duration
            yield self._timed(pending, pending_pts, pending_pts + duration)
        self._exhausted = True

    def _timed(self, frame: VideoFrame, pts: int, next_pts: int) -> DecodedFrame:
        start = self._pts_seconds(pts)
        if pts <= self.info.video.start_pts and start > 0:
            start = Fraction(0)  # the stream's first frame: on screen from media time 0
        if frame.key_frame:
            if self._last_key is not None:
                self._longest_key_interval = max(self._longest_key_interval, start - self._last_key)
            self._last_key = start
        return DecodedFrame(
            frame=frame,
            pts=pts,
            time_base=self._time_base,
            start=start,
            end=self._pts_seconds(next_pts),
            rotation=self._rotation,
            sample_aspect_ratio=self._sar,
            nominal_duration=self.info.video.frame_duration,
            reformatter=self._reformatter,
        )

    def _decoded(self) -> Iterator[VideoFrame]:
        """Raw decoded frames from the current demuxer position; errors name the media time.

        Packets shown before ``_demux_until`` are held (from the last keyframe on), not
        decoded, until a packet at or after it arrives (see ``DEMUX_GUARD``)."""
        packets = self._container.demux(self._stream)
        last_time = self._seek_target
        started = False
        held: list[Packet[Any]] = []
        held_bytes = 0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                packet = None
            except av.error.FFmpegError as error:
                if not started:
                    continue  # a seek can land inside a packet (MPEG-PS): skip to the next
                raise self._decode_error(error, last_time) from error
            if packet is not None and self._held_back(packet):
                if packet.is_keyframe:
                    self.skipped_packets += len(held)  # never decoded
                    held, held_bytes = [], 0
                held.append(packet)
                held_bytes += packet.size
                if held_bytes <= _MAX_HELD_BYTES:
                    continue
                batch = held  # long without a keyframe: decode what is held after all
            else:
                batch = [*held, packet] if packet is not None else held
            held, held_bytes = [], 0
            for item in batch:
                try:
                    self._set_skipping(item.pts)
                    frames = self._stream.decode(item)
                except av.error.FFmpegError as error:
                    if not started or self._before_window(item):
                        # Damage shown only before the window (a reference the decoder
                        # conceals, as players do) does not fail it: counted, skipped.
                        self.damaged_packets += started
                        continue
                    raise self._decode_error(error, last_time) from error
                if item.pts is not None:
                    last_time = self._pts_seconds(item.pts)
                self.decoded_frames += len(frames)
                started = started or bool(frames)
                yield from frames
            if packet is None:
                return

    def _before_window(self, packet: Packet[Any]) -> bool:
        """Whether ``packet`` is shown well before the window being read (by the skip guard)."""
        time = packet.pts if packet.pts is not None else packet.dts
        return time is not None and self._pts_seconds(time) < self._window_start - self._skip_guard

    def _held_back(self, packet: Packet[Any]) -> bool:
        """Whether ``packet`` is shown before the window being decoded through to."""
        if self._demux_until is None or packet.size == 0:
            return False
        time = packet.pts if packet.pts is not None else packet.dts
        if time is None:
            return True
        if self._pts_seconds(time) < self._demux_until:
            return True
        self._demux_until = None  # reached: decode everything from here on
        return False

    def _decode_error(self, error: av.error.FFmpegError, last_time: Fraction) -> CorruptMediaError:
        return CorruptMediaError(
            f"video does not decode: {error_reason(error)}", self.path, time_position(last_time)
        )

    def _set_skipping(self, pts: int | None) -> None:
        """Skip non-reference frames in packets shown well before the current window."""
        skip = (
            self._skip_before is not None
            and pts is not None
            and self._pts_seconds(pts) < self._skip_before
        )
        if skip != self._skipping:
            self._stream.codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
            self._skipping = skip

    def _check_complete(self, end: Fraction) -> None:
        """At the end of the data: a stream that stops well before its declared end is damaged."""
        data_end = self._recent[-1].end if self._recent else self._seek_target
        declared_end = self._declared_end
        if not self._end_is_the_streams:
            return
        if data_end < min(end, declared_end) - _TRUNCATION_TOLERANCE:
            raise CorruptMediaError(
                f"video data ends at {time_position(data_end)}, before the declared "
                f"duration {time_position(declared_end)} (truncated or damaged file)",
                self.path,
                time_position(end),
            )


def times_shown(decoded: DecodedFrame, times_ms: Sequence[int]) -> list[int]:
    """The instants of sorted ``times_ms`` (integer ms) at which ``decoded`` is on screen."""
    first = bisect.bisect_left(times_ms, math.ceil(decoded.start * 1000))
    last = bisect.bisect_left(times_ms, math.ceil(decoded.end * 1000))
    return list(times_ms[first:last])


def select_frames(
    frames: Iterable[DecodedFrame], times_ms: Sequence[int]
) -> Iterator[tuple[int, DecodedFrame]]:
    """``(time_ms, frame on screen at time_ms)`` for each of sorted ``times_ms`` covered by
    ``frames`` (display order). A frame on screen at several instants is given for each."""
    for decoded in frames:
        for time_ms in times_shown(decoded, times_ms):
            yield time_ms, decoded
