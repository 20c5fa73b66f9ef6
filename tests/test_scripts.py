"""The setup script the demo and test scripts source (scripts/_venv.sh), run against a
stub Python so that no real install happens."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

STUB_PYTHON = """#!/usr/bin/env bash
# 'python3 -m venv DIR' makes DIR/bin/{activate,python}; that python records its arguments
# and prints what pip would.
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  echo "PATH=\\"$PWD/$3/bin:\\$PATH\\"" > "$3/bin/activate"
  cp "$0" "$3/bin/python"
  exit 0
fi
echo "$@" > "$STUB_LOG"
echo "Collecting numpy>=1.26"
echo "Installing collected packages: numpy"
"""


def test_first_install_shows_pip_on_stderr_and_keeps_stdout_for_results(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "scripts" / "_venv.sh", project / "scripts")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project)
    stub = tmp_path / "python3"
    stub.write_text(STUB_PYTHON)
    stub.chmod(0o755)
    log = tmp_path / "pip-args"
    result = subprocess.run(
        ["bash", "-c", ". scripts/_venv.sh dev && echo result"],
        cwd=project,
        env={"PATH": "/usr/bin:/bin", "PYTHON": str(stub), "STUB_LOG": str(log)},
        capture_output=True,
        text=True,
        check=True,
    )
    arguments = log.read_text().split()
    assert arguments[:3] == ["-m", "pip", "install"] and arguments[-2:] == ["-e", ".[dev]"]
    assert "--quiet" not in arguments and "-q" not in arguments  # ~85 s of silence otherwise
    assert arguments[arguments.index("--progress-bar") + 1] == "off"  # stderr is no terminal
    assert "Collecting numpy" in result.stderr and "installing empathynet" in result.stderr
    assert result.stdout == "result\n"
