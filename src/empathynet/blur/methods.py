"""Blur methods: make the words of an audio cue unintelligible, keep its prosody.

Every method takes mono samples (float, [-1, 1]) at any sample rate and returns
float32 samples of the same length at the same rate: the blurred cue lines up
sample for sample with the raw one. Methods register in ``BLUR_METHODS`` and read
their options from ``BlurConfig``; each docstring says what it keeps and what it
destroys. ``verify.py`` measures both, per cue.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from empathynet.blur.prosody import PitchTrack, check_samples, pitch_track, rms_envelope
from empathynet.config import BlurConfig
from empathynet.errors import ConfigError
from empathynet.registry import Registry

Float32Array = np.ndarray[Any, np.dtype[np.float32]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]

#: The output's envelope stays within _GATE_GAIN (20 dB) of the raw level over _GATE_MS.
_GATE_MS = 5.0
_GATE_GAIN = 10.0
#: Raw RMS (over _GATE_MS) at or below which the cue is silent: -120 dBFS.
_SILENT_RMS = 1e-6


class BlurMethod(ABC):
    """Turns raw mono samples into blurred samples of the same length and rate.

    A method is created once per worker from a ``BlurConfig``; ``blur`` is pure (the
    same input and config always give the same output) and safe to call many times.
    """

    #: The registry name, set by registered subclasses.
    name: ClassVar[str] = ""

    def __init__(self, config: BlurConfig | None = None) -> None:
        self.config = config if config is not None else BlurConfig()

    @abstractmethod
    def blur(
        self, samples: Any, sample_rate: int, *, pitch: PitchTrack | None = None
    ) -> Float32Array:
        """Blurred float32 samples, as many as ``samples``, at ``sample_rate`` Hz.

        ``samples``: 1-D float array in [-1, 1]. Raises ``MediaError`` for anything
        else (several channels, NaN, a non-positive rate). ``pitch``: the samples'
        ``blur_pitch`` when the caller already has it (a method that needs the F0
        track uses it instead of measuring again); ``None`` measures when needed.
        """


BLUR_METHODS: Registry[type[BlurMethod]] = Registry("blur method", "empathynet.blur_methods")


def blur_pitch(samples: Any, sample_rate: int, config: BlurConfig | None = None) -> PitchTrack:
    """The F0 track the blur methods and ``verify_blur`` use: ``config``'s F0 range and
    frame step (measured once per cue and shared by both)."""
    config = config if config is not None else BlurConfig()
    return pitch_track(
        check_samples(samples, sample_rate),
        sample_rate,
        f0_min_hz=config.f0_min_hz,
        f0_max_hz=config.f0_max_hz,
        time_step_s=config.frame_ms / 1000.0,
    )


def create_blur_method(config: BlurConfig | None = None) -> BlurMethod:
    """The blur method ``config.method`` names; ``ConfigError`` lists the known ones."""
    config = config if config is not None else BlurConfig()
    return BLUR_METHODS.get(config.method)(config)


def limit_peak(samples: FloatArray, peak_limit: float) -> Float32Array:
    """``samples`` as float32, scaled down as a whole when louder than ``peak_limit``.

    One gain for the whole cue keeps the loudness contour's shape (levels all move
    by the same number of dB) and never clips.
    """
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > peak_limit:
        samples = samples * (peak_limit / peak)
    return samples.astype(np.float32)


@BLUR_METHODS.register("resynth")
class ResynthBlur(BlurMethod):
    """Prosody resynthesis (default): a new voice made from the cue's F0 and loudness.

    The F0 contour (Praat autocorrelation pitch, ``f0_min_hz``..``f0_max_hz``, one
    frame per ``frame_ms``) drives a sum of harmonics up to ``max_harmonic_hz``
    whose amplitudes follow one fixed broad formant (``formant_hz``, bandwidth
    ``formant_bandwidth_hz``), the same for every sound; unvoiced stretches become
    noise in the fixed band ``noise_low_hz``..``noise_high_hz``. Both are scaled
    sample by sample to the raw cue's RMS envelope (``envelope_ms`` window), with an
    equal-power cross-fade (one pitch frame long) between voiced and unvoiced.

    Keeps: the F0 contour (intonation, pitch range and jitter at the frame rate),
    voicing and its timing, the loudness envelope (stress, syllable rhythm,
    speaking rate, pauses), duration; silence stays exactly silent. Non-speech
    sounds (laughter, sighs, crying) keep their pitch where voiced and their energy
    and timing everywhere.

    Destroys: every spectral cue to what is said (formants and their transitions,
    consonant bursts and frication spectra) and to who says it (timbre, voice
    quality, breathiness): all sounds share one spectral shape. Loudness changes
    faster than the envelope window are smoothed away. A cue whose peak would pass
    ``peak_limit`` is scaled down as a whole.
    """

    name = "resynth"

    def __init__(self, config: BlurConfig | None = None) -> None:
        super().__init__(config)
        # Noise-band filters and their RMS gains per sample rate: the same for every cue.
        self._noise_filters: dict[int, tuple[FloatArray, float]] = {}

    def blur(
        self, samples: Any, sample_rate: int, *, pitch: PitchTrack | None = None
    ) -> Float32Array:
        """See the class docstring; output float32, same length and rate."""
        config = self.config
        values = check_samples(samples, sample_rate)
        count = values.size
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        envelope = rms_envelope(values, sample_rate, window_ms=float(config.envelope_ms))
        # The envelope window spreads energy up to half its width into quieter parts: the
        # output may never be more than _GATE_DB above the raw cue's level over _GATE_MS, so
        # offsets stay sharp and silence (nothing above -120 dBFS) stays exactly silent.
        short = rms_envelope(values, sample_rate, window_ms=_GATE_MS)
        envelope = np.minimum(envelope, short * _GATE_GAIN)
        envelope[short <= _SILENT_RMS] = 0.0
        if pitch is None:
            pitch = blur_pitch(values, sample_rate, config)
        voiced_frames = pitch.voiced
        output = np.zeros(count)
        if voiced_frames.any():
            times = np.arange(count) / float(sample_rate)
            # Linear interpolation of the 0/1 voicing gives a one-frame cross-fade.
            voicing = np.interp(times, pitch.times_s, voiced_frames.astype(np.float64))
            active = np.flatnonzero((voicing > 0.0) & (envelope > 0.0))
            if active.size:
                log_f0 = np.interp(
                    times, pitch.times_s[voiced_frames], np.log(pitch.f0_hz[voiced_frames])
                )
                voice = self._harmonics(np.exp(log_f0), active, sample_rate)
                output[active] = np.sqrt(voicing[active]) * voice
        else:
            voicing = np.zeros(count)
        unvoiced = np.flatnonzero((voicing < 1.0) & (envelope > 0.0))
        if unvoiced.size:
            noise = self._noise(count, sample_rate)
            output[unvoiced] += np.sqrt(1.0 - voicing[unvoiced]) * noise[unvoiced]
        return limit_peak(output * envelope, config.peak_limit)

    def _harmonics(self, f0_hz: FloatArray, active: np.ndarray[Any, Any], rate: int) -> FloatArray:
        """Unit-RMS harmonic voice at the ``active`` samples for the per-sample ``f0_hz``."""
        config = self.config
        # Phase runs over every sample so it stays continuous across unvoiced gaps.
        phase = np.cumsum(2.0 * math.pi / rate * f0_hz)[active]
        f0 = f0_hz[active]
        top = min(config.max_harmonic_hz, 0.45 * rate)
        taper_hz = 0.1 * top
        half_band = config.formant_bandwidth_hz / 2.0
        rotation = np.exp(1j * phase)
        partial = rotation.copy()
        signal = np.zeros(active.size)
        power = np.zeros(active.size)
        for harmonic in range(1, max(1, math.floor(top / float(f0.min()))) + 1):
            frequency = harmonic * f0
            # One broad resonance, the same for every sound: Lorentzian amplitude.
            amplitude = 1.0 / np.sqrt(1.0 + ((frequency - config.formant_hz) / half_band) ** 2)
            # Harmonics fade out over the last 10 % below ``top`` so none switches on or off.
            amplitude *= np.clip((top - frequency) / taper_hz, 0.0, 1.0)
            signal += amplitude * partial.imag
            power += amplitude * amplitude
            partial *= rotation
        # Sum of sines of amplitudes a_k has mean power sum(a_k^2) / 2.
        return signal / np.sqrt(np.maximum(power / 2.0, 1e-12))

    def _noise(self, count: int, rate: int) -> FloatArray:
        """Unit-RMS noise in the configured band, the same for the same length and seed."""
        from scipy import signal as sps

        if rate not in self._noise_filters:
            config = self.config
            high = min(config.noise_high_hz, 0.45 * rate)
            if config.noise_low_hz >= high:
                raise ConfigError(
                    f"BlurConfig.noise_low_hz {config.noise_low_hz} Hz is above what a "
                    f"{rate} Hz sample rate can carry"
                )
            sos = sps.butter(
                2, [config.noise_low_hz, high], btype="bandpass", fs=rate, output="sos"
            )
            impulse = np.zeros(rate)  # one second: the response has died out long before
            impulse[0] = 1.0
            gain = float(np.sqrt(np.sum(sps.sosfilt(sos, impulse) ** 2)))
            self._noise_filters[rate] = (np.asarray(sos), gain)
        sos, gain = self._noise_filters[rate]
        white = np.random.default_rng(self.config.seed).standard_normal(count)
        filtered: FloatArray = sps.sosfilt(sos, white) / gain
        return filtered


@BLUR_METHODS.register("lowpass")
class LowpassBlur(BlurMethod):
    """Steep linear-phase low-pass filter at ``lowpass_cutoff_hz`` (400 Hz by default).

    A Kaiser-window FIR (``lowpass_transition_hz`` wide transition,
    ``lowpass_attenuation_db`` stop band) applied centred, so the output has zero
    delay and the same length.

    Keeps: the real voice below the cut-off: F0 and the first harmonics of low
    voices (a fundamental above the cut-off is lost, and Praat may then find the
    second harmonic or nothing), voicing, the loudness envelope of voiced sound, timing.

    Destroys: formants above the cut-off (most of F1 of open vowels, all of F2 and
    above), frication and bursts; unvoiced consonants nearly vanish, so the loudness
    contour and speaking rate change where they matter. Words are far harder to
    understand but not always impossible (low-passed speech keeps some vowel
    identity and the word rhythm): measure with ``verify_blur``.
    """

    name = "lowpass"

    def __init__(self, config: BlurConfig | None = None) -> None:
        super().__init__(config)
        self._taps: dict[int, FloatArray] = {}

    def taps(self, sample_rate: int) -> FloatArray:
        """The FIR coefficients used at ``sample_rate`` Hz (odd count, symmetric)."""
        if sample_rate not in self._taps:
            from scipy import signal as sps

            config = self.config
            nyquist = sample_rate / 2.0
            if config.lowpass_cutoff_hz + config.lowpass_transition_hz / 2.0 >= nyquist:
                raise ConfigError(
                    f"BlurConfig.lowpass_cutoff_hz {config.lowpass_cutoff_hz} Hz does not fit "
                    f"below the Nyquist frequency of a {sample_rate} Hz sample rate"
                )
            count, beta = sps.kaiserord(
                config.lowpass_attenuation_db, config.lowpass_transition_hz / nyquist
            )
            count += 1 - count % 2  # odd: the centre tap sits on a sample, delay is whole
            self._taps[sample_rate] = np.asarray(
                sps.firwin(count, config.lowpass_cutoff_hz, window=("kaiser", beta), fs=sample_rate)
            )
        return self._taps[sample_rate]

    def blur(
        self, samples: Any, sample_rate: int, *, pitch: PitchTrack | None = None
    ) -> Float32Array:
        """See the class docstring (``pitch`` is not needed); float32, same length and rate."""
        from scipy import signal as sps

        values = check_samples(samples, sample_rate)
        if values.size == 0:
            return np.zeros(0, dtype=np.float32)
        taps = self.taps(sample_rate)
        # mode="same" with an odd symmetric filter removes its (count - 1) / 2 delay exactly.
        filtered = np.asarray(sps.oaconvolve(values, taps, mode="same"))
        return limit_peak(filtered, self.config.peak_limit)
