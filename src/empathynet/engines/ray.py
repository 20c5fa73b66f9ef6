"""The Ray engine (``--engine ray``, extra ``ray``): the same work on a Ray cluster.

Same contract as ``LocalEngine.map``: ``task(context, item)`` for every item, results
yielded in this process as they complete, where the runner alone writes them (a chunk's
manifest part is committed once, by one writer). One actor per worker holds the context
``setup()`` built in its process, as a pool worker does, and has at most two items in
flight (one running, one waiting), so a build of 60,000 chunks never submits them all.

Without an address a local Ray is started with ``workers`` CPUs and shut down after;
with one (``auto``, ``HOST:6379``) the engine connects to that cluster and leaves it
running. A process already connected to Ray (``ray.init`` called
by the user) keeps its connection. Items are passed as they are, paths too: the dataset
and the inputs must be at the same path on every node (shared storage), and the actors
work in this process's working directory, so that relative paths mean the same there.

A worker process that dies while it works (killed, out of memory, its node lost) is
restarted by Ray, which sets it up again and redoes its items (``TASK_RETRIES``): a
chunk's media are written again under the same names, and its part is written once
here, so the rows are those of a run without the failure.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Generator, Iterable
from typing import Any, Generic, TypeVar

from empathynet.engines.local import _sigint_held
from empathynet.errors import EmpathyNetError

Ctx = TypeVar("Ctx")
Item = TypeVar("Item")
Result = TypeVar("Result")

INSTALL = "pip install 'empathynet[ray]'"
#: Times Ray redoes an item whose worker process died during it; then the run stops.
TASK_RETRIES = 3
#: Items in flight per worker: one running and the next one already sent beside it.
IN_FLIGHT = 2
#: The actors' second thread, for ``where``: it answers while the task runs.
PROBE = "probe"


def import_ray() -> Any:
    """The ``ray`` module; ``EmpathyNetError`` with the install command when missing."""
    try:
        # Importing Ray forks helpers: a Ctrl-C in Python's fork hooks would be lost.
        with _sigint_held():
            return importlib.import_module("ray")
    except ImportError:
        raise EmpathyNetError(
            f"the Ray engine needs Ray, which is not installed: {INSTALL}"
        ) from None


class RayWorker:
    """One worker process (a Ray actor): its context, set up once, and the task.

    A set-up that fails does not kill the actor (Ray would tell it as a long message
    without its cause): every call raises the set-up's error instead, one line naming
    the node (a package missing there, a model that does not load)."""

    def __init__(self, setup: Callable[[], Any], task: Callable[[Any, Any], Any], cwd: str) -> None:
        self.task = task
        self.context: Any = None
        self.failure: BaseException | None = None
        #: set up again after its process died (Ray redoes the items it had)
        self.restarted = bool(import_ray().get_runtime_context().was_current_actor_reconstructed)
        try:
            _enter(cwd)
            self.context = setup()
        except EmpathyNetError as error:
            self.failure = error
        except Exception as error:
            self.failure = EmpathyNetError(
                f"a worker could not set up on Ray node {socket.gethostname()}: "
                f"{type(error).__name__}: {error}"
            )

    def where(self) -> tuple[str, int, bool]:
        """``(node id, pid, restarted)`` of this worker process."""
        return import_ray().get_runtime_context().get_node_id(), os.getpid(), self.restarted

    def run(self, item: Any) -> Any:
        if self.failure is not None:
            raise self.failure
        return self.task(self.context, item)


def where(actor: Any, retries: int = TASK_RETRIES) -> Any:
    """A reference to ``actor.where()``, answered at once, even while it works."""
    return actor.where.options(concurrency_group=PROBE, max_task_retries=retries).remote()


def _enter(cwd: str) -> None:
    """Work in the driver's working directory, which must exist on this node too."""
    try:
        os.chdir(cwd)
    except OSError as error:
        raise EmpathyNetError(
            f"this working directory is not on Ray node {socket.gethostname()} "
            f"({error.strerror}): the dataset and the inputs must be on storage every node "
            "sees, at the same path",
            cwd,
        ) from None


class RayEngine(Generic[Ctx, Item, Result]):
    """Run ``task(context, item)`` over items with ``workers`` Ray actors.

    ``workers``: actors, one CPU each; ``None`` is one per CPU of the cluster.
    ``address``: the cluster's (``ray start --head`` prints it; ``auto`` finds the one
    this machine belongs to); ``None`` starts a local Ray for the run.
    """

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        import_ray()  # missing Ray: said before any work starts
        self.workers = workers
        self.address = address
        #: the nodes the workers of the last run were on (known once it ended)
        self.nodes: int | None = None
        #: workers of the last run whose process died and was started again: the items
        #: they had were redone, and may have left temporary files
        self.restarted = 0

    def facts(self) -> dict[str, Any]:
        """What ran, for the build report: name, workers, nodes (not the address: the
        report goes out with the dataset)."""
        return {
            "name": self.name,
            "workers": self.workers,
            "nodes": self.nodes,
            "restarted_workers": self.restarted,
        }

    def map(
        self,
        task: Callable[[Ctx, Item], Result],
        setup: Callable[[], Ctx],
        items: Iterable[Item],
    ) -> Generator[Result, None, None]:
        """Yield ``task(setup(), item)`` for every item, as each completes.

        ``task`` and ``setup`` must be picklable (module-level functions, partials of
        them) and importable on every node. Closing the generator early stops the
        actors: when it returns, none runs any more (none writes after the runner
        cleaned up), and the local Ray this run started is stopped."""
        ray = import_ray()
        joined = not ray.is_initialized()  # else the caller's connection, left as it is
        actors: list[Any] = []
        pending: dict[Any, int] = {}  # result ref -> the actor computing it
        try:
            if joined:
                self._connect(ray)
            cpus = int(ray.cluster_resources().get("CPU", 0))
            workers = self.workers or cpus
            if workers > cpus:
                raise EmpathyNetError(
                    f"{workers} workers asked for, but the Ray cluster has {cpus} CPUs: "
                    f"give --workers {cpus} or fewer, or add nodes"
                )
            self.workers = workers
            remote = ray.remote(
                num_cpus=1,
                max_restarts=-1,
                max_task_retries=TASK_RETRIES,
                concurrency_groups={PROBE: 1},  # ``where`` answers while ``run`` works
            )(RayWorker)
            run = uuid.uuid4().hex[:8]  # names show in `ray list actors`
            actors = [
                remote.options(name=f"empathynet-{run}-{i}").remote(setup, task, os.getcwd())
                for i in range(workers)
            ]
            busy = [0] * workers
            iterator = iter(items)
            more = True
            while True:
                while more:  # top up the least busy actor
                    index = min(range(workers), key=busy.__getitem__)
                    if busy[index] >= IN_FLIGHT:
                        break
                    try:
                        item = next(iterator)
                    except StopIteration:
                        more = False
                        break
                    pending[actors[index].run.remote(item)] = index
                    busy[index] += 1
                if not pending:
                    break
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    busy[pending.pop(ref)] -= 1
                    yield _result(ray, ref)
            with contextlib.suppress(Exception):
                places = ray.get([where(actor) for actor in actors], timeout=30)
                self.nodes = len({node for node, _, _ in places})
                self.restarted = sum(restarted for _, _, restarted in places)
        finally:
            _stop(ray, actors, pending)
            if joined and ray.is_initialized():
                ray.shutdown()

    def _connect(self, ray: Any) -> None:
        """Start a local Ray, or join the cluster at ``address``.

        SIGINT is held back meanwhile: the processes a local Ray starts (and their
        threads, and this process's Ray threads) inherit the blocked signal, so a Ctrl-C
        reaches this process alone, which stops them in order, and is not lost in the
        fork hooks of their start."""
        quiet: dict[str, Any] = {
            "logging_level": logging.ERROR,
            "log_to_driver": False,
            "include_dashboard": False,
        }
        try:
            with _sigint_held():
                if self.address is None:
                    # "local": a new Ray even when RAY_ADDRESS or `ray start` names one
                    cpus = self.workers or os.cpu_count() or 1
                    ray.init(address="local", num_cpus=cpus, **quiet)
                else:
                    ray.init(address=self.address, **quiet)
        except (ConnectionError, ValueError, RuntimeError) as error:
            target = self.address or "a local Ray"
            first = _first_line(error)
            raise EmpathyNetError(f"cannot start or reach {target}: {first}") from None


def _stop(ray: Any, actors: list[Any], pending: dict[Any, int]) -> None:
    """Cancel the items in flight, kill the actors and wait until Ray has seen them
    die (at most 30 s), so that no worker writes a file after this returns."""
    for ref in pending:
        with contextlib.suppress(Exception):
            ray.cancel(ref)
    for actor in actors:
        with contextlib.suppress(Exception):
            ray.kill(actor, no_restart=True)
    if actors:
        probes = []
        for actor in actors:
            with contextlib.suppress(Exception):
                probes.append(where(actor, retries=0))
        with contextlib.suppress(Exception):
            ray.wait(probes, num_returns=len(probes), timeout=30)


def _result(ray: Any, ref: Any) -> Any:
    """The item's result, or its own error (a task's exception arrives wrapped by Ray)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        cause = error.cause
        if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
            raise cause from None
        raise EmpathyNetError(f"a Ray worker failed: {_first_line(error)}") from None
    except ray.exceptions.RayError as error:
        raise EmpathyNetError(
            f"a Ray worker process died on the same item {TASK_RETRIES + 1} times, or its "
            f"node was lost (out of memory, or a crash in native code: {_first_line(error)}); "
            "what was written is kept: run the same command to resume, with --engine local "
            "--workers 1 to see the error"
        ) from None


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
