"""What every task family returns, and the item columns all families share.

Items are ordered by split (train, validation, test), then by ``item_id``. Their
columns are built batch by batch when the files are written, so a task of millions of
items never sits in memory whole. Shared item columns:

* ``item_id``: the cue id of the cue group the item is about (one item per cue group);
* ``split``: train, validation or test;
* ``cue_id``, ``source_id``, ``speaker`` of that cue group (speaker may be null);
* ``query_<view>`` for each query view (see ``views``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from empathynet.tasks.cuetable import CueTable
from empathynet.tasks.splits import SPLITS
from empathynet.tasks.views import take, view_columns

Positions = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FamilyItems:
    """A task's items (as a column builder) and the family's spec entries."""

    #: per item, its split (items are ordered by split, then item id)
    split_code: npt.NDArray[np.int64]
    #: item positions -> the items' columns
    build: Callable[[Positions], dict[str, pa.Array]]
    spec: dict[str, Any]

    @property
    def count(self) -> int:
        return len(self.split_code)

    def table(self, positions: Positions) -> pa.Table:
        """The items at ``positions`` as a table."""
        return pa.table(self.build(np.asarray(positions, dtype=np.int64)))

    def positions(self, split: str) -> Positions:
        """Positions of the items of ``split`` (a contiguous range)."""
        return np.flatnonzero(self.split_code == SPLITS.index(split)).astype(np.int64)


def order_by_split(split_of_row: npt.NDArray[np.integer], rows: Positions) -> Positions:
    """Order of ``rows`` (cue-table rows, ascending) by split, keeping cue id order inside."""
    return np.argsort(np.asarray(split_of_row, dtype=np.int64)[rows], kind="stable")


def split_names(codes: npt.NDArray[np.integer]) -> pa.Array:
    """Split codes -> their names as a string array."""
    names = np.asarray(SPLITS, dtype=object)[np.asarray(codes, dtype=np.int64)]
    return pa.array(names, pa.string())


def shared_columns(
    cues: CueTable,
    split_codes: npt.NDArray[np.integer],
    rows: Positions,
    query: tuple[str, ...],
) -> dict[str, pa.Array]:
    """The shared columns of items about cue-table ``rows`` (see module docstring)."""
    cue_id = take(cues, "cue_id", rows)
    columns: dict[str, pa.Array] = {
        "item_id": cue_id,
        "split": split_names(split_codes),
        "cue_id": cue_id,
        "source_id": take(cues, "source_id", rows),
        "speaker": take(cues, "speaker", rows),
    }
    columns.update(view_columns(cues, query, rows, "query"))
    return columns


def class_counts_by_split(
    cues: CueTable, split_code: npt.NDArray[np.integer], rows: Positions
) -> dict[str, dict[str, int]]:
    """Per split, items per class (classes in taxonomy order, zeros kept)."""
    classes = cues.taxonomy.classes
    width = len(classes)
    codes = cues.class_code[rows]
    split = np.asarray(split_code, dtype=np.int64)[rows]
    counts = np.bincount(split * width + codes, minlength=len(SPLITS) * width)
    return {
        name: {c: int(counts[s * width + i]) for i, c in enumerate(classes)}
        for s, name in enumerate(SPLITS)
    }
