"""Metrics against scikit-learn on random inputs, hand-computed cases, and the bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from empathynet.evaluate import metrics


def random_case(seed: int, n: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # skewed class shares, and two classes never true, so absent classes are exercised
    shares = rng.dirichlet(np.full(width, 0.7))
    shares[:2] = 0
    y_true = rng.choice(width, size=n, p=shares / shares.sum())
    scores = rng.normal(size=(n, width)) + 1.5 * np.eye(width)[y_true] * rng.random((n, 1))
    return y_true.astype(np.int64), scores, metrics.top1(scores)


@pytest.mark.parametrize("seed", range(6))
def test_count_metrics_match_sklearn(seed: int) -> None:
    width = 4 + seed
    y_true, scores, y_pred = random_case(seed, 500 + 97 * seed, width)
    labels = list(range(width))
    confusion = metrics.confusion_matrix(y_true, y_pred, width)
    np.testing.assert_array_equal(confusion, sk.confusion_matrix(y_true, y_pred, labels=labels))
    assert float(metrics.accuracy(confusion)) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert float(metrics.macro_f1(confusion)) == pytest.approx(
        sk.f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
    assert float(metrics.weighted_f1(confusion)) == pytest.approx(
        sk.f1_score(y_true, y_pred, average="weighted", zero_division=0)
    )
    recall = metrics.recall_per_class(confusion)
    expected = sk.recall_score(y_true, y_pred, labels=labels, average=None, zero_division=np.nan)
    np.testing.assert_allclose(recall, expected, equal_nan=True)
    for k in [k for k in (1, 2, 3, 5) if k < width]:
        assert metrics.top_k_accuracy(scores, y_true, k) == pytest.approx(
            sk.top_k_accuracy_score(y_true, scores, k=k, labels=labels)
        )
    assert np.array_equal(metrics.top1(scores), scores.argmax(axis=1))


def test_hand_computed_f1() -> None:
    # true: 0 0 1 1 2   predicted: 0 1 1 1 0
    confusion = metrics.confusion_matrix(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3)
    assert confusion.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    # F1: class 0: 2*1/(2+2) = 0.5; class 1: 2*2/(2+3) = 0.8; class 2: 0
    np.testing.assert_allclose(metrics.f1_per_class(confusion), [0.5, 0.8, 0.0])
    assert float(metrics.macro_f1(confusion)) == pytest.approx((0.5 + 0.8) / 3)
    assert float(metrics.weighted_f1(confusion)) == pytest.approx((2 * 0.5 + 2 * 0.8) / 5)
    np.testing.assert_allclose(metrics.recall_per_class(confusion), [0.5, 1.0, 0.0])
    assert float(metrics.accuracy(confusion)) == pytest.approx(3 / 5)
    # a class never true nor predicted does not enter macro-F1
    wide = np.zeros((4, 4), dtype=np.int64)
    wide[:3, :3] = confusion
    assert float(metrics.macro_f1(wide)) == pytest.approx((0.5 + 0.8) / 3)
    assert math.isnan(float(metrics.recall_per_class(wide)[3]))


def test_tie_rule_and_unlisted_classes() -> None:
    inf = -np.inf
    scores = np.array(
        [
            [1.0, 1.0, 0.0],  # tie between 0 and 1: class 0 wins top-1
            [1.0, 1.0, 0.0],  # true class 1 is second by the tie rule
            [0.0, 2.0, 2.0],  # true class 2 tied with 1 at a lower index: rank 1
            [inf, 0.0, inf],  # true class 0 not listed: never a hit
        ]
    )
    y_true = np.array([0, 1, 2, 0])
    assert metrics.top1(scores).tolist() == [0, 0, 1, 1]
    assert metrics.true_rank(scores, y_true).tolist() == [0, 1, 1, 3]
    assert metrics.top_k_accuracy(scores, y_true, 1) == pytest.approx(0.25)
    assert metrics.top_k_accuracy(scores, y_true, 2) == pytest.approx(0.75)
    assert metrics.top_k_accuracy(scores, y_true, 3) == pytest.approx(0.75)


def test_bits_per_dim() -> None:
    # a uniform model over 256 byte values costs exactly 8 bits per byte
    dims = np.array([10, 20, 3])
    assert metrics.bits_per_dim(dims * math.log(256), dims) == pytest.approx(8.0)
    # 1 nat per dimension is 1 / ln 2 bits
    assert metrics.bits_per_dim(np.array([5.0]), np.array([5])) == pytest.approx(1 / math.log(2))
    assert metrics.bits_per_dim(3 * math.log(2), 3) == pytest.approx(1.0)
    assert metrics.chance_accuracy(4) == 0.25


def test_resample_counts_is_the_item_bootstrap() -> None:
    counts = np.array([30, 0, 50, 20], dtype=np.int64)
    drawn = metrics.resample_counts(counts, 20_000, np.random.default_rng(1))
    assert drawn.shape == (20_000, 4)
    assert (drawn.sum(axis=1) == 100).all() and (drawn[:, 1] == 0).all()
    # the same statistic by resampling item indices: same mean and spread
    cells = np.repeat(np.arange(4), counts)
    rng = np.random.default_rng(2)
    by_index = np.concatenate(
        [
            np.stack([np.bincount(cells[i], minlength=4) for i in block])
            for block in metrics.resample_index_blocks(100, 20_000, rng, block_elements=100_000)
        ]
    )
    assert by_index.shape == (20_000, 4)
    np.testing.assert_allclose(drawn.mean(axis=0), by_index.mean(axis=0), atol=0.3)
    np.testing.assert_allclose(drawn.std(axis=0), by_index.std(axis=0), rtol=0.05)
    # multinomial variance n p (1 - p)
    np.testing.assert_allclose(
        drawn.var(axis=0), 100 * (counts / 100) * (1 - counts / 100), rtol=0.05
    )
    share = drawn[:, 2] / 100
    low, high = metrics.percentile_interval(share)
    assert low == pytest.approx(0.5 - 1.96 * 0.05, abs=0.012)
    assert high == pytest.approx(0.5 + 1.96 * 0.05, abs=0.012)


def test_bootstrap_is_seeded() -> None:
    counts = np.array([5, 7, 11])
    first = metrics.resample_counts(counts, 50, np.random.default_rng(7))
    again = metrics.resample_counts(counts, 50, np.random.default_rng(7))
    other = metrics.resample_counts(counts, 50, np.random.default_rng(8))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_percentile_interval_and_figure() -> None:
    samples = np.array([np.nan, *np.arange(101.0)])
    assert metrics.percentile_interval(samples) == pytest.approx((2.5, 97.5))
    assert all(math.isnan(v) for v in metrics.percentile_interval(np.array([np.nan])))
    assert metrics.figure(0.5, None).to_dict() == {"value": 0.5, "ci95": None}
    assert metrics.figure(0.5, np.arange(101.0)).to_dict()["ci95"] == pytest.approx([2.5, 97.5])
    assert metrics.figure(math.nan, None).to_dict()["value"] is None
