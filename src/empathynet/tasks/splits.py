"""Train / validation / test splits, disjoint by source and by known speaker, stratified.

The unit of assignment is a **connected group of sources**: two sources are joined when
they share a known speaker (speaker names compared trimmed and case-folded), so a
film — and a named speaker, even across films — is never in two splits. Every cue group
of a unit goes to the same split.

Assignment is a seeded greedy stratification over units: units in decreasing size
(ties in a seeded random order) go, one by one, to the split whose class counts lag
their targets most for the unit's classes (need of split s for class c =
``ratio_s * total_c - current_s_c``, normalised by ``total_c``, weighted by the unit's
count of c; unlabelled cue groups count as one more class). When there are at least as
many units as splits, the smallest units are placed first so that no split is left
empty. Stratification is as good as the units allow: a dataset of three films cannot
have every class in every split.

``check_split_leakage`` fails loudly (``SplitLeakageError``) when a source or a known
speaker is in two splits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from empathynet.errors import ConfigError, DatasetError

SPLITS: tuple[str, ...] = ("train", "validation", "test")
DEFAULT_RATIOS: tuple[float, float, float] = (0.8, 0.1, 0.1)

Codes = npt.NDArray[np.int64]


class SplitLeakageError(DatasetError):
    """A source or a known speaker is in two splits."""


def check_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    """Three non-negative ratios summing to 1 (within 1e-9), train's positive."""
    if len(ratios) != len(SPLITS):
        raise ConfigError(f"split ratios need {len(SPLITS)} values (train, validation, test)")
    values = tuple(float(r) for r in ratios)
    if any(r < 0 for r in values) or values[0] <= 0 or abs(sum(values) - 1.0) > 1e-9:
        raise ConfigError(f"split ratios must be >= 0, train > 0, and sum to 1; got {list(values)}")
    return (values[0], values[1], values[2])


def connected_units(source_code: Codes, speaker_code: Codes) -> Codes:
    """Per row, its unit: sources joined by shared known speakers (``-1`` = unknown).

    Unit ids are 0..U-1, numbered by their smallest source code.
    """
    n_sources = int(source_code.max()) + 1 if len(source_code) else 0
    known = speaker_code >= 0
    n_speakers = int(speaker_code[known].max()) + 1 if known.any() else 0
    label = np.arange(n_sources + n_speakers, dtype=np.int64)
    if n_speakers:
        edges = np.unique(source_code[known] * n_speakers + speaker_code[known])
        u = edges // n_speakers
        v = n_sources + edges % n_speakers
        # Min-label propagation with pointer jumping: converges to the smallest node id of
        # each connected component (a handful of rounds on real data).
        while True:
            low = np.minimum(label[u], label[v])
            new = label.copy()
            np.minimum.at(new, u, low)
            np.minimum.at(new, v, low)
            while True:
                jumped = new[new]
                if np.array_equal(jumped, new):
                    break
                new = jumped
            if np.array_equal(new, label):
                break
            label = new
    _, unit = np.unique(label[source_code], return_inverse=True)
    return np.asarray(unit, dtype=np.int64)


@dataclass(frozen=True)
class SplitAssignment:
    """The split of every row (index into ``SPLITS``) and the number of units split."""

    split_code: npt.NDArray[np.int8]
    units: int

    def counts(self) -> dict[str, int]:
        """Rows per split."""
        return count_by_split(self.split_code)


def count_by_split(codes: npt.NDArray[np.integer]) -> dict[str, int]:
    """Rows (or items) per split name, given their split codes."""
    found = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(SPLITS))
    return {name: int(found[i]) for i, name in enumerate(SPLITS)}


def assign_splits(
    source_code: Codes,
    speaker_code: Codes,
    class_code: Codes,
    n_classes: int,
    *,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = 0,
) -> SplitAssignment:
    """Assign every row to a split (see the module docstring); deterministic in ``seed``.

    ``class_code`` is -1 for unlabelled rows (they count as their own class).
    """
    targets = check_ratios(ratios)
    n = len(source_code)
    if n == 0:
        return SplitAssignment(np.zeros(0, dtype=np.int8), 0)
    unit = connected_units(source_code, speaker_code)
    n_units = int(unit.max()) + 1
    width = n_classes + 1
    cls = np.where(class_code >= 0, class_code, n_classes)
    counts = np.bincount(unit * width + cls, minlength=n_units * width).reshape(n_units, width)
    sizes = counts.sum(axis=1)
    totals = counts.sum(axis=0).astype(np.float64)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.permutation(n_units), -sizes))
    unit_split = np.full(n_units, -1, dtype=np.int64)
    current = np.zeros((len(SPLITS), width), dtype=np.float64)
    wanted = [s for s in range(1, len(SPLITS)) if targets[s] > 0]
    if n_units >= len(wanted) + 1:
        for s, u in zip(reversed(wanted), order[::-1], strict=False):
            unit_split[u] = s
            current[s] += counts[u]
    # Python loop over units, on plain lists: few units (films) in practice, and a list
    # loop is ~1 µs a step where small numpy calls would cost ~10.
    unit_rows, unit_classes = np.nonzero(counts)
    starts = np.searchsorted(unit_rows, np.arange(n_units + 1))
    class_list = unit_classes.tolist()
    count_list = counts[unit_rows, unit_classes].tolist()
    inverse_total = [1.0 / t if t else 0.0 for t in totals.tolist()]
    need = [[targets[s] * t for t in totals.tolist()] for s in range(len(SPLITS))]
    for s in range(len(SPLITS)):
        for c, value in enumerate(current[s].tolist()):
            need[s][c] -= value
    open_splits = [s for s in range(len(SPLITS)) if targets[s] > 0]
    start_list = starts.tolist()
    assigned = unit_split.tolist()
    for u in order.tolist():
        if assigned[u] >= 0:
            continue
        members = range(start_list[u], start_list[u + 1])
        best, best_score = open_splits[0], -np.inf
        for s in open_splits:
            row = need[s]
            score = 0.0
            for i in members:
                c = class_list[i]
                score += count_list[i] * row[c] * inverse_total[c]
            if score > best_score:
                best, best_score = s, score
        assigned[u] = best
        row = need[best]
        for i in members:
            row[class_list[i]] -= count_list[i]
    split_of_unit = np.asarray(assigned, dtype=np.int8)
    return SplitAssignment(split_of_unit[unit], n_units)


def check_split_leakage(
    split_code: npt.NDArray[np.integer],
    source_code: Codes,
    speaker_code: Codes,
    describe_row: Callable[[int, str], str],
    where: object = None,
) -> None:
    """Raise ``SplitLeakageError`` if a source or a known speaker is in two splits.

    ``describe_row(row, "source" | "speaker")`` names the offending value for the message.
    """
    split = np.asarray(split_code, dtype=np.int64)
    for kind, key in (("source", source_code), ("speaker", speaker_code)):
        known = np.flatnonzero(key >= 0)
        if not len(known):
            continue
        pairs, first_row = np.unique(key[known] * len(SPLITS) + split[known], return_index=True)
        keys = pairs // len(SPLITS)
        leaked = np.flatnonzero(keys[1:] == keys[:-1])
        if len(leaked):
            a, b = int(pairs[leaked[0]] % len(SPLITS)), int(pairs[leaked[0] + 1] % len(SPLITS))
            row = int(known[first_row[leaked[0]]])
            count = len(np.unique(keys[leaked]))
            raise SplitLeakageError(
                f"split leakage: {kind} {describe_row(row, kind)} is in both {SPLITS[a]} "
                f"and {SPLITS[b]} ({count} {kind}s in several splits); splits must be "
                f"disjoint by {kind}",
                None if where is None else str(where),
            )
