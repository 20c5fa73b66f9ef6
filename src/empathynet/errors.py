"""One exception hierarchy for the whole package.

Every error names the file it is about and, where known, the position inside it
(``line 42``, ``event 7``, ``t=12.345s``), so one line tells a user what is wrong
and where. Errors are picklable: they cross process (and Ray) boundaries intact.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path


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
        where = ", ".join(part for part in (self.path, self.position) if part)
        text = " ".join(self.message.split())  # one line, always
        return f"{where}: {text}" if where else text

    def describe(self, *bases: str | PathLike[str]) -> str:
        """``str(error)`` without absolute paths, for what is stored in a dataset: the path
        relative to the first folder of ``bases`` that holds it (the dataset, the source's
        folder), else the file's name alone."""
        text = " ".join(self.message.split())
        path = _relative_or_name(self.path, bases) if self.path is not None else None
        where = ", ".join(part for part in (path, self.position) if part)
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


def _relative_or_name(path: str, bases: tuple[str | PathLike[str], ...]) -> str:
    """``path`` relative to the first folder of ``bases`` that holds it, else its name."""
    absolute = Path(os.path.abspath(path))
    for base in bases:
        try:
            return absolute.relative_to(os.path.abspath(base)).as_posix()
        except ValueError:
            continue
    return absolute.name
