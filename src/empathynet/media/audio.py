"""Audio: exact windows at 16 kHz mono, and WAV files.

``AudioReader(path)`` opens a source once and ``read(start_ms, end_ms)`` returns
float32 mono samples covering exactly ``[start_ms, end_ms)`` of media time:
``ms_to_samples(end_ms) - ms_to_samples(start_ms)`` samples, sample ``k`` at media
time ``start + k / sample_rate``. Decoding goes through PyAV's ``AudioResampler``
(FFmpeg's swresample), which keeps the timestamps: each resampled block is placed
at its own timestamp (rounded to the nearest output sample: ±31 µs at 16 kHz), not
counted from the seek point. After a seek, resampling restarts where the source and
output sample grids meet, so a window read after a seek holds the same samples as
one decoded on to (for MP4/MOV, whose timestamps count source samples; MPEG-PS
timestamps fall between samples, and there a seek can shift the phase by a fraction
of a sample). Channels are mixed down
with FFmpeg's standard matrix, normalised so a full-scale stereo signal stays
within [-1, 1] (stereo: the mean of left and right).

Where the container cannot seek (``seek_mode="decode_through"``, as ``probe``
records it per source, or after a seek that raised) the reader never seeks: it reads
the file from its start (reopening it for a window behind its position) and only
demuxes the packets before each window's pre-roll, without decoding them.

Where the source has no audio (before the audio stream starts, after it ends, in
a gap) the window holds silence (zeros): that is what a player plays. Audio data
that stops well before the declared duration is a damaged file
(``CorruptMediaError``).
"""

from __future__ import annotations

import math
import os
import wave
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av.error
import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.packet import Packet

from empathynet.errors import CorruptMediaError, NoAudioStreamError
from empathynet.media.decode import seek_stream, time_position
from empathynet.media.probe import (
    AV_TIME_BASE,
    SEEK_DECODE_THROUGH,
    SEEK_EXACT,
    SEEK_MODES,
    error_reason,
    open_input,
)
from empathynet.resources import Closing
from empathynet.store.atomic import atomic_write_with
from empathynet.timeline import ms_to_samples

#: The dataset's audio sample rate, Hz.
DEFAULT_SAMPLE_RATE = 16_000
#: Decoding starts this long (seconds) before a window: audio codecs (AAC, MP3) need
#: a frame or two of history before their output is exact.
_PREROLL = Fraction(1, 5)
#: Windows in time order: decode on (instead of seeking) through gaps up to this
#: long, seconds. Audio decodes at hundreds of times real time; a seek costs a
#: demuxer index search and a codec flush.
DEFAULT_CONTINUE_GAP = Fraction(10)
#: Blocks that land within this many samples of the previous block's end continue
#: it (timestamp rounding), rather than leaving a one-sample gap or overlap.
_JOIN_TOLERANCE = 2
_SEEK_RETRIES = 6
#: Audio data ending this long (seconds) before its declared duration is damaged.
_TRUNCATION_TOLERANCE = Fraction(1)

FloatArray = np.ndarray[Any, np.dtype[np.float32]]


class AudioReader(Closing):
    """Read exact windows of one source's audio as mono float32 at ``sample_rate`` Hz.

    Use as a context manager, one per worker; windows in time order are fastest::

        with AudioReader(path) as reader:
            samples = reader.read(12_000, 14_500)  # 40_000 samples at 16 kHz

    Raises ``NoAudioStreamError`` when the file has no audio stream and
    ``CorruptMediaError`` when it cannot be opened or decoded.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        stream_index: int | None = None,
        continue_gap: Fraction = DEFAULT_CONTINUE_GAP,
        seek_mode: str = SEEK_EXACT,
    ) -> None:
        """Open ``path``. ``stream_index``: the container stream index of the audio stream
        to read (default: the first audio stream). ``continue_gap``: seconds.
        ``seek_mode``: the source's, from ``probe`` (``"exact"`` and ``"approximate"``
        seek and check where they landed; ``"decode_through"`` never seeks)."""
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {sample_rate}")
        if seek_mode not in SEEK_MODES:
            raise ValueError(f"seek_mode must be one of {SEEK_MODES}, got {seek_mode!r}")
        #: How this reader moves in the file (``"decode_through"`` after a failed seek).
        self.seek_mode = seek_mode
        self.path = str(path)
        self.sample_rate = sample_rate
        self._continue_gap_samples = math.ceil(continue_gap * sample_rate)
        self._container = open_input(path)
        try:
            self._stream = self._select_stream(stream_index)
        except BaseException:
            self._container.close()
            raise
        # Media time 0 is the container start; keep it as an exact sample offset.
        origin = Fraction(self._container.start_time or 0) * AV_TIME_BASE
        self._origin_samples = origin * sample_rate
        self._declared_end = self._declared_end_samples()
        # The decoded, resampled samples not yet discarded: [_buffer_start, _buffer_end).
        self._chunks: list[FloatArray] = []
        self._buffer_start = 0
        self._buffer_end = 0
        # The end of the data decoded since the last seek (None: nothing yet).
        self._position: int | None = None
        self._seek_sample = 0
        self._decoding = False
        self._exhausted = False
        self._frames: Iterator[tuple[int, FloatArray]] | None = None
        self._pending: list[tuple[int, FloatArray]] = []
        self._resampler: AudioResampler | None = None
        # Decoding through: packets before this media time (seconds) are not decoded.
        self._demux_until: Fraction | None = None
        #: Seeks done (reopening the file counts as one), for measurements.
        self.seeks = 0
        #: Packets before a window that failed to decode and were skipped (damaged media).
        self.damaged_packets = 0
        self._window_first = Fraction(0)
        #: Packets only demuxed, never decoded, while decoding through (for measurements).
        self.skipped_packets = 0

    def close(self) -> None:
        """Close the file. Idempotent."""
        self._chunks = []
        self._frames = None
        self._container.close()

    @property
    def source_sample_rate(self) -> int:
        """The audio stream's own sample rate, Hz."""
        return int(self._stream.codec_context.sample_rate)

    def read(self, start_ms: int, end_ms: int) -> FloatArray:
        """Mono float32 samples for ``[start_ms, end_ms)`` media time (integer ms):
        exactly ``ms_to_samples(end_ms) - ms_to_samples(start_ms)`` of them."""
        if end_ms <= start_ms:
            raise ValueError(f"empty window [{start_ms}, {end_ms}) ms")
        first = ms_to_samples(start_ms, self.sample_rate)
        last = ms_to_samples(end_ms, self.sample_rate)
        return self.read_samples(first, last)

    def read_samples(self, first: int, last: int) -> FloatArray:
        """Samples ``[first, last)`` (indices at ``sample_rate`` on the media time axis)."""
        if first >= self._declared_end > 0 and not self._chunks:
            return np.zeros(last - first, dtype=np.float32)  # after the end: silence
        self._window_first = Fraction(first, self.sample_rate)
        try:
            if not self._can_continue(first):
                self._seek(first)
            self._decode_until(last, keep_from=first)
        except CorruptMediaError:
            self._decoding = False
            raise
        out = np.zeros(last - first, dtype=np.float32)
        self._copy_into(out, first)
        self._discard_before(first)
        if self._exhausted:
            self._check_complete(last)
        return out

    def read_all(self) -> FloatArray:
        """The whole stream from media time 0 to the end of its data."""
        self._seek(0)
        self._decode_until(None, keep_from=0)
        out = np.zeros(max(0, self._position or 0), dtype=np.float32)
        self._copy_into(out, 0)
        if self._exhausted:
            self._check_complete(self._declared_end)
        return out

    # -- positioning -------------------------------------------------------------

    def _select_stream(self, stream_index: int | None) -> AudioStream:
        streams = list(self._container.streams.audio)
        if not streams:
            raise NoAudioStreamError("no audio stream", self.path)
        if stream_index is None:
            return streams[0]
        for stream in streams:
            if stream.index == stream_index:
                return stream
        raise NoAudioStreamError(f"no audio stream with index {stream_index}", self.path)

    def _declared_end_samples(self) -> int:
        stream = self._stream
        if stream.duration and stream.time_base:
            start = stream.start_time or 0
            seconds = (start + stream.duration) * Fraction(stream.time_base)
            return math.floor(seconds * self.sample_rate - self._origin_samples)
        if self._container.duration:
            return math.floor(Fraction(self._container.duration) * AV_TIME_BASE * self.sample_rate)
        return 0

    def _can_continue(self, first: int) -> bool:
        if not self._decoding:
            return False
        position = self._position if self._position is not None else self._seek_sample
        available_from = self._buffer_start if self._chunks else position
        if first < available_from:
            return False
        if first - position <= self._continue_gap_samples:
            return True
        if self.seek_mode == SEEK_DECODE_THROUGH:
            # Far ahead: go on from here, demuxing without decoding up to the pre-roll.
            self._reset_decoding(Fraction(first, self.sample_rate) - _PREROLL, demux=True)
            return True
        return False

    def _seek(self, first: int) -> None:
        """Seek to decode from before sample ``first``; back off when the demuxer overshoots."""
        backoff = Fraction(0)
        start = Fraction(first, self.sample_rate)
        if self.seek_mode == SEEK_DECODE_THROUGH or first <= self._stream_start_sample():
            self._rewind(start - _PREROLL)
            return
        for _ in range(_SEEK_RETRIES + 1):
            target = max(Fraction(0), start - _PREROLL - backoff)
            try:
                self._start_decoding_at(target)
            except CorruptMediaError:
                # The container cannot seek here (FLV without an index, some AVI): read
                # it from the start instead, for this and every later window.
                self.seek_mode = SEEK_DECODE_THROUGH
                self._rewind(start - _PREROLL)
                return
            block_start = self._next_block_start()
            if block_start is None or block_start <= max(first, self._stream_start_sample()):
                return
            if target == 0:
                # Even a seek to 0 landed late (approximate MPEG-PS seeking): reopen instead.
                self._rewind(start - _PREROLL)
                return
            backoff = max(Fraction(1), 2 * backoff)

    def _stream_start_sample(self) -> int:
        """Sample index of the audio stream's first sample on the media axis."""
        start = self._stream.start_time or 0
        time_base = Fraction(self._stream.time_base or Fraction(1, self.source_sample_rate))
        return math.floor(start * time_base * self.sample_rate - self._origin_samples)

    def _start_decoding_at(self, target: Fraction) -> None:
        self.seeks += 1
        time_base = Fraction(self._stream.time_base or Fraction(1, self.source_sample_rate))
        offset = math.floor((target + self._origin_samples / self.sample_rate) / time_base)
        seek_stream(self._container, self._stream, offset, self.path, target)
        self._reset_decoding(target)

    def _rewind(self, start: Fraction) -> None:
        """Reopen the file, so reading starts at its very first packet; packets before
        media time ``start`` (seconds) are only demuxed."""
        self.seeks += 1
        index = self._stream.index
        self._container.close()
        self._container = open_input(self.path)
        self._stream = self._select_stream(index)
        self._reset_decoding(max(Fraction(0), start), demux=True)
        self._next_block_start()

    def _reset_decoding(self, target: Fraction, *, demux: bool = False) -> None:
        """Start decoding afresh from the demuxer's position, for media time ``target``
        on; ``demux``: packets before ``target`` are demuxed, not decoded."""
        self._demux_until = target if demux and target > 0 else None
        self._chunks = []
        self._buffer_start = self._buffer_end = 0
        self._position = None
        self._seek_sample = math.floor(target * self.sample_rate)
        self._decoding = True
        self._exhausted = False
        self._resampler = AudioResampler(
            format="flt",
            layout="mono",
            rate=self.sample_rate,
            # Normalise the downmix matrix: stereo -> (L + R) / 2, never above full scale.
            options={"rematrix_maxval": "1.0"},
        )
        self._frames = self._resampled()
        self._pending = []

    def _next_block_start(self) -> int | None:
        """Decode the first resampled block after a seek and return its first sample index."""
        assert self._frames is not None
        block = next(self._frames, None)
        if block is None:
            self._exhausted = True
            return None
        self._pending.append(block)
        return block[0]

    # -- decoding ----------------------------------------------------------------

    def _resampled(self) -> Iterator[tuple[int, FloatArray]]:
        """``(first sample index, samples)`` blocks at ``sample_rate`` in stream order."""
        assert self._resampler is not None
        packets = self._container.demux(self._stream)
        position = Fraction(self._seek_sample, self.sample_rate)
        next_index: int | None = None  # where the last block ended
        started = False
        while True:
            try:
                packet = next(packets)
                if self._held_back(packet):
                    self.skipped_packets += 1
                    continue
                frames = self._stream.decode(packet)
                if frames and not started:
                    frames[0] = self._on_output_grid(frames[0])
                blocks = [out for f in frames for out in self._resampler.resample(f)]
                if packet.size == 0:  # the flush packet at the end of the data
                    blocks += self._resampler.resample(None)
            except StopIteration:
                return
            except av.error.FFmpegError as error:
                if not started or position < self._window_first:
                    # A seek can land inside a frame (MPEG-PS): skip to the next whole one.
                    # Damage in the pre-roll before the window is skipped too (counted).
                    self.damaged_packets += started
                    continue
                raise CorruptMediaError(
                    f"audio does not decode: {error_reason(error)}",
                    self.path,
                    time_position(position),
                ) from error
            started = started or bool(frames)
            for block in blocks:
                samples: FloatArray = block.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                if block.pts is not None:
                    first_index = math.floor(block.pts - self._origin_samples + Fraction(1, 2))
                elif next_index is not None:
                    # The resampler's flush at the end of the data (WMA) carries no
                    # timestamp: its samples follow the block before.
                    first_index = next_index
                else:
                    raise CorruptMediaError(
                        "audio frame without timestamp", self.path, time_position(position)
                    )
                position = Fraction(first_index, self.sample_rate)
                next_index = first_index + len(samples)
                yield first_index, samples

    def _held_back(self, packet: Packet[Any]) -> bool:
        """Whether ``packet`` ends before the media time decoding through goes to."""
        if self._demux_until is None or packet.size == 0:
            return False
        time = packet.pts if packet.pts is not None else packet.dts
        if time is None or packet.time_base is None:
            return False
        end = (time + (packet.duration or 0)) * Fraction(packet.time_base)
        if end - self._origin_samples / self.sample_rate < self._demux_until:
            return True
        self._demux_until = None  # reached: decode everything from here on
        return False

    def _on_output_grid(self, frame: AudioFrame) -> AudioFrame:
        """The first frame after a seek, without the few samples before the next instant
        where source and output sample grids meet (every 3 samples from 48 kHz to 16 kHz,
        441 from 44.1 kHz). Resampling then runs in the same phase as a decode from time
        0, so a window read after a seek has the same samples as one decoded on to. Only
        when the frame's timestamp is an exact source sample (MP4, not MPEG-PS)."""
        rate = frame.sample_rate
        if frame.pts is None or frame.time_base is None or rate <= 0:
            return frame
        origin = self._origin_samples * rate / self.sample_rate
        position = frame.pts * Fraction(frame.time_base) * rate - origin
        grid = rate // math.gcd(rate, self.sample_rate)
        if position.denominator != 1 or grid == 1:
            return frame
        drop = -position.numerator % grid
        shift = Fraction(drop, rate) / Fraction(frame.time_base)
        if drop == 0 or drop >= frame.samples or shift.denominator != 1:
            return frame
        samples = frame.to_ndarray()
        channels = frame.layout.nb_channels
        kept = samples[:, drop:] if frame.format.is_planar else samples[:, drop * channels :]
        trimmed = AudioFrame.from_ndarray(
            cast(Any, np.ascontiguousarray(kept)),
            format=frame.format.name,
            layout=frame.layout.name,
        )
        trimmed.sample_rate = rate
        trimmed.time_base = frame.time_base
        trimmed.pts = frame.pts + shift.numerator
        return trimmed

    def _decode_until(self, last: int | None, *, keep_from: int) -> None:
        """Decode until sample ``last`` is reached (``None``: the end of the data),
        buffering the samples from ``keep_from`` on."""
        while last is None or self._position is None or self._position < last:
            if self._pending:
                first_index, samples = self._pending.pop(0)
            else:
                block = None
                if not self._exhausted and self._frames is not None:
                    block = next(self._frames, None)
                if block is None:
                    self._exhausted = True
                    return
                first_index, samples = block
            self._append(first_index, samples, keep_from)

    def _append(self, first_index: int, samples: FloatArray, keep_from: int) -> None:
        """Add one resampled block at its own position; gaps become silence."""
        position = self._position
        if position is not None:
            if abs(first_index - position) <= _JOIN_TOLERANCE:
                first_index = position  # timestamp rounding, not a real gap or overlap
            elif first_index < position:  # overlaps what was decoded: keep the new part
                samples = samples[position - first_index :]
                first_index = position
        end_index = first_index + len(samples)
        if len(samples) == 0:
            return
        self._position = end_index
        lo = max(first_index, keep_from)
        if lo >= end_index:
            return
        if not self._chunks:
            self._buffer_start = lo
        elif lo > self._buffer_end:
            self._chunks.append(np.zeros(lo - self._buffer_end, dtype=np.float32))
        self._chunks.append(samples[lo - first_index :])
        self._buffer_end = end_index

    def _copy_into(self, out: FloatArray, first: int) -> None:
        """Copy the buffered samples that fall in ``out`` (which starts at sample ``first``)."""
        if not self._chunks:
            return
        buffer = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = [buffer]
        lo = max(first, self._buffer_start)
        hi = min(first + len(out), self._buffer_end)
        if hi > lo:
            out[lo - first : hi - first] = buffer[lo - self._buffer_start : hi - self._buffer_start]

    def _discard_before(self, first: int) -> None:
        if not self._chunks or first <= self._buffer_start:
            return
        buffer = self._chunks[0]
        drop = min(first - self._buffer_start, len(buffer))
        self._chunks = [buffer[drop:]]
        self._buffer_start += drop

    def _check_complete(self, last: int) -> None:
        data_end = self._position if self._position is not None else self._seek_sample
        declared = self._declared_end
        tolerance = math.ceil(_TRUNCATION_TOLERANCE * self.sample_rate)
        if self._decoding and data_end < min(last, declared) - tolerance:
            raise CorruptMediaError(
                f"audio data ends at {time_position(Fraction(data_end, self.sample_rate))}, before "
                f"the declared duration {time_position(Fraction(declared, self.sample_rate))} "
                "(truncated or damaged file)",
                self.path,
            )


def read_audio(
    path: str | os.PathLike[str],
    start_ms: int,
    end_ms: int,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
) -> FloatArray:
    """Mono float32 samples of ``[start_ms, end_ms)`` media time at ``sample_rate`` Hz,
    exactly ``ms_to_samples(end_ms) - ms_to_samples(start_ms)`` long.

    Raises ``NoAudioStreamError`` / ``CorruptMediaError``. For several windows of one
    file, use one ``AudioReader`` (or ``read_audio_windows``): it decodes the file once.
    """
    with AudioReader(path, sample_rate=sample_rate) as reader:
        return reader.read(start_ms, end_ms)


def read_audio_windows(
    path: str | os.PathLike[str],
    windows: list[tuple[int, int]],
    sample_rate: int = DEFAULT_SAMPLE_RATE,
) -> list[FloatArray]:
    """``read_audio`` for each ``(start_ms, end_ms)`` window with one reader (time order is
    fastest: the file is decoded once)."""
    with AudioReader(path, sample_rate=sample_rate) as reader:
        return [reader.read(start, end) for start, end in windows]


def write_wav(
    path: str | os.PathLike[str], samples: np.ndarray[Any, Any], sample_rate: int
) -> None:
    """Write 16-bit PCM WAV atomically (temp name, fsync, rename).

    ``samples``: float in [-1, 1] (clipped beyond), shape ``(n,)`` for mono or
    ``(n, channels)``; ``sample_rate`` in Hz.
    """
    array = np.asarray(samples)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError(f"samples must be (n,) or (n, channels), got shape {array.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    pcm = np.rint(np.clip(array.astype(np.float64), -1.0, 1.0) * 32767).astype("<i2")

    def write(tmp: Path) -> None:
        with wave.open(str(tmp), "wb") as handle:
            handle.setnchannels(pcm.shape[1])
            handle.setsampwidth(2)
            handle.setframerate(sample_rate)
            handle.writeframes(pcm.tobytes())

    atomic_write_with(Path(path), write)


def read_wav(path: str | os.PathLike[str]) -> tuple[FloatArray, int]:
    """Read an integer-PCM WAV (8, 16, 24 or 32 bit): ``(samples, sample_rate)``.

    ``samples`` is float32 in [-1, 1): shape ``(n,)`` for mono, ``(n, channels)`` otherwise.
    Raises ``CorruptMediaError`` for a missing, damaged or non-PCM file.
    """
    try:
        with wave.open(str(path), "rb") as handle:
            channels = handle.getnchannels()
            width = handle.getsampwidth()
            rate = handle.getframerate()
            raw = handle.readframes(handle.getnframes())
    except (OSError, EOFError, wave.Error) as error:
        raise CorruptMediaError(f"cannot read WAV: {error}", path) from error
    if width == 1:
        ints = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 128
    elif width == 2:
        ints = np.frombuffer(raw, dtype="<i2").astype(np.int64)
    elif width == 3:
        triplets = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
        ints = triplets[:, 0] | (triplets[:, 1] << 8) | (triplets[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
    elif width == 4:
        ints = np.frombuffer(raw, dtype="<i4").astype(np.int64)
    else:
        raise CorruptMediaError(f"unsupported WAV sample width {width} bytes", path)
    values: FloatArray = (ints / float(1 << (8 * width - 1))).astype(np.float32)
    if channels > 1:
        values = values.reshape(-1, channels)
    return values, rate


def read_wav_mono(path: str | os.PathLike[str]) -> tuple[npt.NDArray[np.float64], int]:
    """``read_wav`` with the channels averaged: ``(samples (n,) float64, sample_rate)``."""
    samples, rate = read_wav(path)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    return np.asarray(mono, dtype=np.float64), rate
