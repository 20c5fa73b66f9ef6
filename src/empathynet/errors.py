"""One exception hierarchy for the whole package.

Every error names the file it is about and, where known, the position inside it
(``line 42``, ``event 7``, ``t=12.345s``), so one line tells a user what is wrong
and where. Errors are picklable: they cross process (and Ray) boundaries intact.
"""

from __future__ import annotations

import errno
import os
from os import PathLike
from pathlib import Path
from typing import Any


class EmpathyNetError(Exception):
    """Base class of every error the package raises on purpose.

    ``str(error)`` is one line: ``"<path>, <position>: <message>"``.
    """

    def __init__(
        self,
        message: str,
        path: str | PathLike[str] | None = None,
        position: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.position = position
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return self._line(self.path)

    def describe(self, *bases: str | PathLike[str]) -> str:
        """``str(error)`` without absolute paths, for what is stored in a dataset: the path
        relative to the first folder of ``bases`` that holds it (the dataset, the source's
        folder), else the file's name alone."""
        return self._line(_relative_or_name(self.path, bases) if self.path is not None else None)

    def _line(self, path: str | None) -> str:
        """``"<path>, <position>: <message>"`` on one line, with ``path`` as given."""
        where = ", ".join(part for part in (path, self.position) if part)
        text = " ".join(self.message.split())  # one line, always
        return f"{where}: {text}" if where else text

    def __reduce__(self) -> tuple[type[EmpathyNetError], tuple[str, str | None, str | None]]:
        return (type(self), (self.message, self.path, self.position))


class ConfigError(EmpathyNetError):
    """A configuration value or command-line option is invalid."""


class SubtitleError(EmpathyNetError):
    """A subtitle file cannot be read or understood."""


class SubtitleEncodingError(SubtitleError):
    """The text encoding of a subtitle file cannot be determined."""


class SubtitleFormatError(SubtitleError):
    """The subtitle file is in no format the loader understands, or is malformed."""


class MediaError(EmpathyNetError):
    """A video or audio file cannot be read as needed."""


class CorruptMediaError(MediaError):
    """The container or a stream is damaged or unreadable."""


class NoAudioStreamError(MediaError):
    """The video has no audio stream, so no audio cue can be cut from it."""


class NoVideoStreamError(MediaError):
    """The file has no video stream."""


class DatasetError(EmpathyNetError):
    """A dataset directory is missing, inconsistent or would be written outside its root."""


class PathEscapeError(DatasetError):
    """A path would leave the dataset's root directory."""


class MissingDependencyError(EmpathyNetError):
    """An optional dependency is not installed; the message gives the install command."""


class StorageError(EmpathyNetError):
    """The machine failed, not the input: the disk is full, a quota is exceeded, an I/O
    error, too many open files, or the dataset's own files cannot be written.

    Never a row: the build stops without committing the chunk it was writing, and the same
    command resumes it once the cause is fixed. ``errno`` is the OS error number.
    """

    def __init__(
        self,
        message: str,
        path: str | PathLike[str] | None = None,
        position: str | None = None,
        errno: int | None = None,
    ) -> None:
        self.errno = errno
        super().__init__(message, path, position)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.path, self.position, self.errno))


#: OS errors that mean the machine, not the input, failed: errno -> (what happened, what to
#: do before running the same command again).
ENVIRONMENT_ERRNOS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "free some space"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space or raise the quota"),
    errno.EIO: ("input/output error (a failing disk or a lost network mount)", "check the disk"),
    errno.EMFILE: (
        "too many open files",
        "raise the limit (ulimit -n 4096) or use fewer --workers",
    ),
    errno.ENFILE: ("too many open files on this machine", "close other programs"),
    errno.EROFS: ("the dataset's file system is read-only", "remount it read-write"),
    errno.EACCES: ("permission denied on the dataset's files", "make the dataset writable"),
    errno.EPERM: ("operation not permitted on the dataset's files", "make the dataset writable"),
}
#: Of those, the ones that are the environment's fault only on the dataset's own files: a
#: source video the build may not read is a bad input (a failed row), and FFmpeg also
#: gives EIO for a damaged file, which must not stop every build of it.
_DATASET_ONLY_ERRNOS = frozenset({errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM})


def storage_error(
    error: BaseException, dataset_root: str | PathLike[str] | None = None
) -> StorageError | None:
    """``error`` as a ``StorageError`` when it (or an error it was raised from) is one of
    ``ENVIRONMENT_ERRNOS``, else ``None``.

    Robust to wrapping: FFmpeg's ``av.error.OSError``, a plain ``OSError`` without a file
    name (``wave``, PIL, pyarrow), a ``MediaError`` raised from one, or that ``MediaError``
    alone once its cause is lost crossing a process (its message holds the OS's text).
    Permission and I/O errors count only on files inside ``dataset_root``.
    """
    if isinstance(error, StorageError):
        return error
    seen: set[int] = set()
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    # the file concerned: the first one named along the chain
    path: str | None = None
    for item in chain:
        if isinstance(item, OSError) and isinstance(item.filename, str | PathLike):
            path = os.fspath(item.filename)
            break
        if isinstance(item, EmpathyNetError) and item.path is not None:
            path = item.path
            break
    for item in chain:
        code = _errno_of(item)
        if code is None:
            continue
        if code in _DATASET_ONLY_ERRNOS and not _inside(path, dataset_root):
            return None
        what, remedy = ENVIRONMENT_ERRNOS[code]
        file = ""
        if path is not None:
            shown = _relative_or_name(path, (dataset_root,)) if dataset_root else path
            file = f" (writing {shown})" if _inside(path, dataset_root) else f" ({shown})"
        message = (
            f"{what}{file}; the build stopped before committing that chunk and keeps "
            f"everything it committed: {remedy}, then run the same command again to resume"
        )
        return StorageError(message, dataset_root or path, errno=code)
    return None


def _errno_of(error: BaseException) -> int | None:
    """The ``ENVIRONMENT_ERRNOS`` number of one error: its ``errno``, else the OS's text
    for one of them in its message (``[Errno 28]``, ``No space left on device``)."""
    code = getattr(error, "errno", None)
    if isinstance(code, int) and code in ENVIRONMENT_ERRNOS:
        return code
    if not isinstance(error, OSError | EmpathyNetError):
        return None
    text = str(error)
    for number in ENVIRONMENT_ERRNOS:
        if f"[Errno {number}]" in text or os.strerror(number) in text:
            return number
    return None


def _inside(path: str | None, root: str | PathLike[str] | None) -> bool:
    """Whether ``path`` is inside the folder ``root`` (an unknown path counts as inside:
    the stage writes where it names no file, e.g. a stream's buffered write)."""
    if root is None:
        return False
    if path is None:
        return True
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        return False
    return True


def _relative_or_name(path: str, bases: tuple[str | PathLike[str], ...]) -> str:
    """``path`` relative to the first folder of ``bases`` that holds it, else its name."""
    absolute = Path(os.path.abspath(path))
    for base in bases:
        try:
            return absolute.relative_to(os.path.abspath(base)).as_posix()
        except ValueError:
            continue
    return absolute.name
