"""Splits: disjoint by source and known speaker, stratified, seeded; leakage fails loudly."""

from __future__ import annotations

import numpy as np
import pytest

from empathynet.errors import ConfigError
from empathynet.tasks.splits import (
    SplitLeakageError,
    assign_splits,
    check_split_leakage,
    connected_units,
)


def codes(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def test_sources_sharing_a_speaker_form_one_unit() -> None:
    # sources 0-1 share speaker 7, 1-2 share speaker 8: a chain; source 3 is alone
    source = codes([0, 0, 1, 1, 2, 3, 3])
    speaker = codes([7, -1, 7, 8, 8, -1, 9])
    unit = connected_units(source, speaker)
    assert unit[0] == unit[2] == unit[4]
    assert unit[5] == unit[6] != unit[0]


def random_dataset(
    seed: int, n: int = 6000, sources: int = 300
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    source = np.sort(rng.integers(0, sources, n))
    speaker = np.where(rng.random(n) < 0.6, source * 4 + rng.integers(0, 4, n), -1)
    # a few speakers recur across sources (a narrator in a series)
    speaker[(source % 50 == 0) & (rng.random(n) < 0.5)] = 10_000
    label = rng.choice(7, size=n, p=[0.05, 0.05, 0.1, 0.2, 0.4, 0.1, 0.1])
    label[rng.random(n) < 0.05] = -1
    return source, speaker, label


def test_splits_are_disjoint_by_source_and_speaker_and_stratified() -> None:
    source, speaker, label = random_dataset(0)
    result = assign_splits(source, speaker, label, 7, seed=3)
    split = result.split_code
    for key in (source, speaker):
        known = key >= 0
        pairs = np.unique(np.stack([key[known], split[known]]), axis=1)
        assert len(np.unique(pairs[0])) == pairs.shape[1]  # one split per key
    counts = result.counts()
    assert abs(counts["train"] / len(split) - 0.8) < 0.02
    assert abs(counts["validation"] / len(split) - 0.1) < 0.02
    # every class's share in every split is close to its overall share
    for c in range(7):
        overall = (label == c).mean()
        for s in range(3):
            share = (label[split == s] == c).mean()
            assert abs(share - overall) < 0.03, (c, s, share, overall)
    # and the narrator's sources all went to one split
    assert len(np.unique(split[speaker == 10_000])) == 1


def test_splits_are_seeded() -> None:
    source, speaker, label = random_dataset(1)
    first = assign_splits(source, speaker, label, 7, seed=5).split_code
    again = assign_splits(source, speaker, label, 7, seed=5).split_code
    other = assign_splits(source, speaker, label, 7, seed=6).split_code
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_three_sources_give_one_per_split() -> None:
    source = codes([0, 0, 0, 1, 1, 2])
    result = assign_splits(source, codes([-1] * 6), codes([0, 1, 2, 3, 4, 5]), 7, seed=0)
    assert result.counts() == {"train": 3, "validation": 2, "test": 1}
    one_source = assign_splits(codes([0, 0]), codes([-1, -1]), codes([0, 1]), 7, seed=0)
    assert one_source.counts() == {"train": 2, "validation": 0, "test": 0}


def test_leakage_check_names_the_source_or_speaker() -> None:
    source = codes([0, 0, 1, 1])
    speaker = codes([5, 5, 6, 6])
    names = {0: "film-a", 1: "film-b"}

    def describe(row: int, kind: str) -> str:
        return names[int(source[row])] if kind == "source" else f"speaker{speaker[row]}"

    check_split_leakage(np.array([0, 0, 2, 2]), source, speaker, describe)
    with pytest.raises(SplitLeakageError, match="source film-b is in both train and test"):
        check_split_leakage(np.array([0, 0, 0, 2]), source, speaker, describe)
    # a speaker shared by two sources in two splits is a leak too
    with pytest.raises(SplitLeakageError, match="speaker speaker5 is in both train and valid"):
        check_split_leakage(
            np.array([0, 0, 1, 1]), codes([0, 0, 1, 1]), codes([5, 5, 5, 6]), describe
        )


@pytest.mark.parametrize(
    "ratios", [(0.5, 0.5), (0.9, 0.2, 0.1), (0.0, 0.5, 0.5), (1.2, -0.1, -0.1)]
)
def test_bad_ratios_are_refused(ratios: tuple[float, ...]) -> None:
    with pytest.raises(ConfigError, match="ratios"):
        assign_splits(codes([0]), codes([-1]), codes([0]), 7, ratios=ratios)
