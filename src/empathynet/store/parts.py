"""Manifest parts read safely: a damaged part is one line naming it, never a traceback.

The manifest is made of files in ``cues/``: a *part* ``part-<source_id>-<chunk>.parquet``
holds one chunk of one source (what a build commits), a *compacted file*
``compact-<number>.parquet`` the rows of many chunks, sorted by cue id, with a *chunk
map* in its Parquet metadata (``ChunkMap``: which chunk each row comes from). The
compacted files that count are those ``cues/compacted.json`` lists (``store/compact.py``
writes them, then that list, then deletes what they replace), so that after a ``kill -9``
at any moment every row is read exactly once (``manifest_files``): a compacted file the
list does not name is left over from a stopped compaction and is not read, nor is a part
whose chunk a listed compacted file holds.

A part is *damaged* when it is not Parquet (cut short by a full disk, overwritten with
something else), lacks a column every row has or holds a known column with another type,
or holds rows of another source; a compacted file also when its chunk map is missing or
does not fit its rows (another source than the map says, cue ids out of order).
Readers skip a damaged file with a one-line warning; the build moves it aside as
``<name>.damaged`` and redoes its chunks; ``empathynet check --repair`` deletes it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.data.schemas import CUE_SCHEMA
from empathynet.errors import DatasetError
from empathynet.store.layout import DatasetLayout, safe_join

#: ``part-<source_id>-<chunk>.parquet`` (``DatasetLayout.cue_part``)
PART_NAME = re.compile(r"part-(?P<source_id>[0-9A-Za-z_]+)-(?P<chunk>\d+)\.parquet")
#: ``compact-<number>.parquet`` (``DatasetLayout.compacted_file``)
COMPACT_NAME = re.compile(r"compact-(?P<number>\d+)\.parquet")
#: The Parquet metadata key of a compacted file's chunk map (``ChunkMap``).
CHUNK_MAP_KEY = b"empathynet.chunks"
#: The Parquet metadata key of a part's build seconds per stage (summed over its chunks
#: in a compacted file); ``pipeline/build.py`` writes it.
STAGE_SECONDS_KEY = b"empathynet.stage_seconds"
#: ``format`` of ``cues/compacted.json``.
INDEX_FORMAT = "empathynet-compacted-manifest"

#: A chunk: (source id, chunk number).
ChunkKey = tuple[str, int]

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
    """The warning a reader gives for a part (or compacted file) it skips."""
    chunks = "chunks" if error.path and is_compacted(Path(error.path)) else "chunk"
    return f"{error}; skipped (building again redoes its {chunks}; see 'empathynet check')"


def part_source(path: Path) -> str:
    """The source id a part's name gives; ``DamagedPartError`` for a name not of a part."""
    match = PART_NAME.fullmatch(path.name)
    if match is None:
        raise DamagedPartError("not a manifest part name (part-<source>-<chunk>.parquet)", path)
    return match.group("source_id")


def part_chunk(path: Path) -> ChunkKey | None:
    """The (source id, chunk) a part's name gives, or None for a name not of a part."""
    match = PART_NAME.fullmatch(path.name)
    if match is None:
        return None
    return match.group("source_id"), int(match.group("chunk"))


def is_compacted(path: Path) -> bool:
    """Whether ``path`` is named as a compacted manifest file."""
    return COMPACT_NAME.fullmatch(path.name) is not None


def chunk_name(key: ChunkKey) -> str:
    """``part-<source_id>-<chunk>.parquet``: the name of the chunk's own part."""
    return f"part-{key[0]}-{key[1]:05d}.parquet"


@dataclass(frozen=True)
class ChunkMap:
    """Which chunk each row of a compacted file comes from, in row order: ``chunks``
    names each chunk once, ``runs`` gives, row after row, a chunk (its index in
    ``chunks``) and how many consecutive rows are its. Stored as compact JSON under
    ``CHUNK_MAP_KEY`` in the file's Parquet metadata."""

    chunks: tuple[ChunkKey, ...]
    runs: tuple[tuple[int, int], ...]
    first_cue_id: str | None = None  #: the file's first row's (rows are in cue id order)
    last_cue_id: str | None = None

    @property
    def rows(self) -> int:
        return sum(length for _, length in self.runs)

    @property
    def sources(self) -> list[str]:
        """The source ids of the chunks, each once, in row order."""
        return list(dict.fromkeys(source_id for source_id, _ in self.chunks))

    def row_chunks(self) -> npt.NDArray[np.int64]:
        """Per row, the index in ``chunks`` of its chunk."""
        if not self.runs:
            return np.zeros(0, dtype=np.int64)
        indices, lengths = np.asarray(self.runs, dtype=np.int64).T
        return np.repeat(indices, lengths)

    def chunk_rows(self) -> dict[ChunkKey, npt.NDArray[np.int64]]:
        """Per chunk, the positions of its rows in the file."""
        per_row = self.row_chunks()
        order = np.argsort(per_row, kind="stable")
        bounds = np.searchsorted(per_row[order], np.arange(len(self.chunks) + 1))
        return {key: order[bounds[i] : bounds[i + 1]] for i, key in enumerate(self.chunks)}

    @classmethod
    def of_rows(
        cls,
        keys: Sequence[ChunkKey],
        per_row: npt.NDArray[np.int64],
        cue_ids: pa.Array | pa.ChunkedArray | None,
    ) -> ChunkMap:
        """The map of rows whose chunks are ``keys[per_row[i]]`` (keys no row has are left
        out); ``cue_ids``: the rows' cue ids, for the first and last."""
        if len(per_row) == 0:
            return cls((), ())
        starts = np.concatenate([[0], np.flatnonzero(per_row[1:] != per_row[:-1]) + 1])
        lengths = np.diff(np.concatenate([starts, [len(per_row)]]))
        values = per_row[starts]
        _, first = np.unique(values, return_index=True)
        used = values[np.sort(first)]  # each chunk once, in the order its rows come
        position = {int(old): new for new, old in enumerate(used)}
        first_id = last_id = None
        if cue_ids is not None and len(cue_ids):
            first_id, last_id = str(cue_ids[0].as_py()), str(cue_ids[-1].as_py())
        return cls(
            tuple(keys[int(old)] for old in used),
            tuple((position[int(v)], int(n)) for v, n in zip(values, lengths, strict=True)),
            first_id,
            last_id,
        )

    def to_json(self) -> bytes:
        sources = self.sources
        index = {source_id: i for i, source_id in enumerate(sources)}
        value = {
            "format_version": 1,
            "rows": self.rows,
            "first_cue_id": self.first_cue_id,
            "last_cue_id": self.last_cue_id,
            "sources": sources,
            "chunks": [[index[source_id], chunk] for source_id, chunk in self.chunks],
            "runs": [list(run) for run in self.runs],
        }
        return json.dumps(value, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> ChunkMap:
        """The map stored as ``raw``; ``ValueError`` saying what is wrong with it."""
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"not JSON ({error})") from None
        if not isinstance(value, dict) or value.get("format_version") != 1:
            raise ValueError("not a chunk map of format_version 1")
        sources, chunks, runs = value.get("sources"), value.get("chunks"), value.get("runs")
        if not isinstance(sources, list) or not all(
            isinstance(s, str) and PART_NAME.fullmatch(f"part-{s}-0.parquet") for s in sources
        ):
            raise ValueError("its sources are not a list of source ids")
        keys: list[ChunkKey] = []
        for entry in chunks if isinstance(chunks, list) else [None]:
            if not (_ints(entry, 2) and 0 <= entry[0] < len(sources) and entry[1] >= 0):
                raise ValueError(f"a bad chunk entry {entry!r}")
            keys.append((sources[entry[0]], entry[1]))
        if len(set(keys)) != len(keys):
            raise ValueError("a chunk is listed twice")
        pairs: list[tuple[int, int]] = []
        for run in runs if isinstance(runs, list) else [None]:
            if not (_ints(run, 2) and 0 <= run[0] < len(keys) and run[1] > 0):
                raise ValueError(f"a bad run {run!r}")
            pairs.append((run[0], run[1]))
        if len({chunk for chunk, _ in pairs}) != len(keys):
            raise ValueError("a chunk without rows")
        first, last = value.get("first_cue_id"), value.get("last_cue_id")
        if not all(v is None or isinstance(v, str) for v in (first, last)):
            raise ValueError("its first or last cue id is not a string")
        found = cls(tuple(keys), tuple(pairs), first, last)
        if value.get("rows") != found.rows:
            raise ValueError(f"rows {value.get('rows')!r}, its runs {found.rows}")
        return found


def _ints(value: object, count: int) -> TypeGuard[list[int]]:
    return (
        isinstance(value, list)
        and len(value) == count
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def chunk_map_of(metadata: dict[bytes, bytes] | None) -> ChunkMap | None:
    """The chunk map in a table's (or file's) metadata; None for a part's (it has none).
    ``ValueError`` when it is there but malformed."""
    raw = (metadata or {}).get(CHUNK_MAP_KEY)
    return None if raw is None else ChunkMap.from_json(raw)


def read_chunk_map(path: Path) -> ChunkMap:
    """The chunk map of the compacted file ``path`` (its Parquet footer only);
    ``DamagedPartError`` when it cannot be read."""
    try:
        found = chunk_map_of(pq.read_schema(path).metadata)
    except (OSError, pa.ArrowException) as error:
        raise DamagedPartError(
            f"damaged compacted manifest file: unreadable Parquet ({_one_line(error)})", path
        ) from None
    except ValueError as error:
        raise DamagedPartError(
            f"damaged compacted manifest file: a bad chunk map ({_one_line(error)})", path
        ) from None
    if found is None:
        raise DamagedPartError("damaged compacted manifest file: no chunk map", path)
    return found


def chunks_in(table: pa.Table) -> int:
    """How many chunks a manifest file's table holds: 1 for a part, its chunk map's count
    for a compacted file."""
    try:
        found = chunk_map_of(table.schema.metadata)
    except ValueError:
        return 0
    return 1 if found is None else len(found.chunks)


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
    """One manifest file (all columns, or ``columns``), checked: it reads as Parquet, its
    schema is a cue manifest's and every row belongs to the source its name gives (a
    part) or its chunk map gives (a compacted file, whose rows are in cue id order).

    Raises ``DamagedPartError`` (one line naming the file and what is wrong).
    """
    if is_compacted(path):
        return _read_compacted(path, columns)
    source_id = part_source(path)
    table = _read_checked(path, columns, "damaged manifest part")
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
    return _with_columns(table, columns)


def _read_checked(path: Path, columns: Sequence[str] | None, what: str) -> pa.Table:
    """The file's rows (``columns`` and the ids), its schema checked."""
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
            return handle.read(columns=wanted)
    except (OSError, pa.ArrowException) as error:
        raise DamagedPartError(f"{what}: unreadable Parquet ({_one_line(error)})", path) from None


def _with_columns(table: pa.Table, columns: Sequence[str] | None) -> pa.Table:
    """``table`` with exactly ``columns``; a column added after the file was written is
    there as nulls (not recorded)."""
    if columns is None:
        return table
    for name in columns:
        if name not in table.column_names:
            kind = CUE_SCHEMA.field(name).type if name in CUE_SCHEMA.names else pa.null()
            table = table.append_column(name, pa.nulls(table.num_rows, kind))
    return table.select(list(columns))


def _read_compacted(path: Path, columns: Sequence[str] | None) -> pa.Table:
    what = "damaged compacted manifest file"
    table = _read_checked(path, columns, what)
    try:
        found = chunk_map_of(table.schema.metadata)
    except ValueError as error:
        raise DamagedPartError(f"{what}: a bad chunk map ({_one_line(error)})", path) from None
    if found is None:
        raise DamagedPartError(f"{what}: no chunk map", path)
    if found.rows != table.num_rows:
        raise DamagedPartError(f"{what}: {table.num_rows} rows, its chunk map {found.rows}", path)
    if table.num_rows == 0:
        return _with_columns(table, columns)
    # the source each row's chunk names, against the row's own
    chunk_sources = pa.array([source_id for source_id, _ in found.chunks], pa.string())
    expected = chunk_sources.take(pa.array(found.row_chunks()))
    sources = table.column("source_id").combine_chunks()
    same = pc.equal(sources, expected)
    if not pc.all(same).as_py():
        row = int(np.flatnonzero(~np.asarray(same.to_numpy(zero_copy_only=False)))[0])
        raise DamagedPartError(
            f"{what}: row {row} is of source {sources[row].as_py()}, its chunk map says "
            f"{expected[row].as_py()}",
            path,
        )
    cue_ids = table.column("cue_id").combine_chunks()
    prefixes = pc.struct_field(pc.extract_regex(cue_ids, r"^(?P<source_id>[0-9A-Za-z_]+)-"), [0])
    if not pc.all(pc.fill_null(pc.equal(prefixes, sources), False)).as_py():
        raise DamagedPartError(f"{what}: cue ids not of the sources of their rows", path)
    if len(cue_ids) > 1 and not pc.all(pc.greater(cue_ids[1:], cue_ids[:-1])).as_py():
        raise DamagedPartError(f"{what}: cue ids not in order (or one twice)", path)
    return _with_columns(table, columns)


def _checked(path: Path, columns: Sequence[str] | None) -> pa.Table | DamagedPartError:
    try:
        return read_part(path, columns)
    except DamagedPartError as error:
        return error


@dataclass
class ManifestFiles:
    """The manifest files of a dataset and which of them are read (``manifest_files``)."""

    #: committed compacted files, in cue id order (``cues/compacted.json``'s)
    compacted: list[Path] = field(default_factory=list)
    #: parts whose chunk no committed compacted file holds, in name order
    parts: list[Path] = field(default_factory=list)
    #: parts whose chunk a committed compacted file holds: a compaction stopped before
    #: deleting them (not read; the next writer deletes them)
    covered: list[Path] = field(default_factory=list)
    #: compacted files ``cues/compacted.json`` does not list: a stopped compaction's new
    #: files, or the files one replaced (not read; the next writer deletes them)
    unlisted: list[Path] = field(default_factory=list)
    #: the chunk maps of the committed compacted files, when they were needed and read
    maps: dict[Path, ChunkMap] = field(default_factory=dict)
    #: what cannot be read as the index says: a listed file that is missing, an
    #: unreadable ``compacted.json``, a compacted file holding another's chunks
    problems: list[DamagedPartError] = field(default_factory=list)
    #: compacted files listed in ``compacted.json`` but absent
    missing: list[Path] = field(default_factory=list)
    #: without a readable ``compacted.json``: compacted files holding chunks an earlier
    #: one holds (not read, never deleted: ``empathynet check`` tells)
    conflicting: list[Path] = field(default_factory=list)
    #: whether ``cues/compacted.json`` was read (else every compacted file present counts)
    indexed: bool = False

    @property
    def files(self) -> list[Path]:
        """The files readers read, in order: the compacted files, then the parts."""
        return [*self.compacted, *self.parts]

    @property
    def leftovers(self) -> list[Path]:
        """What a stopped compaction left that no reader reads (safe to delete)."""
        return [*self.covered, *self.unlisted]


def read_compacted_index(layout: DatasetLayout) -> list[str] | None:
    """The names ``cues/compacted.json`` lists, in cue id order; None without the file;
    ``DamagedPartError`` when it cannot be read."""
    path = layout.compacted_index
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedPartError(
            f"damaged list of compacted files: unreadable ({_one_line(error)})", path
        ) from None
    files = value.get("files") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or value.get("format") != INDEX_FORMAT
        or value.get("format_version") != 1
        or not isinstance(files, list)
        or not all(isinstance(name, str) and COMPACT_NAME.fullmatch(name) for name in files)
    ):
        raise DamagedPartError(
            f"damaged list of compacted files: not a {INDEX_FORMAT} of format_version 1 "
            "listing compact-<number>.parquet names",
            path,
        )
    return list(dict.fromkeys(files))


def manifest_files(layout: DatasetLayout, *, maps: bool = False) -> ManifestFiles:
    """Which manifest files hold the dataset's rows, each row once, whatever moment a
    compaction was stopped at: the compacted files ``cues/compacted.json`` lists (every
    compacted file present when there is no such list), and the parts whose chunk none of
    them holds. ``maps``: read the chunk maps of the compacted files even when no part
    needs them."""
    parts = sorted(layout.cues_dir.glob("part-*.parquet"))
    present = sorted(p for p in layout.cues_dir.glob("compact-*.parquet") if is_compacted(p))
    found = ManifestFiles(parts=parts)
    if not present and not layout.compacted_index.exists():
        return found  # never compacted: every part counts
    try:
        listed = read_compacted_index(layout)
    except DamagedPartError as error:
        found.problems.append(error)
        listed = None
    if listed is not None:
        found.indexed = True
        named = [layout.cues_dir / name for name in listed]
        found.compacted = [p for p in named if p.is_file()]
        found.missing = [p for p in named if not p.is_file()]
        found.problems.extend(
            DamagedPartError(
                f"missing: {layout.compacted_index.name} lists it as a committed compacted "
                "manifest file",
                path,
            )
            for path in found.missing
        )
        found.unlisted = [p for p in present if p not in set(named)]
    else:
        found.compacted = present
    if not (parts or maps or not found.indexed):
        return found
    claimed: dict[ChunkKey, Path] = {}
    for path in list(found.compacted):
        try:
            chunk_map = read_chunk_map(path)
        except DamagedPartError:
            continue  # read as a damaged file in its turn
        keys = set(chunk_map.chunks)
        if not found.indexed and (held := keys & claimed.keys()):
            other = claimed[next(iter(held))]
            found.problems.append(
                DamagedPartError(
                    f"holds {len(held)} chunks {other.name} holds too, and there is no "
                    f"readable {layout.compacted_index.name} to tell which counts",
                    path,
                )
            )
            found.compacted.remove(path)
            found.conflicting.append(path)
            continue
        claimed.update(dict.fromkeys(keys, path))
        found.maps[path] = chunk_map
    if claimed:
        found.parts, found.covered = [], []
        for part in parts:
            key = part_chunk(part)
            (found.covered if key is not None and key in claimed else found.parts).append(part)
    return found


def index_problem_line(error: DamagedPartError) -> str:
    """The warning a reader gives for a compacted file it cannot read as listed."""
    return f"{error}; its rows are not read (see 'empathynet check')"


#: How much of the read-ahead one compacted file takes (it holds thousands of parts' rows).
_COMPACTED_WEIGHT = _READ_AHEAD // 2


def read_files(
    paths: Iterable[Path], columns: Sequence[str] | None, *, batches: bool = False
) -> Iterator[tuple[Path, pa.Table | DamagedPartError]]:
    """Each file read and checked (``read_part``) on ``_READERS`` threads, a few ahead of
    the one yielded (fewer when they are compacted files), in order. ``batches``: a
    compacted file's ids are checked ahead, then its rows come a row group at a time,
    each yielded as a table of its own."""
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        pending: deque[tuple[Path, int, Future[pa.Table | DamagedPartError]]] = deque()
        queued = 0
        files = iter(paths)
        upcoming: Path | None = next(files, None)
        while True:
            while upcoming is not None:
                in_groups = batches and is_compacted(upcoming)
                weight = _COMPACTED_WEIGHT if is_compacted(upcoming) else 1
                if pending and queued + weight > _READ_AHEAD:
                    break
                wanted = ["cue_id"] if in_groups else columns  # in groups: the ids first
                pending.append((upcoming, weight, pool.submit(_checked, upcoming, wanted)))
                queued += weight
                upcoming = next(files, None)
            if not pending:
                return
            path, weight, future = pending.popleft()
            queued -= weight
            read = future.result()
            if batches and is_compacted(path) and not isinstance(read, DamagedPartError):
                yield from ((path, group) for group in _row_groups(path, columns))
            else:
                yield path, read


def _row_groups(path: Path, columns: Sequence[str] | None) -> Iterator[pa.Table | DamagedPartError]:
    """The rows of a compacted file whose ids were checked, a row group at a time; a row
    group that cannot be read ends it with the error."""
    try:
        with pq.ParquetFile(path) as handle:
            present = set(handle.schema_arrow.names)
            wanted = (
                None
                if columns is None
                else [c for c in dict.fromkeys([*columns, "source_id", "cue_id"]) if c in present]
            )
            for index in range(handle.num_row_groups):
                yield _with_columns(handle.read_row_group(index, columns=wanted), columns)
    except (OSError, pa.ArrowException) as error:
        yield DamagedPartError(
            f"damaged compacted manifest file: unreadable Parquet ({_one_line(error)}); "
            "the rows before were read",
            path,
        )


def readable_parts(
    layout: DatasetLayout,
    columns: Sequence[str] | None = None,
    warn: Warn | None = None,
    *,
    batches: bool = False,
) -> Iterator[tuple[Path, pa.Table]]:
    """Each committed manifest file that is not damaged, with its table: the compacted
    files in cue id order, then the parts in name order (``manifest_files``: each row
    once); each damaged one is skipped with one line to ``warn`` (default: stderr).
    ``batches``: a compacted file comes a row group (16,384 rows) at a time, so that a
    reader's memory stays flat (its ids, sources and chunk map are checked first; the
    tables hold the file's metadata but only some of its rows).

    Files are read and checked a few at a time on ``_READERS`` threads (Parquet reading
    releases the GIL; a dataset has thousands of small parts), yielded in order.
    """
    say = warn or warn_on_stderr
    files = manifest_files(layout)
    for problem in files.problems:
        say(index_problem_line(problem))
    for path, read in read_files(files.files, columns, batches=batches):
        if isinstance(read, DamagedPartError):
            say(skipped_line(read))
            continue
        yield path, read


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


def file_sources(path: Path) -> set[str]:
    """The sources whose rows a manifest file (or a ``.damaged`` one) may hold: a part's
    by its name, a compacted file's by its chunk map; empty when that cannot be read."""
    plain = path.with_name(path.name.removesuffix(DAMAGED_SUFFIX))
    key = part_chunk(plain)
    if key is not None:
        return {key[0]}
    if is_compacted(plain):
        try:
            chunk_map = chunk_map_of(pq.read_schema(path).metadata)
        except (OSError, pa.ArrowException, ValueError):
            return set()
        return set(chunk_map.sources) if chunk_map is not None else set()
    return set()


def manifest_sources(layout: DatasetLayout) -> set[str]:
    """The sources with committed rows: those of the parts (by name) and those of the
    committed compacted files (by their chunk maps)."""
    files = manifest_files(layout, maps=True)
    found = {key[0] for part in files.parts if (key := part_chunk(part)) is not None}
    for chunk_map in files.maps.values():
        found.update(chunk_map.sources)
    return found


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
