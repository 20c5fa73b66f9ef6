"""``apply_classes``: turn named clusters of a suggestion into the dataset's taxonomy.

A person reads ``reports/classes/index.html`` and names clusters of one k: several
clusters may get one name, unnamed clusters are dropped. ``labels/taxonomy.yaml`` then
holds the named classes (alphabetical), each with a description made from its clusters
(size, distinguishing words, voice and image traits) and example cue groups (those
nearest its clusters' centres). Genders and age bands stay as they were.

The mapping is recorded in ``labels/taxonomy_clusters.json`` (k, cluster -> class, and
a digest of that k's assignment), so ``classes prelabel --method clusters`` can label
each cue group with its cluster's class while the suggestion is the same one.

A taxonomy cannot change under votes: when the dataset has votes and the new classes
differ from the current ones, ``ConfigError`` (as ``labels import --taxonomy``); also
when the manifest itself labels cue groups with classes the new taxonomy lacks.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from empathynet.classes.suggest import ClusterSummary, Suggestion, read_suggestion
from empathynet.errors import ConfigError, DatasetError
from empathynet.labels.store import LabelsLayout, dataset_taxonomy, read_manifest_columns
from empathynet.labels.taxonomy import Taxonomy, write_taxonomy
from empathynet.labels.votes import read_votes
from empathynet.store.atomic import atomic_write_json
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset

#: Example cue groups written per class.
EXAMPLES_PER_CLASS = 5
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def applied_path(root: str | Path) -> Path:
    """``labels/taxonomy_clusters.json``: which clusters made which class."""
    return LabelsLayout(Path(root)).folder / "taxonomy_clusters.json"


def assignment_digest(assignment: Sequence[int]) -> str:
    """SHA-256 of a k's cluster ids (in cue id order): identifies that clustering."""
    return "sha256:" + hashlib.sha256(",".join(map(str, assignment)).encode()).hexdigest()


@dataclass(frozen=True)
class ApplyResult:
    """What ``apply_classes`` wrote."""

    taxonomy_path: Path
    taxonomy: Taxonomy
    k: int
    names: dict[int, str]  #: cluster -> class
    dropped: tuple[int, ...]  #: clusters given no name
    cue_groups: int  #: cue groups in the named clusters

    def lines(self) -> list[str]:
        """A human-readable summary."""
        out = [f"{self.taxonomy_path}: {len(self.taxonomy.classes)} classes from k={self.k}"]
        for name in self.taxonomy.classes:
            clusters = sorted(c for c, n in self.names.items() if n == name)
            out.append(f"  {name} (clusters {', '.join(map(str, clusters))}): ")
            out[-1] += self.taxonomy.description_of(name) or ""
        if self.dropped:
            out.append(f"  dropped clusters: {', '.join(map(str, self.dropped))}")
        out.append(f"  cue groups in named clusters: {self.cue_groups}")
        return out


def parse_names(values: Sequence[str]) -> dict[int, str]:
    """``["0=joy", "1=joy", "2=anger"]`` -> ``{0: "joy", 1: "joy", 2: "anger"}``."""
    out: dict[int, str] = {}
    for value in values:
        cluster, sep, name = value.partition("=")
        if not sep or not cluster.strip().isdigit() or not name.strip():
            raise ConfigError(f"--name {value!r}: write CLUSTER=CLASS, e.g. 0=joy")
        number = int(cluster)
        if number in out:
            raise ConfigError(f"--name: cluster {number} is named twice")
        out[number] = name.strip()
    return out


def read_names_file(path: str | Path) -> dict[int, str]:
    """A YAML or JSON mapping ``cluster: class`` (e.g. ``0: joy``) from a file."""
    import yaml

    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read the names: {' '.join(str(error).split())}", path) from None
    if not isinstance(values, Mapping) or not values:
        raise ConfigError("the names file must map cluster numbers to class names", path)
    out: dict[int, str] = {}
    for cluster, name in values.items():
        if not str(cluster).strip().isdigit() or not isinstance(name, str):
            raise ConfigError(f"entry {cluster!r}: {name!r} is not CLUSTER: CLASS", path)
        out[int(cluster)] = name
    return out


def _description(clusters: Sequence[ClusterSummary], k: int, total: int) -> str:
    size = sum(c.size for c in clusters)
    numbers = ", ".join(str(c.cluster) for c in clusters)
    parts = [
        f"From k={k} cluster{'s' if len(clusters) > 1 else ''} {numbers}: {size} of {total} "
        "cue groups"
    ]
    words = [w for c in clusters for w, _ in c.words[:5]]
    if words:
        parts.append("words: " + ", ".join(dict.fromkeys(words)))
    traits = [t.words for c in clusters for t in c.traits]
    if traits:
        parts.append("; ".join(dict.fromkeys(traits)))
    return "; ".join(parts) + "."


def _examples(clusters: Sequence[ClusterSummary], count: int) -> tuple[str, ...]:
    """Nearest cue groups of the clusters, taken in turn (the nearest of each first)."""
    out: list[str] = []
    depth = max((len(c.nearest) for c in clusters), default=0)
    for rank in range(depth):
        for cluster in clusters:
            if rank < len(cluster.nearest):
                out.append(cluster.nearest[rank].cue_id)
    return tuple(dict.fromkeys(out))[:count]


def _choose_k(suggestion: Suggestion, k: int | None) -> int:
    if k is not None:
        return suggestion.result(k).k
    if len(suggestion.results) == 1:
        return suggestion.results[0].k
    raise ConfigError(
        f"the suggestion has several k ({[r.k for r in suggestion.results]}): give --k",
        suggestion.json_path,
    )


@writes_dataset
def apply_classes(
    dataset: str | Path,
    names: Mapping[int, str],
    k: int | None = None,
    *,
    examples: int = EXAMPLES_PER_CLASS,
) -> ApplyResult:
    """Write ``labels/taxonomy.yaml`` from clusters of the last suggestion named ``names``.

    ``names``: cluster -> class name (lower case: a-z, 0-9, ``_``, ``-``; case is folded);
    several clusters may share a class, clusters not named are dropped. ``k``: which
    clustering of the suggestion (needed when it has several). ``examples``: example cue
    ids per class. ``ConfigError`` for an unknown cluster, a bad name, or new classes
    under existing votes of another taxonomy.
    """
    layout = require_dataset(dataset)
    labels = LabelsLayout(layout.root)
    suggestion = read_suggestion(layout.root)
    chosen_k = _choose_k(suggestion, k)
    result = suggestion.result(chosen_k)
    if not names:
        raise ConfigError("name at least one cluster, e.g. --name 0=joy")
    folded: dict[int, str] = {}
    for cluster, name in names.items():
        if not 0 <= int(cluster) < chosen_k:
            raise ConfigError(
                f"cluster {cluster} does not exist at k={chosen_k} (0-{chosen_k - 1})",
                suggestion.json_path,
            )
        clean = name.strip().lower()
        if not _NAME.match(clean):
            raise ConfigError(
                f"class name {name!r} (cluster {cluster}) is not a lower-case name "
                "(a-z, 0-9, '_', '-')"
            )
        folded[int(cluster)] = clean
    classes = tuple(sorted(set(folded.values())))
    by_class = {
        name: [result.clusters[c] for c in sorted(folded) if folded[c] == name] for name in classes
    }
    total = len(suggestion.cue_ids)
    current = dataset_taxonomy(layout.root)
    taxonomy = Taxonomy(
        classes=classes,
        genders=current.genders,
        age_bands=current.age_bands,
        descriptions=tuple((n, _description(by_class[n], chosen_k, total)) for n in classes),
        examples=tuple((n, _examples(by_class[n], examples)) for n in classes if examples > 0),
    )
    votes = read_votes(layout.root)
    # Taxonomy equality ignores descriptions and examples: only the classes matter here.
    if votes.num_rows > 0 and replace(taxonomy, descriptions=(), examples=()) != current:
        raise ConfigError(
            f"the dataset already has {votes.num_rows} votes against another taxonomy "
            f"(classes {list(current.classes)}); a taxonomy cannot change under existing "
            "votes",
            labels.taxonomy,
        )
    manifest = read_manifest_columns(layout.root, ["status", "label"]).to_pylist()
    outside = sorted(
        {
            row["label"]
            for row in manifest
            if row["status"] == "accepted" and row["label"] and row["label"] not in classes
        }
    )
    if outside:
        raise ConfigError(
            f"the manifest labels cue groups {outside}, which are not among the new classes "
            f"{list(classes)}; name clusters with those classes too, or keep the taxonomy",
            labels.taxonomy,
        )
    write_taxonomy(labels.taxonomy, taxonomy)
    record: dict[str, Any] = {
        "k": chosen_k,
        "names": {str(c): n for c, n in sorted(folded.items())},
        "cue_set": suggestion.cue_set,
        "assignment": assignment_digest(result.assignment),
    }
    atomic_write_json(applied_path(layout.root), record)
    dropped = tuple(c for c in range(chosen_k) if c not in folded)
    return ApplyResult(
        taxonomy_path=labels.taxonomy,
        taxonomy=taxonomy,
        k=chosen_k,
        names=folded,
        dropped=dropped,
        cue_groups=sum(result.clusters[c].size for c in folded),
    )


def read_applied(dataset: str | Path) -> dict[str, Any] | None:
    """The record ``apply_classes`` wrote (None when classes were never applied)."""
    path = applied_path(require_dataset(dataset).root)
    if not path.exists():
        return None
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DatasetError(f"cannot read the applied classes: {error}", path) from None
    if not isinstance(values, dict) or not {"k", "names", "assignment"} <= set(values):
        raise DatasetError("malformed record of applied classes", path)
    return values
