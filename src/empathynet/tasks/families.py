"""Task families: what each one makes, what a prediction of it holds, how it is scored.

A family is an object with the ``TaskFamily`` protocol, held in ``TASK_FAMILIES`` by
name: the three built in (classification, mcq, generation) and any an installed package
declares in the ``empathynet.task_families`` entry-point group. Making a task, checking
and scoring predictions and evaluating a model object ask the family, instead of
branching on its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from empathynet.registry import Registry
from empathynet.tasks import classification, generation, mcq

if TYPE_CHECKING:
    from empathynet.evaluate.metrics import Figure
    from empathynet.evaluate.predictions import Predictions
    from empathynet.tasks.cuetable import CueTable
    from empathynet.tasks.items import FamilyItems
    from empathynet.tasks.make import TaskRequest
    from empathynet.tasks.spec import TaskSpec
    from empathynet.tasks.splits import SplitAssignment

Scores = tuple[dict[str, "Figure"], dict[str, Any]]

#: The prediction formats (``evaluate.predictions``): the fields a prediction row of each
#: may use. A family's predictions follow one of them (``prediction_format``).
PREDICTION_FIELDS: dict[str, tuple[str, ...]] = {
    "classification": ("label", "ranking", "scores"),
    "mcq": ("choice", "scores"),
    "generation": ("nll_nats", "logprob"),
}


class TaskFamily(Protocol):
    """One task family (see the module docstring)."""

    #: its name in specs and on the command line
    name: str
    #: bumped whenever the same request would give other items
    version: int
    #: whether its items need labelled cue groups
    labelled: bool
    #: the item column the scorer compares predictions with
    truth_column: str
    #: the prediction format its predictions follow (a key of ``PREDICTION_FIELDS``)
    prediction_format: str
    #: the method a model object needs to be evaluated on it (``empathynet.evaluate``)
    model_method: str

    def build_items(
        self, cues: CueTable, request: TaskRequest, splits: SplitAssignment
    ) -> FamilyItems:
        """The items of every split and the family's spec entries (no I/O)."""

    def score(
        self,
        truth: npt.NDArray[np.int64],
        predictions: Predictions,
        spec: TaskSpec,
        bootstrap: int,
        rng: np.random.Generator,
    ) -> Scores:
        """Headline figures (with bootstrap intervals) and details of one split."""


class Classification:
    name = classification.FAMILY
    version = classification.FAMILY_VERSION
    labelled = True
    truth_column = "label_index"
    prediction_format = "classification"
    model_method = "predict_labels"

    def build_items(
        self, cues: CueTable, request: TaskRequest, splits: SplitAssignment
    ) -> FamilyItems:
        return classification.build_classification_items(cues, splits, request.query_views)

    def score(
        self,
        truth: npt.NDArray[np.int64],
        predictions: Predictions,
        spec: TaskSpec,
        bootstrap: int,
        rng: np.random.Generator,
    ) -> Scores:
        from empathynet.evaluate.harness import score_classification

        return score_classification(truth, predictions, list(spec.classes), bootstrap, rng)


class MultipleChoice:
    name = mcq.FAMILY
    version = mcq.FAMILY_VERSION
    labelled = True
    truth_column = "answer_index"
    prediction_format = "mcq"
    model_method = "choose"

    def build_items(
        self, cues: CueTable, request: TaskRequest, splits: SplitAssignment
    ) -> FamilyItems:
        return mcq.build_mcq_items(
            cues,
            splits,
            request.query_views,
            request.answer_views,
            request.mcq_rules(),
            request.seed,
        )

    def score(
        self,
        truth: npt.NDArray[np.int64],
        predictions: Predictions,
        spec: TaskSpec,
        bootstrap: int,
        rng: np.random.Generator,
    ) -> Scores:
        from empathynet.evaluate.harness import score_mcq

        return score_mcq(truth, predictions.values, spec.options or 0, bootstrap, rng)


class Generation:
    name = generation.FAMILY
    version = generation.FAMILY_VERSION
    labelled = False
    truth_column = "target_dims"
    prediction_format = "generation"
    model_method = "log_likelihood"

    def build_items(
        self, cues: CueTable, request: TaskRequest, splits: SplitAssignment
    ) -> FamilyItems:
        return generation.build_generation_items(
            cues, splits, request.query_views, request.answer_views[0]
        )

    def score(
        self,
        truth: npt.NDArray[np.int64],
        predictions: Predictions,
        spec: TaskSpec,
        bootstrap: int,
        rng: np.random.Generator,
    ) -> Scores:
        from empathynet.evaluate.harness import score_generation

        figures, details = score_generation(predictions.values, truth, bootstrap, rng)
        details["unit"] = spec.target_unit or "bits per dimension"
        return figures, details


TASK_FAMILIES: Registry[TaskFamily] = Registry("task family", "empathynet.task_families")
for _family in (Classification(), MultipleChoice(), Generation()):
    TASK_FAMILIES.add(_family.name, _family)


def task_family(name: str) -> TaskFamily:
    """The family registered as ``name`` (``ConfigError`` listing the known ones)."""
    return TASK_FAMILIES.get(name)


def family_names() -> tuple[str, ...]:
    """Every registered family, built-in ones first."""
    built_in = ("classification", "mcq", "generation")
    return (*built_in, *(n for n in TASK_FAMILIES.names() if n not in built_in))


__all__ = [
    "PREDICTION_FIELDS",
    "TASK_FAMILIES",
    "Classification",
    "Generation",
    "MultipleChoice",
    "TaskFamily",
    "family_names",
    "task_family",
]
