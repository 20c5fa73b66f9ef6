"""Blur verification figures: they score a faithful copy as perfect, catch a blur that
loses the pitch, loudness or rhythm, and summaries flag intelligible cues."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from empathynet.blur import (
    BlurFigures,
    ResynthBlur,
    blur_pitch,
    may_be_intelligible,
    summarize_blur,
    verify_blur,
)
from empathynet.blur.prosody import pitch_track, rms_envelope, syllable_nuclei
from empathynet.blur.verify import word_figures

from .voices import RATE, Voice


def test_identical_signals_score_perfectly(make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    figures = verify_blur(voice.samples, voice.samples.copy(), RATE, "a reference")
    assert figures.same_duration
    assert figures.raw_samples == figures.blurred_samples == voice.samples.size
    assert figures.voiced_frames_raw == figures.voiced_frames_blurred == figures.voiced_frames_both
    assert figures.f0_correlation == pytest.approx(1.0)
    assert figures.f0_rmse_semitones == pytest.approx(0.0)
    assert figures.intensity_correlation == pytest.approx(1.0)
    assert figures.speaking_rate_ratio == 1.0
    assert figures.reference_words == 2
    # No recogniser: no word figures.
    assert figures.raw_transcript is None and figures.wer_raw is None
    assert figures.wer_blurred is None and figures.shared_content_words is None
    assert not may_be_intelligible(figures)


def test_a_reversed_pitch_contour_is_caught(make_voice: Callable[..., Voice]) -> None:
    rising = make_voice(f0_start=110.0, f0_end=190.0)
    falling = make_voice(f0_start=190.0, f0_end=110.0)
    figures = verify_blur(rising.samples, falling.samples, RATE, "")
    assert figures.f0_correlation is not None and figures.f0_correlation < -0.5
    assert figures.f0_rmse_semitones is not None and figures.f0_rmse_semitones > 3.0
    # Loudness and rhythm were untouched.
    assert figures.intensity_correlation is not None and figures.intensity_correlation > 0.95


def test_a_flattened_loudness_and_rhythm_are_caught(make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    envelope = rms_envelope(voice.samples.astype(np.float64), RATE, window_ms=25.0)
    flattened = np.where(envelope > 0, voice.samples / np.maximum(envelope, 1e-9), 0.0) * 0.05
    figures = verify_blur(voice.samples, flattened.astype(np.float32), RATE, "")
    assert figures.intensity_correlation is not None and figures.intensity_correlation < 0.8
    assert figures.speaking_rate_ratio is not None and figures.speaking_rate_ratio < 0.5
    faster = make_voice(syllables_per_second=6.0)
    figures = verify_blur(voice.samples, faster.samples, RATE, "")
    assert figures.speaking_rate_ratio == pytest.approx(faster.syllables / voice.syllables)


def test_different_lengths_are_compared_over_the_shorter(make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    figures = verify_blur(voice.samples, voice.samples[:-160], RATE, "")
    assert not figures.same_duration
    assert figures.blurred_samples == voice.samples.size - 160
    assert figures.f0_correlation == pytest.approx(1.0)


def test_a_shared_pitch_track_gives_the_same_blur_and_figures(
    make_voice: Callable[..., Voice],
) -> None:
    # The build measures the raw F0 once and hands it to the blur and to its check.
    voice = make_voice(f0_start=120.0, f0_end=170.0)
    method = ResynthBlur()
    pitch = blur_pitch(voice.samples, RATE)
    blurred = method.blur(voice.samples, RATE, pitch=pitch)
    np.testing.assert_array_equal(blurred, method.blur(voice.samples, RATE))
    shared = verify_blur(voice.samples, blurred, RATE, "", raw_pitch=pitch)
    assert shared == verify_blur(voice.samples, blurred, RATE, "")
    assert shared.f0_correlation is not None and shared.f0_correlation > 0.95
    # A track of other samples changes the F0 figures: it really is used.
    other = blur_pitch(make_voice(f0_start=190.0, f0_end=110.0).samples, RATE)
    crossed = verify_blur(voice.samples, blurred, RATE, "", raw_pitch=other)
    assert crossed.f0_correlation is not None and crossed.f0_correlation < 0


def test_silence_has_no_pitch_and_no_syllables() -> None:
    silence = np.zeros(RATE, np.float32)
    figures = verify_blur(silence, silence, RATE, "")
    assert figures.voiced_frames_raw == 0
    assert figures.f0_correlation is None and figures.f0_rmse_semitones is None
    assert figures.syllables_raw == 0 and figures.speaking_rate_ratio is None
    assert pitch_track(silence[:100], RATE).f0_hz.size == 0  # shorter than the window
    assert syllable_nuclei(silence[:100], RATE).size == 0


def test_pitch_track_follows_the_generated_f0(make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    pitch = pitch_track(voice.samples, RATE)
    true_f0 = voice.f0_hz[np.rint(pitch.times_s * RATE).astype(int)]
    both = pitch.voiced & (true_f0 > 0)
    assert both.sum() >= 0.95 * (true_f0 > 0).sum()
    assert np.median(np.abs(pitch.f0_hz[both] / true_f0[both] - 1)) < 0.01


def base_figures() -> BlurFigures:
    return BlurFigures(
        sample_rate=RATE,
        raw_samples=RATE,
        blurred_samples=RATE,
        same_duration=True,
        voiced_frames_raw=50,
        voiced_frames_blurred=50,
        voiced_frames_both=50,
        f0_correlation=0.99,
        f0_rmse_semitones=0.2,
        intensity_correlation=0.98,
        syllables_raw=10,
        syllables_blurred=10,
        speaking_rate_ratio=1.0,
        reference_words=6,
    )


def test_word_figures_and_intelligibility_flags() -> None:
    reference = "Bin blue at F two now."
    hidden = word_figures(base_figures(), reference, "Bin blue at F2 now.", "Aaaaah!")
    assert hidden.wer_raw == 0.0
    assert hidden.wer_blurred == 1.0
    assert hidden.wer_blurred_vs_raw == 1.0
    assert hidden.blurred_hits == 0 and hidden.shared_content_words == 0
    assert not may_be_intelligible(hidden)
    leaked = word_figures(base_figures(), reference, "Bin blue at F2 now.", "been blue at f two")
    assert leaked.wer_blurred == pytest.approx(2 / 6)
    assert leaked.blurred_hits == 4
    assert leaked.shared_content_words == 3  # blue, f, two
    assert may_be_intelligible(leaked)
    # Raw audio the recogniser got wrong: the WER rule does not apply, shared words do.
    unclear = word_figures(base_figures(), reference, "Something else entirely", "blue two")
    assert unclear.wer_raw is not None and unclear.wer_raw > 0.5
    assert may_be_intelligible(unclear)
    assert not may_be_intelligible(unclear, max_shared_content_words=2)
    # No reference words (a sound tag only): only shared words with the raw transcript count.
    tag_only = word_figures(base_figures(), "", "Ha ha ha", "Ha ha")
    assert tag_only.wer_raw is None and tag_only.blurred_hits is None
    assert tag_only.shared_content_words == 1
    assert not may_be_intelligible(tag_only)


def test_figures_round_trip_through_a_dict() -> None:
    figures = word_figures(base_figures(), "one two", "one two", "three")
    assert BlurFigures.from_dict({**figures.to_dict(), "extra": 1}) == figures


def test_summary_medians_and_flags() -> None:
    base = base_figures()
    figures = {
        "cue-b": replace(
            word_figures(base, "the cat sat on the mat", "the cat sat on the mat", "uh"),
            f0_correlation=0.95,
            speaking_rate_ratio=0.9,
        ),
        "cue-a": word_figures(base, "the cat sat on the mat", "the cat sat on a mat", "cat sat"),
        "cue-c": replace(
            word_figures(base, "dogs run far away", "cats walk", "nothing"),
            f0_correlation=None,
            same_duration=False,
        ),
    }
    summary = summarize_blur(figures)
    assert summary.cues == 3
    assert summary.same_duration == 2
    assert summary.median_f0_correlation == pytest.approx(0.97)
    assert summary.median_speaking_rate_ratio == 1.0
    assert summary.transcribed == 3
    assert summary.recognised_raw == 2  # cue-c's raw WER is 1.0
    assert summary.median_wer_raw == pytest.approx((0 + 1 / 6) / 2)
    assert summary.median_wer_blurred == pytest.approx((1.0 + 4 / 6) / 2)
    assert summary.possibly_intelligible == ("cue-a",)
    assert summary.to_dict()["possibly_intelligible"] == ["cue-a"]
    empty = summarize_blur({})
    assert empty.cues == 0 and empty.median_f0_correlation is None
