"""Evaluation: prediction files, metrics with bootstrap intervals, and the scorer.

``empathynet.evaluate(dataset, tasks, model)`` (this module is callable: it calls
``api.evaluate_model``) scores a model object or a baseline in memory.

``score_task(dataset, "mcq-stills-to-audio", "preds.jsonl")`` checks a prediction file
against a task split and returns ``Results`` (headline figures with 95 % intervals);
``write_results`` stores them under ``reports/results/``. Prediction formats:
``evaluate.predictions``; metric definitions and the tie rule: ``evaluate.metrics``.
"""

import sys
import types
from typing import Any

from empathynet.evaluate.api import (
    MODEL_METHODS,
    LabelPredictor,
    LikelihoodModel,
    OptionChooser,
    evaluate_model,
)
from empathynet.evaluate.harness import (
    Results,
    results_path,
    score_classification,
    score_generation,
    score_mcq,
    score_rows,
    score_task,
    write_results,
)
from empathynet.evaluate.metrics import TIE_RULE, Figure
from empathynet.evaluate.predictions import FIELDS, PredictionError, Predictions, load_predictions

__all__ = [
    "FIELDS",
    "MODEL_METHODS",
    "TIE_RULE",
    "Figure",
    "LabelPredictor",
    "LikelihoodModel",
    "OptionChooser",
    "PredictionError",
    "Predictions",
    "Results",
    "evaluate_model",
    "load_predictions",
    "results_path",
    "score_classification",
    "score_generation",
    "score_mcq",
    "score_rows",
    "score_task",
    "write_results",
]


class _CallableModule(types.ModuleType):
    """``empathynet.evaluate(...)`` is ``evaluate_model(...)``, and the package stays a
    package (``from empathynet.evaluate import score_task`` keeps working)."""

    def __call__(self, dataset: Any, tasks: Any, model: Any, **options: Any) -> Any:
        return evaluate_model(dataset, tasks, model, **options)


sys.modules[__name__].__class__ = _CallableModule
