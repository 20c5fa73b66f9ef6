"""Exact time: the one place where time units are converted.

* subtitles: integer milliseconds (``ms``)
* video: presentation timestamps ``pts`` in a stream's ``time_base`` (a ``Fraction``)
* audio: integer sample indices at a sample rate (Hz)

Seconds, where they are needed, are ``Fraction`` values. No float seconds are
compared anywhere in the package. Every conversion that can fall between two
units takes an explicit rounding rule.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

Rounding = Literal["floor", "ceil", "nearest"]

MS_PER_SECOND = 1000


def _round(value: Fraction, rounding: Rounding) -> int:
    if rounding == "floor":
        return math.floor(value)
    if rounding == "ceil":
        return math.ceil(value)
    if rounding == "nearest":
        # Half away from zero would be asymmetric for negatives; half-up is what
        # players do for timestamps, which are non-negative in practice.
        return math.floor(value + Fraction(1, 2))
    raise ValueError(f"unknown rounding rule {rounding!r}")


def ms_to_seconds(ms: int) -> Fraction:
    """Milliseconds -> exact seconds."""
    return Fraction(ms, MS_PER_SECOND)


def seconds_to_ms(seconds: Fraction | int, rounding: Rounding = "nearest") -> int:
    """Exact seconds -> integer milliseconds."""
    return _round(Fraction(seconds) * MS_PER_SECOND, rounding)


def pts_to_seconds(pts: int, time_base: Fraction) -> Fraction:
    """A stream timestamp -> exact seconds."""
    return pts * Fraction(time_base)


def pts_to_ms(pts: int, time_base: Fraction, rounding: Rounding = "nearest") -> int:
    """A stream timestamp -> integer milliseconds."""
    return seconds_to_ms(pts_to_seconds(pts, time_base), rounding)


def ms_to_pts(ms: int, time_base: Fraction, rounding: Rounding = "nearest") -> int:
    """Integer milliseconds -> a stream timestamp in ``time_base`` units."""
    return _round(ms_to_seconds(ms) / Fraction(time_base), rounding)


def ms_to_samples(ms: int, sample_rate: int, rounding: Rounding = "nearest") -> int:
    """Integer milliseconds -> a sample index at ``sample_rate`` Hz."""
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    return _round(Fraction(ms * sample_rate, MS_PER_SECOND), rounding)


def samples_to_ms(samples: int, sample_rate: int, rounding: Rounding = "nearest") -> int:
    """A sample index at ``sample_rate`` Hz -> integer milliseconds."""
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    return _round(Fraction(samples * MS_PER_SECOND, sample_rate), rounding)


def ms_to_frame_index(ms: int, fps: Fraction, rounding: Rounding = "floor") -> int:
    """The index of the frame shown at ``ms`` in a constant-rate stream of ``fps``.

    With ``floor`` this is the frame on screen at that instant.
    """
    if fps <= 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    return _round(ms_to_seconds(ms) * Fraction(fps), rounding)


def frame_index_to_ms(index: int, fps: Fraction, rounding: Rounding = "nearest") -> int:
    """The start time of frame ``index`` of a constant-rate stream, in milliseconds."""
    if fps <= 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    return seconds_to_ms(Fraction(index) / Fraction(fps), rounding)


def format_ms(ms: int) -> str:
    """``3723004`` -> ``"01:02:03.004"`` (negative values get a leading minus)."""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
