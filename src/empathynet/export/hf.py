"""A Hugging Face ``datasets`` folder of a dataset: Parquet files with their media
embedded, one config per task, and the dataset card as ``README.md``.

    export_hf("my-dataset", "hf/")
    datasets.load_dataset("hf/", name="cue_groups")       # offline, no network
    datasets.load_dataset("hf/", name="mcq-stills-to-audio")["test"]

The folder holds

* ``data/cue_groups/train.parquet``: every accepted cue group (cue id order) with its
  metadata (cue_id, source_id, start_ms, end_ms: where it comes from; text, speaker,
  nonverbal, label, gender, age_band; votes, agreement, confidence when labelled), its
  stills and face crops (``Sequence(Image)``) and blurred voice (``Audio(decode=False)``);
  the default config;
* ``data/<task>/{train,validation,test}.parquet`` per task: the rows of
  ``TaskSplit.to_hf()`` (item_id, cue_id, query and option views, label / answer /
  target), with images and audio embedded as bytes and video views (``video``,
  ``face_video``) as the MP4 file's bytes (``Value("binary")``). A split without items
  is left out (``load_dataset`` fails on an empty split), and so is a config without
  rows;
* ``README.md``: the YAML header Hugging Face reads (``configs``: each config's
  ``data_files`` per split) and the dataset card (``export.card.dataset_card``).

Media are embedded, so the folder is self-contained: it loads after being moved or
uploaded. The feature types travel in each Parquet file's schema metadata, so
``load_dataset`` reads ``Image`` and ``Audio(decode=False)`` columns back without an
audio decoder. Files are written atomically; files of an earlier export that this one no
longer writes (a task removed) are deleted; a user's files are never replaced.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from empathynet.errors import ConfigError, DatasetError, MissingDependencyError
from empathynet.export.common import (
    CueMetadata,
    accepted_cues,
    as_dataset,
    media_bytes,
)
from empathynet.export.summary import ExportSummary
from empathynet.store.atomic import atomic_write_bytes, atomic_write_with
from empathynet.store.dataset import Cue, Dataset
from empathynet.store.outputs import exporting
from empathynet.store.removals import stale_task_problem, stale_tasks
from empathynet.tasks.access import CLIP_VIEWS, TaskSplit
from empathynet.tasks.splits import SPLITS

FORMAT = "hf"
#: The config of every accepted cue group (a task may not take this name).
CUE_CONFIG = "cue_groups"
#: Rows per Parquet row group (and per batch held in memory with its media).
BATCH_ROWS = 256


def _datasets() -> Any:
    try:
        return importlib.import_module("datasets")
    except ImportError as error:
        raise MissingDependencyError(
            f"the Hugging Face export needs the datasets package ({error}); install it "
            "with: pip install 'empathynet[hf]'"
        ) from None


def data_file(config: str, split: str) -> str:
    """A config's Parquet file for ``split``, relative to the export folder."""
    return f"data/{config}/{split}.parquet"


def cue_features(datasets: Any) -> Any:
    """The ``datasets.Features`` of the ``cue_groups`` config."""
    string = datasets.Value("string")
    return datasets.Features(
        {
            "cue_id": string,
            "source_id": string,
            "start_ms": datasets.Value("int64"),
            "end_ms": datasets.Value("int64"),
            "text": string,
            "speaker": string,
            "nonverbal": datasets.Sequence(string),
            "label": string,
            "gender": string,
            "age_band": string,
            "votes": datasets.Value("int32"),
            "agreement": datasets.Value("float64"),
            "confidence": datasets.Value("float64"),
            "stills": datasets.Sequence(datasets.Image()),
            "face_crops": datasets.Sequence(datasets.Image()),
            "audio_blur": datasets.Audio(decode=False),
        }
    )


def _cue_rows(
    dataset: Dataset, cues: Sequence[Cue], metadata: CueMetadata
) -> Iterator[dict[str, list[Any]]]:
    """The ``cue_groups`` rows, ``BATCH_ROWS`` at a time, as columns with media bytes."""

    def media(cue: Cue, relative: str) -> dict[str, Any]:
        return {"bytes": media_bytes(dataset, cue, relative), "path": PurePosixPath(relative).name}

    names = [*cue_features(_datasets())]
    described = names[: names.index("stills")]  # the metadata columns
    for start in range(0, len(cues), BATCH_ROWS):
        columns: dict[str, list[Any]] = {name: [] for name in names}
        for cue in cues[start : start + BATCH_ROWS]:
            values = metadata(cue)
            for name in described:
                columns[name].append(values.get(name))
            columns["stills"].append([media(cue, p) for p in cue.media.still_paths])
            columns["face_crops"].append([media(cue, p) for p in cue.media.face_crop_paths])
            blur = cue.media.audio_blur_path
            columns["audio_blur"].append(media(cue, blur) if blur else None)
        yield columns


def _write_parquet(path: Path, schema: pa.Schema, batches: Iterator[pa.Table]) -> int:
    """Write ``batches`` (one row group each) as one Parquet file atomically; the rows."""
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for table in batches:
                writer.write_table(table)
                rows += table.num_rows

    atomic_write_with(path, write)
    return rows


def _clip_columns(features: Any) -> list[str]:
    """The task columns of a video view (``query_face_video``, ``option_video``...)."""
    return [
        name
        for name in features
        if name.startswith(("query_", "option_")) and name.split("_", 1)[1] in CLIP_VIEWS
    ]


def _file_bytes(path: str | None) -> bytes | None:
    """The bytes of a media file ``to_hf`` names by its resolved path."""
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise DatasetError(
            f"cannot read {error.strerror or error}; run empathynet check", path
        ) from None


def _task_batches(split: TaskSplit, datasets: Any) -> tuple[pa.Schema, Iterator[pa.Table]]:
    """The schema and rows (``BATCH_ROWS`` at a time) of one task split's Parquet file:
    ``to_hf`` rows with the images and audio embedded and the video views as bytes."""
    rows = split.to_hf()
    features = rows.features
    table = pa.Table.from_arrays(rows.data.table.columns, schema=features.arrow_schema)
    clips = _clip_columns(features)
    binary = datasets.Value("binary")
    final = datasets.Features(
        {
            name: (datasets.Sequence(binary) if name.startswith("option_") else binary)
            if name in clips
            else feature
            for name, feature in features.items()
        }
    )
    schema = final.arrow_schema
    embed = importlib.import_module("datasets.table").embed_table_storage

    def batches() -> Iterator[pa.Table]:
        for start in range(0, table.num_rows, BATCH_ROWS):
            try:
                embedded = embed(table.slice(start, BATCH_ROWS))
            except OSError as error:  # an image or audio file of the task is missing
                raise DatasetError(
                    f"task {split.task.name}, {split.name} split: cannot read a media file "
                    f"({error.strerror or error}); run empathynet check",
                    error.filename,
                ) from None
            arrays = []
            for name in schema.names:
                column = embedded.column(name)
                if name in clips:
                    values = column.to_pylist()
                    if name.startswith("option_"):
                        data: list[Any] = [
                            None if v is None else [_file_bytes(p) for p in v] for v in values
                        ]
                    else:
                        data = [_file_bytes(v) for v in values]
                    column = pa.chunked_array([pa.array(data, schema.field(name).type)])
                arrays.append(column)
            yield pa.Table.from_arrays(arrays, schema=schema)

    return schema, batches()


def readme(configs: dict[str, Sequence[str]], card: str, pretty_name: str) -> str:
    """``README.md``: the YAML header (``pretty_name``, ``configs`` with each config's
    ``data_files`` per split; the first config is the default) and the card."""
    header: dict[str, Any] = {
        "pretty_name": pretty_name,
        "configs": [
            {
                "config_name": config,
                **({"default": True} if number == 0 else {}),
                "data_files": [
                    {"split": split, "path": data_file(config, split)} for split in splits
                ],
            }
            for number, (config, splits) in enumerate(configs.items())
        ],
    }
    text = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{text}---\n\n{card.strip()}\n"


def export_hf(
    dataset: str | Path | Dataset,
    out: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    overwrite: bool = False,
) -> ExportSummary:
    """Write ``dataset`` as a Hugging Face ``datasets`` folder ``out`` (see the module
    docstring): the ``cue_groups`` config and one config per task of ``tasks`` (default:
    every task made in the dataset). ``overwrite`` lets it replace files no export wrote.
    Returns what it wrote (``samples``: the rows of every config and split).

    Raises ``ConfigError`` for an unknown task or a folder holding a user's files,
    ``DatasetError`` for a missing media file, ``MissingDependencyError`` without the
    ``datasets`` package (extra ``hf``).
    """
    from empathynet.export.card import dataset_card

    datasets = _datasets()
    opened = as_dataset(dataset)
    names = list(opened.tasks if tasks is None else dict.fromkeys(tasks))
    if unknown := [name for name in names if name not in opened.tasks]:
        raise ConfigError(
            f"no task {', '.join(map(repr, unknown))}; tasks: {opened.tasks or 'none'}",
            opened.root,
        )
    if CUE_CONFIG in names:
        raise ConfigError(f"a task named {CUE_CONFIG!r} clashes with the cue group config")
    if stale := stale_tasks(opened.root, names):  # made before a takedown: re-make them first
        raise DatasetError(stale_task_problem(stale), opened.root)
    cues = accepted_cues(opened)
    # load_dataset fails on a split without rows: empty splits and configs are left out
    splits = {
        name: [split for split in map(opened.task(name).split, SPLITS) if len(split)]
        for name in names
    }
    configs: dict[str, Sequence[str]] = {CUE_CONFIG: ("train",)} if cues else {}
    configs.update({name: [s.name for s in found] for name, found in splits.items() if found})
    files = [data_file(c, s) for c, splits in configs.items() for s in splits]
    folder = Path(out)
    written = [*files, "README.md"]
    with exporting(folder, written, FORMAT, overwrite=overwrite):
        samples = 0
        if cues:
            schema = cue_features(datasets).arrow_schema
            samples += _write_parquet(
                folder / data_file(CUE_CONFIG, "train"),
                schema,
                (
                    pa.Table.from_pydict(columns, schema=schema)
                    for columns in _cue_rows(opened, cues, CueMetadata(opened))
                ),
            )
        for name, found in splits.items():
            for split in found:
                task_schema, batches = _task_batches(split, datasets)
                samples += _write_parquet(
                    folder / data_file(name, split.name), task_schema, batches
                )
        card = dataset_card(opened.root)
        atomic_write_bytes(folder / "README.md", readme(configs, card, opened.name).encode("utf-8"))
    return ExportSummary(format=FORMAT, out=folder, files=tuple(sorted(written)), samples=samples)


__all__ = ["BATCH_ROWS", "CUE_CONFIG", "cue_features", "data_file", "export_hf", "readme"]
