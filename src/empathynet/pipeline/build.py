"""``build_dataset``: videos + subtitles -> a dataset directory, resumably.

The runner owns I/O, progress, resumption and the engine; the cue stage
(``pipeline/cues.py``) owns the transformation. The unit of work is a chunk of
``config.chunk_size`` consecutive utterances of one source; each finished chunk is
committed as one manifest part ``cues/part-<source_id>-<chunk>.parquet``, written
atomically after its media files. A re-run skips committed chunks, so an interrupted
build (Ctrl-C, ``kill -9``) finishes with exactly the rows of an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from empathynet import __version__
from empathynet.config import EmpathyNetConfig, to_mapping
from empathynet.data.models import CueGroup, Source, Utterance, make_cue_id
from empathynet.data.schemas import CUE_SCHEMA, SOURCE_SCHEMA, records_to_table, table_to_records
from empathynet.engines.local import LocalEngine
from empathynet.errors import DatasetError, EmpathyNetError, NoAudioStreamError
from empathynet.media.probe import content_hash, probe
from empathynet.pipeline import cues
from empathynet.pipeline.cues import ChunkResult, ChunkWork, WorkerContext
from empathynet.pipeline.discover import SourceInput, discover_inputs
from empathynet.pipeline.progress import Progress
from empathynet.store.atomic import atomic_write_json, atomic_write_table, remove_stale_temporaries
from empathynet.store.layout import DatasetLayout, require_dataset
from empathynet.subtitles import load_utterances

PART_SECONDS_KEY = b"empathynet.stage_seconds"


def config_hash(config: EmpathyNetConfig) -> str:
    """A short stable hash of every option that changes what the build writes."""
    text = json.dumps(to_mapping(config), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass
class PreparedSource:
    """A source probed and its subtitles read, ready to be cut into chunks."""

    source: Source
    utterances: tuple[Utterance, ...] = ()
    failure: tuple[str, str] | None = None  #: every row fails with this (reason, message)
    subtitle_counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


def prepare_source(item: SourceInput, config: EmpathyNetConfig) -> PreparedSource:
    """Hash and probe one video and read its subtitles; never raises for bad input."""
    path = item.video_path
    source_id = content_hash(path)
    base: dict[str, Any] = {
        "source_id": source_id,
        "path": str(path),
        "subtitle_origin": "sidecar" if item.subtitle_path else "embedded",
        "subtitle_path": str(item.subtitle_path) if item.subtitle_path else None,
    }
    try:
        subtitle = item.subtitle_path if item.subtitle_path is not None else path
        result = load_utterances(subtitle, config.subtitles, source_id=source_id)
    except EmpathyNetError as error:
        reason = f"subtitles: {error.describe(path.parent)}"
        if item.subtitle_path is None:
            reason += " (and no sidecar subtitle file such as NAME.srt or NAME.vtt beside it)"
        source = Source(**base, status="failed", reason=reason)
        return PreparedSource(source, warnings=[str(error)])
    prepared = PreparedSource(
        Source(**base),
        result.utterances,
        subtitle_counts=Counter(result.report.counts),
        warnings=list(result.report.warnings),
    )
    try:
        info = probe(path)
    except EmpathyNetError as error:
        message = error.describe(path.parent)
        prepared.source = Source(**base, status="failed", reason=message)
        prepared.failure = (cues.failure_reason(error), message)
        return prepared
    prepared.source = Source(**{**base, **info.source_fields()})
    if not prepared.source.audio_streams:
        missing = NoAudioStreamError("no audio stream: no audio cue can be cut", path)
        message = missing.describe(path.parent)
        prepared.source = dataclasses.replace(prepared.source, status="failed", reason=message)
        prepared.failure = ("no_audio", message)
    return prepared


def plan_chunks(
    prepared: PreparedSource, layout: DatasetLayout, config: EmpathyNetConfig, versions: str
) -> list[ChunkWork]:
    """Cut a source's utterances into chunks of ``config.chunk_size`` (deterministic)."""
    source = prepared.source
    ordinals: Counter[int] = Counter()
    cue_ids: list[str] = []
    for utterance in prepared.utterances:
        cue_ids.append(
            make_cue_id(source.source_id, utterance.start_ms, ordinals[utterance.start_ms])
        )
        ordinals[utterance.start_ms] += 1
    size = config.chunk_size
    return [
        ChunkWork(
            source=source,
            chunk=start // size,
            utterances=prepared.utterances[start : start + size],
            cue_ids=tuple(cue_ids[start : start + size]),
            dataset_root=str(layout.root),
            stage_versions=versions,
            source_failure=prepared.failure,
        )
        for start in range(0, len(prepared.utterances), size)
    ]


#: Failed sources the text summary lists; the JSON summary lists them all.
MAX_FAILURES_SHOWN = 20


@dataclass(frozen=True)
class SourceFailure:
    """Failed rows of one source with one reason, or a failed source's own error when no
    row carries it (its subtitles could not be read: reason ``subtitles``; else ``source``)."""

    path: str  #: the source's path as given to the build
    reason: str  #: the rows' reason code (``corrupt_media``, ``no_audio``, ``media_error``...)
    error: str  #: the first error, one line
    failed_cues: int  #: the source's failed rows with this reason
    cues: int  #: all the source's rows

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def line(self, inputs: Sequence[str] = ()) -> str:
        """``film.mp4: corrupt_media, 3 of 3 cues: <error>``, the path relative to the
        input folder it was found in."""
        shown = display_path(self.path, inputs)
        # the error without the source's own path or name: the line starts with it
        error = self.error.removeprefix(f"{self.path}: ").removeprefix(f"{Path(self.path).name}: ")
        counts = f", {self.failed_cues} of {self.cues} cues" if self.failed_cues else ""
        return f"{shown}: {self.reason}{counts}: {error}"


def display_path(path: str, inputs: Sequence[str]) -> str:
    """``path`` relative to the input folder that holds it, else as given."""
    for given in inputs:
        folder = Path(given)
        if folder in Path(path).parents:
            return Path(path).relative_to(folder).as_posix()
    return path


@dataclass
class BuildSummary:
    """What a dataset holds: counts per status and reason, time per stage."""

    root: str
    sources: int = 0
    sources_failed: int = 0
    #: The inputs of the last build (paths as given), to show sources relative to them.
    inputs: list[str] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    utterances: int = 0
    status_counts: Counter[str] = field(default_factory=Counter)
    reason_counts: Counter[str] = field(default_factory=Counter)
    #: rows per (status, reason), so the text summary lists each reason under its status
    status_reason_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    subtitle_counts: Counter[str] = field(default_factory=Counter)
    wall_seconds: float | None = None
    chunks_done: int = 0  #: committed chunks (manifest parts) in the dataset
    chunks_written: int = 0  #: chunks the last build wrote
    chunks_skipped: int = 0  #: chunks the last build found already written (resumed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "inputs": self.inputs,
            "sources": self.sources,
            "sources_failed": self.sources_failed,
            "failures": [failure.to_dict() for failure in self.failures],
            "utterances": self.utterances,
            "status": dict(sorted(self.status_counts.items())),
            "reasons": dict(sorted(self.reason_counts.items())),
            "stage_seconds": {k: round(v, 3) for k, v in sorted(self.stage_seconds.items())},
            "subtitle_fixes": dict(sorted(self.subtitle_counts.items())),
            "wall_seconds": None if self.wall_seconds is None else round(self.wall_seconds, 3),
            "chunks_done": self.chunks_done,
            "chunks_written": self.chunks_written,
            "chunks_skipped": self.chunks_skipped,
        }

    def lines(self) -> list[str]:
        """A human-readable summary, one fact per line."""
        out = [
            f"dataset {self.root}",
            f"  sources: {self.sources} ({self.sources_failed} failed)",
            f"  utterances: {self.utterances}",
        ]
        by_count = sorted(self.status_reason_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        for status in ("accepted", "rejected", "failed"):
            out.append(f"  {status}: {self.status_counts.get(status, 0)}")
            out.extend(f"    {key[1]}: {count}" for key, count in by_count if key[0] == status)
        if self.failures:
            sources = len({failure.path for failure in self.failures})
            out.append(f"  failures ({sources} sources):")
            shown = self.failures[:MAX_FAILURES_SHOWN]
            out.extend(f"    {failure.line(self.inputs)}" for failure in shown)
            if len(self.failures) > len(shown):
                out.append(
                    f"    and {len(self.failures) - len(shown)} more "
                    "(empathynet inspect --json lists them all)"
                )
        if self.stage_seconds:
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(self.stage_seconds.items()))
            out.append(f"  time per stage (summed over workers): {stages}")
        if self.wall_seconds is not None:
            out.append(f"  wall time of the last run: {self.wall_seconds:.1f}s")
        return out


def _check_existing(layout: DatasetLayout, build_hash: str, overwrite: bool) -> None:
    if not layout.dataset_json.exists():
        return
    try:
        existing = json.loads(layout.dataset_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DatasetError(f"unreadable dataset.json ({error}); remove it", layout.root) from None
    if existing.get("config_hash") == build_hash:
        return
    if not overwrite:
        raise DatasetError(
            "this dataset was built with other options (config hash "
            f"{existing.get('config_hash')} != {build_hash}); use a new --out or --overwrite",
            layout.root,
        )
    for folder in (layout.cues_dir, layout.media_dir, layout.reports_dir):
        shutil.rmtree(folder, ignore_errors=True)
    layout.sources_parquet.unlink(missing_ok=True)


def _write_part(layout: DatasetLayout, result: ChunkResult) -> None:
    table = records_to_table(result.rows, CUE_SCHEMA)
    metadata = dict(table.schema.metadata or {})
    metadata[PART_SECONDS_KEY] = json.dumps(result.seconds, sort_keys=True).encode()
    table = table.replace_schema_metadata(metadata)
    atomic_write_table(layout.cue_part(result.source_id, result.chunk), table)


def build_dataset(
    inputs: Sequence[str | Path],
    out: str | Path,
    config: EmpathyNetConfig | None = None,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> BuildSummary:
    """Build (or resume building) the dataset at ``out`` from videos and folders.

    Bad inputs never stop the build: each becomes a failed source or failed rows with
    a one-line error. Returns the summary also written to ``reports/build.json``.
    """
    started = time.monotonic()
    config = config or EmpathyNetConfig()
    layout = DatasetLayout(Path(out))
    build_hash = config_hash(config)
    check_inputs(inputs)
    _check_existing(layout, build_hash, overwrite)
    items = discover_inputs(inputs)
    created = _missing_folders(layout.root)
    layout.root.mkdir(parents=True, exist_ok=True)
    try:
        return _build(items, inputs, layout, config, build_hash, workers, progress, log, started)
    except BaseException:
        # A build that stops before writing anything leaves no empty --out behind.
        _remove_if_empty(created)
        raise


URL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def check_inputs(inputs: Sequence[str | Path]) -> None:
    """Refuse inputs that cannot be files or folders here (URLs), with what to do instead;
    ``EmpathyNetError`` naming the input."""
    if not inputs:
        raise EmpathyNetError("no inputs: give video files or folders")
    for given in inputs:
        if URL_PATTERN.match(str(given)):
            raise EmpathyNetError(
                "a URL is not an input: the build reads local video files and folders. "
                "Download the video with its subtitles first, e.g. "
                "'yt-dlp --write-subs --convert-subs srt -o film.%(ext)s URL', then build "
                "the file: 'empathynet build film.mp4 --out DATASET'",
                str(given),
            )


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    return missing


def _remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders this build created (deepest first) when nothing is left in
    them; a folder with a file in it is kept (a resumable build)."""
    if not folders:
        return
    for path in sorted(folders[0].rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.rmdir()
    for path in folders:
        try:
            path.rmdir()
        except OSError:
            return


def _build(
    items: list[SourceInput],
    inputs: Sequence[str | Path],
    layout: DatasetLayout,
    config: EmpathyNetConfig,
    build_hash: str,
    workers: int,
    progress: bool,
    log: Callable[[str], None] | None,
    started: float,
) -> BuildSummary:
    say = log or (lambda line: print(line, file=sys.stderr))
    versions = f"cues@{cues.STAGE_VERSION}+{build_hash}"
    remove_stale_temporaries(layout.root)
    prepared: list[PreparedSource] = []
    seen: dict[str, str] = {}
    with Progress("reading sources", total=len(items), enabled=progress) as bar:
        for item in items:
            entry = prepare_source(item, config)
            bar.advance()
            first = seen.setdefault(entry.source.source_id, entry.source.path)
            if first != entry.source.path:
                say(f"{entry.source.path}: same content as {first}, skipped")
                continue
            prepared.append(entry)
    sources = [p.source for p in prepared]
    atomic_write_table(layout.sources_parquet, records_to_table(sources, SOURCE_SCHEMA))
    _write_dataset_json(layout, config, build_hash, versions, None)

    work: list[ChunkWork] = []
    skipped = 0
    for entry in prepared:
        for chunk in plan_chunks(entry, layout, config, versions):
            if layout.cue_part(chunk.source.source_id, chunk.chunk).exists():
                skipped += 1
            else:
                work.append(chunk)
    total_utterances = sum(len(c.utterances) for c in work)
    engine: LocalEngine[WorkerContext, ChunkWork, ChunkResult] = LocalEngine(workers)
    setup = functools.partial(cues.make_context, config)
    done = 0
    with Progress("cutting cues", total=total_utterances, unit="utt", enabled=progress) as bar:
        try:
            for result in engine.map(cues.process_chunk, setup, work):
                _write_part(layout, result)
                done += 1
                accepted = sum(row.status == "accepted" for row in result.rows)
                bar.advance(len(result.rows), accepted=accepted)
        except BrokenProcessPool:
            raise DatasetError(
                f"a worker process died (out of memory or a crash in native code) after "
                f"{done} of {len(work)} chunks; what was written is kept: run the same "
                "command to resume, with --workers 1 to see the error",
                layout.root,
            ) from None
    summary = summarize(layout)
    summary.inputs = [str(given) for given in inputs]
    summary.wall_seconds = time.monotonic() - started
    summary.chunks_written = done
    summary.chunks_skipped = skipped
    # This run read every source's subtitles: its counts replace those of an earlier run.
    summary.subtitle_counts = Counter()
    for entry in prepared:
        summary.subtitle_counts.update(entry.subtitle_counts)
    atomic_write_json(layout.build_report, summary.to_dict())
    _write_dataset_json(layout, config, build_hash, versions, summary)
    return summary


def _write_dataset_json(
    layout: DatasetLayout,
    config: EmpathyNetConfig,
    build_hash: str,
    versions: str,
    summary: BuildSummary | None,
) -> None:
    value: dict[str, Any] = {
        "name": layout.root.resolve().name,
        "format": "empathynet-dataset",
        "format_version": 1,
        "empathynet_version": __version__,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "config_hash": build_hash,
        "stage_versions": versions,
        "build_config": to_mapping(config),
    }
    if summary is not None:
        value["counts"] = {
            "sources": summary.sources,
            "sources_failed": summary.sources_failed,
            "utterances": summary.utterances,
            **{k: summary.status_counts.get(k, 0) for k in ("accepted", "rejected", "failed")},
        }
    atomic_write_json(layout.dataset_json, value)


def read_cue_parts(layout: DatasetLayout) -> Iterable[tuple[Path, Any]]:
    """Each committed manifest part and its Parquet table, in name order."""
    for part in layout.cue_parts():
        yield part, pq.read_table(part)


def summarize(
    layout: DatasetLayout, each_part: Callable[[Any], None] | None = None
) -> BuildSummary:
    """Counts of a dataset directory, read from its manifest (used by ``inspect``).

    ``each_part``, when given, is called with every manifest part's table as it is read,
    so a caller that needs the rows too reads the manifest only once.
    """
    require_dataset(layout.root)
    summary = BuildSummary(str(layout.root))
    sources: list[dict[str, Any]] = []
    if layout.sources_parquet.exists():
        sources = pq.read_table(layout.sources_parquet).to_pylist()
        summary.sources = len(sources)
        summary.sources_failed = sum(s["status"] != "ok" for s in sources)
    rows_per_source: Counter[str] = Counter()
    #: (source_id, reason) -> [failed rows, first error]
    failed_rows: dict[tuple[str, str], list[Any]] = {}
    for _, table in read_cue_parts(layout):
        if each_part is not None:
            each_part(table)
        summary.chunks_done += 1
        summary.utterances += table.num_rows
        statuses = table.column("status").to_pylist()
        reasons = table.column("reason").to_pylist()
        source_ids = table.column("source_id").to_pylist()
        errors = table.column("error").to_pylist()
        summary.status_counts.update(statuses)
        summary.reason_counts.update(r for r in reasons if r)
        rows_per_source.update(source_ids)
        for status, reason, source_id, error in zip(
            statuses, reasons, source_ids, errors, strict=True
        ):
            if reason:
                summary.status_reason_counts[(status, reason)] += 1
            if status == "failed":
                entry = failed_rows.setdefault((source_id, reason or "error"), [0, error or ""])
                entry[0] += 1
        raw = (table.schema.metadata or {}).get(PART_SECONDS_KEY)
        if raw:
            for stage, seconds in json.loads(raw).items():
                summary.stage_seconds[stage] = summary.stage_seconds.get(stage, 0.0) + seconds
    summary.failures = _source_failures(sources, rows_per_source, failed_rows)
    if layout.build_report.exists():
        report = json.loads(layout.build_report.read_text(encoding="utf-8"))
        summary.wall_seconds = report.get("wall_seconds")
        summary.subtitle_counts.update(report.get("subtitle_fixes", {}))
        summary.inputs = list(report.get("inputs", []))
        summary.chunks_written = report.get("chunks_written", 0)
        summary.chunks_skipped = report.get("chunks_skipped", 0)
    return summary


def _source_failures(
    sources: list[dict[str, Any]],
    rows_per_source: Counter[str],
    failed_rows: dict[tuple[str, str], list[Any]],
) -> list[SourceFailure]:
    """One entry per source and reason of its failed rows, plus each failed source whose
    error no row of it carries; sorted by path, then reason."""
    paths = {s["source_id"]: s["path"] for s in sources}
    failures = [
        SourceFailure(
            paths.get(source_id, source_id), reason, error, count, rows_per_source[source_id]
        )
        for (source_id, reason), (count, error) in failed_rows.items()
    ]
    for source in sources:
        if source["status"] == "ok":
            continue
        message = source["reason"] or "failed"
        reason = "subtitles" if message.startswith("subtitles: ") else "source"
        error = message.removeprefix("subtitles: ")
        # A source whose failed rows already carry its error is listed once, by them.
        prefix = f"{source['path']}: "
        told = {
            e.removeprefix(prefix)
            for (sid, _), (_, e) in failed_rows.items()
            if sid == source["source_id"]
        }
        if error.removeprefix(prefix) not in told:
            cues = rows_per_source[source["source_id"]]
            failures.append(SourceFailure(source["path"], reason, error, 0, cues))
    return sorted(failures, key=lambda f: (f.path, f.reason))


def read_manifest(root: str | Path) -> list[CueGroup]:
    """Every cue row of a dataset, sorted by ``cue_id``; ``DatasetError`` when ``root``
    is not a dataset directory."""
    layout = require_dataset(root)
    rows: list[CueGroup] = []
    for _, table in read_cue_parts(layout):
        rows.extend(table_to_records(table, CueGroup))
    return sorted(rows, key=lambda row: row.cue_id)
