"""Read a subtitle file, or a video's embedded subtitle stream, into events in file order.

Text formats: SubRip (``.srt``), SubViewer/YouTube SBV (``.sbv``), WebVTT, ASS/SSA, MicroDVD,
TTML, SAMI, MPL2 and TMP. pysubs2 parses all but WebVTT, whose parser here follows the
WebVTT block structure (pysubs2 reads WebVTT as SubRip: it merges ``NOTE`` blocks and cue
identifiers into the previous cue and takes inline karaoke timestamps for timing lines).
Embedded streams (Matroska, MP4, ...) are extracted with ffmpeg and parsed the same way.

Nothing is fixed here: events keep their order, times (integer ms, possibly negative, zero-length
or overlapping) and markup. The next stage sorts, trims and counts.
"""

from __future__ import annotations

import math
import re
import subprocess
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysubs2
from pysubs2.formats.microdvd import MICRODVD_LINE
from pysubs2.formats.subrip import SubripFormat
from pysubs2.formats.substation import SECTION_HEADING

from empathynet.errors import MissingDependencyError, SubtitleFormatError
from empathynet.subtitles.encoding import decode_subtitle_bytes, normalise_newlines
from empathynet.subtitles.events import LoadedSubtitles, Markup, SubtitleEvent

__all__ = [
    "CONTAINER_EXTENSIONS",
    "DEFAULT_MICRODVD_FPS",
    "MAX_TEXT_BYTES",
    "load_subtitles",
    "parse_subtitle_text",
]

#: A text subtitle file larger than this is refused (the longest film's SRT is < 1 MB).
MAX_TEXT_BYTES = 50 * 1024 * 1024
#: Frame rate for MicroDVD files that do not declare one (``{1}{1}23.976``).
DEFAULT_MICRODVD_FPS = 25.0
#: Extensions read as media containers whose subtitle streams are extracted with ffmpeg.
CONTAINER_EXTENSIONS = frozenset(
    {".mkv", ".mks", ".mka", ".mp4", ".m4v", ".mov", ".webm", ".avi", ".ts", ".m2ts", ".mpg"}
)
# ffmpeg reads the whole container to collect a subtitle stream; a film on a slow disk can
# take minutes.
_FFMPEG_TIMEOUT_S = 3600

_EXTENSION_FORMATS = {
    ".srt": "srt",
    ".sbv": "sbv",
    ".sub": "microdvd",
    ".vtt": "vtt",
    ".webvtt": "vtt",
    ".ass": "ass",
    ".ssa": "ssa",
    ".ttml": "ttml",
    ".dfxp": "ttml",
    ".xml": "ttml",
    ".smi": "sami",
    ".sami": "sami",
    ".mpl": "mpl2",
}  # no ".txt": it holds any of them, so it must not tip the balance towards TMP
# Which format wins when the content fits several and the extension does not decide.
_FORMAT_PRIORITY = ("vtt", "ass", "ssa", "ttml", "sami", "srt", "sbv", "microdvd", "mpl2", "tmp")
# pysubs2 formats read here; its own JSON and Whisper-JAX dumps are not subtitle files.
_PYSUBS2_FORMATS = frozenset({"srt", "ass", "ssa", "microdvd", "ttml", "sami", "mpl2", "tmp"})
# Formats parsed with SubRip's tags kept as written (<i>, <font>, WebVTT's <v Name>, <c.x>).
_HTML_FORMATS = frozenset({"srt", "sbv", "vtt"})
# A file with thousands of bad lines gets this many line warnings and a count of the rest.
_MAX_LINE_WARNINGS = 20
_OVERRIDE_BLOCK = re.compile(r"{[^}]*}")
_DRAWING_TAG = re.compile(r"\\p(\d{1,6})(?!\d)")
_SBV_TIMING = re.compile(r"^\s*\d+:\d{1,2}:\d{1,2}\.\d{1,3},\d+:\d{1,2}:\d{1,2}\.\d{1,3}\s*$")


@dataclass(frozen=True)
class _RawEvent:
    start_ms: int
    end_ms: int
    text: str
    style: str = ""
    name: str = ""
    line: int | None = None


def load_subtitles(
    path: str | Path,
    *,
    stream_index: int | None = None,
    fps: float | None = None,
) -> LoadedSubtitles:
    """Read a subtitle file, or one subtitle stream of a video, into events in file order.

    Args:
        path: a text subtitle file (format detected from its content, the extension breaking
            ties) or a media container (``.mkv``, ``.mp4``, ...; see ``CONTAINER_EXTENSIONS``).
        stream_index: for a container, which subtitle stream (0-based among its subtitle
            streams, like ffmpeg's ``0:s:N``); default: the first text subtitle stream.
        fps: frame rate for MicroDVD files that do not declare one in their first line
            (default ``DEFAULT_MICRODVD_FPS``); a declared rate wins.

    Returns:
        ``LoadedSubtitles`` whose events carry integer-millisecond times exactly as written
        (unsorted, possibly overlapping, zero-length or negative), ``index`` 0-based in file
        order, ``text`` with line breaks as ``"\\n"`` and markup kept (``markup`` names the
        dialect), ASS comments and vector drawings left out. An empty file gives no events
        and a warning.

    Raises:
        SubtitleFormatError: missing file, a directory, a file over ``MAX_TEXT_BYTES``, content
            that is no subtitle format, a container without a text subtitle stream (bitmap
            subtitles need OCR and are not supported).
        SubtitleEncodingError: the text encoding cannot be determined.
        MissingDependencyError: ffmpeg is not available for an embedded stream.
    """
    file = Path(path)
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise SubtitleFormatError(f"MicroDVD frame rate must be a positive number, not {fps}", file)
    if not file.exists():
        raise SubtitleFormatError("file not found", file)
    if file.is_dir():
        raise SubtitleFormatError("is a directory, not a subtitle file", file)
    if not file.is_file():
        # a device or pipe (/dev/zero) would be read forever
        raise SubtitleFormatError("not a regular file", file)
    if file.suffix.lower() in CONTAINER_EXTENSIONS:
        return _load_embedded(file, stream_index)
    if stream_index is not None:
        raise SubtitleFormatError(
            f"stream_index={stream_index} given, but this is a text subtitle file, not a video",
            file,
        )
    try:
        size = file.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise SubtitleFormatError(
                f"{size} bytes is too large for a subtitle file (limit {MAX_TEXT_BYTES})", file
            )
        data = file.read_bytes()
    except OSError as error:
        raise SubtitleFormatError(f"cannot read: {error.strerror or error}", file) from None
    text, encoding = decode_subtitle_bytes(data, str(file))
    return parse_subtitle_text(
        text,
        path=str(file),
        encoding=encoding,
        format_hint=_EXTENSION_FORMATS.get(file.suffix.lower()),
        fps=fps,
    )


def parse_subtitle_text(
    text: str,
    *,
    path: str,
    encoding: str = "utf-8",
    format_hint: str | None = None,
    fps: float | None = None,
    format_name: str | None = None,
) -> LoadedSubtitles:
    """Parse already-decoded subtitle text (newlines ``"\\n"``) into events.

    ``path`` names the source in messages; ``format_hint`` (``"srt"``, ``"vtt"``, ...) breaks
    ties when the content fits several formats; ``format_name`` overrides the reported format
    (``"embedded:0"``). Times are integer ms. Raises ``SubtitleFormatError`` (one line, naming
    ``path``) when the text is in no known format.
    """
    if not text.strip():
        return LoadedSubtitles(
            path=path,
            format=format_name or format_hint or "empty",
            encoding=encoding,
            events=(),
            warnings=("empty file: no subtitle events",),
        )
    format_ = _detect_format(text, format_hint, path)
    warnings_: list[str] = []
    if format_ == "vtt":
        raw = list(_parse_webvtt(text, warnings_))
    else:
        raw = _parse_with_pysubs2(text, format_, fps, path, warnings_)
    markup: Markup = "html" if format_ in _HTML_FORMATS else "ass"
    events = tuple(
        SubtitleEvent(
            index=index,
            start_ms=event.start_ms,
            end_ms=event.end_ms,
            text=event.text,
            markup=markup,
            style=event.style,
            name=event.name,
            line=event.line,
        )
        for index, event in enumerate(raw)
    )
    if not events:
        warnings_.append(f"no subtitle events found in {text.count(chr(10)) + 1} lines")
    return LoadedSubtitles(
        path=path,
        format=format_name or format_,
        encoding=encoding,
        events=events,
        warnings=tuple(" ".join(warning.split()) for warning in warnings_),
    )


# --------------------------------------------------------------------------- format detection


def _detect_format(text: str, hint: str | None, path: str) -> str:
    head = text[:10_000]
    if head.lstrip().startswith("WEBVTT"):
        return "vtt"
    found: set[str] = set()
    for format_ in _PYSUBS2_FORMATS:
        try:
            guess = pysubs2.formats.get_format_class(format_).guess_format(head)
        except Exception:  # a guesser failing on odd text only means "not this format"
            guess = None
        if guess in _PYSUBS2_FORMATS:
            found.add(guess)
    if hint == "vtt" and "-->" in head:
        found.add("vtt")  # a WebVTT file without its header line: read it, with a warning
    if "srt" in found and (hint == "sbv" or _looks_like_sbv(head)):
        found.discard("srt")
        found.add("sbv")  # SubRip's parser reads SBV's "0:00:01.000,0:00:02.000" lines
    if not found:
        raise SubtitleFormatError(
            "not a subtitle file: no SubRip, WebVTT, ASS/SSA, MicroDVD, TTML, SAMI, MPL2 or "
            "TMP timing found",
            path,
        )
    if hint in found:
        return hint
    return next(format_ for format_ in _FORMAT_PRIORITY if format_ in found)


def _looks_like_sbv(head: str) -> bool:
    for line in head.split("\n"):
        if len(SubripFormat.TIMESTAMP.findall(line)) == 2:
            return bool(_SBV_TIMING.match(line))
    return False


# --------------------------------------------------------------------------- pysubs2 formats


def _parse_with_pysubs2(
    text: str, format_: str, fps: float | None, path: str, warnings_: list[str]
) -> list[_RawEvent]:
    parser_format = "srt" if format_ == "sbv" else format_
    if parser_format == "microdvd":
        text, frame_rate = _microdvd_frame_rate(text, fps, warnings_)
    else:
        frame_rate = None
    subs, parsed_text = _parse_tolerantly(text, parser_format, frame_rate, path, warnings_)
    lines = _event_lines(parsed_text, parser_format, len(subs.events))
    text_lines = parsed_text.split("\n") if parser_format == "srt" else []
    keep_style = parser_format in ("ass", "ssa")  # elsewhere pysubs2 fills in "Default"
    comments = drawings = 0
    raw: list[_RawEvent] = []
    for event, line in zip(subs.events, lines, strict=True):
        if event.is_comment:
            comments += 1
            continue
        if _is_drawing(event.text):
            drawings += 1
            continue
        start_ms = _to_ms(event.start)
        end_ms = _to_ms(event.end)
        if start_ms is None or end_ms is None:
            where = f"line {line}: " if line else ""
            warnings_.append(f"{where}event skipped: time is not a finite number")
            continue
        if text_lines and line is not None:
            negative_start, negative_end = _negative_stamps(text_lines[line - 1])
            start_ms = -start_ms if negative_start else start_ms
            end_ms = -end_ms if negative_end else end_ms
        raw.append(
            _RawEvent(
                start_ms=start_ms,
                end_ms=end_ms,
                text=_line_breaks(event.text, format_),
                style=event.style if keep_style else "",
                name=event.name,
                line=line,
            )
        )
    if comments:
        warnings_.append(f"{comments} ASS comment events skipped (not shown on screen)")
    if drawings:
        warnings_.append(f"{drawings} ASS vector drawing events skipped (not speech)")
    return raw


def _negative_stamps(line: str) -> tuple[bool, bool]:
    """Whether the start and the end time of a SubRip / SBV timing line carry a minus sign.

    pysubs2's SubRip pattern leaves the sign out, so ``-00:00:01,000`` would read as 1 s:
    the sign is put back here and the timing fixes drop the event as a negative time. A
    dash after another dash is a sloppy arrow (``--00:00:02,000``), not a sign.
    """
    signs = [
        match.start() >= 1
        and line[match.start() - 1] == "-"
        and (match.start() < 2 or line[match.start() - 2] != "-")
        for match in SubripFormat.TIMESTAMP.finditer(line)
    ]
    return (signs[0], signs[1]) if len(signs) == 2 else (False, False)


def _parse_tolerantly(
    text: str, format_: str, fps: float | None, path: str, warnings_: list[str]
) -> tuple[pysubs2.SSAFile, str]:
    """Parse with pysubs2; when a line-based file fails, drop the lines that fail alone.

    Returns the parsed file and the text it was parsed from (unreadable lines blanked).
    pysubs2 runs on untrusted input and fails with any exception type (ValueError,
    IndexError, OverflowError, NotImplementedError, ParseError, ...): all become one
    ``SubtitleFormatError``.
    """
    try:
        return _pysubs2_parse(text, format_, fps, warnings_), text
    except Exception as error:
        failure = error
    if format_ not in ("ass", "ssa", "microdvd"):
        raise SubtitleFormatError(f"cannot parse as {format_}: {_describe(failure)}", path)
    lines = text.split("\n")
    dropped = 0
    for number, line in enumerate(lines, 1):
        if not _is_record_line(line, format_):
            continue
        try:
            _pysubs2_parse(line, format_, fps, [])
        except Exception as error:
            lines[number - 1] = ""  # blanked, not removed: later line numbers stay right
            dropped += 1
            if dropped <= _MAX_LINE_WARNINGS:
                warnings_.append(f"line {number}: unreadable, skipped: {_describe(error)}")
    if dropped > _MAX_LINE_WARNINGS:
        warnings_.append(f"{dropped - _MAX_LINE_WARNINGS} more unreadable lines skipped")
    if not dropped:
        raise SubtitleFormatError(f"cannot parse as {format_}: {_describe(failure)}", path)
    repaired = "\n".join(lines)
    try:
        return _pysubs2_parse(repaired, format_, fps, warnings_), repaired
    except Exception as error:
        raise SubtitleFormatError(f"cannot parse as {format_}: {_describe(error)}", path) from None


def _pysubs2_parse(
    text: str, format_: str, fps: float | None, warnings_: list[str]
) -> pysubs2.SSAFile:
    options: dict[str, Any] = {"keep_html_tags": True} if format_ == "srt" else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        subs = pysubs2.SSAFile.from_string(text, format_=format_, fps=fps, **options)
    for message, count in Counter(str(warning.message) for warning in caught).items():
        warnings_.append(f"parser: {message}" + (f" ({count} times)" if count > 1 else ""))
    return subs


def _is_record_line(line: str, format_: str) -> bool:
    if format_ == "microdvd":
        return MICRODVD_LINE.match(line) is not None
    return line.strip().startswith(("Dialogue:", "Comment:", "Style:"))


def _describe(error: BaseException) -> str:
    message = " ".join(str(error).split())
    if len(message) > 200:
        message = message[:200] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _microdvd_frame_rate(text: str, fps: float | None, warnings_: list[str]) -> tuple[str, float]:
    """The frame rate to use, and the text without its ``{1}{1}23.976`` declaration line.

    The declaration is removed here rather than by pysubs2, so that a nonsense value
    (``{1}{1}0``) can fall back to the default instead of failing the file.
    """
    lines = text.split("\n")
    for number, line in enumerate(lines):
        match = MICRODVD_LINE.match(line)
        if match is None:
            continue
        start, end, value = match.groups()
        # compared as text: a frame number may have thousands of digits
        if start.strip().lstrip("0") == "1" and end.strip().lstrip("0") == "1":
            try:
                declared = float(value)
            except ValueError:
                break  # an ordinary first event that happens to sit on frame 1
            lines[number] = ""
            if math.isfinite(declared) and 1.0 <= declared <= 1000.0:
                return "\n".join(lines), declared
            warnings_.append(f"line {number + 1}: frame rate {value.strip()!r} ignored")
        break
    return "\n".join(lines), fps if fps is not None else DEFAULT_MICRODVD_FPS


def _event_lines(text: str, format_: str, count: int) -> list[int | None]:
    """1-based line of each event pysubs2 produced, found the way its parsers find them."""
    numbers = list(_event_line_numbers(text, format_))
    if len(numbers) != count:
        return [None] * count
    return list(numbers)


def _event_line_numbers(text: str, format_: str) -> Iterator[int | None]:
    lines = text.split("\n")
    if format_ == "srt":
        for number, line in enumerate(lines, 1):
            if len(SubripFormat.TIMESTAMP.findall(line)) == 2:
                yield number
    elif format_ in ("ass", "ssa"):
        in_header = in_attachment = False
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if SECTION_HEADING.match(line):
                in_header = "Info" in line or "Aegisub" in line
                in_attachment = "Fonts" in line or "Graphics" in line
            elif in_header or in_attachment:
                continue
            elif line.startswith(("Dialogue:", "Comment:")):
                yield number
    elif format_ == "microdvd":
        for number, line in enumerate(lines, 1):
            if MICRODVD_LINE.match(line):
                yield number
    else:
        # TTML, SAMI, MPL2, TMP: no cheap line for an event.
        yield from ()
        return


def _line_breaks(text: str, format_: str) -> str:
    """ASS ``\\N`` and ``\\n`` (and SubViewer's ``[br]``) as ``"\\n"``."""
    text = text.replace("\\N", "\n").replace("\\n", "\n")
    return text.replace("[br]", "\n") if format_ == "sbv" else text


def _is_drawing(text: str) -> bool:
    """Whether ASS text draws vector shapes (``{\\p1}m 0 0 l 100 0``) instead of words.

    Linear in the text; pysubs2's ``is_drawing`` is quadratic in the number of override
    blocks and took seconds on karaoke and drawing lines of libass' test files.
    """
    drawing = False
    fragment_start = 0
    for block in _OVERRIDE_BLOCK.finditer(text):
        if drawing and text[fragment_start : block.start()].strip():
            return True
        for scale in _DRAWING_TAG.findall(block.group()):
            drawing = int(scale) > 0
        fragment_start = block.end()
    return drawing and bool(text[fragment_start:].strip())


def _to_ms(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return round(value)
    return None


# --------------------------------------------------------------------------- WebVTT

# Hours capped at 9 digits: longer is no time at all, and int() of thousands of digits fails.
_VTT_TIMESTAMP = r"(?:(\d{1,9}):)?(\d{1,2}):(\d{1,2})([.,])(\d{1,3})"
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIMESTAMP}[ \t]*-->[ \t]*{_VTT_TIMESTAMP}(?:[ \t].*)?$")
_VTT_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]+)>")


def _parse_webvtt(text: str, warnings_: list[str]) -> Iterator[_RawEvent]:
    """WebVTT cues, following the block structure of the WebVTT specification.

    Leniencies, each with a warning: a missing ``WEBVTT`` line, a comma as decimal mark, and
    one- or two-digit minute/second fields. Header metadata, ``NOTE``, ``STYLE`` and
    ``REGION`` blocks and cue identifiers are skipped; a line with ``-->`` starts a new cue
    even without a blank line before it (as browsers do).
    """
    lines = text.split("\n")
    position = 0
    if lines[0].lstrip().startswith("WEBVTT"):
        position = 1
        # header metadata ("Kind: captions", YouTube's "Style:" ... "##") up to the first
        # blank line or cue timing
        while position < len(lines) and lines[position].strip():
            if "-->" in lines[position]:
                break
            position += 1
    elif not text.lstrip().startswith("WEBVTT"):
        warnings_.append("no WEBVTT header line: read as WebVTT anyway")
    lenient: Counter[str] = Counter()
    while position < len(lines):
        if not lines[position].strip():
            position += 1
            continue
        first = lines[position]
        if "-->" not in first:
            keyword = first.strip().split(maxsplit=1)[0] if first.strip() else ""
            next_has_arrow = position + 1 < len(lines) and "-->" in lines[position + 1]
            if keyword in ("NOTE", "STYLE", "REGION", "WEBVTT") or not next_has_arrow:
                if keyword not in ("NOTE", "STYLE", "REGION", "WEBVTT"):
                    warnings_.append(f"line {position + 1}: text outside any cue skipped")
                position = _skip_block(lines, position)
                continue
            position += 1  # a cue identifier
        timing_line = position + 1
        match = _VTT_TIMING.match(lines[position])
        position += 1
        body: list[str] = []
        while position < len(lines) and lines[position].strip() and "-->" not in lines[position]:
            body.append(lines[position])
            position += 1
        if match is None:
            warnings_.append(
                f"line {timing_line}: bad cue timing {lines[timing_line - 1].strip()[:80]!r}, "
                "cue skipped"
            )
            continue
        times = _vtt_times(match, lenient)
        if times is None:
            warnings_.append(f"line {timing_line}: minutes or seconds over 59, cue skipped")
            continue
        cue_text = "\n".join(body)
        voices = set(_VTT_VOICE.findall(cue_text))
        yield _RawEvent(
            start_ms=times[0],
            end_ms=times[1],
            text=cue_text,
            name=voices.pop().strip() if len(voices) == 1 else "",
            line=timing_line,
        )
    for kind, count in lenient.items():
        warnings_.append(f"{count} cue timings with {kind} accepted")


def _skip_block(lines: list[str], position: int) -> int:
    while position < len(lines) and lines[position].strip():
        position += 1
    return position


def _vtt_times(match: re.Match[str], lenient: Counter[str]) -> tuple[int, int] | None:
    groups = match.groups()
    times: list[int] = []
    for hours, minutes, seconds, mark, fraction in (groups[:5], groups[5:]):
        if int(minutes) > 59 or int(seconds) > 59:
            return None
        if len(minutes) != 2 or len(seconds) != 2:
            lenient["one-digit minutes or seconds"] += 1
        if len(fraction) != 3:
            lenient["fewer than 3 fraction digits"] += 1
        if mark == ",":
            lenient["a comma as decimal mark"] += 1
        times.append(
            int(hours or 0) * 3_600_000
            + int(minutes) * 60_000
            + int(seconds) * 1000
            + int(fraction.ljust(3, "0"))
        )
    return times[0], times[1]


# --------------------------------------------------------------------------- embedded streams


@dataclass(frozen=True)
class _SubtitleStream:
    number: int  # among the container's subtitle streams (ffmpeg's 0:s:N)
    codec: str
    bitmap: bool


def _load_embedded(file: Path, stream_index: int | None) -> LoadedSubtitles:
    streams = _subtitle_streams(file)
    if not streams:
        raise SubtitleFormatError("no subtitle stream in this media file", file)
    if stream_index is None:
        text_streams = [stream for stream in streams if not stream.bitmap]
        if not text_streams:
            codecs = ", ".join(sorted({stream.codec for stream in streams}))
            raise SubtitleFormatError(
                f"only bitmap subtitle streams ({codecs}): they need OCR, which is not "
                "supported; give a text subtitle file instead",
                file,
            )
        stream = text_streams[0]
    else:
        if not 0 <= stream_index < len(streams):
            raise SubtitleFormatError(
                f"no subtitle stream {stream_index}: the file has {len(streams)} (numbered from 0)",
                file,
            )
        stream = streams[stream_index]
        if stream.bitmap:
            raise SubtitleFormatError(
                f"subtitle stream {stream_index} is a bitmap stream ({stream.codec}): it needs "
                "OCR, which is not supported",
                file,
            )
    as_ass = stream.codec in ("ass", "ssa")
    output = _ffmpeg_extract(file, stream, "ass" if as_ass else "srt")
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubtitleFormatError(
            f"ffmpeg gave invalid UTF-8 for subtitle stream {stream.number}",
            file,
            f"byte {error.start}",
        ) from None
    return parse_subtitle_text(
        normalise_newlines(text),
        path=str(file),
        encoding="utf-8",
        format_hint="ass" if as_ass else "srt",
        format_name=f"embedded:{stream.number}",
    )


def _subtitle_streams(file: Path) -> list[_SubtitleStream]:
    import av  # PyAV: imported here, only containers need it

    try:
        with av.open(str(file)) as container:
            return list(_describe_streams(container.streams.subtitles))
    except (av.FFmpegError, OSError, ValueError) as error:
        message = f"cannot open as a media file: {_describe(error)}"
        raise SubtitleFormatError(message, file) from None


def _describe_streams(streams: Iterable[Any]) -> Iterator[_SubtitleStream]:
    import av

    for number, stream in enumerate(streams):
        try:
            codec = stream.codec_context.codec
            name, text = str(codec.name), bool(codec.text_sub)
        except (av.FFmpegError, AttributeError, ValueError):
            name, text = "unknown", False
        # A stream whose codec ffmpeg cannot decode is treated like a bitmap one: unusable.
        yield _SubtitleStream(number=number, codec=name, bitmap=not text)


def _ffmpeg_extract(file: Path, stream: _SubtitleStream, output_format: str) -> bytes:
    try:
        import imageio_ffmpeg

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise MissingDependencyError(
            f"ffmpeg is needed to read embedded subtitles ({_describe(error)}); "
            "install it with: pip install imageio-ffmpeg",
            file,
        ) from None
    command = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        str(file),
        "-map",
        f"0:s:{stream.number}",
        "-c:s",
        output_format,
        "-f",
        output_format,
        "-",
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, timeout=_FFMPEG_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise SubtitleFormatError(
            f"ffmpeg took over {_FFMPEG_TIMEOUT_S} s to extract subtitle stream {stream.number}",
            file,
        ) from None
    except OSError as error:
        raise MissingDependencyError(f"cannot run ffmpeg: {_describe(error)}", file) from None
    if result.returncode != 0:
        last = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise SubtitleFormatError(
            f"ffmpeg could not extract subtitle stream {stream.number} ({stream.codec}): {last[0]}",
            file,
        )
    return result.stdout
