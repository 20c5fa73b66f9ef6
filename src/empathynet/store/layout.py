"""Where things live inside a dataset directory (DESIGN.md §3).

::

    dataset/
      dataset.json          name, version, build config, stage versions, counts
      sources.parquet       one row per source
      cues/part-*.parquet   one row per utterance (accepted, rejected, failed), a chunk a part
      cues/compact-*.parquet  the rows of many parts merged (``store/compact.py``), listed
                            by cues/compacted.json
      media/<source_id>/<cue_id>/{clip.mp4, face.mp4, still_0..4.jpg, face_0..4.jpg,
                                  audio.wav, audio_blur.wav}
      reports/build.json

Paths stored in the manifest are relative to the root and never leave it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from empathynet import __version__
from empathynet.errors import DatasetError, PathEscapeError


def safe_join(root: Path, relative: str) -> Path:
    """``root / relative``, refusing absolute paths and any that leave ``root``."""
    pure = PurePosixPath(relative)
    first = pure.parts[0] if pure.parts else ""
    if pure.is_absolute() or relative.startswith("\\") or first.endswith(":"):
        raise PathEscapeError(f"path {relative!r} is absolute; dataset paths are relative", root)
    resolved_root = root.resolve()
    target = (resolved_root / pure).resolve()
    if target != resolved_root and resolved_root not in target.parents:
        raise PathEscapeError(f"path {relative!r} leaves the dataset", root)
    return target


@dataclass(frozen=True)
class DatasetLayout:
    """The paths of one dataset directory."""

    root: Path

    @property
    def dataset_json(self) -> Path:
        return self.root / "dataset.json"

    @property
    def sources_parquet(self) -> Path:
        return self.root / "sources.parquet"

    @property
    def cues_dir(self) -> Path:
        return self.root / "cues"

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def build_report(self) -> Path:
        return self.reports_dir / "build.json"

    def cue_parts(self) -> list[Path]:
        """Every manifest file present: the compacted files, then the parts, each in name
        order. After a compaction was stopped some of them hold the same chunks: read
        the manifest through ``store/parts.py``, which reads each row once."""
        compacted = sorted(self.cues_dir.glob("compact-*.parquet"))
        return [*compacted, *sorted(self.cues_dir.glob("part-*.parquet"))]

    def require_cue_parts(self) -> list[Path]:
        """``cue_parts``; ``DatasetError`` when there are none."""
        parts = self.cue_parts()
        if not parts:
            raise DatasetError("the dataset has no manifest parts (cues/*.parquet)", self.root)
        return parts

    def cue_part(self, source_id: str, chunk: int) -> Path:
        """The manifest part holding one chunk of one source's utterances."""
        return self.cues_dir / f"part-{source_id}-{chunk:05d}.parquet"

    @property
    def compacted_index(self) -> Path:
        """``cues/compacted.json``: the compacted files that are committed, in cue id order."""
        return self.cues_dir / "compacted.json"

    def compacted_file(self, number: int) -> Path:
        """A compacted manifest file: the rows of many chunks, sorted by cue id."""
        return self.cues_dir / f"compact-{number:06d}.parquet"

    def cue_media_relative(self, source_id: str, cue_id: str, name: str) -> str:
        """A media file's path relative to the root, as stored in the manifest."""
        return f"media/{source_id}/{cue_id}/{name}"

    def resolve(self, relative: str) -> Path:
        """A manifest path -> an absolute path inside the dataset (never outside)."""
        return safe_join(self.root, relative)


#: ``dataset.json``'s ``format``, and the ``format_version`` values this package reads.
DATASET_FORMAT = "empathynet-dataset"
SUPPORTED_FORMAT_VERSIONS = (1,)


def read_dataset_json(root: str | Path) -> dict[str, Any]:
    """``root/dataset.json``, checked: a JSON object whose ``format`` is
    ``empathynet-dataset`` and whose ``format_version`` this package reads.

    ``DatasetError`` (one line naming the file and what is wrong) otherwise, or when
    there is no ``dataset.json`` at all.
    """
    path = DatasetLayout(Path(root)).dataset_json
    if not path.is_file():
        raise DatasetError("not an EmpathyNet dataset (no dataset.json)", root)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"not valid JSON ({error.msg}, line {error.lineno} column {error.colno}); "
            "restore it or rebuild the dataset",
            path,
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read it ({error})", path) from None
    if not isinstance(value, dict):
        raise DatasetError(
            f"holds a JSON {type(value).__name__}, not the object of an EmpathyNet dataset; "
            "restore it or rebuild the dataset",
            path,
        )
    for key in ("format", "format_version"):
        if key not in value:
            raise DatasetError(
                f"has no {key!r}: not an EmpathyNet dataset's; restore it or rebuild the dataset",
                path,
            )
    if value["format"] != DATASET_FORMAT:
        raise DatasetError(
            f"format is {value['format']!r}, not {DATASET_FORMAT!r}: not an EmpathyNet dataset",
            path,
        )
    version = value["format_version"]
    if isinstance(version, bool) or version not in SUPPORTED_FORMAT_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_FORMAT_VERSIONS)
        raise DatasetError(
            f"format_version {version!r} is not one this empathynet ({__version__}) reads "
            f"({supported}); a newer dataset needs a newer empathynet",
            path,
        )
    return value


def is_dataset(root: str | Path) -> bool:
    """Whether ``root`` holds a valid ``dataset.json`` of an EmpathyNet dataset."""
    try:
        read_dataset_json(root)
    except DatasetError:
        return False
    return True


def require_dataset(root: str | Path) -> DatasetLayout:
    """The layout of ``root``; ``DatasetError`` when it is not a dataset directory or its
    ``dataset.json`` is malformed (see ``read_dataset_json``)."""
    layout = DatasetLayout(Path(root))
    read_dataset_json(layout.root)
    return layout
