"""``build_dataset``: videos + subtitles -> a dataset directory, resumably.

The runner owns I/O, progress, resumption and the engine; the cue stage
(``pipeline/cues.py``) owns the transformation. The unit of work is a chunk of
``config.chunk_size`` consecutive utterances of one source; each finished chunk is
committed as one manifest part ``cues/part-<source_id>-<chunk>.parquet``, written
atomically after its media files. A re-run skips committed chunks, so an interrupted
build (Ctrl-C, ``kill -9``) finishes with exactly the rows of an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
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
        reason = f"subtitles: {error}"
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
        prepared.source = Source(**base, status="failed", reason=str(error))
        prepared.failure = (cues.failure_reason(error), str(error))
        return prepared
    prepared.source = Source(**{**base, **info.source_fields()})
    if not prepared.source.audio_streams:
        missing = NoAudioStreamError("no audio stream: no audio cue can be cut", path)
        prepared.source = dataclasses.replace(prepared.source, status="failed", reason=str(missing))
        prepared.failure = ("no_audio", str(missing))
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


@dataclass
class BuildSummary:
    """What a dataset holds: counts per status and reason, time per stage."""

    root: str
    sources: int = 0
    sources_failed: int = 0
    source_failures: list[str] = field(default_factory=list)
    utterances: int = 0
    status_counts: Counter[str] = field(default_factory=Counter)
    reason_counts: Counter[str] = field(default_factory=Counter)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    subtitle_counts: Counter[str] = field(default_factory=Counter)
    wall_seconds: float | None = None
    chunks_done: int = 0
    chunks_skipped: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "sources": self.sources,
            "sources_failed": self.sources_failed,
            "source_failures": self.source_failures,
            "utterances": self.utterances,
            "status": dict(sorted(self.status_counts.items())),
            "reasons": dict(sorted(self.reason_counts.items())),
            "stage_seconds": {k: round(v, 3) for k, v in sorted(self.stage_seconds.items())},
            "subtitle_fixes": dict(sorted(self.subtitle_counts.items())),
            "wall_seconds": None if self.wall_seconds is None else round(self.wall_seconds, 3),
            "chunks_done": self.chunks_done,
            "chunks_skipped": self.chunks_skipped,
        }

    def lines(self) -> list[str]:
        """A human-readable summary, one fact per line."""
        out = [
            f"dataset {self.root}",
            f"  sources: {self.sources} ({self.sources_failed} failed)",
            f"  utterances: {self.utterances}",
        ]
        for status in ("accepted", "rejected", "failed"):
            out.append(f"  {status}: {self.status_counts.get(status, 0)}")
        for reason, count in sorted(self.reason_counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"    {reason}: {count}")
        for failure in self.source_failures:
            out.append(f"  source failed: {failure}")
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
    say = log or (lambda line: print(line, file=sys.stderr))
    layout = DatasetLayout(Path(out))
    build_hash = config_hash(config)
    versions = f"cues@{cues.STAGE_VERSION}+{build_hash}"
    _check_existing(layout, build_hash, overwrite)
    layout.root.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(layout.root)

    items = discover_inputs(inputs)
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
    summary.wall_seconds = time.monotonic() - started
    summary.chunks_done = done
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
    if layout.sources_parquet.exists():
        sources = pq.read_table(layout.sources_parquet).to_pylist()
        summary.sources = len(sources)
        failed = [s for s in sources if s["status"] != "ok"]
        summary.sources_failed = len(failed)
        summary.source_failures = [s["reason"] for s in failed]
    for _, table in read_cue_parts(layout):
        if each_part is not None:
            each_part(table)
        summary.utterances += table.num_rows
        summary.status_counts.update(table.column("status").to_pylist())
        summary.reason_counts.update(r for r in table.column("reason").to_pylist() if r)
        raw = (table.schema.metadata or {}).get(PART_SECONDS_KEY)
        if raw:
            for stage, seconds in json.loads(raw).items():
                summary.stage_seconds[stage] = summary.stage_seconds.get(stage, 0.0) + seconds
    if layout.build_report.exists():
        report = json.loads(layout.build_report.read_text(encoding="utf-8"))
        summary.wall_seconds = report.get("wall_seconds")
        summary.subtitle_counts.update(report.get("subtitle_fixes", {}))
    return summary


def read_manifest(root: str | Path) -> list[CueGroup]:
    """Every cue row of a dataset, sorted by ``cue_id``; ``DatasetError`` when ``root``
    is not a dataset directory."""
    layout = require_dataset(root)
    rows: list[CueGroup] = []
    for _, table in read_cue_parts(layout):
        rows.extend(table_to_records(table, CueGroup))
    return sorted(rows, key=lambda row: row.cue_id)
