"""Aggregating votes: one majority label per cue group, with its agreement.

Rules (declared in ``labels/aggregate.parquet``'s metadata and in every task spec):

* one vote per annotator and cue group: the one from the latest round (see ``votes``);
* the label is the class with the most votes; **agreement** is the share of the cue's
  votes that went to it (1.0 = unanimous);
* **tie rule** when two or more classes share the most votes:
  ``unlabelled`` (default) leaves the cue group without a label (``tie`` is true), so
  tasks leave it out; ``taxonomy-order`` takes the tied class listed first in the
  taxonomy;
* gender and age band: the most frequent value among the votes that give one; a tie
  or no value leaves it unknown (null).
"""

from __future__ import annotations

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

AGGREGATE_SCHEMA = pa.schema(
    [
        ("cue_id", pa.string(), False),
        ("label", pa.string()),  #: null when the votes tie under the "unlabelled" rule
        ("votes", pa.int32(), False),  #: annotators counted (latest vote of each)
        ("label_votes", pa.int32(), False),  #: votes for the most voted class
        ("agreement", pa.float64(), False),  #: label_votes / votes
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


def _codes(column: pa.ChunkedArray, values: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Index of each value in ``values``; -1 for nulls and values not in it."""
    index = pc.index_in(column, value_set=pa.array(values, pa.string()))
    return np.asarray(pc.fill_null(index, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


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


def aggregate_votes(votes: pa.Table, taxonomy: Taxonomy, tie_rule: str) -> pa.Table:
    """The aggregate table (``AGGREGATE_SCHEMA``) of a votes table, sorted by cue id."""
    check_tie_rule(tie_rule)
    if votes.num_rows == 0:
        return AGGREGATE_SCHEMA.empty_table()
    cue_dict = pc.dictionary_encode(votes.column("cue_id")).combine_chunks()
    annotator_dict = pc.dictionary_encode(votes.column("annotator")).combine_chunks()
    cue = np.asarray(cue_dict.indices.to_numpy(), dtype=np.int64)
    annotator = np.asarray(annotator_dict.indices.to_numpy(), dtype=np.int64)
    round_index = np.asarray(votes.column("round_index").to_numpy(), dtype=np.int64)
    n_cues = len(cue_dict.dictionary)
    pair = cue * len(annotator_dict.dictionary) + annotator
    order = np.lexsort((round_index, pair))
    last_of_pair = np.ones(len(order), dtype=bool)
    last_of_pair[:-1] = pair[order][1:] != pair[order][:-1]
    latest = order[last_of_pair]  # the latest round's vote of each (cue, annotator)
    cue = cue[latest]

    label_code = _codes(votes.column("label").take(pa.array(latest)), taxonomy.classes)
    if (label_code < 0).any():
        bad = votes.column("label").take(pa.array(latest[label_code < 0][:1]))[0].as_py()
        raise DatasetError(f"vote label {bad!r} is not in the taxonomy {list(taxonomy.classes)}")
    n_classes = len(taxonomy.classes)
    counts, first, tie = _majority(cue, label_code, n_cues, n_classes)
    total = counts.sum(axis=1)
    top = counts.max(axis=1)
    classes = np.array(taxonomy.classes, dtype=object)
    unlabelled = tie if tie_rule == "unlabelled" else np.zeros(n_cues, dtype=bool)
    label = pa.array(
        [None if u else c for u, c in zip(unlabelled, classes[first], strict=True)],
        pa.string(),
    )

    attributes: dict[str, pa.Array] = {}
    for column, allowed in (("gender", taxonomy.genders), ("age_band", taxonomy.age_bands)):
        code = _codes(votes.column(column).take(pa.array(latest)), allowed)
        _, best, attribute_tie = _majority(cue, code, n_cues, len(allowed))
        names = np.array(allowed, dtype=object)
        attributes[column] = pa.array(
            [None if (b < 0 or t) else names[b] for b, t in zip(best, attribute_tie, strict=True)],
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
            cue_dict.dictionary,
            label,
            pa.array(total, pa.int32()),
            pa.array(top, pa.int32()),
            pa.array(top / total, pa.float64()),
            pa.array(tie, pa.bool_()),
            label_counts,
            attributes["gender"],
            attributes["age_band"],
        ],
        schema=AGGREGATE_SCHEMA,
    )
    return table.take(pc.sort_indices(table, sort_keys=[("cue_id", "ascending")]))


def write_aggregate(path: Path, table: pa.Table, tie_rule: str) -> None:
    """Write the aggregate atomically, declaring the tie rule in the file's metadata."""
    table = table.replace_schema_metadata({TIE_RULE_KEY: check_tie_rule(tie_rule).encode()})
    atomic_write_with(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def read_aggregate(path: Path) -> tuple[pa.Table, str] | None:
    """``(aggregate table, tie rule)`` of a dataset's labels, or None when there are none."""
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise DatasetError(f"cannot read the label aggregate: {error}", path) from None
    rule = (table.schema.metadata or {}).get(TIE_RULE_KEY, b"").decode() or DEFAULT_TIE_RULE
    return table.cast(AGGREGATE_SCHEMA), rule
