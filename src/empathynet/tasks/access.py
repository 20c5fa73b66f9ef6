"""A task from Python: its spec, its splits, each item with its media loaded, and views
for PyTorch and Hugging Face ``datasets``.

    task = empathynet.open_dataset("my-dataset").task("mcq-stills-to-audio")
    test = task.split("test")
    item = test.load(0)            # {"item_id", "query": {view: ...}, "options": ..., ...}
    loader = torch.utils.data.DataLoader(test.to_torch(), batch_size=8,
                                         collate_fn=collate)   # tasks.access.collate

A loaded item (``TaskSplit.load``), per family:

* every family: ``item_id``, ``cue_id`` and ``query``: ``{view: value}``;
* classification: ``label_index`` (int, the class's index in ``task.classes``; -1 when
  the item has no label) and ``label``;
* multiple choice: ``options``: ``{view: [value per option]}`` and ``answer_index``;
  ``shown_ms`` when the item is cut for length (its audio and clips are loaded cut);
* generation: ``target``: the fixed representation scored (uint8 array of
  ``target_dims`` values: UTF-8 bytes, 64 x 64 RGB stills, 8 kHz mu-law).

A view's value: ``text`` a string; ``nonverbal`` a list of strings; ``audio_blur`` /
``audio_raw`` a float32 mono array at the file's rate (``sample_rate`` in the item);
``stills`` / ``face_stills`` a 5 x H x W x 3 uint8 array; ``video`` / ``face_video`` a
frames x H x W x 3 uint8 array.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from empathynet.errors import ConfigError, MissingDependencyError
from empathynet.store.media import load_audio, load_clip, load_images
from empathynet.tasks.families import task_family
from empathynet.tasks.spec import SpecFields, TaskSpec, read_items, read_spec
from empathynet.tasks.splits import SPLITS

AUDIO_VIEWS = ("audio_blur", "audio_raw")
IMAGE_VIEWS = ("stills", "face_stills")
CLIP_VIEWS = ("video", "face_video")


def load_label(split: TaskSplit, row: Mapping[str, Any], item: dict[str, Any], truth: bool) -> None:
    """Classification: the item's class (``label_index``, -1 when unlabelled; ``label``)."""
    if truth:
        index_value = row.get("label_index")
        item["label_index"] = -1 if index_value is None else int(index_value)
        item["label"] = row.get("label")


def load_options(
    split: TaskSplit, row: Mapping[str, Any], item: dict[str, Any], truth: bool
) -> None:
    """Multiple choice: every option's views, cut as the item shows them; the answer."""
    shown = row.get("shown_ms")
    options: dict[str, list[Any]] = {}
    for view in split.task.answer_views:
        loaded = []
        for value in row.get(f"option_{view}") or ():
            one, rate = load_view(split.task.root, view, value, shown)
            loaded.append(one)
            if rate is not None:
                item["sample_rate"] = rate
        options[view] = loaded
    item["options"] = options
    if truth:
        item["answer_index"] = int(row["answer_index"])
    if shown is not None:
        item["shown_ms"] = int(shown)


def load_target_item(
    split: TaskSplit, row: Mapping[str, Any], item: dict[str, Any], truth: bool
) -> None:
    """Generation: the target in the representation scored (a uint8 array)."""
    from empathynet.tasks.generation import load_target

    target = split.task.answer_views[0]
    dims = int(row["target_dims"])
    # the audio target holds 8 mu-law codes per ms (tasks/generation.py)
    duration_ms = dims // 8 if target == "audio_blur" else 0
    item["target"] = load_target(split.task.root, target, row[f"target_{target}"], duration_ms)


def load_view(
    root: Path, view: str, value: Any, shown_ms: int | None = None
) -> tuple[Any, int | None]:
    """One view's item value loaded (see the module docstring); the audio's sample rate
    (None for other views)."""
    if value is None:
        return None, None
    if view in AUDIO_VIEWS:
        return load_audio(root, str(value), shown_ms, mono=True)
    if view in IMAGE_VIEWS:
        return np.stack(load_images(root, [str(v) for v in value])), None
    if view in CLIP_VIEWS:
        return load_clip(root, str(value), shown_ms), None
    if view == "nonverbal":
        return list(value), None
    return str(value), None


@dataclass(frozen=True)
class TaskSplit:
    """One split of a task: its items (an Arrow table) and their loading."""

    task: Task
    name: str
    items: pa.Table = field(repr=False)

    def __len__(self) -> int:
        return int(self.items.num_rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for index in range(len(self)):
            yield self.load(index)

    def row(self, index: int) -> dict[str, Any]:
        """Item ``index`` as written (media as paths relative to the dataset)."""
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} of {len(self)} in {self.task.name}/{self.name}")
        values: dict[str, Any] = self.items.slice(index, 1).to_pylist()[0]
        return values

    def load(self, index: int, truth: bool = True) -> dict[str, Any]:
        """Item ``index`` with its media loaded (see the module docstring);
        ``truth=False`` leaves out the answer (``label_index``, ``label``,
        ``answer_index``), as a model under evaluation gets it."""
        row = self.row(index)
        root, family = self.task.root, self.task.family
        shown = row.get("shown_ms")
        item: dict[str, Any] = {"item_id": row["item_id"], "cue_id": row["cue_id"]}
        query: dict[str, Any] = {}
        for view in self.task.query_views:
            query[view], rate = load_view(root, view, row.get(f"query_{view}"), shown)
            if rate is not None:
                item["sample_rate"] = rate
        item["query"] = query
        task_family(family).load_item(self, row, item, truth)
        return item

    def to_torch(self) -> Any:
        """A ``torch.utils.data.Dataset`` of the loaded items; batch them with
        ``collate`` (extra ``embed`` or any torch install)."""
        try:
            import torch.utils.data
        except ImportError as error:
            raise MissingDependencyError(
                f"to_torch needs PyTorch ({error}); install it with: pip install torch==2.13.0"
            ) from None

        split = self

        class _Items(torch.utils.data.Dataset[dict[str, Any]]):
            def __len__(self) -> int:
                return len(split)

            def __getitem__(self, index: int) -> dict[str, Any]:
                return split.load(index)

        return _Items()

    def to_hf(self) -> Any:
        """A Hugging Face ``datasets.Dataset`` of the items: paths resolved to files
        (``Image`` features for stills, ``Audio(decode=False)`` for audio, so no audio
        decoder is needed), labels and answers as columns (extra ``hf``)."""
        try:
            datasets = importlib.import_module("datasets")
        except ImportError as error:
            raise MissingDependencyError(
                f"to_hf needs the datasets package ({error}); install it with: "
                "pip install 'empathynet[hf]'"
            ) from None
        columns, features = _hf_columns(self, datasets)
        # Built as Arrow directly: ``from_dict`` would encode every Audio value, which
        # needs an audio encoder library even for a file path.
        table = pa.Table.from_pydict(columns, schema=features.arrow_schema)
        return datasets.Dataset(table, info=datasets.DatasetInfo(features=features))


def _hf_columns(split: TaskSplit, datasets: Any) -> tuple[dict[str, list[Any]], Any]:
    from empathynet.store.layout import safe_join

    root = split.task.root
    rows = split.items.to_pylist()

    def path(value: str | None) -> str | None:
        return None if value is None else str(safe_join(root, value))

    def image(value: str | None) -> dict[str, Any] | None:
        return None if value is None else {"bytes": None, "path": path(value)}

    columns: dict[str, list[Any]] = {
        "item_id": [r["item_id"] for r in rows],
        "cue_id": [r["cue_id"] for r in rows],
    }
    features: dict[str, Any] = {
        "item_id": datasets.Value("string"),
        "cue_id": datasets.Value("string"),
    }
    sides = [("query", v) for v in split.task.query_views]
    if "option_cue_ids" in split.items.column_names:  # multiple choice: options per item
        sides += [("option", v) for v in split.task.answer_views]
    for side, view in sides:
        name = f"{side}_{view}"
        values = [r.get(name) for r in rows]
        many = side == "option"
        if view in IMAGE_VIEWS:
            # a still list per cue: MCQ options hold one list per option
            if many:
                columns[name] = [[[image(p) for p in o] for o in v] for v in values]
                feature: Any = datasets.Sequence(datasets.Sequence(datasets.Image()))
            else:
                columns[name] = [[image(p) for p in v] for v in values]
                feature = datasets.Sequence(datasets.Image())
        elif view in AUDIO_VIEWS:
            audio = datasets.Audio(decode=False)  # no audio decoder needed to read it
            if many:
                columns[name] = [[_audio_value(path(o)) for o in v] for v in values]
            else:
                columns[name] = [_audio_value(path(v)) for v in values]
            feature = datasets.Sequence(audio) if many else audio
        elif view in CLIP_VIEWS:
            clip = datasets.Value("string")  # the clip's file path
            if many:
                columns[name] = [[path(o) for o in v] for v in values]
            else:
                columns[name] = [path(v) for v in values]
            feature = datasets.Sequence(clip) if many else clip
        elif view == "nonverbal":
            columns[name] = [list(v or ()) if not many else [list(o) for o in v] for v in values]
            inner = datasets.Sequence(datasets.Value("string"))
            feature = datasets.Sequence(inner) if many else inner
        else:
            columns[name] = values
            inner_text = datasets.Value("string")
            feature = datasets.Sequence(inner_text) if many else inner_text
        features[name] = feature
    kind = task_family(split.task.family).prediction_format
    if kind == "classification":
        names = list(split.task.classes)
        columns["label"] = [
            r.get("label_index") if r.get("label_index") is not None else -1 for r in rows
        ]
        features["label"] = datasets.ClassLabel(names=names) if names else datasets.Value("int32")
    elif kind == "mcq":
        columns["option_cue_ids"] = [r["option_cue_ids"] for r in rows]
        features["option_cue_ids"] = datasets.Sequence(datasets.Value("string"))
        columns["answer_index"] = [int(r["answer_index"]) for r in rows]
        features["answer_index"] = datasets.Value("int32")
        if "shown_ms" in split.items.column_names:
            columns["shown_ms"] = [r["shown_ms"] for r in rows]
            features["shown_ms"] = datasets.Value("int64")
    else:
        target = split.task.answer_views[0]
        name = f"target_{target}"
        values = [r[name] for r in rows]
        if target == "text":
            columns[name] = values
            features[name] = datasets.Value("string")
        elif target in IMAGE_VIEWS:
            columns[name] = [[image(p) for p in v] for v in values]
            features[name] = datasets.Sequence(datasets.Image())
        else:
            columns[name] = [_audio_value(path(v)) for v in values]
            features[name] = datasets.Audio(decode=False)
        columns["target_dims"] = [int(r["target_dims"]) for r in rows]
        features["target_dims"] = datasets.Value("int64")
    return columns, datasets.Features(features)


def _audio_value(path: str | None) -> dict[str, Any] | None:
    return None if path is None else {"path": path, "bytes": None}


def _pad(arrays: Sequence[np.ndarray[Any, Any]]) -> tuple[Any, Any]:
    import torch

    longest = max((len(a) for a in arrays), default=0)
    first = arrays[0] if arrays else np.zeros(0, dtype=np.float32)
    out = np.zeros((len(arrays), longest, *first.shape[1:]), dtype=first.dtype)
    for row, array in enumerate(arrays):
        out[row, : len(array)] = array
    lengths = torch.tensor([len(a) for a in arrays], dtype=torch.int64)
    return torch.from_numpy(out), lengths


def _batch_view(view: str, values: Sequence[Any]) -> Any:
    import torch

    if view in AUDIO_VIEWS or view in CLIP_VIEWS:
        padded, lengths = _pad(list(values))
        return {"values": padded, "lengths": lengths}
    if view in IMAGE_VIEWS:
        shapes = {v.shape for v in values}
        if len(shapes) == 1:
            return torch.from_numpy(np.stack(values))
        return [torch.from_numpy(v) for v in values]  # frames of different sizes
    return list(values)


def collate(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Batch loaded items (``TaskSplit.load``) for a ``torch.utils.data.DataLoader``.

    * ``query``: ``{view: batch}``: text and tags as lists; stills as a uint8 tensor
      batch x 5 x H x W x 3 (a list when sizes differ); audio and clips as
      ``{"values": batch x longest x ..., "lengths": batch}`` padded with zeros;
    * ``options`` (MCQ): ``{view: [batch per option slot]}``, each as the query's;
      ``answer_index``: int64 tensor (when the items carry it);
    * ``label_index`` (classification): int64 tensor (-1: no label);
    * ``target`` (generation): ``{"values": batch x longest uint8, "lengths": batch}``;
    * ``item_id``, ``cue_id``: lists; ``sample_rate``: the audio's rate (one for a batch).
    """
    import torch

    if not items:
        raise ConfigError("collate needs at least one item")
    batch: dict[str, Any] = {
        "item_id": [i["item_id"] for i in items],
        "cue_id": [i["cue_id"] for i in items],
        "query": {
            view: _batch_view(view, [i["query"][view] for i in items]) for view in items[0]["query"]
        },
    }
    rates = {i["sample_rate"] for i in items if "sample_rate" in i}
    if len(rates) > 1:
        raise ConfigError(f"items of one batch have different audio rates: {sorted(rates)}")
    if rates:
        batch["sample_rate"] = rates.pop()
    if "options" in items[0]:
        slots = len(next(iter(items[0]["options"].values())))
        batch["options"] = {
            view: [_batch_view(view, [i["options"][view][s] for i in items]) for s in range(slots)]
            for view in items[0]["options"]
        }
    if "answer_index" in items[0]:  # not for a model under evaluation
        batch["answer_index"] = torch.tensor([i["answer_index"] for i in items], dtype=torch.int64)
    if "label_index" in items[0]:
        batch["label_index"] = torch.tensor([i["label_index"] for i in items], dtype=torch.int64)
    if "target" in items[0]:
        padded, lengths = _pad([np.asarray(i["target"]).reshape(-1) for i in items])
        batch["target"] = {"values": padded, "lengths": lengths}
    return batch


@dataclass(frozen=True)
class Task(SpecFields):
    """A task made in a dataset (``tasks/<name>/``): its spec and splits."""

    root: Path
    name: str
    spec: TaskSpec = field(repr=False)

    @classmethod
    def open(cls, root: str | Path, name: str) -> Task:
        return cls(Path(root), name, read_spec(root, name))

    @property
    def splits(self) -> tuple[str, ...]:
        return SPLITS

    def split(self, name: str = "test") -> TaskSplit:
        """The items of split ``name`` (train, validation or test)."""
        return TaskSplit(self, name, read_items(self.root, self.name, name))


__all__ = ["Task", "TaskSplit", "collate", "load_view"]
