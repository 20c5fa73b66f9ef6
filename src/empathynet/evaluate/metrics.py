"""Metrics (numpy, vectorised) and their seeded percentile bootstrap.

Conventions
-----------
* Classes and options are integer indices: classes in taxonomy order, options 0..N-1.
* **Tie rule**: when scores tie, the lowest index wins (lowest class index in taxonomy
  order, lowest option index). The top-1 prediction is the first maximum
  (``np.argmax``); in a ranking, a class tied with the true class counts ahead of it
  only when its index is lower.
* A class a prediction does not list (``-inf`` in a score matrix) is never a hit.
* F1 follows scikit-learn's defaults: per class ``2 TP / (2 TP + FP + FN)`` (0 when the
  class is neither true nor predicted); macro-F1 averages over the classes that occur
  among the true or the predicted labels; weighted-F1 weighs each class by its support.
* Confusion matrices have the true class on rows, the predicted class on columns.

Bootstrap
---------
Items are resampled with replacement, ``resamples`` times, from a seeded generator; the
95 % interval is the 2.5th and 97.5th percentile of the statistic over the resamples.
For statistics of counts (accuracy, F1, recall, top-k) each item falls in a *cell*
(true class x predicted class x top-k hit; right/wrong for MCQ) and a resample of n
items counted per cell is exactly a multinomial draw of n over the cells' shares: it is
drawn as successive conditional binomials, O(resamples x cells) instead of
O(resamples x n). Statistics of per-item values (bits per dimension) draw an index
matrix block by block (``resample_index_blocks``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CONFIDENCE = 0.95
TIE_RULE = "ties go to the lowest index: lowest class index in taxonomy order, lowest option index"
BOOTSTRAP_METHOD = (
    "percentile bootstrap over items resampled with replacement (seeded); count statistics "
    "via the equivalent multinomial draw over cells"
)


@dataclass(frozen=True)
class Figure:
    """One metric value with its 95 % bootstrap interval (``None`` without a bootstrap)."""

    value: float
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict[str, float | list[float] | None]:
        """``{"value": v, "ci95": [low, high]}`` (``ci95`` null without an interval)."""
        interval = None if self.low is None or self.high is None else [self.low, self.high]
        return {"value": _json_float(self.value), "ci95": interval}


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


# --- classification ------------------------------------------------------------------


def confusion_matrix(y_true: IntArray, y_pred: IntArray, n_classes: int) -> IntArray:
    """(C, C) counts of items per (true class row, predicted class column)."""
    codes = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_pred, dtype=np.int64)
    counts = np.bincount(codes, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def _diagonal(confusion: npt.NDArray[np.number]) -> FloatArray:
    return np.asarray(np.diagonal(confusion, axis1=-2, axis2=-1), dtype=np.float64)


def f1_per_class(confusion: npt.NDArray[np.number]) -> FloatArray:
    """Per-class F1 of a confusion matrix (or a stack ``[..., C, C]``); 0 where undefined."""
    tp = _diagonal(confusion)
    support = np.asarray(confusion.sum(axis=-1), dtype=np.float64)
    predicted = np.asarray(confusion.sum(axis=-2), dtype=np.float64)
    denominator = support + predicted  # = 2 TP + FP + FN
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denominator > 0, 2.0 * tp / denominator, 0.0)
    return np.asarray(f1, dtype=np.float64)


def macro_f1(confusion: npt.NDArray[np.number]) -> FloatArray:
    """Mean F1 over the classes that are true or predicted at least once (per stack entry)."""
    present = (confusion.sum(axis=-1) + confusion.sum(axis=-2)) > 0
    total = (f1_per_class(confusion) * present).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / present.sum(axis=-1), dtype=np.float64)


def weighted_f1(confusion: npt.NDArray[np.number]) -> FloatArray:
    """F1 per class weighted by its support (true count), per stack entry."""
    support = np.asarray(confusion.sum(axis=-1), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (f1_per_class(confusion) * support).sum(axis=-1) / support.sum(axis=-1)
    return np.asarray(value, dtype=np.float64)


def recall_per_class(confusion: npt.NDArray[np.number]) -> FloatArray:
    """TP / support per class; NaN for a class with no true item."""
    support = np.asarray(confusion.sum(axis=-1), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(_diagonal(confusion) / support, dtype=np.float64)


def accuracy(confusion: npt.NDArray[np.number]) -> FloatArray:
    """Share of items on the diagonal, per stack entry."""
    total = np.asarray(confusion.sum(axis=(-2, -1)), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(_diagonal(confusion).sum(axis=-1) / total, dtype=np.float64)


def top1(scores: FloatArray) -> IntArray:
    """Per row, the index of the highest score (the lowest index among ties)."""
    return np.asarray(np.argmax(scores, axis=1), dtype=np.int64)


def true_rank(scores: FloatArray, y_true: IntArray) -> IntArray:
    """Per row, the 0-based rank of the true class under the tie rule.

    Rank = classes scored higher + classes tied with it at a lower index. A true class
    that is not listed (``-inf``) gets rank ``C``, so it is never in any top-k.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n, width = scores.shape
    y = np.asarray(y_true, dtype=np.int64)
    own = scores[np.arange(n), y][:, None]
    lower_index = np.arange(width)[None, :] < y[:, None]
    rank = (scores > own).sum(axis=1) + ((scores == own) & lower_index).sum(axis=1)
    rank[~np.isfinite(own[:, 0])] = width
    return np.asarray(rank, dtype=np.int64)


def top_k_accuracy(scores: FloatArray, y_true: IntArray, k: int) -> float:
    """Share of rows whose true class ranks among the first ``k`` (tie rule above)."""
    return float((true_rank(scores, y_true) < k).mean())


# --- multiple choice and generation --------------------------------------------------


def chance_accuracy(options: int) -> float:
    """Accuracy of a uniform random choice among ``options`` options: 1 / N."""
    return 1.0 / options


def bits_per_dim(nll_nats: float | FloatArray, dims: int | IntArray) -> float:
    """Total NLL in nats over total dimensions -> bits per dimension: nats / (dims * ln 2).

    For text targets (UTF-8 bytes) this is bits per byte; for mu-law audio, bits per sample.
    """
    total_nats = float(np.sum(nll_nats))
    total_dims = int(np.sum(dims))
    return total_nats / (total_dims * math.log(2))


# --- bootstrap -----------------------------------------------------------------------


def resample_counts(counts: IntArray, resamples: int, rng: np.random.Generator) -> IntArray:
    """(resamples, K) cell counts of ``resamples`` bootstrap resamples of the items.

    ``counts[k]`` items fall in cell k. Resampling n items with replacement and counting
    them per cell is a multinomial draw of n over ``counts / n``; it is drawn exactly,
    with integer bookkeeping, as successive binomials conditional on the cells before.
    """
    counts = np.asarray(counts, dtype=np.int64)
    out = np.zeros((resamples, counts.size), dtype=np.int64)
    remaining = np.full(resamples, int(counts.sum()), dtype=np.int64)
    left = int(counts.sum())
    for cell in np.flatnonzero(counts):
        size = int(counts[cell])
        drawn = remaining if size == left else rng.binomial(remaining, size / left)
        out[:, cell] = drawn
        remaining = remaining - drawn
        left -= size
    return out


def resample_index_blocks(
    n: int, resamples: int, rng: np.random.Generator, block_elements: int = 1 << 22
) -> Iterator[IntArray]:
    """Bootstrap index matrices (rows = resamples, n item indices each), block by block.

    Each block holds about ``block_elements`` indices, so memory stays bounded.
    """
    rows = max(1, block_elements // max(n, 1))
    for start in range(0, resamples, rows):
        yield rng.integers(0, n, size=(min(rows, resamples - start), n), dtype=np.int64)


def percentile_interval(samples: FloatArray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The percentile interval of 1-D bootstrap samples, ignoring NaN (a statistic
    undefined in a resample, e.g. the recall of a class it lacks); NaN when all are."""
    values = np.asarray(samples, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def figure(value: float, samples: FloatArray | None) -> Figure:
    """A ``Figure`` from a point value and its bootstrap samples (``None``: no interval)."""
    if samples is None or len(samples) == 0:
        return Figure(float(value))
    low, high = percentile_interval(samples)
    if math.isnan(float(low)):
        return Figure(float(value))
    return Figure(float(value), float(low), float(high))
