"""Machine pre-labels: ``labels/prelabels.parquet``, to order annotation work.

Never mixed with human votes (``votes.parquet`` is not touched) and marked as machine by
where they live and by their ``method``. One row per cue group and method::

    cue_id  string   not null
    method  string   not null   "vader" or "clusters"
    label   string   nullable   a class of the taxonomy, or null
    score   float64  nullable

* ``vader``: the VADER compound sentiment of the cue group's text and sound tags, from
  -1 (negative) to 1 (positive) (``vaderSentiment``'s offline lexicon); label null:
  sentiment is not an emotion class.
* ``clusters``: score = the cue group's cluster id in the last suggestion (at the given
  k, else the k classes were applied with when the suggestion has it, else the best
  k); label = the class that cluster was named by ``classes apply`` (null when not
  applied to this clustering, or the cluster was dropped). Sorting by it groups
  similar cue groups for annotators.

Re-running a method replaces that method's rows (nothing is duplicated); rows of other
methods stay. Label Studio shows them as predictions (``model_version`` = method).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.classes.apply import assignment_digest, read_applied
from empathynet.classes.features import cue_texts
from empathynet.classes.suggest import cue_set_digest, read_suggestion
from empathynet.errors import ConfigError, DatasetError, MissingDependencyError
from empathynet.labels.store import LabelsLayout
from empathynet.store.atomic import atomic_write_table
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset
from empathynet.tasks.cuetable import load_cue_table

PRELABEL_METHODS: tuple[str, ...] = ("vader", "clusters")
PRELABEL_SCHEMA = pa.schema(
    [
        ("cue_id", pa.string(), False),
        ("method", pa.string(), False),
        ("label", pa.string()),
        ("score", pa.float64()),
    ]
)


def prelabels_path(root: str | Path) -> Path:
    """``labels/prelabels.parquet``."""
    return LabelsLayout(Path(root)).folder / "prelabels.parquet"


@dataclass(frozen=True)
class PrelabelResult:
    """What ``write_prelabels`` wrote."""

    path: Path
    method: str
    rows: int  #: rows of this method (one per cue group)
    labelled: int  #: of them, rows with a label
    total_rows: int  #: rows in the file, every method
    note: str  #: which clustering, or the lexicon

    def lines(self) -> list[str]:
        """A human-readable summary."""
        return [
            f"{self.path}: {self.rows} {self.method} pre-labels ({self.labelled} with a class); "
            f"{self.total_rows} rows in all",
            f"  {self.note}",
        ]


def read_prelabels(dataset: str | Path) -> pa.Table:
    """Every pre-label of ``dataset`` (an empty table when there are none)."""
    path = prelabels_path(require_dataset(dataset).root)
    if not path.exists():
        return PRELABEL_SCHEMA.empty_table()
    try:
        return pq.read_table(path, schema=PRELABEL_SCHEMA)
    except (OSError, pa.ArrowInvalid) as error:
        raise DatasetError(f"cannot read the pre-labels: {error}", path) from None


def vader_scores(texts: list[str]) -> list[float]:
    """VADER compound scores (-1 to 1) of ``texts``; ``MissingDependencyError`` without
    ``vaderSentiment``."""
    try:
        vader = importlib.import_module("vaderSentiment.vaderSentiment")
    except ImportError:
        raise MissingDependencyError(
            "the vader pre-labels need vaderSentiment; install it with: pip install vaderSentiment"
        ) from None
    analyzer = vader.SentimentIntensityAnalyzer()
    return [float(analyzer.polarity_scores(text)["compound"]) for text in texts]


def _vader(root: Path) -> tuple[list[str], list[str | None], list[float | None], str]:
    cues = load_cue_table(root, ["text", "nonverbal"])
    ids = [str(c) for c in cues.column("cue_id").to_pylist()]
    scores: list[float | None] = list(vader_scores(cue_texts(cues)))
    note = "VADER compound sentiment of text and tags, -1 to 1 (label null: not an emotion)"
    return ids, [None] * len(ids), scores, note


def _clusters(
    root: Path, k: int | None
) -> tuple[list[str], list[str | None], list[float | None], str]:
    suggestion = read_suggestion(root)
    cues = load_cue_table(root)
    current = [str(c) for c in cues.column("cue_id").to_pylist()]
    if cue_set_digest(current) != suggestion.cue_set:
        raise DatasetError(
            "the class suggestion was made for other cue groups than the dataset has now: "
            "run empathynet classes suggest again",
            suggestion.json_path,
        )
    applied = read_applied(root)
    ks = [r.k for r in suggestion.results]
    chosen = k if k is not None else suggestion.best_k
    if k is None and applied and int(applied["k"]) in ks:
        chosen = int(applied["k"])
    result = suggestion.result(int(chosen))
    names: dict[int, str] = {}
    note = f"cluster ids of k={result.k} (score); no classes applied to this clustering"
    if (
        applied
        and int(applied["k"]) == result.k
        and applied["assignment"] == assignment_digest(result.assignment)
    ):
        names = {int(c): str(n) for c, n in applied["names"].items()}
        note = f"cluster ids of k={result.k} (score), labelled with the applied classes"
    labels = [names.get(c) for c in result.assignment]
    scores: list[float | None] = [float(c) for c in result.assignment]
    return list(suggestion.cue_ids), labels, scores, note


@writes_dataset
def write_prelabels(dataset: str | Path, method: str, *, k: int | None = None) -> PrelabelResult:
    """Compute ``method``'s pre-labels (``vader`` or ``clusters``) for every accepted cue
    group and replace that method's rows of ``labels/prelabels.parquet``.

    ``k``: for ``clusters``, which clustering of the last suggestion (default: the one
    classes were applied to, else the best silhouette). Never touches the votes.
    """
    if method not in PRELABEL_METHODS:
        raise ConfigError(f"unknown pre-label method {method!r}; known: {list(PRELABEL_METHODS)}")
    if k is not None and method != "clusters":
        raise ConfigError("--k applies to the clusters method only")
    root = require_dataset(dataset).root
    if method == "vader":
        ids, labels, scores, note = _vader(root)
    else:
        ids, labels, scores, note = _clusters(root, k)
    new = pa.table(
        {
            "cue_id": pa.array(ids, pa.string()),
            "method": pa.array([method] * len(ids), pa.string()),
            "label": pa.array(labels, pa.string()),
            "score": pa.array(scores, pa.float64()),
        },
        schema=PRELABEL_SCHEMA,
    )
    existing = read_prelabels(root)
    kept = existing.filter(pc.not_equal(existing.column("method"), method))
    table = pa.concat_tables([kept, new])
    table = table.take(
        pc.sort_indices(table, sort_keys=[("cue_id", "ascending"), ("method", "ascending")])
    )
    path = prelabels_path(root)
    atomic_write_table(path, table)
    return PrelabelResult(
        path=path,
        method=method,
        rows=new.num_rows,
        labelled=sum(label is not None for label in labels),
        total_rows=table.num_rows,
        note=note,
    )
