"""``suggest_classes``: cluster a dataset's accepted cue groups so a person can pick classes.

The green paper: "We will have to examine the actual dataset that we have collected in
order to determine suitable classes". For each k of a range the cue groups are clustered
(``classes.features``, ``classes.cluster``); the result is written as

* ``reports/classes/index.html``: a page to read: the silhouette per k (higher: clusters
  better separated; the best k is marked), then for each k one section per cluster with
  its size, the cue groups nearest its centre (text, a still, the blurred audio) and what
  distinguishes it (words, voice and image statistics in plain words);
* ``reports/classes/suggestion.json``: the same, machine-readable, with every cue
  group's cluster (and silhouette) per k, read back by ``read_suggestion``.

When the cue groups already have labels (votes or manifest labels), each k also gets
its purity and adjusted Rand index against them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from empathynet import __version__
from empathynet.classes.cluster import (
    LabelAgreement,
    cluster_range,
    distinguishing_words,
    label_agreement,
    parse_k,
    statistic_contrasts,
)
from empathynet.classes.features import DEFAULT_VIEWS, check_views, cue_features, cue_texts
from empathynet.errors import ConfigError, DatasetError
from empathynet.store.atomic import atomic_write_bytes, atomic_write_json
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset
from empathynet.tasks.cuetable import load_cue_table

SUGGESTION_FORMAT = "empathynet-class-suggestion"
SUGGESTION_VERSION = 1
#: Cue groups shown per cluster, nearest its centre first.
NEAREST = 5
#: Statistics shown per view and cluster (those at least ``MIN_TRAIT_Z`` sd from the rest).
TRAITS_PER_VIEW = 3
MIN_TRAIT_Z = 0.5


def classes_folder(root: str | Path) -> Path:
    """``DATASET/reports/classes``: where the suggestion page and JSON go."""
    return Path(root) / "reports" / "classes"


def suggestion_path(root: str | Path) -> Path:
    return classes_folder(root) / "suggestion.json"


def cue_set_digest(cue_ids: Sequence[str]) -> str:
    """SHA-256 of the sorted cue ids: tells whether a suggestion still fits the dataset."""
    digest = hashlib.sha256()
    for cue_id in sorted(cue_ids):
        digest.update(cue_id.encode("utf-8") + b"\0")
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class Example:
    """A cue group near its cluster's centre (media paths relative to the dataset)."""

    cue_id: str
    text: str
    still: str | None
    audio: str | None
    distance: float  #: to the centre, in the standardised feature space


@dataclass(frozen=True)
class Trait:
    """A statistic on which a cluster differs from the rest."""

    view: str
    statistic: str
    z: float  #: (cluster mean - rest mean) / sd over all cue groups
    words: str  #: what it means, e.g. "higher pitch"


@dataclass(frozen=True)
class ClusterSummary:
    """One cluster of one k."""

    cluster: int
    size: int
    share: float  #: of all cue groups
    nearest: tuple[Example, ...]
    words: tuple[tuple[str, float], ...]  #: distinguishing words with their log-odds z
    traits: tuple[Trait, ...]
    #: known labels of its cue groups (label -> count), empty when there are none
    labels: dict[str, int]

    def describe(self) -> str:
        """One line: its words and traits in plain words."""
        parts: list[str] = []
        if self.words:
            parts.append("words: " + ", ".join(w for w, _ in self.words[:6]))
        if self.traits:
            parts.append("; ".join(f"{t.words} ({t.z:+.1f} sd)" for t in self.traits))
        return "; ".join(parts) or "no distinguishing words or statistics"


@dataclass(frozen=True)
class KResult:
    """The clustering for one k."""

    k: int
    silhouette: float
    inertia: float
    assignment: tuple[int, ...]  #: cluster per cue group (``Suggestion.cue_ids`` order)
    cue_silhouette: tuple[float, ...] | None
    clusters: tuple[ClusterSummary, ...]
    agreement: LabelAgreement | None  #: against the dataset's labels, when it has some


@dataclass(frozen=True)
class Suggestion:
    """The outcome of ``suggest_classes``."""

    root: Path
    views: tuple[str, ...]
    weights: dict[str, float]
    seed: int
    centre_by: str | None  #: "speaker" / "source": features centred per group; None: not
    cue_ids: tuple[str, ...]
    cue_set: str  #: ``cue_set_digest(cue_ids)``
    results: tuple[KResult, ...]
    best_k: int  #: the k with the highest silhouette
    page: Path
    json_path: Path

    def result(self, k: int) -> KResult:
        """The clustering for ``k``; ``DatasetError`` listing the ks there are."""
        for result in self.results:
            if result.k == k:
                return result
        raise DatasetError(
            f"the suggestion has no k={k}; it has {[r.k for r in self.results]}: "
            "run empathynet classes suggest with that k",
            self.json_path,
        )

    def lines(self) -> list[str]:
        """A human-readable summary."""
        out = [
            f"{len(self.cue_ids)} cue groups, views {'+'.join(self.views)}, seed {self.seed}"
            + (f", centred by {self.centre_by}" if self.centre_by else ""),
            "k  silhouette" + ("  purity  ARI" if self.results[0].agreement else ""),
        ]
        for result in self.results:
            mark = "  <- best silhouette" if result.k == self.best_k else ""
            agreement = (
                f"  {result.agreement.purity:6.3f}  {result.agreement.adjusted_rand:5.3f}"
                if result.agreement
                else ""
            )
            out.append(f"{result.k:<2} {result.silhouette:10.3f}{agreement}{mark}")
        if self.results[0].agreement:
            first = self.results[0].agreement
            out.append(
                f"(against the {first.labelled} labelled cue groups; one cluster would have "
                f"purity {first.majority_share:.3f})"
            )
        best = self.result(self.best_k)
        out.append(f"clusters at k={best.k}:")
        out += [
            f"  {c.cluster}: {c.size} cue group{'' if c.size == 1 else 's'}; {c.describe()}"
            for c in best.clusters
        ]
        out += [f"page: {self.page}", f"json: {self.json_path}"]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``suggestion.json``)."""
        return {
            "format": SUGGESTION_FORMAT,
            "version": SUGGESTION_VERSION,
            "empathynet_version": __version__,
            "views": list(self.views),
            "weights": self.weights,
            "seed": self.seed,
            "centre_by": self.centre_by,
            "best_k": self.best_k,
            "cue_set": self.cue_set,
            "cue_ids": list(self.cue_ids),
            "results": [asdict(result) for result in self.results],
        }


def suggestion_from_dict(values: Mapping[str, Any], root: Path, path: Path) -> Suggestion:
    """A ``Suggestion`` from its JSON form; ``DatasetError`` naming ``path`` if malformed."""
    if values.get("format") != SUGGESTION_FORMAT or values.get("version") != SUGGESTION_VERSION:
        raise DatasetError(
            f"not a class suggestion of version {SUGGESTION_VERSION}: run empathynet classes "
            "suggest again",
            path,
        )
    try:
        results = tuple(
            KResult(
                k=int(r["k"]),
                silhouette=float(r["silhouette"]),
                inertia=float(r["inertia"]),
                assignment=tuple(int(c) for c in r["assignment"]),
                cue_silhouette=None
                if r["cue_silhouette"] is None
                else tuple(float(v) for v in r["cue_silhouette"]),
                clusters=tuple(
                    ClusterSummary(
                        cluster=int(c["cluster"]),
                        size=int(c["size"]),
                        share=float(c["share"]),
                        nearest=tuple(Example(**e) for e in c["nearest"]),
                        words=tuple((str(w), float(z)) for w, z in c["words"]),
                        traits=tuple(Trait(**t) for t in c["traits"]),
                        labels={str(k): int(v) for k, v in c["labels"].items()},
                    )
                    for c in r["clusters"]
                ),
                agreement=None if r["agreement"] is None else LabelAgreement(**r["agreement"]),
            )
            for r in values["results"]
        )
        return Suggestion(
            root=root,
            views=tuple(values["views"]),
            weights={str(k): float(v) for k, v in values["weights"].items()},
            seed=int(values["seed"]),
            centre_by=None if values["centre_by"] is None else str(values["centre_by"]),
            cue_ids=tuple(values["cue_ids"]),
            cue_set=str(values["cue_set"]),
            results=results,
            best_k=int(values["best_k"]),
            page=classes_folder(root) / "index.html",
            json_path=path,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"malformed class suggestion ({error!r})", path) from None


def read_suggestion(dataset: str | Path) -> Suggestion:
    """The last suggestion written for ``dataset``; ``DatasetError`` when there is none."""
    import json

    layout = require_dataset(dataset)
    path = suggestion_path(layout.root)
    if not path.exists():
        raise DatasetError(
            "no class suggestion yet: run empathynet classes suggest DATASET -k K first", path
        )
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DatasetError(f"cannot read the class suggestion: {error}", path) from None
    return suggestion_from_dict(values, layout.root, path)


def _first(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    items = [str(v) for v in (value or ()) if v]
    return items[len(items) // 2] if items else None  # the middle still: mid-sentence


@writes_dataset
def suggest_classes(
    dataset: str | Path,
    k: str | int | Sequence[int] = "4-12",
    views: Sequence[str] = DEFAULT_VIEWS,
    seed: int = 0,
    *,
    weights: Mapping[str, float] | None = None,
    centre_by: str | None = None,
    nearest: int = NEAREST,
) -> Suggestion:
    """Cluster the accepted cue groups of ``dataset`` for each k and write the page and JSON.

    ``k``: ``6``, ``"4-12"`` or a list. ``views``: of ``text``, ``audio_blur``,
    ``stills``, ``face_stills``; each view's block has total variance 1 (times
    ``weights[view]``, default 1). ``seed``: k-means' random state. ``centre_by``:
    ``"speaker"`` or ``"source"`` to take each speaker's (source's) mean out of the
    features, so clusters follow expression rather than identity (``cue_features``).
    ``nearest``: cue groups shown per cluster. Raises ``MissingViewError`` when cue
    groups lack a view's files, ``MissingDependencyError`` for ``text`` without the
    ``embed`` extra.
    """
    from empathynet.classes.page import suggestion_page

    ks = parse_k(k)
    chosen = check_views(views)
    layout = require_dataset(dataset)
    cues = load_cue_table(layout.root)
    if cues.rows == 0:
        raise DatasetError("the dataset has no accepted cue groups to cluster", layout.root)
    if max(ks) >= cues.rows:  # checked before the (slow) features are computed
        raise ConfigError(
            f"k {max(ks)} needs more than {max(ks)} cue groups; there are {cues.rows}",
            layout.root,
        )
    features, blocks = cue_features(cues, chosen, weights, centre_by=centre_by)
    clusterings = cluster_range(features, ks, seed)
    cue_ids = [str(c) for c in cues.column("cue_id").to_pylist()]
    texts = cue_texts(cues)
    stills = cues.column("still_paths").to_pylist()
    faces = cues.column("face_crop_paths").to_pylist()
    audio = cues.column("audio_blur_path").to_pylist()
    raw_labels = cues.column("label").to_pylist()
    labels = [str(v) if v is not None else None for v in raw_labels]
    has_labels = any(v is not None for v in labels)
    results: list[KResult] = []
    for clustering in clusterings:
        assignment = clustering.assignment
        distances = clustering.distances(features)
        words = distinguishing_words(texts, assignment, clustering.k)
        contrasts = [
            (b, statistic_contrasts(b.statistics, assignment, clustering.k))
            for b in blocks
            if b.statistic_names
        ]
        summaries: list[ClusterSummary] = []
        for cluster in range(clustering.k):
            members = np.flatnonzero(assignment == cluster)
            order = members[np.argsort(distances[members], kind="stable")][:nearest]
            examples = tuple(
                Example(
                    cue_id=cue_ids[i],
                    text=texts[i],
                    still=_first(stills[i]) or _first(faces[i]),
                    audio=audio[i] or None,
                    distance=round(float(distances[i]), 4),
                )
                for i in order
            )
            traits: list[Trait] = []
            for block, table in contrasts:
                row = table[cluster]
                strongest = np.argsort(-np.abs(row), kind="stable")[:TRAITS_PER_VIEW]
                for j in strongest:
                    if abs(row[j]) >= MIN_TRAIT_Z:
                        name, higher, lower = block.statistic_names[j]
                        traits.append(
                            Trait(
                                block.view,
                                name,
                                round(float(row[j]), 3),
                                higher if row[j] > 0 else lower,
                            )
                        )
            known = Counter(labels[i] for i in members if labels[i] is not None)
            summaries.append(
                ClusterSummary(
                    cluster=cluster,
                    size=len(members),
                    share=round(len(members) / len(cue_ids), 4),
                    nearest=examples,
                    words=tuple((w, round(z, 3)) for w, z in words[cluster]),
                    traits=tuple(traits),
                    labels={str(k): v for k, v in sorted(known.items(), key=lambda p: str(p[0]))},
                )
            )
        per_cue = clustering.cue_silhouette
        results.append(
            KResult(
                k=clustering.k,
                silhouette=round(clustering.silhouette, 6),
                inertia=round(clustering.inertia, 6),
                assignment=tuple(int(c) for c in assignment),
                cue_silhouette=None
                if per_cue is None
                else tuple(round(float(v), 4) for v in per_cue),
                clusters=tuple(summaries),
                agreement=label_agreement(assignment, labels) if has_labels else None,
            )
        )
    best = max(results, key=lambda r: (r.silhouette, -r.k))
    folder = classes_folder(layout.root)
    suggestion = Suggestion(
        root=layout.root,
        views=chosen,
        weights={v: float((weights or {}).get(v, 1.0)) for v in chosen},
        seed=seed,
        centre_by=centre_by,
        cue_ids=tuple(cue_ids),
        cue_set=cue_set_digest(cue_ids),
        results=tuple(results),
        best_k=best.k,
        page=folder / "index.html",
        json_path=folder / "suggestion.json",
    )
    atomic_write_json(suggestion.json_path, suggestion.to_dict())
    atomic_write_bytes(suggestion.page, suggestion_page(suggestion).encode("utf-8"))
    return suggestion
