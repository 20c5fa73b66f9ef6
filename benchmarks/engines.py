"""Ray against the local pool on this machine, the same input and workers, in one run.

Builds ``build_speed.py``'s generated video (``make_long_video``: 720p, 15 subtitle
sentences a minute, cached in --work) with the local engine and with the Ray engine, each
``--repeats`` times alternately (best of each), and prints a table:

- wall time of the build: local; Ray with Ray already running (``ray.init`` done, as on a
  cluster: the build's actors and their models are set up inside it); Ray as
  ``empathynet build --engine ray`` runs it (starting and stopping a local Ray);
- throughput ratio Ray / local (goal >= 0.9, on the build with Ray running);
- start-up: ``ray.init`` of a local Ray, then the set-up of the workers (actors or pool
  processes, each importing the stage and loading its models) timed by mapping a task
  that does nothing;
- per core: utterances, accepted cue groups and minutes of video per second and worker;
- the driver's own work, which does not spread over workers: reading a source (hashes,
  probe, subtitles) per hour of video, and writing one manifest part (the single writer).

    python benchmarks/engines.py --minutes 10 --workers 2
"""

from __future__ import annotations

import argparse
import functools
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _goal import Goal, report_goals

from empathynet.config import EmpathyNetConfig
from empathynet.demo import make_long_video
from empathynet.engines.local import LocalEngine
from empathynet.engines.ray import RayEngine, import_ray
from empathynet.pipeline import cues
from empathynet.pipeline.build import BuildSummary, build_dataset, prepare_source, read_cue_parts
from empathynet.pipeline.discover import discover_inputs
from empathynet.store.atomic import atomic_write_table
from empathynet.store.layout import DatasetLayout

#: Ray's throughput as a share of the local pool's, same workers and input.
GOAL_RATIO = 0.9


def nothing(context: Any, item: int) -> int:
    """A task that does no work: mapping it times the workers' set-up."""
    return item


def setup_seconds(engine: LocalEngine[Any, int, int] | RayEngine[Any, int, int]) -> float:
    """Wall seconds until every worker has set up (one item each) and answered."""
    workers = engine.workers or 1
    setup = functools.partial(cues.make_context, EmpathyNetConfig())
    started = time.perf_counter()
    # 2 items a worker: each worker gets at least one, so each sets up its models
    list(engine.map(nothing, setup, range(2 * workers)))
    return time.perf_counter() - started


def driver_seconds(video: Path, dataset: Path) -> tuple[float, float, int]:
    """``(seconds to read the source, median seconds to write one part, rows a part)``:
    the work the driver does alone, whatever the engine."""
    (item,) = discover_inputs([video])
    started = time.perf_counter()
    prepare_source(item, EmpathyNetConfig())
    read = time.perf_counter() - started
    _, table = next(iter(read_cue_parts(DatasetLayout(dataset))))
    writes = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(20):
            started = time.perf_counter()
            atomic_write_table(Path(folder) / f"part-{index}.parquet", table)
            writes.append(time.perf_counter() - started)
    return read, statistics.median(writes), table.num_rows


def timed_build(video: Path, out: Path, workers: int, engine: str) -> tuple[float, BuildSummary]:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    summary = build_dataset(
        [video], out, workers=workers, engine=engine, progress=False, log=lambda line: None
    )
    return time.perf_counter() - started, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("benchmark-work"))
    args = parser.parse_args()
    ray = import_ray()

    args.work.mkdir(parents=True, exist_ok=True)
    video = args.work / f"long_{args.minutes:g}min_720p.mp4"
    if not video.exists() or not video.with_suffix(".srt").exists():
        print(f"generating {video} ...", file=sys.stderr)
        make_long_video(video, minutes=args.minutes)
    workers = args.workers
    out = args.work / "dataset-engines"

    local: list[float] = []
    warm: list[float] = []
    cold: list[float] = []
    summary: BuildSummary | None = None
    init_seconds: list[float] = []
    ray_setup: list[float] = []
    local_setup: list[float] = []
    for _ in range(args.repeats):
        seconds, summary = timed_build(video, out, workers, "local")
        local.append(seconds)
        local_setup.append(setup_seconds(LocalEngine(workers)))
        # Ray already running: what a build on a cluster pays
        started = time.perf_counter()
        ray.init(
            address="local",
            num_cpus=workers,
            include_dashboard=False,
            logging_level=logging.ERROR,
            log_to_driver=False,
        )
        init_seconds.append(time.perf_counter() - started)
        try:
            ray_setup.append(setup_seconds(RayEngine(workers)))
            seconds, ray_summary = timed_build(video, out, workers, "ray")
            warm.append(seconds)
        finally:
            ray.shutdown()
        seconds, cold_summary = timed_build(video, out, workers, "ray")  # starts its own
        cold.append(seconds)
        for built in (ray_summary, cold_summary):  # the same rows, or the timing means nothing
            assert built.status_counts == summary.status_counts, built.status_counts
    assert summary is not None
    utterances = summary.utterances
    accepted = summary.status_counts.get("accepted", 0)
    minutes = args.minutes

    def per_core(seconds: float) -> str:
        return (
            f"{utterances / seconds / workers:6.2f} utt/s  {accepted / seconds / workers:6.2f} "
            f"cue groups/s  {minutes / seconds / workers:5.3f} min video/s"
        )

    best_local, best_warm, best_cold = min(local), min(warm), min(cold)
    print(
        f"input: {video.name}, {minutes:g} min of 720p, {utterances} utterances, "
        f"{accepted} accepted; {workers} workers, best of {args.repeats}"
    )
    print(f"{'':44} {'wall':>7}  {'ratio':>5}   per worker")
    rows = [
        ("local pool", best_local),
        ("Ray, already running", best_warm),
        ("Ray, started by the build (--engine ray)", best_cold),
    ]
    for name, seconds in rows:
        print(f"{name:44} {seconds:6.1f}s  {best_local / seconds:5.2f}   {per_core(seconds)}")
    print("start-up:")
    print(f"  ray.init (local Ray, {workers} CPUs):      {min(init_seconds):5.1f} s")
    print(f"  Ray actors + their models:              {min(ray_setup):5.1f} s")
    print(f"  local pool processes + their models:    {min(local_setup):5.1f} s")
    read, write, rows_a_part = driver_seconds(video, out)
    print("the driver's own work (one process, whatever the engine):")
    per_hour = video.stat().st_size * 60 / minutes / 1e9
    print(
        f"  read the source (hashes, probe, subtitles): {read * 60 / minutes:5.1f} s per hour "
        f"of video ({per_hour:.2f} GB per hour in this encoding; cached by the builds)"
    )
    print(f"  write one manifest part ({rows_a_part} rows, fsync): {write * 1000:5.1f} ms")
    runs = ", ".join(f"{a:.1f}/{b:.1f}/{c:.1f}" for a, b, c in zip(local, warm, cold, strict=True))
    pairs_warm = statistics.median(a / b for a, b in zip(local, warm, strict=True))
    pairs_cold = statistics.median(a / c for a, c in zip(local, cold, strict=True))
    print(f"every run, local / Ray running / Ray started (s): {runs}")
    print(
        f"  median of each run's ratio (other load hits runs side by side alike): Ray "
        f"running {pairs_warm:.2f}, Ray started {pairs_cold:.2f}"
    )
    return report_goals(
        [
            Goal("Ray / local throughput, Ray running", best_local / best_warm, GOAL_RATIO),
            Goal("Ray / local throughput, Ray started", best_local / best_cold, GOAL_RATIO),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
