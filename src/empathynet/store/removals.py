"""Takedown: removing a source or single cue groups from a built dataset, for good.

``remove_from_dataset(dataset, source_ids=[...], cue_ids=[...], reason=...)`` is what
``empathynet remove`` runs. Under the dataset's lock it

1. checks every id: its shape (a source id is ``[0-9A-Za-z_]+``, a cue id that and
   ``-<time>[-<n>]``: neither can name a path outside ``media/``) and that the dataset
   has it (or removed it before); an unknown id is one line naming it, nothing changed;
2. appends one JSON line per new removal to ``reports/removals.jsonl`` (fsynced) *before*
   deleting anything: time (UTC), kind (``source`` / ``cue``), id, source id, the removed
   cue ids, the reason, and the source's url and title when known;
3. deletes: a source's manifest parts (``.damaged`` ones too) and its rows of the
   compacted files (each written again atomically; a set-aside ``.damaged`` compacted file
   that may hold them is deleted), ``media/<source_id>/`` and its row of
   ``sources.parquet``; a cue group's row (its part or compacted file rewritten
   atomically, deleted when no row is left) and ``media/<source_id>/<cue_id>/``; their votes and
   pre-labels, and recomputes ``labels/aggregate.parquet`` with its stored tie rule and
   method;
4. names the tasks whose items use a removed cue group (they need re-making);
5. writes the HTML report again when the dataset has one (its pages show sentences,
   stills and sources), or deletes its pages when it cannot, and says how many removed cue
   groups the class suggestion still names.

Every deletion is idempotent, so a removal stopped half-way (``kill -9``) is finished by
running the same command again, or by the next build (``finish_removals``); a removal
run again after it finished changes nothing and says so. The build never re-creates a
removed source or cue group (``pipeline/build.py`` reads ``read_removals``), and
``tasks validate`` and the Hugging Face export refuse a task made before a removal
(``stale_tasks``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.errors import ConfigError, DatasetError, EmpathyNetError
from empathynet.labels.aggregate import (
    DEFAULT_METHOD,
    aggregate_method,
    aggregate_with_model,
    model_metadata,
    read_aggregate,
    write_aggregate,
)
from empathynet.labels.labelstudio import PRELABELS_NAME
from empathynet.labels.store import LabelsLayout, dataset_taxonomy
from empathynet.labels.votes import read_votes
from empathynet.store.atomic import atomic_write_table
from empathynet.store.compact import finish_compaction, rewrite_compacted, unlist_compacted
from empathynet.store.layout import DatasetLayout, require_dataset
from empathynet.store.lock import dataset_lock, writes_dataset
from empathynet.store.parts import (
    DAMAGED_SUFFIX,
    PART_NAME,
    DamagedPartError,
    ManifestFiles,
    file_sources,
    manifest_files,
    read_part,
    remove_cue_media,
)

#: The removals log, relative to the dataset root.
REMOVALS_FILE = "reports/removals.jsonl"
KINDS: tuple[str, ...] = ("source", "cue")
#: A source id (``content_hash``, or a synthetic dataset's): the manifest parts' pattern.
SOURCE_ID = re.compile(r"[0-9A-Za-z_]+")
#: A cue id: ``<source_id>-<start_ms>[-<ordinal>]`` (``data.models.make_cue_id``).
CUE_ID = re.compile(r"(?P<source_id>[0-9A-Za-z_]+)-[0-9A-Za-z_-]+")


def removals_path(root: str | Path) -> Path:
    """``reports/removals.jsonl`` of the dataset at ``root``."""
    return Path(root) / REMOVALS_FILE


def cue_source(cue_id: str) -> str:
    """The source id a cue id starts with; ``ConfigError`` for an id not of a cue."""
    match = CUE_ID.fullmatch(cue_id)
    if match is None:
        raise ConfigError(
            f"{cue_id!r} is not a cue id (<source_id>-<start_ms>, letters, digits, _ and -)"
        )
    return match.group("source_id")


def check_source_id(source_id: str) -> str:
    """``source_id`` when it has a source id's shape, else ``ConfigError``."""
    if SOURCE_ID.fullmatch(source_id) is None:
        raise ConfigError(f"{source_id!r} is not a source id (letters, digits and _)")
    return source_id


@dataclass(frozen=True)
class RemovalEntry:
    """One line of ``reports/removals.jsonl``: a source or a cue group taken down."""

    time: str  #: when, UTC ISO 8601 (``2026-05-01T12:30:00Z``)
    kind: str  #: ``source`` or ``cue``
    id: str  #: the source id or the cue id
    source_id: str  #: the source (for a source: ``id``)
    cue_ids: tuple[str, ...]  #: every cue id removed with it (manifest rows, media folders)
    reason: str | None = None
    url: str | None = None  #: the source's, when known
    title: str | None = None  #: the source's, when known

    @property
    def date(self) -> str:
        """The day of the removal, ``YYYY-MM-DD``."""
        return self.time[:10]

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "kind": self.kind,
            "id": self.id,
            "source_id": self.source_id,
            "cue_ids": list(self.cue_ids),
            "reason": self.reason,
            "url": self.url,
            "title": self.title,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> RemovalEntry:
        """An entry from its JSON object; ``ValueError`` saying what is wrong."""
        kind, ident, time = value.get("kind"), value.get("id"), value.get("time")
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {list(KINDS)}")
        if not isinstance(ident, str) or not isinstance(time, str):
            raise ValueError("no string id or time")
        source_id = check_source_id(ident) if kind == "source" else cue_source(ident)
        cue_ids = value.get("cue_ids", [])
        if not isinstance(cue_ids, list) or not all(isinstance(c, str) for c in cue_ids):
            raise ValueError("cue_ids is not a list of strings")
        optional = {key: value.get(key) for key in ("reason", "url", "title")}
        if any(v is not None and not isinstance(v, str) for v in optional.values()):
            raise ValueError("reason, url and title must be strings or null")
        return cls(time, kind, ident, source_id, tuple(cue_ids), **optional)


@dataclass(frozen=True)
class Removals:
    """Everything ``reports/removals.jsonl`` says was removed from a dataset."""

    source_ids: frozenset[str] = frozenset()
    #: every removed cue id: those removed one by one and those removed with their source
    cue_ids: frozenset[str] = frozenset()
    entries: tuple[RemovalEntry, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def entry(self, ident: str) -> RemovalEntry | None:
        """The first entry that removed the source or cue ``ident`` (a cue of a removed
        source: its source's entry), or None."""
        for entry in self.entries:
            if entry.id == ident or (entry.kind == "source" and ident in entry.cue_ids):
                return entry
        if CUE_ID.fullmatch(ident):
            return next((e for e in self.entries if e.id == cue_source(ident)), None)
        return None

    def covers(self, cue_id: str) -> bool:
        """Whether the cue group ``cue_id`` was removed (by itself or with its source)."""
        if cue_id in self.cue_ids:
            return True
        match = CUE_ID.fullmatch(cue_id)
        return match is not None and match.group("source_id") in self.source_ids

    def kept(self, cue_ids: Sequence[str]) -> list[int]:
        """The positions of the cue ids of ``cue_ids`` that were not removed."""
        if not self.entries:
            return list(range(len(cue_ids)))
        return [i for i, cue_id in enumerate(cue_ids) if not self.covers(cue_id)]

    def skip_reason(self, source_id: str) -> str:
        """Why a build does not use a removed source: ``removed from the dataset on
        <date>: <reason>``."""
        entry = self.entry(source_id)
        date = entry.date if entry else "an earlier day"
        reason = entry.reason if entry and entry.reason else "no reason given"
        return f"removed from the dataset on {date}: {reason} ({REMOVALS_FILE})"


def _parse(data: bytes, path: Path) -> tuple[list[RemovalEntry], int]:
    """The entries of the log's bytes and the offset where its good lines end (a damaged
    last line, the partial write of a killed removal, is left out)."""
    lines = data.split(b"\n")
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    entries: list[RemovalEntry] = []
    offset = end = 0
    for index, raw in enumerate(lines):
        offset += len(raw) + 1
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"))
            if not isinstance(value, dict):
                raise ValueError(f"a JSON {type(value).__name__}, not an object")
            entries.append(RemovalEntry.from_dict(value))
        except (ValueError, ConfigError) as error:
            if index == last:
                break  # cut short by a kill: it was never acted on (the log comes first)
            what = " ".join(str(error).split())
            raise DatasetError(
                f"not a removal record ({what}); restore the file from a backup",
                path,
                f"line {index + 1}",
            ) from None
        end = min(offset, len(data))
    return entries, end


def read_removals(root: str | Path) -> Removals:
    """What ``reports/removals.jsonl`` of the dataset at ``root`` lists (empty without
    the file). A damaged last line (a removal killed while logging it, so never acted
    on) is ignored; any other bad line raises ``DatasetError`` naming the file and line."""
    path = removals_path(root)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Removals()
    except OSError as error:
        raise DatasetError(f"cannot read it ({error.strerror or error})", path) from None
    entries, _ = _parse(data, path)
    return _removals(entries)


def _removals(entries: Iterable[RemovalEntry]) -> Removals:
    """``Removals`` of the given entries."""
    chosen = tuple(entries)
    cues = {c for e in chosen for c in e.cue_ids}
    cues.update(e.id for e in chosen if e.kind == "cue")
    return Removals(frozenset(e.id for e in chosen if e.kind == "source"), frozenset(cues), chosen)


def _append(path: Path, entries: Iterable[RemovalEntry]) -> None:
    """Append ``entries`` to the log, one JSON line each, and fsync them (and, for a new
    file, its folder) before returning. A damaged last line is cut off first."""
    text = "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        size = os.fstat(fd).st_size
        data = os.pread(fd, size, 0) if size else b""
        _, end = _parse(data, path)
        if end < size:
            os.ftruncate(fd, end)  # the partial line of a killed removal: never acted on
        prefix = b"\n" if end and data[end - 1 : end] != b"\n" else b""
        payload = prefix + text.encode("utf-8")
        written = 0
        while written < len(payload):
            written += os.pwrite(fd, payload[written:], end + written)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


@dataclass(frozen=True)
class RemovalCounts:
    """What one pass of deletions changed (all zero: it was done already)."""

    parts_rewritten: int = 0  #: manifest parts written again without removed rows
    parts_deleted: int = 0  #: manifest parts deleted (a source's, or left without rows)
    media_folders: int = 0  #: ``media/<source>/`` and ``media/<source>/<cue>/`` deleted
    source_rows: int = 0  #: rows deleted from ``sources.parquet``
    votes: int = 0  #: rows deleted from ``labels/votes.parquet``
    prelabels: int = 0  #: rows deleted from ``labels/prelabels.parquet``
    #: rows of the recomputed ``labels/aggregate.parquet``; None when not recomputed
    aggregate_rows: int | None = None

    @property
    def changed(self) -> bool:
        return any(
            (
                self.parts_rewritten,
                self.parts_deleted,
                self.media_folders,
                self.source_rows,
                self.votes,
                self.prelabels,
                self.aggregate_rows is not None,
            )
        )

    def line(self) -> str:
        aggregate = (
            "not recomputed"
            if self.aggregate_rows is None
            else f"recomputed ({self.aggregate_rows} cue groups)"
        )
        return (
            f"deleted: {_plural(self.parts_deleted, 'manifest part')}, "
            f"{_plural(self.media_folders, 'media folder')}, "
            f"{_plural(self.source_rows, 'source row')}, {_plural(self.votes, 'vote')}, "
            f"{_plural(self.prelabels, 'pre-label')}; rewritten: "
            f"{_plural(self.parts_rewritten, 'manifest part')}; label aggregate {aggregate}"
        )


@dataclass(frozen=True)
class RemovalResult:
    """What ``remove_from_dataset`` did."""

    root: Path
    removed: tuple[RemovalEntry, ...]  #: the removals this run logged
    #: removals asked for that were logged before (finished now if they were not)
    already: tuple[RemovalEntry, ...]
    counts: RemovalCounts
    #: tasks whose items use a removed cue group: name -> items (they need re-making)
    stale_tasks: dict[str, int] = field(default_factory=dict)
    #: the HTML report (``reports/index.html``, when there was one): ``"rewritten"``
    #: without the removed cue groups, or why it could not be (its pages were deleted)
    report: str | None = None
    #: removed cue groups the class suggestion (``reports/classes/``) still names
    suggestion_names: int = 0

    def lines(self) -> list[str]:
        """A human-readable summary, one fact per line."""
        out = [f"dataset {self.root}"]
        for entry in self.removed:
            known = ", ".join(v for v in (entry.title, entry.url) if v)
            if entry.kind == "cue":
                out.append(f"  removed cue group {entry.id}")
            else:
                what = f"source {entry.id}" + (f" ({known})" if known else "")
                out.append(f"  removed {what}: {_plural(len(entry.cue_ids), 'cue group')}")
        for entry in self.already:
            out.append(f"  {entry.kind} {entry.id}: already removed on {entry.date}")
        if not self.removed and not self.counts.changed:
            out.append(f"  nothing to do: everything asked was removed before ({REMOVALS_FILE})")
        else:
            if self.already and not self.removed:
                out.append("  an interrupted removal was finished")
            out.append(f"  {self.counts.line()}")
            out.append(f"  logged in {REMOVALS_FILE}")
        if self.stale_tasks:
            out.append(f"  {stale_task_problem(self.stale_tasks)}")
        if self.report == "rewritten":
            out.append(
                "  reports/index.html written again without them (a leaderboard it showed is "
                "left out until the tasks are remade and evaluated)"
            )
        elif self.report is not None:
            out.append(f"  the report's pages were deleted: {self.report}")
        if self.suggestion_names:
            out.append(
                f"  the class suggestion (reports/classes/) still names "
                f"{_plural(self.suggestion_names, 'removed cue group')}: run empathynet "
                "classes suggest again"
            )
        return out


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def stale_task_problem(stale: Mapping[str, int]) -> str:
    """The one line that says which tasks (``stale_tasks``: name -> items) use removed
    cue groups and what to do."""
    if len(stale) == 1:
        ((name, items),) = stale.items()
        return (
            f"task {name}: {_plural(items, 'item')} {'uses' if items == 1 else 'use'} removed "
            f"cue groups ({REMOVALS_FILE}): "
            "re-make it with empathynet tasks remake DATASET"
        )
    named = ", ".join(f"{name} ({_plural(items, 'item')})" for name, items in stale.items())
    return (
        f"tasks {named} use removed cue groups ({REMOVALS_FILE}): re-make them with "
        "empathynet tasks remake DATASET"
    )


def _removed_mask(cue_ids: pa.Array | pa.ChunkedArray, removals: Removals) -> pa.Array:
    """Per cue id, whether ``removals`` covers it (by itself or through its source)."""
    if isinstance(cue_ids, pa.ChunkedArray):
        cue_ids = cue_ids.combine_chunks()
    cue_ids = cue_ids.cast(pa.string())
    by_cue = pc.is_in(cue_ids, value_set=pa.array(sorted(removals.cue_ids), pa.string()))
    prefix = pc.struct_field(pc.extract_regex(cue_ids, r"^(?P<source_id>[0-9A-Za-z_]+)-"), [0])
    by_source = pc.is_in(prefix, value_set=pa.array(sorted(removals.source_ids), pa.string()))
    return pc.fill_null(pc.or_kleene(by_cue, by_source), False)


def _stale_items(path: Path, removals: Removals) -> int:
    """Items of one task items file that use a removed cue group (as the item's cue
    group or one of its options); 0 for an unreadable file (validation says why)."""
    try:
        names = pq.read_schema(path).names
        columns = [c for c in ("cue_id", "option_cue_ids") if c in names]
        table = pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException):
        return 0
    if table.num_rows == 0 or "cue_id" not in columns:
        return 0
    stale = _removed_mask(table.column("cue_id"), removals).to_numpy(zero_copy_only=False)
    if "option_cue_ids" in columns:
        options = table.column("option_cue_ids").combine_chunks()
        flat = _removed_mask(pc.list_flatten(options), removals).to_numpy(zero_copy_only=False)
        parents = pc.list_parent_indices(options).to_numpy(zero_copy_only=False)
        stale[parents[flat]] = True
    return int(np.count_nonzero(stale))


def stale_tasks(root: str | Path, names: Iterable[str] | None = None) -> dict[str, int]:
    """The tasks of the dataset at ``root`` (or of ``names``) whose items use a removed
    cue group, with how many items do: ``{name: items}``; empty when nothing was removed.
    Such a task was made before the removal and must be made again."""
    removals = read_removals(root)
    if not removals:
        return {}
    from empathynet.tasks.splits import SPLITS  # tasks imports this module (validate)

    folder = Path(root) / "tasks"
    wanted = sorted(p.parent.name for p in folder.glob("*/spec.yaml")) if names is None else names
    found: dict[str, int] = {}
    for name in wanted:
        if Path(name).name != name or name in ("", ".", ".."):
            continue
        items = sum(
            _stale_items(folder / name / f"{split}.parquet", removals)
            for split in SPLITS
            if (folder / name / f"{split}.parquet").is_file()
        )
        if items:
            found[name] = items
    return found


def _source_parts(layout: DatasetLayout, source_id: str, damaged: bool) -> list[Path]:
    """The manifest parts of ``source_id`` (and its set-aside ``.damaged`` ones)."""
    found = []
    for path in layout.cues_dir.glob(f"part-{source_id}-*"):
        name = path.name
        if damaged and name.endswith(DAMAGED_SUFFIX):
            name = name.removesuffix(DAMAGED_SUFFIX)
        match = PART_NAME.fullmatch(name)
        if match is not None and match.group("source_id") == source_id and path.is_file():
            found.append(path)
    return sorted(found)


def _part_cue_ids(path: Path) -> list[str]:
    """The cue ids of a committed part; [] when it is damaged (readers skip it)."""
    try:
        return [str(c) for c in read_part(path, ["cue_id"]).column("cue_id").to_pylist()]
    except DamagedPartError:
        return []


def _holding(files: ManifestFiles, source_ids: Collection[str]) -> list[Path]:
    """The committed compacted files whose chunk maps name one of ``source_ids``."""
    wanted = set(source_ids)
    return [path for path, found in files.maps.items() if wanted.intersection(found.sources)]


def _compacted_cue_ids(path: Path, source_id: str) -> list[str]:
    """The cue ids of ``source_id``'s rows in a compacted file; [] when it is damaged."""
    try:
        table = read_part(path, ["cue_id", "source_id"])
    except DamagedPartError:
        return []
    rows = table.filter(pc.equal(table.column("source_id"), source_id))
    return [str(c) for c in rows.column("cue_id").to_pylist()]


def _manifest_cue_ids(layout: DatasetLayout, source_id: str, files: ManifestFiles) -> set[str]:
    """The cue ids of a source's rows: in its parts and in the compacted files."""
    ids = {c for part in _source_parts(layout, source_id, False) for c in _part_cue_ids(part)}
    for path in _holding(files, [source_id]):
        ids.update(_compacted_cue_ids(path, source_id))
    return ids


def _source_cue_ids(layout: DatasetLayout, source_id: str, files: ManifestFiles) -> list[str]:
    """Every cue id of a source: its manifest rows and its media folders."""
    ids = _manifest_cue_ids(layout, source_id, files)
    media = layout.media_dir / source_id
    if media.is_dir() and not media.is_symlink():
        ids.update(p.name for p in media.iterdir() if CUE_ID.fullmatch(p.name))
    return sorted(ids)


def _source_rows(layout: DatasetLayout) -> dict[str, dict[str, Any]]:
    """``source_id -> {url, title}`` of ``sources.parquet`` (empty without it)."""
    path = layout.sources_parquet
    if not path.is_file():
        return {}
    try:
        names = pq.read_schema(path).names
        columns = [c for c in ("source_id", "url", "title") if c in names]
        rows = pq.read_table(path, columns=columns).to_pylist()
    except (OSError, pa.ArrowException) as error:
        raise DatasetError(f"cannot read sources.parquet: {error}", path) from None
    return {str(r["source_id"]): r for r in rows}


def _delete_sources(
    layout: DatasetLayout, source_ids: Collection[str], files: ManifestFiles
) -> tuple[int, int, int, int]:
    """Delete the sources' parts, rows of compacted files, media folders and rows;
    (parts deleted, compacted files rewritten, folders, rows)."""
    parts = rewritten = folders = rows = 0
    if source_ids:
        removed_sources = pa.array(sorted(source_ids), pa.string())
        for path in _holding(files, source_ids):
            try:
                source_column = read_part(path, ["source_id"]).column("source_id")
            except DamagedPartError:  # unreadable, it may hold their rows: it goes (a
                unlist_compacted(layout, path)  # build redoes the chunks of the others)
                path.unlink(missing_ok=True)
                parts += 1
                continue
            drop = pc.is_in(source_column, value_set=removed_sources)
            if rewrite_compacted(layout, path, np.asarray(drop.to_numpy(zero_copy_only=False))):
                rewritten += 1
            else:
                parts += 1
        # a compacted file set aside as damaged may hold their rows too: it goes
        for path in layout.cues_dir.glob(f"compact-*.parquet{DAMAGED_SUFFIX}"):
            held = file_sources(path)
            if not held or held.intersection(source_ids):
                path.unlink(missing_ok=True)
                parts += 1
    for source_id in sorted(source_ids):
        for part in _source_parts(layout, source_id, True):
            part.unlink(missing_ok=True)
            parts += 1
        media = layout.media_dir / check_source_id(source_id)
        if media.is_symlink():
            media.unlink()
            folders += 1
        elif media.is_dir():
            shutil.rmtree(media)
            folders += 1
    path = layout.sources_parquet
    if source_ids and path.is_file():
        table = pq.read_table(path)
        removed = pc.is_in(table.column("source_id"), value_set=pa.array(sorted(source_ids)))
        rows = int(pc.sum(removed).as_py() or 0)
        if rows:
            atomic_write_table(path, table.filter(pc.invert(removed)))
    return parts, rewritten, folders, rows


def _delete_cues(
    layout: DatasetLayout, cue_ids: Collection[str], files: ManifestFiles
) -> tuple[int, int, int]:
    """Delete the cue groups' rows (rewriting their parts or compacted files) and media
    folders; (files rewritten, files deleted, media folders)."""
    by_source: dict[str, set[str]] = {}
    for cue_id in cue_ids:
        by_source.setdefault(cue_source(cue_id), set()).add(cue_id)
    rewritten = deleted = folders = 0
    for source_id, ids in sorted(by_source.items()):
        value_set = pa.array(sorted(ids), pa.string())
        for part in _source_parts(layout, source_id, False):
            if not ids.intersection(_part_cue_ids(part)):
                continue
            table = read_part(part)
            kept = table.filter(pc.invert(pc.is_in(table.column("cue_id"), value_set=value_set)))
            if kept.num_rows:
                atomic_write_table(part, kept)
                rewritten += 1
            else:
                part.unlink()
                deleted += 1
        for path in _holding(files, [source_id]):
            try:
                column = read_part(path, ["cue_id"]).column("cue_id")
            except DamagedPartError:
                continue  # not read, and a build sets it aside: its rows come back never
            drop = np.asarray(pc.is_in(column, value_set=value_set).to_numpy(zero_copy_only=False))
            if not drop.any():
                continue
            if rewrite_compacted(layout, path, drop):
                rewritten += 1
            else:
                deleted += 1
                files.maps.pop(path)
        folders += remove_cue_media(layout, source_id, sorted(ids))
    return rewritten, deleted, folders


def _purge_labels(root: Path, removals: Removals) -> tuple[int, int, int | None]:
    """Delete the removed cue groups' votes and pre-labels and recompute the aggregate
    (its tie rule and method kept) when it counted any; (votes, pre-labels, rows of the
    new aggregate or None)."""
    labels = LabelsLayout(root)
    votes_deleted = 0
    votes = read_votes(root)
    if votes.num_rows:
        removed = _removed_mask(votes.column("cue_id"), removals)
        votes_deleted = int(pc.sum(removed).as_py() or 0)
        if votes_deleted:
            votes = votes.filter(pc.invert(removed))
            atomic_write_table(labels.votes, votes)
    aggregate_rows: int | None = None
    found = read_aggregate(labels.aggregate)
    if found is not None:
        table, tie_rule = found
        counted = int(pc.sum(_removed_mask(table.column("cue_id"), removals)).as_py() or 0)
        if votes_deleted or counted:  # both: an earlier run stopped between the two writes
            method = aggregate_method(labels.aggregate) or DEFAULT_METHOD
            taxonomy = dataset_taxonomy(root)
            aggregate, model, latest = aggregate_with_model(votes, taxonomy, tie_rule, method)
            fitted = None
            if model is not None and latest is not None:
                fitted = model_metadata(model, latest, taxonomy)
            write_aggregate(labels.aggregate, aggregate, tie_rule, method, fitted)
            aggregate_rows = aggregate.num_rows
    prelabels_deleted = 0
    path = labels.folder / PRELABELS_NAME  # classes.prelabels: machine pre-labels
    if path.is_file():
        try:
            prelabels = pq.read_table(path)
        except (OSError, pa.ArrowException) as error:
            raise DatasetError(f"cannot read the pre-labels: {error}", path) from None
        if prelabels.num_rows:
            removed = _removed_mask(prelabels.column("cue_id"), removals)
            prelabels_deleted = int(pc.sum(removed).as_py() or 0)
            if prelabels_deleted:
                atomic_write_table(path, prelabels.filter(pc.invert(removed)))
    return votes_deleted, prelabels_deleted, aggregate_rows


def _apply(layout: DatasetLayout, removals: Removals) -> RemovalCounts:
    """Delete everything of ``removals`` still in the dataset (idempotent)."""
    finish_compaction(layout)  # a part a compaction left would bring rows back later
    files = manifest_files(layout, maps=True)
    parts, compacted, folders, rows = _delete_sources(layout, removals.source_ids, files)
    single = [
        e.id for e in removals.entries if e.kind == "cue" and e.source_id not in removals.source_ids
    ]
    files = manifest_files(layout, maps=True)
    rewritten, emptied, cue_folders = _delete_cues(layout, single, files)
    votes, prelabels, aggregate_rows = _purge_labels(layout.root, removals)
    return RemovalCounts(
        parts_rewritten=rewritten + compacted,
        parts_deleted=parts + emptied,
        media_folders=folders + cue_folders,
        source_rows=rows,
        votes=votes,
        prelabels=prelabels,
        aggregate_rows=aggregate_rows,
    )


def finish_removals(root: str | Path, removals: Removals | None = None) -> RemovalCounts:
    """Delete whatever the logged removals (``removals``, default: read from the dataset)
    left in the dataset at ``root``, e.g. after a removal was killed half-way; the build
    calls it before planning its chunks. Nothing to do (the usual case) reads only the
    manifest parts of the removed cue groups' sources and the label files."""
    found = read_removals(root) if removals is None else removals
    if not found:
        return RemovalCounts()
    layout = DatasetLayout(Path(root))
    with dataset_lock(layout.root):
        return _apply(layout, found)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _entry(
    time: str,
    kind: str,
    ident: str,
    source_id: str,
    cue_ids: list[str],
    reason: str | None,
    source_row: Mapping[str, Any],
) -> RemovalEntry:
    url, title = source_row.get("url"), source_row.get("title")
    return RemovalEntry(
        time=time,
        kind=kind,
        id=ident,
        source_id=source_id,
        cue_ids=tuple(cue_ids),
        reason=reason,
        url=None if url is None else str(url),
        title=None if title is None else str(title),
    )


@writes_dataset
def remove_from_dataset(
    dataset: str | Path,
    *,
    source_ids: Iterable[str] = (),
    cue_ids: Iterable[str] = (),
    reason: str | None = None,
) -> RemovalResult:
    """Take sources and cue groups out of ``dataset`` for good (see the module docstring).

    ``source_ids``: whole sources (every manifest part, media folder, the row of
    ``sources.parquet``); ``cue_ids``: single cue groups (their rows and media folders).
    Their votes and pre-labels go too and the label aggregate is recomputed. ``reason``
    is logged with each removal in ``reports/removals.jsonl``, written before anything is
    deleted. Ids removed before are finished if a removal stopped half-way, else left
    alone (``RemovalResult.already``).

    Raises ``ConfigError`` when no id is given or an id has not the shape of one, and
    ``DatasetError`` naming the first id the dataset does not have (nothing changed).
    """
    layout = require_dataset(dataset)
    if isinstance(source_ids, str):  # one id, not its letters
        source_ids = [source_ids]
    if isinstance(cue_ids, str):
        cue_ids = [cue_ids]
    sources = list(dict.fromkeys(check_source_id(s) for s in source_ids))
    cues = list(dict.fromkeys(cue_ids))
    for cue_id in cues:
        cue_source(cue_id)
    if not sources and not cues:
        raise ConfigError("nothing to remove: give a source id or a cue id")
    if reason is not None:
        reason = " ".join(reason.split()) or None
    logged = read_removals(layout.root)
    known = _source_rows(layout)
    files = manifest_files(layout, maps=True)
    time = _now()
    new: list[RemovalEntry] = []
    already: list[RemovalEntry] = []
    unknown: list[str] = []
    for source_id in sources:
        if (entry := logged.entry(source_id)) is not None:
            already.append(entry)
            continue
        ids = _source_cue_ids(layout, source_id, files)
        if source_id not in known and not ids:
            unknown.append(f"source {source_id}")
            continue
        row = known.get(source_id, {})
        new.append(_entry(time, "source", source_id, source_id, ids, reason, row))
    part_ids: dict[str, set[str]] = {}
    for cue_id in cues:
        source_id = cue_source(cue_id)
        if source_id in sources:
            continue  # removed with its source
        if (entry := logged.entry(cue_id)) is not None:
            already.append(entry)
            continue
        if source_id not in part_ids:
            part_ids[source_id] = _manifest_cue_ids(layout, source_id, files)
        if cue_id not in part_ids[source_id]:
            unknown.append(f"cue group {cue_id}")
            continue
        row = known.get(source_id, {})
        new.append(_entry(time, "cue", cue_id, source_id, [cue_id], reason, row))
    if unknown:
        more = f" (and {len(unknown) - 1} more unknown ids)" if len(unknown) > 1 else ""
        raise DatasetError(
            f"no {unknown[0]} in the dataset nor in {REMOVALS_FILE}{more}; nothing was removed "
            "(source ids are in sources.parquet, cue ids in the cue_id column of cues/)",
            layout.root,
        )
    if new:
        _append(removals_path(layout.root), new)  # first: a kill from here on is finished
    chosen = _removals([*new, *dict.fromkeys(already)])
    counts = _apply(layout, chosen)
    changed = bool(new) or counts.changed
    return RemovalResult(
        root=layout.root,
        removed=tuple(new),
        already=tuple(dict.fromkeys(already)),
        counts=counts,
        stale_tasks=stale_tasks(layout.root),
        report=_rewrite_report(layout) if changed else None,
        suggestion_names=_suggestion_names(layout, read_removals(layout.root).cue_ids),
    )


#: The report's files that show cue rows (``report.html``): rewritten or deleted on removal.
_REPORT_PAGES = ("index.html", "cues.html", "sources.html")
_REPORT_FOLDERS = ("data", "sources")


def _rewrite_report(layout: DatasetLayout) -> str | None:
    """Write the HTML report again without what was removed, when the dataset has one
    (its pages show cue texts, stills and sources); ``None`` without a report. When it
    cannot be written, its pages are deleted rather than left showing removed rows, and
    the reason is returned."""
    reports = layout.reports_dir
    if not (reports / "index.html").is_file():
        return None
    from empathynet.report.html import write_report

    try:
        write_report(layout.root)
    except (EmpathyNetError, OSError) as error:
        for name in _REPORT_PAGES:
            (reports / name).unlink(missing_ok=True)
        for folder in _REPORT_FOLDERS:
            if (reports / folder).is_dir() and not (reports / folder).is_symlink():
                shutil.rmtree(reports / folder)
        return f"{error}; run empathynet report DATASET to write it again"
    return "rewritten"


def _suggestion_names(layout: DatasetLayout, removed: Collection[str]) -> int:
    """How many of ``removed`` the class suggestion (``suggestion.json``) names."""
    path = layout.reports_dir / "classes" / "suggestion.json"
    if not removed or not path.is_file():
        return 0
    try:
        named = json.loads(path.read_text(encoding="utf-8")).get("cue_ids", [])
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return 0
    return len(set(removed).intersection(map(str, named)))


__all__ = [
    "REMOVALS_FILE",
    "RemovalCounts",
    "RemovalEntry",
    "RemovalResult",
    "Removals",
    "cue_source",
    "finish_removals",
    "read_removals",
    "removals_path",
    "remove_from_dataset",
    "stale_task_problem",
    "stale_tasks",
]
