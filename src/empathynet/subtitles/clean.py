"""One subtitle event's raw text -> speech lines, sound tags, speakers and dialogue turns.

``clean_event_text(event)`` is pure: it never looks at other events or times.

Rules, in the order they run:

1. **Markup.** ASS override blocks ``{\\...}`` (``{\\an8}``, ``{\\i1}``, karaoke ``{\\k20}``,
   ``{\\pos(..)}``, ``{\\t(..)}``) are removed; in the ``ass`` dialect every ``{...}`` block goes,
   because ASS renders inline comments ``{like this}`` as nothing. An override block that
   is never closed (``{\\an8Hello``, no ``}`` after it) runs to the end of the event: all
   of it goes (libass reads it all as override tags and shows none of it). In other dialects a
   ``{...}`` block without a backslash stays as text, except MicroDVD-style ``{Y:...}`` codes.
   Drawing mode (``{\\p1}m 0 0 l 10 0{\\p0}``, any ``\\pN`` with N > 0) drops the text up to
   the next ``{\\p0}``: those are vector commands, not words. HTML-like tags are removed in
   every dialect (``<i>``, ``<font ...>``, WebVTT ``<c.yellow>``, ``<lang en>``, ``<b.loud>``,
   timestamps ``<00:00:01.000>``); WebVTT ``<v Name>`` gives a speaker and starts a new line;
   ``<ruby>`` keeps its base text and drops the ``<rt>``/``<rp>`` reading. HTML entities
   (``&amp;``, ``&lt;``, ``&nbsp;``, numeric ones) are decoded, only in their complete
   ``&name;`` form. ASS escapes: ``\\h`` (hard space) is a space, ``\\N`` a line break,
   ``\\n`` (a soft break) a space. Control characters, zero-width spaces, BOMs and bidi
   marks (display-only) go.
   Spaces are collapsed; empty lines are dropped.
2. **Turns split inside a line.** ``"- Hi. - Hello."`` holds two turns: a line is split at a
   dash (``-``, ``–``, ``—``) that follows sentence-final punctuation (``. ! ? …`` possibly
   closed by a quote) or a closing bracket of a line that itself starts with a dash, and is
   followed by a capital letter, a quote, an opening bracket or a music mark. Hyphenated
   words and ``"well - I mean"`` are not split.
3. **Dialogue dash.** A line (or split part) starting with ``-``, ``--``, ``–`` or ``—``
   starts a new turn (``dash=True``); the dash is removed. ``"-5 degrees"`` is not a dash.
4. **Sound tags** (SDH). ``[...]``, ``(...)`` and ``*...*`` are non-verbal descriptions:
   removed from the speech and kept in ``nonverbal``, lower-cased, brackets and edge
   punctuation stripped (``"[LAUGHTER]"`` -> ``"laughter"``, ``"(door slams)"`` ->
   ``"door slams"``). A tag may wrap onto a second line. All bracketed text counts, as SDH
   practice uses brackets only for cues: ``"[JOHN] Hi"`` gives the sound tag ``"john"``,
   not a speaker (no reliable way to tell a name from a sound there), and a spoken
   parenthetical is lost from the text -- both are known, accepted limits.
5. **Speaker labels.** ``"JOHN: Hello."``, ``"MARY SMITH: Hi."``, ``"DR. WHO : Hi"``: at the
   start of a line or turn, 1-3 words, at most 30 characters, written in upper case and
   followed by a colon and a space (or the line end) give ``speaker``; a label starts a new
   turn. ``"Note: ..."`` (mixed case) and ``"10:30"`` (no letter first, no space after the
   colon) are not labels. WebVTT ``<v Name>`` and, for an event with a single turn, the
   ASS actor field (``event.name``) also give a speaker.
6. **Music.** ``#`` standing alone (``"# la la #"``) is read as ``♪``. Text between two music
   marks (``♪ ♫ ♬ ♩``) is song lyrics; after that, a line that still starts or ends with a
   mark is lyrics as a whole (``"♪ Somewhere over"`` / ``"the rainbow ♪"``); a lone mark
   elsewhere is removed. Lyrics are not speech: they leave the text and add ``"music"`` to
   ``nonverbal``. ``"Caption text #1"`` has no music mark.
7. **Turns.** Lines are grouped into turns: a turn starts at a dash line, at a speaker
   label or ``<v>`` voice, and at the start of the event; other lines continue the current
   turn. Lines of one turn are joined with a space (no space between two CJK characters).
   Turns with neither words nor sound tags are dropped. An event with two or more turns
   is a dialogue event; a lone dash line is one turn (a continuation marker).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from empathynet.subtitles.encoding import normalise_newlines
from empathynet.subtitles.events import Markup, SubtitleEvent

__all__ = [
    "CleanText",
    "Line",
    "Turn",
    "clean_event_text",
    "ends_sentence",
    "join_text",
    "starts_lowercase",
    "starts_with_ellipsis",
    "strip_markup",
]

#: Marks that end a sentence (Latin, CJK full-width and vertical forms, Arabic, Devanagari,
#: Ethiopic, Greek question mark).
TERMINAL_PUNCTUATION = ".!?…‼⁇⁈⁉。！？．︒︕︖؟۔।॥።;"
#: Closing quotes and brackets that may follow the terminal mark: ``He said "no."``.
CLOSING_MARKS = "\"'»”’)]}」』】〉》›"
OPENING_QUOTES = "\"'«“‘„‚「『〈《‹"
MUSIC_MARKS = "♪♫♬♩"
DASHES = "-–—‐‑―"

# Private-use separators, removed from the input before they are inserted: they carry a
# WebVTT voice name from the tag pass to the lines (not whitespace, unlike \x1e, so
# ``str.strip`` keeps them).
_VOICE_OPEN = "\ue000"
_VOICE_CLOSE = "\ue001"

# Control characters, zero-width space, BOM, bidi marks and embeddings (display-only),
# and the two separators above.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ue000\ue001]"
)
_SPACES = re.compile(r"[ \t\xa0\u2000-\u200a\u202f\u205f\u3000]+")
_TOKEN = re.compile(
    r"\{[^{}]*\}"  # ASS override block (or inline comment)
    r"|</?[A-Za-z][^<>]*>"  # HTML / WebVTT tag
    r"|<\s*\d+:[\d:.]+\s*>"  # WebVTT karaoke timestamp (always has a colon: not "2<3,5>1")
)
_DRAWING = re.compile(r"\\p(\d+)")
_MICRODVD = re.compile(r"\{[A-Za-z]:[^{}]*\}")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][A-Za-z0-9]*)")
_VOICE_TAG = re.compile(r"<\s*v(?:\.[^\s>]*)?(?:\s+([^>]*))?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_HASH_MUSIC = re.compile(r"(?m)(?:^|(?<=\s))#(?=\s|$)")
_SPLIT_BRACKETS = (re.compile(r"\[[^\[\]\n]*\n[^\[\]\n]*\]"), re.compile(r"\([^()\n]*\n[^()\n]*\)"))
_SOUND_TAG = re.compile(r"\[([^\[\]]*)\]|\(([^()]*)\)|\*+([^*\n]+?)\*+")
_DASH_CLASS = re.escape(DASHES)
_LEADING_DASH = re.compile(rf"^(?:--|[{_DASH_CLASS}])(?![\d{_DASH_CLASS}])\s*")
_INLINE_DASH = re.compile(rf"\s+(?:--|[{_DASH_CLASS}])\s*(?=[^\s\d{_DASH_CLASS}])")
_SPEAKER = re.compile(r"^([^\W\d_][\w'’.\-]*(?: [\w'’.\-]+){0,2}) ?:(?=\s|$)\s*")
_MUSIC_RUN = re.compile(rf"[{MUSIC_MARKS}][^{MUSIC_MARKS}]*[{MUSIC_MARKS}]")
_TAG_EDGES = " \t.,:;!?-–—" + MUSIC_MARKS


@dataclass(frozen=True)
class Line:
    """One line of an event (or one turn of a line holding two), after cleaning."""

    text: str  #: the words, markup and sound tags removed; may be ""
    nonverbal: tuple[str, ...] = ()  #: sound tags on this line, normalised ("laughs", "music")
    speaker: str | None = None  #: from a "NAME:" label or a WebVTT <v Name> voice
    dash: bool = False  #: the line started with a dialogue dash (it starts a turn)


@dataclass(frozen=True)
class Turn:
    """What one person says in an event: one or more lines."""

    text: str  #: the words of the turn's lines, joined; may be "" (sound tags only)
    nonverbal: tuple[str, ...] = ()  #: the turn's sound tags, in order, without repeats
    speaker: str | None = None


@dataclass(frozen=True)
class CleanText:
    """An event's text after cleaning: its lines and the turns they form."""

    lines: tuple[Line, ...]
    turns: tuple[Turn, ...]

    @property
    def text(self) -> str:
        """All the words of the event, turns joined with a space."""
        text = ""
        for turn in self.turns:
            text = join_text(text, turn.text)
        return text

    @property
    def nonverbal(self) -> tuple[str, ...]:
        """All sound tags of the event, in order, without repeats."""
        return _unique(tag for turn in self.turns for tag in turn.nonverbal)

    @property
    def is_dialogue(self) -> bool:
        """Two or more turns: several people speak in this one event."""
        return len(self.turns) > 1


def clean_event_text(event: SubtitleEvent) -> CleanText:
    """Clean one event's raw text into lines and turns (see the module docstring for rules).

    The timing fixes and the sentence stage each clean the same event: the result is
    cached (both ``SubtitleEvent`` and ``CleanText`` are frozen, so sharing it is safe).
    """
    return _clean_event_text(event)


@functools.lru_cache(maxsize=8192)
def _clean_event_text(event: SubtitleEvent) -> CleanText:
    text = _strip_markup(event.text, event.markup)
    for pattern in _SPLIT_BRACKETS:  # a sound tag wrapped onto two lines is one tag
        text = pattern.sub(lambda m: m.group(0).replace("\n", " "), text)
    text = _HASH_MUSIC.sub("♪", text)
    lines: list[Line] = []
    for raw_line in text.split("\n"):
        for voice, segment in _voice_segments(raw_line):
            for index, part in enumerate(_split_inline_turns(segment)):
                line = _clean_line(part, voice if index == 0 else None)
                if line is not None:
                    lines.append(line)
    turns = _group_turns(lines)
    if len(turns) == 1 and turns[0].speaker is None and event.name.strip():
        only = turns[0]
        turns = (Turn(only.text, only.nonverbal, _normalise_space(event.name)),)
    return CleanText(tuple(lines), turns)


def strip_markup(text: str, markup: Markup = "ass") -> str:
    """Remove override blocks, drawings, tags and escapes; keep ``"\\n"`` line breaks.

    WebVTT voice names are dropped here; ``clean_event_text`` keeps them as speakers.
    """
    stripped = _strip_markup(text, markup)
    return re.sub(f"{_VOICE_OPEN}[^{_VOICE_CLOSE}]*{_VOICE_CLOSE}", "", stripped)


def _strip_markup(text: str, markup: Markup) -> str:
    """``strip_markup`` keeping each WebVTT voice as ``_VOICE_OPEN name _VOICE_CLOSE``."""
    text = _CONTROL.sub("", normalise_newlines(text))
    unclosed = text.find("{\\", text.rfind("}") + 1)
    if unclosed >= 0:  # an override block never closed hides the rest of the event
        text = text[:unclosed]
    pieces: list[str] = []
    drawing = False
    in_ruby_text = False
    position = 0
    for match in _TOKEN.finditer(text):
        if not drawing and not in_ruby_text:
            pieces.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token.startswith("{"):
            if "\\" in token:
                levels = _DRAWING.findall(token)
                if levels:
                    drawing = int(levels[-1]) > 0
            elif (
                markup != "ass"
                and not _MICRODVD.fullmatch(token)
                and not drawing
                and not in_ruby_text
            ):
                pieces.append(token)  # ordinary text in braces outside ASS
            continue
        name_match = _TAG_NAME.match(token)
        name = name_match.group(1).lower() if name_match else ""
        closing = token.lstrip("< \t").startswith("/")
        if name in ("rt", "rp"):
            in_ruby_text = not closing
        elif name == "ruby" and closing:
            in_ruby_text = False
        elif name == "v" and not closing:
            voice = _VOICE_TAG.match(token)
            speaker = _normalise_space(voice.group(1) or "") if voice else ""
            pieces.append(f"{_VOICE_OPEN}{speaker}{_VOICE_CLOSE}")
    if not drawing and not in_ruby_text:
        pieces.append(text[position:])
    text = "".join(pieces)
    # a decoded entity must not bring back a control character (or fake a voice separator)
    text = _ENTITY.sub(lambda m: _CONTROL.sub("", html.unescape(m.group(0))), text)
    text = text.replace("\\h", " ").replace("\\N", "\n").replace("\\n", " ")
    out_lines = []
    for line in text.split("\n"):
        line = _normalise_space(line)
        if line:
            out_lines.append(line)
    return "\n".join(out_lines)


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends with sentence-final punctuation (closing quotes allowed)."""
    stripped = text.rstrip().rstrip(CLOSING_MARKS + " ")
    return bool(stripped) and stripped[-1] in TERMINAL_PUNCTUATION


def starts_with_ellipsis(text: str) -> bool:
    """True when ``text`` opens with ``...`` or ``…`` (after any opening quote)."""
    stripped = text.lstrip().lstrip(OPENING_QUOTES)
    return stripped.startswith(("...", "…"))


def starts_lowercase(text: str) -> bool:
    """True when the first letter or digit of ``text`` is a lower-case letter."""
    for char in text:
        if char.isalnum():
            return char.isalpha() and char.islower()
    return False


def join_text(first: str, second: str) -> str:
    """Join two pieces of text with one space, or none between two CJK characters."""
    if not first:
        return second
    if not second:
        return first
    if _is_cjk(first[-1]) and _is_cjk(second[0]):
        return first + second
    return f"{first} {second}"


def _is_cjk(char: str) -> bool:
    """Scripts written without spaces between words (Chinese, Japanese, their punctuation)."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFE10 <= code <= 0xFE1F  # vertical forms
        or 0xFE30 <= code <= 0xFE4F
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
    )


def _normalise_space(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)


def _voice_segments(line: str) -> list[tuple[str | None, str]]:
    """Split a line at WebVTT voice separators: (speaker or None, text) pieces."""
    if _VOICE_OPEN not in line:
        return [(None, line)]
    segments: list[tuple[str | None, str]] = []
    head, *rest = line.split(_VOICE_OPEN)
    if head.strip():
        segments.append((None, head))
    for piece in rest:
        speaker, _, body = piece.partition(_VOICE_CLOSE)
        segments.append((speaker or None, body))
    return segments


def _split_inline_turns(line: str) -> list[str]:
    """``"- Hi. - Hello."`` -> ``["- Hi.", "- Hello."]``; other lines are returned whole."""
    line = line.strip()
    starts_with_dash = bool(_LEADING_DASH.match(line))
    parts: list[str] = []
    start = 0
    for match in _INLINE_DASH.finditer(line):
        before = line[start : match.start()]
        after = line[match.end() :]
        if not after:
            continue
        spoken_before = _SOUND_TAG.sub("", _LEADING_DASH.sub("", before)).strip()
        after_tag = starts_with_dash and before.rstrip().endswith(("]", ")"))
        if not (ends_sentence(spoken_before) or (after_tag and not spoken_before)):
            continue
        first = after[0]
        if not (first.isupper() or first in OPENING_QUOTES + "[(¿¡" + MUSIC_MARKS):
            continue
        parts.append(before)
        start = match.start()
    parts.append(line[start:])
    return [part.strip() for part in parts if part.strip()]


def _clean_line(line: str, voice: str | None) -> Line | None:
    """One line or turn part -> a ``Line`` (None when nothing is left of it)."""
    dash = False
    dash_match = _LEADING_DASH.match(line)
    if dash_match:
        dash = True
        line = line[dash_match.end() :]
    tags: list[str] = []

    def take_tag(match: re.Match[str]) -> str:
        body = next(group for group in match.groups() if group is not None)
        tag = _normalise_tag(body)
        if tag:
            tags.append(tag)
        return " "

    line = _normalise_space(_SOUND_TAG.sub(take_tag, line))
    speaker = voice
    label = _SPEAKER.match(line)
    if label and _is_speaker_label(label.group(1)):
        speaker = _normalise_space(label.group(1))
        line = line[label.end() :]
    line, music = _remove_music(line)
    if music:
        tags.append("music")
    line = _normalise_space(line)
    # a dash after a tag or label ("[laughs] - Hi", "JOHN: - Hi") marks the turn too
    dash_match = _LEADING_DASH.match(line)
    if dash_match:
        dash = True
        line = line[dash_match.end() :]
    if not line and not tags and speaker is None and not dash:
        return None
    return Line(line, _unique(tags), speaker, dash)


def _normalise_tag(body: str) -> str:
    if any(mark in body for mark in MUSIC_MARKS):
        return "music"
    return _normalise_space(body).strip(_TAG_EDGES).lower()


def _is_speaker_label(name: str) -> bool:
    letters = [char for char in name if char.isalpha()]
    return (
        len(name) <= 30
        and len(letters) >= 1
        and all(char.isupper() for char in letters)
        # "A: ..." or "I: ..." are too likely to be words
        and (len(letters) > 1 or name.endswith("."))
    )


def _remove_music(line: str) -> tuple[str, bool]:
    """Remove song lyrics and music marks; returns the rest and whether music was found."""
    if not any(mark in line for mark in MUSIC_MARKS):
        return line, False
    rest = _MUSIC_RUN.sub(" ", line).strip()  # text between two marks is sung
    if rest and (rest[0] in MUSIC_MARKS or rest[-1] in MUSIC_MARKS):
        return "", True  # an unclosed mark at an edge: the whole line is sung
    for mark in MUSIC_MARKS:
        rest = rest.replace(mark, " ")
    return rest, True


def _group_turns(lines: list[Line]) -> tuple[Turn, ...]:
    """Group lines into turns: a dash, a speaker label or a voice starts a new one."""
    groups: list[list[Line]] = []
    for line in lines:
        starts_turn = line.dash or line.speaker is not None
        if not groups or (starts_turn and not _only_label(groups[-1], line)):
            groups.append([line])
        else:
            groups[-1].append(line)
    turns: list[Turn] = []
    for group in groups:
        text = ""
        for line in group:
            text = join_text(text, line.text)
        nonverbal = _unique(tag for line in group for tag in line.nonverbal)
        speaker = next((line.speaker for line in group if line.speaker), None)
        if text or nonverbal:
            turns.append(Turn(text, nonverbal, speaker))
    return tuple(turns)


def _only_label(current: list[Line], line: Line) -> bool:
    """The current turn is only a dash or a label so far, and ``line`` brings no new speaker.

    ``"-\\nHello"`` or ``"JOHN:\\nHello"`` are one turn; ``"JOHN:\\nMARY: Hi"`` are two.
    """
    empty = all(not item.text and not item.nonverbal for item in current)
    if not empty:
        return False
    current_speaker = next((item.speaker for item in current if item.speaker), None)
    return line.speaker is None or current_speaker is None or line.speaker == current_speaker


# Lines that subtitle sites and rippers insert: not speech by anyone on screen.
_CREDIT = re.compile(
    r"(?:\bwww\.|https?://|\b[\w-]+\.(?:com|org|net|tv|info|io)\b"
    r"|\b(?:subtitles?|subs|captions?|captioning|translation|synced?|sync|corrections?|"
    r"ripped|encoded|transcript)\s+(?:by|from)\b"
    r"|\bdownloaded\s+from\b|\bopensubtitles\b|\baddic7ed\b|\bsubscene\b|\bpodnapisi\b)",
    re.IGNORECASE,
)


def is_credit(text: str) -> bool:
    """True for an advert or credit line a subtitle site or ripper inserted.

    ``"Downloaded From www.AllSubs.org"``, ``"Subtitles by XYZ"``, ``"Sync and corrections by
    n17t01"``: a URL or one of these phrases. Such text is not speech by anyone on screen.
    """
    return _CREDIT.search(text) is not None
