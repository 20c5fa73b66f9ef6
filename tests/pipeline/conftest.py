"""The demo dataset, built once for the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathynet.demo import DemoClip
from empathynet.pipeline.build import build_dataset


@pytest.fixture(scope="session")
def demo(request: pytest.FixtureRequest) -> tuple[list[DemoClip], Path]:
    """The demo media (the session's ``demo_media``) and a dataset built from them beside
    them (read-only for the tests)."""
    pytest.importorskip("mediapipe")
    clips: list[DemoClip] = request.getfixturevalue("demo_media")  # made after the skip
    media = clips[0].video_path.parent
    dataset = media.parent / "dataset"
    build_dataset([media], dataset, progress=False, log=lambda line: None)
    return clips, dataset
