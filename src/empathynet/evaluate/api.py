"""Evaluate a model object (or a baseline by name) on tasks, in memory.

    import empathynet

    class Loud:                                   # any object with the family's method
        def choose(self, items):                  # MCQ: loaded items in, one answer each
            return [int(np.argmax([np.abs(a).mean() for a in item["options"]["audio_blur"]]))
                    for item in items]

    results = empathynet.evaluate("my-dataset", ["mcq-stills-to-audio"], Loud())
    results["mcq-stills-to-audio"]["metrics"]["accuracy"]

A model handles a family when it has the family's method (``TaskFamily.model_method``;
``MODEL_METHODS`` for the built-in families); each gets
a batch of loaded items (``tasks.access.TaskSplit.load``: media as arrays, audio cut to an
MCQ item's ``shown_ms``; without the answer) and returns one prediction per item:

* classification, ``predict_labels(items)``: a class name, a ranking (class names, best
  first) or a mapping class name -> score;
* multiple choice, ``choose(items)``: an option index, or one score per option;
* generation, ``log_likelihood(items)``: the total log-probability of the item's target
  in nats (``item["target"]``, the scored representation; <= 0).

A model with a ``fit(split)`` method is first given the task's train split
(``TaskSplit``). The results are the dicts the ``evaluate`` command writes
(``Results.to_dict``), scored from memory: no prediction file is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from empathynet.errors import ConfigError
from empathynet.evaluate.harness import Results, score_rows, write_results
from empathynet.store.dataset import Dataset, open_dataset
from empathynet.tasks.access import TaskSplit
from empathynet.tasks.families import family_names, task_family

Item = Mapping[str, Any]


@runtime_checkable
class LabelPredictor(Protocol):
    """A classification model."""

    def predict_labels(self, items: Sequence[Item]) -> Sequence[Any]: ...


@runtime_checkable
class OptionChooser(Protocol):
    """A multiple-choice model."""

    def choose(self, items: Sequence[Item]) -> Sequence[Any]: ...


@runtime_checkable
class LikelihoodModel(Protocol):
    """A generative model: log p(target | query) in nats."""

    def log_likelihood(self, items: Sequence[Item]) -> Sequence[float]: ...


#: The method a model needs per task family.
MODEL_METHODS: dict[str, str] = {name: task_family(name).model_method for name in family_names()}


def _prediction_row(family: str, item_id: str, value: Any) -> dict[str, Any]:
    """One prediction row (``evaluate.predictions``) from a model's output for an item,
    in the prediction format of the item's family."""
    kind = task_family(family).prediction_format
    if kind == "classification":
        if isinstance(value, str):
            return {"item_id": item_id, "label": value}
        if isinstance(value, Mapping):
            return {"item_id": item_id, "scores": dict(value)}
        return {"item_id": item_id, "ranking": list(value)}
    if kind == "mcq":
        if isinstance(value, Sequence) or hasattr(value, "__len__"):
            return {"item_id": item_id, "scores": list(value)}
        return {"item_id": item_id, "choice": value}
    return {"item_id": item_id, "logprob": value}


def _method(model: Any, family: str, task: str) -> Any:
    name = task_family(family).model_method
    method = getattr(model, name, None)
    if not callable(method):
        raise ConfigError(
            f"{type(model).__name__} has no {name}(items) method: a {family} "
            f"task ({task}) needs one (see empathynet.evaluate.api)"
        )
    return method


def model_rows(
    model: Any, split: TaskSplit, *, batch_size: int = 32, progress: bool = False
) -> list[dict[str, Any]]:
    """Prediction rows of ``model`` (see the module docstring) for every item of
    ``split``, in item order, loading ``batch_size`` items at a time."""
    family = split.task.family
    method_name = task_family(family).model_method
    method = _method(model, family, split.task.name)
    rows: list[dict[str, Any]] = []
    for start in range(0, len(split), batch_size):
        indices = range(start, min(start + batch_size, len(split)))
        items = [split.load(i, truth=False) for i in indices]  # no answers
        outputs = list(method(items))
        if len(outputs) != len(items):
            raise ConfigError(
                f"{type(model).__name__}.{method_name} returned {len(outputs)} predictions "
                f"for {len(items)} items"
            )
        rows += [
            _prediction_row(family, str(item["item_id"]), output)
            for item, output in zip(items, outputs, strict=True)
        ]
    return rows


def evaluate_model(
    dataset: Dataset | str | Path,
    tasks: str | Sequence[str],
    model: Any,
    *,
    split: str = "test",
    seed: int = 0,
    bootstrap: int = 1000,
    batch_size: int = 32,
    write: bool = False,
) -> dict[str, dict[str, Any]]:
    """Score ``model`` on ``split`` of each task; ``{task: results dict}``.

    ``model``: the name of a baseline (trained on the task's train split, as
    ``empathynet baseline`` does) or an object with the family's method (see the module
    docstring). ``write``: also write each results JSON under ``reports/results/`` as
    the ``evaluate`` command does.
    """
    opened = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    names = [tasks] if isinstance(tasks, str) else list(tasks)
    if not names:
        raise ConfigError("no task to evaluate: give one or more task names")
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        task = opened.task(name)
        label = model if isinstance(model, str) else type(model).__name__
        if isinstance(model, str):
            from empathynet.evaluate.baselines.run import fit_and_predict

            rows = fit_and_predict(opened.root, name, model, split=split, seed=seed).rows
        else:
            _method(model, task.family, name)  # before training it
            fit = getattr(model, "fit", None)
            if callable(fit):
                fit(task.split("train"))
            rows = model_rows(model, task.split(split), batch_size=batch_size)
        results: Results = score_rows(
            opened.root,
            name,
            rows,
            name=f"<predictions of {label}>",
            split=split,
            seed=seed,
            bootstrap=bootstrap,
        )
        if write:
            write_results(opened.root, results)
        out[name] = results.to_dict()
    return out


__all__ = [
    "MODEL_METHODS",
    "LabelPredictor",
    "LikelihoodModel",
    "OptionChooser",
    "evaluate_model",
    "model_rows",
]
