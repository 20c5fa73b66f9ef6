"""Atomic writes: write to a temporary name in the same folder, fsync, rename.

A reader (or a resumed build) sees either the old file or the whole new one,
never a half-written file, even after ``kill -9``.

Many small files (a cue's stills, crops, audio and clip) need not each wait for the
disk: inside ``batched_sync()`` writes skip their own fsync (the rename still makes
each file appear whole) and one ``os.sync()`` on leaving makes them all durable at
once, before whatever records them (a manifest part) is written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

_batch_depth = 0


@contextmanager
def batched_sync() -> Iterator[None]:
    """Defer the fsync of atomic writes made inside to one ``os.sync()`` on a normal exit
    (nothing is synced when the block raises: its files are redone on resume)."""
    global _batch_depth
    _batch_depth += 1
    try:
        yield
    finally:
        _batch_depth -= 1
    if _batch_depth == 0:
        os.sync()


def sync_file(path: Path) -> None:
    """fsync ``path`` now, or leave it to the enclosing ``batched_sync()``."""
    if _batch_depth == 0:
        with path.open("rb+") as handle:
            os.fsync(handle.fileno())


def temporary_beside(path: Path) -> Path:
    """Create an empty temporary file ``.<name>.<random>.tmp`` in ``path``'s folder (made
    if missing), for ``commit`` to move to ``path`` once written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp_name)


def commit(tmp: Path, path: Path) -> None:
    """fsync the finished ``tmp`` (or leave it to ``batched_sync()``) and rename it to ``path``."""
    sync_file(tmp)
    os.replace(tmp, path)


def atomic_write_with(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write(tmp_path)`` produce the file, then move it to ``path`` atomically."""
    tmp = temporary_beside(path)
    try:
        write(tmp)
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_write_with(path, write)


def atomic_write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented UTF-8 JSON to ``path`` atomically."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_table(path: Path, table: pa.Table) -> None:
    """Write ``table`` as Parquet (zstd) to ``path`` atomically."""
    atomic_write_with(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def remove_stale_temporaries(folder: Path) -> int:
    """Delete ``.*.tmp`` files an interrupted run left in ``folder`` (recursively)."""
    removed = 0
    if folder.is_dir():
        for stale in folder.rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
            removed += 1
    return removed
