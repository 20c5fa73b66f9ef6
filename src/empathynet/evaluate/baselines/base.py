"""What every baseline is: a model fitted on a task's train split that predicts items.

A baseline is a class registered in ``BASELINES`` under its ``--model`` name. It says
which task families it handles (``families``) and, through ``check``, whether it can
run on a given task (e.g. ``prosody`` needs an audio view). ``fit`` sees the train
items, ``predict`` returns one prediction row per item in the shared prediction format
(see ``empathynet.evaluate.baselines``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from empathynet.errors import ConfigError, DatasetError
from empathynet.evaluate.baselines.features import SHOWN_MS
from empathynet.registry import Registry
from empathynet.tasks.spec import SpecFields, TaskSpec, read_items, read_spec

#: One prediction row (``item_id`` plus one prediction field), as written to JSONL.
Row = dict[str, Any]


@dataclass(frozen=True)
class TaskData(SpecFields):
    """One split of a task: its spec and its items (an Arrow table)."""

    root: Path  #: dataset root
    name: str  #: task name (its folder under ``tasks/``)
    spec: TaskSpec
    split: str
    items: pa.Table

    def __len__(self) -> int:
        return int(self.items.num_rows)

    def column(self, name: str) -> list[Any]:
        """An item column as Python values; ``DatasetError`` when the items lack it."""
        if name not in self.items.column_names:
            raise DatasetError(
                f"the {self.split} items of task {self.name} have no column {name!r}",
                self.root / "tasks" / self.name,
            )
        values: list[Any] = self.items.column(name).to_pylist()
        return values

    def item_ids(self) -> list[str]:
        return [str(v) for v in self.column("item_id")]

    def shown_ms(self) -> list[int | None]:
        """Per item, how much of its audio and video it shows (ms from their start; MCQ
        items cut for length, ``tasks/mcq.py``), or None for all of it."""
        if "shown_ms" not in self.items.column_names:
            return [None] * len(self)
        return [None if v is None else int(v) for v in self.column("shown_ms")]

    def query_cues(self) -> list[dict[str, Any]]:
        """Per item, its query as ``{view: value}``, plus ``SHOWN_MS`` when the item shows
        only the start of its audio and video (features must read no further)."""
        columns = {v: self.column(f"query_{v}") for v in self.query_views}
        shown = self.shown_ms()
        cues = []
        for i in range(len(self)):
            cue = {v: columns[v][i] for v in columns}
            if shown[i] is not None:
                cue[SHOWN_MS] = shown[i]
            cues.append(cue)
        return cues

    def option_cues(self) -> tuple[list[list[str]], dict[str, dict[str, Any]]]:
        """MCQ options: per item the keys of its options, and per key ``{view: value}``
        (plus ``SHOWN_MS`` as in ``query_cues``). A key is the option's cue id, followed
        by ``@`` and the item's ``shown_ms`` when the item is cut: the same cue shown for
        different lengths is a different option."""
        ids = self.column("option_cue_ids")
        columns = {v: self.column(f"option_{v}") for v in self.answer_views}
        shown = self.shown_ms()
        keys: list[list[str]] = []
        cues: dict[str, dict[str, Any]] = {}
        for i, row in enumerate(ids):
            limit = shown[i]
            keys.append([])
            for slot, cue_id in enumerate(row):
                key = cue_id if limit is None else f"{cue_id}@{limit}"
                keys[-1].append(key)
                if key not in cues:
                    cues[key] = {v: columns[v][i][slot] for v in columns}
                    if limit is not None:
                        cues[key][SHOWN_MS] = limit
        return keys, cues

    def answer_index(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.asarray(self.column("answer_index"), dtype=np.int64)


def load_task_split(dataset: str | Path, name: str, split: str) -> TaskData:
    """The spec and the items of one split of task ``name``."""
    spec = read_spec(dataset, name)
    return TaskData(Path(dataset), name, spec, split, read_items(dataset, name, split))


class Baseline(ABC):
    """A model trained on a task's train split; see the module docstring."""

    #: the name it is registered under (``--model``)
    name: ClassVar[str] = ""
    #: task families it handles
    families: ClassVar[tuple[str, ...]] = ()
    #: one line for ``--help`` and the leaderboard
    summary: ClassVar[str] = ""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        #: views the model read, filled by ``fit`` (for the report)
        self.views_used: tuple[str, ...] = ()

    @classmethod
    def check(cls, spec: TaskSpec) -> None:
        """Raise ``ConfigError`` when the model cannot run on the task of ``spec``."""
        if spec.family not in cls.families:
            raise ConfigError(
                f"baseline {cls.name} handles {'/'.join(cls.families)} tasks; "
                f"task {spec.name} is {spec.family}"
            )

    @classmethod
    def applies(cls, spec: TaskSpec) -> bool:
        """Whether ``check`` passes."""
        try:
            cls.check(spec)
        except ConfigError:
            return False
        return True

    @abstractmethod
    def fit(self, train: TaskData) -> None:
        """Learn from the train items."""

    @abstractmethod
    def predict(self, data: TaskData) -> list[Row]:
        """One prediction row per item of ``data``, in item order."""


BASELINES: Registry[type[Baseline]] = Registry("baseline", "empathynet.baselines")


def require_items(data: TaskData, at_least: int = 1) -> None:
    """``DatasetError`` when ``data`` has fewer than ``at_least`` items (nothing to learn)."""
    if len(data) < at_least:
        raise DatasetError(
            f"task {data.name} has {len(data)} {data.split} items; a baseline needs at "
            f"least {at_least} to learn from",
            data.root / "tasks" / data.name,
        )


def views_of(names: Sequence[str], handled: Sequence[str]) -> tuple[str, ...]:
    """The views among ``names`` that are in ``handled``, in ``names`` order."""
    return tuple(n for n in names if n in handled)
