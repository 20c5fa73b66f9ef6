"""Blur methods on generated voices: same length and rate, F0 and loudness kept, silence
silent, no clipping; resynthesis removes the vowel's spectrum, low-pass the high band."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import signal

from empathynet.blur import BLUR_METHODS, LowpassBlur, ResynthBlur, create_blur_method, verify_blur
from empathynet.config import BlurConfig, EmpathyNetConfig, from_mapping
from empathynet.errors import ConfigError, MediaError

from .voices import RATE, VOWEL_I, Voice

METHODS = ["resynth", "lowpass"]


def dbfs(samples: np.ndarray) -> float:
    """RMS level of ``samples`` in dB re full scale (-inf for digital silence)."""
    power = float(np.mean(np.square(samples.astype(np.float64))))
    return 10 * np.log10(power) if power > 0 else -np.inf


def test_registry_names_and_default() -> None:
    assert BLUR_METHODS.names() == ["lowpass", "resynth", "splice"]
    assert BlurConfig().method == "resynth"
    assert isinstance(create_blur_method(), ResynthBlur)
    assert isinstance(create_blur_method(BlurConfig(method="lowpass")), LowpassBlur)
    with pytest.raises(
        ConfigError, match="unknown blur method 'vocoder'; known: lowpass, resynth, splice"
    ):
        create_blur_method(BlurConfig(method="vocoder"))


def test_config_is_validated_and_part_of_the_whole_config() -> None:
    assert EmpathyNetConfig().blur == BlurConfig()
    config = from_mapping(
        EmpathyNetConfig, {"blur": {"method": "lowpass", "lowpass_cutoff_hz": 300}}
    )
    assert config.blur.method == "lowpass"
    assert config.blur.lowpass_cutoff_hz == 300.0
    with pytest.raises(ConfigError, match="f0_min_hz"):
        BlurConfig(f0_min_hz=600.0)
    with pytest.raises(ConfigError, match="peak_limit"):
        BlurConfig(peak_limit=1.5)
    with pytest.raises(ConfigError, match="unknown option"):
        from_mapping(BlurConfig, {"cutoff": 400})


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("rate", [8_000, 16_000, 22_050, 48_000])
def test_same_length_and_float32_at_any_rate(
    method: str, rate: int, make_voice: Callable[..., Voice]
) -> None:
    voice = make_voice(rate=rate)
    blurred = create_blur_method(BlurConfig(method=method)).blur(voice.samples, rate)
    assert blurred.dtype == np.float32
    assert blurred.shape == voice.samples.shape
    # A length that is not a multiple of any frame or window still comes back whole.
    odd = voice.samples[:12_345]
    assert create_blur_method(BlurConfig(method=method)).blur(odd, rate).shape == (12_345,)


@pytest.mark.parametrize("method", METHODS)
def test_empty_short_and_silent_input(method: str) -> None:
    blur = create_blur_method(BlurConfig(method=method))
    assert blur.blur(np.zeros(0, np.float32), RATE).shape == (0,)
    # Shorter than Praat's pitch window (40 ms at 75 Hz): kept as unvoiced sound.
    click = np.random.default_rng(1).normal(0, 0.1, 300).astype(np.float32)
    short = blur.blur(click, RATE)
    assert short.shape == (300,)
    assert np.all(np.isfinite(short))
    assert not np.any(blur.blur(np.zeros(RATE, np.float32), RATE))


@pytest.mark.parametrize("method", METHODS)
def test_bad_input_is_a_media_error(method: str) -> None:
    blur = create_blur_method(BlurConfig(method=method))
    with pytest.raises(MediaError, match="mono"):
        blur.blur(np.zeros((100, 2), np.float32), RATE)
    with pytest.raises(MediaError, match="NaN"):
        blur.blur(np.array([0.0, np.nan, 0.0], np.float32), RATE)
    with pytest.raises(MediaError, match="sample rate"):
        blur.blur(np.zeros(100, np.float32), 0)
    with pytest.raises(MediaError, match="floats"):
        blur.blur(np.zeros(100, np.int16), RATE)


@pytest.mark.parametrize("method", METHODS)
def test_prosody_kept_on_a_glottal_voice(method: str, make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    blurred = create_blur_method(BlurConfig(method=method)).blur(voice.samples, RATE)
    figures = verify_blur(voice.samples, blurred, RATE, "")
    assert figures.same_duration
    assert figures.voiced_frames_both >= 0.95 * figures.voiced_frames_raw > 0
    assert figures.f0_correlation is not None and figures.f0_correlation >= 0.99
    assert figures.f0_rmse_semitones is not None and figures.f0_rmse_semitones < 0.5
    assert figures.intensity_correlation is not None and figures.intensity_correlation >= 0.95
    assert figures.syllables_raw == voice.syllables
    assert figures.speaking_rate_ratio == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_silence_stays_silent(method: str, make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    blurred = create_blur_method(BlurConfig(method=method)).blur(voice.samples, RATE)
    for first, last in voice.silences:
        assert not np.any(voice.samples[first:last])
        assert dbfs(blurred[first:last]) <= -60.0


def test_resynth_silence_is_exactly_zero_away_from_the_voice(
    make_voice: Callable[..., Voice],
) -> None:
    voice = make_voice()
    blurred = ResynthBlur().blur(voice.samples, RATE)
    for first, last in voice.silences:
        # Beyond 5 ms (80 samples) from the voice: digital silence.
        assert not np.any(blurred[first + 80 : last - 80])


@pytest.mark.parametrize("method", METHODS)
def test_no_clipping_on_a_full_scale_voice(method: str, make_voice: Callable[..., Voice]) -> None:
    voice = make_voice(peak=1.0)
    blurred = create_blur_method(BlurConfig(method=method)).blur(voice.samples, RATE)
    assert np.max(np.abs(blurred)) <= 0.99 + 1e-6
    # Scaled as a whole, so the loudness contour keeps its shape.
    figures = verify_blur(voice.samples, blurred, RATE, "")
    assert figures.intensity_correlation is not None and figures.intensity_correlation >= 0.95


@pytest.mark.parametrize("method", METHODS)
def test_output_is_deterministic(method: str, make_voice: Callable[..., Voice]) -> None:
    voice = make_voice()
    first = create_blur_method(BlurConfig(method=method)).blur(voice.samples, RATE)
    second = create_blur_method(BlurConfig(method=method)).blur(voice.samples, RATE)
    np.testing.assert_array_equal(first, second)


def test_resynth_keeps_prosody_of_espeak_speech(
    espeak_voices: list[tuple[np.ndarray, int]],
) -> None:
    blur = ResynthBlur()
    for samples, rate in espeak_voices:
        blurred = blur.blur(samples, rate)
        assert blurred.shape == samples.shape
        figures = verify_blur(samples, blurred, rate, "")
        assert figures.f0_correlation is not None and figures.f0_correlation >= 0.9
        assert figures.intensity_correlation is not None and figures.intensity_correlation >= 0.9
        assert figures.speaking_rate_ratio is not None
        assert 0.9 <= figures.speaking_rate_ratio <= 1.1


def long_term_spectrum_db(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frequencies, power = signal.welch(samples.astype(np.float64), fs=RATE, nperseg=1024)
    return frequencies, 10 * np.log10(power + 1e-20)


def test_resynth_gives_two_vowels_the_same_spectrum(make_voice: Callable[..., Voice]) -> None:
    vowel_a, vowel_i = make_voice(), make_voice(formants=VOWEL_I)
    frequencies, raw_a = long_term_spectrum_db(vowel_a.samples)
    _, raw_i = long_term_spectrum_db(vowel_i.samples)
    blur = ResynthBlur()
    _, blurred_a = long_term_spectrum_db(blur.blur(vowel_a.samples, RATE))
    _, blurred_i = long_term_spectrum_db(blur.blur(vowel_i.samples, RATE))
    band = (frequencies >= 150) & (frequencies <= 3000)

    def shape_difference(first: np.ndarray, second: np.ndarray) -> float:
        difference = first[band] - second[band]
        return float(np.mean(np.abs(difference - difference.mean())))

    # The raw vowels differ by their formants; resynthesised, only the (same) F0 remains.
    assert shape_difference(raw_a, raw_i) > 8.0
    assert shape_difference(blurred_a, blurred_i) < 1.5
    # Nothing is left above the highest resynthesised harmonic.
    high = frequencies > BlurConfig().max_harmonic_hz + 200
    assert np.max(blurred_a[high]) < np.max(blurred_a) - 60


def tone_gain_db(blur: LowpassBlur, frequency: float) -> float:
    t = np.arange(2 * RATE) / RATE
    tone = (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    out = blur.blur(tone, RATE)
    middle = slice(RATE // 2, 3 * RATE // 2)  # away from the filter's start and end
    return dbfs(out[middle]) - dbfs(tone[middle])


def test_lowpass_passes_low_and_removes_high_frequencies() -> None:
    blur = LowpassBlur()
    assert abs(tone_gain_db(blur, 200.0)) < 0.1
    assert tone_gain_db(blur, 800.0) < -40.0
    assert tone_gain_db(blur, 2000.0) < -40.0
    narrow = LowpassBlur(BlurConfig(method="lowpass", lowpass_cutoff_hz=250.0))
    assert tone_gain_db(narrow, 500.0) < -40.0
    assert abs(tone_gain_db(narrow, 120.0)) < 0.1


def test_lowpass_has_no_delay() -> None:
    noise = np.random.default_rng(2).normal(0, 0.1, RATE).astype(np.float32)
    blurred = LowpassBlur().blur(noise, RATE)
    low = signal.sosfiltfilt(signal.butter(4, 300, fs=RATE, output="sos"), noise)
    lags = np.arange(-50, 51)
    scores = [np.dot(np.roll(blurred, lag), low) for lag in lags]
    assert lags[int(np.argmax(scores))] == 0
    taps = LowpassBlur().taps(RATE)
    assert taps.size % 2 == 1
    np.testing.assert_allclose(taps, taps[::-1])


def test_lowpass_cutoff_must_fit_the_rate() -> None:
    blur = LowpassBlur(BlurConfig(method="lowpass", lowpass_cutoff_hz=5000.0))
    with pytest.raises(ConfigError, match="Nyquist"):
        blur.blur(np.zeros(1000, np.float32), 8_000)
