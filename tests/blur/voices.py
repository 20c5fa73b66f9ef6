"""Generated voices for the blur tests: glottal pulse trains through formant filters
(numpy/scipy), with their exact F0, syllables and silences known."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

RATE = 16_000
#: Formants (Hz) of two vowels: /a/ as in "father" and /i/ as in "see".
VOWEL_A = (730.0, 1090.0, 2440.0)
VOWEL_I = (270.0, 2290.0, 3010.0)
#: Layout of a generated cue, ms: silence, voice, silence, voice, silence.
LAYOUT_MS = ((0, 500, False), (500, 1700, True), (1700, 2100, False), (2100, 3100, True))
TOTAL_MS = 3600


@dataclass(frozen=True)
class Voice:
    """A generated cue: samples, rate, the F0 (Hz) it was made with at every sample
    (0 in silence), and its silent stretches as (first, last) sample indices."""

    samples: np.ndarray
    rate: int
    f0_hz: np.ndarray
    silences: tuple[tuple[int, int], ...]
    syllables: int


def glottal_voice(
    *,
    f0_start: float = 110.0,
    f0_end: float = 190.0,
    formants: tuple[float, float, float] = VOWEL_A,
    syllables_per_second: float = 4.0,
    peak: float = 0.5,
    rate: int = RATE,
) -> Voice:
    """A vowel sung on a gliding F0 (geometric from ``f0_start`` to ``f0_end`` over the
    cue, with 5 Hz vibrato), amplitude-modulated into syllables, in two voiced stretches
    separated and surrounded by exact digital silence; peak amplitude ``peak``."""
    count = TOTAL_MS * rate // 1000
    t = np.arange(count) / rate
    f0 = f0_start * (f0_end / f0_start) ** (t / t[-1]) * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    source = np.zeros(count)
    for k in range(1, int(0.45 * rate / f0_start) + 1):
        audible = k * f0 < 0.45 * rate
        source += np.where(audible, np.sin(k * phase) / k, 0.0)
    voice = source
    for frequency, bandwidth in zip(formants, (80.0, 100.0, 150.0), strict=True):
        radius = np.exp(-np.pi * bandwidth / rate)
        theta = 2 * np.pi * frequency / rate
        voice = signal.lfilter([1 - radius], [1, -2 * radius * np.cos(theta), radius**2], voice)
    mask = np.zeros(count)
    silences = []
    syllables = 0
    for start_ms, end_ms, voiced in LAYOUT_MS:
        first, last = start_ms * rate // 1000, end_ms * rate // 1000
        if voiced:
            local = t[first:last] - t[first]
            # Syllables: loud in the middle, 20 dB down between them; 20 ms fades at the
            # ends of the stretch, as a voice starts and stops.
            ramp = np.clip(np.minimum(local, local[-1] - local) / 0.02, 0.0, 1.0)
            mask[first:last] = ramp * (
                0.1 + 0.9 * np.sin(np.pi * syllables_per_second * local) ** 2
            )
            syllables += round(syllables_per_second * (end_ms - start_ms) / 1000)
        else:
            silences.append((first, last))
    silences.append((LAYOUT_MS[-1][1] * rate // 1000, count))
    samples = voice * mask  # exactly 0 in the silences
    samples *= peak / np.max(np.abs(samples))
    return Voice(
        samples.astype(np.float32),
        rate,
        np.where(mask > 0, f0, 0.0),
        tuple(silences),
        syllables,
    )
