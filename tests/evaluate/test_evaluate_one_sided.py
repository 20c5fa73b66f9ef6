"""Better than chance is one-sided: a model (or an audit's shortcut) that scores below
chance has learnt nothing usable, and must not read as significant."""

from __future__ import annotations

import numpy as np

from empathynet.evaluate.audits import ALPHA, judge
from empathynet.evaluate.harness import score_mcq


def test_an_mcq_model_below_chance_is_not_significant() -> None:
    answer = np.zeros(2_000, dtype=np.int64)
    choice = np.zeros(2_000, dtype=np.int64)
    choice[400:] = 1  # 20 % right on 4 options: far below chance, in the wrong direction
    _, details = score_mcq(answer, choice, 4, 0, np.random.default_rng(0))
    assert details["chance"] == 0.25
    assert details["p_value_vs_chance"] > 0.99


def test_an_mcq_model_above_chance_is_significant() -> None:
    answer = np.zeros(2_000, dtype=np.int64)
    choice = np.zeros(2_000, dtype=np.int64)
    choice[600:] = 1  # 30 %
    _, details = score_mcq(answer, choice, 4, 0, np.random.default_rng(0))
    assert details["p_value_vs_chance"] < 1e-6


def test_a_shortcut_below_chance_passes_the_audit() -> None:
    # Below chance by 5 points on fewer items than the tolerance rule needs: the binomial
    # test alone decides, and "worse than chance" is no leak.
    below = judge("identity", correct=400, items=2_000, chance=0.25)
    assert below.p_value is not None and below.p_value > 0.99
    assert below.passed and not below.tolerance_applied
    above = judge("identity", correct=600, items=2_000, chance=0.25)
    assert above.p_value is not None and above.p_value <= ALPHA and above.passed is False
