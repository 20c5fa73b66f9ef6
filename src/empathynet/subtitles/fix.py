"""Repair subtitle event timing before sentences are built.

``fix_timing(events, config, report)`` is pure: events in, repaired events out, every
change counted in ``report`` (a one-line warning names the event, its file line when
known, and its times). The rules, in the order they run:

1. **Absurd times** (``absurd_time_dropped``): an event with a negative start or end time
   (``-00:00:01,000``: the warning says "negative timestamp" and quotes its words), starting
   after ``config.max_time_ms``, or longer than ``config.max_event_ms`` is dropped.
2. **Zero or negative duration** (``zero_duration_dropped`` / ``negative_duration_dropped``):
   dropped, as no time span can hold its words. Players hide such events (test files use
   them for hidden text). When the event had words, the warning quotes them, and says so
   when they continue a sentence (no final punctuation before it or in it, or it starts
   in lower case), so no words are lost silently.
3. **Empty events** (``empty_dropped``, counted without a warning, as ASS files hold many
   vector drawings): an event with nothing left after cleaning (blank, only a drawing or
   markup) is dropped, so it takes no part in the rules below.
4. **Order** (``events_sorted``, counted once, when a start time goes back): events are
   sorted by (start, end, index), the order a player shows them. ``index`` stays the
   event's position in the file.
5. **Duplicates** (``duplicate_dropped``): an event with the same words (after cleaning:
   markup, tags, speakers) as an event that is still on screen when it starts, or that
   ended exactly when it starts, is the same line shown twice (exact copies, re-timed
   copies, word-by-word karaoke captions): it is dropped, and the first copy is extended
   to the later end when no other event came in between.
6. **Roll-up captions** (``rollup_lines_dropped``): when an event starts at or before the
   end of the previous one and its first lines repeat that event's last lines (live and
   automatic captions scroll up one line at a time), the repeated lines are removed.
7. **Overlaps**: when an event starts before an earlier one (``earlier``) has ended, by
   ``overlap = earlier.end - next.start`` ms (each kind is counted once per later event):

   * same start, or starts within ``config.overlap_tolerance_ms`` of each other with a
     longer overlap (``overlap_simultaneous``): both are on screen together (two speakers
     shown at top and bottom, a sign and a line): both are kept unchanged and reported;
   * overlap <= tolerance (``overlap_trimmed``, counted without a warning): sloppy timing of
     successive lines: the earlier event's end is moved to the next start;
   * the next event lies entirely inside the earlier one (``overlap_contained``): two
     texts on screen at once (a long sign under changing dialogue): both are kept
     unchanged and reported;
   * otherwise the next event starts later and ends later: successive lines shown with a
     long overlap (``overlap_trimmed``, with a warning): the earlier end is moved to the
     next start.

   Events kept overlapping are exactly the ones ``overlapping_events`` finds afterwards:
   the sentence stage never merges them with other events, and the build can reject them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from itertools import pairwise

from empathynet.config import SubtitleConfig
from empathynet.subtitles.clean import (
    clean_event_text,
    ends_sentence,
    starts_lowercase,
)
from empathynet.subtitles.events import SubtitleEvent, SubtitleReport
from empathynet.timeline import format_ms

__all__ = ["describe_event", "fix_timing", "overlapping_events"]


def describe_event(event: SubtitleEvent) -> str:
    """``"event 12 (line 48, 00:01:02.345-00:01:04.000)"``: names an event in a warning."""
    line = f"line {event.line}, " if event.line is not None else ""
    return f"event {event.index} ({line}{format_ms(event.start_ms)}-{format_ms(event.end_ms)})"


def fix_timing(
    events: Iterable[SubtitleEvent], config: SubtitleConfig, report: SubtitleReport
) -> list[SubtitleEvent]:
    """Drop, sort, de-duplicate and de-overlap events (rules in the module docstring).

    Times are integer milliseconds. Returns new events (the inputs are frozen and not
    changed); events kept overlapping on purpose are found by ``overlapping_events``.
    """
    valid = _drop_bad_times(list(events), config, report)
    ordered = sorted(valid, key=lambda e: (e.start_ms, e.end_ms, e.index))
    # equal starts in any order are normal (several lines shown at once): only a start
    # going back in time means the file is out of order
    moved = next((b for a, b in pairwise(valid) if b.start_ms < a.start_ms), None)
    if moved is not None:
        report.note(
            "events_sorted",
            f"events are not in time order (first out of place: {describe_event(moved)}); "
            "sorted by start time",
        )
    return _resolve_overlaps(ordered, config, report)


def overlapping_events(events: Sequence[SubtitleEvent]) -> frozenset[int]:
    """The ``index`` of every event whose time span overlaps another event's.

    Touching spans (one ends when the next starts) do not overlap. After ``fix_timing``
    these are exactly the events it kept simultaneous or contained on purpose.
    """
    flagged: set[int] = set()
    active: list[SubtitleEvent] = []
    for event in sorted(events, key=lambda e: (e.start_ms, e.end_ms, e.index)):
        active = [other for other in active if other.end_ms > event.start_ms]
        if event.end_ms > event.start_ms:
            for other in active:
                flagged.update((other.index, event.index))
            active.append(event)
    return frozenset(flagged)


def _drop_bad_times(
    events: list[SubtitleEvent], config: SubtitleConfig, report: SubtitleReport
) -> list[SubtitleEvent]:
    kept: list[SubtitleEvent] = []
    for position, event in enumerate(events):
        duration = event.end_ms - event.start_ms
        where = describe_event(event)
        if event.start_ms < 0 or event.end_ms < 0:
            report.note(
                "absurd_time_dropped",
                f"{where}: negative timestamp, dropped{_lost_words(events, position)}",
            )
        elif event.start_ms > config.max_time_ms:
            report.note("absurd_time_dropped", f"{where}: start time out of range, dropped")
        elif duration > config.max_event_ms:
            report.note(
                "absurd_time_dropped",
                f"{where}: on screen {duration} ms (> max_event_ms {config.max_event_ms}), dropped",
            )
        elif duration <= 0:
            kind = "zero_duration_dropped" if duration == 0 else "negative_duration_dropped"
            what = "zero duration" if duration == 0 else "ends before it starts"
            report.note(kind, f"{where}: {what}, dropped{_lost_words(events, position)}")
        elif not clean_event_text(event).turns:
            report.note("empty_dropped")  # blank, or only a vector drawing: common in ASS
        else:
            kept.append(event)
    return kept


def _lost_words(events: list[SubtitleEvent], position: int) -> str:
    """For a dropped event: its words, and whether they continue a sentence."""
    text = clean_event_text(events[position]).text
    if not text:
        return ""
    previous = clean_event_text(events[position - 1]).text if position > 0 else ""
    continues = (
        (previous and not ends_sentence(previous))
        or not ends_sentence(text)
        or starts_lowercase(text)
    )
    note = " (they continue a sentence)" if continues else ""
    return f" with its words {_quote(text)}{note}"


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _speech_key(event: SubtitleEvent) -> str:
    """What an event says, markup-free: two events with equal keys show the same line."""
    clean = clean_event_text(event)
    return " | ".join(
        f"{turn.speaker or ''}:{turn.text}:{','.join(turn.nonverbal)}" for turn in clean.turns
    )


def _resolve_overlaps(
    ordered: list[SubtitleEvent], config: SubtitleConfig, report: SubtitleReport
) -> list[SubtitleEvent]:
    kept: list[SubtitleEvent] = []
    keys: list[str] = []
    active: list[int] = []  # positions in ``kept`` of events that may still be on screen
    tolerance = config.overlap_tolerance_ms
    for event in ordered:
        active = [i for i in active if kept[i].end_ms >= event.start_ms]
        key = _speech_key(event)
        duplicate_of = next((i for i in active if keys[i] == key and key), None)
        if duplicate_of is not None:
            first = kept[duplicate_of]
            report.note(
                "duplicate_dropped",
                f"{describe_event(event)}: same text as {describe_event(first)}, dropped",
            )
            # extend the first copy only when no other event sits after it, so that
            # the extension cannot create a new overlap
            if event.end_ms > first.end_ms and duplicate_of == len(kept) - 1:
                kept[duplicate_of] = dataclasses.replace(first, end_ms=event.end_ms)
            continue
        if active:
            event = _drop_rollup_lines(kept[active[-1]], event, report)
            key = _speech_key(event)
        together: list[SubtitleEvent] = []  # on screen together with ``event``
        around: list[SubtitleEvent] = []  # events that ``event`` is shown inside
        for i in active:
            earlier = kept[i]
            overlap = earlier.end_ms - event.start_ms
            if overlap <= 0:
                continue
            start_gap = event.start_ms - earlier.start_ms
            if start_gap == 0 or (start_gap <= tolerance < overlap):
                together.append(earlier)
            elif overlap <= tolerance:
                report.note("overlap_trimmed")
                kept[i] = dataclasses.replace(earlier, end_ms=event.start_ms)
            elif event.end_ms <= earlier.end_ms:
                around.append(earlier)
            else:
                report.note(
                    "overlap_trimmed",
                    f"{describe_event(earlier)} and {describe_event(event)} overlap by "
                    f"{overlap} ms; the first now ends at {format_ms(event.start_ms)}",
                )
                kept[i] = dataclasses.replace(earlier, end_ms=event.start_ms)
        if together:
            report.note(
                "overlap_simultaneous",
                f"{describe_event(event)} is on screen together with {_list(together)}; all kept",
            )
        if around:
            report.note(
                "overlap_contained",
                f"{describe_event(event)} is shown inside {_list(around)}; all kept",
            )
        active.append(len(kept))
        kept.append(event)
        keys.append(key)
    return kept


def _list(events: list[SubtitleEvent], limit: int = 3) -> str:
    named = ", ".join(describe_event(event) for event in events[:limit])
    more = len(events) - limit
    return f"{named} and {more} more" if more > 0 else named


def _drop_rollup_lines(
    previous: SubtitleEvent, event: SubtitleEvent, report: SubtitleReport
) -> SubtitleEvent:
    """Remove ``event``'s first lines when they repeat ``previous``'s last lines."""
    if event.start_ms > previous.end_ms:
        return event
    previous_lines = [_line_key(previous, line) for line in previous.text.split("\n")]
    raw_lines = event.text.split("\n")
    lines = [_line_key(event, line) for line in raw_lines]
    for count in range(min(len(previous_lines), len(lines) - 1), 0, -1):
        head = lines[:count]
        if all(head) and head == previous_lines[-count:]:
            report.note(
                "rollup_lines_dropped",
                f"{describe_event(event)}: first {count} line(s) repeat "
                f"{describe_event(previous)}; removed",
            )
            return dataclasses.replace(event, text="\n".join(raw_lines[count:]))
    return event


def _line_key(event: SubtitleEvent, line: str) -> str:
    return clean_event_text(dataclasses.replace(event, text=line, name="")).text
