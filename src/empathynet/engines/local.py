"""The local engine: a process pool with one set-up per worker process.

The runner, not the stage, knows the engine. ``map`` yields results as they
complete (not in input order); with ``workers == 1`` work runs in this process,
which keeps tracebacks simple and tests fast.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Generic, TypeVar

Ctx = TypeVar("Ctx")
Item = TypeVar("Item")
Result = TypeVar("Result")

# The per-process context built by ``setup`` in each worker. A pool worker serves
# one engine run only, so this is set once per process and never changed.
_WORKER_CONTEXT: list[Any] = []


def _init_worker(setup: Callable[[], Any]) -> None:
    _WORKER_CONTEXT.append(setup())


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
    ) -> Iterator[Result]:
        """Yield ``task(setup(), item)`` for every item, as each completes.

        ``task`` and ``setup`` must be picklable (module-level functions) when
        ``workers > 1``. At most ``2 * workers`` items are in flight, so a huge
        item list does not fill memory.
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
            initargs=(setup,),
        ) as pool:
            pending: set[Future[Result]] = set()
            iterator = iter(items)
            try:
                for item in iterator:
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
                pool.shutdown(wait=False, cancel_futures=True)
                raise
