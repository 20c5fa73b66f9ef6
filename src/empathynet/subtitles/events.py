"""The records passed between the subtitle stages: load -> fix -> clean -> sentences."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Markup = Literal["ass", "html", "plain"]


@dataclass(frozen=True)
class SubtitleEvent:
    """One subtitle event as loaded, before cleaning. Times are integer ms."""

    index: int  #: position in the file's own order, 0-based (stable id for ``Utterance.event_ids``)
    start_ms: int
    end_ms: int
    text: str  #: raw text with its markup; line breaks are ``"\n"``
    markup: Markup = "ass"  #: the markup dialect ``text`` uses
    style: str = ""  #: ASS style name, if any
    name: str = ""  #: ASS actor/name field, if any
    line: int | None = None  #: 1-based line in the file where the event starts, when known


@dataclass
class SubtitleReport:
    """What the subtitle stages fixed, dropped or warned about, counted by kind.

    ``counts`` keys are short snake_case kinds (``overlap_trimmed``,
    ``zero_duration_dropped``, ``events_sorted``, ``absurd_time_dropped``,
    ``duplicate_dropped``, ``sound_only_dropped``, ``dialogue_split``,
    ``events_merged``, ...). ``warnings`` are one-line messages naming the event.
    """

    path: str = ""
    format: str = ""
    encoding: str = ""
    events_loaded: int = 0
    utterances: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def note(self, kind: str, message: str | None = None) -> None:
        """Count one occurrence of ``kind`` and keep ``message`` as a warning line."""
        self.counts[kind] += 1
        if message:
            self.warnings.append(" ".join(message.split()))

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "encoding": self.encoding,
            "events_loaded": self.events_loaded,
            "utterances": self.utterances,
            "counts": dict(sorted(self.counts.items())),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class LoadedSubtitles:
    """A subtitle file read into events, in file order."""

    path: str
    format: str  #: "srt", "vtt", "ass", "ssa", "microdvd", "sbv", "ttml", "embedded:<n>", ...
    encoding: str  #: the text encoding that was detected ("utf-8", "utf-8-sig", "cp1252", ...)
    events: tuple[SubtitleEvent, ...]
    warnings: tuple[str, ...] = ()
