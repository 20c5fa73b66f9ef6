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
import filecmp
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from empathynet import __version__
from empathynet.config import EmpathyNetConfig, hashed_mapping, to_mapping
from empathynet.data.models import CueGroup, Source, Utterance, make_cue_id
from empathynet.data.schemas import CUE_SCHEMA, SOURCE_SCHEMA, records_to_table, table_to_records
from empathynet.engines.local import LocalEngine
from empathynet.engines.ray import RayEngine
from empathynet.errors import (
    ConfigError,
    DatasetError,
    EmpathyNetError,
    NoAudioStreamError,
    storage_error,
)
from empathynet.faces.sync import PooledSync, pool_sync_curves
from empathynet.media.probe import content_hash, probe
from empathynet.pipeline import cues, transcribe
from empathynet.pipeline.cues import ChunkResult, ChunkWork, WorkerContext
from empathynet.pipeline.discover import SkippedInput, SourceInput, discover_inputs
from empathynet.pipeline.progress import Progress
from empathynet.pipeline.provenance import (
    SourceMetadata,
    SourcesFileError,
    read_info_json,
    read_sources_file,
)
from empathynet.store.atomic import (
    atomic_write_json,
    atomic_write_table,
    is_temporary,
    remove_stale_temporaries,
)
from empathynet.store.compact import AUTO_COMPACT_PARTS, committed_chunks, compact_manifest
from empathynet.store.hashing import Sha256Cache, file_sha256
from empathynet.store.layout import DatasetLayout, read_dataset_json, require_dataset
from empathynet.store.lock import LOCK_NAME, dataset_lock
from empathynet.store.parts import (
    DAMAGED_SUFFIX,
    STAGE_SECONDS_KEY,
    Warn,
    chunks_in,
    file_sources,
    manifest_sources,
    readable_parts,
    remove_cue_media,
    warn_on_stderr,
)
from empathynet.store.removals import finish_removals, read_removals
from empathynet.subtitles import load_utterances

PART_SECONDS_KEY = STAGE_SECONDS_KEY


def config_hash(config: EmpathyNetConfig) -> str:
    """A short stable hash of every option that changes what the build writes."""
    text = json.dumps(hashed_mapping(config), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class PlannedSource:
    """A source whose sentences are given rather than read from subtitles (a recipe):
    its cue ids, its utterances and what is known of it, and the bytes it must have."""

    sha256: str
    cue_ids: tuple[str, ...]
    utterances: tuple[Utterance, ...]
    metadata: SourceMetadata | None = None
    file_name: str | None = None  #: its name where it was listed (what fetch names it)


class SourcePlan:
    """The planned sources by id, and by file name (to tell a changed file from a foreign
    one: a changed video has another content id)."""

    def __init__(self, planned: Mapping[str, PlannedSource]) -> None:
        self.by_id = dict(planned)
        self.by_name = {p.file_name: i for i, p in self.by_id.items() if p.file_name}


@dataclass
class PreparedSource:
    """A source probed and its subtitles read, ready to be cut into chunks."""

    source: Source
    utterances: tuple[Utterance, ...] = ()
    failure: tuple[str, str] | None = None  #: every row fails with this (reason, message)
    subtitle_counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    #: the cue ids of ``utterances`` when given (a recipe), else made from their times
    cue_ids: tuple[str, ...] | None = None
    #: why the source is not built from at all (not in the recipe, other bytes)
    skip_reason: str | None = None
    notes: list[str] = field(default_factory=list)  #: lines the build prints


def _with_speaker(utterances: Sequence[Utterance], speaker: str | None) -> tuple[Utterance, ...]:
    """The utterances, those the subtitles name no speaker of given ``speaker``."""
    if speaker is None:
        return tuple(utterances)
    return tuple(u if u.speaker else dataclasses.replace(u, speaker=speaker) for u in utterances)


@dataclass
class _Sentences:
    """A source's sentences and where they come from."""

    utterances: tuple[Utterance, ...]
    counts: Counter[str]
    warnings: list[str]
    source_fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  #: lines the build prints


def _sentences_of(
    item: SourceInput, source_id: str, config: EmpathyNetConfig, cache_dir: Path | None
) -> _Sentences | str:
    """The sentences of a source: from its subtitles, else (``transcribe.mode``) from
    speech recognition or a transcript without times aligned to it; with
    ``transcribe.check_timing``, subtitles are checked against the speech (and shifted by a
    clear constant offset when ``correct_offset``). A string: why the source fails (one
    line)."""
    path = item.video_path
    options = config.transcribe
    subtitle_error: EmpathyNetError | None = None
    if options.mode != "always":
        try:
            subtitle = item.subtitle_path if item.subtitle_path is not None else path
            result = load_utterances(subtitle, config.subtitles, source_id=source_id)
        except EmpathyNetError as error:
            if storage_error(error) is not None:
                raise  # too many open files is no bad subtitle
            subtitle_error = error
        else:
            found = _Sentences(
                result.utterances, Counter(result.report.counts), list(result.report.warnings)
            )
            if options.check_timing or options.correct_offset:
                return _checked_timing(found, item, source_id, config, cache_dir)
            return found
    if subtitle_error is not None and (options.mode == "never" or item.subtitle_path is not None):
        # a sidecar the user gave that cannot be read is an error, not a reason to guess
        reason = f"subtitles: {subtitle_error.describe(path.parent)}"
        if item.subtitle_path is None:
            reason += " (and no sidecar subtitle file such as NAME.srt or NAME.vtt beside it)"
        return reason
    try:
        return _spoken_sentences(item, source_id, config, cache_dir)
    except EmpathyNetError as error:
        if storage_error(error) is not None:
            raise
        before = "no subtitles, and " if subtitle_error is not None else ""
        return f"subtitles: {before}transcribing failed: {error.describe(path.parent)}"


def _spoken_sentences(
    item: SourceInput, source_id: str, config: EmpathyNetConfig, cache_dir: Path | None
) -> _Sentences:
    """Sentences heard by the recogniser, or those of ``NAME.txt`` placed on the speech."""
    path = item.video_path
    heard = transcribe.cached_transcript(path, source_id, config.transcribe, None, cache_dir)
    counts: Counter[str] = Counter()
    warnings: list[str] = []
    text_file = transcribe.transcript_file(path)
    if text_file is not None:
        try:
            lines = transcribe.read_plain_transcript(text_file)
        except (OSError, UnicodeDecodeError) as error:
            raise EmpathyNetError(f"cannot read the transcript ({error})", text_file) from None
        aligned = transcribe.align_sentences(lines, heard, source_id, config.transcribe)
        utterances = aligned.utterances
        counts["transcript_aligned"] = len(aligned.utterances)
        notes = []
        if aligned.unaligned:
            counts["transcript_unaligned"] = len(aligned.unaligned)
            notes = [
                f"{text_file}: not found in the speech, not used: {sentence!r}"
                for sentence in aligned.unaligned
            ]
        origin = "transcript"
    else:
        utterances = transcribe.sentences_from_words(heard, source_id, config.transcribe)
        counts["asr_sentences"] = len(utterances)
        origin = "asr"
        notes = []
    fields: dict[str, Any] = {
        "subtitle_origin": origin,
        "subtitle_path": str(text_file) if text_file is not None else None,
    }
    if heard.language:
        fields["language"] = heard.language
    return _Sentences(utterances, counts, warnings, fields, notes)


def _checked_timing(
    found: _Sentences,
    item: SourceInput,
    source_id: str,
    config: EmpathyNetConfig,
    cache_dir: Path | None,
) -> _Sentences:
    """``found`` with the timing check's figures (and shifted when asked and clear)."""
    try:
        heard = transcribe.cached_transcript(
            item.video_path, source_id, config.transcribe, None, cache_dir
        )
    except EmpathyNetError as error:
        if storage_error(error) is not None:
            raise
        found.notes.append(f"{item.video_path}: timing check not done: {error}")
        return found
    check = transcribe.check_timing(found.utterances, heard, None)
    if check is None:
        return found
    utterances = found.utterances
    if config.transcribe.correct_offset and check.clear:
        utterances = transcribe.shifted(utterances, check.offset_ms)
        check = dataclasses.replace(check, corrected=True)
        found.counts["timing_corrected"] += 1
    fields = {
        "timing_offset_ms": check.offset_ms,
        "timing_drift_ms_per_min": check.drift_ms_per_min,
        "timing_peak": check.peak,
        "timing_corrected": check.corrected,
    }
    found.notes.append(
        f"{item.video_path}: subtitle timing {check.offset_ms:+d} ms against the speech "
        f"({check.method}, {check.sentences} sentences"
        + (f", drift {check.drift_ms_per_min:+.0f} ms/min" if check.drift_ms_per_min else "")
        + ("; corrected" if check.corrected else "")
        + ")"
    )
    return _Sentences(utterances, found.counts, found.warnings, fields, found.notes)


def prepare_source(
    item: SourceInput,
    config: EmpathyNetConfig,
    planned: SourcePlan | None = None,
    cache_dir: Path | None = None,
    hashed: tuple[str, str] | None = None,
) -> PreparedSource:
    """Hash and probe one video and read its subtitles (or hear its sentences:
    ``transcribe``); never raises for bad input. ``cache_dir``: where transcripts are kept
    (``DATASET/transcripts``). ``hashed``: the video's content id and SHA-256 when already
    known (``hash_sources``).

    With ``planned`` (a recipe's sources), the sentences are the planned ones and a video
    that is not planned, or whose bytes differ from the plan's SHA-256, gets a
    ``skip_reason`` instead."""
    path = item.video_path
    source_id, sha256 = hashed if hashed is not None else (content_hash(path), file_sha256(path))
    plan = planned.by_id.get(source_id) if planned is not None else None
    metadata = plan.metadata if plan is not None and plan.metadata else item.metadata
    base: dict[str, Any] = {
        "source_id": source_id,
        "path": str(path),
        "subtitle_origin": "sidecar" if item.subtitle_path else "embedded",
        "subtitle_path": str(item.subtitle_path) if item.subtitle_path else None,
        "sha256": sha256,
        "size_bytes": path.stat().st_size,
        **(metadata.source_fields() if metadata is not None else {}),
    }
    if planned is not None:
        # a changed video has another content id: the recipe's file of its name tells
        reference = plan or planned.by_id.get(planned.by_name.get(path.name, ""))
        if reference is None:
            return PreparedSource(Source(**base), skip_reason="not in the recipe")
        if plan is None or plan.sha256 != sha256:
            expected = reference.sha256
            return PreparedSource(
                Source(**base),
                skip_reason=f"its bytes differ from the recipe's (sha256 {sha256[:12]}..., "
                f"the recipe's {expected[:12]}...): not used",
            )
        base.update(subtitle_origin="recipe", subtitle_path=None)
        prepared = PreparedSource(Source(**base), plan.utterances, cue_ids=plan.cue_ids)
    else:
        read = _sentences_of(item, source_id, config, cache_dir)
        if isinstance(read, str):
            return PreparedSource(Source(**base, status="failed", reason=read), warnings=[read])
        speaker = metadata.speaker if metadata is not None else None
        base.update(read.source_fields)
        prepared = PreparedSource(
            Source(**base),
            _with_speaker(read.utterances, speaker),
            subtitle_counts=read.counts,
            warnings=read.warnings,
            notes=read.notes,
        )
    try:
        info = probe(path)
    except EmpathyNetError as error:
        if storage_error(error) is not None:
            raise
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
    """Cut a source's utterances into chunks of ``config.chunk_size`` (deterministic).

    The utterances that end after the video (by its duration) need no decoding: they
    all go into one last chunk of their own, one compact manifest part of ``beyond_end``
    rows, however many there are (a subtitle file for a longer cut of the film must not
    make thousands of parts)."""
    source = prepared.source
    cue_ids: list[str] = list(prepared.cue_ids or ())
    if prepared.cue_ids is None:
        ordinals: Counter[int] = Counter()
        for utterance in prepared.utterances:
            cue_ids.append(
                make_cue_id(source.source_id, utterance.start_ms, ordinals[utterance.start_ms])
            )
            ordinals[utterance.start_ms] += 1
    size = config.chunk_size
    end_ms = source.duration_ms
    beyond = [end_ms is not None and u.end_ms > end_ms for u in prepared.utterances]
    inside = [i for i, after in enumerate(beyond) if not after]
    groups = [inside[start : start + size] for start in range(0, len(inside), size)]
    if any(beyond):
        groups.append([i for i, after in enumerate(beyond) if after])
    return [
        ChunkWork(
            source=source,
            chunk=chunk,
            utterances=tuple(prepared.utterances[i] for i in group),
            cue_ids=tuple(cue_ids[i] for i in group),
            dataset_root=str(layout.root),
            stage_versions=versions,
            source_failure=prepared.failure,
        )
        for chunk, group in enumerate(groups)
    ]


#: Failed sources the text summary lists; the JSON summary lists them all.
MAX_FAILURES_SHOWN = 20
#: A source whose pooled voice-to-mouth offset is further from 0 than this (ms, two
#: frames at 25 fps) is listed in the summary.
SYNC_REPORT_MS = 80


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
    #: damaged parts the last build moved aside (``<name>.damaged``) and redid
    parts_redone: list[str] = field(default_factory=list)
    #: damaged parts skipped while reading the manifest, one line each
    damaged_parts: list[str] = field(default_factory=list)
    #: per source with enough measured cues: its voice-to-mouth offset pooled over them
    sync: dict[str, PooledSync] = field(default_factory=dict)
    source_paths: dict[str, str] = field(default_factory=dict)  #: source_id -> path
    #: files of the last build's inputs not built from, with the reason (not a video,
    #: a sound file, the same content as another video...)
    skipped_inputs: list[SkippedInput] = field(default_factory=list)
    #: the engine of the last build: ``name`` (local, ray), ``workers``; ray: ``nodes``
    engine: dict[str, Any] = field(default_factory=dict)
    #: per source whose subtitle timing was checked: (offset ms, corrected)
    timing: dict[str, tuple[int, bool]] = field(default_factory=dict)

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
            "engine": self.engine,
            "chunks_done": self.chunks_done,
            "chunks_written": self.chunks_written,
            "chunks_skipped": self.chunks_skipped,
            "skipped_inputs": [skipped.to_dict() for skipped in self.skipped_inputs],
            "parts_redone": self.parts_redone,
            "damaged_parts": self.damaged_parts,
            "sync": {
                source_id: dataclasses.asdict(pooled) for source_id, pooled in self.sync.items()
            },
            "timing": {
                source_id: {"offset_ms": offset, "corrected": corrected}
                for source_id, (offset, corrected) in sorted(self.timing.items())
            },
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
        if self.skipped_inputs:
            out.append(f"  inputs not built from ({len(self.skipped_inputs)} files):")
            shown_inputs = self.skipped_inputs[:MAX_FAILURES_SHOWN]
            out.extend(
                f"    {display_path(skipped.path, self.inputs)}: {skipped.reason}"
                for skipped in shown_inputs
            )
            if len(self.skipped_inputs) > len(shown_inputs):
                out.append(
                    f"    and {len(self.skipped_inputs) - len(shown_inputs)} more "
                    "(empathynet inspect --json lists them all)"
                )
        off = {sid: p for sid, p in self.sync.items() if abs(p.offset_ms) > SYNC_REPORT_MS}
        if off:
            out.append(f"  voice and picture out of step ({len(off)} sources, pooled over cues):")
            for source_id, pooled in sorted(off.items()):
                where = display_path(self.source_paths.get(source_id, source_id), self.inputs)
                out.append(
                    f"    {where}: the voice fits the mouths best {pooled.offset_ms:+d} ms "
                    f"{'late' if pooled.offset_ms > 0 else 'early'} (r {pooled.peak:.2f} against "
                    f"{pooled.at_zero:.2f} in step, {pooled.cues} cues): shifted audio or a dub"
                )
        if self.timing:
            out.append(f"  subtitle timing against the speech ({len(self.timing)} sources):")
            for source_id, (offset, corrected) in sorted(self.timing.items()):
                where = display_path(self.source_paths.get(source_id, source_id), self.inputs)
                what = "shifted by it" if corrected else "as they are"
                out.append(f"    {where}: {offset:+d} ms (subtitles used {what})")
        if self.parts_redone:
            out.append(
                f"  damaged manifest parts redone: {len(self.parts_redone)} "
                "(moved aside as <name>.damaged)"
            )
        if self.damaged_parts:
            out.append(
                f"  damaged manifest parts skipped: {len(self.damaged_parts)} "
                "(building again redoes them)"
            )
        if self.stage_seconds:
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(self.stage_seconds.items()))
            out.append(f"  time per stage (summed over workers): {stages}")
        if self.wall_seconds is not None:
            ran = engine_line(self.engine)
            out.append(f"  wall time of the last run: {self.wall_seconds:.1f}s{ran}")
        return out


def _check_out(layout: DatasetLayout) -> None:
    """Refuse an ``--out`` that is a file, a folder holding other things than a dataset,
    or a dataset whose ``dataset.json`` is malformed (``DatasetError``, one line)."""
    root = layout.root
    if root.exists() and not root.is_dir():
        raise DatasetError(
            "is a file, not a folder: --out needs a new or empty folder, or a dataset to resume",
            root,
        )
    if not root.is_dir():
        return
    if layout.dataset_json.exists():
        read_dataset_json(root)
        return
    # A build stopped before writing dataset.json leaves at most its lock file and the
    # temporary file of dataset.json itself: anything else is someone else's.
    others = sorted(
        entry.name
        for entry in root.iterdir()
        if entry.name != LOCK_NAME
        and not (is_temporary(entry.name) and entry.name.startswith(".dataset.json."))
    )
    if others:
        raise DatasetError(
            f"not an EmpathyNet dataset (no dataset.json) and not empty ({len(others)} "
            f"entries, such as {others[0]!r}): give --out a new or empty folder",
            root,
        )


def _check_existing(layout: DatasetLayout, build_hash: str, overwrite: bool) -> None:
    if not layout.dataset_json.exists():
        return
    existing = read_dataset_json(layout.root)
    if existing.get("config_hash") == build_hash:
        return
    if not overwrite:
        raise DatasetError(
            "this dataset was built with other options (config hash "
            f"{existing.get('config_hash')} != {build_hash}); use a new --out or --overwrite",
            layout.root,
        )
    _remove_build_outputs(layout)


#: Where a dataset remembers its sources' SHA-256 (``store.hashing.Sha256Cache``).
HASH_CACHE = "cache/sha256.json"
#: Threads hashing the sources at the start of a build (reading and hashing overlap;
#: hashlib lets threads hash in parallel).
HASH_THREADS = 4


def hash_sources(
    items: Sequence[SourceInput], cache: Sha256Cache, progress: bool = False
) -> dict[Path, tuple[str, str]]:
    """``(content id, SHA-256)`` of each video of ``items``, by ``HASH_THREADS`` threads,
    remembered ones from ``cache``; a video that cannot be read is left out (its
    ``prepare_source`` says why)."""

    def hashed(item: SourceInput) -> tuple[str, str] | None:
        try:
            content_id = content_hash(item.video_path)
            return content_id, cache.sha256(item.video_path, content_id)
        except (OSError, EmpathyNetError):
            return None

    found: dict[Path, tuple[str, str]] = {}
    threads = max(1, min(HASH_THREADS, len(items)))
    with (
        Progress("hashing sources", total=len(items), enabled=progress) as bar,
        ThreadPoolExecutor(threads, thread_name_prefix="hash") as pool,
    ):
        for item, result in zip(items, pool.map(hashed, items), strict=True):
            bar.advance()
            if result is not None:
                found[item.video_path] = result
    return found


def _remove_build_outputs(layout: DatasetLayout) -> None:
    """What ``--overwrite`` deletes: the files the dataset's own records name (its
    manifest parts, the media folders of its sources, ``sources.parquet``, the build
    report and HTML page); any other file in the dataset is kept."""
    source_ids: set[str] = set()
    if layout.sources_parquet.is_file():
        with contextlib.suppress(OSError, pa.ArrowException):
            table = pq.read_table(layout.sources_parquet, columns=["source_id"])
            source_ids.update(str(s) for s in table.column("source_id").to_pylist() if s)
    for part in [*layout.cue_parts(), *layout.cues_dir.glob(f"*.parquet{DAMAGED_SUFFIX}")]:
        source_ids.update(file_sources(part))  # a name not of a manifest file names none
        part.unlink(missing_ok=True)
    layout.compacted_index.unlink(missing_ok=True)
    for source_id in source_ids:
        folder = layout.media_dir / source_id
        # one plain folder straight inside media/: never a path the records could bend
        plain = Path(source_id).name == source_id and source_id not in (".", "..")
        if plain and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
    layout.sources_parquet.unlink(missing_ok=True)
    layout.build_report.unlink(missing_ok=True)
    (layout.reports_dir / "index.html").unlink(missing_ok=True)
    _remove_stale_temporaries(layout)
    for folder in (layout.cues_dir, layout.media_dir, layout.reports_dir):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when nothing else is left in it


def _remove_stale_temporaries(layout: DatasetLayout) -> None:
    """Delete the temporary files an interrupted run left: in the dataset's root and in
    the folders the package writes, never elsewhere."""
    remove_stale_temporaries(layout.root, recursive=False)
    for folder in (
        layout.cues_dir,
        layout.media_dir,
        layout.reports_dir,
        "labels",
        "tasks",
        "transcripts",
    ):
        remove_stale_temporaries(layout.root / folder)


def _discard_uncommitted(
    layout: DatasetLayout, handed: Sequence[ChunkWork], committed: set[tuple[str, int]]
) -> None:
    """Remove the media of chunks a stopped build started but did not commit (a full disk,
    Ctrl-C, an error): no manifest part names them, and on a full disk it frees space."""
    for chunk in handed:
        if (chunk.source.source_id, chunk.chunk) not in committed:
            with contextlib.suppress(OSError):
                remove_cue_media(layout, chunk.source.source_id, chunk.cue_ids)


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
    workers: int | None = 1,
    overwrite: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    sources_file: str | Path | None = None,
    planned: Mapping[str, PlannedSource] | None = None,
    engine: str = "local",
    address: str | None = None,
    compact: bool = True,
) -> BuildSummary:
    """Build (or resume building) the dataset at ``out`` from videos and folders.

    ``sources_file``: a CSV / JSON Lines file of ``path, url, licence, title, speaker...``
    (``pipeline/provenance.py``); its videos are inputs too, and each source row keeps its
    values (else those of yt-dlp's ``NAME.info.json`` beside the video). ``planned``: the
    sources of a recipe by id (``recipes.build_from_recipe``): only they are built, from
    their listed sentences, and only when their bytes are the recipe's.

    ``engine``: ``local`` (a process pool of ``workers`` processes) or ``ray`` (``workers``
    Ray actors, ``None``: one per CPU of the cluster; ``address``: an existing cluster's,
    else a local Ray is started for the build; extra ``ray``). The dataset and the inputs
    must then be on storage every node sees, at the same path (``docs/scaling.md``).

    ``compact``: at its end, merge the manifest parts into files of ~100,000 rows when
    there are ``store.compact.AUTO_COMPACT_PARTS`` or more (``empathynet compact``).

    Bad inputs never stop the build: each becomes a failed source or failed rows with
    a one-line error. A failure of the machine (a full disk, a quota, too many open files)
    stops it with ``StorageError`` before the chunk it hit is committed; running the build
    again once it is fixed resumes it. Returns the summary also written to
    ``reports/build.json``.
    """
    started = time.monotonic()
    runner = _make_engine(engine, workers, address)  # a missing Ray is said before any work
    config = config or EmpathyNetConfig()
    layout = DatasetLayout(Path(out))
    build_hash = config_hash(config)
    skipped_inputs: list[SkippedInput] = []
    listed: dict[Path, SourceMetadata] = {}
    if sources_file is not None:
        listed = read_sources_file(sources_file)
        inputs = [*inputs, *_listed_inputs(listed, sources_file, skipped_inputs)]
    check_inputs(inputs)
    _check_out(layout)
    items = discover_inputs(inputs, exclude=[layout.root], skipped=skipped_inputs)
    items = _with_metadata(items, listed, skipped_inputs)
    created = _missing_folders(layout.root)
    try:
        layout.root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(f"cannot create the folder: {error.strerror}", layout.root) from None
    # One writer at a time: another build's start-up clean-up would delete our files.
    with dataset_lock(layout.root) as lock:
        try:
            _check_existing(layout, build_hash, overwrite)
            return _build(
                items,
                inputs,
                layout,
                config,
                build_hash,
                runner,
                progress,
                log,
                started,
                skipped_inputs,
                None if planned is None else SourcePlan(planned),
                compact=compact,
            )
        except BaseException as error:
            # A build that stops before writing anything leaves no empty --out behind
            # (its lock file goes too, while it is still held).
            if [p.name for p in layout.root.iterdir()] == [LOCK_NAME]:
                lock.unlink(missing_ok=True)
            _remove_if_empty(created)
            # A full disk while writing a part or a report: one line saying so.
            storage = None if isinstance(error, EmpathyNetError) else storage_error(error, out)
            if storage is not None:
                raise storage from error
            raise


def _listed_inputs(
    listed: Mapping[Path, SourceMetadata], sources_file: str | Path, skipped: list[SkippedInput]
) -> list[Path]:
    """The videos a sources file lists that exist; the others are skipped, one line each."""
    found = []
    for path in listed:
        if path.is_file():
            found.append(path)
        else:
            reason = f"listed in {Path(sources_file).name} but not found"
            skipped.append(SkippedInput(str(path), reason))
    return found


def _with_metadata(
    items: list[SourceInput], listed: Mapping[Path, SourceMetadata], skipped: list[SkippedInput]
) -> list[SourceInput]:
    """Each input with its sources file's row, else its yt-dlp info file's values; an info
    file that cannot be read is listed as skipped (the video is still built from)."""
    out = []
    for item in items:
        metadata = listed.get(item.video_path.resolve())
        if metadata is None:
            try:
                metadata = read_info_json(item.video_path)
            except SourcesFileError as error:
                skipped.append(SkippedInput(str(error.path), f"not read: {error.message}"))
        out.append(dataclasses.replace(item, metadata=metadata))
    return out


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


Engine = (
    LocalEngine[WorkerContext, ChunkWork, ChunkResult]
    | RayEngine[WorkerContext, ChunkWork, ChunkResult]
)


def _make_engine(name: str, workers: int | None, address: str | None) -> Engine:
    """The engine a build runs the cue stage on; ``ConfigError`` for a bad choice."""
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if name == "ray":
        return RayEngine(workers, address)
    if name != "local":
        raise ConfigError(f"unknown engine {name!r}: local or ray")
    if address is not None:
        raise ConfigError("--address is the address of a Ray cluster: add --engine ray")
    return LocalEngine(workers or os.cpu_count() or 1)


def engine_line(engine: Mapping[str, Any]) -> str:
    """`` (engine ray, 4 workers on 2 nodes)`` for a summary line, or nothing."""
    if not engine.get("name"):
        return ""
    workers = engine.get("workers")
    text = f" (engine {engine['name']}"
    if workers:
        text += f", {workers} worker{'s' if workers != 1 else ''}"
    if engine.get("nodes"):
        text += f" on {engine['nodes']} node{'s' if engine['nodes'] != 1 else ''}"
    return text + ")"


def _build(
    items: list[SourceInput],
    inputs: Sequence[str | Path],
    layout: DatasetLayout,
    config: EmpathyNetConfig,
    build_hash: str,
    engine: Engine,
    progress: bool,
    log: Callable[[str], None] | None,
    started: float,
    skipped_inputs: list[SkippedInput] | None = None,
    planned: SourcePlan | None = None,
    *,
    compact: bool = True,
) -> BuildSummary:
    say = log or (lambda line: print(line, file=sys.stderr))
    skipped_inputs = list(skipped_inputs or [])
    versions = f"cues@{cues.STAGE_VERSION}+{build_hash}"
    _remove_stale_temporaries(layout)
    removals = read_removals(layout.root)  # taken down (empathynet remove): never built again
    prepared: list[PreparedSource] = []
    seen: dict[str, PreparedSource] = {}
    hash_cache = Sha256Cache(layout.root / HASH_CACHE)
    hashes = hash_sources(items, hash_cache, progress)
    transcripts = layout.root / "transcripts"
    with Progress("reading sources", total=len(items), enabled=progress) as bar:
        for item in items:
            known = hashes.get(item.video_path)
            entry = prepare_source(item, config, planned, transcripts, known)
            bar.advance()
            for note in entry.notes:
                say(note)
            if entry.skip_reason is not None:
                say(f"{entry.source.path}: {entry.skip_reason}, skipped")
                skipped_inputs.append(SkippedInput(entry.source.path, entry.skip_reason))
                continue
            if entry.source.source_id in removals.source_ids:
                reason = removals.skip_reason(entry.source.source_id)
                say(f"{entry.source.path}: {reason}, skipped")
                skipped_inputs.append(SkippedInput(entry.source.path, reason))
                continue
            first = seen.setdefault(entry.source.source_id, entry)
            if first is not entry:
                reason = _same_content_reason(entry.source, first.source)
                say(f"{entry.source.path}: {reason}, skipped")
                skipped_inputs.append(SkippedInput(entry.source.path, reason))
                continue
            prepared.append(entry)
    sources = [p.source for p in prepared]
    _check_speakers(layout, sources)
    # dataset.json first: from then on the folder is a dataset a re-run resumes.
    _write_dataset_json(layout, config, build_hash, versions, None)
    atomic_write_table(layout.sources_parquet, records_to_table(sources, SOURCE_SCHEMA))
    hash_cache.save()

    finish_removals(layout.root, removals)  # a removal stopped half-way is finished here
    # in their own parts or in compacted files (a stopped compaction is finished first)
    chunks_done = committed_chunks(layout, say)
    work: list[ChunkWork] = []
    skipped = 0
    redone: list[str] = list(chunks_done.redone)
    for entry in prepared:
        for chunk in plan_chunks(entry, layout, config, versions):
            kept = removals.kept(chunk.cue_ids)
            if len(kept) < len(chunk.cue_ids):  # removed cue groups go; chunk boundaries stay
                if not kept:
                    continue
                chunk = dataclasses.replace(
                    chunk,
                    cue_ids=tuple(chunk.cue_ids[i] for i in kept),
                    utterances=tuple(chunk.utterances[i] for i in kept),
                )
            key = (chunk.source.source_id, chunk.chunk)
            damage = chunks_done.damage(key, chunk.cue_ids)
            if damage is not None:
                # Not committed after all: redo the chunk, keeping the bad rows to look at.
                moved = chunks_done.set_aside(key)
                remove_cue_media(layout, chunk.source.source_id, chunk.cue_ids)
                say(f"{damage}; moved aside as {moved.name}, its chunk is redone")
                redone.append(layout.cue_part(*key).name)
            if chunks_done.holds(key):
                skipped += 1
            else:
                work.append(chunk)
    total_utterances = sum(len(c.utterances) for c in work)
    setup = functools.partial(cues.make_context, config)
    done = 0
    handed: list[ChunkWork] = []  # the chunks handed to the engine
    committed: set[tuple[str, int]] = set()

    def handed_out() -> Iterator[ChunkWork]:
        for chunk in work:
            handed.append(chunk)
            yield chunk

    with Progress("cutting cues", total=total_utterances, unit="utt", enabled=progress) as bar:
        try:
            # closing: the engine stops its workers before the clean-up below
            with contextlib.closing(engine.map(cues.process_chunk, setup, handed_out())) as results:
                for result in results:
                    _write_part(layout, result)
                    committed.add((result.source_id, result.chunk))
                    done += 1
                    accepted = sum(row.status == "accepted" for row in result.rows)
                    bar.advance(len(result.rows), accepted=accepted)
        except BrokenProcessPool:
            _discard_uncommitted(layout, handed, committed)
            raise DatasetError(
                f"a worker process died (out of memory or a crash in native code) after "
                f"{done} of {len(work)} chunks; what was written is kept: run the same "
                "command to resume, with --workers 1 to see the error",
                layout.root,
            ) from None
        except BaseException:
            _discard_uncommitted(layout, handed, committed)
            raise
    if isinstance(engine, RayEngine) and engine.restarted:
        _remove_stale_temporaries(layout)  # of Ray workers that died mid-chunk (redone)
    if compact:
        try:
            compacted = compact_manifest(layout, min_parts=AUTO_COMPACT_PARTS, warn=say)
        except DatasetError as error:  # the rows are committed all the same
            say(f"{error}; the manifest is left in parts")
        else:
            if compacted.files_written:
                say(compacted.line())
    summary = summarize(layout)
    if summary.sync:
        # The pooled offsets go with the sources they describe.
        pooled_sources = [
            dataclasses.replace(
                source,
                sync_offset_ms=summary.sync[source.source_id].offset_ms,
                sync_peak=summary.sync[source.source_id].peak,
                sync_cues=summary.sync[source.source_id].cues,
            )
            if source.source_id in summary.sync
            else source
            for source in sources
        ]
        atomic_write_table(layout.sources_parquet, records_to_table(pooled_sources, SOURCE_SCHEMA))
    summary.inputs = [str(given) for given in inputs]
    summary.wall_seconds = time.monotonic() - started
    summary.chunks_written = done
    summary.chunks_skipped = skipped
    summary.parts_redone = redone
    summary.skipped_inputs = skipped_inputs
    local = {"name": "local", "workers": engine.workers}
    summary.engine = engine.facts() if isinstance(engine, RayEngine) else local
    # This run read every source's subtitles: its counts replace those of an earlier run.
    summary.subtitle_counts = Counter()
    for entry in prepared:
        summary.subtitle_counts.update(entry.subtitle_counts)
    atomic_write_json(layout.build_report, summary.to_dict())
    _write_dataset_json(layout, config, build_hash, versions, summary)
    return summary


def _check_speakers(layout: DatasetLayout, sources: Sequence[Source]) -> None:
    """Refuse a resumed build whose sources file gives a source another speaker than the
    one its committed cue rows took (``DatasetError``, one line): those rows would keep
    the old one."""
    if not layout.sources_parquet.is_file():
        return
    with contextlib.suppress(OSError, pa.ArrowException, KeyError):
        table = pq.read_table(layout.sources_parquet, columns=["source_id", "speaker"])
        before = dict(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
        with_rows: set[str] | None = None  # the sources with committed rows, read once
        for source in sources:
            old = before.get(source.source_id)
            if source.source_id not in before or old == source.speaker:
                continue
            with_rows = manifest_sources(layout) if with_rows is None else with_rows
            if source.source_id in with_rows:
                raise DatasetError(
                    f"the speaker of {Path(source.path).name} changed ({old!r} -> "
                    f"{source.speaker!r}) after its cue groups were cut with the old one: "
                    "build into a new --out",
                    layout.root,
                )


def _same_content_reason(source: Source, first: Source) -> str:
    """Why ``source``, byte for byte the same video as ``first``, is not built from: its
    rows would be ``first``'s; when its subtitles differ, they are not used."""
    reason = f"same content as {first.path}"
    mine, theirs = source.subtitle_path, first.subtitle_path
    if mine == theirs or (mine is not None and theirs is not None and _same_bytes(mine, theirs)):
        return reason
    name = Path(mine).name if mine else "its embedded stream"
    used = Path(theirs).name if theirs else "the embedded stream"
    return f"{reason} (its subtitles differ: {name} is not used, {used} is)"


def _same_bytes(first: str, second: str) -> bool:
    try:
        return filecmp.cmp(first, second, shallow=False)
    except OSError:
        return False


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
    # what a person wrote into it (set_dataset_title) stays
    with contextlib.suppress(DatasetError, OSError):
        before = read_dataset_json(layout.root) if layout.dataset_json.exists() else {}
        value.update({k: before[k] for k in USER_KEYS if isinstance(before.get(k), str)})
    atomic_write_json(layout.dataset_json, value)


#: Keys of ``dataset.json`` a person sets (``set_dataset_title``); a build keeps them.
USER_KEYS: tuple[str, ...] = ("title", "description")


def set_dataset_title(
    dataset: str | Path, title: str | None = None, description: str | None = None
) -> None:
    """Give a dataset the title (and description) its report, card and exports show
    instead of its folder's name; kept by later builds."""
    layout = require_dataset(dataset)
    with dataset_lock(layout.root):
        value = read_dataset_json(layout.root)
        for key, given in (("title", title), ("description", description)):
            if given is not None:
                text = " ".join(given.split())
                if not text:
                    raise DatasetError(f"an empty {key}", layout.dataset_json)
                value[key] = text
        atomic_write_json(layout.dataset_json, value)


def read_cue_parts(
    layout: DatasetLayout, warn: Warn | None = None, columns: Sequence[str] | None = None
) -> Iterable[tuple[Path, Any]]:
    """Each committed manifest file (compacted files, then parts) and its Parquet table
    (``columns``, default all); a damaged one (``store/parts.py``) is skipped with one
    line to ``warn`` (default: stderr)."""
    return readable_parts(layout, columns, warn=warn)


#: The columns ``summarize`` counts (a compacted file holds ~100,000 rows of every column).
SUMMARY_COLUMNS = ("source_id", "status", "reason", "error", "sync_curve")


def summarize(
    layout: DatasetLayout,
    each_part: Callable[[Any], None] | None = None,
    warn: Warn | None = None,
) -> BuildSummary:
    """Counts of a dataset directory, read from its manifest (used by ``inspect``).

    ``each_part``, when given, is called with every manifest part's table as it is read,
    so a caller that needs the rows too reads the manifest only once. A damaged part is
    skipped: listed in ``damaged_parts`` and told to ``warn`` (default: stderr).
    """
    require_dataset(layout.root)
    summary = BuildSummary(str(layout.root))
    sources: list[dict[str, Any]] = []
    if layout.sources_parquet.exists():
        sources = pq.read_table(layout.sources_parquet).to_pylist()
        summary.sources = len(sources)
        summary.sources_failed = sum(s["status"] != "ok" for s in sources)
        summary.source_paths = {s["source_id"]: s["path"] for s in sources}
        summary.timing = {
            s["source_id"]: (int(s["timing_offset_ms"]), bool(s.get("timing_corrected")))
            for s in sources
            if s.get("timing_offset_ms") is not None
        }
    curves: dict[str, list[Any]] = {}
    rows_per_source: Counter[str] = Counter()
    #: (source_id, reason) -> [failed rows, first error]
    failed_rows: dict[tuple[str, str], list[Any]] = {}
    say = warn or warn_on_stderr

    def skipped(line: str) -> None:
        summary.damaged_parts.append(line)
        say(line)

    for _, table in read_cue_parts(layout, skipped, None if each_part else SUMMARY_COLUMNS):
        if each_part is not None:
            each_part(table)
        summary.chunks_done += chunks_in(table)  # a compacted file holds many
        summary.utterances += table.num_rows
        if "sync_curve" in table.column_names:
            for source_id, curve in zip(
                table.column("source_id").to_pylist(),
                table.column("sync_curve").to_pylist(),
                strict=True,
            ):
                if curve:
                    curves.setdefault(source_id, []).append(curve)
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
    for source_id, source_curves in curves.items():
        pooled = pool_sync_curves(source_curves)
        if pooled is not None:
            summary.sync[source_id] = pooled
    if layout.build_report.exists():
        report = json.loads(layout.build_report.read_text(encoding="utf-8"))
        summary.wall_seconds = report.get("wall_seconds")
        summary.subtitle_counts.update(report.get("subtitle_fixes", {}))
        summary.inputs = list(report.get("inputs", []))
        summary.chunks_written = report.get("chunks_written", 0)
        summary.chunks_skipped = report.get("chunks_skipped", 0)
        summary.parts_redone = list(report.get("parts_redone", []))
        summary.engine = dict(report.get("engine") or {})
        summary.skipped_inputs = [
            SkippedInput(str(item["path"]), str(item["reason"]))
            for item in report.get("skipped_inputs", [])
        ]
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
