"""Task files on disk: ``tasks/<name>/spec.yaml`` and one Parquet file of items per split.

::

    dataset/tasks/<name>/
      spec.yaml            family, views, constraints, seed, versions, dataset fingerprint,
                           counts, and the SHA-256 of each item file
      train.parquet        items of the train split
      validation.parquet
      test.parquet

Files are deterministic: YAML with sorted keys, Parquet with a fixed schema, no
timestamps, fixed compression; the same dataset and seed give byte-identical files.
The spec is written last, so a task folder without ``spec.yaml`` is unfinished.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from empathynet.errors import ConfigError, DatasetError
from empathynet.store.layout import require_dataset
from empathynet.tasks.splits import SPLITS

SPEC_FORMAT = "empathynet-task"
SPEC_FORMAT_VERSION = 1
FAMILIES: tuple[str, ...] = ("classification", "mcq", "generation")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+.-]{0,99}$")


def check_task_name(name: str) -> str:
    """``name`` if it is a usable folder name (letters, digits, ``_ + . -``)."""
    if not _NAME.match(name) or ".." in name:
        raise ConfigError(
            f"task name {name!r}: use 1-100 letters, digits, '_', '+', '.', '-' "
            "(starting with a letter or digit)"
        )
    return name


@dataclass(frozen=True)
class TaskLayout:
    """The files of one task of a dataset."""

    root: Path  #: the dataset root
    name: str

    @property
    def folder(self) -> Path:
        return self.root / "tasks" / self.name

    @property
    def spec(self) -> Path:
        return self.folder / "spec.yaml"

    def items(self, split: str) -> Path:
        return self.folder / f"{split}.parquet"


class SpecFields:
    """What a task's spec says, for classes holding it as ``spec`` (a mapping read from
    ``spec.yaml``): family, views, classes and MCQ options."""

    spec: Mapping[str, Any]

    @property
    def family(self) -> str:
        return str(self.spec["family"])

    @property
    def query_views(self) -> tuple[str, ...]:
        return tuple(self.spec.get("views", {}).get("query", ()))

    @property
    def answer_views(self) -> tuple[str, ...]:
        return tuple(self.spec.get("views", {}).get("answer", ()))

    @property
    def classes(self) -> tuple[str, ...]:
        """The taxonomy's classes, in taxonomy order (classification and MCQ)."""
        return tuple(self.spec.get("labels", {}).get("classes") or ())

    @property
    def options(self) -> int:
        """Options per MCQ item."""
        return int(self.spec.get("constraints", {}).get("options", 4))


def spec_bytes(spec: dict[str, Any]) -> bytes:
    """The spec as YAML (sorted keys, block style, UTF-8)."""
    text = yaml.safe_dump(spec, sort_keys=True, allow_unicode=True, default_flow_style=False)
    return text.encode("utf-8")


def read_spec(dataset: str | Path, name: str) -> dict[str, Any]:
    """The spec of task ``name``; ``DatasetError`` when it is missing or malformed."""
    layout = TaskLayout(require_dataset(dataset).root, check_task_name(name))
    if not layout.spec.exists():
        raise DatasetError(
            f"no task {name!r} (no {layout.spec.relative_to(layout.root)}); "
            "see `empathynet tasks ls`",
            layout.root,
        )
    try:
        spec = yaml.safe_load(layout.spec.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        message = " ".join(str(error).split())
        raise DatasetError(f"cannot read the spec: {message}", layout.spec) from None
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise DatasetError(f"not a task spec (format is not {SPEC_FORMAT})", layout.spec)
    if spec.get("format_version") != SPEC_FORMAT_VERSION:
        raise DatasetError(
            f"spec format version {spec.get('format_version')!r} is not "
            f"{SPEC_FORMAT_VERSION}: remake the task with this version",
            layout.spec,
        )
    if spec.get("family") not in FAMILIES:
        raise DatasetError(f"unknown family {spec.get('family')!r}", layout.spec)
    return spec


def read_items(dataset: str | Path, name: str, split: str) -> pa.Table:
    """The items of one split of task ``name``."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; splits: {list(SPLITS)}")
    layout = TaskLayout(Path(dataset), check_task_name(name))
    path = layout.items(split)
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise DatasetError(f"cannot read the items: {error}", path) from None


@dataclass(frozen=True)
class TaskSummary:
    """One line of ``tasks ls``."""

    name: str
    family: str
    query: tuple[str, ...]
    answer: tuple[str, ...]
    items: dict[str, int]
    dropped: dict[str, int]
    seed: int

    def line(self) -> str:
        views = "+".join(self.query) + (f" -> {'+'.join(self.answer)}" if self.answer else "")
        counts = " ".join(f"{s}={self.items.get(s, 0)}" for s in SPLITS)
        dropped = sum(self.dropped.values())
        return f"{self.name:<28} {self.family:<14} {views:<40} {counts} dropped={dropped}"


def list_tasks(dataset: str | Path) -> list[TaskSummary]:
    """Every finished task of the dataset (folders with a readable spec), by name."""
    root = require_dataset(dataset).root
    folder = root / "tasks"
    out: list[TaskSummary] = []
    if not folder.is_dir():
        return out
    for spec_path in sorted(folder.glob("*/spec.yaml")):
        spec = read_spec(root, spec_path.parent.name)
        views = spec.get("views", {})
        out.append(
            TaskSummary(
                name=spec["name"],
                family=spec["family"],
                query=tuple(views.get("query", ())),
                answer=tuple(views.get("answer", ())),
                items={s: int(v["items"]) for s, v in spec.get("files", {}).items()},
                dropped={k: int(v) for k, v in spec.get("dropped", {}).items()},
                seed=int(spec.get("seed", 0)),
            )
        )
    return out
