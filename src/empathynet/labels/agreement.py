"""Inter-annotator agreement of a dataset's votes: Krippendorff's α, Fleiss' κ and more.

``annotator_agreement(dataset)`` reads ``labels/votes.parquet``; ``agreement_of_votes``
is the same on a votes table and a taxonomy. The votes that count are the aggregate's:
each annotator's latest vote per cue group (``labels.aggregate``); a cue group with
fewer than 2 such votes says nothing about agreement and is left out (counted).

* **Krippendorff's α** (nominal), by the ``krippendorff`` package, from the cue groups'
  vote counts per class (its ``value_counts`` input: the same α as a coders × units
  matrix with missing votes, without building a matrix of every annotator by every
  cue group). Any number of votes per cue group.
* **Fleiss' κ**, by ``statsmodels`` (``fleiss_kappa``), which needs the same number of
  votes on every cue group: it uses the cue groups with the most common number of
  votes (on a tie between two numbers, the larger one) and says how many that is.
* **Per class**: α and κ of the binarised label (this class vs any other), same rules.
* **Per annotator**: Cohen's κ (scikit-learn's ``cohen_kappa_score``) between the
  annotator's votes and the majority label of the *other* annotators on the same cue
  groups (cue groups where the others tie are left out), and the share of votes equal
  to that majority. It shows who reads the classes differently from the rest.
* **Confusion between annotators**: for every cue group and every ordered pair of two
  different annotators' votes on it, one count at (first vote's class, second's):
  symmetric; the diagonal holds agreeing pairs (each unordered pair twice).
* **Bootstrap**: 95 % percentile intervals of α and κ (overall and per class) from
  ``resamples`` resamples of the cue groups with replacement (seeded), computed with
  numpy from per-cue-group sums (the same formulas as the libraries; tests check they
  give the libraries' values).

How to read them: Landis & Koch (1977) call κ below 0 poor, 0–0.20 slight, 0.21–0.40
fair, 0.41–0.60 moderate, 0.61–0.80 substantial and above 0.80 almost perfect;
Krippendorff asks α ≥ 0.800 for reliable data and ≥ 0.667 for tentative conclusions.
Emotion labels are hard: MELD (Poria et al. 2019) reports Fleiss' κ 0.43.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa  # type: ignore[import-untyped]

from empathynet.errors import ConfigError, DatasetError
from empathynet.labels.aggregate import LatestVotes, latest_votes
from empathynet.labels.store import dataset_taxonomy
from empathynet.labels.taxonomy import Taxonomy
from empathynet.labels.votes import read_votes
from empathynet.store.layout import require_dataset

DEFAULT_RESAMPLES = 1000
CONFIDENCE_LEVEL = 0.95
#: MELD's published Fleiss' κ (Poria et al. 2019), the comparison the report prints.
MELD_FLEISS_KAPPA = 0.43
#: Landis & Koch (1977): upper bound of each band of κ.
LANDIS_KOCH: tuple[tuple[float, str], ...] = (
    (0.0, "poor"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.0, "almost perfect"),
)
_BOOTSTRAP_CELLS = 4_000_000  # resample weights held at once (resamples x cue groups)

Counts = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def landis_koch(kappa: float | None) -> str:
    """The Landis & Koch band of ``kappa`` ("-" when there is none)."""
    if kappa is None:
        return "-"
    for bound, name in LANDIS_KOCH:
        if kappa <= bound:
            return name
    return LANDIS_KOCH[-1][1]


@dataclass(frozen=True)
class Estimate:
    """A figure with its bootstrap interval (None: not computable, e.g. one class only)."""

    value: float | None
    low: float | None
    high: float | None

    def text(self) -> str:
        if self.value is None:
            return "-"
        if self.low is None or self.high is None:
            return f"{self.value:.3f}"
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclass(frozen=True)
class ClassAgreement:
    """α and κ of one class against all others (binarised labels)."""

    label: str
    votes: int  #: votes for the class on the cue groups counted
    alpha: Estimate
    kappa: Estimate


@dataclass(frozen=True)
class AnnotatorAgreement:
    """One annotator against the majority of the others."""

    annotator: str
    votes: int  #: the annotator's votes on cue groups counted
    compared: int  #: of those, on cue groups where the others have one majority class
    agreement: float | None  #: share of ``compared`` votes equal to the others' majority
    kappa: float | None  #: Cohen's κ against the others' majority


@dataclass(frozen=True)
class Agreement:
    """Agreement between a dataset's annotators (see the module docstring)."""

    classes: tuple[str, ...]
    cue_groups: int  #: cue groups with 2 or more votes (the ones counted)
    cue_groups_left_out: int  #: cue groups with a single vote
    votes: int  #: votes on the cue groups counted
    annotators: int  #: annotators with a vote on a cue group counted
    votes_per_cue_group: dict[int, int]  #: number of votes -> cue groups (all voted ones)
    alpha: Estimate  #: Krippendorff's α, nominal
    kappa: Estimate  #: Fleiss' κ
    kappa_votes_per_cue_group: int | None  #: the number of votes Fleiss' κ uses
    kappa_cue_groups: int  #: cue groups with that number of votes
    per_class: tuple[ClassAgreement, ...]
    per_annotator: tuple[AnnotatorAgreement, ...]
    #: classes x classes: ordered pairs of two annotators' votes on the same cue group
    confusion: tuple[tuple[int, ...], ...]
    resamples: int
    seed: int
    confidence_level: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        """One line: α and κ with intervals, their band, and MELD's κ for comparison."""
        if self.cue_groups == 0:
            return "annotator agreement: no cue group has two votes"
        return (
            f"annotator agreement: Krippendorff's alpha {self.alpha.text()}, Fleiss' kappa "
            f"{self.kappa.text()} ({landis_koch(self.kappa.value)}; MELD reports "
            f"{MELD_FLEISS_KAPPA:.2f}) over {self.cue_groups} cue groups, {self.votes} votes, "
            f"{self.annotators} annotators"
        )

    def lines(self) -> list[str]:
        """A human-readable report."""
        level = f"{self.confidence_level:.0%}"
        histogram = ", ".join(f"{n}: {c}" for n, c in sorted(self.votes_per_cue_group.items()))
        out = [
            f"cue groups counted (2+ votes): {self.cue_groups} "
            f"(left out with 1 vote: {self.cue_groups_left_out}); votes: {self.votes}; "
            f"annotators: {self.annotators}",
            f"votes per cue group -> cue groups: {histogram or '-'}",
            f"Krippendorff's alpha (nominal): {self.alpha.text()}",
            f"Fleiss' kappa: {self.kappa.text()} on the {self.kappa_cue_groups} cue groups "
            f"with {self.kappa_votes_per_cue_group or '-'} votes",
            f"  [{level} bootstrap intervals over cue groups, {self.resamples} resamples, "
            f"seed {self.seed}]",
            "How to read: kappa < 0 poor, 0-0.20 slight, 0.21-0.40 fair, 0.41-0.60 moderate, "
            "0.61-0.80 substantial, > 0.80 almost perfect (Landis & Koch 1977); alpha >= 0.80 "
            f"reliable, >= 0.667 tentative (Krippendorff). This kappa is "
            f"{landis_koch(self.kappa.value)}; MELD reports Fleiss' kappa {MELD_FLEISS_KAPPA}.",
            "",
            f"{'class':<16} {'votes':>6}  {'alpha (one vs rest)':<26} kappa (one vs rest)",
        ]
        for item in self.per_class:
            out.append(
                f"{item.label:<16} {item.votes:>6}  {item.alpha.text():<26} {item.kappa.text()}"
            )
        out += ["", f"{'annotator':<16} {'votes':>6} {'compared':>8}  agreement  kappa vs others"]
        for person in self.per_annotator:
            share = "-" if person.agreement is None else f"{person.agreement:.3f}"
            kappa = "-" if person.kappa is None else f"{person.kappa:.3f}"
            out.append(
                f"{person.annotator:<16} {person.votes:>6} {person.compared:>8}  {share:>9}  "
                f"{kappa}"
            )
        width = max([5, *(len(c) for c in self.classes)])
        out += ["", "class confusion between annotators (pairs of votes on one cue group):"]
        out.append(" " * (width + 1) + " ".join(f"{c[:width]:>{width}}" for c in self.classes))
        for name, row in zip(self.classes, self.confusion, strict=True):
            out.append(f"{name:<{width}} " + " ".join(f"{v:>{width}}" for v in row))
        return out


def _nan_to_none(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def alpha_nominal(counts: Counts) -> float | None:
    """Krippendorff's α (nominal) of cue groups x classes vote counts, by ``krippendorff``
    (None when every vote is one class: α is undefined)."""
    counts = counts[counts.sum(axis=1) >= 2]
    if len(counts) == 0 or (counts.sum(axis=0) > 0).sum() < 2:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    return _nan_to_none(float(value))


def fleiss_of_counts(counts: Counts) -> float | None:
    """Fleiss' κ of cue groups x classes counts with the same number of votes per row,
    by ``statsmodels`` (None when every vote is one class)."""
    if len(counts) == 0 or (counts.sum(axis=0) > 0).sum() < 2:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = fleiss_kappa(counts, method="fleiss")
    return _nan_to_none(float(value))


def fleiss_rows(counts: Counts) -> tuple[npt.NDArray[np.bool_], int | None]:
    """The cue groups Fleiss' κ uses (those with the most common number of votes, 2 or
    more; a tie goes to the larger number) and that number."""
    totals = counts.sum(axis=1)
    usable = totals[totals >= 2]
    if len(usable) == 0:
        return np.zeros(len(counts), dtype=bool), None
    frequency = np.bincount(usable)
    raters = int(np.flatnonzero(frequency == frequency.max())[-1])
    return totals == raters, raters


def _binary(counts: Counts, label: int) -> Counts:
    return np.stack([counts[:, label], counts.sum(axis=1) - counts[:, label]], axis=1)


def _unit_sums(counts: Counts, fleiss: npt.NDArray[np.bool_], raters: int) -> Floats:
    """Per cue group, the terms whose sums give α and κ (overall and per class)."""
    m = counts.sum(axis=1).astype(np.float64)
    n = counts.astype(np.float64)
    rest = m[:, None] - n
    # Matching pairs per cue group, weighted 1 / (m - 1) as in the coincidence matrix.
    diagonal = (n * (n - 1)).sum(axis=1) / (m - 1)
    diagonal_class = (n * (n - 1) + rest * (rest - 1)) / (m - 1)[:, None]
    f = fleiss.astype(np.float64)
    r = float(max(raters, 2))
    agree = ((n * n).sum(axis=1) - r) / (r * (r - 1)) * f
    agree_class = (n * n + rest * rest - r) / (r * (r - 1)) * f[:, None]
    return np.concatenate(
        [
            m[:, None],
            diagonal[:, None],
            n,
            diagonal_class,
            f[:, None],
            agree[:, None],
            n * f[:, None],
            agree_class,
        ],
        axis=1,
    )


def _statistics(sums: Floats, n_classes: int, raters: int) -> Floats:
    """α, per-class α, κ, per-class κ from summed ``_unit_sums`` (rows: resamples)."""
    c = n_classes
    total = sums[:, 0]
    diagonal = sums[:, 1]
    per_class = sums[:, 2 : 2 + c]
    diagonal_class = sums[:, 2 + c : 2 + 2 * c]
    units = sums[:, 2 + 2 * c]
    agree = sums[:, 3 + 2 * c]
    fleiss_class = sums[:, 4 + 2 * c : 4 + 3 * c]
    agree_class = sums[:, 4 + 3 * c : 4 + 4 * c]
    with np.errstate(all="ignore"):
        expected = total**2 - (per_class**2).sum(axis=1)
        alpha = 1 - (total - 1) * (total - diagonal) / expected
        rest = total[:, None] - per_class
        expected_class = 2 * per_class * rest
        alpha_class = 1 - (total[:, None] - 1) * (total[:, None] - diagonal_class) / expected_class
        share = fleiss_class / (units * raters)[:, None]
        chance = (share**2).sum(axis=1)
        kappa = (agree / units - chance) / (1 - chance)
        chance_class = share**2 + (1 - share) ** 2
        kappa_class = (agree_class / units[:, None] - chance_class) / (1 - chance_class)
    return np.concatenate([alpha[:, None], alpha_class, kappa[:, None], kappa_class], axis=1)


def bootstrap_statistics(
    counts: Counts, resamples: int, seed: int
) -> tuple[Floats, npt.NDArray[np.bool_], int | None]:
    """Resamples x (α, α per class, κ, κ per class) over cue groups drawn with
    replacement (``counts``: cue groups with 2+ votes), the Fleiss rows and raters."""
    counts = counts[counts.sum(axis=1) >= 2]
    fleiss, raters = fleiss_rows(counts)
    n_units, n_classes = counts.shape
    if n_units == 0 or resamples == 0:
        return np.zeros((0, 2 + 2 * n_classes)), fleiss, raters
    terms = _unit_sums(counts, fleiss, raters or 2)
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOTSTRAP_CELLS // n_units)
    out = []
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        # How often each cue group is drawn in each resample (n draws with replacement):
        # counted with one bincount, five times faster than numpy's multinomial here.
        draws = rng.integers(0, n_units, size=(size, n_units))
        draws += np.arange(size)[:, None] * n_units
        weights = np.bincount(draws.ravel(), minlength=size * n_units).reshape(size, n_units)
        out.append(_statistics(weights @ terms, n_classes, raters or 2))
    return np.concatenate(out), fleiss, raters


def statistics_of_counts(counts: Counts) -> Floats:
    """(α, α per class, κ, κ per class) by the numpy formulas of the bootstrap, on all
    cue groups with 2+ votes once (the tests check them against the libraries)."""
    counts = counts[counts.sum(axis=1) >= 2]
    fleiss, raters = fleiss_rows(counts)
    terms = _unit_sums(counts, fleiss, raters or 2)
    sums = terms.sum(axis=0, keepdims=True)
    return np.asarray(_statistics(sums, counts.shape[1], raters or 2)[0], dtype=np.float64)


def _interval(values: Floats, level: float) -> tuple[float | None, float | None]:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return None, None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _estimate(value: float | None, samples: Floats, level: float) -> Estimate:
    if value is None:
        return Estimate(None, None, None)
    low, high = _interval(samples, level)
    return Estimate(value, low, high)


def _cohen(first: Counts, second: Counts, n_classes: int) -> float | None:
    if len(first) == 0:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(first, second, labels=list(range(n_classes)))
    return _nan_to_none(float(value))


def _per_annotator(
    latest: LatestVotes, counts_all: Counts, counted: npt.NDArray[np.bool_], n_classes: int
) -> tuple[AnnotatorAgreement, ...]:
    keep = counted[latest.cue]
    cue, annotator, label = latest.cue[keep], latest.annotator[keep], latest.label[keep]
    others = counts_all[cue].copy()
    others[np.arange(len(label)), label] -= 1
    top = others.max(axis=1)
    unique = (others == top[:, None]).sum(axis=1) == 1
    majority = others.argmax(axis=1)
    names = latest.annotators.to_pylist()
    out = []
    for index in sorted(set(annotator.tolist()), key=lambda i: names[i]):
        mine = annotator == index
        compared = mine & unique
        n = int(compared.sum())
        out.append(
            AnnotatorAgreement(
                annotator=names[index],
                votes=int(mine.sum()),
                compared=n,
                agreement=float((label[compared] == majority[compared]).mean()) if n else None,
                kappa=_cohen(label[compared], majority[compared], n_classes),
            )
        )
    return tuple(out)


def agreement_of_votes(
    votes: pa.Table,
    taxonomy: Taxonomy,
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    confidence_level: float = CONFIDENCE_LEVEL,
) -> Agreement:
    """The agreement of a votes table (``VOTE_SCHEMA``) under ``taxonomy``; no I/O."""
    if resamples < 0:
        raise ConfigError(f"resamples must be >= 0, got {resamples}")
    if not 0 < confidence_level < 1:
        raise ConfigError(f"the confidence level must be in (0, 1), got {confidence_level}")
    classes = taxonomy.classes
    n_classes = len(classes)
    if votes.num_rows == 0:
        latest = None
        counts_all = np.zeros((0, n_classes), dtype=np.int64)
    else:
        latest = latest_votes(votes, taxonomy)
        counts_all = np.bincount(
            latest.cue * n_classes + latest.label, minlength=latest.n_cues * n_classes
        ).reshape(latest.n_cues, n_classes)
    totals = counts_all.sum(axis=1)
    counted = totals >= 2
    counts = counts_all[counted]
    samples, fleiss, raters = bootstrap_statistics(counts, resamples, seed)
    alpha = alpha_nominal(counts)
    kappa = fleiss_of_counts(counts[fleiss]) if raters is not None else None
    per_class = []
    for index, name in enumerate(classes):
        binary = _binary(counts, index)
        class_alpha = alpha_nominal(binary)
        class_kappa = fleiss_of_counts(binary[fleiss]) if raters is not None else None
        per_class.append(
            ClassAgreement(
                label=name,
                votes=int(counts[:, index].sum()),
                alpha=_estimate(class_alpha, samples[:, 1 + index], confidence_level),
                kappa=_estimate(class_kappa, samples[:, 2 + n_classes + index], confidence_level),
            )
        )
    # Ordered pairs of two different annotators' votes: n_c n_k, minus self-pairs.
    confusion = counts.T @ counts - np.diag(counts.sum(axis=0))
    annotators = 0
    per_annotator: tuple[AnnotatorAgreement, ...] = ()
    if latest is not None:
        per_annotator = _per_annotator(latest, counts_all, counted, n_classes)
        annotators = len(per_annotator)
    histogram = np.bincount(totals) if len(totals) else np.zeros(0, dtype=np.int64)
    return Agreement(
        classes=classes,
        cue_groups=int(counted.sum()),
        cue_groups_left_out=int((totals == 1).sum()),
        votes=int(counts.sum()),
        annotators=annotators,
        votes_per_cue_group={n: int(c) for n, c in enumerate(histogram.tolist()) if c and n},
        alpha=_estimate(alpha, samples[:, 0], confidence_level),
        kappa=_estimate(kappa, samples[:, 1 + n_classes], confidence_level),
        kappa_votes_per_cue_group=raters,
        kappa_cue_groups=int(fleiss.sum()),
        per_class=tuple(per_class),
        per_annotator=per_annotator,
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        resamples=resamples,
        seed=seed,
        confidence_level=confidence_level,
    )


def annotator_agreement(
    dataset: str | Path,
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    confidence_level: float = CONFIDENCE_LEVEL,
) -> Agreement:
    """The agreement of ``dataset``'s annotators (``labels/votes.parquet``); reads only.

    ``DatasetError`` when the dataset has no votes.
    """
    layout = require_dataset(dataset)
    votes = read_votes(layout.root)
    if votes.num_rows == 0:
        raise DatasetError(
            "the dataset has no votes: import them with `empathynet labels import`", layout.root
        )
    return agreement_of_votes(
        votes,
        dataset_taxonomy(layout.root),
        seed=seed,
        resamples=resamples,
        confidence_level=confidence_level,
    )
