"""WebDataset tar shards of a dataset: one sample per accepted cue group.

    export_webdataset("my-dataset", "shards/", shard_size=1000)

Shards ``empathynet-000000.tar``, ``empathynet-000001.tar``, ... hold ``shard_size``
samples each, in cue id order. A sample's key is its cue id (free of dots: WebDataset
splits a member's name at its first dot) and its members are

* ``still_0.jpg`` ... ``still_4.jpg``: the stills; ``face_0.jpg`` ...: the face crops;
* ``audio_blur.wav``: the blurred voice;
* ``txt``: the subtitle text (UTF-8);
* ``json``: cue_id, source_id, start_ms, end_ms (the source and time range it comes
  from), text, speaker, nonverbal, label, gender, age_band; votes, agreement and
  confidence when labelled by imported votes; the source's title, url, licence and
  attribution;
* when asked: ``face_clip.mp4`` (``face_clip=True``) and ``audio_raw.wav``
  (``raw_audio=True``), which carry the unblurred face and voice.

Read back with ``webdataset.WebDataset(sorted(glob("shards/*.tar")), shardshuffle=False)``.
Shards are written into a hidden staging folder inside ``out`` and moved into place when
complete; files of an earlier export that this one no longer writes (a shard fewer) are deleted,
a user's files are never replaced (``store.outputs``).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from empathynet.errors import ConfigError, DatasetError, MissingDependencyError
from empathynet.export.common import (
    CueMetadata,
    accepted_cues,
    as_dataset,
    media_bytes,
)
from empathynet.export.summary import ExportSummary
from empathynet.store.atomic import sync_file
from empathynet.store.dataset import Cue, Dataset
from empathynet.store.outputs import exporting

#: The shards' names (``%`` the shard number).
SHARD_PATTERN = "empathynet-%06d.tar"
FORMAT = "webdataset"


def _suffix(relative: str, default: str) -> str:
    """A media file's extension, lower case, without the dot (``jpg``, ``wav``)."""
    return PurePosixPath(relative).suffix.lower().lstrip(".") or default


def cue_sample(
    dataset: Dataset,
    cue: Cue,
    metadata: dict[str, Any],
    *,
    face_clip: bool = False,
    raw_audio: bool = False,
) -> dict[str, bytes | str]:
    """One cue group as a WebDataset sample: ``__key__`` and its members as bytes (see
    the module docstring)."""
    sample: dict[str, bytes | str] = {"__key__": cue.cue_id}
    for number, relative in enumerate(cue.media.still_paths):
        sample[f"still_{number}.{_suffix(relative, 'jpg')}"] = media_bytes(dataset, cue, relative)
    for number, relative in enumerate(cue.media.face_crop_paths):
        sample[f"face_{number}.{_suffix(relative, 'jpg')}"] = media_bytes(dataset, cue, relative)
    if cue.media.audio_blur_path:
        name = f"audio_blur.{_suffix(cue.media.audio_blur_path, 'wav')}"
        sample[name] = media_bytes(dataset, cue, cue.media.audio_blur_path)
    if raw_audio:
        if not cue.media.audio_path:
            raise DatasetError(f"cue {cue.cue_id} has no raw audio", dataset.root)
        name = f"audio_raw.{_suffix(cue.media.audio_path, 'wav')}"
        sample[name] = media_bytes(dataset, cue, cue.media.audio_path)
    if face_clip:
        if not cue.media.face_clip_path:
            raise DatasetError(f"cue {cue.cue_id} has no face clip", dataset.root)
        name = f"face_clip.{_suffix(cue.media.face_clip_path, 'mp4')}"
        sample[name] = media_bytes(dataset, cue, cue.media.face_clip_path)
    sample["txt"] = cue.text.encode("utf-8")
    sample["json"] = json.dumps(metadata, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return sample


def export_webdataset(
    dataset: str | Path | Dataset,
    out: str | Path,
    *,
    shard_size: int = 1000,
    face_clip: bool = False,
    raw_audio: bool = False,
    overwrite: bool = False,
) -> ExportSummary:
    """Write ``dataset``'s accepted cue groups as WebDataset shards into the folder
    ``out`` (see the module docstring): ``shard_size`` samples per shard (at least one
    shard, empty when there are no cue groups). ``face_clip`` / ``raw_audio`` add the
    face clip and the raw voice to each sample (every cue group must have them).
    ``overwrite`` lets it replace files no export wrote. Returns what it wrote.

    Raises ``ConfigError`` for a bad ``shard_size`` or a folder holding a user's files,
    ``DatasetError`` for a missing media file, ``MissingDependencyError`` without the
    ``webdataset`` package (extra ``export``).
    """
    if shard_size < 1:
        raise ConfigError(f"shard size must be at least 1, got {shard_size}")
    try:
        webdataset = importlib.import_module("webdataset")
    except ImportError as error:
        raise MissingDependencyError(
            f"the WebDataset export needs the webdataset package ({error}); install it "
            "with: pip install 'empathynet[export]'"
        ) from None
    opened = as_dataset(dataset)
    folder = Path(out)
    cues = accepted_cues(opened)
    shards = max(1, math.ceil(len(cues) / shard_size))
    names = [SHARD_PATTERN % number for number in range(shards)]
    with exporting(folder, names, FORMAT, overwrite=overwrite):
        metadata = CueMetadata(opened)
        staging = Path(tempfile.mkdtemp(prefix=".empathynet-staging-", dir=folder))
        try:
            # mtime fixed: the same dataset gives the same shard bytes
            with webdataset.ShardWriter(
                str(staging / SHARD_PATTERN), maxcount=shard_size, verbose=0, encoder=False, mtime=0
            ) as writer:
                for cue in cues:
                    writer.write(
                        cue_sample(
                            opened, cue, metadata(cue), face_clip=face_clip, raw_audio=raw_audio
                        )
                    )
            written = sorted(p.name for p in staging.iterdir())
            if written != names:  # pragma: no cover - ShardWriter's numbering changed
                raise DatasetError(f"wrote shards {written}, expected {names}", staging)
            for name in names:
                sync_file(staging / name)
                os.replace(staging / name, folder / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return ExportSummary(format=FORMAT, out=folder, files=tuple(names), samples=len(cues))


__all__ = ["SHARD_PATTERN", "cue_sample", "export_webdataset"]
