"""The vectorised distractor sampler: each constraint, infeasible items, uniformity."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest

from empathynet.errors import ConfigError
from empathynet.tasks.mcq import (
    DistractorDraw,
    DistractorPool,
    McqRules,
    candidate_counts,
    distinct_ranks,
    draw_duration_windows,
    exact_candidates,
    identity_codes,
    place_answers,
    sample_distractors,
)


def chi2_sf_series(statistic: float, dof: int) -> float:
    """Upper tail of the chi-square distribution: Q(k/2, x/2) by the recurrence
    Q(a + 1, y) = Q(a, y) + y^a e^-y / Gamma(a + 1), from Q(1/2) or Q(1)."""
    y = statistic / 2
    a, q = (0.5, math.erfc(math.sqrt(y))) if dof % 2 else (1.0, math.exp(-y))
    while a < dof / 2:
        q += math.exp(a * math.log(y) - y - math.lgamma(a + 1)) if y > 0 else 0.0
        a += 1
    return q


def chi2_sf(statistic: float, dof: int) -> float:
    """Upper tail of the chi-square distribution (scipy's when installed)."""
    try:
        from scipy.stats import chi2
    except ImportError:
        return chi2_sf_series(statistic, dof)
    return float(chi2.sf(statistic, dof))


def chi_square_p(counts: np.ndarray) -> float:
    expected = counts.sum() / len(counts)
    statistic = float(((counts - expected) ** 2 / expected).sum())
    return chi2_sf(statistic, len(counts) - 1)


@pytest.mark.parametrize("tail", [chi2_sf, chi2_sf_series])
def test_chi_square_tail_agrees_with_tables(tail: Callable[[float, int], float]) -> None:
    assert tail(7.815, 3) == pytest.approx(0.05, abs=1e-3)
    assert tail(11.345, 3) == pytest.approx(0.01, abs=1e-3)
    assert tail(9.210, 2) == pytest.approx(0.01, abs=1e-3)
    assert tail(200.0, 164) == pytest.approx(chi2_sf(200.0, 164), rel=1e-6)


def test_chi_square_rejects_a_biased_position() -> None:
    assert chi_square_p(np.array([2700, 2500, 2500, 2300])) < 0.01
    assert chi_square_p(np.array([2510, 2490, 2505, 2495])) > 0.01


def make_pool(n: int, **columns: np.ndarray) -> DistractorPool:
    values = {
        "split": np.zeros(n, dtype=np.int64),
        "gender": np.zeros(n, dtype=np.int64),
        "age": np.zeros(n, dtype=np.int64),
        "identity": np.zeros(n, dtype=np.int64),
        "exclusion": np.arange(n, dtype=np.int64) % 7,
        "content": np.full(n, -1, dtype=np.int64),
        "duration_ms": np.full(n, 2000, dtype=np.int64),
    }
    values.update({k: np.asarray(v, dtype=np.int64) for k, v in columns.items()})
    return DistractorPool(**values)


def draw(pool: DistractorPool, rules: McqRules | None = None, seed: int = 0) -> DistractorDraw:
    return sample_distractors(pool, rules or McqRules(), np.random.default_rng(seed))


def kept_pairs(result: DistractorDraw) -> tuple[np.ndarray, np.ndarray]:
    """Rows that got an item, and their distractors."""
    rows = np.flatnonzero(result.kept)
    return rows, result.distractors[rows]


@pytest.mark.parametrize("field", ["split", "gender", "age", "identity"])
def test_distractors_share_the_answers_bucket(field: str) -> None:
    rng = np.random.default_rng(1)
    pool = make_pool(3000, **{field: rng.integers(-1, 3, 3000)})
    result = draw(pool)
    rows, chosen = kept_pairs(result)
    assert len(rows) > 2900
    values = getattr(pool, field)
    assert (values[chosen] == values[rows][:, None]).all()


def test_unknown_gender_matches_only_unknown() -> None:
    # one unknown-gender answer among known ones: no unknown partners, so it is dropped
    gender = np.zeros(40, dtype=np.int64)
    gender[0] = -1
    result = draw(make_pool(40, gender=gender))
    assert result.reason[0] == 1  # too_few_in_bucket
    assert result.kept[1:].all()
    assert (gender[result.distractors[1:]] == 0).all()


def test_distractors_differ_in_class_group_and_never_repeat() -> None:
    rng = np.random.default_rng(2)
    exclusion = rng.choice(3, size=2000, p=[0.7, 0.2, 0.1])  # a dominant class
    pool = make_pool(2000, exclusion=exclusion)
    result = draw(pool)
    rows, chosen = kept_pairs(result)
    assert len(rows) == 2000
    assert (exclusion[chosen] != exclusion[rows][:, None]).all()
    ordered = np.sort(chosen, axis=1)
    assert (ordered[:, 1:] != ordered[:, :-1]).all()
    assert (chosen != rows[:, None]).all()


def test_duration_window_and_its_drop_reason() -> None:
    duration = np.array([1000, 1100, 1200, 1250, 5000, 9000, 9100, 9200, 9300])
    exclusion = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3])
    rules = McqRules(duration_tolerance_pct=25, duration_tolerance_min_ms=250)
    row0_kept = []
    for seed in range(40):
        result = draw(make_pool(9, duration_ms=duration, exclusion=exclusion), rules, seed)
        low, high = result.windows.low_ms, result.windows.high_ms
        assert ((low <= duration) & (duration <= high)).all()  # every window holds its answer
        rows, chosen = kept_pairs(result)
        assert (
            (duration[chosen] >= low[rows, None]) & (duration[chosen] <= high[rows, None])
        ).all()
        # 5000 ms: no other cue group within any window 2 x 1250 ms wide that holds it
        assert result.reason[4] == 2
        assert result.dropped()["too_few_close_in_duration"] >= 1
        if result.kept[0]:
            assert set(result.distractors[0]) == {1, 2, 3}
            assert high[0] >= 1250
        else:  # its window did not reach 1250 ms
            assert result.reason[0] == 2 and high[0] < 1250
        row0_kept.append(bool(result.kept[0]))
    assert 0 < sum(row0_kept) < len(row0_kept)  # the window's place is random


def test_duration_windows_are_two_tolerances_wide_at_a_random_place() -> None:
    rules = McqRules(duration_tolerance_pct=25, duration_tolerance_min_ms=250)
    # one long duration: windows end at the longest duration given (nothing is longer)
    short = np.append(np.full(20_000, 600, dtype=np.int64), 30_000)
    linear = McqRules(duration_tolerance_pct=10, duration_tolerance_min_ms=250)
    windows = draw_duration_windows(short, linear, np.random.default_rng(0))
    assert windows.high_ms[-1] == 30_000
    # below min_ms * 100 / pct (2.5 s) the scale is linear: [a - u * 250, a + (2 - u) * 250]
    width = (windows.high_ms - windows.low_ms)[:-1]  # 500 ms, the ends rounded inwards
    assert ((width >= 499) & (width <= 500)).all()
    offset = (short - windows.low_ms)[:-1]
    assert offset.min() <= 2 and offset.max() >= 498
    assert chi_square_p(np.bincount(offset // 50, minlength=10)[:10]) > 0.01
    long = np.append(np.full(2000, 8000, dtype=np.int64), 30_000)
    windows = draw_duration_windows(long, rules, np.random.default_rng(0))
    ratio = (windows.high_ms / windows.low_ms)[:-1]  # logarithmic: a * e^[-u/4, (2 - u)/4]
    assert np.allclose(ratio, math.exp(0.5), rtol=1e-3)
    assert (windows.low_ms[:-1] >= 8000 * math.exp(-0.5) - 1).all()
    assert (windows.high_ms[:-1] <= 8000 * math.exp(0.5) + 1).all()
    # the same generator state gives the same windows (tasks validate re-derives them)
    again = draw_duration_windows(long, rules, np.random.default_rng(0))
    assert np.array_equal(again.low_ms, windows.low_ms)
    with pytest.raises(ConfigError):
        draw_duration_windows(np.array([10**9]), rules, np.random.default_rng(0))


@pytest.mark.parametrize("window", ["random place", "centred"])
def test_the_answers_duration_rank_is_uniform(window: str) -> None:
    # Durations from 300 ms to 9 s cross the linear and the logarithmic part of the scale,
    # and the pool's edges; the answer must still be any rank among the options alike.
    rng = np.random.default_rng(5)
    n = 24_000
    duration = np.exp(rng.uniform(math.log(300), math.log(9000), n)).astype(np.int64)
    pool = make_pool(n, duration_ms=duration, exclusion=rng.integers(0, 7, n))
    result = draw(pool, seed=3)
    rows, chosen = kept_pairs(result)
    assert len(rows) > 0.95 * n
    if window == "centred":
        # the old rule for comparison: distractors within one tolerance either side
        tolerance = McqRules().tolerance_ms(duration[rows])
        near = np.abs(duration[chosen] - duration[rows][:, None]) <= tolerance[:, None]
        rows, chosen = rows[near.all(1)], chosen[near.all(1)]
        assert len(rows) > 1000
    rank = (duration[chosen] < duration[rows][:, None]).sum(1)
    counts = np.bincount(rank, minlength=4)
    if window == "centred":
        assert chi_square_p(counts) < 1e-6  # the answer sits in the middle
    else:
        assert chi_square_p(counts) > 0.01, counts


def test_infeasible_items_are_dropped_never_filled() -> None:
    # exactly two other-class cue groups: a 4-option item needs three -> dropped
    pool = make_pool(3, exclusion=np.array([0, 1, 2]))
    result = draw(pool)
    assert not result.kept.any()
    assert (result.distractors == -1).all()
    assert result.dropped() == {
        "too_few_in_bucket": 3,
        "too_few_close_in_duration": 0,
        "too_few_distinct_content": 0,
    }
    # with 3 options the same pool works
    assert draw(pool, McqRules(options=3)).kept.all()


def test_same_text_is_never_a_distractor() -> None:
    # rows 0-3 (classes 0-3) say the same sentence; rows 4-8 say other sentences
    content = np.array([5, 5, 5, 5, 6, 7, 8, 9, 10])
    exclusion = np.array([0, 1, 2, 3, 0, 1, 2, 3, 4])
    pool = make_pool(9, content=content, exclusion=exclusion)
    for seed in range(20):
        result = draw(pool, seed=seed)
        rows, chosen = kept_pairs(result)
        assert (content[chosen] != content[rows][:, None]).all()
    assert draw(pool).kept[0]  # rows 5-8: other classes, other sentences
    # without rows 5-8, row 1 has three other-class cue groups, but only one (row 4) with
    # another sentence: dropped for that reason, not filled with a same-sentence one
    small = make_pool(5, content=content[:5], exclusion=exclusion[:5])
    assert draw(small).reason[1] == 3  # too_few_distinct_content
    small_draw = draw(small)
    assert len(exact_candidates(small, small_draw.windows, 1)) < 3


def test_identity_modes() -> None:
    source = np.array([0, 0, 1, 1])
    speaker = np.array([4, -1, 4, -1])
    assert identity_codes("any", source, speaker).tolist() == [0, 0, 0, 0]
    assert identity_codes("same-source", source, speaker).tolist() == [0, 0, 1, 1]
    # a known speaker is its own identity across sources; unknown falls back to the source
    same_speaker = identity_codes("same-speaker", source, speaker)
    assert same_speaker[0] == same_speaker[2]
    assert len({same_speaker[0], same_speaker[1], same_speaker[3]}) == 3


def test_counts_agree_with_the_sampler() -> None:
    rng = np.random.default_rng(4)
    n = 5000
    pool = make_pool(
        n,
        split=rng.integers(0, 3, n),
        gender=rng.integers(-1, 2, n),
        age=rng.integers(0, 4, n),
        exclusion=rng.integers(0, 5, n),
        duration_ms=rng.integers(500, 8000, n),
    )
    rules = McqRules()
    result = sample_distractors(pool, rules, np.random.default_rng(0))
    in_window, in_bucket = candidate_counts(pool, result.windows)
    assert np.array_equal(result.kept, in_window >= 3)
    assert (in_bucket >= in_window).all()
    for row in rng.choice(n, 50, replace=False):
        assert len(exact_candidates(pool, result.windows, int(row))) == in_window[row]


def test_distractor_sets_are_uniform_over_the_allowed_ones() -> None:
    # 2000 answers of class 0 and 11 cue groups of other classes: each answer draws
    # 3 of the 11, and every one of the C(11, 3) = 165 sets must be equally likely.
    exclusion = np.concatenate([np.zeros(2000, dtype=np.int64), np.arange(1, 12)])
    pool = make_pool(2011, exclusion=exclusion)
    sets: Counter[tuple[int, ...]] = Counter()
    for seed in range(20):
        result = draw(pool, seed=seed)
        sets.update(tuple(sorted(d)) for d in result.distractors[:2000].tolist())
    assert len(sets) == 165
    assert chi_square_p(np.array(list(sets.values()))) > 0.01


def test_distinct_ranks_and_answer_placement() -> None:
    rng = np.random.default_rng(0)
    sizes = np.array([3, 4, 50, 1000])
    ranks = distinct_ranks(sizes, 3, rng)
    assert (ranks >= 0).all() and (ranks < sizes[:, None]).all()
    assert all(len(set(r)) == 3 for r in ranks.tolist())
    answers = np.arange(5)
    distractors = np.arange(100, 115).reshape(5, 3)
    options, position = place_answers(answers, distractors, 4, rng)
    assert (options[np.arange(5), position] == answers).all()
    others = options[np.arange(4)[None, :] != position[:, None]].reshape(5, 3)
    assert np.array_equal(others, distractors)  # distractors keep their drawn order


@pytest.mark.parametrize(
    "kwargs",
    [{"options": 1}, {"options": 30}, {"distractors": "same-film"}, {"duration_tolerance_pct": -1}],
)
def test_bad_rules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        McqRules(**kwargs)  # type: ignore[arg-type]
