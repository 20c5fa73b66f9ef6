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
import re
import secrets
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


#: The name ``temporary_beside`` gives a temporary file: ``.<name>.<8 random>.tmp``
#: (the random part of ``tempfile.mkstemp``, used before, has the same shape).
TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def is_temporary(name: str) -> bool:
    """Whether a file name is one ``temporary_beside`` gives."""
    return TEMPORARY_NAME.fullmatch(name) is not None


def temporary_beside(path: Path) -> Path:
    """Create an empty temporary file ``.<name>.<random>.tmp`` in ``path``'s folder (made
    if missing), for ``commit`` to move to ``path`` once written.

    The file is created with mode 0o666 less the process umask, as ``open`` would (unlike
    ``tempfile.mkstemp``'s 0o600), so a dataset shared with a group stays readable by it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:  # pragma: no cover - 2**32 names
            continue
        os.close(fd)
        return tmp


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


def atomic_write_table(path: Path, table: pa.Table, row_group_size: int | None = None) -> None:
    """Write ``table`` as Parquet (zstd) to ``path`` atomically, in row groups of at most
    ``row_group_size`` rows (``None``: Parquet's default, one group up to a million rows)."""
    atomic_write_with(
        path,
        lambda tmp: pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size),
    )


def remove_stale_temporaries(folder: Path, *, recursive: bool = True) -> int:
    """Delete the temporary files (``is_temporary``) an interrupted run left in ``folder``
    (and its subfolders when ``recursive``); any other file is left alone."""
    removed = 0
    if folder.is_dir():
        candidates = folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")
        for stale in candidates:
            if is_temporary(stale.name) and not stale.is_dir():
                stale.unlink(missing_ok=True)
                removed += 1
    return removed
