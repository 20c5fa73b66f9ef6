"""Clustering cue groups and describing the clusters: pure functions on arrays.

* ``cluster_range``: seeded k-means (scikit-learn, 10 starts) for each k, with the
  mean silhouette and every cue group's own silhouette (Euclidean, on the features).
* ``distinguishing_words``: per cluster the words most over-represented in it against
  the other clusters, by the weighted log-odds ratio with an informative Dirichlet
  prior (Monroe, Colaresi & Quinn 2008; the prior is the word's count over all cue
  groups times ``PRIOR_WEIGHT``), as z-scores.
* ``statistic_contrasts``: per cluster, each plain statistic's mean in the cluster minus
  its mean in the rest, in standard deviations of the statistic over all cue groups.
* ``cluster_purity`` / ``label_agreement``: how well clusters match known labels
  (purity: share of cue groups in their cluster's majority label; adjusted Rand index).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from empathynet.errors import ConfigError

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Above this many cue groups the mean silhouette is estimated on a seeded sample of
#: this size and per-cue silhouettes are not computed (they need all pairwise distances).
SILHOUETTE_SAMPLE = 4000
_WORD = r"(?u)\b\w[\w']*\b"
#: Weight of the words' overall counts as the log-odds prior (see ``distinguishing_words``).
PRIOR_WEIGHT = 0.1


def parse_k(text: str | int | Sequence[int]) -> tuple[int, ...]:
    """``6`` -> (6,), ``"4-12"`` -> (4, ..., 12), ``"4,6,8"`` -> (4, 6, 8); each k >= 2."""
    if isinstance(text, int):
        values = [text]
    elif isinstance(text, str):
        spec = text.strip()
        found = re.fullmatch(r"(\d+)\s*-\s*(\d+)", spec)
        if found:
            low, high = int(found.group(1)), int(found.group(2))
            if low > high:
                raise ConfigError(f"k range {spec!r} runs backwards; write it like 4-12")
            values = list(range(low, high + 1))
        elif re.fullmatch(r"\d+(\s*,\s*\d+)*", spec):
            values = [int(part) for part in spec.split(",")]
        else:
            raise ConfigError(f"k {spec!r} is not a number, a range like 4-12 or a list like 4,6")
    else:
        values = [int(v) for v in text]
    if not values or min(values) < 2:
        raise ConfigError(f"k must be at least 2 (got {text!r})")
    return tuple(sorted(set(values)))


@dataclass(frozen=True)
class Clustering:
    """One k-means run."""

    k: int
    assignment: IntArray  #: cluster per cue group
    centres: FloatMatrix
    inertia: float  #: sum of squared distances to the centres
    silhouette: float  #: mean silhouette (on a sample above ``SILHOUETTE_SAMPLE``)
    cue_silhouette: FloatMatrix | None  #: per cue group; None above ``SILHOUETTE_SAMPLE``

    def distances(self, features: FloatMatrix) -> FloatMatrix:
        """Each cue group's distance to its own cluster's centre."""
        return np.asarray(
            np.linalg.norm(features - self.centres[self.assignment], axis=1), dtype=np.float64
        )


def cluster_range(features: FloatMatrix, ks: Sequence[int], seed: int = 0) -> list[Clustering]:
    """k-means with ``n_init=10`` and ``random_state=seed`` for every k in ``ks``.

    ``ConfigError`` when a k is not below the number of cue groups (a silhouette needs
    at least two clusters and one cue group more than clusters).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_samples, silhouette_score

    rows = len(features)
    too_big = [k for k in ks if k >= rows]
    if too_big:
        raise ConfigError(
            f"k {too_big[0]} needs more than {too_big[0]} cue groups; there are {rows}"
        )
    out: list[Clustering] = []
    for k in ks:
        model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(features)
        assignment = np.asarray(model.labels_, dtype=np.int64)
        if len(np.unique(assignment)) < 2:  # identical features: one cluster in fact
            silhouette, per_cue = 0.0, np.zeros(rows)
        elif rows <= SILHOUETTE_SAMPLE:
            per_cue = np.asarray(silhouette_samples(features, assignment), dtype=np.float64)
            silhouette = float(per_cue.mean())
        else:
            per_cue = None
            silhouette = float(
                silhouette_score(
                    features, assignment, sample_size=SILHOUETTE_SAMPLE, random_state=seed
                )
            )
        out.append(
            Clustering(
                k=k,
                assignment=assignment,
                centres=np.asarray(model.cluster_centers_, dtype=np.float64),
                inertia=float(model.inertia_),
                silhouette=silhouette,
                cue_silhouette=per_cue,
            )
        )
    return out


def distinguishing_words(
    texts: Sequence[str], assignment: IntArray, k: int, top: int = 8, min_count: int = 2
) -> list[list[tuple[str, float]]]:
    """Per cluster up to ``top`` ``(word, z)`` pairs, most distinctive first (z > 1.96
    only: words reliably more frequent in the cluster than in the rest); words seen
    fewer than ``min_count`` times in the cluster are left out."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(lowercase=True, token_pattern=_WORD)
    try:
        # a typographic apostrophe (you’re) is the same word as a straight one (you're)
        counts = vectorizer.fit_transform([t.replace("\u2019", "'") for t in texts]).tocsc()
    except ValueError:  # no words at all
        return [[] for _ in range(k)]
    vocabulary = np.asarray(vectorizer.get_feature_names_out(), dtype=object)
    if len(vocabulary) < 2:  # one word: nothing to contrast it with
        return [[] for _ in range(k)]
    total = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
    # Informative prior: the word's frequency over every cue group, worth a tenth of
    # the data (as strong as the data, it hid all but the most frequent words on MELD).
    alpha = PRIOR_WEIGHT * total
    alpha0 = float(alpha.sum())
    out: list[list[tuple[str, float]]] = []
    for cluster in range(k):
        inside = np.asarray(counts[assignment == cluster].sum(axis=0), dtype=np.float64).ravel()
        outside = total - inside
        n_in, n_out = inside.sum(), outside.sum()
        if n_in == 0 or n_out == 0:
            out.append([])
            continue
        delta = np.log((inside + alpha) / (n_in + alpha0 - inside - alpha)) - np.log(
            (outside + alpha) / (n_out + alpha0 - outside - alpha)
        )
        z = delta / np.sqrt(1.0 / (inside + alpha) + 1.0 / (outside + alpha))
        order = np.argsort(-z, kind="stable")
        chosen = [
            (str(vocabulary[i]), float(z[i]))
            for i in order
            if z[i] > 1.96 and inside[i] >= min_count
        ]
        out.append(chosen[:top])
    return out


def statistic_contrasts(statistics: FloatMatrix, assignment: IntArray, k: int) -> FloatMatrix:
    """``(k, statistics)``: per cluster and statistic, (mean in the cluster - mean in the
    rest) / standard deviation over all cue groups (0 where the statistic is constant or
    the cluster holds every cue group)."""
    values = np.asarray(statistics, dtype=np.float64)
    out = np.zeros((k, values.shape[1]))
    spread = values.std(axis=0)
    for cluster in range(k):
        inside = assignment == cluster
        if not inside.any() or inside.all():
            continue
        difference = values[inside].mean(axis=0) - values[~inside].mean(axis=0)
        out[cluster] = np.divide(
            difference, spread, out=np.zeros_like(difference), where=spread > 1e-12
        )
    return out


def cluster_purity(assignment: Sequence[int] | IntArray, labels: Sequence[object]) -> float:
    """Purity of a clustering against known labels: the share of cue groups whose label
    is their cluster's most common one. Cue groups with a ``None`` label are left out.
    ``ConfigError`` when no cue group has a label or the lengths differ."""
    pairs = _labelled_pairs(assignment, labels)
    by_cluster: dict[int, Counter[object]] = {}
    for cluster, label in pairs:
        by_cluster.setdefault(cluster, Counter())[label] += 1
    return sum(max(c.values()) for c in by_cluster.values()) / len(pairs)


def _labelled_pairs(
    assignment: Sequence[int] | IntArray, labels: Sequence[object]
) -> list[tuple[int, object]]:
    clusters = [int(c) for c in assignment]
    if len(clusters) != len(labels):
        raise ConfigError(f"{len(clusters)} cluster ids but {len(labels)} labels")
    pairs = [(c, label) for c, label in zip(clusters, labels, strict=True) if label is not None]
    if not pairs:
        raise ConfigError("no cue group has a known label to compare the clusters with")
    return pairs


@dataclass(frozen=True)
class LabelAgreement:
    """How a clustering matches known labels."""

    labelled: int  #: cue groups with a label
    purity: float
    adjusted_rand: float
    #: the share of the most common label: the purity of putting everything in one cluster
    majority_share: float


def label_agreement(
    assignment: Sequence[int] | IntArray, labels: Sequence[object]
) -> LabelAgreement:
    """Purity, adjusted Rand index and majority share of a clustering against labels
    (cue groups with a ``None`` label left out)."""
    from sklearn.metrics import adjusted_rand_score

    pairs = _labelled_pairs(assignment, labels)
    clusters = [c for c, _ in pairs]
    known = [str(label) for _, label in pairs]
    counts = Counter(known)
    return LabelAgreement(
        labelled=len(pairs),
        purity=cluster_purity(clusters, known),
        adjusted_rand=float(adjusted_rand_score(known, clusters)),
        majority_share=max(counts.values()) / len(pairs),
    )
