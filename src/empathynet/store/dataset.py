"""A dataset opened from Python: its sources, its cue groups (read lazily), its labels and
tasks, and each cue group's media as arrays.

    import empathynet
    dataset = empathynet.open_dataset("my-dataset")
    len(dataset)                                   # accepted cue groups
    for cue in dataset.cues(sources=["3f2a..."]):  # lazily, part by part
        samples, rate = cue.load_audio()           # blurred audio, float32
        stills = cue.load_stills()                 # list of H x W x 3 uint8 arrays

``cues`` reads the manifest one file at a time (``store/parts.py``: a damaged part is
skipped with one line on stderr), so memory stays flat however many rows there are.
Media paths are relative to the dataset and resolved inside it (a path that leaves it is
refused with ``PathEscapeError``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.data.models import CUE_STATUSES, CueGroup, Source
from empathynet.data.schemas import table_to_records
from empathynet.errors import ConfigError, DatasetError
from empathynet.store.layout import read_dataset_json, require_dataset
from empathynet.store.media import Image, load_audio, load_clip, load_images
from empathynet.store.parts import Warn, readable_parts

if TYPE_CHECKING:
    from empathynet.tasks.access import Task

#: Rows turned into records at once (``Dataset.cues``).
_ROWS_AT_ONCE = 4096
#: Columns every cue record reads, whatever ``columns`` asks for.
_ALWAYS = ("cue_id", "source_id", "start_ms", "end_ms", "text", "status")


@dataclass(frozen=True)
class Cue(CueGroup):
    """One manifest row (a ``CueGroup``) that can load its media from its dataset."""

    #: the dataset root its media paths are relative to
    dataset_root: Path | None = None

    def _relative(self, relative: str | None, what: str) -> str:
        if not relative:
            raise DatasetError(f"cue {self.cue_id} has no {what}", self._root())
        return relative

    def _root(self) -> Path:
        if self.dataset_root is None:
            raise DatasetError(f"cue {self.cue_id} is not from an opened dataset")
        return self.dataset_root

    def load_audio(self, blurred: bool = True) -> tuple[npt.NDArray[np.float32], int]:
        """The cue group's audio: ``(samples, sample_rate)``, float32 in [-1, 1), shape
        ``(n,)`` for mono. The blurred audio by default; ``blurred=False`` for the raw."""
        relative = self.media.audio_blur_path if blurred else self.media.audio_path
        return load_audio(
            self._root(), self._relative(relative, "blurred audio" if blurred else "raw audio")
        )

    def load_stills(self, face: bool = False) -> list[Image]:
        """The stills (``face=True``: the face crops), each an H x W x 3 uint8 array."""
        paths = self.media.face_crop_paths if face else self.media.still_paths
        if not paths:
            raise DatasetError(
                f"cue {self.cue_id} has no {'face crops' if face else 'stills'}", self._root()
            )
        return load_images(self._root(), paths)

    def load_face_clip(self) -> npt.NDArray[np.uint8]:
        """Every frame of the face clip: a frames x H x W x 3 uint8 array."""
        return load_clip(self._root(), self._relative(self.media.face_clip_path, "face clip"))


class Dataset:
    """An EmpathyNet dataset folder (see the module docstring); ``open_dataset`` opens one."""

    def __init__(self, root: str | Path, warn: Warn | None = None) -> None:
        self.layout = require_dataset(root)
        self.root = self.layout.root
        self._warn = warn
        self._counts: dict[str, int] | None = None

    def __repr__(self) -> str:
        return f"Dataset({str(self.root)!r})"

    @property
    def info(self) -> dict[str, Any]:
        """``dataset.json``: name, format, counts of the last build, config."""
        return read_dataset_json(self.root)

    @property
    def name(self) -> str:
        return str(self.info.get("name") or self.root.name)

    @property
    def title(self) -> str:
        """Its title (``set_dataset_title``), else its name."""
        return str(self.info.get("title") or self.name)

    @property
    def sources(self) -> list[Source]:
        """Every source (video file) of the dataset, as ``Source`` records."""
        path = self.layout.sources_parquet
        if not path.exists():
            return []
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as error:
            raise DatasetError(f"cannot read sources.parquet: {error}", path) from None
        return table_to_records(table, Source)

    def cues(
        self,
        status: str | None = "accepted",
        *,
        columns: Sequence[str] | None = None,
        sources: Collection[str] | None = None,
        where: Callable[[Cue], bool] | None = None,
    ) -> Iterator[Cue]:
        """The cue groups, lazily, in part order (by source, then time).

        ``status``: ``accepted`` (default), ``rejected``, ``failed`` or None for every
        row. ``columns``: read only these manifest columns (plus the ids, times, text and
        status); the other fields keep their defaults. ``sources``: only these source
        ids. ``where``: a predicate on each record.
        """
        if status is not None and status not in CUE_STATUSES:
            raise ConfigError(f"status must be one of {list(CUE_STATUSES)} or None: {status!r}")
        wanted = None if columns is None else list(dict.fromkeys([*_ALWAYS, *columns]))
        known = set(CueGroup.column_names())
        if wanted is not None and (unknown := [c for c in wanted if c not in known]):
            raise ConfigError(f"no cue column {', '.join(unknown)}")
        wanted_sources = None if sources is None else pa.array(sorted(set(sources)), pa.string())
        # a compacted file a row group at a time: memory stays flat
        for _, table in readable_parts(self.layout, wanted, self._warn, batches=True):
            if wanted_sources is not None:  # a part holds one source's, a compacted file many
                table = table.filter(pc.is_in(table.column("source_id"), value_set=wanted_sources))
            if status is not None:
                table = table.filter(pc.equal(table.column("status"), status))
            # a few thousand rows at a time: a compacted file holds ~100,000
            for start in range(0, table.num_rows, _ROWS_AT_ONCE):
                for row in table.slice(start, _ROWS_AT_ONCE).to_pylist():
                    row["dataset_root"] = self.root
                    cue = Cue.from_dict(row)
                    if where is None or where(cue):
                        yield cue

    def count(self, status: str | None = "accepted") -> int:
        """How many cue rows have ``status`` (None: every row); reads one column."""
        if self._counts is None:
            counts: dict[str, int] = dict.fromkeys(CUE_STATUSES, 0)
            for _, table in readable_parts(self.layout, ["status"], self._warn):
                for value, number in zip(
                    *pc.value_counts(table.column("status")).flatten(), strict=True
                ):
                    counts[str(value)] = counts.get(str(value), 0) + int(number.as_py())
            self._counts = counts
        if status is None:
            return sum(self._counts.values())
        return self._counts.get(status, 0)

    def __len__(self) -> int:
        """The number of accepted cue groups."""
        return self.count("accepted")

    def __iter__(self) -> Iterator[Cue]:
        return self.cues()

    @property
    def labels(self) -> pa.Table | None:
        """The label aggregate (one row per labelled cue group: label, votes, agreement,
        gender, age band), or None before any votes were imported."""
        from empathynet.labels.aggregate import read_aggregate
        from empathynet.labels.store import LabelsLayout

        found = read_aggregate(LabelsLayout(self.root).aggregate)
        return None if found is None else found[0]

    @property
    def tasks(self) -> list[str]:
        """The names of the tasks made in this dataset."""
        folder = self.root / "tasks"
        if not folder.is_dir():
            return []
        return sorted(p.parent.name for p in folder.glob("*/spec.yaml"))

    def task(self, name: str) -> Task:
        """Task ``name`` (``tasks/<name>/``): its spec and splits (``tasks/access.py``)."""
        from empathynet.tasks.access import Task

        return Task.open(self.root, name)


def open_dataset(path: str | Path) -> Dataset:
    """Open the dataset folder at ``path``; ``DatasetError`` when it is not one."""
    return Dataset(path)


__all__ = ["Cue", "Dataset", "open_dataset"]
