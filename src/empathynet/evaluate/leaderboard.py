"""Run every applicable baseline and the audits on a dataset's tasks: a leaderboard.

``leaderboard(dataset)`` trains each baseline on a task's train split, scores it on the
test split with the harness (95 % bootstrap intervals), audits the task, and returns
the rows (and, for classification, each baseline's confusion matrix on the scored
split, for the report's plots); ``leaderboard_lines`` formats them as a table. A
baseline whose optional dependency is missing (the sentence embedding needs the
``embed`` extra) is listed as not run, with the reason, never silently left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from empathynet.errors import DatasetError, MissingDependencyError
from empathynet.evaluate.audits import audit_task
from empathynet.evaluate.baselines import applicable_baselines, run_baseline
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset
from empathynet.tasks import list_tasks, load_cue_table, read_spec

#: The headline figure shown per family (higher is better except bits per dimension).
HEADLINE = {"classification": "top1", "mcq": "accuracy", "generation": "bits_per_dim"}


@dataclass(frozen=True)
class BoardRow:
    """One baseline on one task (``value`` None: not run or nothing to score)."""

    task: str
    family: str
    model: str
    metric: str
    items: int
    value: float | None
    low: float | None
    high: float | None
    note: str = ""


@dataclass(frozen=True)
class Confusion:
    """A classification baseline's confusion matrix on the scored split, as the harness
    computed it: ``counts[true][predicted]``, classes in taxonomy order."""

    split: str
    classes: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Board:
    """The leaderboard rows and each task's audit verdict."""

    rows: list[BoardRow]
    audits: dict[str, str]  #: task -> "passed" or "FAILED: <shortcuts>"
    #: task -> model -> confusion matrix (classification baselines that were scored)
    confusions: dict[str, dict[str, Confusion]] = field(default_factory=dict)


@writes_dataset
def leaderboard(dataset: str | Path, *, split: str = "test", seed: int = 0) -> Board:
    """Run every applicable baseline on every task of ``dataset`` and audit each task."""
    require_dataset(dataset)
    tasks = list_tasks(dataset)
    if not tasks:
        raise DatasetError(
            "this dataset has no tasks yet: make some with "
            "'empathynet tasks make DATASET --suite standard'",
            dataset,
        )
    cues = load_cue_table(dataset)  # once, for every task's audit
    rows: list[BoardRow] = []
    audits: dict[str, str] = {}
    confusions: dict[str, dict[str, Confusion]] = {}
    for task in tasks:
        spec = read_spec(dataset, task.name)
        family = spec.family
        metric = HEADLINE[family]
        for model in applicable_baselines(spec):
            try:
                run = run_baseline(dataset, task.name, model, split=split, seed=seed)
            except MissingDependencyError as error:
                rows.append(
                    BoardRow(
                        task.name,
                        family,
                        model,
                        metric,
                        0,
                        None,
                        None,
                        None,
                        f"not run: {error.message}",
                    )
                )
                continue
            figure = run.results.metrics.get(metric) if run.results is not None else None
            note = "" if figure is not None else "no items to score"
            matrix = run.results.details.get("confusion_matrix") if run.results else None
            if matrix is not None:
                confusions.setdefault(task.name, {})[model] = Confusion(
                    split,
                    tuple(matrix["classes"]),
                    tuple(tuple(int(v) for v in row) for row in matrix["counts"]),
                )
            rows.append(
                BoardRow(
                    task.name,
                    family,
                    model,
                    metric,
                    run.items,
                    figure.value if figure else None,
                    figure.low if figure else None,
                    figure.high if figure else None,
                    note,
                )
            )
        report = audit_task(dataset, task.name, seed=seed, cues=cues)
        audits[task.name] = "passed" if report.passed else "FAILED: " + ", ".join(report.failures)
    return Board(rows, audits, confusions)


def leaderboard_lines(board: Board) -> list[str]:
    """The leaderboard as a text table, one line per baseline, tasks in order."""
    lines = [f"{'task':<22} {'model':<15} {'metric':<13} {'items':>5}  value [95 % CI]"]
    current = ""
    missing: dict[str, str] = {}  # model -> why it did not run (said once, below the table)
    for row in board.rows:
        if row.task != current:
            current = row.task
            lines.append(f"{row.task}  (audit: {board.audits.get(row.task, '-')})")
        if row.value is None and row.note.startswith("not run: "):
            missing.setdefault(row.model, row.note.removeprefix("not run: "))
            shown = "not run (see below)"
        elif row.value is None:
            shown = row.note
        elif row.low is None or row.high is None:
            shown = f"{row.value:.3f}"
        else:
            shown = f"{row.value:.3f} [{row.low:.3f}, {row.high:.3f}]"
        lines.append(f"{'':<22} {row.model:<15} {row.metric:<13} {row.items:>5}  {shown}")
    for model, reason in missing.items():
        lines.append(f"{model} not run: {reason}")
    return lines
