"""Reference models for generation tasks: the target's marginal distribution.

``marginal`` ignores the query and models the target in its fixed representation
(``empathynet.tasks.load_target``) with add-one (Laplace) smoothed counts from the
train targets, so bits per dimension have a floor to beat:

* text: a unigram model of UTF-8 bytes (one distribution over 256 values);
* face_stills: per-pixel marginals, one distribution over 256 values for each of the
  64x64x3 positions (all crops of all train items), add-one smoothed: with few train
  crops it is close to uniform (8 bits), as it should be;
* audio_blur: one distribution over the 256 mu-law codes.

The prediction is ``nll_nats``: the target's total negative log-likelihood (nats).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from empathynet.errors import ConfigError
from empathynet.evaluate.baselines.base import BASELINES, Baseline, Row, TaskData, require_items
from empathynet.tasks.generation import (
    AUDIO_RATE,
    IMAGE_CHANNELS,
    IMAGE_SIDE,
    TARGET_VIEWS,
    load_target,
)
from empathynet.tasks.spec import TaskSpec

VALUES = 256  #: values per dimension (bytes, 8-bit pixels, mu-law codes)
_SAMPLES_PER_MS = AUDIO_RATE // 1000


def target_view(spec: TaskSpec) -> str:
    """The generation task's target view."""
    if spec.target_view is not None:
        return str(spec.target_view)
    return spec.answer_views[0] if spec.answer_views else "none"


def item_targets(data: TaskData) -> list[npt.NDArray[np.uint8]]:
    """Every item's target in its fixed representation."""
    view = target_view(data.spec)
    values = data.column(f"target_{view}")
    dims = data.column("target_dims")
    # The audio representation has 8 samples per ms of the cue group's duration.
    return [
        load_target(data.root, view, value, int(d) // _SAMPLES_PER_MS)
        for value, d in zip(values, dims, strict=True)
    ]


@BASELINES.register("marginal")
class MarginalBaseline(Baseline):
    name = "marginal"
    families = ("generation",)
    summary = "add-one smoothed marginals of the target (bytes, pixels, mu-law codes)"

    @classmethod
    def check(cls, spec: TaskSpec) -> None:
        super().check(spec)
        if target_view(spec) not in TARGET_VIEWS:
            raise ConfigError(f"baseline marginal: unknown target view {target_view(spec)!r}")

    def fit(self, train: TaskData) -> None:
        require_items(train)
        self.view = target_view(train.spec)
        self.views_used = (self.view,)
        targets = item_targets(train)
        if self.view == "face_stills":
            positions = IMAGE_SIDE * IMAGE_SIDE * IMAGE_CHANNELS
            counts = np.ones((positions, VALUES), dtype=np.float64)
            for target in targets:
                flat = target.reshape(-1, positions).astype(np.int64)
                index = np.arange(positions)[None, :] * VALUES + flat
                counts.ravel()[:] += np.bincount(index.ravel(), minlength=positions * VALUES)
        else:
            counts = np.ones((1, VALUES), dtype=np.float64)
            for target in targets:
                counts[0] += np.bincount(target.astype(np.int64), minlength=VALUES)
        self.log_p = np.log(counts / counts.sum(axis=1, keepdims=True))

    def predict(self, data: TaskData) -> list[Row]:
        rows = []
        for item, target in zip(data.item_ids(), item_targets(data), strict=True):
            values = target.astype(np.int64)
            if self.view == "face_stills":
                flat = values.reshape(-1, self.log_p.shape[0])
                nll = -float(self.log_p[np.arange(flat.shape[1])[None, :], flat].sum())
            else:
                nll = -float(self.log_p[0, values].sum())
            rows.append({"item_id": item, "nll_nats": max(nll, 0.0)})
        return rows
