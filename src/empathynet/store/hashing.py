"""Content hashes of files: task items, label rounds, prediction files, source videos."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path

from empathynet.store.atomic import atomic_write_json


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Sha256Cache:
    """The SHA-256 of source videos, remembered so that a resumed build does not read
    every video whole again (a 2 GB film is 1.3 s of hashing here, a thousand of them
    twenty minutes before any work starts).

    A remembered hash is used only while the file has the same path, size, modification
    time (ns) and quick content id (``media.probe.content_hash``: its size, first and
    last 4 MiB and 16 blocks between), as build tools judge a file unchanged; anything
    else hashes it again. Kept as JSON at ``path`` (``DATASET/cache/sha256.json``); an
    unreadable file is an empty cache. Safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, list[object]] = {}
        self._changed = False
        self._lock = threading.Lock()
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._entries = {
                    str(k): v for k, v in loaded.items() if isinstance(v, list) and len(v) == 4
                }
        #: hashes computed by this cache (not found in it), for measurements and tests
        self.computed = 0

    def sha256(self, file: Path, content_id: str) -> str:
        """SHA-256 of ``file`` (whose quick content id is ``content_id``), remembered or
        computed; ``OSError`` when it cannot be read."""
        key = str(file.resolve())
        facts = os.stat(file)
        stamp = [facts.st_size, facts.st_mtime_ns, content_id]
        with self._lock:
            known = self._entries.get(key)
        if known is not None and known[:3] == stamp and isinstance(known[3], str):
            return known[3]
        digest = file_sha256(file)
        with self._lock:
            self._entries[key] = [*stamp, digest]
            self._changed = True
            self.computed += 1
        return digest

    def save(self) -> None:
        """Write the cache (atomically) when it learnt something."""
        with self._lock:
            if not self._changed:
                return
            entries = dict(sorted(self._entries.items()))
            self._changed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.path, entries)
