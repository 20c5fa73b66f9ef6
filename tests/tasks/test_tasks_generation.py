"""Generation targets: fixed representations and their dimensions, on real small media."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from empathynet.errors import CorruptMediaError
from empathynet.labels import import_labels
from empathynet.media.audio import write_wav
from empathynet.tasks.generation import (
    AUDIO_RATE,
    audio_target,
    load_target,
    mulaw_decode,
    mulaw_encode,
    resample,
    text_target,
)
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.spec import TaskLayout
from empathynet.tasks.validate import TaskValidationError, validate_task
from empathynet.testing.synthetic import SyntheticDataset, write_synthetic_dataset, write_votes_csv


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    root = tmp_path_factory.mktemp("gen") / "ds"
    dataset = write_synthetic_dataset(
        root, cue_groups=12, sources=3, media=True, min_ms=400, max_ms=1200
    )
    import_labels(root, write_votes_csv(root.parent / "v.csv", dataset.truth, agreement=1.0))
    return dataset


def test_text_target_is_utf8_bytes() -> None:
    assert text_target("Ça va?").tolist() == list("Ça va?".encode())
    assert text_target("").shape == (0,)


def test_mulaw_is_monotone_and_round_trips() -> None:
    samples = np.linspace(-1, 1, 2001)
    codes = mulaw_encode(samples)
    assert codes.dtype == np.uint8 and codes[0] == 0 and codes[-1] == 255
    assert (np.diff(codes.astype(int)) >= 0).all()
    back = mulaw_decode(codes)
    # mu-law steps are fine near zero, coarse near full scale
    assert np.abs(back - samples)[np.abs(samples) < 0.01].max() < 0.001
    assert np.abs(back - samples).max() < 0.04
    assert mulaw_encode(np.array([2.0, -3.0])).tolist() == [255, 0]  # clipped


def test_resampling_keeps_a_tone_and_removes_what_8_khz_cannot_hold() -> None:
    t = np.arange(16_000) / 16_000
    kept = resample(0.5 * np.sin(2 * np.pi * 440 * t), 16_000, AUDIO_RATE)
    assert len(kept) == 8000
    spectrum = np.abs(np.fft.rfft(kept[1000:-1000]))
    peak_hz = np.argmax(spectrum) * AUDIO_RATE / len(kept[1000:-1000])
    assert abs(peak_hz - 440) < 2
    assert np.sqrt(np.mean(kept[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    removed = resample(0.5 * np.sin(2 * np.pi * 5500 * t), 16_000, AUDIO_RATE)
    level_db = 20 * np.log10(np.sqrt(np.mean(removed[1000:-1000] ** 2)) / (0.5 / np.sqrt(2)))
    assert level_db < -40
    assert len(resample(np.zeros(441), 44_100, AUDIO_RATE)) == 80


def test_audio_target_has_8_samples_per_ms(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_wav(path, 0.25 * np.sin(np.arange(16_000 * 3 // 4) / 10), 16_000)  # 750 ms
    assert audio_target(path, 750).shape == (6000,)
    padded = audio_target(path, 1000)
    assert padded.shape == (8000,) and (padded[6100:] == mulaw_encode(np.zeros(1))[0]).all()
    assert audio_target(path, 500).shape == (4000,)
    with pytest.raises(CorruptMediaError):
        audio_target(tmp_path / "missing.wav", 100)


def test_generation_items_load_with_their_stated_dims(media: SyntheticDataset) -> None:
    root = media.root
    for target in ("text", "face_stills", "audio_blur"):
        made = make_task(root, TaskRequest(family="generation", query="stills", answer=target))
        layout = TaskLayout(root, made.name)
        for split in ("train", "validation", "test"):
            for row in pq.read_table(layout.items(split)).to_pylist():
                duration = row["target_dims"] // 8 if target == "audio_blur" else 0
                loaded = load_target(root, target, row[f"target_{target}"], duration)
                assert loaded.dtype == np.uint8
                assert loaded.size == row["target_dims"]
                if target == "face_stills":
                    assert loaded.shape == (5, 64, 64, 3)
        report = validate_task(root, made.name)  # with the media check
        assert any(check.startswith("media files exist") for check in report.checks)


def test_face_stills_keep_the_picture(media: SyntheticDataset) -> None:
    row = pq.read_table(media.root / "cues").to_pylist()[0]
    crops = load_target(media.root, "face_stills", row["face_crop_paths"], 0)
    # the synthetic crop: one colour with a brighter top-left quadrant, per crop
    assert not np.array_equal(crops[0, :10, :10], crops[0, -10:, -10:])
    assert np.abs(crops[0, -10:, -10:].astype(int) - crops[1, -10:, -10:].astype(int)).max() <= 6


def test_validate_notices_missing_media(media: SyntheticDataset, tmp_path: Path) -> None:
    made = make_task(
        media.root, TaskRequest(family="classification", query="face_stills", name="faces")
    )
    victim = (
        media.root
        / pq.read_table(TaskLayout(media.root, made.name).items("train")).to_pylist()[0][
            "query_face_stills"
        ][2]
    )
    saved = victim.read_bytes()
    victim.unlink()
    try:
        with pytest.raises(TaskValidationError, match="media files exist inside the dataset fails"):
            validate_task(media.root, made.name)
        validate_task(media.root, made.name, check_media=False)
    finally:
        victim.write_bytes(saved)
    validate_task(media.root, made.name)
