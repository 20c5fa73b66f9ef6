"""Subtitles -> whole-sentence utterances.

``load_utterances(path)`` runs the whole subtitle stage: load (format, encoding,
embedded streams) -> fix timing (sort, duplicates, overlaps, absurd times) ->
clean (markup, sound tags, speakers, dialogue turns) -> merge into sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from empathynet.config import SubtitleConfig
from empathynet.data.models import Utterance
from empathynet.subtitles.events import LoadedSubtitles, SubtitleEvent, SubtitleReport
from empathynet.subtitles.fix import fix_timing
from empathynet.subtitles.load import load_subtitles
from empathynet.subtitles.sentences import build_utterances


@dataclass(frozen=True)
class UtteranceResult:
    """The utterances of one subtitle file and the report of what was fixed."""

    utterances: tuple[Utterance, ...]
    report: SubtitleReport


def utterances_from_loaded(
    loaded: LoadedSubtitles,
    config: SubtitleConfig | None = None,
    *,
    source_id: str | None = None,
) -> UtteranceResult:
    """Turn already-loaded subtitle events into utterances."""
    config = config or SubtitleConfig()
    report = SubtitleReport(
        path=loaded.path,
        format=loaded.format,
        encoding=loaded.encoding,
        events_loaded=len(loaded.events),
    )
    for warning in loaded.warnings:
        report.note("load_warning", f"{loaded.path}: {warning}")
    fixed = fix_timing(list(loaded.events), config, report)
    utterances = build_utterances(fixed, config, report, source_id=source_id)
    return UtteranceResult(tuple(utterances), report)


def load_utterances(
    path: str | Path,
    config: SubtitleConfig | None = None,
    *,
    source_id: str | None = None,
    stream_index: int | None = None,
) -> UtteranceResult:
    """Read a subtitle file (or a video's embedded subtitle stream) into utterances.

    Raises ``SubtitleError`` (one line, naming the file) when the file cannot be read.
    """
    loaded = load_subtitles(path, stream_index=stream_index)
    return utterances_from_loaded(loaded, config, source_id=source_id)


__all__ = [
    "LoadedSubtitles",
    "SubtitleEvent",
    "SubtitleReport",
    "UtteranceResult",
    "load_subtitles",
    "load_utterances",
    "utterances_from_loaded",
]
