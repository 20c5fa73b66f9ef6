"""Prosody analysis shared by the blur methods and their verification.

Everything here measures what a blur must keep: the F0 contour (Praat's
autocorrelation pitch through ``praat-parselmouth``), the loudness envelope
(short-time RMS), and syllable nuclei for the speaking rate (after de Jong &
Wempe 2009: intensity peaks that stand out from their neighbours and fall on
voiced frames). Samples are mono float arrays in [-1, 1]; rates are Hz, times
seconds only inside analysis frames (never compared), levels dB re full scale.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from empathynet.errors import MediaError, MissingDependencyError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

PARSELMOUTH_PIN = "praat-parselmouth>=0.4.7,<0.5"
#: Praat's autocorrelation pitch needs a window of this many periods of the pitch floor.
_PERIODS_PER_WINDOW = 3.0
#: Level given to digital silence, dB re full scale (log of zero is undefined).
SILENCE_DBFS = -120.0


def import_parselmouth() -> Any:
    """The ``parselmouth`` module, or a ``MissingDependencyError`` with the install command."""
    try:
        # Through importlib: parselmouth ships no type information.
        return importlib.import_module("parselmouth")
    except ImportError as error:
        raise MissingDependencyError(
            f"audio blurring needs Praat through praat-parselmouth ({error}); "
            f"install it with: pip install '{PARSELMOUTH_PIN}'"
        ) from None


def check_samples(samples: Any, sample_rate: int) -> FloatArray:
    """``samples`` as a 1-D float64 array, or a ``MediaError`` saying what is wrong.

    ``samples``: mono audio as floats in [-1, 1] (any float dtype; integer PCM must be
    scaled first); ``sample_rate``: Hz, positive.
    """
    if not isinstance(sample_rate, int | np.integer) or isinstance(sample_rate, bool):
        raise MediaError(f"sample rate must be an integer number of Hz, got {sample_rate!r}")
    if sample_rate <= 0:
        raise MediaError(f"sample rate must be positive, got {sample_rate} Hz")
    array = np.asarray(samples)
    if array.ndim != 1:
        raise MediaError(f"audio must be mono (one dimension), got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise MediaError(
            f"audio samples must be floats in [-1, 1], got dtype {array.dtype} "
            "(scale integer PCM by its full-scale value first)"
        )
    values = array.astype(np.float64)
    if values.size and not np.all(np.isfinite(values)):
        raise MediaError("audio holds NaN or infinite samples")
    return values


@dataclass(frozen=True)
class PitchTrack:
    """F0 per analysis frame: ``times_s`` (frame centres, seconds from the first sample)
    and ``f0_hz`` (0 where the frame is unvoiced)."""

    times_s: FloatArray
    f0_hz: FloatArray

    @property
    def voiced(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """True on voiced frames."""
        return self.f0_hz > 0

    def at(self, times_s: FloatArray) -> FloatArray:
        """F0 (Hz) of the frame nearest to each time; 0 where that frame is unvoiced or
        the time lies outside the analysed span by more than half a frame."""
        if self.times_s.size == 0:
            return np.zeros(len(times_s))
        step = float(self.times_s[1] - self.times_s[0]) if self.times_s.size > 1 else 0.01
        index = np.rint((np.asarray(times_s) - self.times_s[0]) / step).astype(np.int64)
        inside = (index >= 0) & (index < self.times_s.size)
        out = np.zeros(len(index))
        out[inside] = self.f0_hz[index[inside]]
        return out


def pitch_track(
    samples: FloatArray,
    sample_rate: int,
    *,
    f0_min_hz: float = 75.0,
    f0_max_hz: float = 500.0,
    time_step_s: float = 0.01,
) -> PitchTrack:
    """Praat's autocorrelation pitch (``To Pitch (ac)``, standard settings) between
    ``f0_min_hz`` and ``f0_max_hz``, one frame every ``time_step_s`` seconds.

    A clip shorter than Praat's analysis window (3 periods of ``f0_min_hz``: 40 ms
    at 75 Hz) has no frame, hence no voiced frame.
    """
    parselmouth = import_parselmouth()
    values = check_samples(samples, sample_rate)
    if values.size < math.ceil(_PERIODS_PER_WINDOW / f0_min_hz * sample_rate) + 2:
        return PitchTrack(np.zeros(0), np.zeros(0))
    sound = parselmouth.Sound(values, sampling_frequency=float(sample_rate))
    pitch = sound.to_pitch_ac(time_step=time_step_s, pitch_floor=f0_min_hz, pitch_ceiling=f0_max_hz)
    times = np.asarray(pitch.xs(), dtype=np.float64)
    f0 = np.asarray(pitch.selected_array["frequency"], dtype=np.float64)
    return PitchTrack(times, np.nan_to_num(f0, nan=0.0))


def rms_envelope(samples: FloatArray, sample_rate: int, *, window_ms: float = 25.0) -> FloatArray:
    """Short-time RMS at every sample: the square root of the signal power averaged
    over a triangular window ``window_ms`` wide (two boxcars of half that width), centred.

    Same length as ``samples``; silence gives exactly 0.
    """
    values = check_samples(samples, sample_rate)
    half = max(1, round(window_ms / 2000.0 * sample_rate))
    power = _centred_moving_average(_centred_moving_average(values * values, half), half)
    # Cumulative sums leave ~1e-17 residue where the signal is silent: that is silence.
    return np.sqrt(np.where(power > 1e-14, power, 0.0))


def _centred_moving_average(values: FloatArray, width: int) -> FloatArray:
    """Mean over ``width`` samples centred on each sample (zeros beyond the ends)."""
    if width <= 1 or values.size == 0:
        return values.copy()
    cumulative = np.concatenate(([0.0], np.cumsum(values)))
    index = np.arange(values.size)
    before = width // 2
    upper = np.minimum(index + (width - before), values.size)
    lower = np.maximum(index - before, 0)
    return (cumulative[upper] - cumulative[lower]) / width


@dataclass(frozen=True)
class LevelTrack:
    """Short-time level per analysis frame: ``times_s`` (frame centres, seconds) and
    ``db`` (level in dB; the function that makes the track states the reference)."""

    times_s: FloatArray
    db: FloatArray


def level_track(
    samples: FloatArray,
    sample_rate: int,
    *,
    window_ms: float = 25.0,
    time_step_s: float = 0.01,
) -> LevelTrack:
    """The RMS envelope (``rms_envelope``) read every ``time_step_s`` seconds, in dB re
    full scale (at least ``SILENCE_DBFS``)."""
    values = check_samples(samples, sample_rate)
    envelope = rms_envelope(values, sample_rate, window_ms=window_ms)
    step = max(1, round(time_step_s * sample_rate))
    index = np.arange(step // 2, values.size, step)
    times = index / float(sample_rate)
    return LevelTrack(times, to_dbfs(envelope[index]))


def to_dbfs(rms: FloatArray) -> FloatArray:
    """RMS (full scale = 1) to dB re full scale, ``SILENCE_DBFS`` for zero and below it."""
    with np.errstate(divide="ignore"):
        levels = 20.0 * np.log10(np.maximum(np.asarray(rms, dtype=np.float64), 0.0))
    return np.maximum(levels, SILENCE_DBFS)


def praat_intensity(
    samples: FloatArray, sample_rate: int, *, min_pitch_hz: float = 50.0
) -> LevelTrack:
    """Praat's intensity contour (``To Intensity``, mean not subtracted), every 10 ms.

    Its analysis window is 3.2 periods of ``min_pitch_hz`` (64 ms at 50 Hz): smoother
    than ``level_track``, as the syllable-nucleus method expects. Levels are Praat's dB
    (re 2e-5 Pa for a full-scale value of 1 Pa, i.e. dBFS + 94), floored at 0.
    """
    parselmouth = import_parselmouth()
    values = check_samples(samples, sample_rate)
    if values.size <= math.ceil(6.4 / min_pitch_hz * sample_rate) + 1:
        return LevelTrack(np.zeros(0), np.zeros(0))
    sound = parselmouth.Sound(values, sampling_frequency=float(sample_rate))
    intensity = sound.to_intensity(minimum_pitch=min_pitch_hz, time_step=0.01, subtract_mean=False)
    levels = np.maximum(np.asarray(intensity.values[0], dtype=np.float64), 0.0)
    return LevelTrack(np.asarray(intensity.xs(), dtype=np.float64), levels)


def syllable_nuclei(
    samples: FloatArray,
    sample_rate: int,
    *,
    f0_min_hz: float = 75.0,
    f0_max_hz: float = 500.0,
    silence_db: float = -25.0,
    min_dip_db: float = 2.0,
    pitch: PitchTrack | None = None,
) -> FloatArray:
    """Times (seconds) of syllable nuclei, after de Jong & Wempe (2009).

    A nucleus is a peak of Praat's intensity contour that is louder than
    ``silence_db`` below the contour's 99th percentile, stands at least
    ``min_dip_db`` above the lowest point between it and the previous nucleus, and
    falls on a voiced frame of ``pitch`` (computed with ``f0_min_hz``..``f0_max_hz``
    when not given). The count over the clip's duration is its speaking rate.
    """
    values = check_samples(samples, sample_rate)
    intensity = praat_intensity(values, sample_rate)
    levels = intensity.db
    if levels.size < 3:
        return np.zeros(0)
    threshold = max(float(np.quantile(levels, 0.99)) + silence_db, float(levels.min()))
    interior = np.arange(1, levels.size - 1)
    is_peak = (levels[interior] > levels[interior - 1]) & (levels[interior] >= levels[interior + 1])
    peaks = interior[is_peak & (levels[interior] > threshold)]
    kept: list[int] = []
    for index in peaks:
        if not kept:
            # The first peak needs a dip before it too: from the start of the clip.
            dip = float(levels[: index + 1].min())
        else:
            dip = float(levels[kept[-1] : index + 1].min())
        if levels[index] - dip > min_dip_db:
            kept.append(int(index))
        elif kept and levels[index] > levels[kept[-1]]:
            # A louder peak with no dip in between replaces the previous one.
            kept[-1] = int(index)
    if pitch is None:
        pitch = pitch_track(values, sample_rate, f0_min_hz=f0_min_hz, f0_max_hz=f0_max_hz)
    times = intensity.times_s[np.asarray(kept, dtype=np.int64)]
    return times[pitch.at(times) > 0]
