"""Random splicing (Scherer 1971): the cue's own speech cut into short segments and shuffled.

A content-masking method from the vocal-emotion literature: listeners (and models) hear
the real voice — its timbre, voice quality, pitch and loudness ranges — but in an order
that no longer spells words.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from empathynet.blur.methods import (
    BLUR_METHODS,
    BlurMethod,
    Float32Array,
    FloatArray,
    limit_peak,
)
from empathynet.blur.prosody import PitchTrack, check_samples, rms_envelope

#: Raw RMS at or below which the whole cue is silent: -120 dBFS.
_SILENT_RMS = 1e-6
#: Pauses shorter than this inside speech are spliced with it (a stop closure is no pause).
_MIN_PAUSE_MS = 100.0
#: Permutations drawn; the one that keeps the fewest original neighbours is used.
_PERMUTATION_TRIES = 32


@BLUR_METHODS.register("splice")
class SpliceBlur(BlurMethod):
    """Random splicing: speech cut into ``splice_min_ms``..``splice_max_ms`` segments
    (lengths drawn uniformly), shuffled, joined with ``splice_crossfade_ms`` equal-power
    cross-fades. All of it is decided by ``seed``: the same cue always gives the same output.

    Only speech is shuffled: frames within ``splice_speech_db`` of the loudest frame (RMS
    envelope, 25 ms window; pauses shorter than 100 ms count as speech). The speech
    stretches are joined into one stream, spliced, and poured back into the same stretches,
    so pauses stay where they were and digital silence stays silent beyond 5 ms from
    the voice. Of the permutations
    tried, the one that leaves the fewest segments next to their original neighbour is used.

    Keeps: the real voice (spectrum, timbre, voice quality, breathiness, HNR), the
    distributions of F0 and loudness (the same samples in another order: mean, range,
    variability), the amount of speech and the pauses' timing, duration; roughly the
    speaking rate (segments are about a syllable long).

    Destroys: word order and most words (a segment holds a syllable or less); the F0 and
    loudness contours over time (where the pitch rises or falls, which word is stressed):
    their statistics survive, their shape does not. A segment may still carry one short
    syllable or function word: measure with ``verify_blur``.
    """

    name = "splice"

    def blur(
        self, samples: Any, sample_rate: int, *, pitch: PitchTrack | None = None
    ) -> Float32Array:
        """See the class docstring (``pitch`` is not needed); float32, same length and rate."""
        values = check_samples(samples, sample_rate)
        if values.size == 0:
            return np.zeros(0, dtype=np.float32)
        speech = self.speech_mask(values, sample_rate)
        where = np.flatnonzero(speech)
        output = np.zeros(values.size)
        if where.size:
            output[where] = self.shuffle(values[where], sample_rate)
            # A loud segment may now end a speech stretch: fade each stretch in and out
            # (half a cross-fade) so that no step becomes a click.
            fade = max(1, round(self.config.splice_crossfade_ms / 2000.0 * sample_rate))
            edges = np.flatnonzero(np.diff(np.r_[0, speech.astype(np.int8), 0]))
            for start, stop in zip(edges[::2], edges[1::2], strict=True):
                width = min(fade, (stop - start) // 2)
                ramp = np.sin(0.5 * math.pi * (np.arange(width) + 0.5) / max(width, 1))
                output[start : start + width] *= ramp
                output[stop - width : stop] *= ramp[::-1]
        return limit_peak(output, self.config.peak_limit)

    def speech_mask(self, values: FloatArray, sample_rate: int) -> np.ndarray[Any, Any]:
        """True on the samples that are speech (see the class docstring)."""
        envelope = rms_envelope(values, sample_rate, window_ms=25.0)
        loudest = float(envelope.max())
        if loudest <= _SILENT_RMS:
            return np.zeros(values.size, dtype=bool)
        speech = envelope > max(
            loudest * 10.0 ** (-self.config.splice_speech_db / 20.0), _SILENT_RMS
        )
        # Close pauses shorter than _MIN_PAUSE_MS between two speech stretches.
        edges = np.flatnonzero(np.diff(speech.astype(np.int8)))
        shortest = round(_MIN_PAUSE_MS / 1000.0 * sample_rate)
        for start, stop in zip(edges[:-1] + 1, edges[1:] + 1, strict=True):
            if not speech[start] and start > 0 and stop < values.size and stop - start < shortest:
                speech[start:stop] = True
        # The 25 ms window reaches 12.5 ms into silence: digital silence (-120 dBFS over
        # 5 ms) is never speech, so it stays silent beyond a few ms from the voice.
        audible = rms_envelope(values, sample_rate, window_ms=5.0) > _SILENT_RMS
        mask: np.ndarray[Any, Any] = np.logical_and(speech, audible)
        return mask

    def shuffle(self, stream: FloatArray, sample_rate: int) -> FloatArray:
        """``stream`` cut into segments, shuffled and cross-faded; same length."""
        config = self.config
        rng = np.random.default_rng(config.seed)
        count = stream.size
        shortest = max(1, round(config.splice_min_ms / 1000.0 * sample_rate))
        longest = max(shortest, round(config.splice_max_ms / 1000.0 * sample_rate))
        bounds = [0]
        while count - bounds[-1] > longest:
            bounds.append(bounds[-1] + int(rng.integers(shortest, longest + 1)))
        if count - bounds[-1] < shortest and len(bounds) > 1:
            bounds.pop()  # a short tail joins the segment before it
        bounds.append(count)
        starts = np.asarray(bounds[:-1])
        lengths = np.diff(np.asarray(bounds))
        segments = starts.size
        if segments < 2:
            return stream.copy()
        order = self._permutation(segments, rng)
        half = min(round(config.splice_crossfade_ms / 2000.0 * sample_rate), shortest // 4)
        fade = 2 * half
        ramp = (np.arange(fade) + 0.5) / max(fade, 1)
        fade_in = np.sin(0.5 * math.pi * ramp)
        fade_out = np.cos(0.5 * math.pi * ramp)
        # Each segment is read ``half`` samples beyond both ends, so that its cross-fades
        # with the next one overlap around the cut and the total length stays exact.
        padded = np.pad(stream, half, mode="reflect" if count > half else "edge")
        output = np.zeros(count + 2 * half)
        position = 0
        for rank, segment in enumerate(order):
            length = int(lengths[segment])
            piece = padded[starts[segment] : starts[segment] + length + 2 * half].copy()
            if rank > 0 and fade:
                piece[:fade] *= fade_in
            if rank < segments - 1 and fade:
                piece[-fade:] *= fade_out
            output[position : position + piece.size] += piece
            position += length
        if half and segments:
            # The first and last segments have no partner in their outer margin: drop it.
            return output[half : half + count]
        return output[:count]

    @staticmethod
    def _permutation(segments: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
        """A permutation of ``segments`` that keeps few original neighbours side by side."""
        best: np.ndarray[Any, Any] | None = None
        best_kept = segments
        for _ in range(_PERMUTATION_TRIES):
            order = rng.permutation(segments)
            kept = int(np.sum(np.diff(order) == 1)) + int(order[0] == 0)
            if best is None or kept < best_kept:
                best, best_kept = order, kept
            if kept == 0:
                break
        assert best is not None
        return best
