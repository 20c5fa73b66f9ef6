"""Shared fixtures: the real test material in ../shared/data (skipped visibly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
