"""Speaking score on synthetic mouth series and audio, and FaceMesh on a real photo."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from empathynet.config import FaceConfig
from empathynet.errors import MediaError
from empathynet.faces import (
    MouthMeter,
    MouthSample,
    SpeakingScore,
    create_detector,
    pick_speaker,
    speaking_score,
    voice_energy_db,
)
from empathynet.faces.speaking import patch_change

pytestmark = pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")

RATE = 16_000
TIMES = list(range(0, 4000, 200))  # 20 frames at 5 fps
#: frames whose audio (±100 ms) has the voice: on in 0-1.7 s and 2.3-3.5 s
VOICED = [t < 1700 or 2300 <= t < 3500 for t in TIMES]


def voice(start_ms: int = 0) -> np.ndarray:
    """A 200 Hz tone (amplitude 0.3) where VOICED, near-silence elsewhere; sample 0 at start_ms."""
    t = np.arange(4000 * RATE // 1000) / RATE
    on = (t < 1.7) | ((t >= 2.3) & (t < 3.5))
    noise = np.random.default_rng(0).normal(0, 1e-4, t.size)
    return (np.where(on, 0.3, 0.0) * np.sin(2 * np.pi * 200 * t) + noise).astype(np.float32)


def patches(values: list[float]) -> list[np.ndarray]:
    return [np.full((24, 48), v, np.float32) for v in values]


def moving_mouth() -> list[float]:
    """Opening alternates (talking) while voiced, rests at 0.01 in pauses."""
    return [(0.04 if i % 2 else 0.015) if on else 0.01 for i, on in enumerate(VOICED)]


def samples(openings: list[float | None], motion: list[float] | None = None) -> list[MouthSample]:
    grey = patches(motion if motion is not None else [0.5] * len(openings))
    return [MouthSample(o, p) for o, p in zip(openings, grey, strict=True)]


def test_voice_energy_levels() -> None:
    levels = voice_energy_db(voice(), 0, TIMES, RATE)
    on = levels[np.array(VOICED)]
    off = levels[~np.array(VOICED)]
    # a 0.3 sine is -13.5 dBFS; the pause is noise at 1e-4 (-80 dB)
    assert on.min() > -16 and on.max() < -13
    assert off.max() < -70
    # the audio window may start later than the frames: frames before it are silence
    late = voice_energy_db(voice()[: RATE // 2], 1000, [0, 200, 1000, 1200], RATE)
    assert late[0] == late[1] == -120.0 and late[2] > -16


def test_a_mouth_moving_with_the_voice_scores_high() -> None:
    result = speaking_score(TIMES, samples(moving_mouth()), voice(), 0)
    assert result.method == "landmarks" and result.landmark_frames == 20
    assert result.voiced_fraction == pytest.approx(15 / 20)
    assert result.score > 0.7
    assert result.mouth_activity == pytest.approx(0.025 * 1.0, rel=0.3)
    assert not result.clear_non_speaker


def test_a_still_mouth_under_an_active_voice_is_a_clear_non_speaker() -> None:
    still = [0.02 + 0.0005 * (i % 2) for i in range(20)]  # jitter below the threshold
    result = speaking_score(TIMES, samples(still), voice(), 0)
    assert result.clear_non_speaker
    assert result.mouth_activity < FaceConfig().speaking_still_threshold
    # the same face while nobody speaks is not rejected (no voice to compare with)
    silent = speaking_score(TIMES, samples(still), np.zeros(4 * RATE, np.float32), 0)
    assert silent.voiced_fraction == 0.0 and not silent.clear_non_speaker
    # too little voice in the window: conservative, not rejected
    mostly_pause = [t >= 3000 for t in TIMES]
    quiet = np.zeros(4 * RATE, np.float32)
    quiet[3000 * RATE // 1000 :] = 0.3
    result = speaking_score(TIMES, samples(still), quiet, 0)
    assert result.voiced_fraction == pytest.approx(np.mean(mostly_pause), abs=0.06)
    assert not result.clear_non_speaker


def test_mouth_out_of_step_with_the_voice_scores_lower() -> None:
    in_step = speaking_score(TIMES, samples(moving_mouth()), voice(), 0)
    # the same mouth, heard 1.2 s later: talking during the pause, resting while voiced
    shifted = speaking_score(TIMES, samples(moving_mouth()), voice(), 1200)
    assert shifted.score < in_step.score - 0.5


def test_activity_is_per_200_ms_whatever_the_frame_rate() -> None:
    times = list(range(0, 4000, 100))
    openings = [0.01 + 0.0025 * i for i in range(len(times))]  # steady opening, 0.005 per 200 ms
    result = speaking_score(times, samples(openings), voice(), 0)
    assert result.mouth_activity == pytest.approx(0.005)


def test_missing_landmarks_are_interpolated_or_fall_back_to_pixels() -> None:
    openings: list[float | None] = list(moving_mouth())
    openings[3] = openings[10] = None
    result = speaking_score(TIMES, samples(openings), voice(), 0)
    assert result.method == "landmarks" and result.landmark_frames == 18
    assert result.score > 0.5
    # landmarks on too few frames: mouth-region pixels, still on an active voice
    sparse: list[float | None] = [0.02 if i % 3 == 0 else None for i in range(20)]
    still_pixels = speaking_score(TIMES, samples(sparse), voice(), 0)
    assert still_pixels.method == "pixels"
    assert still_pixels.clear_non_speaker
    moving = [0.5 + (0.1 if i % 2 else 0.0) if on else 0.5 for i, on in enumerate(VOICED)]
    moving_pixels = speaking_score(TIMES, samples(sparse, moving), voice(), 0)
    assert moving_pixels.method == "pixels"
    assert not moving_pixels.clear_non_speaker
    assert moving_pixels.score > 0.7


def test_too_few_frames_and_bad_input() -> None:
    one = speaking_score([0], samples([0.02]), voice(), 0)
    assert one.method == "none" and not one.clear_non_speaker
    with pytest.raises(MediaError, match="1-D float"):
        speaking_score(TIMES, samples(moving_mouth()), np.zeros((10, 2), np.float32), 0)
    with pytest.raises(MediaError, match="1-D float"):
        voice_energy_db(np.zeros(10, np.int16), 0, [0], RATE)
    with pytest.raises(ValueError, match="one mouth sample"):
        speaking_score(TIMES, samples([0.02]), voice(), 0)


def score(value: float, activity: float, non_speaker: bool = False) -> SpeakingScore:
    return SpeakingScore(value, activity, 0.8, "landmarks", 20, 20, non_speaker)


def test_pick_speaker() -> None:
    assert pick_speaker([score(0.1, 0.01), score(0.5, 0.02)]) == 1
    assert pick_speaker([score(0.1, 0.01), score(0.9, 0.001, non_speaker=True)]) == 0
    assert pick_speaker([score(0.3, 0.001, True), score(0.2, 0.001, True)]) is None
    assert pick_speaker([score(0.3, 0.01), score(0.3, 0.02)]) == 1
    assert pick_speaker([]) is None


def test_mouth_meter_on_a_real_photo() -> None:
    image = skimage.data.astronaut()
    with create_detector() as detector, MouthMeter() as meter:
        (box,) = detector.detect(image)
        sample = meter.measure(image, box)
    assert sample.opening is not None
    assert 0.0 <= sample.opening < 0.1  # a closed-lip smile: small inner-lip gap
    assert sample.patch.shape == (24, 48) and sample.patch.dtype == np.float32
    assert 0.0 < float(sample.patch.mean()) < 1.0


def test_patch_change_ignores_small_shifts_but_not_new_content() -> None:
    texture = np.random.default_rng(1).random((40, 60)).astype(np.float32)
    patch = texture[8:32, 6:54]
    shifted = texture[10:34, 5:53]  # the same mouth, the box 2 px lower and 1 px left
    assert patch_change(patch, shifted) == pytest.approx(0.0, abs=1e-6)
    assert float(np.mean(np.abs(patch - shifted))) > 0.2  # without the shift search
    opened = patch.copy()
    opened[8:16, 10:38] = 0.0  # a dark open mouth appears
    assert patch_change(patch, opened) > 0.05
