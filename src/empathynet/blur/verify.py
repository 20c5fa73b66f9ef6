"""Per-cue proof that a blur kept the prosody and lost the words.

``verify_blur`` compares a raw cue with its blurred version:

* words: an offline recogniser (``Recognizer``, optional) transcribes both; word
  error rates of the raw and blurred transcripts against the reference text (the
  subtitle), of the blurred against the raw transcript, and the content words the
  blurred transcript shares with the reference or the raw transcript;
* pitch: Pearson correlation and RMS difference (semitones) of the F0 contours on
  frames voiced in both (Praat pitch, ``BlurConfig`` F0 range and frame step);
* loudness: Pearson correlation of the 25 ms RMS level contours (dB) on frames
  where either is within 60 dB of the raw cue's loudest frame, lower levels
  raised to that floor;
* speaking rate: syllable nuclei (``prosody.syllable_nuclei``) counted in both;
  the ratio blurred / raw;
* duration: equal sample counts.

``summarize_blur`` gives medians over many cues and names the cues whose words
may still be intelligible.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from empathynet.blur.asr import Recognizer
from empathynet.blur.methods import blur_pitch
from empathynet.blur.prosody import (
    FloatArray,
    PitchTrack,
    check_samples,
    level_track,
    syllable_nuclei,
)
from empathynet.blur.wer import align_words, content_words, normalize_words
from empathynet.config import BlurConfig

#: Fewer frames voiced in both than this give no F0 correlation.
MIN_F0_FRAMES = 5
#: Loudness frames this far below the raw cue's loudest frame are left out (dB).
LEVEL_RANGE_DB = 60.0
#: Thresholds of ``may_be_intelligible``.
RECOGNISED_RAW_WER = 0.5
UNINTELLIGIBLE_WER = 0.9
MAX_SHARED_CONTENT_WORDS = 1


@dataclass(frozen=True)
class BlurFigures:
    """What survived the blur of one cue. ``None``: not measurable (no recogniser,
    no reference words, too few voiced frames, no syllable in the raw cue)."""

    #: Sample rate of both signals, Hz.
    sample_rate: int
    raw_samples: int
    blurred_samples: int
    #: True when both signals have the same number of samples.
    same_duration: bool
    #: Frames (one per ``BlurConfig.frame_ms``) voiced in the raw, the blurred, and both.
    voiced_frames_raw: int
    voiced_frames_blurred: int
    voiced_frames_both: int
    #: Pearson correlation of F0 in semitones on frames voiced in both.
    f0_correlation: float | None
    #: RMS difference of F0 on frames voiced in both, semitones.
    f0_rmse_semitones: float | None
    #: Pearson correlation of the RMS level contours (dB).
    intensity_correlation: float | None
    #: Syllable nuclei found in the raw and in the blurred cue.
    syllables_raw: int
    syllables_blurred: int
    #: ``syllables_blurred / syllables_raw`` (the durations are equal).
    speaking_rate_ratio: float | None
    #: Words of the normalised reference text.
    reference_words: int = 0
    #: Recogniser transcripts (``None`` without a recogniser).
    raw_transcript: str | None = None
    blurred_transcript: str | None = None
    #: WER of the raw transcript against the reference text.
    wer_raw: float | None = None
    #: WER of the blurred transcript against the reference text.
    wer_blurred: float | None = None
    #: WER of the blurred transcript against the raw transcript.
    wer_blurred_vs_raw: float | None = None
    #: Reference words the blurred transcript got right (alignment hits).
    blurred_hits: int | None = None
    #: Distinct content words (not ``STOP_WORDS``) of the blurred transcript that are
    #: also in the reference text or the raw transcript.
    shared_content_words: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (for the manifest and JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> BlurFigures:
        """The inverse of ``to_dict``; unknown keys are ignored."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


def _pearson(first: FloatArray, second: FloatArray) -> float | None:
    if first.size < 2 or np.ptp(first) == 0.0 or np.ptp(second) == 0.0:
        return None
    return float(np.corrcoef(first, second)[0, 1])


def f0_figures(
    raw_pitch: PitchTrack, blurred_pitch: PitchTrack
) -> tuple[int, int, int, float | None, float | None]:
    """``(voiced_raw, voiced_blurred, voiced_both, correlation, rmse_semitones)`` of two
    pitch tracks made with the same settings from equally long signals."""
    frames = min(raw_pitch.f0_hz.size, blurred_pitch.f0_hz.size)
    raw_f0 = raw_pitch.f0_hz[:frames]
    blurred_f0 = blurred_pitch.f0_hz[:frames]
    both = (raw_f0 > 0) & (blurred_f0 > 0)
    counts = (int(raw_pitch.voiced.sum()), int(blurred_pitch.voiced.sum()), int(both.sum()))
    if counts[2] < MIN_F0_FRAMES:
        return (*counts, None, None)
    raw_st = 12.0 * np.log2(raw_f0[both])
    blurred_st = 12.0 * np.log2(blurred_f0[both])
    rmse = float(np.sqrt(np.mean((raw_st - blurred_st) ** 2)))
    return (*counts, _pearson(raw_st, blurred_st), rmse)


def intensity_correlation(raw: FloatArray, blurred: FloatArray, sample_rate: int) -> float | None:
    """Pearson correlation of the 25 ms RMS level contours (dB, every 10 ms) on frames
    where either signal is within ``LEVEL_RANGE_DB`` of the raw signal's loudest frame,
    with lower levels raised to that floor."""
    raw_levels = level_track(raw, sample_rate).db
    blurred_levels = level_track(blurred, sample_rate).db
    frames = min(raw_levels.size, blurred_levels.size)
    if frames == 0:
        return None
    raw_levels, blurred_levels = raw_levels[:frames], blurred_levels[:frames]
    # Levels under the floor are all "silence": how far under (a -120 dBFS digital zero or
    # a -70 dBFS tail) is not a loudness difference anyone hears.
    floor = float(raw_levels.max()) - LEVEL_RANGE_DB
    active = (raw_levels > floor) | (blurred_levels > floor)
    return _pearson(
        np.maximum(raw_levels[active], floor), np.maximum(blurred_levels[active], floor)
    )


def verify_blur(
    raw: Any,
    blurred: Any,
    sample_rate: int,
    reference_text: str,
    recognizer: Recognizer | None = None,
    *,
    config: BlurConfig | None = None,
    raw_transcript: str | None = None,
    raw_pitch: PitchTrack | None = None,
) -> BlurFigures:
    """Measure one cue's blur: ``raw`` and ``blurred`` mono samples at ``sample_rate`` Hz,
    ``reference_text`` what is said (the subtitle; may be empty).

    Without a ``recognizer`` the word figures are ``None`` and the rest is measured.
    Signals of different lengths are compared over the shorter one
    (``same_duration`` is then False). ``config`` gives the F0 range and frame step
    (default ``BlurConfig()``). ``raw_transcript``: the recogniser's transcript of
    ``raw`` when already known (it does not depend on the blur method), so only the
    blurred audio is transcribed. ``raw_pitch``: ``blur_pitch(raw)`` when the caller
    already measured it (the blur did), so it is not measured again.
    """
    config = config if config is not None else BlurConfig()
    raw_values = check_samples(raw, sample_rate)
    blurred_values = check_samples(blurred, sample_rate)
    common = min(raw_values.size, blurred_values.size)
    raw_part, blurred_part = raw_values[:common], blurred_values[:common]
    if raw_pitch is None or common != raw_values.size:
        raw_pitch = blur_pitch(raw_part, sample_rate, config)
    pitches = [raw_pitch, blur_pitch(blurred_part, sample_rate, config)]
    voiced_raw, voiced_blurred, voiced_both, f0_corr, f0_rmse = f0_figures(*pitches)
    syllables_raw, syllables_blurred = (
        int(syllable_nuclei(part, sample_rate, pitch=pitch).size)
        for part, pitch in zip((raw_part, blurred_part), pitches, strict=True)
    )
    figures = BlurFigures(
        sample_rate=sample_rate,
        raw_samples=int(raw_values.size),
        blurred_samples=int(blurred_values.size),
        same_duration=raw_values.size == blurred_values.size,
        voiced_frames_raw=voiced_raw,
        voiced_frames_blurred=voiced_blurred,
        voiced_frames_both=voiced_both,
        f0_correlation=f0_corr,
        f0_rmse_semitones=f0_rmse,
        intensity_correlation=intensity_correlation(raw_part, blurred_part, sample_rate),
        syllables_raw=syllables_raw,
        syllables_blurred=syllables_blurred,
        speaking_rate_ratio=syllables_blurred / syllables_raw if syllables_raw else None,
        reference_words=len(normalize_words(reference_text)),
    )
    if recognizer is None:
        return figures
    if raw_transcript is None:
        raw_transcript = recognizer.transcribe(raw_values, sample_rate)
    blurred_transcript = recognizer.transcribe(blurred_values, sample_rate)
    return word_figures(figures, reference_text, raw_transcript, blurred_transcript)


def word_figures(
    figures: BlurFigures, reference_text: str, raw_transcript: str, blurred_transcript: str
) -> BlurFigures:
    """``figures`` with the word fields filled from the two transcripts."""
    reference = normalize_words(reference_text)
    raw_words = normalize_words(raw_transcript)
    blurred_words = normalize_words(blurred_transcript)
    against_reference = align_words(reference, blurred_words)
    known = content_words(reference) | content_words(raw_words)
    return BlurFigures(
        **{
            **figures.to_dict(),
            "raw_transcript": raw_transcript,
            "blurred_transcript": blurred_transcript,
            "wer_raw": align_words(reference, raw_words).wer,
            "wer_blurred": against_reference.wer,
            "wer_blurred_vs_raw": align_words(raw_words, blurred_words).wer,
            "blurred_hits": against_reference.hits if reference else None,
            "shared_content_words": len(content_words(blurred_words) & known),
        }
    )


def may_be_intelligible(
    figures: BlurFigures,
    *,
    recognised_raw_wer: float = RECOGNISED_RAW_WER,
    unintelligible_wer: float = UNINTELLIGIBLE_WER,
    max_shared_content_words: int = MAX_SHARED_CONTENT_WORDS,
) -> bool:
    """True when the blurred cue's words may still be understood: the recogniser got the
    raw cue mostly right (WER ≤ ``recognised_raw_wer``) but the blurred one below
    ``unintelligible_wer``, or the blurred transcript shares more than
    ``max_shared_content_words`` content words with the reference or raw transcript.
    False when no recogniser was run."""
    if (
        figures.wer_raw is not None
        and figures.wer_blurred is not None
        and figures.wer_raw <= recognised_raw_wer
        and figures.wer_blurred < unintelligible_wer
    ):
        return True
    return (figures.shared_content_words or 0) > max_shared_content_words


def finite_median(values: list[float | None], digits: int | None = None) -> float | None:
    """The median of the finite ``values`` (``None`` when there are none), rounded to
    ``digits`` decimals when given."""
    present = [value for value in values if value is not None and math.isfinite(value)]
    if not present:
        return None
    median = float(statistics.median(present))
    return median if digits is None else round(median, digits)


@dataclass(frozen=True)
class BlurSummary:
    """Medians over many cues (``None`` where no cue has the figure)."""

    cues: int
    same_duration: int
    median_f0_correlation: float | None
    median_f0_rmse_semitones: float | None
    median_intensity_correlation: float | None
    median_speaking_rate_ratio: float | None
    #: Cues with a recogniser figure, and those the recogniser got mostly right raw.
    transcribed: int
    recognised_raw: int
    #: Medians over the ``recognised_raw`` cues.
    median_wer_raw: float | None
    median_wer_blurred: float | None
    #: Median over the ``recognised_raw`` cues of the share of reference words that the
    #: blurred transcript got right (alignment hits / reference words).
    median_blurred_word_recall: float | None
    #: Median over every transcribed cue with words in its raw transcript.
    median_wer_blurred_vs_raw: float | None
    #: Cue ids whose words may still be intelligible (``may_be_intelligible``), sorted.
    possibly_intelligible: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (for JSON)."""
        values = asdict(self)
        values["possibly_intelligible"] = list(self.possibly_intelligible)
        return values


def summarize_blur(
    figures: Mapping[str, BlurFigures],
    *,
    recognised_raw_wer: float = RECOGNISED_RAW_WER,
    unintelligible_wer: float = UNINTELLIGIBLE_WER,
    max_shared_content_words: int = MAX_SHARED_CONTENT_WORDS,
) -> BlurSummary:
    """Medians over ``figures`` (cue id -> figures of one blur method) and the cues whose
    words may still be intelligible; the thresholds are those of ``may_be_intelligible``."""
    rows = list(figures.values())
    recognised = [
        row for row in rows if row.wer_raw is not None and row.wer_raw <= recognised_raw_wer
    ]
    flagged = sorted(
        cue_id
        for cue_id, row in figures.items()
        if may_be_intelligible(
            row,
            recognised_raw_wer=recognised_raw_wer,
            unintelligible_wer=unintelligible_wer,
            max_shared_content_words=max_shared_content_words,
        )
    )
    return BlurSummary(
        cues=len(rows),
        same_duration=sum(row.same_duration for row in rows),
        median_f0_correlation=finite_median([row.f0_correlation for row in rows]),
        median_f0_rmse_semitones=finite_median([row.f0_rmse_semitones for row in rows]),
        median_intensity_correlation=finite_median([row.intensity_correlation for row in rows]),
        median_speaking_rate_ratio=finite_median([row.speaking_rate_ratio for row in rows]),
        transcribed=sum(row.blurred_transcript is not None for row in rows),
        recognised_raw=len(recognised),
        median_wer_raw=finite_median([row.wer_raw for row in recognised]),
        median_wer_blurred=finite_median([row.wer_blurred for row in recognised]),
        median_blurred_word_recall=finite_median(
            [
                row.blurred_hits / row.reference_words
                for row in recognised
                if row.blurred_hits is not None and row.reference_words
            ]
        ),
        median_wer_blurred_vs_raw=finite_median([row.wer_blurred_vs_raw for row in rows]),
        possibly_intelligible=tuple(flagged),
    )
