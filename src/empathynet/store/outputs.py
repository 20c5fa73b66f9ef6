"""Writing outside a dataset without touching a user's files.

An export writes a few files into a folder the user names. ``check_export_folder``
refuses to replace a file there that an earlier export did not write (a folder an export
writes gets a marker file listing its files), and ``check_new_file`` refuses to replace
an existing file (e.g. an annotation sheet that may hold annotators' work), unless the
user asks with ``overwrite``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from empathynet.errors import ConfigError
from empathynet.store.atomic import atomic_write_bytes

#: The marker an export leaves in its folder: the names of the files it wrote.
MARKER = ".empathynet-export.json"


def check_export_folder(folder: Path, names: Sequence[str], *, overwrite: bool) -> None:
    """``ConfigError`` (one line) when writing ``names`` into ``folder`` would replace a
    file no export wrote there, or when ``folder`` is a file."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError("is a file, not a folder: --out needs a folder", folder)
    if overwrite or not folder.is_dir():
        return
    ours: set[str] = set()
    marker = folder / MARKER
    if marker.is_file():
        try:
            ours = set(json.loads(marker.read_text(encoding="utf-8")).get("files", []))
        except (OSError, ValueError, AttributeError):
            ours = set()
    clashes = [name for name in names if (folder / name).exists() and name not in ours]
    if clashes:
        raise ConfigError(
            f"holds {', '.join(clashes)} that no EmpathyNet export wrote: give --out a new "
            "or empty folder, or --overwrite to replace them",
            folder,
        )


def mark_export_folder(folder: Path, names: Sequence[str], kind: str) -> None:
    """Record that an export of ``kind`` wrote ``names`` into ``folder``."""
    text = json.dumps({"export": kind, "files": sorted(names)}, indent=1) + "\n"
    atomic_write_bytes(folder / MARKER, text.encode("utf-8"))


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


__all__ = ["MARKER", "check_export_folder", "check_new_file", "mark_export_folder"]
