"""Aggregating votes: one label per cue group, with its agreement and confidence.

Rules (declared in ``labels/aggregate.parquet``'s metadata and in every task spec):

* one vote per annotator and cue group: the one from the latest round (see ``votes``);
* **method** ``majority`` (default): the label is the class with the most votes;
  **method** ``dawid-skene``: the class of highest posterior under the Dawid–Skene
  model (Dawid & Skene 1979): every annotator has a confusion matrix (the chance
  they answer k when the truth is c) and the classes a prior; both are estimated by
  EM from every vote, starting from the vote shares, so an annotator who often
  disagrees with the others counts less, and a spammer (answers unrelated to the
  truth) gets a near-uniform matrix and almost no weight. No random step: the same
  votes always give the same result;
* **agreement** is the share of the cue's votes that went to its label (1.0 =
  unanimous; under a tie with no label, the share of the most voted class);
* **confidence**: majority: the agreement; Dawid–Skene: the posterior probability of
  the label (of the most probable class when the cue group has no label);
* **tie rule** when two or more classes share the most votes (majority) or the
  highest posterior (Dawid–Skene, equal within 1e-9): ``unlabelled`` (default) leaves
  the cue group without a label (``tie`` is true), so tasks leave it out;
  ``taxonomy-order`` takes the tied class listed first in the taxonomy;
* gender and age band: the most frequent value among the votes that give one; a tie
  or no value leaves it unknown (null).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.errors import ConfigError, DatasetError
from empathynet.labels.taxonomy import Taxonomy
from empathynet.store.atomic import atomic_write_with

TIE_RULES: tuple[str, ...] = ("unlabelled", "taxonomy-order")
DEFAULT_TIE_RULE = "unlabelled"
TIE_RULE_KEY = b"empathynet.tie_rule"
METHODS: tuple[str, ...] = ("majority", "dawid-skene")
DEFAULT_METHOD = "majority"
METHOD_KEY = b"empathynet.aggregate_method"
#: Dawid–Skene's fitted model (annotators' confusion matrices, class priors), as JSON.
MODEL_KEY = b"empathynet.dawid_skene"
#: Dawid–Skene stops when no posterior moves more than this between two EM rounds ...
DS_TOLERANCE = 1e-6
#: ... or after this many rounds (``DawidSkene.converged`` tells which).
DS_MAX_ITERATIONS = 500
#: Added to every confusion-matrix count, so no answer has probability 0 (Laplace-like).
DS_SMOOTHING = 0.01
_POSTERIOR_TIE = 1e-9

AGGREGATE_SCHEMA = pa.schema(
    [
        ("cue_id", pa.string(), False),
        ("label", pa.string()),  #: null when the votes tie under the "unlabelled" rule
        ("votes", pa.int32(), False),  #: annotators counted (latest vote of each)
        ("label_votes", pa.int32(), False),  #: votes for the label (no label: the top class)
        ("agreement", pa.float64(), False),  #: label_votes / votes
        ("confidence", pa.float64(), False),  #: majority: agreement; Dawid–Skene: posterior
        ("tie", pa.bool_(), False),  #: two or more classes share the most votes
        ("label_counts", pa.map_(pa.string(), pa.int32())),  #: votes per class (non-zero)
        ("gender", pa.string()),
        ("age_band", pa.string()),
    ]
)


def check_tie_rule(tie_rule: str) -> str:
    """``tie_rule`` if known, else ``ConfigError``."""
    if tie_rule not in TIE_RULES:
        raise ConfigError(f"unknown tie rule {tie_rule!r}; known: {list(TIE_RULES)}")
    return tie_rule


def check_method(method: str) -> str:
    """``method`` if it is a known aggregation method, else ``ConfigError``."""
    if method not in METHODS:
        raise ConfigError(f"unknown aggregation method {method!r}; known: {list(METHODS)}")
    return method


def _codes(column: pa.ChunkedArray, values: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Index of each value in ``values``; -1 for nulls and values not in it."""
    index = pc.index_in(column, value_set=pa.array(values, pa.string()))
    return np.asarray(pc.fill_null(index, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


@dataclass(frozen=True)
class LatestVotes:
    """The votes that count: each annotator's latest vote on each cue group, as codes.

    ``cue`` / ``annotator`` index ``cue_ids`` / ``annotators`` (both in order of first
    appearance in the votes table); ``label`` indexes the taxonomy's classes; ``rows``
    are the votes' rows in the votes table.
    """

    cue_ids: pa.Array
    annotators: pa.Array
    cue: npt.NDArray[np.int64]
    annotator: npt.NDArray[np.int64]
    label: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]

    @property
    def n_cues(self) -> int:
        return len(self.cue_ids)

    @property
    def n_annotators(self) -> int:
        return len(self.annotators)


def latest_votes(votes: pa.Table, taxonomy: Taxonomy) -> LatestVotes:
    """Each annotator's latest-round vote per cue group (``DatasetError`` for a label
    outside the taxonomy)."""
    cue_dict = pc.dictionary_encode(votes.column("cue_id")).combine_chunks()
    annotator_dict = pc.dictionary_encode(votes.column("annotator")).combine_chunks()
    cue = np.asarray(cue_dict.indices.to_numpy(), dtype=np.int64)
    annotator = np.asarray(annotator_dict.indices.to_numpy(), dtype=np.int64)
    round_index = np.asarray(votes.column("round_index").to_numpy(), dtype=np.int64)
    pair = cue * len(annotator_dict.dictionary) + annotator
    order = np.lexsort((round_index, pair))
    last_of_pair = np.ones(len(order), dtype=bool)
    last_of_pair[:-1] = pair[order][1:] != pair[order][:-1]
    latest = order[last_of_pair]  # the latest round's vote of each (cue, annotator)
    label = _codes(votes.column("label").take(pa.array(latest)), taxonomy.classes)
    if (label < 0).any():
        bad = votes.column("label").take(pa.array(latest[label < 0][:1]))[0].as_py()
        raise DatasetError(f"vote label {bad!r} is not in the taxonomy {list(taxonomy.classes)}")
    return LatestVotes(
        cue_ids=cue_dict.dictionary,
        annotators=annotator_dict.dictionary,
        cue=cue[latest],
        annotator=annotator[latest],
        label=label,
        rows=latest,
    )


def _majority(
    cue: npt.NDArray[np.int64], code: npt.NDArray[np.int64], n_cues: int, n_values: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Per cue: counts matrix, the first most-voted value (-1 if none), tie flag."""
    known = code >= 0
    counts = np.bincount(cue[known] * n_values + code[known], minlength=n_cues * n_values).reshape(
        n_cues, n_values
    )
    top = counts.max(axis=1)
    tie = (counts == top[:, None]).sum(axis=1) > 1
    first = np.where(top > 0, counts.argmax(axis=1), -1)
    return counts, first, tie & (top > 0)


@dataclass(frozen=True)
class DawidSkene:
    """A fitted Dawid–Skene model (see the module docstring)."""

    posterior: npt.NDArray[np.float64]  #: cue groups x classes, rows sum to 1
    #: annotators x true class x answered class: P(answer k | truth c), rows sum to 1
    confusion: npt.NDArray[np.float64]
    prior: npt.NDArray[np.float64]  #: classes, sums to 1
    iterations: int
    converged: bool  #: False when it stopped at ``max_iterations``


def dawid_skene(
    cue: npt.NDArray[np.int64],
    annotator: npt.NDArray[np.int64],
    label: npt.NDArray[np.int64],
    n_cues: int,
    n_annotators: int,
    n_classes: int,
    *,
    tolerance: float = DS_TOLERANCE,
    max_iterations: int = DS_MAX_ITERATIONS,
    smoothing: float = DS_SMOOTHING,
) -> DawidSkene:
    """Fit the Dawid–Skene model by EM on votes given as parallel code arrays.

    Starts from the vote shares of each cue group (the soft majority), then alternates
    the M step (priors and every annotator's confusion matrix from the posteriors; each
    count plus ``smoothing``) and the E step (posteriors from priors and matrices, in
    log space) until no posterior changes by more than ``tolerance`` or after
    ``max_iterations`` rounds. Deterministic: no random start.
    """
    if tolerance <= 0 or max_iterations < 1 or smoothing < 0:
        raise ConfigError("Dawid–Skene needs tolerance > 0, max_iterations >= 1 and smoothing >= 0")
    counts = np.bincount(cue * n_classes + label, minlength=n_cues * n_classes).reshape(
        n_cues, n_classes
    )
    totals = counts.sum(axis=1, keepdims=True)
    posterior = counts / np.maximum(totals, 1)
    posterior[totals[:, 0] == 0] = 1.0 / n_classes
    answer_slot = annotator * n_classes + label
    confusion = np.full((n_annotators, n_classes, n_classes), 1.0 / n_classes)
    prior = np.full(n_classes, 1.0 / n_classes)
    iterations = 0
    converged = False
    while iterations < max_iterations:
        iterations += 1
        # M step: priors and P(answer k | truth c) per annotator, from the posteriors.
        prior = posterior.mean(axis=0) + 1e-12
        prior /= prior.sum()
        matrix = np.empty((n_annotators, n_classes, n_classes))
        for truth in range(n_classes):  # one bincount per class: memory O(votes)
            matrix[:, truth, :] = np.bincount(
                answer_slot, weights=posterior[cue, truth], minlength=n_annotators * n_classes
            ).reshape(n_annotators, n_classes)
        matrix += smoothing
        confusion = matrix / np.maximum(matrix.sum(axis=2, keepdims=True), 1e-300)
        # E step: log posterior = log prior + sum over the cue's votes of log P(answer | c).
        log_like = np.log(np.maximum(confusion[annotator, :, label], 1e-300))  # votes x truth
        log_post = np.tile(np.log(prior), (n_cues, 1))
        for truth in range(n_classes):
            log_post[:, truth] += np.bincount(cue, weights=log_like[:, truth], minlength=n_cues)
        log_post -= log_post.max(axis=1, keepdims=True)
        updated = np.exp(log_post)
        updated /= updated.sum(axis=1, keepdims=True)
        change = float(np.abs(updated - posterior).max()) if n_cues else 0.0
        posterior = updated
        if change < tolerance:
            converged = True
            break
    return DawidSkene(posterior, confusion, prior, iterations, converged)


def aggregate_votes(
    votes: pa.Table, taxonomy: Taxonomy, tie_rule: str, method: str = DEFAULT_METHOD
) -> pa.Table:
    """The aggregate table (``AGGREGATE_SCHEMA``) of a votes table, sorted by cue id."""
    return aggregate_with_model(votes, taxonomy, tie_rule, method)[0]


def aggregate_with_model(
    votes: pa.Table, taxonomy: Taxonomy, tie_rule: str, method: str = DEFAULT_METHOD
) -> tuple[pa.Table, DawidSkene | None, LatestVotes | None]:
    """``aggregate_votes`` plus the fitted Dawid–Skene model (None for ``majority``) and
    the votes that counted (None when there are no votes)."""
    check_tie_rule(tie_rule)
    check_method(method)
    if votes.num_rows == 0:
        return AGGREGATE_SCHEMA.empty_table(), None, None
    latest = latest_votes(votes, taxonomy)
    cue = latest.cue
    n_cues = latest.n_cues
    n_classes = len(taxonomy.classes)
    counts, first, tie = _majority(cue, latest.label, n_cues, n_classes)
    total = counts.sum(axis=1)
    model: DawidSkene | None = None
    if method == "dawid-skene":
        model = dawid_skene(
            cue, latest.annotator, latest.label, n_cues, latest.n_annotators, n_classes
        )
        first = model.posterior.argmax(axis=1)
        best = model.posterior.max(axis=1)
        tie = (model.posterior >= best[:, None] - _POSTERIOR_TIE).sum(axis=1) > 1
        confidence = best
    top = counts[np.arange(n_cues), first]
    agreement = top / total
    if model is None:
        confidence = agreement
    classes = np.array(taxonomy.classes, dtype=object)
    unlabelled = tie if tie_rule == "unlabelled" else np.zeros(n_cues, dtype=bool)
    label = pa.array(
        [None if u else c for u, c in zip(unlabelled, classes[first], strict=True)],
        pa.string(),
    )

    attributes: dict[str, pa.Array] = {}
    for column, allowed in (("gender", taxonomy.genders), ("age_band", taxonomy.age_bands)):
        code = _codes(votes.column(column).take(pa.array(latest.rows)), allowed)
        _, best_value, attribute_tie = _majority(cue, code, n_cues, len(allowed))
        names = np.array(allowed, dtype=object)
        attributes[column] = pa.array(
            [
                None if (b < 0 or t) else names[b]
                for b, t in zip(best_value, attribute_tie, strict=True)
            ],
            pa.string(),
        )

    nonzero_cue, nonzero_class = np.nonzero(counts)  # row-major: grouped by cue, class order
    offsets = np.concatenate([[0], np.cumsum(np.bincount(nonzero_cue, minlength=n_cues))])
    label_counts = pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()),
        pa.array(classes[nonzero_class].tolist(), pa.string()),
        pa.array(counts[nonzero_cue, nonzero_class], pa.int32()),
    )
    table = pa.Table.from_arrays(
        [
            latest.cue_ids,
            label,
            pa.array(total, pa.int32()),
            pa.array(top, pa.int32()),
            pa.array(agreement, pa.float64()),
            pa.array(confidence, pa.float64()),
            pa.array(tie, pa.bool_()),
            label_counts,
            attributes["gender"],
            attributes["age_band"],
        ],
        schema=AGGREGATE_SCHEMA,
    )
    return table.take(pc.sort_indices(table, sort_keys=[("cue_id", "ascending")])), model, latest


def model_metadata(model: DawidSkene, latest: LatestVotes, taxonomy: Taxonomy) -> bytes:
    """The fitted Dawid–Skene model as JSON (annotators by name, rounded to 1e-6)."""
    names = latest.annotators.to_pylist()
    order = sorted(range(len(names)), key=lambda i: names[i])
    value = {
        "classes": list(taxonomy.classes),
        "iterations": model.iterations,
        "converged": model.converged,
        "prior": [round(float(p), 6) for p in model.prior],
        "confusion": {
            names[i]: [[round(float(v), 6) for v in row] for row in model.confusion[i]]
            for i in order
        },
    }
    return json.dumps(value, sort_keys=True).encode()


def write_aggregate(
    path: Path,
    table: pa.Table,
    tie_rule: str,
    method: str = DEFAULT_METHOD,
    model: bytes | None = None,
) -> None:
    """Write the aggregate atomically, declaring the tie rule and the method (and the
    Dawid–Skene model, ``model_metadata``) in the file's metadata."""
    metadata = {
        TIE_RULE_KEY: check_tie_rule(tie_rule).encode(),
        METHOD_KEY: check_method(method).encode(),
    }
    if model is not None:
        metadata[MODEL_KEY] = model
    table = table.replace_schema_metadata(metadata)
    atomic_write_with(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def read_aggregate(path: Path) -> tuple[pa.Table, str] | None:
    """``(aggregate table, tie rule)`` of a dataset's labels, or None when there are none.

    An aggregate written before ``confidence`` existed (majority only) reads with
    ``confidence`` = ``agreement``.
    """
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise DatasetError(f"cannot read the label aggregate: {error}", path) from None
    rule = (table.schema.metadata or {}).get(TIE_RULE_KEY, b"").decode() or DEFAULT_TIE_RULE
    if "confidence" not in table.column_names:
        table = table.append_column("confidence", table.column("agreement"))
    table = table.select(AGGREGATE_SCHEMA.names)
    return table.cast(AGGREGATE_SCHEMA), rule


def aggregate_method(path: Path) -> str | None:
    """The method of a dataset's label aggregate (``majority`` for files written before
    the method was recorded), or None when there is no aggregate."""
    if not path.exists():
        return None
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid) as error:
        raise DatasetError(f"cannot read the label aggregate: {error}", path) from None
    return metadata.get(METHOD_KEY, b"").decode() or DEFAULT_METHOD


def aggregate_model(path: Path) -> dict[str, object] | None:
    """The Dawid–Skene model stored with the aggregate (None: majority or no aggregate)."""
    if not path.exists():
        return None
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid) as error:
        raise DatasetError(f"cannot read the label aggregate: {error}", path) from None
    raw = metadata.get(MODEL_KEY)
    if raw is None:
        return None
    value = json.loads(raw)
    return value if isinstance(value, dict) else None
