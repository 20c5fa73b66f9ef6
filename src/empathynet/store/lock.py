"""One writer at a time per dataset: an OS lock on ``DATASET/.empathynet.lock``.

Every command that writes into a dataset (build, blur, labels, tasks, evaluate, baseline,
audit, leaderboard, report) holds ``dataset_lock`` while it runs, so two of them never
interleave: a build's start-up clean-up of stale temporary files could otherwise delete
another build's files in flight. The lock is ``flock``: the OS releases it when its holder
exits, even by ``kill -9``, so a crashed run never leaves a dataset locked. The file holds
the holder's pid, which the refusal names. Readers (``inspect``) take no lock.

A process that holds a dataset's lock may take it again (``leaderboard`` runs baselines
that each write): nested blocks share the outer lock.
"""

from __future__ import annotations

import fcntl
import functools
import inspect
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from empathynet.errors import DatasetError
from empathynet.store.layout import require_dataset

LOCK_NAME = ".empathynet.lock"

P = ParamSpec("P")
R = TypeVar("R")

#: Datasets whose lock this process holds (resolved root -> nesting depth). Bookkeeping
#: of the OS locks this process owns, so a nested block does not lock itself out.
_held: dict[Path, int] = {}


def lock_path(root: str | Path) -> Path:
    """The lock file of the dataset at ``root``."""
    return Path(root) / LOCK_NAME


@contextmanager
def dataset_lock(root: str | Path) -> Iterator[Path]:
    """Hold the write lock of the dataset folder ``root`` (which must exist) inside the block.

    Does not wait: when another process holds it, raises ``DatasetError``
    ``"ROOT: in use by another empathynet process (pid N); wait for it or stop it"``.
    Yields the lock file's path.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise DatasetError("no such dataset folder", folder)
    key = folder.resolve()
    if key in _held:
        _held[key] += 1
        try:
            yield lock_path(folder)
        finally:
            _held[key] -= 1
        return
    fd = _acquire(folder)
    _held[key] = 1
    try:
        yield lock_path(folder)
    finally:
        del _held[key]
        os.close(fd)  # releases the lock


def _acquire(folder: Path) -> int:
    path = lock_path(folder)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except PermissionError:
            try:  # a lock file made by another user of the group: flock works read-only
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as error:
                raise DatasetError(f"cannot open the lock file: {error}", path) from None
        except OSError as error:
            raise DatasetError(f"cannot create the lock file: {error}", path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise DatasetError(
                f"in use by another empathynet process (pid {holder}); wait for it or stop it",
                folder,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # The lock file may have been removed (a failed first build cleaning up its new
        # folder) between our open and our lock: then we lock a file nobody else sees.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:
        pass  # opened read-only: the refusal then names no pid, the lock holds all the same
    return fd


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return text if text.isdigit() else "unknown"


def writes_dataset(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate an API function whose first parameter is a dataset folder: it checks that
    the folder is a dataset (``require_dataset``) and runs holding ``dataset_lock``."""
    signature = inspect.signature(function)
    first = next(iter(signature.parameters))

    @functools.wraps(function)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        root = signature.bind_partial(*args, **kwargs).arguments[first]
        layout = require_dataset(root)
        with dataset_lock(layout.root):
            return function(*args, **kwargs)

    return locked
