"""What a media file holds: duration, video geometry and timing, audio streams.

``probe(path)`` opens the file once with PyAV, reads the container and stream
headers, demuxes the first few dozen video packets (to tell constant from
variable frame rate) and decodes the first video frame (to read the display
rotation and to prove the stream decodes), without seeking: some demuxers (FLV
without an index) cannot seek to the start. It never decodes the whole file.

It then tries seeking once, in the middle of the video and of the first audio
stream, and records how the decoders may move in the file (``seek_mode``):

* ``"exact"``: a seek lands at or before its target (MP4, MOV, MKV, WebM, AVI
  with an index): decoders seek to the keyframe before each window.
* ``"approximate"``: a seek works but can land after its target (MPEG-PS/TS,
  which seek by estimated byte position): decoders seek, check where they landed
  and step back when it is too late (``media/decode.py``).
* ``"decode_through"``: a seek fails (FLV without an index, some AVI files):
  decoders never seek; they read the file from its start, demuxing without
  decoding until shortly before each window (``media/decode.py``).

Media time: 0 is the container's start time, as in ffmpeg and players; a frame
with timestamp ``pts`` is on screen from ``pts * time_base - start_time`` seconds.
Subtitle times (integer ms) are on this axis.

``content_hash(path)`` gives a stable source id without reading a whole film.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import statistics
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition, Stream
from av.video.stream import VideoStream

from empathynet.errors import CorruptMediaError, NoVideoStreamError
from empathynet.timeline import seconds_to_ms

#: ``container.duration`` and ``container.start_time`` are in these units (AV_TIME_BASE).
AV_TIME_BASE = Fraction(1, 1_000_000)

#: How many video packets ``probe`` demuxes to measure frame-timestamp steps.
VFR_SAMPLE_PACKETS = 60
#: Packets dropped from the top of the sorted sample: B-frame reordering can hold
#: back a few timestamps that belong between the last ones sampled.
_REORDER_MARGIN = 8
#: Relative tolerance between frame steps (and between the average rate and the
#: rate of the typical step) before a stream counts as variable-frame-rate.
_VFR_TOLERANCE = Fraction(1, 100)

#: The ``seek_mode`` values.
SEEK_EXACT = "exact"
SEEK_APPROXIMATE = "approximate"
SEEK_DECODE_THROUGH = "decode_through"
SEEK_MODES = (SEEK_EXACT, SEEK_APPROXIMATE, SEEK_DECODE_THROUGH)
#: Packets read after a test seek to find where it landed.
_SEEK_TEST_PACKETS = 50
#: Packets ``probe`` may demux before the first video frame comes out of the decoder.
_FIRST_FRAME_PACKETS = 600

#: ``content_hash`` reads the head and the tail of the file, this many bytes each,
_HASH_EDGE_BYTES = 4 * 1024 * 1024
#: plus this many evenly spaced blocks from the middle,
_HASH_MIDDLE_BLOCKS = 16
#: of this many bytes each.
_HASH_BLOCK_BYTES = 64 * 1024


@dataclass(frozen=True)
class VideoStreamInfo:
    """The video stream a build reads (the first one that is not cover art)."""

    index: int  #: stream index in the container
    codec: str  #: decoder name, e.g. ``"h264"``
    width: int  #: stored picture width in pixels (before aspect ratio and rotation)
    height: int  #: stored picture height in pixels
    sample_aspect_ratio: Fraction  #: pixel aspect ratio (1 for square pixels)
    fps: Fraction  #: average frame rate, frames per second
    variable_frame_rate: bool  #: frame durations differ (see ``probe``)
    rotation: int  #: degrees clockwise a player turns the picture: 0, 90, 180 or 270
    time_base: Fraction  #: seconds per ``pts`` unit
    start_pts: int  #: timestamp of the first frame, in ``time_base`` units
    start_ms: int  #: media time of the first frame, integer ms (> 0 when it starts late)
    duration_ms: int | None  #: the stream's declared duration, if the container states one
    frame_count: int | None  #: declared number of frames, if the container states it
    pixel_format: str | None  #: decoder pixel format, e.g. ``"yuv420p"``

    @property
    def display_width(self) -> int:
        """Width in pixels of the picture as a player shows it (see ``display_size``)."""
        return self.display_size[0]

    @property
    def display_height(self) -> int:
        """Height in pixels of the picture as a player shows it."""
        return self.display_size[1]

    @property
    def display_size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels as shown: pixel aspect ratio applied to the width
        (rounded to an even number), then width and height swapped for 90/270 rotation."""
        width = self.width
        if self.sample_aspect_ratio != 1:
            width = 2 * round(self.width * self.sample_aspect_ratio / 2)
        if self.rotation in (90, 270):
            return self.height, width
        return width, self.height

    @property
    def frame_duration(self) -> Fraction:
        """Nominal duration of one frame in seconds (1 / average fps)."""
        return 1 / self.fps


@dataclass(frozen=True)
class AudioStreamInfo:
    """One audio stream."""

    index: int  #: stream index in the container
    codec: str  #: decoder name, e.g. ``"aac"``
    sample_rate: int  #: Hz
    channels: int
    layout: str  #: channel layout name, e.g. ``"stereo"``
    time_base: Fraction  #: seconds per ``pts`` unit
    duration_ms: int | None  #: declared duration, if stated
    language: str | None
    start_ms: int = 0  #: media time of the stream's first sample, integer ms


@dataclass(frozen=True)
class MediaInfo:
    """What ``probe`` found in one media file."""

    path: str
    format_name: str  #: container format, e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"``
    size_bytes: int
    duration_ms: int  #: container duration (the longest stream), integer ms
    start_time: Fraction  #: container start time in seconds; media time 0 is here
    video: VideoStreamInfo
    audio_streams: tuple[AudioStreamInfo, ...]
    #: How decoders may move in the file: ``"exact"``, ``"approximate"`` or
    #: ``"decode_through"`` (see the module docstring).
    seek_mode: str = SEEK_EXACT

    @property
    def audio(self) -> AudioStreamInfo | None:
        """The first audio stream, or ``None`` when the file has none."""
        return self.audio_streams[0] if self.audio_streams else None

    def source_fields(self) -> dict[str, Any]:
        """The ``empathynet.data.models.Source`` fields this probe fills."""
        audio = self.audio
        return {
            "duration_ms": self.duration_ms,
            "fps_num": self.video.fps.numerator,
            "fps_den": self.video.fps.denominator,
            "variable_frame_rate": self.video.variable_frame_rate,
            "width": self.video.display_width,
            "height": self.video.display_height,
            "rotation": self.video.rotation,
            "audio_sample_rate": audio.sample_rate if audio else None,
            "audio_streams": len(self.audio_streams),
            "seek_mode": self.seek_mode,
            "video_start_ms": self.video.start_ms,
            "audio_start_ms": audio.start_ms if audio else None,
        }


def open_input(path: str | os.PathLike[str]) -> InputContainer:
    """Open ``path`` for reading with PyAV.

    Raises ``CorruptMediaError`` (one line naming the file) when the file is missing,
    unreadable or not a media file FFmpeg understands.
    """
    if not Path(path).is_file():
        reason = "is a directory" if Path(path).is_dir() else "file not found"
        raise CorruptMediaError(f"cannot open media: {reason}", path)
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError) as error:
        raise CorruptMediaError(f"cannot open as media: {error_reason(error)}", path) from error


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Read what ``path`` holds, without decoding more than its first video frame.

    Raises ``CorruptMediaError`` when the file is missing, not media or its video does
    not decode, and ``NoVideoStreamError`` when it has no video stream.
    """
    with open_input(path) as container:
        return inspect_container(container, path)


def inspect_container(
    container: InputContainer, path: str | os.PathLike[str], seek_mode: str | None = None
) -> MediaInfo:
    """``probe`` on an already open container (left positioned anywhere: seek before
    reading). ``seek_mode``: one already decided for this file (a source's recorded one):
    the test seeks are not made again."""
    video_stream = select_video_stream(container, path)
    if video_stream.time_base is None:
        raise CorruptMediaError("video stream has no time base", path)
    time_base = Fraction(video_stream.time_base)
    start_time = Fraction(container.start_time or 0) * AV_TIME_BASE
    audio_streams = tuple(_audio_info(stream, start_time) for stream in container.streams.audio)

    steps, rotation = _read_head(container, video_stream, path)
    fps = _average_rate(video_stream, steps, time_base, path)
    if rotation == 0:
        rotation = _rotate_tag(video_stream.metadata.get("rotate"))

    stream_duration_ms: int | None = None
    if video_stream.duration is not None and video_stream.duration > 0:
        stream_duration_ms = seconds_to_ms(video_stream.duration * time_base)
    duration_ms = _container_duration_ms(container, video_stream, audio_streams, time_base)
    if duration_ms is None:
        raise CorruptMediaError("container states no duration", path)
    start_pts = video_stream.start_time or 0
    if seek_mode is None:
        seek_mode = _seek_mode(container, video_stream, start_time, duration_ms)
        audio = container.streams.audio[0] if container.streams.audio else None
        if audio is not None and seek_mode != SEEK_DECODE_THROUGH:
            seek_mode = _worse(seek_mode, _seek_mode(container, audio, start_time, duration_ms))

    codec_context = video_stream.codec_context
    sar = video_stream.sample_aspect_ratio
    video = VideoStreamInfo(
        index=video_stream.index,
        codec=codec_context.name,
        width=codec_context.width,
        height=codec_context.height,
        sample_aspect_ratio=Fraction(sar) if sar else Fraction(1),
        fps=fps,
        variable_frame_rate=_is_variable(steps, fps, time_base),
        rotation=rotation,
        time_base=time_base,
        start_pts=start_pts,
        start_ms=_start_ms(video_stream, start_time),
        duration_ms=stream_duration_ms,
        frame_count=video_stream.frames or None,
        pixel_format=codec_context.pix_fmt,
    )
    return MediaInfo(
        path=str(path),
        format_name=container.format.name,
        size_bytes=Path(path).stat().st_size,
        duration_ms=duration_ms,
        start_time=start_time,
        video=video,
        audio_streams=audio_streams,
        seek_mode=seek_mode,
    )


def select_video_stream(container: InputContainer, path: str | os.PathLike[str]) -> VideoStream:
    """The first video stream that is not an attached picture (cover art).

    Raises ``NoVideoStreamError`` when there is none.
    """
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    raise NoVideoStreamError("no video stream (audio-only or cover art only)", path)


def content_hash(path: str | os.PathLike[str]) -> str:
    """A fast, stable id of a file's content: 16 hex digits.

    SHA-256 over: the file size (8 bytes, big-endian), the first and the last 4 MiB,
    and 16 blocks of 64 KiB at evenly spaced offsets in between. Files up to
    8 MiB + 1 MiB are hashed whole. Renaming or moving a file keeps its id; any
    change of size, header, tail (where MP4 indexes often live) or sampled middle
    changes it. It reads at most 9 MiB, whatever the file size.

    Raises ``CorruptMediaError`` when the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        size = os.path.getsize(path)
        digest.update(size.to_bytes(8, "big"))
        with open(path, "rb") as handle:
            if size <= 2 * _HASH_EDGE_BYTES + _HASH_MIDDLE_BLOCKS * _HASH_BLOCK_BYTES:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            else:
                digest.update(handle.read(_HASH_EDGE_BYTES))
                middle_start = _HASH_EDGE_BYTES
                middle_span = size - 2 * _HASH_EDGE_BYTES - _HASH_BLOCK_BYTES
                for block in range(_HASH_MIDDLE_BLOCKS):
                    handle.seek(middle_start + middle_span * block // (_HASH_MIDDLE_BLOCKS - 1))
                    digest.update(handle.read(_HASH_BLOCK_BYTES))
                handle.seek(size - _HASH_EDGE_BYTES)
                digest.update(handle.read(_HASH_EDGE_BYTES))
    except OSError as error:
        raise CorruptMediaError(f"cannot read file: {error_reason(error)}", path) from error
    return digest.hexdigest()[:16]


def error_reason(error: BaseException) -> str:
    """A short reason from an FFmpeg or OS error, without the repeated file name."""
    if isinstance(error, av.error.FFmpegError):
        return str(error.strerror or error)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _audio_info(stream: AudioStream, origin: Fraction) -> AudioStreamInfo:
    time_base = Fraction(stream.time_base) if stream.time_base else Fraction(1, stream.rate or 1)
    duration_ms = None
    if stream.duration is not None and stream.duration > 0:
        duration_ms = seconds_to_ms(stream.duration * time_base)
    layout = stream.codec_context.layout
    return AudioStreamInfo(
        index=stream.index,
        codec=stream.codec_context.name,
        sample_rate=stream.codec_context.sample_rate,
        channels=layout.nb_channels,
        layout=layout.name,
        time_base=time_base,
        duration_ms=duration_ms,
        language=stream.language,
        start_ms=_start_ms(stream, origin),
    )


def _read_head(
    container: InputContainer, stream: VideoStream, path: str | os.PathLike[str]
) -> tuple[list[int], int]:
    """From the first packets, without seeking: the steps between consecutive presentation
    timestamps, and the clockwise display rotation of the first decoded frame."""
    timestamps: list[int] = []
    rotation: int | None = None
    try:
        for count, packet in enumerate(container.demux(stream)):
            if packet.pts is not None and len(timestamps) < VFR_SAMPLE_PACKETS:
                timestamps.append(packet.pts)
            if rotation is None:
                for frame in stream.decode(packet):
                    # PyAV gives the matrix angle counter-clockwise; players turn the other way.
                    rotation = _normalise_rotation(-frame.rotation)
                    break
            if rotation is not None and len(timestamps) >= VFR_SAMPLE_PACKETS:
                break
            if rotation is None and count >= _FIRST_FRAME_PACKETS:
                break
    except av.error.FFmpegError as error:
        raise CorruptMediaError(f"video does not decode: {error_reason(error)}", path) from error
    if rotation is None:
        raise CorruptMediaError("video stream has no decodable frame", path)
    timestamps.sort()
    if len(timestamps) >= VFR_SAMPLE_PACKETS:
        # The highest few may still miss a B-frame that decodes later; drop them.
        timestamps = timestamps[:-_REORDER_MARGIN]
    return [b - a for a, b in itertools.pairwise(timestamps) if b > a], rotation


def _start_ms(stream: Stream, origin: Fraction) -> int:
    """Media time (ms) of a stream's first timestamp; 0 when the stream states none."""
    if stream.start_time is None or stream.time_base is None:
        return 0
    return max(0, seconds_to_ms(stream.start_time * Fraction(stream.time_base) - origin))


def _seek_mode(
    container: InputContainer, stream: Stream, origin: Fraction, duration_ms: int
) -> str:
    """How seeking in ``stream`` behaves, from one seek to the middle of the file: it
    fails (``decode_through``), lands after its target (``approximate``) or not (``exact``)."""
    if stream.time_base is None:
        return SEEK_DECODE_THROUGH
    time_base = Fraction(stream.time_base)
    target = Fraction(duration_ms, 2000)
    try:
        container.seek(math.floor((target + origin) / time_base), stream=stream, backward=True)
        landed: Fraction | None = None
        for count, packet in enumerate(container.demux(stream)):
            if packet.pts is not None:
                landed = packet.pts * time_base - origin
                break
            if count >= _SEEK_TEST_PACKETS:
                break
    except (av.error.FFmpegError, OSError):
        return SEEK_DECODE_THROUGH
    if landed is None:
        return SEEK_DECODE_THROUGH
    return SEEK_APPROXIMATE if landed > target else SEEK_EXACT


def _worse(a: str, b: str) -> str:
    """The more cautious of two seek modes."""
    return a if SEEK_MODES.index(a) >= SEEK_MODES.index(b) else b


def _average_rate(
    stream: VideoStream, steps: list[int], time_base: Fraction, path: str | os.PathLike[str]
) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    if steps:
        return 1 / (statistics.median_low(steps) * time_base)
    raise CorruptMediaError("cannot determine the video frame rate", path)


def _is_variable(steps: list[int], fps: Fraction, time_base: Fraction) -> bool:
    """Variable frame rate: the sampled steps differ, or the average rate over the whole
    stream differs from the rate of the typical step (frames dropped or held later on)."""
    if len(steps) < 2:
        return False
    typical = statistics.median_low(steps)
    # One tick of jitter is rounding (29.97 fps in a 1/1000 time base steps 33, 34, 33...).
    allowed = max(1, math.floor(typical * _VFR_TOLERANCE))
    if any(abs(step - typical) > allowed for step in steps):
        return True
    typical_rate = 1 / (typical * time_base)
    return abs(typical_rate - fps) > fps * _VFR_TOLERANCE


def _rotate_tag(value: str | None) -> int:
    """The legacy ``rotate`` stream tag (degrees clockwise)."""
    if not value:
        return 0
    try:
        return _normalise_rotation(round(float(value)))
    except ValueError:
        return 0


def _normalise_rotation(degrees: int) -> int:
    """Nearest multiple of 90 in [0, 360)."""
    return (round(degrees / 90) * 90) % 360


def _container_duration_ms(
    container: InputContainer,
    video_stream: VideoStream,
    audio_streams: tuple[AudioStreamInfo, ...],
    time_base: Fraction,
) -> int | None:
    if container.duration is not None and container.duration > 0:
        return seconds_to_ms(container.duration * AV_TIME_BASE)
    candidates = [a.duration_ms for a in audio_streams if a.duration_ms is not None]
    if video_stream.duration:
        candidates.append(seconds_to_ms(video_stream.duration * time_base))
    return max(candidates) if candidates else None
