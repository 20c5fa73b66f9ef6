"""Acceptance on real video: a "movie" cut together from the real clips in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import shared_path
from empathynet.faces.detectors import create_detector
from empathynet.pipeline.build import build_dataset, read_manifest
from empathynet.store.layout import DatasetLayout

pytest.importorskip("mediapipe")

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def real_dataset(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[tuple[int, int, str, str]]]:
    from .real_movie import make_real_movie

    video_root = shared_path("video")
    root = tmp_path_factory.mktemp("real")
    movie, expected = make_real_movie(video_root, root / "movie")
    dataset = root / "dataset"
    build_dataset([movie], dataset, progress=False)
    return dataset, expected


def test_each_sentence_gets_its_true_outcome(
    real_dataset: tuple[Path, list[tuple[int, int, str, str]]],
) -> None:
    dataset, expected = real_dataset
    rows = {(r.start_ms, r.end_ms): r for r in read_manifest(dataset)}
    assert len(rows) == len(expected)
    for start, end, text, outcome in expected:
        row = rows[(start, end)]
        assert row.text == text
        if outcome == "accepted":
            assert row.status == "accepted", (text, row.reason)
        elif outcome == "small_or_none":  # Chaplin: faces about 1 % of the frame
            assert row.reason in {"no_face", "face_too_small"}, text
        else:
            assert row.reason == outcome, (text, row.reason)


def test_accepted_stills_each_show_one_large_face(
    real_dataset: tuple[Path, list[tuple[int, int, str, str]]],
) -> None:
    dataset, _ = real_dataset
    layout = DatasetLayout(dataset)
    detector = create_detector()
    accepted = [r for r in read_manifest(dataset) if r.status == "accepted"]
    assert len(accepted) == 6  # face5 once, face1 twice, face2 twice, GRID once
    for row in accepted:
        assert len(row.media.still_paths) == 5
        for still in row.media.still_paths:
            rgb = np.asarray(Image.open(layout.resolve(still)).convert("RGB"))
            faces = detector.detect(rgb)
            assert len(faces) == 1, (row.text, still)
            assert faces[0].width >= 0.2 and faces[0].height >= 0.2, (row.text, faces[0])
        for crop in row.media.face_crop_paths:
            assert Image.open(layout.resolve(crop)).size == (224, 224)
