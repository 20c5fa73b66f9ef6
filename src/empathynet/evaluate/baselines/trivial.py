"""Baselines that ignore the cues: random and majority class.

* ``random``: classification: a uniform random score per class of the taxonomy;
  MCQ: a uniform random score per option; generation: the uniform distribution over
  the 256 values of each dimension (8 bits per dimension). Seeded.
* ``majority``: classification: the classes ranked by their train frequency (ties in
  taxonomy order); classes absent from train are left out of the ranking.
"""

from __future__ import annotations

import math

import numpy as np

from empathynet.evaluate.baselines.base import BASELINES, Baseline, Row, TaskData, require_items


@BASELINES.register("random")
class RandomBaseline(Baseline):
    name = "random"
    families = ("classification", "mcq", "generation")
    summary = "uniform random scores (classes, options) or uniform bytes (generation)"

    def fit(self, train: TaskData) -> None:
        self.views_used = ()

    def predict(self, data: TaskData) -> list[Row]:
        rng = np.random.default_rng(self.seed)
        ids = data.item_ids()
        if data.family == "classification":
            classes = data.classes
            draws = rng.random((len(ids), len(classes)))
            return [
                {"item_id": i, "scores": {c: float(v) for c, v in zip(classes, row, strict=True)}}
                for i, row in zip(ids, draws, strict=True)
            ]
        if data.family == "mcq":
            draws = rng.random((len(ids), data.options))
            return [
                {"item_id": i, "scores": [float(v) for v in row]}
                for i, row in zip(ids, draws, strict=True)
            ]
        dims = [int(d) for d in data.column("target_dims")]
        return [
            {"item_id": i, "nll_nats": d * math.log(256)} for i, d in zip(ids, dims, strict=True)
        ]


@BASELINES.register("majority")
class MajorityBaseline(Baseline):
    name = "majority"
    families = ("classification",)
    summary = "classes ranked by their train frequency"

    def fit(self, train: TaskData) -> None:
        require_items(train)
        counts = np.bincount(
            np.asarray(train.column("label_index"), dtype=np.int64), minlength=len(train.classes)
        )
        order = np.lexsort((np.arange(len(counts)), -counts))  # most frequent, then taxonomy
        self.ranking = [train.classes[i] for i in order.tolist() if counts[i] > 0]

    def predict(self, data: TaskData) -> list[Row]:
        return [{"item_id": i, "ranking": list(self.ranking)} for i in data.item_ids()]
