"""Shared fixtures: the real test material in ../shared/data (skipped visibly when absent),
and the generated demo media, made once per session."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from empathynet.demo import DemoClip

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (PROJECT_ROOT / ".." / "shared" / "data").resolve()


def shared_path(*parts: str) -> Path:
    """A path inside ../shared/data; skips the calling test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real test material not found: {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture
def shared_data() -> Path:
    """The root of ../shared/data; skips the test when the folder is absent."""
    return shared_path()


@pytest.fixture(scope="session")
def demo_media(tmp_path_factory: pytest.TempPathFactory) -> list[DemoClip]:
    """The demo set (``generate_demo_media``) in ``<tmp>/demo/media``, shared by every test
    that reads it: read-only for the tests."""
    from empathynet.demo import generate_demo_media

    return generate_demo_media(tmp_path_factory.mktemp("demo") / "media")
