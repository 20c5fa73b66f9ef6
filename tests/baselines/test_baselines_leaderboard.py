"""The leaderboard runs every applicable baseline and audits every task."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathynet.errors import MissingDependencyError
from empathynet.evaluate import leaderboard as board_module
from empathynet.evaluate.baselines import applicable_baselines
from empathynet.evaluate.leaderboard import leaderboard, leaderboard_lines
from empathynet.tasks import TaskRequest, make_task, read_spec
from empathynet.testing.synthetic import write_synthetic_dataset


def test_every_applicable_baseline_gets_a_row_and_every_task_an_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(
        root,
        cue_groups=40,
        sources=8,
        media=True,
        min_ms=400,
        max_ms=1000,
        labels_in_manifest=True,
        attributes_in_manifest=True,
    )
    make_task(root, TaskRequest(family="classification", query="text", name="cls-text"))
    make_task(root, TaskRequest(family="generation", query="stills", answer="text", name="gen"))

    real_run = board_module.run_baseline

    def run_or_miss(dataset: Path, task: str, model: str, **options: object):  # type: ignore[no-untyped-def]
        if model == "majority":
            raise MissingDependencyError("pretend this model's extra is not installed")
        return real_run(dataset, task, model, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(board_module, "run_baseline", run_or_miss)
    board = leaderboard(root)
    expected = {
        (task, model)
        for task in ("cls-text", "gen")
        for model in applicable_baselines(read_spec(root, task))
    }
    assert {(row.task, row.model) for row in board.rows} == expected
    assert set(board.audits) == {"cls-text", "gen"}
    missing = [row for row in board.rows if row.model == "majority"]
    assert missing and all(row.value is None and "not run" in row.note for row in missing)
    scored = [row for row in board.rows if row.model == "random" and row.task == "gen"]
    assert scored[0].value == pytest.approx(8.0)  # uniform bytes: 8 bits per byte
    text = "\n".join(leaderboard_lines(board))
    assert "cls-text" in text and "majority not run: pretend" in text
    monkeypatch.undo()
    from empathynet.cli.main import main

    assert main(["leaderboard", str(root), "--json"]) == 0  # every audit passes
