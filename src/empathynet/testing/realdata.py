"""Datasets made from real labelled material, to measure class discovery against labels.

Each writer makes a dataset (``write_synthetic_dataset``'s manifest, dataset.json and
sources) whose accepted cue groups carry real content, and returns the known labels:

* ``write_meld_dataset``: MELD's utterances (TV dialogue) as the cue groups' text; the
  emotion (7 classes, the default taxonomy) in the manifest's ``label`` column; the
  sentiment as a second labelling.
* ``write_face_photo_dataset``: photos with an expression label, one still (and face
  crop) per cue group.
* ``write_face_video_dataset``: acted-emotion face videos (MEAD: ``SPEAKER_front_EMOTION_
  levelN_001.mp4``), five frames decoded with PyAV as stills and face crops; the
  speaker as a second labelling.
* ``write_speech_dataset``: speech WAVs with continuous arousal and valence, blurred with
  the build's default method (``resynth``) into ``audio_blur_path``; labels are
  ``high`` / ``low`` at the median.

``write_dataset_from`` is the general writer the others use (tests plant structure
with it). Labels outside the default taxonomy are written with a ``labels/taxonomy.yaml`` of
their classes, so the cue table reads them as the dataset's labels.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from empathynet.errors import ConfigError
from empathynet.labels.store import LabelsLayout
from empathynet.labels.taxonomy import DEFAULT_CLASSES, Taxonomy, write_taxonomy
from empathynet.media.audio import read_wav, write_wav
from empathynet.media.encode import write_jpeg
from empathynet.store.atomic import atomic_write_bytes, atomic_write_table
from empathynet.store.layout import DatasetLayout
from empathynet.testing.synthetic import write_synthetic_dataset


@dataclass(frozen=True)
class RealDataset:
    """A dataset written from real material, with its known labels per cue id."""

    root: Path
    cue_ids: tuple[str, ...]  #: sorted
    #: labelling name -> one label per cue id (``cue_ids`` order); "label" is in the manifest
    labels: dict[str, tuple[str, ...]]


def _label_name(value: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "_", value.strip().lower()).strip("_")


def write_dataset_from(
    root: Path,
    count: int,
    labels: Sequence[str] | None,
    *,
    stills: int,
    audio_blur: bool,
    fill: Callable[[int, dict[str, Any], DatasetLayout], dict[str, Any]],
) -> tuple[str, ...]:
    """A dataset of ``count`` accepted cue groups (``write_synthetic_dataset``'s manifest)
    whose rows ``fill`` rewrites; returns the cue ids in order.

    ``fill(item, row, layout)`` gets the i-th cue group (cue id order) and returns the
    columns to replace (it may write media files at the row's paths). ``labels`` (one per
    item) go into the manifest, with a taxonomy of their classes when they are not the
    default ones; ``None`` leaves the cue groups unlabelled."""
    if count < 2:
        raise ConfigError(f"need at least 2 items, got {count}")
    dataset = write_synthetic_dataset(
        root,
        cue_groups=count,
        sources=max(1, min(count // 20, 20)),
        speakers_per_source=1,
        stills=max(stills, 1),  # it always writes still paths; cleared below when 0
        audio_blur=audio_blur,
        media=False,
        seed=1,
    )
    cue_ids = tuple(str(c) for c in dataset.truth.column("cue_id").to_pylist())
    item_of = {cue_id: i for i, cue_id in enumerate(cue_ids)}
    classes = tuple(sorted(set(labels or ())))
    if classes and not set(classes) <= set(DEFAULT_CLASSES):
        write_taxonomy(LabelsLayout(root).taxonomy, Taxonomy(classes=classes))
    layout = DatasetLayout(root)
    for part in layout.cue_parts():
        table = pq.read_table(part)
        rows = table.to_pylist()
        for row in rows:
            if row["status"] != "accepted":
                continue
            item = item_of[row["cue_id"]]
            row["nonverbal"] = []  # the synthetic [laughs] tags are not real material
            if stills == 0:
                row["still_paths"], row["face_crop_paths"] = [], []
            row.update(fill(item, row, layout))
            row["label"] = labels[item] if labels is not None else None
        atomic_write_table(part, pa.Table.from_pylist(rows, schema=table.schema))
    return cue_ids


def write_meld_dataset(
    root: str | Path, csv_path: str | Path, limit: int | None = None
) -> RealDataset:
    """A dataset of MELD utterances as text, emotion as label (see the module doc)."""
    with Path(csv_path).open(encoding="utf-8", newline="") as handle:
        items = list(csv.DictReader(handle))[:limit]
    emotions = [_label_name(r["Emotion"]) for r in items]

    def fill(item: int, row: dict[str, Any], layout: DatasetLayout) -> dict[str, Any]:
        return {
            "text": " ".join(items[item]["Utterance"].split()),
            "speaker": items[item]["Speaker"],
        }

    cue_ids = write_dataset_from(
        Path(root), len(items), emotions, stills=0, audio_blur=False, fill=fill
    )
    return RealDataset(
        Path(root),
        cue_ids,
        {
            "label": tuple(emotions),
            "sentiment": tuple(_label_name(r["Sentiment"]) for r in items),
        },
    )


def write_face_photo_dataset(
    root: str | Path, images: str | Path, labels_csv: str | Path
) -> RealDataset:
    """A dataset of labelled face photos (``image,emotion`` CSV), one still per cue group."""
    folder = Path(images)
    with Path(labels_csv).open(encoding="utf-8", newline="") as handle:
        items = [r for r in csv.DictReader(handle) if (folder / r["image"]).is_file()]
    emotions = [_label_name(r["emotion"]) for r in items]

    def fill(item: int, row: dict[str, Any], layout: DatasetLayout) -> dict[str, Any]:
        data = (folder / items[item]["image"]).read_bytes()
        for relative in [*row["still_paths"], *row["face_crop_paths"]]:
            atomic_write_bytes(layout.resolve(relative), data)
        return {"text": ""}

    cue_ids = write_dataset_from(
        Path(root), len(items), emotions, stills=1, audio_blur=False, fill=fill
    )
    return RealDataset(Path(root), cue_ids, {"label": tuple(emotions)})


def _frames(path: Path, count: int) -> list[np.ndarray[Any, Any]]:
    """``count`` frames evenly spread over a video (decoded through, as PyAV does best)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    if not frames:
        raise ConfigError(f"no frames decoded from {path}")
    picks = np.linspace(0, len(frames) - 1, count + 2)[1:-1].round().astype(int)
    return [frames[i] for i in picks]


def write_face_video_dataset(root: str | Path, folder: str | Path, stills: int = 5) -> RealDataset:
    """A dataset of MEAD face videos: ``stills`` frames as stills and face crops."""
    videos = sorted(Path(folder).glob("*_front_*.mp4"))
    names = [v.stem.split("_") for v in videos]
    emotions = [_label_name(parts[2]) for parts in names]
    speakers = [parts[0] for parts in names]

    def fill(item: int, row: dict[str, Any], layout: DatasetLayout) -> dict[str, Any]:
        for frame, still, face in zip(
            _frames(videos[item], stills), row["still_paths"], row["face_crop_paths"], strict=True
        ):
            write_jpeg(layout.resolve(still), frame)
            shutil.copyfile(layout.resolve(still), layout.resolve(face))
        return {"text": "", "speaker": speakers[item]}

    cue_ids = write_dataset_from(
        Path(root), len(videos), emotions, stills=stills, audio_blur=False, fill=fill
    )
    return RealDataset(Path(root), cue_ids, {"label": tuple(emotions), "speaker": tuple(speakers)})


def _median_split(values: Sequence[float]) -> tuple[str, ...]:
    median = float(np.median(values))
    return tuple("high" if v > median else "low" for v in values)


def write_speech_dataset(root: str | Path, folder: str | Path) -> RealDataset:
    """A dataset of speech WAVs with ``arousal.csv`` / ``valence.csv`` (file,value): the
    raw audio and its ``resynth`` blur; label = arousal high/low, also valence."""
    from empathynet.blur.methods import create_blur_method

    folder = Path(folder)

    def table(name: str) -> dict[str, float]:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            return {r[0]: float(r[1]) for r in csv.reader(handle) if len(r) == 2}

    arousal, valence = table("arousal.csv"), table("valence.csv")
    files = sorted(f for f in arousal if f in valence and (folder / f).is_file())
    arousal_labels = _median_split([arousal[f] for f in files])
    valence_labels = _median_split([valence[f] for f in files])
    blur = create_blur_method()

    def fill(item: int, row: dict[str, Any], layout: DatasetLayout) -> dict[str, Any]:
        samples, rate = read_wav(folder / files[item])
        mono = np.asarray(samples.mean(axis=1) if samples.ndim == 2 else samples, np.float64)
        write_wav(layout.resolve(row["audio_path"]), mono, rate)
        write_wav(layout.resolve(row["audio_blur_path"]), blur.blur(mono, rate), rate)
        return {"text": "", "end_ms": row["start_ms"] + len(mono) * 1000 // rate}

    cue_ids = write_dataset_from(
        Path(root), len(files), list(arousal_labels), stills=0, audio_blur=True, fill=fill
    )
    return RealDataset(Path(root), cue_ids, {"label": arousal_labels, "valence": valence_labels})
