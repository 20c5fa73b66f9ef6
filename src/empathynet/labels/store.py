"""Where labels live inside a dataset, and reading the manifest columns they need.

::

    dataset/labels/
      taxonomy.yaml       the classes (absent: the default taxonomy)
      votes.parquet       every imported vote, one row each (never rewritten away)
      aggregate.parquet   one row per labelled cue group: majority label, agreement, attributes
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from empathynet.labels.taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy
from empathynet.store.layout import DatasetLayout, require_dataset
from empathynet.store.parts import read_manifest


@dataclass(frozen=True)
class LabelsLayout:
    """The label files of one dataset."""

    root: Path

    @property
    def dataset(self) -> DatasetLayout:
        return DatasetLayout(self.root)

    @property
    def folder(self) -> Path:
        return self.root / "labels"

    @property
    def taxonomy(self) -> Path:
        return self.folder / "taxonomy.yaml"

    @property
    def votes(self) -> Path:
        return self.folder / "votes.parquet"

    @property
    def aggregate(self) -> Path:
        return self.folder / "aggregate.parquet"


def dataset_taxonomy(root: str | Path) -> Taxonomy:
    """The dataset's taxonomy: ``labels/taxonomy.yaml``, else the default one."""
    path = LabelsLayout(Path(root)).taxonomy
    return load_taxonomy(path) if path.exists() else DEFAULT_TAXONOMY


def read_manifest_columns(root: str | Path, columns: Sequence[str]) -> pa.Table:
    """The given columns of every manifest row (all statuses), parts concatenated.

    Reads only those columns, so it stays fast on manifests of millions of rows. A
    damaged part is skipped with one line on stderr (``store/parts.py``).
    """
    return read_manifest(require_dataset(root), columns)


def cue_statuses(root: str | Path) -> dict[str, str]:
    """``cue_id -> status`` of every manifest row."""
    table = read_manifest_columns(root, ["cue_id", "status"])
    ids = table.column("cue_id").to_pylist()
    statuses = table.column("status").to_pylist()
    return dict(zip(ids, statuses, strict=True))
