"""Manifest compaction: many small parts merged into a few files of ~100,000 rows.

A build commits each chunk of 16 utterances as its own part (``cues/part-<source>-
<chunk>.parquet``), so a 1,000,000-cue build writes ~62,000 files; every reader opens
them all. ``compact_dataset`` (``empathynet compact``, and a build at its end when the
dataset has ``AUTO_COMPACT_PARTS`` parts or more) merges the parts into *compacted
files* ``cues/compact-<number>.parquet``:

* rows sorted by cue id (a stable sort), each row's values unchanged, in row groups of
  ``ROW_GROUP_ROWS``; a source's rows all in one file, files of ``rows`` rows or so
  (between half and one and a half of it); the stage seconds of the parts summed;
* each file's *chunk map* (``store/parts.py`` ``ChunkMap``, in its Parquet metadata)
  names the chunks it holds and which rows are each one's, so that a resumed build skips
  them (and checks their cue ids) as it skips a committed part;
* ``cues/compacted.json`` lists the committed compacted files in cue id order.

Nothing is lost or read twice under ``kill -9`` at any moment: the new files are
written under temporary names and renamed into place, but count only once
``compacted.json`` lists them (one atomic rename commits them all); only then are the
parts and the compacted files they replace deleted. Readers read the listed files and
the parts whose chunk none of them holds (``store/parts.py`` ``manifest_files``); what a
stopped compaction left over is deleted by the next command that writes (a build,
``compact``, ``remove``, ``check --repair``: ``finish_compaction``).

New parts (a resumed build that added sources) are merged with the compacted files whose
sources they fall among, which are written again, so that the files stay in cue id order
and never share a source; compacting again with no new part changes nothing.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.errors import DatasetError
from empathynet.store.atomic import (
    atomic_write_json,
    atomic_write_with,
    remove_stale_temporaries,
)
from empathynet.store.layout import DatasetLayout
from empathynet.store.lock import writes_dataset
from empathynet.store.parts import (
    CHUNK_MAP_KEY,
    COMPACT_NAME,
    DAMAGED_SUFFIX,
    INDEX_FORMAT,
    STAGE_SECONDS_KEY,
    ChunkKey,
    ChunkMap,
    DamagedPartError,
    ManifestFiles,
    Warn,
    chunk_map_of,
    chunk_name,
    chunk_part_damage,
    manifest_files,
    part_chunk,
    read_compacted_index,
    read_files,
    read_part,
    set_aside,
    skipped_line,
    warn_on_stderr,
)

#: Rows per compacted file ``empathynet compact`` aims at (``--rows``).
DEFAULT_ROWS = 100_000
#: Rows per Parquet row group of a compacted file: a reader wanting some rows decodes
#: ~16,000, and the two reader threads each have a few groups of a file to decode.
ROW_GROUP_ROWS = 16_384
#: A build compacts at its end when the dataset has this many parts (16,000 rows at the
#: default chunk size; below it, reading every part takes well under a second), or
#: when it has compacted files and the build added parts (so that it stays compacted).
AUTO_COMPACT_PARTS = 1_000


@dataclass(frozen=True)
class CompactResult:
    """What one compaction did."""

    root: str
    parts_merged: int = 0  #: parts merged into compacted files (and deleted)
    compacted_merged: int = 0  #: compacted files merged again with new parts (replaced)
    files_written: int = 0  #: compacted files written
    rows: int = 0  #: rows in the files written
    compacted_files: int = 0  #: committed compacted files afterwards
    parts_left: int = 0  #: parts left as they were (damaged ones; or too few for a build)
    #: files a stopped compaction left that were deleted (their rows were elsewhere)
    leftovers_deleted: int = 0
    damaged: list[str] = field(default_factory=list)  #: damaged parts left, one line each
    seconds: float = 0.0

    def line(self) -> str:
        """One line: what was merged into what."""
        if not self.files_written:
            return (
                f"nothing to compact: {self.compacted_files} compacted files, "
                f"{self.parts_left} parts"
            )
        again = f" and {self.compacted_merged} compacted files" if self.compacted_merged else ""
        return (
            f"compacted {self.parts_merged:,} manifest parts{again} into "
            f"{self.files_written} files of {self.rows:,} rows in {self.seconds:.1f}s "
            f"({self.compacted_files} compacted files, {self.parts_left} parts now)"
        )

    def lines(self) -> list[str]:
        out = [f"dataset {self.root}", f"  {self.line()}"]
        if self.leftovers_deleted:
            out.append(
                f"  deleted {self.leftovers_deleted} files a stopped compaction left "
                "(their rows are in the compacted files)"
            )
        out.extend(f"  {line}" for line in self.damaged)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "parts_merged": self.parts_merged,
            "compacted_merged": self.compacted_merged,
            "files_written": self.files_written,
            "rows": self.rows,
            "compacted_files": self.compacted_files,
            "parts_left": self.parts_left,
            "leftovers_deleted": self.leftovers_deleted,
            "damaged": self.damaged,
            "seconds": round(self.seconds, 3),
        }


@writes_dataset
def compact_dataset(
    dataset: str | Path,
    *,
    rows: int = DEFAULT_ROWS,
    min_parts: int = 1,
    warn: Warn | None = None,
) -> CompactResult:
    """Merge the manifest parts of ``dataset`` into compacted files of about ``rows``
    rows each (see the module), under the dataset's lock.

    Nothing is done when the dataset has fewer than ``min_parts`` parts and no compacted
    file (a build passes ``AUTO_COMPACT_PARTS``), nor when it has no part at all. A
    damaged part is left as it is, with one line to ``warn`` (default: stderr).
    ``DatasetError`` when two parts hold the same cue id (``empathynet check`` tells
    which) or ``rows`` is not positive; nothing is changed then.
    """
    return compact_manifest(DatasetLayout(Path(dataset)), rows=rows, min_parts=min_parts, warn=warn)


def compact_manifest(
    layout: DatasetLayout,
    *,
    rows: int = DEFAULT_ROWS,
    min_parts: int = 1,
    warn: Warn | None = None,
) -> CompactResult:
    """``compact_dataset`` for a caller that holds the dataset's lock (the build)."""
    if rows < 1:
        raise DatasetError(f"rows per compacted file must be at least 1, got {rows}", layout.root)
    started = time.monotonic()
    say = warn or warn_on_stderr
    remove_stale_temporaries(layout.cues_dir, recursive=False)
    leftovers = finish_compaction(layout)
    files = manifest_files(layout, maps=True)
    result = CompactResult(
        str(layout.root),
        compacted_files=len(files.compacted),
        parts_left=len(files.parts),
        leftovers_deleted=leftovers,
    )
    if not files.parts or (len(files.parts) < min_parts and not files.compacted):
        return result
    if not files.indexed:
        _index_present_files(layout, files)
    absorbed = _absorbed(files)
    damaged: list[str] = []

    def skipped(error: DamagedPartError) -> None:
        line = skipped_line(error)
        damaged.append(line)
        say(line)

    pieces = heapq.merge(
        _part_pieces(files.parts, skipped),
        _compacted_pieces(absorbed, files.maps, layout),
        key=lambda piece: piece.source_id,
    )
    number = _next_number(layout)
    written: list[tuple[Path, ChunkMap]] = []
    try:
        for table, chunk_map, seconds in _outputs(_source_groups(pieces, layout), rows):
            path = layout.compacted_file(number)
            number += 1
            _write_compacted(path, table, chunk_map, seconds)
            written.append((path, chunk_map))
    except BaseException:
        for path, _ in written:  # not listed: no reader reads them, but they take room
            path.unlink(missing_ok=True)
        raise
    if not written:  # every part damaged
        return CompactResult(
            str(layout.root),
            compacted_files=len(files.compacted),
            parts_left=len(files.parts),
            leftovers_deleted=leftovers,
            damaged=damaged,
        )
    kept = [p for p in files.compacted if p not in absorbed]
    ranges = {path: files.maps[path].first_cue_id or "" for path in kept if path in files.maps}
    ranges.update((path, chunk_map.first_cue_id or "") for path, chunk_map in written)
    order = sorted(ranges, key=lambda path: (ranges[path], path.name))
    unread = [p for p in [*kept, *files.missing] if p not in ranges]  # damaged or missing
    # The commit: from this rename on, the new files count and what they replace does not.
    write_compacted_index(layout, [p.name for p in [*order, *unread]])
    finish_compaction(layout)
    after = manifest_files(layout)
    return CompactResult(
        str(layout.root),
        parts_merged=len(files.parts) - len(after.parts),
        compacted_merged=len(absorbed),
        files_written=len(written),
        rows=sum(chunk_map.rows for _, chunk_map in written),
        compacted_files=len(after.compacted),
        parts_left=len(after.parts),
        leftovers_deleted=leftovers,
        damaged=damaged,
        seconds=time.monotonic() - started,
    )


def finish_compaction(layout: DatasetLayout) -> int:
    """Delete what a stopped compaction left, which no reader reads: the parts whose
    chunk a committed compacted file holds and the compacted files ``compacted.json``
    does not list. For a caller that holds the dataset's lock. Returns how many."""
    files = manifest_files(layout)
    for path in files.leftovers:
        path.unlink(missing_ok=True)
    return len(files.leftovers)


def write_compacted_index(layout: DatasetLayout, names: Sequence[str]) -> None:
    """Write ``cues/compacted.json`` listing ``names`` (in cue id order), atomically."""
    atomic_write_json(
        layout.compacted_index,
        {"format": INDEX_FORMAT, "format_version": 1, "files": list(dict.fromkeys(names))},
    )


def _index_present_files(layout: DatasetLayout, files: ManifestFiles) -> None:
    """List the compacted files present (those readers read without a readable list)
    before writing new ones, so that the new ones count only once listed."""
    if files.conflicting:
        raise DatasetError(
            f"{files.conflicting[0].name} and an earlier compacted file hold the same chunks "
            f"and {layout.compacted_index.name} cannot tell which counts: see "
            "'empathynet check'",
            layout.cues_dir,
        )
    order = sorted(
        files.compacted,
        key=lambda p: ((m.first_cue_id or "") if (m := files.maps.get(p)) else "", p.name),
    )
    write_compacted_index(layout, [p.name for p in order])


def _source(cue_id: str | None) -> str:
    return (cue_id or "").split("-", 1)[0]


def _absorbed(files: ManifestFiles) -> list[Path]:
    """The committed compacted files to write again with the parts: those whose sources
    the parts' sources fall among (so that files stay in cue id order and never share a
    source); when there is none, the smaller neighbour of the parts' sources (so that a
    few new parts make no small file of their own). In cue id order."""
    sources = sorted({key[0] for part in files.parts if (key := part_chunk(part)) is not None})
    ranges = {
        path: (_source(m.first_cue_id), _source(m.last_cue_id))
        for path, m in files.maps.items()
        if m.rows and path in files.compacted
    }
    if not sources or not ranges:
        return []
    low, high = sources[0], sources[-1]
    absorbed: set[Path] = set()
    grown = True
    while grown:
        grown = False
        for path, (first, last) in ranges.items():
            if path not in absorbed and first <= high and last >= low:
                absorbed.add(path)
                low, high = min(low, first), max(high, last)
                grown = True
    if not absorbed:
        before = [p for p, (_, last) in ranges.items() if last < low]
        after = [p for p, (first, _) in ranges.items() if first > high]
        neighbours = [
            *([max(before, key=lambda p: ranges[p][1])] if before else []),
            *([min(after, key=lambda p: ranges[p][0])] if after else []),
        ]
        absorbed.add(min(neighbours, key=lambda p: files.maps[p].rows))
    return sorted(absorbed, key=lambda p: ranges[p])


@dataclass
class _Piece:
    """Rows of one source from one file, each with its chunk number."""

    source_id: str
    table: pa.Table
    chunks: npt.NDArray[np.int64]
    seconds: dict[str, float]
    origin: Path


def _seconds(table: pa.Table) -> dict[str, float]:
    raw = (table.schema.metadata or {}).get(STAGE_SECONDS_KEY)
    if not raw:
        return {}
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        value = json.loads(raw)
        return {str(k): float(v) for k, v in value.items()}
    return {}


def _part_pieces(
    parts: Sequence[Path], skipped: Callable[[DamagedPartError], None]
) -> Iterator[_Piece]:
    """Each readable part as a piece, in name order (source order)."""
    for path, read in read_files(parts, None):
        if isinstance(read, DamagedPartError):
            skipped(read)
            continue
        key = part_chunk(path)
        if key is None:  # pragma: no cover - read_part refuses such a name
            continue
        chunks = np.full(read.num_rows, key[1], dtype=np.int64)
        yield _Piece(key[0], read, chunks, _seconds(read), path)


def _compacted_pieces(
    absorbed: Sequence[Path], maps: dict[Path, ChunkMap], layout: DatasetLayout
) -> Iterator[_Piece]:
    """The rows of the absorbed compacted files, one piece per source, in cue id order;
    a file's stage seconds go with its rows, shared by their number."""
    for path in absorbed:
        try:
            table = read_part(path)
        except DamagedPartError as error:
            raise DatasetError(
                f"{error.message}; not compacted: see 'empathynet check'", path
            ) from None
        chunk_map = maps[path]
        numbers = np.asarray([chunk for _, chunk in chunk_map.chunks], dtype=np.int64)
        per_row = numbers[chunk_map.row_chunks()] if chunk_map.chunks else numbers
        sources = table.column("source_id").combine_chunks()
        total = _seconds(table)
        starts = _run_starts(sources)
        for begin, end in zip(starts, [*starts[1:], table.num_rows], strict=True):
            share = (end - begin) / max(table.num_rows, 1)
            yield _Piece(
                str(sources[begin].as_py()),
                table.slice(begin, end - begin),
                per_row[begin:end],
                {stage: seconds * share for stage, seconds in total.items()},
                path,
            )


def _run_starts(values: pa.Array) -> list[int]:
    """Where each run of equal values of ``values`` starts."""
    if len(values) == 0:
        return []
    same = np.asarray(pc.equal(values[1:], values[:-1]).to_numpy(zero_copy_only=False))
    return [0, *(np.flatnonzero(~same.astype(bool)) + 1).tolist()]


@dataclass
class _Group:
    """Every row of one source, sorted by cue id (a stable sort), with its chunk numbers."""

    source_id: str
    table: pa.Table
    chunks: npt.NDArray[np.int64]
    seconds: dict[str, float]

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


def _source_groups(pieces: Iterator[_Piece], layout: DatasetLayout) -> Iterator[_Group]:
    """The pieces gathered per source (they come in source order), each source's rows
    sorted by cue id in one contiguous table (thousands of small tables would take far
    more memory than their rows); ``DatasetError`` when a cue id is there twice."""
    current: list[_Piece] = []
    for piece in pieces:
        if current and piece.source_id != current[0].source_id:
            yield _sorted_group(current, layout)
            current = []
        current.append(piece)
    if current:
        yield _sorted_group(current, layout)


def _sorted_group(pieces: list[_Piece], layout: DatasetLayout) -> _Group:
    table = pa.concat_tables([p.table for p in pieces], promote_options="default")
    chunks = np.concatenate([p.chunks for p in pieces])
    order = pc.sort_indices(table, sort_keys=[("cue_id", "ascending")])
    table = table.take(order).combine_chunks()
    chunks = chunks[np.asarray(order.to_numpy(), dtype=np.int64)]
    ids = table.column("cue_id")
    if len(ids) > 1:
        same = np.asarray(pc.equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False))
        if same.any():
            cue_id = ids[int(np.flatnonzero(same)[0])].as_py()
            origins = ", ".join(sorted({p.origin.name for p in pieces})[:3])
            raise DatasetError(
                f"cue id {cue_id} is in two manifest files (of {origins}): not compacted; run "
                "'empathynet check --repair', then build again",
                layout.cues_dir,
            )
    seconds: Counter[str] = Counter()
    for piece in pieces:
        seconds.update(piece.seconds)
    return _Group(pieces[0].source_id, table, chunks, dict(seconds))


def _outputs(
    groups: Iterator[_Group], rows: int
) -> Iterator[tuple[pa.Table, ChunkMap, dict[str, float]]]:
    """The compacted files' contents: whole sources, about ``rows`` rows each (a file is
    cut once one and a half of it is gathered, the rest split in two when it is more
    than ``rows``), so that no file is much smaller or larger than asked."""
    buffer: list[_Group] = []
    gathered = 0
    for group in groups:
        buffer.append(group)
        gathered += group.rows
        while gathered >= rows + rows // 2 and len(buffer) > 1:
            taken = _take(buffer, rows)
            gathered -= sum(g.rows for g in taken)
            yield _output(taken)
    if gathered > rows and len(buffer) > 1:
        yield _output(_take(buffer, gathered // 2))
    if buffer:
        yield _output(buffer)


def _take(buffer: list[_Group], rows: int) -> list[_Group]:
    """Remove from the front of ``buffer`` the groups that first reach ``rows`` rows (at
    least one, never all)."""
    count = 0
    for index, group in enumerate(buffer[:-1]):
        count += group.rows
        if count >= rows:
            taken = buffer[: index + 1]
            del buffer[: index + 1]
            return taken
    taken = buffer[:-1]
    del buffer[:-1]
    return taken


def _output(groups: list[_Group]) -> tuple[pa.Table, ChunkMap, dict[str, float]]:
    """One compacted file's rows (the sources come in order, each sorted: the rows are in
    cue id order), its chunk map and stage seconds."""
    table = pa.concat_tables([g.table for g in groups], promote_options="default")
    keys: list[ChunkKey] = []
    per_row: list[npt.NDArray[np.int64]] = []
    for group in groups:
        numbers, inverse = np.unique(group.chunks, return_inverse=True)
        per_row.append(inverse.astype(np.int64).reshape(-1) + len(keys))
        keys.extend((group.source_id, int(n)) for n in numbers)
    chunk_map = ChunkMap.of_rows(keys, np.concatenate(per_row), table.column("cue_id"))
    seconds: Counter[str] = Counter()
    for group in groups:
        seconds.update(group.seconds)
    return table, chunk_map, dict(seconds)


def _write_compacted(
    path: Path, table: pa.Table, chunk_map: ChunkMap, seconds: dict[str, float]
) -> None:
    """Write a compacted file atomically (``<name>`` appears whole, or not at all)."""
    metadata = {CHUNK_MAP_KEY: chunk_map.to_json()}
    if seconds:
        metadata[STAGE_SECONDS_KEY] = json.dumps(seconds, sort_keys=True).encode()
    table = table.replace_schema_metadata(metadata)
    atomic_write_with(
        path,
        lambda tmp: pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS),
    )


def _next_number(layout: DatasetLayout) -> int:
    """One more than the highest number of any compacted file present, set aside or
    listed: a new file never takes an old one's name."""
    names = [path.name.removesuffix(DAMAGED_SUFFIX) for path in layout.cues_dir.glob("compact-*")]
    with contextlib.suppress(DamagedPartError):
        names += read_compacted_index(layout) or []
    matches = [COMPACT_NAME.fullmatch(name) for name in names]
    return max([0, *(int(m.group("number")) for m in matches if m is not None)]) + 1


def rewrite_compacted(layout: DatasetLayout, path: Path, drop: npt.NDArray[np.bool_]) -> int:
    """Write the committed compacted file ``path`` again without the rows ``drop`` marks
    (in row order), atomically, its chunk map fitted; when no row is left, unlist it,
    then delete it. For a caller that holds the lock. Returns the rows left.
    ``DamagedPartError`` when the file cannot be read."""
    table = read_part(path)
    chunk_map = chunk_map_of(table.schema.metadata)
    assert chunk_map is not None  # read_part checked it
    keep = ~np.asarray(drop, dtype=bool)
    left = int(keep.sum())
    if left == table.num_rows:
        return left
    if not left:
        unlist_compacted(layout, path)
        path.unlink(missing_ok=True)
        return 0
    kept = table.filter(pa.array(keep))
    fitted = ChunkMap.of_rows(list(chunk_map.chunks), chunk_map.row_chunks()[keep], kept["cue_id"])
    seconds = _seconds(table)
    share = left / table.num_rows  # the stage seconds follow the rows that stay
    _write_compacted(path, kept, fitted, {k: v * share for k, v in seconds.items()})
    return left


def unlist_compacted(layout: DatasetLayout, path: Path) -> None:
    """Take ``path`` out of ``cues/compacted.json`` (when there is a readable one)."""
    with contextlib.suppress(DamagedPartError):
        listed = read_compacted_index(layout)
        if listed is not None and path.name in listed:
            write_compacted_index(layout, [name for name in listed if name != path.name])


class CommittedChunks:
    """The chunks a dataset has committed, in their own part or in a compacted file: what
    a build skips (``committed_chunks``)."""

    def __init__(self, layout: DatasetLayout) -> None:
        self.layout = layout
        self.parts: dict[ChunkKey, Path] = {}
        #: chunk -> (compacted file, its rows' positions in the file)
        self.compacted: dict[ChunkKey, tuple[Path, npt.NDArray[np.int64]]] = {}
        self.cue_ids: dict[Path, pa.Array] = {}  #: each compacted file's cue ids
        #: files moved aside as damaged, or listed but missing (their chunks are redone)
        self.redone: list[str] = []

    def holds(self, key: ChunkKey) -> bool:
        """Whether chunk ``key`` is committed."""
        return key in self.parts or key in self.compacted

    def _found(self, key: ChunkKey) -> tuple[Path, list[str]]:
        path, rows = self.compacted[key]
        return path, [str(c) for c in self.cue_ids[path].take(pa.array(rows)).to_pylist()]

    def damage(self, key: ChunkKey, cue_ids: Sequence[str]) -> DamagedPartError | None:
        """Why the committed chunk ``key`` cannot stand for the chunk of ``cue_ids``
        (a damaged part, or rows of another chunk), or None (also when not committed)."""
        if key in self.parts:
            return chunk_part_damage(self.parts[key], cue_ids)
        if key not in self.compacted:
            return None
        path, found = self._found(key)
        if sorted(found) != sorted(cue_ids):
            return DamagedPartError(
                f"damaged manifest part: chunk {chunk_name(key)} of this compacted file holds "
                f"{len(found)} rows that are not the {len(cue_ids)} utterances of its chunk "
                "(rows of another chunk)",
                path,
            )
        return None

    def set_aside(self, key: ChunkKey) -> Path:
        """Take chunk ``key`` out of the committed ones, keeping its rows to look at as
        ``<part name>.damaged``; returns that file. A compacted file is written again
        without them (the positions of its other chunks are read again)."""
        if key in self.parts:
            return set_aside(self.parts.pop(key))
        path, rows = self.compacted.pop(key)
        table = read_part(path)
        mask = np.zeros(table.num_rows, dtype=bool)
        mask[rows] = True
        target = self.layout.cues_dir / (chunk_name(key) + DAMAGED_SUFFIX)
        chunk_rows = table.filter(pa.array(mask)).replace_schema_metadata(None)
        atomic_write_with(target, lambda tmp: pq.write_table(chunk_rows, tmp, compression="zstd"))
        rewrite_compacted(self.layout, path, mask)
        for other in [k for k, (p, _) in self.compacted.items() if p == path]:
            del self.compacted[other]
        if path.is_file():
            self._add(path)
        return target

    def _add(self, path: Path) -> None:
        table = read_part(path, ["cue_id"])
        chunk_map = chunk_map_of(table.schema.metadata)
        assert chunk_map is not None  # read_part checked it
        self.cue_ids[path] = table.column("cue_id").combine_chunks()
        for key, rows in chunk_map.chunk_rows().items():
            self.compacted[key] = (path, rows)


def committed_chunks(layout: DatasetLayout, warn: Warn | None = None) -> CommittedChunks:
    """The dataset's committed chunks (for a build, which holds the lock). First finishes
    a stopped compaction (``finish_compaction``); a committed compacted file that cannot
    be read is moved aside as ``<name>.damaged`` with one line to ``warn`` (its chunks
    are then built again), one listed but missing is unlisted."""
    say = warn or warn_on_stderr
    finish_compaction(layout)
    files = manifest_files(layout)
    found = CommittedChunks(layout)
    for path in files.missing:
        unlist_compacted(layout, path)
        say(
            f"{path}: missing, though {layout.compacted_index.name} listed it; "
            "its chunks are redone"
        )
        found.redone.append(path.name)
    for part in files.parts:
        key = part_chunk(part)
        if key is not None:
            found.parts[key] = part
    for path in files.compacted:
        try:
            found._add(path)
        except DamagedPartError as error:
            unlist_compacted(layout, path)
            moved = set_aside(path)
            say(f"{error}; moved aside as {moved.name}, its chunks are redone")
            found.redone.append(path.name)
    return found


__all__ = [
    "AUTO_COMPACT_PARTS",
    "DEFAULT_ROWS",
    "CommittedChunks",
    "CompactResult",
    "committed_chunks",
    "compact_dataset",
    "compact_manifest",
    "finish_compaction",
    "rewrite_compacted",
    "unlist_compacted",
]
