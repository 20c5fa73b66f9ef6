"""The demo lives apart from the core: without its extra, one clear line names the install."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from empathynet.demo import run as demo_run
from empathynet.errors import MissingDependencyError


def test_a_missing_demo_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = importlib.util.find_spec

    def without_skimage(name: str, *args: object) -> object:
        return None if name == "skimage" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", without_skimage)
    with pytest.raises(
        MissingDependencyError, match=r"scikit-image: pip install 'empathynet\[demo\]'"
    ):
        demo_run.run_demo(tmp_path)


def test_the_core_does_not_import_the_demo() -> None:
    import subprocess
    import sys

    code = (
        "import sys, empathynet.pipeline.build, empathynet.tasks, empathynet.evaluate, "
        "empathynet.cli.main; print(sorted(m for m in sys.modules if m.startswith("
        "('empathynet.demo', 'skimage', 'espeakng_loader'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert isinstance(demo_run, ModuleType)
