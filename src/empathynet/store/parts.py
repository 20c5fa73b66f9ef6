"""Manifest parts read safely: a damaged part is one line naming it, never a traceback.

A part ``cues/part-<source_id>-<chunk>.parquet`` is *damaged* when it is not Parquet
(cut short by a full disk, overwritten with something else), lacks a column every row
has or holds a known column with another type, or holds rows of another source.
Readers skip a damaged part with a one-line warning; the build moves it aside as
``<name>.damaged`` and redoes its chunk; ``empathynet check --repair`` deletes it.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.data.schemas import CUE_SCHEMA
from empathynet.errors import DatasetError
from empathynet.store.layout import DatasetLayout, safe_join

#: ``part-<source_id>-<chunk>.parquet`` (``DatasetLayout.cue_part``)
PART_NAME = re.compile(r"part-(?P<source_id>[0-9A-Za-z_]+)-(?P<chunk>\d+)\.parquet")

#: Columns every part has had since the first format; other columns may be missing from
#: parts written by older versions (they read as not recorded).
REQUIRED_CUE_COLUMNS: tuple[str, ...] = (
    *(f.name for f in CUE_SCHEMA if not f.nullable),
    "reason",
    "error",
)

#: Threads that read parts, and how many parts are read ahead of the one yielded.
_READERS = 2
_READ_AHEAD = 16

#: The suffix a damaged part is moved aside with (``cue_parts`` no longer lists it).
DAMAGED_SUFFIX = ".damaged"


class DamagedPartError(DatasetError):
    """A manifest part that cannot be used: unreadable, wrong schema, or foreign rows."""


Warn = Callable[[str], None]


def warn_on_stderr(line: str) -> None:
    """Print a reader's warning as one line on stderr."""
    print(f"empathynet: warning: {line}", file=sys.stderr)


def skipped_line(error: DamagedPartError) -> str:
    """The warning a reader gives for a part it skips."""
    return f"{error}; skipped (building again redoes its chunk; see 'empathynet check')"


def part_source(path: Path) -> str:
    """The source id a part's name gives; ``DamagedPartError`` for a name not of a part."""
    match = PART_NAME.fullmatch(path.name)
    if match is None:
        raise DamagedPartError("not a manifest part name (part-<source>-<chunk>.parquet)", path)
    return match.group("source_id")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def check_part_schema(schema: pa.Schema, path: Path) -> None:
    """``DamagedPartError`` when ``schema`` lacks a required column or types a known one
    differently from ``CUE_SCHEMA``."""
    missing = [name for name in REQUIRED_CUE_COLUMNS if schema.get_field_index(name) < 0]
    if missing:
        raise DamagedPartError(
            f"damaged manifest part: no column {', '.join(missing)} (not a cue manifest)", path
        )
    for expected in CUE_SCHEMA:
        index = schema.get_field_index(expected.name)
        if index >= 0 and not schema.field(index).type.equals(expected.type):
            raise DamagedPartError(
                f"damaged manifest part: column {expected.name} is {schema.field(index).type}, "
                f"expected {expected.type}",
                path,
            )


def read_part(path: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """One manifest part (all columns, or ``columns``), checked: it reads as Parquet,
    its schema is a cue manifest's and every row belongs to the source its name gives.

    Raises ``DamagedPartError`` (one line naming the part and what is wrong).
    """
    source_id = part_source(path)
    try:
        # One open for the schema and the rows (a dataset has thousands of parts).
        with pq.ParquetFile(path) as handle:
            check_part_schema(handle.schema_arrow, path)
            present = set(handle.schema_arrow.names)
            wanted = (
                None
                if columns is None
                else [c for c in dict.fromkeys([*columns, "source_id", "cue_id"]) if c in present]
            )
            table = handle.read(columns=wanted)
    except (OSError, pa.ArrowException) as error:
        raise DamagedPartError(
            f"damaged manifest part: unreadable Parquet ({_one_line(error)})", path
        ) from None
    if table.num_rows == 0:
        raise DamagedPartError("damaged manifest part: no rows (a chunk has at least one)", path)
    sources = table.column("source_id")
    if not pc.all(pc.equal(sources, source_id)).as_py():
        other = next(s for s in sources.to_pylist() if s != source_id)
        raise DamagedPartError(
            f"damaged manifest part: rows of source {other}, not {source_id} as its name says",
            path,
        )
    if not pc.all(pc.starts_with(table.column("cue_id"), f"{source_id}-")).as_py():
        raise DamagedPartError(
            f"damaged manifest part: cue ids not of source {source_id} as its name says", path
        )
    if columns is not None:
        for name in columns:  # a column added after the part was written: not recorded
            if name not in table.column_names:
                kind = CUE_SCHEMA.field(name).type if name in CUE_SCHEMA.names else pa.null()
                table = table.append_column(name, pa.nulls(table.num_rows, kind))
        table = table.select(list(columns))
    return table


def _checked(path: Path, columns: Sequence[str] | None) -> pa.Table | DamagedPartError:
    try:
        return read_part(path, columns)
    except DamagedPartError as error:
        return error


def readable_parts(
    layout: DatasetLayout, columns: Sequence[str] | None = None, warn: Warn | None = None
) -> Iterator[tuple[Path, pa.Table]]:
    """Each committed manifest part that is not damaged, with its table, in name order;
    each damaged one is skipped with one line to ``warn`` (default: stderr).

    Parts are read and checked a few at a time on ``_READERS`` threads (Parquet reading
    releases the GIL; a dataset has thousands of small parts), yielded in order.
    """
    say = warn or warn_on_stderr
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        pending: deque[tuple[Path, Future[pa.Table | DamagedPartError]]] = deque()
        parts = iter(layout.cue_parts())
        while True:
            for part in itertools.islice(parts, _READ_AHEAD - len(pending)):
                pending.append((part, pool.submit(_checked, part, columns)))
            if not pending:
                return
            part, future = pending.popleft()
            read = future.result()
            if isinstance(read, DamagedPartError):
                say(skipped_line(read))
                continue
            yield part, read


def manifest_tables(
    layout: DatasetLayout,
    columns: Sequence[str] | None = None,
    warn: Warn | None = None,
    *,
    min_rows: int = 1 << 16,
    readable: list[Path] | None = None,
) -> Iterator[pa.Table]:
    """The rows of every readable part (``readable_parts``) in part order, as tables of
    at least ``min_rows`` rows each (the last may hold fewer), each one contiguous.
    Appends each readable part to ``readable`` when given. ``DatasetError`` when the
    dataset has no manifest part, or none is readable."""
    layout.require_cue_parts()
    gathered: list[pa.Table] = []
    rows = 0
    found = False
    for part, table in readable_parts(layout, columns, warn):
        found = True
        if readable is not None:
            readable.append(part)
        gathered.append(table)
        rows += table.num_rows
        if rows >= min_rows:
            yield pa.concat_tables(gathered, promote_options="default").combine_chunks()
            gathered, rows = [], 0
    if not found:
        raise DatasetError("the dataset has no readable manifest part", layout.root)
    if gathered:
        yield pa.concat_tables(gathered, promote_options="default").combine_chunks()


def read_manifest(
    layout: DatasetLayout, columns: Sequence[str] | None = None, warn: Warn | None = None
) -> pa.Table:
    """The given columns (default all) of every row of the readable parts, in part order
    (``manifest_tables``)."""
    return pa.concat_tables(list(manifest_tables(layout, columns, warn)), promote_options="default")


def chunk_part_damage(path: Path, cue_ids: Sequence[str]) -> DamagedPartError | None:
    """Why the committed part ``path`` cannot stand for the chunk of ``cue_ids`` (damaged,
    or rows of another chunk), or None when it can."""
    try:
        found = read_part(path, ["cue_id"]).column("cue_id").to_pylist()
    except DamagedPartError as error:
        return error
    if sorted(found) != sorted(cue_ids):
        return DamagedPartError(
            f"damaged manifest part: its {len(found)} rows are not the {len(cue_ids)} "
            "utterances of its chunk (rows of another chunk)",
            path,
        )
    return None


def set_aside(path: Path) -> Path:
    """Move a damaged part to ``<name>.damaged`` (replacing an older one); returns it."""
    target = path.with_name(path.name + DAMAGED_SUFFIX)
    os.replace(path, target)
    return target


def remove_cue_media(layout: DatasetLayout, source_id: str, cue_ids: Sequence[str]) -> int:
    """Delete the media folders ``media/<source_id>/<cue_id>`` of the given cues (only
    folders inside the dataset); returns how many there were."""
    removed = 0
    for cue_id in cue_ids:
        if not cue_id or "/" in cue_id or "\\" in cue_id or cue_id in (".", ".."):
            continue
        try:
            folder = safe_join(layout.root, f"media/{source_id}/{cue_id}")
        except DatasetError:
            continue
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
            removed += 1
    return removed
