"""Lengths a view shows: what a length shortcut can match between a query and its options.

A model that understands nothing of a cue can still measure how long it is. Per view:

* ``audio_blur``, ``audio_raw``: the duration (ms) and the count of syllable nuclei
  (``blur.prosody.syllable_nuclei``, de Jong & Wempe 2009): the blur keeps the speaking
  rate on purpose, so the blurred audio still tells how many syllables were said;
* ``video``, ``face_video``: the duration (ms);
* ``text``: syllables (groups of vowel letters per word, at least one per word with a
  letter or digit), characters (not counting white space) and words;
* ``stills``, ``face_stills``, ``nonverbal``: none.

Durations are the cue group's (``end_ms - start_ms``): the build cuts every clip and
audio file of a cue group to it. Nuclei counts are cached per file in
``<dataset>/reports/audits/syllable_nuclei.parquet``, keyed by path, size and
modification time, as counting costs ~15 ms per file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from empathynet.blur.prosody import syllable_nuclei
from empathynet.media.audio import read_wav_mono
from empathynet.store.atomic import atomic_write_with
from empathynet.store.layout import safe_join
from empathynet.tasks.views import text_syllables

FloatMatrix = npt.NDArray[np.float64]

DURATION = "duration"
#: Per view, the lengths it shows (``DURATION`` is the cue group's, shared by views).
VIEW_LENGTHS: dict[str, tuple[str, ...]] = {
    "audio_blur": (DURATION, "audio_blur syllable nuclei"),
    "audio_raw": (DURATION, "audio_raw syllable nuclei"),
    "video": (DURATION,),
    "face_video": (DURATION,),
    "text": ("text syllables", "text characters", "text words"),
}
#: Cache of nuclei counts, relative to the dataset root.
NUCLEI_CACHE = Path("reports") / "audits" / "syllable_nuclei.parquet"


def lengths_of(views: Iterable[str]) -> tuple[str, ...]:
    """The lengths ``views`` show, each once, in view order (see the module docstring)."""
    return tuple(dict.fromkeys(k for v in views for k in VIEW_LENGTHS.get(v, ())))


def text_lengths(text: str | None) -> tuple[int, int, int]:
    """(syllables, characters not counting white space, words) of ``text``."""
    text = text or ""
    return text_syllables(text), len("".join(text.split())), len(text.split())


class NucleiCounts:
    """Syllable nuclei times per audio file of a dataset, cached on disk (see module doc)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / NUCLEI_CACHE
        #: path -> (size, mtime_ns, nucleus times in seconds)
        self.known: dict[str, tuple[int, int, tuple[float, ...]]] = {}
        self.changed = False
        if self.path.exists():
            try:
                rows = pq.read_table(self.path).to_pylist()
            except (OSError, pa.ArrowInvalid):
                rows = []  # a damaged cache is counted again
            for row in rows:
                times = row.get("nuclei_s")
                if times is None:
                    continue  # a cache of counts only (older): counted again
                self.known[row["path"]] = (row["bytes"], row["mtime_ns"], tuple(times))

    def times(self, relative: str) -> tuple[float, ...] | None:
        """Nucleus times (seconds) in the file at ``relative``; None when it does not exist."""
        path = safe_join(self.root, relative)
        try:
            status = path.stat()
        except OSError:
            return None
        cached = self.known.get(relative)
        if cached is not None and cached[:2] == (status.st_size, status.st_mtime_ns):
            return cached[2]
        mono, rate = read_wav_mono(path)
        found = tuple(float(t) for t in syllable_nuclei(mono, rate)) if mono.size else ()
        self.known[relative] = (status.st_size, status.st_mtime_ns, found)
        self.changed = True
        return found

    def count(self, relative: str, shown_ms: int | None = None) -> int | None:
        """Nuclei in the file at ``relative`` (in its first ``shown_ms`` when given, as an
        item that shows only that much); None when the file does not exist."""
        times = self.times(relative)
        if times is None:
            return None
        if shown_ms is None:
            return len(times)
        return sum(1 for t in times if t * 1000 < shown_ms)

    def save(self) -> None:
        """Write the cache when counts were added (atomic)."""
        if not self.changed:
            return
        paths = sorted(self.known)
        table = pa.table(
            {
                "path": pa.array(paths, pa.string()),
                "bytes": pa.array([self.known[p][0] for p in paths], pa.int64()),
                "mtime_ns": pa.array([self.known[p][1] for p in paths], pa.int64()),
                "nuclei_s": pa.array(
                    [list(self.known[p][2]) for p in paths], pa.list_(pa.float32())
                ),
            }
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_with(self.path, lambda target: pq.write_table(table, target))
        self.changed = False


def nuclei_counts(
    counts: NucleiCounts,
    paths: Iterable[str | None],
    shown_ms: Iterable[int | None] | None = None,
) -> FloatMatrix | None:
    """Nuclei per path (within each item's ``shown_ms`` when given); None when a path is
    missing or its file does not exist."""
    out = []
    limits = iter(shown_ms) if shown_ms is not None else None
    for relative in paths:
        limit = next(limits) if limits is not None else None
        count = counts.count(relative, limit) if relative else None
        if count is None:
            return None
        out.append(float(count))
    return np.asarray(out, dtype=np.float64)


__all__ = [
    "DURATION",
    "NUCLEI_CACHE",
    "VIEW_LENGTHS",
    "NucleiCounts",
    "lengths_of",
    "nuclei_counts",
    "text_lengths",
    "text_syllables",
]
