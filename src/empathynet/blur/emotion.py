"""Does a blurred cue still sound like its emotion? Measured with features the blur does
not copy by construction.

``resynth`` copies F0, loudness, voicing and timing, so a classifier on those features
of blurred audio says little. Here the features describe the spectrum and the voice
source instead (``voice_quality_features``: MFCC statistics, spectral tilt, alpha ratio,
harmonics-to-noise ratio, smoothed cepstral peak prominence), a classifier is trained on
**raw** audio and tested on **blurred** audio (``transfer_accuracy``): it scores above
chance only when the blurred voice still carries the acoustic signs of the emotion that
real voices carry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from empathynet.blur.prosody import check_samples, import_parselmouth, rms_envelope

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

#: MFCCs per frame (Praat's defaults otherwise: 15 ms window, 5 ms step, mel filters).
MFCC_COEFFICIENTS = 12
#: Frames within this many dB of the cue's loudest frame count as speech.
SPEECH_RANGE_DB = 30.0

FEATURE_NAMES: tuple[str, ...] = (
    *(f"mfcc{k}_mean" for k in range(1, MFCC_COEFFICIENTS + 1)),
    *(f"mfcc{k}_std" for k in range(1, MFCC_COEFFICIENTS + 1)),
    "spectral_tilt_db_per_octave",
    "alpha_ratio_db",
    "hnr_db",
    "cpps_db",
)


def voice_quality_features(samples: Any, sample_rate: int) -> FloatArray:
    """One vector (``FEATURE_NAMES``) of spectral and voice-source features of a cue.

    MFCC 1..12 mean and standard deviation over speech frames (c0, the level, left out);
    spectral tilt: slope (dB per octave) of a line fitted to the long-term average
    spectrum of speech frames, 100-5000 Hz on a log-frequency axis; alpha ratio: energy
    1-5 kHz over 50-1000 Hz, dB; HNR: Praat's cross-correlation harmonicity, mean over
    voiced frames, dB; CPPS: Praat's smoothed cepstral peak prominence, dB. None of
    them depends on the F0 contour or the loudness contour as such. ``samples``: mono
    floats in [-1, 1], at least 0.1 s; silence gives zeros.
    """
    parselmouth = import_parselmouth()
    values = check_samples(samples, sample_rate)
    features = np.zeros(len(FEATURE_NAMES))
    if values.size < sample_rate // 10 or not np.any(values):
        return features
    sound = parselmouth.Sound(values, sampling_frequency=float(sample_rate))
    mfcc = sound.to_mfcc(number_of_coefficients=MFCC_COEFFICIENTS)
    coefficients = np.asarray(mfcc.to_array(), dtype=np.float64)[1:]
    frame_times = np.asarray(mfcc.xs(), dtype=np.float64)
    envelope = rms_envelope(values, sample_rate, window_ms=25.0)
    frame_index = np.clip(np.rint(frame_times * sample_rate).astype(np.int64), 0, values.size - 1)
    frame_levels = envelope[frame_index]
    speech = frame_levels > float(frame_levels.max()) * 10.0 ** (-SPEECH_RANGE_DB / 20.0)
    if not speech.any():
        speech = np.ones(frame_levels.size, dtype=bool)
    features[:MFCC_COEFFICIENTS] = coefficients[:, speech].mean(axis=1)
    features[MFCC_COEFFICIENTS : 2 * MFCC_COEFFICIENTS] = coefficients[:, speech].std(axis=1)
    tilt, alpha = _spectral_balance(values, sample_rate, envelope)
    harmonicity = np.asarray(sound.to_harmonicity_cc().values[0], dtype=np.float64)
    voiced = harmonicity[harmonicity > -199.0]  # Praat marks unvoiced frames -200 dB
    call = parselmouth.praat.call
    cepstrogram = call(sound, "To PowerCepstrogram", 60.0, 0.002, 5000.0, 50.0)
    cpps = call(
        cepstrogram, "Get CPPS", "no", 0.02, 0.0005, 60.0, 330.0, 0.05, "Parabolic",
        0.001, 0.05, "Straight", "Least squares",
    )  # fmt: skip
    features[2 * MFCC_COEFFICIENTS :] = [
        tilt,
        alpha,
        float(voiced.mean()) if voiced.size else 0.0,
        float(cpps) if math.isfinite(cpps) else 0.0,
    ]
    return features


def _spectral_balance(
    values: FloatArray, sample_rate: int, envelope: FloatArray
) -> tuple[float, float]:
    """Spectral tilt (dB/octave, 100-5000 Hz) and alpha ratio (dB) of the speech samples."""
    from scipy import signal as sps

    speech = values[envelope > float(envelope.max()) * 10.0 ** (-SPEECH_RANGE_DB / 20.0)]
    segment = min(speech.size, 1024)
    if segment < 64:
        return 0.0, 0.0
    frequencies, power = sps.welch(speech, fs=sample_rate, nperseg=segment)
    top = min(5000.0, 0.45 * sample_rate)
    band = (frequencies >= 100.0) & (frequencies <= top)
    level = 10.0 * np.log10(power[band] + 1e-20)
    slope = float(np.polyfit(np.log2(frequencies[band]), level, 1)[0])
    low = power[(frequencies >= 50.0) & (frequencies < 1000.0)].sum()
    high = power[(frequencies >= 1000.0) & (frequencies <= top)].sum()
    return slope, float(10.0 * np.log10((high + 1e-20) / (low + 1e-20)))


def fit_logistic(
    features: FloatArray, labels: FloatArray, *, l2: float = 0.1, steps: int = 3000
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """An L2-regularised logistic regression on standardised ``features`` (full-batch
    gradient descent): (weights with the bias last, feature means, feature stds)."""
    mean = features.mean(axis=0)
    std = features.std(axis=0) + 1e-9
    x = np.hstack([(features - mean) / std, np.ones((features.shape[0], 1))])
    weights = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ weights))
        gradient = x.T @ (p - labels) / labels.size + l2 * np.r_[weights[:-1], 0.0]
        weights -= 0.5 * gradient
    return weights, mean, std


def predict_logistic(model: tuple[FloatArray, FloatArray, FloatArray], features: FloatArray) -> Any:
    """True where ``fit_logistic``'s model says the positive class."""
    weights, mean, std = model
    x = np.hstack([(features - mean) / std, np.ones((features.shape[0], 1))])
    return x @ weights > 0.0


@dataclass(frozen=True)
class TransferAccuracy:
    """Accuracy of a classifier trained on raw cues, per test condition.

    ``accuracy[c]``: share of cues right when tested on condition ``c`` (``raw`` and each
    blur method), pooled over the folds; ``fold_std[c]``: standard deviation of the
    per-fold accuracies; ``interval[c]``: 95 % Wilson interval of the pooled accuracy;
    ``chance``: share of the majority class.
    """

    cues: int
    folds: int
    chance: float
    accuracy: Mapping[str, float]
    fold_std: Mapping[str, float]
    interval: Mapping[str, tuple[float, float]]

    def retained(self, condition: str) -> float | None:
        """How much of raw→raw's margin over chance survives in raw→``condition``:
        1 all of it, 0 none (chance level), negative below chance; ``None`` when raw→raw
        itself is not above chance (the lower end of its interval at or below chance):
        then there is nothing to retain."""
        if self.interval["raw"][0] <= self.chance:
            return None
        margin = self.accuracy["raw"] - self.chance
        return (self.accuracy[condition] - self.chance) / margin


def wilson_interval(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``hits / total``."""
    if total == 0:
        return 0.0, 1.0
    share = hits / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    spread = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    return centre - spread / (1 + z * z / total), centre + spread / (1 + z * z / total)


def transfer_accuracy(
    raw_features: FloatArray,
    test_features: Mapping[str, FloatArray],
    labels: Sequence[bool] | np.ndarray[Any, Any],
    groups: Sequence[int] | np.ndarray[Any, Any],
    *,
    l2: float = 0.1,
) -> TransferAccuracy:
    """Grouped cross-validation: for each group held out, a logistic regression fitted on
    the other groups' **raw** features predicts the held-out cues from their raw features
    and from each condition's features in ``test_features`` (rows aligned with
    ``raw_features``). Cues of one group (e.g. one speaker or session) are never both
    trained and tested on.
    """
    y = np.asarray(labels, dtype=np.float64)
    group_ids = np.asarray(groups)
    conditions = {"raw": raw_features, **test_features}
    hits = {name: 0 for name in conditions}
    per_fold: dict[str, list[float]] = {name: [] for name in conditions}
    unique = sorted(set(group_ids.tolist()))
    for group in unique:
        test = group_ids == group
        model = fit_logistic(raw_features[~test], y[~test], l2=l2)
        for name, features in conditions.items():
            right = predict_logistic(model, features[test]) == y[test].astype(bool)
            hits[name] += int(right.sum())
            per_fold[name].append(float(right.mean()))
    count = int(y.size)
    positive = float(y.mean()) if count else 0.0
    return TransferAccuracy(
        cues=count,
        folds=len(unique),
        chance=max(positive, 1.0 - positive),
        accuracy={name: hits[name] / count for name in conditions},
        fold_std={name: float(np.std(per_fold[name])) for name in conditions},
        interval={name: wilson_interval(hits[name], count) for name in conditions},
    )
