"""The demo dataset, built once for the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathynet.pipeline.build import build_dataset
from empathynet.testing import DemoClip, generate_demo_media


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[DemoClip], Path]:
    """The demo media and a dataset built from them (read-only for the tests)."""
    pytest.importorskip("mediapipe")
    root = tmp_path_factory.mktemp("demo")
    clips = generate_demo_media(root / "media")
    dataset = root / "dataset"
    build_dataset([root / "media"], dataset, progress=False, log=lambda line: None)
    return clips, dataset
