"""Baselines: reference models that give every task a floor to beat.

``run_baseline(dataset, task, model)`` trains ``model`` on the task's train split,
writes its predictions for a split to ``reports/predictions/<task>-<model>-<split>.jsonl``
and scores them. Models, registered in ``BASELINES`` by name:

==============  ===========================  ===========================================
name            families                     what it sees
==============  ===========================  ===========================================
random          classification, mcq,         nothing (uniform scores; 8 bits/dim)
                generation
majority        classification               train class frequencies
text-tfidf      classification, mcq          TF-IDF of text / sound tags
text-embedding  classification, mcq          all-MiniLM-L6-v2 (extra ``embed``)
prosody         classification, mcq          F0, level, voicing, rate of the audio
face            classification, mcq          thumbnail / gradient / colour of stills
marginal        generation                   train marginals of the target
==============  ===========================  ===========================================

Prediction rows: classification ``scores`` (class -> log-probability) or ``ranking``;
MCQ ``scores`` (one per option); generation ``nll_nats``. See ``learned`` for the
models and ``features`` for the features.
"""

from empathynet.evaluate.baselines import generation, learned, trivial
from empathynet.evaluate.baselines.base import BASELINES, Baseline, TaskData, load_task_split
from empathynet.evaluate.baselines.run import (
    BaselineRun,
    applicable_baselines,
    predictions_path,
    run_baseline,
    write_predictions,
)

__all__ = [
    "BASELINES",
    "Baseline",
    "BaselineRun",
    "TaskData",
    "applicable_baselines",
    "generation",
    "learned",
    "load_task_split",
    "predictions_path",
    "run_baseline",
    "trivial",
    "write_predictions",
]
