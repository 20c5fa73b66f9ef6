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

from empathynet.errors import ConfigError
from empathynet.registry import Registry
from empathynet.tasks import classification, generation, mcq
from empathynet.tasks.spec import FAMILIES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from empathynet.evaluate.metrics import Figure
    from empathynet.evaluate.predictions import Predictions
    from empathynet.tasks.access import TaskSplit
    from empathynet.tasks.cuetable import CueTable
    from empathynet.tasks.items import FamilyItems
    from empathynet.tasks.make import TaskRequest
    from empathynet.tasks.spec import TaskSpec
    from empathynet.tasks.splits import SplitAssignment
    from empathynet.tasks.validate import ItemCheck

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

    def check_request(self, request: TaskRequest) -> None:
        """``ConfigError`` when ``request`` cannot make a task of this family."""

    def default_name(self, query: str, answer: str) -> str:
        """A task's name from its views (``+``-joined labels) when none is given."""

    def check_items(self, context: ItemCheck) -> npt.NDArray[np.int64]:
        """Re-check the family's item columns (``tasks validate``); the cue-table rows
        whose media the validation then checks."""

    def load_item(
        self, split: TaskSplit, row: Mapping[str, Any], item: dict[str, Any], truth: bool
    ) -> None:
        """Add the family's fields to a loaded item (``TaskSplit.load``); without the
        answer when not ``truth``."""


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

    def check_request(self, request: TaskRequest) -> None:
        if request.answer_views:
            raise ConfigError("a classification task has no --answer views (the class is)")

    def default_name(self, query: str, answer: str) -> str:
        return f"cls-{query}"

    def check_items(self, context: ItemCheck) -> npt.NDArray[np.int64]:
        from empathynet.tasks.validate import check_classification_items

        return check_classification_items(context)

    def load_item(
        self, split: TaskSplit, row: Mapping[str, Any], item: dict[str, Any], truth: bool
    ) -> None:
        from empathynet.tasks.access import load_label

        load_label(split, row, item, truth)


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

    def check_request(self, request: TaskRequest) -> None:
        from empathynet.tasks.views import leaking

        if not request.answer_views:
            raise ConfigError("an mcq task needs --answer views")
        request.mcq_rules()  # checks options, mode, tolerances
        leaks = leaking(request.query_views + request.answer_views)
        if leaks and not request.allow_leaking_views:
            raise ConfigError(
                f"views {leaks} carry the spoken words (raw audio); multiple-choice audio "
                "is always blurred: use audio_blur / face_stills, or allow leaking views"
            )

    def default_name(self, query: str, answer: str) -> str:
        return f"mcq-{query}-to-{answer}"

    def check_items(self, context: ItemCheck) -> npt.NDArray[np.int64]:
        from empathynet.tasks.validate import check_mcq_items

        return check_mcq_items(context)

    def load_item(
        self, split: TaskSplit, row: Mapping[str, Any], item: dict[str, Any], truth: bool
    ) -> None:
        from empathynet.tasks.access import load_options

        load_options(split, row, item, truth)


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

    def check_request(self, request: TaskRequest) -> None:
        generation.check_target(request.answer_views)
        if request.min_confidence is not None:
            raise ConfigError(
                "--min-confidence filters labelled cue groups: it applies to "
                "classification and mcq tasks, not generation"
            )

    def default_name(self, query: str, answer: str) -> str:
        return f"gen-{answer}-from-{query}"

    def check_items(self, context: ItemCheck) -> npt.NDArray[np.int64]:
        from empathynet.tasks.validate import check_generation_items

        return check_generation_items(context)

    def load_item(
        self, split: TaskSplit, row: Mapping[str, Any], item: dict[str, Any], truth: bool
    ) -> None:
        from empathynet.tasks.access import load_target_item

        load_target_item(split, row, item, truth)


TASK_FAMILIES: Registry[TaskFamily] = Registry("task family", "empathynet.task_families")
for _family in (Classification(), MultipleChoice(), Generation()):
    TASK_FAMILIES.add(_family.name, _family)


def task_family(name: str) -> TaskFamily:
    """The family registered as ``name`` (``ConfigError`` listing the known ones)."""
    return TASK_FAMILIES.get(name)


def family_names() -> tuple[str, ...]:
    """Every registered family, built-in ones first."""
    return (*FAMILIES, *(n for n in TASK_FAMILIES.names() if n not in FAMILIES))


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
