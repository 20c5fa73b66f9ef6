"""Where a source comes from: its URL, licence, title and speaker.

Two places give it, read by ``build``:

* a **sources file** (``build --sources FILE``): CSV with a header, or JSON Lines, one
  row per video: ``path`` (required; relative to the sources file's folder), ``url``,
  ``licence`` (or ``license``), ``title``, ``speaker``, ``attribution``, ``year``,
  ``language``. Its paths are also inputs of the build;
* a **yt-dlp info file** beside a video (``NAME.info.json``, what ``yt-dlp
  --write-info-json`` writes): ``webpage_url``, ``title``, ``license``, ``uploader``,
  ``upload_date``, ``language``.

A sources file's row wins over an info file. Every source row then keeps the URL,
licence, title and the SHA-256 of the file's bytes, so every cue traces to where it came
from (``Source``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from empathynet.errors import EmpathyNetError
from empathynet.store.jsonl import JsonLineError, json_objects

#: The columns a sources file may have (``license`` is read as ``licence``).
SOURCE_FILE_COLUMNS: tuple[str, ...] = (
    "path",
    "url",
    "licence",
    "title",
    "speaker",
    "attribution",
    "year",
    "language",
)
_ALIASES = {"license": "licence"}


class SourcesFileError(EmpathyNetError):
    """A sources file (or an info file) has a problem; the message names the file and line."""


@dataclass(frozen=True)
class SourceMetadata:
    """What is known of a source beyond its bytes; ``origin`` says where it was read."""

    origin: str  #: ``sources:<file name>``, ``info.json`` or ``recipe``
    url: str | None = None
    licence: str | None = None
    title: str | None = None
    speaker: str | None = None
    attribution: str | None = None
    year: int | None = None
    language: str | None = None

    def source_fields(self) -> dict[str, Any]:
        """The ``Source`` fields it sets (``provenance`` and the known values)."""
        values: dict[str, Any] = {"provenance": self.origin}
        for item in fields(self):
            if item.name != "origin":
                values[item.name] = getattr(self, item.name)
        return values


def _text(value: Any, column: str, where: str, path: Path) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise SourcesFileError(f"{where}: {column} must be text, got {value!r}", path)
    value = value.strip()
    return value or None


def _year(value: Any, where: str, path: Path) -> int | None:
    text = _text(value, "year", where, path)
    if text is None:
        return None
    if not text.isdigit() or not 1800 <= int(text) <= 2200:
        raise SourcesFileError(f"{where}: year must be a year such as 2018, got {text!r}", path)
    return int(text)


def _row_metadata(
    row: dict[str, Any], origin: str, where: str, path: Path
) -> tuple[str, SourceMetadata]:
    names = {key: str(key).strip().lower() for key in row}
    values = {_ALIASES.get(names[key], names[key]): value for key, value in row.items()}
    unknown = sorted(set(values) - set(SOURCE_FILE_COLUMNS))
    if unknown:
        raise SourcesFileError(
            f"{where}: unknown column {unknown[0]!r}; columns: {', '.join(SOURCE_FILE_COLUMNS)}",
            path,
        )
    video = _text(values.get("path"), "path", where, path)
    if video is None:
        raise SourcesFileError(f"{where}: no path: each row names a video file", path)
    metadata = SourceMetadata(
        origin=origin,
        url=_text(values.get("url"), "url", where, path),
        licence=_text(values.get("licence"), "licence", where, path),
        title=_text(values.get("title"), "title", where, path),
        speaker=_text(values.get("speaker"), "speaker", where, path),
        attribution=_text(values.get("attribution"), "attribution", where, path),
        year=_year(values.get("year"), where, path),
        language=_text(values.get("language"), "language", where, path),
    )
    return video, metadata


def read_sources_file(path: str | Path) -> dict[Path, SourceMetadata]:
    """The rows of a sources file (CSV with a header, or JSON Lines by its ``.jsonl`` /
    ``.ndjson`` name), keyed by each video's resolved path (relative paths are taken from
    the sources file's folder). ``SourcesFileError`` names the file and line of a bad row
    (unknown column, no path, a path listed twice, a bad year)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise SourcesFileError(f"cannot read the sources file: {error.strerror}", path) from None
    except UnicodeDecodeError:
        raise SourcesFileError("not UTF-8 text; save the sources file as UTF-8", path) from None
    origin = f"sources:{path.name}"
    rows: list[tuple[str, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        try:
            rows.extend((f"line {number}", value) for number, value in json_objects(text))
        except JsonLineError as error:
            raise SourcesFileError(str(error), path) from None
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise SourcesFileError("empty file: expected a header such as path,url,licence", path)
        for row in reader:
            if None in row:
                raise SourcesFileError(
                    f"line {reader.line_num}: more fields than the header has", path
                )
            if any((v or "").strip() for v in row.values()):
                rows.append((f"line {reader.line_num}", dict(row)))
    if not rows:
        raise SourcesFileError("no rows: the file lists no video", path)
    found: dict[Path, SourceMetadata] = {}
    for where, row in rows:
        video, metadata = _row_metadata(row, origin, where, path)
        resolved = (path.parent / video).resolve()
        if resolved in found:
            raise SourcesFileError(f"{where}: {video} is listed twice", path)
        found[resolved] = metadata
    return found


def info_json_path(video: Path) -> Path:
    """Where yt-dlp puts a video's info file: ``NAME.info.json`` beside ``NAME.ext``."""
    return video.with_name(f"{video.stem}.info.json")


def read_info_json(video: str | Path) -> SourceMetadata | None:
    """The metadata of yt-dlp's ``NAME.info.json`` beside ``video``; None when there is
    none. ``SourcesFileError`` names the file when it is not a JSON object."""
    path = info_json_path(Path(video))
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourcesFileError(f"not a yt-dlp info file ({error})", path) from None
    if not isinstance(value, dict):
        raise SourcesFileError("not a yt-dlp info file (expected a JSON object)", path)
    where = "info"
    url = value.get("webpage_url") or value.get("original_url") or value.get("url")
    upload_date = _text(value.get("upload_date"), "upload_date", where, path)
    year = int(upload_date[:4]) if upload_date and upload_date[:4].isdigit() else None
    attribution = value.get("uploader") or value.get("channel") or value.get("creator")
    return SourceMetadata(
        origin="info.json",
        url=_text(url, "webpage_url", where, path),
        licence=_text(value.get("license"), "license", where, path),
        title=_text(value.get("title"), "title", where, path),
        attribution=_text(attribution, "uploader", where, path),
        year=year,
        language=_text(value.get("language"), "language", where, path),
    )


__all__ = [
    "SOURCE_FILE_COLUMNS",
    "SourceMetadata",
    "SourcesFileError",
    "info_json_path",
    "read_info_json",
    "read_sources_file",
]
