"""Download the videos a recipe lists into a folder, checked against its SHA-256.

A recipe is a JSON Lines file (``kind`` on every line says what the line is): a header
line ``{"kind": "recipe", "format": "empathynet-recipe", "format_version": 1, ...}``, then
one ``source`` line per video (``source_id``, ``sha256``, ``size_bytes``, ``file_name``,
``url``...) among lines of other kinds, which are not read here. The media is not in the
recipe; ``fetch_recipe`` downloads it again:

* a URL whose path ends in a video extension, and any ``file://`` URL, is read with
  ``urllib`` into ``DIR/.<file_name>.part``; an existing ``.part`` is continued with a
  ``Range`` request, so an interrupted fetch (Ctrl-C, ``kill -9``, a dropped connection)
  resumes where it stopped;
* any other URL (a platform's page) goes to ``yt-dlp``, run as a subprocess.

A downloaded file takes its name only when its SHA-256 (and size) are the recipe's; other
bytes are kept as ``DIR/<file_name>.changed`` and reported, never used by a build. A file
already at its name with the recipe's bytes is ``present`` and not downloaded again; one
with other bytes is the user's and is left alone. Every source ends with one outcome,
written to ``DIR/fetch.json``; a source that fails never stops the others.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol, get_args
from urllib.parse import unquote, urlsplit

from empathynet import __version__
from empathynet.errors import EmpathyNetError
from empathynet.pipeline.discover import VIDEO_EXTENSIONS
from empathynet.pipeline.progress import Progress
from empathynet.recipes.recipe import RecipeSource, read_recipe
from empathynet.store.atomic import atomic_write_json, commit
from empathynet.store.hashing import file_sha256
from empathynet.store.layout import is_dataset
from empathynet.store.lock import dataset_lock

#: ``DIR/fetch.json``: the outcome of the last fetch into ``DIR``.
FETCH_JSON = "fetch.json"
FETCH_FORMAT = "empathynet-fetch"
FETCH_FORMAT_VERSION = 1
#: What a file with other bytes than the recipe's is renamed to: ``<file_name>.changed``.
CHANGED_SUFFIX = ".changed"
#: The command that installs yt-dlp, named when a platform URL needs it.
YTDLP_INSTALL = "pip install yt-dlp"
#: yt-dlp's ``-f``: the best video and audio, merged, else the best single file.
YTDLP_DEFAULT_FORMAT = "bv*+ba/b"

Outcome = Literal["downloaded", "present", "changed", "vanished", "failed", "no_url"]
#: Every outcome, in the order the summary counts them.
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
#: The outcomes that leave the source's file under its name with the recipe's bytes.
OK_OUTCOMES: frozenset[str] = frozenset({"downloaded", "present"})

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Names a source's file may not take in ``DIR`` (the fetch's own files, and a name that
#: would make ``DIR`` look like a dataset); compared case-insensitively.
_RESERVED_NAMES = frozenset({FETCH_JSON, "dataset.json"})
_MAX_NAME_BYTES = 200  # file systems allow 255; leaves room for ".part" and a prefix
#: yt-dlp's own words for a video that is gone for good.
_YTDLP_VANISHED = re.compile(
    r"video unavailable|has been removed|no longer available|private video|"
    r"does not exist|HTTP Error 404|HTTP Error 410|account .*terminated",
    re.IGNORECASE,
)


# ----------------------------------------------------------------------------------------
# File names in the fetch folder


def safe_file_name(name: str, source_id: str) -> str:
    """``name`` as a plain file name: its last path component (``a/../b.mp4`` -> ``b.mp4``),
    without leading dots, control characters or more than 200 bytes; ``<source_id>`` plus
    its extension when nothing is left."""
    base = _plain_name(name)
    suffix = PurePosixPath(base).suffix if base else PurePosixPath(name).suffix
    if not base:
        return (_plain_name(source_id) or "source") + (suffix if _plain_suffix(suffix) else "")
    if len(base.encode("utf-8")) > _MAX_NAME_BYTES:
        suffix = suffix if _plain_suffix(suffix) else ""
        stem = base[: len(base) - len(suffix)]
        while len((stem + suffix).encode("utf-8")) > _MAX_NAME_BYTES:
            stem = stem[:-1]
        base = stem + suffix
    return base


def _plain_name(name: str) -> str:
    """The last path component of ``name``, control characters replaced, leading dots and
    spaces removed."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join("_" if unicodedata.category(c).startswith("C") else c for c in base)
    return base.strip().lstrip(".").strip()


def _plain_suffix(suffix: str) -> bool:
    return 1 < len(suffix) <= 8 and suffix[1:].isalnum()


def file_names(sources: Iterable[RecipeSource]) -> dict[str, str]:
    """The name each source's file takes in the fetch folder, by ``source_id``: its
    ``safe_file_name``, prefixed with ``<source_id>_`` when two sources would share it
    (compared case-insensitively, for file systems that do) or it is a reserved name
    (``fetch.json``, ``dataset.json``)."""
    safe = {
        source.source_id: safe_file_name(source.file_name, source.source_id) for source in sources
    }
    users: dict[str, int] = {}
    for name in safe.values():
        users[name.casefold()] = users.get(name.casefold(), 0) + 1
    names: dict[str, str] = {}
    for source_id, name in safe.items():
        key = name.casefold()
        if users[key] > 1 or key in _RESERVED_NAMES:
            name = safe_file_name(f"{source_id}_{name}", source_id)
        names[source_id] = name
    return names


# ----------------------------------------------------------------------------------------
# Downloaders


class DownloadError(EmpathyNetError):
    """A download did not give a file. ``vanished``: the file is gone for good (HTTP 404 or
    410, an unknown host, a refused connection, a removed video), else it failed and may
    work another time. The message is one line naming the URL."""

    def __init__(
        self,
        message: str,
        path: str | os.PathLike[str] | None = None,
        position: str | None = None,
        vanished: bool = False,
    ) -> None:
        self.vanished = vanished
        super().__init__(message, path, position)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.path, self.position, self.vanished))


@dataclass(frozen=True)
class DownloadRequest:
    """What a downloader is asked for."""

    url: str
    #: the file to write the bytes into, ``DIR/.<file_name>.part``; when it exists it holds
    #: the first bytes of an earlier, interrupted download, to continue
    part: Path
    #: a folder a downloader may use for its own temporary files (it need not exist; it is
    #: removed once the file is placed), ``DIR/.<file_name>.fetch``
    scratch: Path
    file_name: str  #: the file's name in the fetch folder (for progress and messages)
    expected_bytes: int | None  #: the recipe's size of the whole file, when known
    progress: bool = True  #: show progress on stderr


@dataclass(frozen=True)
class DownloadedFile:
    """What a downloader got: the whole file, and how many of its bytes this call fetched."""

    path: Path  #: the request's ``part``, or a file inside its ``scratch`` folder
    received_bytes: int  #: bytes transferred by this call (not those resumed from)


class Downloader(Protocol):
    """Gets one URL's bytes into a file: ``download`` returns it or raises
    ``DownloadError``. It does not check the bytes: ``fetch_recipe`` does. Errors writing
    local files are ``OSError`` and stop the fetch."""

    name: str  #: what the outcome records as ``via``: ``http``, ``yt-dlp``

    def download(self, request: DownloadRequest) -> DownloadedFile: ...


class HttpDownloader:
    """HTTP(S) and ``file://`` downloads with ``urllib``, resumed with ``Range: bytes=N-``
    (206 appends, 200 starts over), streamed in ``chunk_bytes`` pieces; ``timeout_s``:
    seconds without an answer before a connection counts as failed."""

    name = "http"

    def __init__(self, *, timeout_s: float = 30.0, chunk_bytes: int = 1 << 20) -> None:
        self.timeout_s = timeout_s
        self.chunk_bytes = chunk_bytes

    def download(self, request: DownloadRequest) -> DownloadedFile:
        scheme = urlsplit(request.url).scheme.lower()
        if scheme == "file":
            return self._copy_local(request)
        if scheme not in ("http", "https"):
            raise DownloadError(f"{request.url}: not an http(s):// or file:// URL")
        # at most twice: a part the server cannot continue is dropped and fetched whole
        for _ in range(2):
            offset = _part_size(request)
            headers = {"User-Agent": f"empathynet/{__version__}", "Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            try:
                response = urllib.request.urlopen(
                    urllib.request.Request(request.url, headers=headers), timeout=self.timeout_s
                )
            except urllib.error.HTTPError as error:
                error.close()
                if error.code == 416 and offset:  # nothing after byte N: complete, or stale
                    if offset in (request.expected_bytes, _range_total(error.headers)):
                        return DownloadedFile(request.part, 0)
                    request.part.unlink()
                    continue
                raise _download_error(request.url, error) from None
            except (OSError, ValueError, http.client.HTTPException) as error:
                raise _download_error(request.url, error) from None
            with response:
                status = response.status
                if offset and status == 206:
                    if _range_start(response.headers) != offset:
                        request.part.unlink()  # not the bytes asked for: start over
                        continue
                elif status not in (200, 206):
                    raise DownloadError(
                        f"{request.url}: unexpected HTTP {status} {response.reason}"
                    )
                else:
                    offset = 0  # a whole file (the server ignores Range): start over
                length = response.headers.get("Content-Length")
                sent = int(length) if length and length.isdigit() else None
                received = self._stream(request, response.read, offset, sent)
            return DownloadedFile(request.part, received)
        raise DownloadError(f"{request.url}: the server does not continue downloads; run again")

    def _copy_local(self, request: DownloadRequest) -> DownloadedFile:
        parts = urlsplit(request.url)
        if parts.netloc not in ("", "localhost"):
            raise DownloadError(f"{request.url}: a file:// URL of another host")
        local = Path(urllib.request.url2pathname(parts.path))
        try:
            handle = local.open("rb")
        except FileNotFoundError:
            raise DownloadError(f"{request.url}: no such file", vanished=True) from None
        except OSError as error:
            raise DownloadError(f"{request.url}: cannot read: {error.strerror}") from None
        with handle:
            size = os.fstat(handle.fileno()).st_size
            offset = _part_size(request)
            if offset > size:
                offset = 0
            handle.seek(offset)
            received = self._stream(request, handle.read, offset, size - offset)
        return DownloadedFile(request.part, received)

    def _stream(
        self, request: DownloadRequest, read: Callable[[int], bytes], offset: int, sent: int | None
    ) -> int:
        """Append what ``read`` gives to the part (written anew when ``offset`` is 0) and
        return the bytes appended; ``sent``: the bytes the other end says it sends (its
        Content-Length), when it says."""
        total = offset + sent if sent is not None else request.expected_bytes
        received = 0
        broke: str | None = None
        with (
            request.part.open("ab" if offset else "wb") as out,
            Progress(request.file_name, total or 0, unit="bytes", enabled=request.progress) as bar,
        ):
            bar.done = offset  # what the part already holds counts as done
            while True:
                try:
                    chunk = read(self.chunk_bytes)
                except (OSError, http.client.HTTPException) as error:
                    broke = _reason(error)
                    break
                if not chunk:  # http.client ends a cut-off body quietly: see ``sent``
                    broke = None if sent is None or received >= sent else "cut off"
                    break
                out.write(chunk)
                received += len(chunk)
                bar.advance(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if broke is not None:
            raise DownloadError(
                f"{request.url}: the transfer broke after {offset + received} bytes ({broke}); "
                "run again to resume it"
            )
        return received


class YtDlpDownloader:
    """Platform pages (a YouTube watch page...) with ``yt-dlp`` run as a subprocess into the
    request's ``scratch`` folder (yt-dlp resumes its own partial files there). ``command``:
    how to run it (default ``find_ytdlp()``); ``format``: yt-dlp's ``-f``."""

    name = "yt-dlp"

    def __init__(
        self, command: list[str] | None = None, *, format: str = YTDLP_DEFAULT_FORMAT
    ) -> None:
        self.command = command
        self.format = format

    def download(self, request: DownloadRequest) -> DownloadedFile:
        command = self.command or find_ytdlp()
        if command is None:
            raise DownloadError(
                f"{request.url}: yt-dlp downloads this URL and is not installed: {YTDLP_INSTALL}"
            )
        request.scratch.mkdir(parents=True, exist_ok=True)
        argv = [
            *command,
            "--no-playlist",
            "--continue",
            "-f",
            self.format,
            "-o",
            str(request.scratch / "video.%(ext)s"),
        ]
        container = PurePosixPath(request.file_name).suffix.lower().lstrip(".")
        if container in ("mp4", "mkv", "webm", "mov"):
            argv += ["--merge-output-format", container]
        if not request.progress:
            argv.append("--no-progress")
        argv += ["--", request.url]
        try:
            completed = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=_stderr_fd() if request.progress else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                check=False,
            )
        except OSError as error:
            raise DownloadError(
                f"{request.url}: cannot run yt-dlp ({error.strerror}): {YTDLP_INSTALL}"
            ) from None
        if completed.returncode != 0:
            said = _ytdlp_error(completed.stderr) or f"exit status {completed.returncode}"
            raise DownloadError(
                f"{request.url}: yt-dlp: {said}", vanished=bool(_YTDLP_VANISHED.search(said))
            )
        # the merged (or single) file; not yt-dlp's format parts (video.f137.mp4), .part, .json
        made = [
            path
            for path in request.scratch.iterdir()
            if re.fullmatch(r"video\.[A-Za-z0-9]+", path.name) and path.is_file()
        ]
        if len(made) != 1:
            raise DownloadError(
                f"{request.url}: yt-dlp ended without error but left {len(made)} video files "
                f"in {request.scratch}"
            )
        return DownloadedFile(made[0], made[0].stat().st_size)


def find_ytdlp() -> list[str] | None:
    """How to run yt-dlp: the ``yt-dlp`` executable on PATH, else ``python -m yt_dlp`` when
    the package is importable, else None."""
    executable = shutil.which("yt-dlp")
    if executable is not None:
        return [executable]
    if importlib.util.find_spec("yt_dlp") is not None:
        return [sys.executable, "-m", "yt_dlp"]
    return None


def downloader_for(url: str) -> Downloader:
    """The downloader of a URL: ``HttpDownloader`` for a ``file://`` URL or one whose path
    ends in a video extension (``VIDEO_EXTENSIONS``), else ``YtDlpDownloader``."""
    parts = urlsplit(url)
    suffix = PurePosixPath(unquote(parts.path)).suffix.lower()
    if parts.scheme.lower() == "file" or suffix in VIDEO_EXTENSIONS:
        return HttpDownloader()
    return YtDlpDownloader()


def _part_size(request: DownloadRequest) -> int:
    """The bytes of an earlier download to continue (0 for none, or a part longer than the
    whole file, which is dropped)."""
    try:
        size = request.part.stat().st_size
    except FileNotFoundError:
        return 0
    if request.expected_bytes is not None and size > request.expected_bytes:
        request.part.unlink()
        return 0
    return size


def _range_start(headers: Any) -> int | None:
    match = re.match(r"bytes\s+(\d+)-", headers.get("Content-Range") or "")
    return int(match.group(1)) if match else None


def _range_total(headers: Any) -> int | None:
    match = re.search(r"/(\d+)\s*$", headers.get("Content-Range") or "") if headers else None
    return int(match.group(1)) if match else None


def _download_error(url: str, error: BaseException) -> DownloadError:
    """One line for a failed request; vanished for HTTP 404/410, an unknown host or a
    refused connection."""
    if isinstance(error, urllib.error.HTTPError):
        vanished = error.code in (404, 410)
        return DownloadError(f"{url}: HTTP {error.code} {error.reason}", vanished=vanished)
    reason: object = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, socket.gaierror):
        return DownloadError(f"{url}: unknown host ({_reason(reason)})", vanished=True)
    if isinstance(reason, ConnectionRefusedError):
        return DownloadError(f"{url}: connection refused", vanished=True)
    if isinstance(reason, TimeoutError):
        return DownloadError(f"{url}: no answer (timed out); run again later")
    return DownloadError(f"{url}: {_reason(reason)}")


def _reason(error: object) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _ytdlp_error(stderr: str) -> str:
    """yt-dlp's last ``ERROR:`` line (else its last line), without the prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    chosen = errors[-1] if errors else (lines[-1] if lines else "")
    return chosen.removeprefix("ERROR:").strip()


def _stderr_fd() -> int:
    """This process's stderr for yt-dlp's progress (stdout stays for the results)."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by an object without a file
        return subprocess.DEVNULL


# ----------------------------------------------------------------------------------------
# Fetching


@dataclass(frozen=True)
class FetchOutcome:
    """What became of one source of the recipe.

    ``outcome``: ``downloaded`` (now at ``path`` with the recipe's bytes), ``present``
    (already there), ``changed`` (other bytes: the download is at ``path`` =
    ``<file_name>.changed``, or the user's file at ``path`` was left alone), ``vanished``
    (HTTP 404/410, unknown host, refused connection, removed video), ``failed`` (any other
    error, ``message`` says which) or ``no_url`` (the recipe gives no URL).
    """

    source_id: str
    file_name: str  #: its name in the fetch folder
    url: str | None
    outcome: Outcome
    path: str | None = None  #: the file holding its bytes, when there is one
    received_bytes: int = 0  #: bytes downloaded by this fetch
    size_bytes: int | None = None  #: size of the file at ``path``, in bytes
    sha256: str | None = None  #: SHA-256 of the file at ``path``
    expected_sha256: str = ""  #: the recipe's
    expected_size_bytes: int | None = None  #: the recipe's
    seconds: float = 0.0  #: wall time spent on it, in seconds
    message: str | None = None  #: one line: why it is not downloaded/present
    via: str | None = None  #: the downloader used (``http``, ``yt-dlp``)
    #: the file's modification time (ns) when it was checked: a later fetch finding the
    #: same size and time trusts the SHA-256 above instead of reading the file again
    mtime_ns: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the file is in place with the recipe's bytes."""
        return self.outcome in OK_OUTCOMES

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass(frozen=True)
class FetchResult:
    """The outcome of ``fetch_recipe``, one ``FetchOutcome`` per source line."""

    recipe: str  #: the recipe's path
    folder: str  #: the fetch folder
    dataset: str | None  #: the recipe's dataset name
    outcomes: tuple[FetchOutcome, ...]
    seconds: float  #: wall time of the whole fetch, in seconds
    finished: bool = True  #: False when it was interrupted: ``outcomes`` holds the done ones
    record_path: str | None = None  #: its ``fetch.json``, when written

    @property
    def complete(self) -> bool:
        """Whether every source is downloaded or present."""
        return self.finished and all(outcome.ok for outcome in self.outcomes)

    def counts(self) -> dict[str, int]:
        """Sources per outcome (every outcome, in ``OUTCOMES`` order, zeros included)."""
        counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for outcome in self.outcomes:
            counts[outcome.outcome] += 1
        return counts

    def lines(self) -> list[str]:
        """For a terminal: the count of each outcome, then one line per source that is not
        downloaded or present (its outcome, file name and message)."""
        counts = self.counts()
        received = sum(outcome.received_bytes for outcome in self.outcomes)
        told = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
        noun = "source" if len(self.outcomes) == 1 else "sources"
        out = [
            f"fetch: {len(self.outcomes)} {noun} into {self.folder}: {told or 'none'} "
            f"({_human_size(received)} downloaded in {self.seconds:.1f} s)"
        ]
        for outcome in self.outcomes:
            if not outcome.ok:
                out.append(f"  {outcome.outcome}: {outcome.file_name}: {outcome.message}")
        if not self.finished:
            out.append("  interrupted: run the same command again to fetch the rest")
        if self.record_path is not None:
            out.append(f"  outcomes: {self.record_path}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """What ``fetch.json`` holds."""
        return {
            "format": FETCH_FORMAT,
            "format_version": FETCH_FORMAT_VERSION,
            "empathynet_version": __version__,
            "recipe": self.recipe,
            "dataset": self.dataset,
            "folder": self.folder,
            "finished": self.finished,
            "complete": self.complete,
            "seconds": round(self.seconds, 3),
            "counts": self.counts(),
            "sources": [outcome.to_dict() for outcome in self.outcomes],
        }


def fetch_recipe(
    recipe: str | Path,
    to: str | Path,
    *,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    downloader: Callable[[str], Downloader] | None = None,
) -> FetchResult:
    """Download the videos of ``recipe`` into the folder ``to`` (made if missing), each
    checked against the recipe's SHA-256 and size; resumable and safe to run again.

    Each source gets one outcome (see ``FetchOutcome``); none stops the others. Files are
    named as ``file_names`` says; a file with other bytes than the recipe's never takes
    that name. ``progress``: show bytes downloaded on stderr; ``log``: called with one line
    per source that was downloaded or has a problem (default: printed on stderr);
    ``downloader``: chooses the downloader of each URL (default ``downloader_for``).
    The outcomes are also written to ``to/fetch.json`` (atomically).

    Raises ``RecipeError`` for a recipe that cannot be read, and ``EmpathyNetError`` when
    ``to`` is (or is inside) a dataset, holds a ``fetch.json`` no fetch wrote, is in use by
    another fetch, or cannot be written (a full disk: run again once fixed, it resumes).
    """
    started = time.monotonic()
    parsed = read_recipe(recipe)
    folder = Path(to)
    _check_folder(folder)
    previous = _previous_checks(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EmpathyNetError(f"cannot make the folder: {error.strerror}", folder) from None
    say = log or (lambda line: print(line, file=sys.stderr))
    choose = downloader or downloader_for
    sources = list(parsed.sources.values())
    names = file_names(sources)
    outcomes: list[FetchOutcome] = []

    def result(finished: bool, record: str | None) -> FetchResult:
        return FetchResult(
            recipe=str(parsed.path),
            folder=str(folder),
            dataset=_text(parsed.header.get("dataset")),
            outcomes=tuple(outcomes),
            seconds=time.monotonic() - started,
            finished=finished,
            record_path=record,
        )

    record = folder / FETCH_JSON
    with dataset_lock(folder):
        try:
            for source in sources:
                fetch_started = time.monotonic()
                try:
                    outcome = _fetch_one(
                        source, folder, names[source.source_id], choose, progress, previous
                    )
                except OSError as error:  # our own files: the machine, not the input
                    where = error.filename or folder
                    raise EmpathyNetError(
                        f"cannot write: {_reason(error)}; fix it, then run the same command "
                        "again to resume",
                        where,
                    ) from None
                outcome = replace(outcome, seconds=time.monotonic() - fetch_started)
                outcomes.append(outcome)
                if outcome.outcome != "present":
                    say(_log_line(outcome))
        except BaseException:
            with contextlib.suppress(OSError):
                atomic_write_json(record, result(False, str(record)).to_dict())
            raise
        done = result(True, str(record))
        try:
            atomic_write_json(record, done.to_dict())
        except OSError as error:
            raise EmpathyNetError(f"cannot write: {_reason(error)}", record) from None
    return done


def _fetch_one(
    source: RecipeSource,
    folder: Path,
    name: str,
    choose: Callable[[str], Downloader],
    progress: bool,
    previous: dict[str, tuple[int, int, str]],
) -> FetchOutcome:
    destination = folder / name
    url = source.metadata.url
    expected_sha256 = source.sha256.strip().lower()
    # an exporter writes 0 for a size it does not know: no video file is empty
    size = source.size_bytes
    expected_size = (
        size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None
    )
    base = FetchOutcome(
        source_id=source.source_id,
        file_name=name,
        url=_text(url),
        outcome="failed",
        expected_sha256=expected_sha256,
        expected_size_bytes=expected_size,
    )
    if not _SHA256.fullmatch(expected_sha256):
        return replace(base, message=f"the recipe's sha256 {source.sha256!r} is not 64 hex digits")
    if url is not None and not isinstance(url, str):
        return replace(base, message=f"the recipe's url {url!r} is not text")
    url = (url or "").strip() or None
    part = folder / f".{name}.part"
    scratch = folder / f".{name}.fetch"
    if os.path.lexists(destination):
        outcome = _check_existing(base, destination, previous.get(name))
        if outcome.outcome == "present":
            _remove_leftovers(part, scratch)
        return outcome
    if url is None:
        return replace(
            base,
            outcome="no_url",
            message=f"the recipe gives no URL: put the file at {destination} yourself "
            f"(sha256 {expected_sha256}{_size_words(expected_size)})",
        )
    try:
        chosen = choose(url)
    except ValueError as error:  # urlsplit: "Invalid IPv6 URL"...
        return replace(base, message=f"{url}: not a valid URL ({error})")
    base = replace(base, via=chosen.name)
    request = DownloadRequest(
        url=url,
        part=part,
        scratch=scratch,
        file_name=name,
        expected_bytes=expected_size,
        progress=progress,
    )
    try:
        downloaded = chosen.download(request)
    except DownloadError as error:
        gone: Outcome = "vanished" if error.vanished else "failed"
        return replace(base, outcome=gone, message=str(error))
    except ValueError as error:
        return replace(base, message=f"{url}: not a valid URL ({error})")
    got = downloaded.path
    received = downloaded.received_bytes
    stat = got.stat()
    sha256 = file_sha256(got)
    if sha256 == expected_sha256 and expected_size in (None, stat.st_size):
        commit(got, destination)
        _remove_leftovers(part, scratch)
        return replace(
            base,
            outcome="downloaded",
            path=str(destination),
            received_bytes=received,
            size_bytes=stat.st_size,
            sha256=sha256,
            mtime_ns=destination.stat().st_mtime_ns,
        )
    changed = folder / f"{name}{CHANGED_SUFFIX}"
    commit(got, changed)
    _remove_leftovers(part, scratch)
    return replace(
        base,
        outcome="changed",
        path=str(changed),
        received_bytes=received,
        size_bytes=stat.st_size,
        sha256=sha256,
        message=f"the URL gives other bytes than the recipe's "
        f"({_difference(expected_sha256, expected_size, sha256, stat.st_size)}): "
        f"kept as {changed.name}, not used",
    )


def _check_existing(
    base: FetchOutcome, destination: Path, checked: tuple[int, int, str] | None
) -> FetchOutcome:
    """A file already at the source's name: present when it has the recipe's bytes, else
    the user's file, left alone."""
    if not destination.is_file():
        return replace(
            base,
            message=f"{destination} exists and is not a file: move it away to download",
        )
    try:
        stat = destination.stat()
        expected_size = base.expected_size_bytes
        if expected_size is not None and stat.st_size != expected_size:
            sha256 = None
        elif checked is not None and checked[:2] == (stat.st_size, stat.st_mtime_ns):
            sha256 = checked[2]  # unchanged since the last fetch checked it
        else:
            sha256 = file_sha256(destination)
    except OSError as error:
        return replace(base, message=f"{destination}: cannot read it: {_reason(error)}")
    found = replace(
        base,
        path=str(destination),
        size_bytes=stat.st_size,
        sha256=sha256,
        mtime_ns=stat.st_mtime_ns,
    )
    if sha256 == base.expected_sha256:
        return replace(found, outcome="present")
    difference = _difference(base.expected_sha256, expected_size, sha256, stat.st_size)
    return replace(
        found,
        outcome="changed",
        message=f"exists with other bytes ({difference}): left as it is; move it away and "
        "run again to download the recipe's",
    )


def _check_folder(folder: Path) -> None:
    """Refuse a fetch folder that is a file, a dataset or inside one, or holds a
    ``fetch.json`` that no fetch wrote."""
    if folder.exists() and not folder.is_dir():
        raise EmpathyNetError("not a folder: fetch into a folder", folder)
    absolute = Path(os.path.abspath(folder))
    if (absolute / "dataset.json").exists():
        raise EmpathyNetError(
            "a dataset folder: fetch the videos into a folder of their own", folder
        )
    for parent in absolute.parents:
        if is_dataset(parent):
            raise EmpathyNetError(
                f"inside the dataset {parent}: fetch the videos into a folder of their own",
                folder,
            )
    record = folder / FETCH_JSON
    if record.exists() and _read_record(record) is None:
        raise EmpathyNetError(
            f"holds a {FETCH_JSON} that empathynet fetch did not write: move it away or "
            "fetch into another folder",
            folder,
        )


def _read_record(path: Path) -> dict[str, Any] | None:
    """A ``fetch.json`` a fetch wrote, else None."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(value, dict) and value.get("format") == FETCH_FORMAT:
        return value
    return None


def _previous_checks(folder: Path) -> dict[str, tuple[int, int, str]]:
    """From the last ``fetch.json``: file name -> (size, mtime_ns, sha256) of the files it
    found with the recipe's bytes."""
    value = _read_record(folder / FETCH_JSON)
    checks: dict[str, tuple[int, int, str]] = {}
    sources = value.get("sources") if value is not None else None
    for entry in sources if isinstance(sources, list) else []:
        if not isinstance(entry, dict) or entry.get("outcome") not in OK_OUTCOMES:
            continue
        name, size, mtime, sha256 = (
            entry.get(key) for key in ("file_name", "size_bytes", "mtime_ns", "sha256")
        )
        if (
            isinstance(name, str)
            and isinstance(size, int)
            and isinstance(mtime, int)
            and isinstance(sha256, str)
        ):
            checks[name] = (size, mtime, sha256)
    return checks


def _remove_leftovers(part: Path, scratch: Path) -> None:
    part.unlink(missing_ok=True)
    if scratch.is_dir() and not scratch.is_symlink():
        shutil.rmtree(scratch)


def _difference(
    expected_sha256: str, expected_size: int | None, sha256: str | None, size: int
) -> str:
    words = []
    if expected_size is not None and size != expected_size:
        words.append(f"{size} bytes, the recipe's {expected_size}")
    if sha256 is not None:
        words.append(f"sha256 {sha256[:12]}..., the recipe's {expected_sha256[:12]}...")
    return "; ".join(words)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _size_words(size: int | None) -> str:
    return f", {size} bytes" if size is not None else ""


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"  # pragma: no cover - the loop returns


def _log_line(outcome: FetchOutcome) -> str:
    if outcome.outcome == "downloaded":
        return (
            f"{outcome.file_name}: downloaded {_human_size(outcome.received_bytes)} "
            f"in {outcome.seconds:.1f} s"
        )
    return f"{outcome.file_name}: {outcome.outcome}: {outcome.message}"


__all__ = [
    "CHANGED_SUFFIX",
    "FETCH_JSON",
    "OUTCOMES",
    "YTDLP_INSTALL",
    "DownloadError",
    "DownloadRequest",
    "DownloadedFile",
    "Downloader",
    "FetchOutcome",
    "FetchResult",
    "HttpDownloader",
    "Outcome",
    "YtDlpDownloader",
    "downloader_for",
    "fetch_recipe",
    "file_names",
    "find_ytdlp",
    "safe_file_name",
]
