"""docs/python.md runs: its code blocks are executed in order, in one namespace."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "python.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("datasets") is None,
    reason="the walk-through needs PyTorch (extra embed) and datasets (extra hf)",
)
def test_the_python_walk_through_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "walk_through"}
    for number, code in enumerate(blocks, start=1):
        exec(compile(code, f"{PAGE.name} block {number}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "accepted cue groups" in out and "accuracy" in out and "random baseline" in out
