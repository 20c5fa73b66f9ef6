"""The local engine: a process pool with one set-up per worker process.

The runner, not the stage, knows the engine. ``map`` yields results as they
complete (not in input order); with ``workers == 1`` work runs in this process,
which keeps tracebacks simple and tests fast.

Workers belong to the process that started them. They ignore Ctrl-C (SIGINT reaches the
whole process group; this process handles it and stops them, so one line is printed,
not a traceback per worker), and they die with it: on Linux the kernel kills them when it
dies, even by ``kill -9`` (``PR_SET_PDEATHSIG``), elsewhere a thread notices within a
second. When ``map`` stops early (an error, an interrupt) the workers are terminated: the
results they were computing would be thrown away.
"""

from __future__ import annotations

import concurrent.futures.process as futures_process
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Generic, TypeVar

Ctx = TypeVar("Ctx")
Item = TypeVar("Item")
Result = TypeVar("Result")

# The per-process context built by ``setup`` in each worker. A pool worker serves
# one engine run only, so this is set once per process and never changed.
_WORKER_CONTEXT: list[Any] = []


#: ``prctl`` option: the signal this process gets when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _worker_started(parent_pid: int) -> int:
    """Runs in a new worker while it unpickles its start-up arguments, before the set-up's
    slow imports: ignore SIGINT and die with ``parent_pid``. Returns ``parent_pid``."""
    # SIGINT is blocked since the parent started us (``_sigint_held``): a Ctrl-C of the
    # start-up is pending; ignoring it discards it, then the block can go.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The parent may have died before the line above: no signal would come then.
    if os.getppid() != parent_pid:
        os._exit(1)
    # Elsewhere (and should the thread that started us end first), poll.
    threading.Thread(
        target=_exit_when_orphaned, args=(parent_pid,), name="parent-watch", daemon=True
    ).start()
    return parent_pid


def _exit_when_orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


class _ParentWatch:
    """A worker's first start-up argument: unpickling it in the worker calls
    ``_worker_started`` before the set-up (and its imports) is unpickled."""

    def __init__(self, parent_pid: int) -> None:
        self.parent_pid = parent_pid

    def __reduce__(self) -> tuple[Callable[[int], int], tuple[int]]:
        return (_worker_started, (self.parent_pid,))


def _init_worker(parent_pid: object, setup: Callable[[], Any]) -> None:
    # ``parent_pid``: what ``_ParentWatch`` became in this worker (its work is done).
    _WORKER_CONTEXT.append(setup())


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold SIGINT back in this thread while it may start workers: they inherit the blocked
    signal, so a Ctrl-C cannot interrupt their start-up (``_worker_started`` then ignores
    it). This process gets a Ctrl-C of that moment when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what waits and stop the worker processes now (SIGTERM: no traceback; what
    they were computing is dropped); returns once they have exited."""
    # No public way before Python 3.14 (``terminate_workers``); ``shutdown`` forgets them.
    processes: list[Any] = list((getattr(pool, "_processes", None) or {}).values())
    # taken before ``shutdown(wait=False)``, which forgets it
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.terminate()
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.join(timeout=30)  # its exit, even when the pool's thread reaps it
    # The pool's manager thread closes its wake-up pipe as it winds down; an interpreter
    # exit racing it would write to the closed pipe ("Bad file descriptor" traceback).
    if manager is not None:
        manager.join(timeout=30)
        # ... and the exit hook must not wake a pool that is gone.
        with contextlib.suppress(AttributeError, TypeError):
            futures_process._threads_wakeups.pop(manager, None)


def _run_in_worker(task: Callable[[Any, Any], Any], item: Any) -> Any:
    return task(_WORKER_CONTEXT[0], item)


class LocalEngine(Generic[Ctx, Item, Result]):
    """Run ``task(context, item)`` over items with ``workers`` processes."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers

    def map(
        self,
        task: Callable[[Ctx, Item], Result],
        setup: Callable[[], Ctx],
        items: Iterable[Item],
    ) -> Generator[Result, None, None]:
        """Yield ``task(setup(), item)`` for every item, as each completes.

        ``task`` and ``setup`` must be picklable (module-level functions) when
        ``workers > 1``. At most ``2 * workers`` items are in flight, so a huge
        item list does not fill memory. Closing the generator early stops the workers
        (``contextlib.closing``): when it returns, none runs any more.
        """
        if self.workers == 1:
            context = setup()
            for item in items:
                yield task(context, item)
            return
        mp_context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=mp_context,
            initializer=_init_worker,
            initargs=(_ParentWatch(os.getpid()), setup),
        ) as pool:
            pending: set[Future[Result]] = set()
            iterator = iter(items)
            try:
                for item in iterator:
                    with _sigint_held():  # ``submit`` starts the workers
                        pending.add(pool.submit(_run_in_worker, task, item))
                    if len(pending) >= 2 * self.workers:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            yield future.result()
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
            except BaseException:
                for future in pending:
                    future.cancel()
                _stop_pool(pool)
                raise
