"""Run a baseline on a task: train on the train split, write predictions, score them.

Predictions go to ``<dataset>/reports/predictions/<task>-<model>-<split>.jsonl`` in the
shared prediction format (one JSON object per item, keyed by ``item_id``), written
atomically; then ``empathynet.evaluate.harness.score_task`` scores them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from empathynet.evaluate.baselines.base import BASELINES, Baseline, Row, TaskData, load_task_split
from empathynet.store.atomic import atomic_write_bytes
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset
from empathynet.tasks.spec import TaskSpec, check_task_name, read_spec

if TYPE_CHECKING:
    from empathynet.evaluate.harness import Results


def predictions_path(dataset: str | Path, task: str, model: str, split: str) -> Path:
    """Where ``run_baseline`` writes the predictions of ``model`` on ``task``'s ``split``."""
    root = require_dataset(dataset).root
    return root / "reports" / "predictions" / f"{check_task_name(task)}-{model}-{split}.jsonl"


def write_predictions(path: Path, rows: Sequence[Row]) -> Path:
    """Write prediction rows as JSON Lines (atomically); returns ``path``."""
    text = "".join(json.dumps(row, separators=(",", ":"), allow_nan=False) + "\n" for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def score_predictions(
    dataset: str | Path, task: str, path: Path, *, split: str, seed: int
) -> tuple[Results, Path]:
    """Score a prediction file with the harness and write its results JSON."""
    # Imported here: the harness package imports this one's parent.
    from empathynet.evaluate.harness import score_task, write_results

    results = score_task(dataset, task, path, split=split, seed=seed)
    return results, write_results(dataset, results)


@dataclass
class BaselineRun:
    """What one baseline run did."""

    task: str
    family: str
    model: str
    split: str
    train_items: int
    items: int  #: items of the scored split
    path: Path  #: the prediction file
    views: tuple[str, ...]  #: views the model read
    seconds: float
    results: Results | None = None  #: the harness's results (None: the split has no items)
    results_path: Path | None = None  #: where the results JSON was written
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        views = "+".join(self.views) or "none"
        out = [
            f"baseline {self.model} on {self.task} ({self.family}), {self.split}: "
            f"{self.items} items, trained on {self.train_items}, views {views}, "
            f"{self.seconds:.1f} s",
            f"  predictions: {self.path}",
        ]
        out += [f"  {note}" for note in self.notes]
        if self.results is not None:
            out += [f"  {line}" for line in self.results.lines()]
            out.append(f"  results: {self.results_path}")
        return out


@dataclass
class FittedBaseline:
    """A baseline trained on a task's train split and its predictions for one split."""

    spec: TaskSpec
    train: TaskData
    data: TaskData  #: the predicted split
    baseline: Baseline
    rows: list[Row]  #: empty when the split has no items (the model is then not trained)


def fit_and_predict(
    dataset: str | Path, task: str, model: str, *, split: str = "test", seed: int = 0
) -> FittedBaseline:
    """Train baseline ``model`` on ``task``'s train split and predict ``split`` (in
    memory; ``run_baseline`` writes and scores them, ``empathynet.evaluate`` scores them)."""
    spec = read_spec(dataset, task)
    kind = BASELINES.get(model)
    kind.check(spec)
    data = load_task_split(dataset, task, split)
    train = data if split == "train" else load_task_split(dataset, task, "train")
    baseline = kind(seed)
    rows: list[Row] = []
    if len(data):
        baseline.fit(train)
        rows = list(baseline.predict(data))
    return FittedBaseline(spec, train, data, baseline, rows)


@writes_dataset
def run_baseline(
    dataset: str | Path,
    task: str,
    model: str,
    *,
    split: str = "test",
    seed: int = 0,
) -> BaselineRun:
    """Train ``model`` on ``task``'s train split, predict ``split``, write and score it.

    A split with no items (e.g. an MCQ task whose items were all dropped) gets an
    empty prediction file and no score; the run says so in its notes.
    """
    started = time.perf_counter()
    fitted = fit_and_predict(dataset, task, model, split=split, seed=seed)
    spec, train, data, baseline, rows = (
        fitted.spec,
        fitted.train,
        fitted.data,
        fitted.baseline,
        fitted.rows,
    )
    notes: list[str] = []
    if not len(data):
        dropped = ", ".join(f"{k} {v}" for k, v in spec.dropped.items() if v)
        notes.append(
            f"the {split} split has no items (dropped: {dropped or 'none'}): nothing to score"
        )
    path = write_predictions(predictions_path(dataset, task, model, split), rows)
    run = BaselineRun(
        task,
        spec.family,
        model,
        split,
        len(train),
        len(data),
        path,
        baseline.views_used,
        time.perf_counter() - started,
        notes=notes,
    )
    if len(data):
        run.results, run.results_path = score_predictions(
            dataset, task, path, split=split, seed=seed
        )
    return run


def applicable_baselines(spec: TaskSpec) -> list[str]:
    """Names of the baselines that can run on a task (given its spec)."""
    return [name for name in BASELINES.names() if BASELINES.get(name).applies(spec)]
