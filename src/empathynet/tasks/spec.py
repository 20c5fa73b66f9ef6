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
from dataclasses import dataclass, field
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
#: The built-in task families (``tasks.families`` holds every registered one).
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


@dataclass(frozen=True)
class SplitFile:
    """One split's items file as the spec records it."""

    file: str
    items: int
    sha256: str | None


@dataclass(frozen=True)
class TaskSpec:
    """A task's ``spec.yaml``, read and checked (``read_spec``): typed fields for what every
    reader needs, and ``values``, the whole mapping as written (family-specific rules,
    counts and descriptions the scorer does not need).

    ``TaskSpec.from_mapping`` raises ``DatasetError`` naming the spec file when a field is
    missing or of the wrong type, so readers never guess a default.
    """

    name: str
    family: str
    family_version: int | None
    seed: int
    query_views: tuple[str, ...]
    answer_views: tuple[str, ...]
    leaks_words: tuple[str, ...]
    #: the taxonomy's classes, in taxonomy order (classification and MCQ; empty otherwise)
    classes: tuple[str, ...]
    options: int | None  #: options per item (MCQ)
    files: Mapping[str, SplitFile]
    dropped: Mapping[str, int]
    dataset_name: str | None
    dataset_fingerprint: str | None
    target_view: str | None  #: the generated view (generation)
    target_unit: str | None  #: the unit of bits per dimension (generation)
    values: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], path: Path | None = None) -> TaskSpec:
        """The typed spec of a spec mapping (as ``spec.yaml`` holds it)."""

        def fail(message: str) -> DatasetError:
            return DatasetError(f"task spec: {message}", path)

        def mapping(value: Any, key: str) -> Mapping[str, Any]:
            if value is None:
                return {}
            if not isinstance(value, Mapping):
                raise fail(f"{key} is not a mapping")
            return value

        def names(value: Any, key: str) -> tuple[str, ...]:
            if value is None:
                return ()
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise fail(f"{key} is not a list of names")
            return tuple(value)

        from empathynet.tasks.families import family_names  # it imports this module

        family = values.get("family")
        if family not in family_names():
            raise fail(f"unknown family {family!r}")
        name = values.get("name")
        if not isinstance(name, str) or not name:
            raise fail("no name")
        seed = values.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise fail(f"seed {seed!r} is not an integer")
        views = mapping(values.get("views"), "views")
        labels = mapping(values.get("labels"), "labels")
        constraints = mapping(values.get("constraints"), "constraints")
        files = {}
        for split, entry in mapping(values.get("files"), "files").items():
            entry = mapping(entry, f"files.{split}")
            try:
                files[str(split)] = SplitFile(
                    str(entry["file"]), int(entry["items"]), entry.get("sha256")
                )
            except (KeyError, TypeError, ValueError):
                raise fail(f"files.{split} needs file and items") from None
        options = constraints.get("options")
        if family == "mcq" and (not isinstance(options, int) or options < 2):
            raise fail(f"constraints.options {options!r} is not a number of options")
        target = mapping(values.get("target"), "target")
        dataset = mapping(values.get("dataset"), "dataset")
        version = values.get("family_version")
        return cls(
            name=name,
            family=str(family),
            family_version=version if isinstance(version, int) else None,
            seed=seed,
            query_views=names(views.get("query"), "views.query"),
            answer_views=names(views.get("answer"), "views.answer"),
            leaks_words=names(views.get("leaks_words"), "views.leaks_words"),
            classes=names(labels.get("classes"), "labels.classes"),
            options=options if isinstance(options, int) else None,
            files=files,
            dropped={str(k): int(v) for k, v in mapping(values.get("dropped"), "dropped").items()},
            dataset_name=dataset.get("name"),
            dataset_fingerprint=dataset.get("fingerprint"),
            target_view=target.get("view"),
            target_unit=target.get("unit"),
            values=values,
        )

    def items(self, split: str) -> int:
        """Items of ``split`` (0 when the spec lists no file for it)."""
        entry = self.files.get(split)
        return 0 if entry is None else entry.items

    def section(self, key: str) -> Mapping[str, Any]:
        """A mapping section of the spec as written (``constraints``, ``labels``,
        ``splits``...), empty when absent."""
        value = self.values.get(key)
        return value if isinstance(value, Mapping) else {}


class SpecFields:
    """What a task's spec says, for classes holding it as ``spec``: family, views,
    classes and MCQ options."""

    spec: TaskSpec

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def query_views(self) -> tuple[str, ...]:
        return self.spec.query_views

    @property
    def answer_views(self) -> tuple[str, ...]:
        return self.spec.answer_views

    @property
    def classes(self) -> tuple[str, ...]:
        """The taxonomy's classes, in taxonomy order (classification and MCQ)."""
        return self.spec.classes

    @property
    def options(self) -> int:
        """Options per MCQ item."""
        return self.spec.options or 0


def spec_bytes(spec: dict[str, Any]) -> bytes:
    """The spec as YAML (sorted keys, block style, UTF-8)."""
    text = yaml.safe_dump(spec, sort_keys=True, allow_unicode=True, default_flow_style=False)
    return text.encode("utf-8")


def read_spec(dataset: str | Path, name: str) -> TaskSpec:
    """The spec of task ``name``; ``DatasetError`` when it is missing or malformed."""
    layout = TaskLayout(require_dataset(dataset).root, check_task_name(name))
    if not layout.spec.exists():
        raise DatasetError(
            f"no task {name!r} (no {layout.spec.relative_to(layout.root)}); "
            "see `empathynet tasks ls`",
            layout.root,
        )
    try:
        values = yaml.safe_load(layout.spec.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        message = " ".join(str(error).split())
        raise DatasetError(f"cannot read the spec: {message}", layout.spec) from None
    if not isinstance(values, dict) or values.get("format") != SPEC_FORMAT:
        raise DatasetError(f"not a task spec (format is not {SPEC_FORMAT})", layout.spec)
    if values.get("format_version") != SPEC_FORMAT_VERSION:
        raise DatasetError(
            f"spec format version {values.get('format_version')!r} is not "
            f"{SPEC_FORMAT_VERSION}: remake the task with this version",
            layout.spec,
        )
    return TaskSpec.from_mapping(values, layout.spec)


def read_spec_values(dataset: str | Path, name: str) -> dict[str, Any]:
    """The spec of task ``name`` as written (the whole mapping), checked as ``read_spec``
    checks it."""
    return dict(read_spec(dataset, name).values)


def as_spec(spec: TaskSpec | Mapping[str, Any]) -> TaskSpec:
    """``spec`` as a ``TaskSpec`` (a mapping is read with ``TaskSpec.from_mapping``)."""
    return spec if isinstance(spec, TaskSpec) else TaskSpec.from_mapping(spec)


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
        out.append(
            TaskSummary(
                name=spec.name,
                family=spec.family,
                query=spec.query_views,
                answer=spec.answer_views,
                items={s: f.items for s, f in spec.files.items()},
                dropped=dict(spec.dropped),
                seed=spec.seed,
            )
        )
    return out
