"""Scoring a prediction file against a task split, and the results JSON.

``score_task(dataset, task, predictions)`` reads the task spec and the split's items,
checks the predictions (``predictions.load_predictions``), computes the family's metrics
with 95 % bootstrap intervals (``metrics``) and returns ``Results``;
``write_results(dataset, results)`` writes ``reports/results/<task>-<split>-<stem>.json``
with everything needed to reproduce the figures (task version, dataset fingerprint,
seed, bootstrap count, SHA-256 of the prediction file and of the items, package version).

Headline metrics per family:

* classification: ``top1`` (accuracy), ``top5`` (rankings and scores only),
  ``macro_f1``, ``weighted_f1``; per class: recall and support; the confusion matrix;
* mcq: ``accuracy`` vs ``chance`` = 1/N, with a one-sided exact binomial p-value;
* generation: ``bits_per_dim`` = total NLL nats / (total target dims x ln 2), the unit
  named by the spec (text: bits per byte; audio: bits per sample).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from empathynet import __version__
from empathynet.errors import ConfigError, DatasetError
from empathynet.evaluate import metrics
from empathynet.evaluate.metrics import Figure
from empathynet.evaluate.predictions import (
    Predictions,
    load_predictions,
    predictions_from_rows,
)
from empathynet.store.atomic import atomic_write_json
from empathynet.store.hashing import file_sha256
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset
from empathynet.tasks.families import task_family
from empathynet.tasks.spec import TaskLayout, TaskSpec, read_spec
from empathynet.tasks.splits import SPLITS

RESULTS_FORMAT = "empathynet-results"
RESULTS_FORMAT_VERSION = 1
TOP_K = 5


@dataclass(frozen=True)
class Results:
    """The scores of one prediction file on one split of one task."""

    task: dict[str, Any]  #: name, family, family_version, spec and items SHA-256
    dataset: dict[str, Any]  #: name, fingerprint (from the spec)
    split: str
    items: int
    predictions: dict[str, Any]  #: file, sha256, field
    metrics: dict[str, Figure]  #: headline figures, with 95 % intervals
    details: dict[str, Any] = field(default_factory=dict)  #: per class, chance, unit...
    seed: int = 0
    bootstrap: int = 1000
    date: str = ""
    empathynet_version: str = __version__

    @property
    def name(self) -> str:
        return str(self.task["name"])

    def to_dict(self) -> dict[str, Any]:
        """The results JSON (see the module docstring)."""
        return {
            "format": RESULTS_FORMAT,
            "format_version": RESULTS_FORMAT_VERSION,
            "task": self.task,
            "dataset": self.dataset,
            "split": self.split,
            "items": self.items,
            "predictions": self.predictions,
            "metrics": {name: value.to_dict() for name, value in self.metrics.items()},
            **self.details,
            "bootstrap": {
                "resamples": self.bootstrap,
                "seed": self.seed,
                "confidence": metrics.CONFIDENCE,
                "method": metrics.BOOTSTRAP_METHOD,
            },
            "tie_rule": metrics.TIE_RULE,
            "empathynet_version": self.empathynet_version,
            "date": self.date,
        }

    def lines(self) -> list[str]:
        """A printable table: headline figures with their intervals, then details."""
        out = [
            f"task {self.name} ({self.task['family']} v{self.task['family_version']}), "
            f"split {self.split}, {self.items:,} items; predictions "
            f"{Path(self.predictions['file']).name} ({self.predictions['field']})",
            f"  {'metric':<22} {'value':>8}   95% CI",
        ]
        for name, value in self.metrics.items():
            out.append(f"  {name:<22} {_cell(value)}")
        if "chance" in self.details:
            p_value = self.details["p_value_vs_chance"]
            out.append(f"  {'chance (1/N)':<22} {self.details['chance']:>8.4f}")
            out.append(f"  {'p (> chance, binomial)':<22} {p_value:>8.2g}")
        if "unit" in self.details:
            out.append(f"  unit: {self.details['unit']}")
        per_class = self.details.get("per_class")
        if per_class:
            out.append(f"  {'class':<22} {'recall':>8}   95% CI            support")
            for name, entry in per_class.items():
                recall = Figure(
                    math.nan if entry["recall"]["value"] is None else entry["recall"]["value"],
                    *(entry["recall"]["ci95"] or (None, None)),
                )
                out.append(f"  {name:<22} {_cell(recall)}  {entry['support']:>7,}")
        return out


def _cell(value: Figure) -> str:
    text = f"{value.value:>8.4f}" if not math.isnan(value.value) else f"{'n/a':>8}"
    if value.low is not None and value.high is not None:
        text += f"   [{value.low:.4f}, {value.high:.4f}]"
    return text


def _truth(layout: TaskLayout, split: str, family: str, spec: TaskSpec) -> tuple[pa.Table, str]:
    """The split's item ids and the family's truth column, checked against the spec, and
    the SHA-256 of the items file."""
    path = layout.items(split)
    entry = spec.files.get(split)
    expected = None if entry is None else entry.sha256
    if not path.is_file():
        raise DatasetError(f"task {layout.name!r} has no {split} items file", path)
    sha256 = file_sha256(path)
    if expected is not None and sha256 != expected:
        raise DatasetError(
            "the items file differs from its SHA-256 in the spec: remake the task "
            "(`empathynet tasks make ... --overwrite`)",
            path,
        )
    try:
        return pq.read_table(path, columns=["item_id", task_family(family).truth_column]), sha256
    except (OSError, pa.ArrowInvalid, KeyError) as error:
        raise DatasetError(f"cannot read the items: {error}", path) from None


def _column(table: pa.Table, name: str) -> npt.NDArray[np.int64]:
    return np.asarray(table.column(name).to_numpy(), dtype=np.int64)


def score_task(
    dataset: str | Path,
    task_name: str,
    predictions_path: str | Path,
    *,
    split: str = "test",
    seed: int = 0,
    bootstrap: int = 1000,
) -> Results:
    """Score the prediction file against ``split`` of task ``task_name`` of ``dataset``.

    ``bootstrap`` resamples (0: no intervals) from a generator seeded with ``seed``;
    the same inputs and seed give the same figures.
    """
    path = Path(predictions_path)

    def read(spec: TaskSpec, item_ids: pa.Array, label: str) -> Predictions:
        return load_predictions(path, spec, item_ids=item_ids, items_label=label)

    return _score(dataset, task_name, read, split, seed, bootstrap, lambda: file_sha256(path))


def score_rows(
    dataset: str | Path,
    task_name: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    name: str = "<in-memory predictions>",
    split: str = "test",
    seed: int = 0,
    bootstrap: int = 1000,
) -> Results:
    """``score_task`` for prediction rows held in memory (dicts with ``item_id`` and one
    prediction field, as a prediction file's lines): nothing is written. ``name`` stands
    for the file in messages and in the results; their SHA-256 is that of the rows as
    JSON Lines."""

    def read(spec: TaskSpec, item_ids: pa.Array, label: str) -> Predictions:
        return predictions_from_rows(rows, spec, name=name, item_ids=item_ids, items_label=label)

    def digest() -> str:
        text = "".join(json.dumps(dict(r), sort_keys=True, default=str) + "\n" for r in rows)
        return hashlib.sha256(text.encode()).hexdigest()

    return _score(dataset, task_name, read, split, seed, bootstrap, digest, name)


def _score(
    dataset: str | Path,
    task_name: str,
    read: Callable[[TaskSpec, pa.Array, str], Predictions],
    split: str,
    seed: int,
    bootstrap: int,
    digest: Callable[[], str],
    name: str | None = None,
) -> Results:
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; splits: {list(SPLITS)}")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer, got {seed!r}")
    if not isinstance(bootstrap, int) or bootstrap < 0:
        raise ConfigError(f"--bootstrap must be a non-negative integer, got {bootstrap!r}")
    root = require_dataset(dataset).root
    spec = read_spec(root, task_name)
    family = spec.family
    layout = TaskLayout(root, task_name)
    truth, items_sha256 = _truth(layout, split, family, spec)
    if truth.num_rows == 0:
        raise DatasetError(f"the {split} split of task {task_name!r} has no items", root)
    predictions = read(
        spec, truth.column("item_id").combine_chunks(), f"the {split} split of task {task_name!r}"
    )
    rng = np.random.default_rng(seed)
    kind = task_family(family)
    figures, details = kind.score(
        _column(truth, kind.truth_column), predictions, spec, bootstrap, rng
    )
    return Results(
        task={
            "name": task_name,
            "family": family,
            "family_version": spec.family_version,
            "spec_sha256": file_sha256(layout.spec),
            "items_sha256": items_sha256,
            "seed": spec.seed,
        },
        dataset={
            "name": spec.dataset_name,
            "fingerprint": spec.dataset_fingerprint,
        },
        split=split,
        items=truth.num_rows,
        predictions={
            "file": name if name is not None else str(predictions.path),
            "sha256": digest(),
            "field": predictions.field,
        },
        metrics=figures,
        details=details,
        seed=seed,
        bootstrap=bootstrap,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def score_classification(
    y_true: npt.NDArray[np.int64],
    predictions: Predictions,
    classes: list[str],
    bootstrap: int,
    rng: np.random.Generator,
) -> tuple[dict[str, Figure], dict[str, Any]]:
    """Classification figures from the true class indices and aligned predictions."""
    width = len(classes)
    scores = np.asarray(predictions.values, dtype=np.float64)
    y_pred = metrics.top1(scores)
    ranked = predictions.field != "label"
    hit = metrics.true_rank(scores, y_true) < TOP_K if ranked else y_pred == y_true
    # cell = (true class, predicted class, top-k hit): every figure is a function of it
    cells = (y_true * width + y_pred) * 2 + hit.astype(np.int64)
    counts = np.bincount(cells, minlength=width * width * 2)
    confusion = counts.reshape(width, width, 2).sum(axis=2)
    point = {
        "top1": float(metrics.accuracy(confusion)),
        "top5": float(hit.mean()),
        "macro_f1": float(metrics.macro_f1(confusion)),
        "weighted_f1": float(metrics.weighted_f1(confusion)),
    }
    recall = metrics.recall_per_class(confusion)
    samples: dict[str, npt.NDArray[np.float64]] = {}
    recall_samples = None
    if bootstrap:
        drawn = metrics.resample_counts(counts, bootstrap, rng).reshape(bootstrap, width, width, 2)
        stack = drawn.sum(axis=3)
        samples = {
            "top1": metrics.accuracy(stack),
            "top5": drawn[..., 1].sum(axis=(1, 2)) / len(y_true),
            "macro_f1": metrics.macro_f1(stack),
            "weighted_f1": metrics.weighted_f1(stack),
        }
        recall_samples = metrics.recall_per_class(stack)
    names = (
        ["top1", "top5", "macro_f1", "weighted_f1"]
        if ranked
        else ["top1", "macro_f1", "weighted_f1"]
    )
    figures = {name: metrics.figure(point[name], samples.get(name)) for name in names}
    support = confusion.sum(axis=1)
    per_class = {
        name: {
            "recall": metrics.figure(
                float(recall[c]), None if recall_samples is None else recall_samples[:, c]
            ).to_dict(),
            "support": int(support[c]),
        }
        for c, name in enumerate(classes)
    }
    details = {
        "per_class": per_class,
        "confusion_matrix": {
            "classes": list(classes),
            "rows": "true class",
            "columns": "predicted class",
            "counts": confusion.tolist(),
        },
    }
    return figures, details


def score_mcq(
    answer: npt.NDArray[np.int64],
    choice: npt.NDArray[np.int64],
    options: int,
    bootstrap: int,
    rng: np.random.Generator,
) -> tuple[dict[str, Figure], dict[str, Any]]:
    """MCQ accuracy with its interval, chance (1/N) and a one-sided binomial p-value."""
    from scipy.stats import binomtest

    n = len(answer)
    right = int(np.count_nonzero(np.asarray(answer) == np.asarray(choice)))
    samples = None
    if bootstrap:
        drawn = metrics.resample_counts(np.array([n - right, right]), bootstrap, rng)
        samples = drawn[:, 1] / n
    chance = metrics.chance_accuracy(options)
    p_value = float(binomtest(right, n, chance, alternative="greater").pvalue)
    figures = {"accuracy": metrics.figure(right / n, samples)}
    return figures, {"chance": chance, "options": options, "p_value_vs_chance": p_value}


def score_generation(
    nll_nats: npt.NDArray[np.float64],
    dims: npt.NDArray[np.int64],
    bootstrap: int,
    rng: np.random.Generator,
) -> tuple[dict[str, Figure], dict[str, Any]]:
    """Bits per dimension over the split (total nats / total dims / ln 2), resampling items."""
    nats = np.asarray(nll_nats, dtype=np.float64)
    dims = np.asarray(dims, dtype=np.int64)
    samples = None
    if bootstrap:
        blocks = [
            nats[index].sum(axis=1) / (dims[index].sum(axis=1) * math.log(2))
            for index in metrics.resample_index_blocks(len(nats), bootstrap, rng)
        ]
        samples = np.concatenate(blocks)
    figures = {"bits_per_dim": metrics.figure(metrics.bits_per_dim(nats, dims), samples)}
    details = {"total_nll_nats": float(nats.sum()), "total_dims": int(dims.sum())}
    return figures, details


def results_path(dataset: str | Path, results: Results) -> Path:
    """``reports/results/<task>-<split>-<predictions stem>.json`` in the dataset."""
    stem = Path(results.predictions["file"]).stem
    return Path(dataset) / "reports" / "results" / f"{results.name}-{results.split}-{stem}.json"


@writes_dataset
def write_results(dataset: str | Path, results: Results) -> Path:
    """Write the results JSON atomically; returns its path."""
    path = results_path(dataset, results)
    atomic_write_json(path, results.to_dict())
    return path
