"""Cleaned subtitle events -> whole-sentence utterances.

``build_utterances(events, config, report)`` is pure. Each event is cleaned
(``clean.clean_event_text``), then:

* **Whole events only.** An utterance is one or more whole events: a sentence is never
  cut, and an event holding two sentences by one speaker (``"Hi. How are you?"``) stays
  one utterance, because nothing times the words inside an event. Times are integer ms:
  ``start_ms`` is the first event's start, ``end_ms`` the last event's end.
* **Dialogue** (``dialogue_split``, once per event): an event with two or more turns
  (``"- Hi.\\n- Hello."``, two speaker labels) gives one utterance per turn, each with the
  event's whole time span (there is no finer timing) and ``dialogue=True``. Two speakers
  are never one sentence. Only the last turn may go on into the following events when its
  sentence continues there (``"- It's horrible,"`` + ``"I'd rather die."``), so no sentence
  is cut; the utterance keeps ``dialogue=True``.
* **No words** (``sound_only_dropped`` / ``music_only_dropped`` / ``empty_dropped``): an
  event (or dialogue turn) with sound tags or music but no words is not speech and is
  dropped, unless ``config.keep_nonverbal_only``, which keeps it as an utterance with
  empty text. An event with nothing left after cleaning (a vector drawing, a blank) is
  dropped. Dropped events take no part in merging.
* **Credits** (``credit_dropped``): an event whose text is an advert or credit line that a
  subtitle site or ripper inserted (a URL, "Subtitles by ...", "Downloaded from ...";
  ``clean.is_credit``) is not speech and is dropped.
* **Merging** (``events_merged``, once per event joined to the one before): consecutive
  single-turn events form one sentence while

  - the text so far does not end a sentence (no final ``. ! ? … ;``, also before closing
    quotes or brackets, CJK ``。！？`` and the other marks in
    ``clean.TERMINAL_PUNCTUATION``; ``;`` is the Greek question mark), or it ends with an
    ellipsis and the next event starts with an ellipsis, or the next starts in lower case
    (the first letter after quotes and ellipses);
  - the silence between them is at most ``config.merge_gap_ms``;
  - their speakers are the same or one is unknown;
  - the merged span stays within ``config.max_sentence_ms``; past it the sentence is
    closed (``sentence_too_long``, with a warning) and the next event starts a new one;
  - neither event overlaps another event (``overlapping_events``: kept simultaneous or
    contained by ``fix_timing``). A continuation blocked by an overlap, a dialogue event
    or a change of speaker is reported (``merge_blocked``).

  Texts are joined with one space (none between CJK characters); a continuation's leading
  ellipsis is removed (``"I was..." + "...thinking"`` -> ``"I was... thinking"``).
  ``nonverbal`` is the union of the events' tags in order; ``speaker`` the first known.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from empathynet.config import SubtitleConfig
from empathynet.data.models import Utterance
from empathynet.subtitles.clean import (
    Turn,
    clean_event_text,
    ends_sentence,
    is_credit,
    join_text,
    starts_lowercase,
    starts_with_ellipsis,
)
from empathynet.subtitles.events import SubtitleEvent, SubtitleReport
from empathynet.subtitles.fix import describe_event, overlapping_events
from empathynet.timeline import format_ms

__all__ = ["build_utterances", "continues_sentence"]


def continues_sentence(previous: str, following: str) -> bool:
    """True when ``following`` reads as the rest of the sentence ``previous`` began."""
    if not previous or not following:
        return False
    if starts_lowercase(following):
        return True
    if not ends_sentence(previous):
        return True
    ends_with_ellipsis = previous.rstrip().rstrip("\"'»”’)]").endswith(("...", "…"))
    return ends_with_ellipsis and starts_with_ellipsis(following)


@dataclass
class _Sentence:
    """A sentence being built from whole events."""

    start_ms: int
    end_ms: int
    text: str
    nonverbal: list[str]
    speaker: str | None
    event_ids: list[int] = field(default_factory=list)
    dialogue: bool = False  #: it began as the last turn of a dialogue event

    def add(self, event: SubtitleEvent, turn: Turn) -> None:
        following = turn.text
        if following.startswith(("...", "…")):  # a continuation mark, not words
            following = following.lstrip(".…").lstrip()
        self.text = join_text(self.text, following)
        self.end_ms = max(self.end_ms, event.end_ms)
        self.nonverbal.extend(tag for tag in turn.nonverbal if tag not in self.nonverbal)
        self.speaker = self.speaker or turn.speaker
        self.event_ids.append(event.index)

    def utterance(
        self, source_id: str | None, dialogue: bool = False, overlap: bool = False
    ) -> Utterance:
        return Utterance(
            start_ms=self.start_ms,
            end_ms=self.end_ms,
            text=self.text,
            nonverbal=tuple(self.nonverbal),
            speaker=self.speaker,
            event_ids=tuple(self.event_ids),
            dialogue=dialogue or self.dialogue,
            source_id=source_id,
            overlap=overlap,
        )


def _start(event: SubtitleEvent, turn: Turn) -> _Sentence:
    return _Sentence(
        start_ms=event.start_ms,
        end_ms=event.end_ms,
        text=turn.text,
        nonverbal=list(turn.nonverbal),
        speaker=turn.speaker,
        event_ids=[event.index],
    )


def build_utterances(
    events: Sequence[SubtitleEvent],
    config: SubtitleConfig,
    report: SubtitleReport,
    *,
    source_id: str | None = None,
    flagged: Collection[int] | None = None,
) -> list[Utterance]:
    """Turn events (in time order, as ``fix_timing`` returns them) into utterances.

    ``flagged`` holds the ``index`` of events that must stand alone (never merged); by
    default the events that overlap another one (``fix.overlapping_events``). Rules are in
    the module docstring; times are integer milliseconds.
    """
    cleaned = [(event, clean_event_text(event).turns) for event in events]
    if flagged is None:  # events with nothing to say (a drawing) do not count as overlaps
        alone = overlapping_events([event for event, turns in cleaned if turns])
    else:
        alone = frozenset(flagged)
    utterances: list[Utterance] = []
    open_sentence: _Sentence | None = None
    last_event: SubtitleEvent | None = None  # the last event of ``open_sentence``
    # the last event with words: (event, its last words, why it stood alone or None)
    previous: tuple[SubtitleEvent, str, str | None] | None = None

    def close() -> None:
        nonlocal open_sentence, last_event
        if open_sentence is not None:
            utterances.append(open_sentence.utterance(source_id))
        open_sentence = None
        last_event = None

    for event, turns in cleaned:
        if not turns:
            report.note("empty_dropped", f"{describe_event(event)}: no text left, dropped")
            continue
        if is_credit(" ".join(turn.text for turn in turns)):
            report.note("credit_dropped", f"{describe_event(event)}: an advert or credit line")
            continue
        if all(not turn.text for turn in turns) and not config.keep_nonverbal_only:
            _note_no_words(report, event, turns)
            continue
        stands_alone = _alone_reason(event, turns, alone)
        # a speaker change only parts the event from the one before, not from the next
        blocked = stands_alone or _speaker_change(turns[0], open_sentence)
        if previous is not None:
            _note_blocked_continuation(report, config, previous, event, turns[0].text, blocked)
        previous = (event, turns[-1].text, stands_alone)
        if blocked is not None:
            close()
        overlap = event.index in alone
        if len(turns) > 1:
            report.note("dialogue_split")
            for turn in turns[:-1]:
                if turn.text or config.keep_nonverbal_only:
                    utterances.append(
                        _start(event, turn).utterance(source_id, dialogue=True, overlap=overlap)
                    )
                else:
                    _note_no_words(report, event, (turn,))
            last_turn = turns[-1]
            if last_turn.text and not overlap:
                # The last turn may go on in the next event ("- It's horrible," / "I'd rather
                # die."): keep it open so that sentence is not cut.
                open_sentence = _start(event, last_turn)
                open_sentence.dialogue = True
                last_event = event
                previous = (event, last_turn.text, None)
            elif last_turn.text or config.keep_nonverbal_only:
                utterances.append(
                    _start(event, last_turn).utterance(source_id, dialogue=True, overlap=overlap)
                )
            else:
                _note_no_words(report, event, (last_turn,))
            continue
        turn = turns[0]
        if stands_alone is not None:  # overlapping, or sound tags only
            utterances.append(_start(event, turn).utterance(source_id, overlap=overlap))
            continue
        if open_sentence is not None and last_event is not None:
            if _can_merge(open_sentence, last_event, event, turn, config, report):
                open_sentence.add(event, turn)
                last_event = event
                report.note("events_merged")
                continue
            close()
        open_sentence = _start(event, turn)
        last_event = event
    close()
    report.utterances = len(utterances)
    return utterances


def _alone_reason(
    event: SubtitleEvent, turns: tuple[Turn, ...], alone: frozenset[int]
) -> str | None:
    """Why ``event`` may join no other event, or None when it may."""
    if len(turns) > 1:
        return f"event {event.index} is a dialogue event"
    if event.index in alone:
        return f"event {event.index} overlaps another event"
    if not turns[0].text:
        return f"event {event.index} has no words"
    return None


def _speaker_change(turn: Turn, open_sentence: _Sentence | None) -> str | None:
    """Why ``turn`` may not join the open sentence's speaker, or None when it may."""
    if (
        open_sentence is not None
        and open_sentence.speaker
        and turn.speaker
        and turn.speaker != open_sentence.speaker
    ):
        return f"the speaker changes ({open_sentence.speaker} -> {turn.speaker})"
    return None


def _note_blocked_continuation(
    report: SubtitleReport,
    config: SubtitleConfig,
    previous: tuple[SubtitleEvent, str, str | None],
    event: SubtitleEvent,
    text: str,
    blocked: str | None,
) -> None:
    """Warn when ``event`` reads as the rest of the previous sentence but may not join it."""
    previous_event, previous_text, previous_blocked = previous
    reason = blocked or previous_blocked
    if (
        reason is not None
        # events on screen together (negative gap) are no continuation of each other
        and 0 <= event.start_ms - previous_event.end_ms <= config.merge_gap_ms
        and continues_sentence(previous_text, text)
    ):
        report.note(
            "merge_blocked",
            f"{describe_event(event)} continues the sentence of "
            f"{describe_event(previous_event)}, but {reason}; kept apart",
        )


def _can_merge(
    sentence: _Sentence,
    last_event: SubtitleEvent,
    event: SubtitleEvent,
    turn: Turn,
    config: SubtitleConfig,
    report: SubtitleReport,
) -> bool:
    if not continues_sentence(sentence.text, turn.text):
        return False
    if event.start_ms - last_event.end_ms > config.merge_gap_ms:
        return False
    if event.end_ms - sentence.start_ms > config.max_sentence_ms:
        report.note(
            "sentence_too_long",
            f"{describe_event(event)} would make the sentence from "
            f"{format_ms(sentence.start_ms)} longer than max_sentence_ms "
            f"({config.max_sentence_ms} ms); a new sentence starts",
        )
        return False
    return True


def _note_no_words(report: SubtitleReport, event: SubtitleEvent, turns: Sequence[Turn]) -> None:
    tags = [tag for turn in turns for tag in turn.nonverbal]
    kind = (
        "music_only_dropped" if tags and all(t == "music" for t in tags) else "sound_only_dropped"
    )
    report.note(kind)
