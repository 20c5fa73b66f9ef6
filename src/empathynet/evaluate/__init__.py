"""Evaluation: prediction files, metrics with bootstrap intervals, and the scorer.

``score_task(dataset, "mcq-stills-to-audio", "preds.jsonl")`` checks a prediction file
against a task split and returns ``Results`` (headline figures with 95 % intervals);
``write_results`` stores them under ``reports/results/``. Prediction formats:
``evaluate.predictions``; metric definitions and the tie rule: ``evaluate.metrics``.
"""

from empathynet.evaluate.harness import (
    Results,
    results_path,
    score_classification,
    score_generation,
    score_mcq,
    score_task,
    write_results,
)
from empathynet.evaluate.metrics import TIE_RULE, Figure
from empathynet.evaluate.predictions import FIELDS, PredictionError, Predictions, load_predictions

__all__ = [
    "FIELDS",
    "TIE_RULE",
    "Figure",
    "PredictionError",
    "Predictions",
    "Results",
    "load_predictions",
    "results_path",
    "score_classification",
    "score_generation",
    "score_mcq",
    "score_task",
    "write_results",
]
