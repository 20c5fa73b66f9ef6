"""``check_dataset``: is a dataset directory whole? And, asked to, make it rebuildable.

Checked, one line per problem naming the file:

* ``dataset.json``: a JSON object of format ``empathynet-dataset``, a ``format_version``
  this package reads and a ``config_hash`` that the manifest rows' ``stage_versions``
  (``cues@4+<hash>``) agree with;
* ``sources.parquet`` reads;
* every manifest part reads as Parquet with a cue manifest's schema and holds only rows
  of its own source (``store/parts.py``), every compacted file also fits its chunk map,
  ``cues/compacted.json`` lists files that exist, and no cue id is in two chunks; files a
  stopped compaction left (their rows are in compacted files) are listed;
* every media file a row names (an accepted row's media, a rejected row's thumbnail) is
  inside the dataset and exists, with the size the row recorded when it was written
  (``media_bytes``; rows written before sizes were recorded are checked for existence
  only).

``repair=True`` deletes each chunk with a problem (its manifest part and its cues' media
folders; a chunk inside a compacted file: its rows, the file written again atomically; a
compacted file that cannot be read: the whole file) and an unreadable ``sources.parquet``,
so that building again with the same inputs and options redoes exactly those chunks; the
report gives that command. It deletes what a stopped compaction left (nothing to redo)
and writes a damaged ``cues/compacted.json`` again from the compacted files present.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from empathynet.config import EmpathyNetConfig, from_mapping, to_mapping
from empathynet.errors import ConfigError, DatasetError, PathEscapeError
from empathynet.pipeline.build import config_hash
from empathynet.store.atomic import atomic_write_bytes
from empathynet.store.compact import (
    finish_compaction,
    rewrite_compacted,
    unlist_compacted,
    write_compacted_index,
)
from empathynet.store.layout import DATASET_FORMAT, SUPPORTED_FORMAT_VERSIONS, DatasetLayout
from empathynet.store.lock import dataset_lock
from empathynet.store.parts import (
    ChunkKey,
    DamagedPartError,
    ManifestFiles,
    chunk_map_of,
    chunk_name,
    file_sources,
    is_compacted,
    manifest_files,
    read_part,
    remove_cue_media,
)

#: A checked unit: a manifest file, and for a compacted file one of its chunks.
Unit = tuple[Path, ChunkKey | None]

#: Row fields that name one media file, and those that name several.
MEDIA_PATH_FIELDS = ("clip_path", "face_clip_path", "audio_path", "audio_blur_path", "thumb_path")
MEDIA_LIST_FIELDS = ("still_paths", "face_crop_paths", "media_files")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a dataset."""

    #: dataset_json, sources, damaged_part, duplicate_rows, other_options, path_escape,
    #: missing_media, media_size, compacted_list, leftover
    kind: str
    path: str  #: the file it is about, relative to the dataset root
    message: str  #: what is wrong, one line
    #: the manifest part whose chunk a repair deletes (relative), if the problem has one
    part: str | None = None
    repaired: bool = False
    #: when ``part`` is a compacted file: the chunk of it a repair deletes (its part's
    #: name); None: the whole file
    chunk: str | None = None

    def line(self) -> str:
        """``media/ab12.../still_0.jpg: missing (cue ..., cues/part-....parquet)``."""
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class CheckReport:
    """What ``check_dataset`` found and, with ``repair``, did."""

    root: str
    parts: int = 0  #: manifest parts checked
    rows: int = 0  #: manifest rows read
    media_files: int = 0  #: media files checked
    problems: list[Problem] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  #: what the repair did, one line each
    #: the command that redoes what the repair removed (None: nothing to redo)
    rebuild_command: str | None = None

    @property
    def ok(self) -> bool:
        """No problem left unrepaired."""
        return all(problem.repaired for problem in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "ok": self.ok,
            "parts": self.parts,
            "rows": self.rows,
            "media_files": self.media_files,
            "problems": [problem.to_dict() for problem in self.problems],
            "actions": self.actions,
            "rebuild_command": self.rebuild_command,
        }

    def lines(self) -> list[str]:
        """A human-readable report: one line per problem, then what was done."""
        out = [
            f"dataset {self.root}: {self.parts} manifest parts, {self.rows} rows, "
            f"{self.media_files} media files checked"
        ]
        out.extend(
            f"  {'repaired' if problem.repaired else 'problem'}: {problem.line()}"
            for problem in self.problems
        )
        out.extend(f"  {action}" for action in self.actions)
        if self.rebuild_command:
            out.append(f"  to redo what was removed, run: {self.rebuild_command}")
        left = sum(not problem.repaired for problem in self.problems)
        if not self.problems:
            out.append("  ok: no problems")
        elif left:
            hint = "" if self.actions else " (empathynet check --repair deletes damaged chunks)"
            out.append(f"  {left} problems{hint}")
        else:
            out.append(f"  {len(self.problems)} problems, all repaired")
        return out


def check_dataset(root: str | Path, *, repair: bool = False) -> CheckReport:
    """Check the dataset at ``root`` (see the module); with ``repair``, delete each chunk
    with a problem so that the build redoes it. ``DatasetError`` when ``root`` is not a
    dataset directory at all (neither ``dataset.json`` nor ``cues/``)."""
    layout = DatasetLayout(Path(root))
    if not layout.dataset_json.exists() and not layout.cues_dir.is_dir():
        raise DatasetError("not an EmpathyNet dataset (no dataset.json, no cues/)", layout.root)
    if repair:
        # Repairing deletes parts and media: no other command may write meanwhile. (Not
        # ``writes_dataset``: a malformed dataset.json is one of the things to report.)
        with dataset_lock(layout.root):
            return _check(layout, repair=True)
    return _check(layout, repair=False)


def _check(layout: DatasetLayout, *, repair: bool) -> CheckReport:
    report = CheckReport(str(layout.root))
    problems = report.problems
    info, expected_hash = _check_dataset_json(layout, problems)
    _check_sources(layout, problems)
    files = manifest_files(layout, maps=True)
    _check_compaction(layout, files, problems)
    tables: dict[Path, pa.Table] = {}
    #: per compacted file, the chunk of each row
    chunks: dict[Path, list[ChunkKey]] = {}
    for part in files.files:
        report.parts += 1
        try:
            tables[part] = read_part(part)
        except DamagedPartError as error:
            problems.append(_part_problem(layout, part, "damaged_part", error.message))
            continue
        found = chunk_map_of(tables[part].schema.metadata) if is_compacted(part) else None
        if found is not None:
            chunks[part] = [found.chunks[i] for i in found.row_chunks().tolist()]
    for part, table in tables.items():
        report.rows += table.num_rows
        report.media_files += _check_media(layout, part, table, problems, chunks.get(part))
    _check_hashes(layout, tables, chunks, expected_hash, problems)
    _check_duplicates(layout, tables, chunks, problems)
    if repair:
        _repair(layout, report, tables, chunks, info)
    return report


def _check_compaction(layout: DatasetLayout, files: ManifestFiles, problems: list[Problem]) -> None:
    """What ``cues/compacted.json`` cannot tell (a listed file missing, the list
    unreadable), and the files a stopped compaction left."""
    index = _relative(layout, layout.compacted_index)
    for error in files.problems:
        path = Path(error.path) if error.path else layout.compacted_index
        if path in files.missing:
            message = (
                f"missing, though {layout.compacted_index.name} lists it (its chunks are lost)"
            )
            problems.append(Problem("compacted_list", _relative(layout, path), message, part=index))
        else:
            problems.append(Problem("compacted_list", _relative(layout, path), error.message))
    for path in files.leftovers:
        held = "chunk is in a compacted file" if path in files.covered else "rows are elsewhere"
        message = (
            f"left by a stopped compaction, not read: its {held} (the next build, "
            "'empathynet compact' or 'check --repair' deletes it)"
        )
        problems.append(Problem("leftover", _relative(layout, path), message))


def _relative(layout: DatasetLayout, path: Path) -> str:
    return path.relative_to(layout.root).as_posix()


def _part_problem(
    layout: DatasetLayout, part: Path, kind: str, message: str, chunk: ChunkKey | None = None
) -> Problem:
    name = _relative(layout, part)
    if chunk is None:
        return Problem(kind, name, message, part=name)
    return Problem(
        kind, name, f"chunk {chunk_name(chunk)}: {message}", name, chunk=chunk_name(chunk)
    )


def _check_dataset_json(
    layout: DatasetLayout, problems: list[Problem]
) -> tuple[dict[str, Any], str | None]:
    """dataset.json's object (empty when unusable) and its config hash (None: unknown)."""
    path = "dataset.json"

    def problem(message: str) -> None:
        problems.append(Problem("dataset_json", path, message))

    try:
        value = json.loads(layout.dataset_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problem("missing (every dataset has one; the build writes it)")
        return {}, None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        problem(f"not valid JSON ({' '.join(str(error).split())})")
        return {}, None
    if not isinstance(value, dict):
        problem(f"not a JSON object but a {type(value).__name__}")
        return {}, None
    if value.get("format") != DATASET_FORMAT:
        problem(f"format is {value.get('format')!r}, expected {DATASET_FORMAT!r}")
    version = value.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        problem(f"format_version is {version!r}, expected a whole number")
    elif version not in SUPPORTED_FORMAT_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_FORMAT_VERSIONS))
        problem(
            f"format_version {version} is not supported (this empathynet reads {supported}): "
            "update empathynet"
        )
    built_with = value.get("config_hash")
    if not isinstance(built_with, str) or not built_with:
        problem(f"config_hash is {built_with!r}, expected the build options' hash")
        return value, None
    return value, built_with


def _check_sources(layout: DatasetLayout, problems: list[Problem]) -> None:
    if not layout.sources_parquet.exists():
        return  # a build that stopped before reading its sources
    try:
        columns = pq.read_schema(layout.sources_parquet).names
    except (OSError, pa.ArrowException) as error:
        message = f"unreadable Parquet ({' '.join(str(error).split())})"
        problems.append(Problem("sources", "sources.parquet", message))
        return
    if "source_id" not in columns:
        problems.append(Problem("sources", "sources.parquet", "no column source_id"))


def _row_hashes(stage_versions: str) -> set[str]:
    """The config hashes in ``cues@4+<hash>;...``."""
    return {entry.rsplit("+", 1)[1] for entry in stage_versions.split(";") if "+" in entry}


def _units(
    tables: dict[Path, pa.Table], chunks: dict[Path, list[ChunkKey]], column: str
) -> Iterable[tuple[Unit, list[Any]]]:
    """``column``'s values per checked unit: a part's, or a compacted file's chunk's."""
    for part, table in tables.items():
        values = table.column(column).to_pylist()
        if part not in chunks:
            yield (part, None), values
            continue
        per_chunk: dict[ChunkKey, list[Any]] = {}
        for key, value in zip(chunks[part], values, strict=True):
            per_chunk.setdefault(key, []).append(value)
        for key, chunk_values in per_chunk.items():
            yield (part, key), chunk_values


def _check_hashes(
    layout: DatasetLayout,
    tables: dict[Path, pa.Table],
    chunks: dict[Path, list[ChunkKey]],
    expected: str | None,
    problems: list[Problem],
) -> None:
    """Chunks whose rows were built with options other than dataset.json's; when no chunk
    was, dataset.json is what is wrong (and no data is deleted for it)."""
    if expected is None:
        return
    with_versions = {p: t for p, t in tables.items() if "stage_versions" in t.column_names}
    found: dict[Unit, set[str]] = {}
    for unit, values in _units(with_versions, chunks, "stage_versions"):
        hashes: set[str] = set()
        for versions in values:
            if versions:
                hashes |= _row_hashes(versions)
        found[unit] = hashes
    other = {unit: sorted(hashes - {expected}) for unit, hashes in found.items()}
    other = {unit: hashes for unit, hashes in other.items() if hashes}
    if not other:
        return
    if len(other) == len(found):
        built = ", ".join(sorted({h for hashes in other.values() for h in hashes}))
        message = (
            f"config_hash {expected}, but the manifest rows were built with {built}: "
            "dataset.json does not describe this manifest"
        )
        problems.append(Problem("dataset_json", "dataset.json", message))
        return
    for (part, chunk), others in other.items():
        message = (
            f"rows built with other options (config hash {', '.join(others)}; dataset.json "
            f"says {expected})"
        )
        problems.append(_part_problem(layout, part, "other_options", message, chunk))


def _named_media(row: dict[str, Any]) -> list[str]:
    names: list[str] = [row[name] for name in MEDIA_PATH_FIELDS if row.get(name)]
    for name in MEDIA_LIST_FIELDS:
        names.extend(path for path in row.get(name) or () if path)
    return list(dict.fromkeys(names))


def _check_media(
    layout: DatasetLayout,
    part: Path,
    table: pa.Table,
    problems: list[Problem],
    row_chunks: list[ChunkKey] | None = None,
) -> int:
    """Check the media the file's rows name (accepted rows' media, rejected rows'
    thumbnails); ``row_chunks``: a compacted file's chunk of each row. Returns how many
    files were named."""
    wanted = ("cue_id", *MEDIA_PATH_FIELDS, *MEDIA_LIST_FIELDS, "media_bytes")
    present = [name for name in wanted if name in table.column_names]
    part_name = _relative(layout, part)
    checked = 0
    for index, row in enumerate(table.select(present).to_pylist()):
        sizes = dict(zip(row.get("media_files") or (), row.get("media_bytes") or (), strict=False))
        key = row_chunks[index] if row_chunks is not None else None
        chunk = chunk_name(key) if key is not None else None
        where = f"cue {row['cue_id']} in {part_name}"
        for name in _named_media(row):
            checked += 1
            try:
                path = layout.resolve(name)
            except PathEscapeError:
                message = f"cue {row['cue_id']} names {name!r}, which is not inside the dataset"
                problems.append(_part_problem(layout, part, "path_escape", message, key))
                continue
            if not path.is_file():
                message = f"missing ({where})"
                problems.append(Problem("missing_media", name, message, part_name, chunk=chunk))
                continue
            recorded = sizes.get(name)
            size = path.stat().st_size
            if recorded is not None and size != recorded:
                message = f"{size} bytes, written with {recorded} ({where})"
                problems.append(Problem("media_size", name, message, part_name, chunk=chunk))
    return checked


def _check_duplicates(
    layout: DatasetLayout,
    tables: dict[Path, pa.Table],
    chunks: dict[Path, list[ChunkKey]],
    problems: list[Problem],
) -> None:
    """A cue id in two chunks: a part holding another chunk's rows; both chunks are redone."""
    first: dict[str, Unit] = {}
    clashes: Counter[tuple[Unit, Unit]] = Counter()
    for unit, cue_ids in _units(tables, chunks, "cue_id"):
        for cue_id in cue_ids:
            seen = first.setdefault(cue_id, unit)
            if seen != unit:
                clashes[(seen, unit)] += 1
    for (one, two), count in clashes.items():
        for (part, chunk), (other, other_chunk) in ((one, two), (two, one)):
            where = _relative(layout, other)
            if other_chunk is not None:
                where = f"chunk {chunk_name(other_chunk)} of {where}"
            message = f"{count} cue ids also in {where} (rows of another chunk)"
            problems.append(_part_problem(layout, part, "duplicate_rows", message, chunk))


def _repair(
    layout: DatasetLayout,
    report: CheckReport,
    tables: dict[Path, pa.Table],
    chunks: dict[Path, list[ChunkKey]],
    info: dict[str, Any],
) -> None:
    """Delete every chunk with a problem and an unreadable sources.parquet; mark what was
    repaired and give the command that redoes it."""
    whole = sorted({p.part for p in report.problems if p.part is not None and p.chunk is None})
    inside: dict[str, set[str]] = {}
    for problem in report.problems:
        if problem.part is not None and problem.chunk is not None and problem.part not in whole:
            inside.setdefault(problem.part, set()).add(problem.chunk)
    index = _relative(layout, layout.compacted_index)
    missing = sorted({p.path for p in report.problems if p.kind == "compacted_list" and p.part})
    for name in missing:  # listed, not there: unlisted, so that the build redoes its chunks
        unlist_compacted(layout, layout.root / name)
        report.actions.append(f"took {name} out of {index} (a build redoes its chunks)")
    for name in whole:
        part = layout.root / name
        if name == index:
            continue
        cue_ids = _part_cue_ids(layout, part, tables)
        if is_compacted(part):
            unlist_compacted(layout, part)
        part.unlink(missing_ok=True)
        folders = sum(
            remove_cue_media(
                layout, source_id, [c for c in cue_ids if c.startswith(f"{source_id}-")]
            )
            for source_id in _sources_of(part, tables)
        )
        report.actions.append(f"deleted {name} and {folders} media folders of its cues")
    for name, chunk_names in sorted(inside.items()):
        part = layout.root / name
        row_chunks = chunks[part]
        drop = np.asarray([chunk_name(key) in chunk_names for key in row_chunks], dtype=bool)
        dropped = tables[part].filter(pa.array(drop))
        rewrite_compacted(layout, part, drop)
        folders = 0
        for source_id in sorted({key[0] for key in row_chunks}):
            cue_ids = [
                str(c)
                for c, s in zip(
                    dropped.column("cue_id").to_pylist(),
                    dropped.column("source_id").to_pylist(),
                    strict=True,
                )
                if s == source_id
            ]
            folders += remove_cue_media(layout, source_id, cue_ids)
        report.actions.append(
            f"deleted {len(chunk_names)} chunks of {name} (written again without their "
            f"{len(dropped)} rows) and {folders} media folders of their cues"
        )
    rebuild = bool(report.actions)
    if any(p.kind == "leftover" for p in report.problems):
        deleted = finish_compaction(layout)  # after the deletions: what they uncover stays
        report.actions.append(
            f"deleted {deleted} files a stopped compaction left (their rows are in compacted files)"
        )
    index_bad = any(p.kind == "compacted_list" and p.path == index for p in report.problems)
    files = manifest_files(layout, maps=True)
    if index_bad and not files.conflicting:  # else which file counts is for a person to say
        order = sorted(
            files.compacted,
            key=lambda p: ((m.first_cue_id or "") if (m := files.maps.get(p)) else "", p.name),
        )
        write_compacted_index(layout, [p.name for p in order])
        report.actions.append(f"wrote {index} again, listing the {len(order)} compacted files")
    else:
        index_bad = False
    sources_bad = any(p.kind == "sources" for p in report.problems)
    if sources_bad:
        layout.sources_parquet.unlink(missing_ok=True)
        report.actions.append("deleted sources.parquet (the build writes it again)")
        rebuild = True
    report.problems[:] = [
        dataclasses.replace(p, repaired=True)
        if p.part is not None
        or (p.kind == "sources" and sources_bad)
        or p.kind == "leftover"
        or (index_bad and p.path == index)
        else p
        for p in report.problems
    ]
    if rebuild:
        report.rebuild_command = _rebuild_command(layout, info, report.actions)


def _sources_of(part: Path, tables: dict[Path, pa.Table]) -> set[str]:
    """The sources whose rows a manifest file held (by name, map or rows)."""
    if part in tables:
        return {str(s) for s in tables[part].column("source_id").unique().to_pylist()}
    return file_sources(part)


def _part_cue_ids(layout: DatasetLayout, part: Path, tables: dict[Path, pa.Table]) -> list[str]:
    """The cues of a file about to be deleted: its rows', or for one that cannot be
    read, every cue of its sources whose media no other readable file names."""
    if part in tables:
        return [str(cue_id) for cue_id in tables[part].column("cue_id").to_pylist()]
    folders = [layout.media_dir / source_id for source_id in sorted(_sources_of(part, tables))]
    folders = [folder for folder in folders if folder.is_dir()]
    if not folders:
        return []
    named: set[str] = set()
    for other, table in tables.items():
        if other != part:
            named.update(str(cue_id) for cue_id in table.column("cue_id").to_pylist())
    return sorted(c.name for folder in folders for c in folder.iterdir() if c.name not in named)


def _rebuild_command(layout: DatasetLayout, info: dict[str, Any], actions: list[str]) -> str:
    """``empathynet build INPUTS... --out ROOT [--config ...]``: the inputs from
    reports/build.json, the options from dataset.json (written to reports/ when they are
    not the defaults)."""
    inputs: Iterable[str] = ["VIDEOS..."]
    try:
        recorded = json.loads(layout.build_report.read_text(encoding="utf-8")).get("inputs")
        if isinstance(recorded, list) and recorded:
            inputs = [str(given) for given in recorded]
    except (OSError, ValueError, AttributeError):
        pass
    words = ["empathynet", "build", *inputs, "--out", str(layout.root)]
    options = _config_file(layout, info)
    if options is not None:
        words += ["--config", str(options)]
        actions.append(f"wrote the dataset's build options to {_relative(layout, options)}")
    return " ".join(word if word == "VIDEOS..." else shlex.quote(word) for word in words)


def _config_file(layout: DatasetLayout, info: dict[str, Any]) -> Path | None:
    """The dataset's build options as a YAML file for ``--config`` (None: the defaults,
    or options that cannot be recovered)."""
    values = info.get("build_config")
    built_with = info.get("config_hash")
    if not isinstance(values, dict) or built_with == config_hash(EmpathyNetConfig()):
        return None
    try:
        config = from_mapping(EmpathyNetConfig, values)
    except (ConfigError, TypeError, ValueError):
        return None
    if config_hash(config) != built_with:
        return None
    path = layout.reports_dir / "build-config.yaml"
    text = yaml.safe_dump(to_mapping(config), sort_keys=False)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
