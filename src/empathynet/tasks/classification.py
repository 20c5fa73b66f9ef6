"""Classification: predict the class of a cue group from some of its cues.

One item per labelled cue group: the query views (a single cue such as ``text``, the
whole group, or any mix) and the class. Item columns, besides the shared ones
(``items``): ``label`` (class name), ``label_index`` (its position in the taxonomy's
class list), ``class_group`` (null when the taxonomy has no groups) and ``agreement``
(share of votes for the label; null for labels that came from the manifest).

Cue groups without a label are not items; the spec counts them (``tied`` under the
"unlabelled" tie rule, ``no_label`` otherwise).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from empathynet.tasks.cuetable import CueTable
from empathynet.tasks.items import (
    FamilyItems,
    Positions,
    class_counts_by_split,
    order_by_split,
    shared_columns,
)
from empathynet.tasks.splits import SplitAssignment, count_by_split
from empathynet.tasks.views import leaking, require_views, take

FAMILY = "classification"
FAMILY_VERSION = 1


def unlabelled_counts(cues: CueTable) -> dict[str, int]:
    """Accepted cue groups without a label: tied votes, or no label at all."""
    unlabelled = cues.class_code < 0
    voted = np.asarray(pc.is_valid(cues.column("votes")).to_numpy(zero_copy_only=False))
    return {
        "tied": int((unlabelled & voted).sum()),
        "no_label": int((unlabelled & ~voted).sum()),
    }


def class_group_names(cues: CueTable) -> npt.NDArray[np.object_]:
    """Per class code (taxonomy order), the name of its class group (``None``: no groups)."""
    taxonomy = cues.taxonomy
    return np.asarray([taxonomy.group_of(c) for c in taxonomy.classes], dtype=object)


def build_classification_items(
    cues: CueTable, splits: SplitAssignment, query: tuple[str, ...]
) -> FamilyItems:
    """Classification items of every labelled cue group (see module docstring)."""
    labelled = np.flatnonzero(cues.class_code >= 0).astype(np.int64)
    require_views(cues, query, labelled)
    rows = labelled[order_by_split(splits.split_code, labelled)]
    split_code = splits.split_code[rows].astype(np.int64)
    group_names = class_group_names(cues)

    def build(positions: Positions) -> dict[str, pa.Array]:
        chosen = rows[positions]
        label_index = cues.class_code[chosen]
        columns = shared_columns(cues, split_code[positions], chosen, query)
        columns["label"] = take(cues, "label", chosen)
        columns["label_index"] = pa.array(label_index, pa.int32())
        columns["class_group"] = pa.array(group_names[label_index], pa.string())
        columns["agreement"] = take(cues, "agreement", chosen)
        return columns

    spec = {
        "views": {"query": list(query), "leaks_words": leaking(query)},
        "items_per_split": count_by_split(split_code),
        "class_counts": class_counts_by_split(cues, splits.split_code, rows),
        "dropped": unlabelled_counts(cues),
    }
    return FamilyItems(split_code, build, spec)
