"""Writing outside a dataset without touching a user's files.

An export writes a few files into a folder the user names. ``check_export_folder``
refuses to replace a file there that an earlier export did not write (a folder an export
writes gets a marker file listing its files), and ``check_new_file`` refuses to replace
an existing file (e.g. an annotation sheet that may hold annotators' work), unless the
user asks with ``overwrite``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from empathynet.errors import ConfigError
from empathynet.store.atomic import atomic_write_bytes

#: The marker an export leaves in its folder: the names of the files it wrote.
MARKER = ".empathynet-export.json"


#: Names of clashing files a message shows (the rest are counted).
_SHOWN = 3


def exported_files(folder: Path) -> set[str]:
    """The files the marker in ``folder`` says an export wrote (empty without one)."""
    try:
        files = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {str(name) for name in files} if isinstance(files, list) else set()


def check_export_folder(folder: Path, names: Sequence[str], *, overwrite: bool) -> None:
    """``ConfigError`` (one line) when writing ``names`` into ``folder`` would replace a
    file no export wrote there, or when ``folder`` is a file."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError("is a file, not a folder: --out needs a folder", folder)
    if overwrite or not folder.is_dir():
        return
    ours = exported_files(folder)
    clashes = [name for name in names if (folder / name).exists() and name not in ours]
    if clashes:
        shown = ", ".join(clashes[:_SHOWN])
        more = f" and {len(clashes) - _SHOWN} more" if len(clashes) > _SHOWN else ""
        raise ConfigError(
            f"holds {shown}{more} that no EmpathyNet export wrote: give --out a new "
            "or empty folder, or --overwrite to replace them",
            folder,
        )


def mark_export_folder(folder: Path, names: Iterable[str], kind: str) -> None:
    """Record that an export of ``kind`` wrote ``names`` into ``folder``."""
    text = json.dumps({"export": kind, "files": sorted(names)}, indent=1) + "\n"
    atomic_write_bytes(folder / MARKER, text.encode("utf-8"))


@contextmanager
def exporting(folder: Path, names: Sequence[str], kind: str, *, overwrite: bool) -> Iterator[None]:
    """Write an export of ``names`` into ``folder`` (the ``with`` body writes them).

    Checks ``folder`` first (``check_export_folder``). ``names`` are marked as this
    export's before any is written, so an export killed part-way is recognised as ours
    when run again. At the end, what the earlier export wrote and this one did not is
    deleted (only files its marker listed: never a user's) and exactly ``names`` stay
    marked. When the body fails, the marker keeps only the files of either export that
    exist; a folder the export created and left empty is removed.
    """
    check_export_folder(folder, names, overwrite=overwrite)
    existed = folder.exists()
    earlier = exported_files(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mark_export_folder(folder, earlier | set(names), kind)
    try:
        yield
    except BaseException:
        present = {n for n in earlier | set(names) if (folder / n).is_file()}
        if present or existed:
            mark_export_folder(folder, present, kind)
        else:
            (folder / MARKER).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        raise
    keep = set(names)
    root = folder.resolve()
    for name in sorted(earlier - keep):
        path = (folder / name).resolve()
        if path.is_relative_to(root) and path.is_file():
            path.unlink()
            parent = path.parent
            while parent != root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    mark_export_folder(folder, keep, kind)


def check_new_file(path: Path, *, overwrite: bool) -> None:
    """``ConfigError`` when ``path`` exists (a folder, or a file without ``overwrite``)."""
    if path.is_dir():
        raise ConfigError("is a folder: --out needs a file name", path)
    if path.exists() and not overwrite:
        raise ConfigError(
            "exists (it may hold annotations): choose a new file name, or --overwrite to "
            "replace it",
            path,
        )


__all__ = [
    "MARKER",
    "check_export_folder",
    "check_new_file",
    "exported_files",
    "exporting",
    "mark_export_folder",
]
