"""Manifest compaction benchmark: readers on 1,000,000 rows in ~62,000 parts, then compacted.

Writes a synthetic manifest (no media; labels and attributes in it) of ``--cue-groups``
accepted cue groups over ``--sources`` sources in parts of 16 rows, as a build with the
default chunk size writes them. Then, each in a fresh child process (its own peak memory,
``ru_maxrss``: a child of the writer would inherit the writer's peak):

1. ``empathynet inspect DATASET``, ``tasks make`` of an MCQ task (stills -> blurred audio)
   and of a classification task (text), on the parts;
2. ``empathynet compact DATASET`` (``--rows``): its time and peak memory;
3. the same readers on the compacted files, and whether the task items are the same.

Prints each figure before and after and their ratio. Goal: compaction makes ``inspect`` at
least 5x faster and keeps the tasks' items byte for byte.

    python benchmarks/compact.py --cue-groups 1000000 --sources 1000
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _child
from _child import print_figures, write_dataset
from _goal import Goal, report_goals

PHASES = ("inspect", "mcq", "classification")


def child(phase: str, dataset: Path, size: str) -> None:
    """Run one phase in this (child) process and print its figures as JSON."""
    started = time.perf_counter()
    detail = ""
    if phase == "write":
        written = write_dataset(dataset, size, unknown_attribute_share=0.05, part_rows=16)
        parts = len(list((dataset / "cues").glob("part-*.parquet")))
        detail = f"{written}, {parts:,} parts"
    elif phase == "inspect":
        import contextlib
        import io

        from empathynet.cli.main import main

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["inspect", str(dataset)])
        detail = next(line.strip() for line in out.getvalue().splitlines() if "accepted" in line)
    elif phase == "compact":
        from empathynet.store.compact import compact_dataset

        detail = compact_dataset(dataset, rows=int(size), warn=lambda line: None).line()
    else:
        from empathynet.tasks.make import TaskRequest, make_task
        from empathynet.tasks.spec import TaskLayout

        if phase == "mcq":
            request = TaskRequest(
                family="mcq", query="stills", answer="audio_blur", seed=0, name="bench-mcq"
            )
        else:
            request = TaskRequest(family="classification", query="text", seed=0, name="bench-cls")
        made = make_task(dataset, request, overwrite=True)
        digest = hashlib.sha256()
        for split in ("train", "validation", "test"):
            digest.update(TaskLayout(dataset, made.name).items(split).read_bytes())
        detail = f"{made.line()} [items sha256 {digest.hexdigest()[:16]}]"
    print_figures(started, detail=detail)


def run_child(phase: str, dataset: Path, size: str = "") -> dict[str, Any]:
    return _child.run_child(__file__, ["--child", phase, str(dataset), size])


def cues_megabytes(dataset: Path) -> float:
    """The size of the manifest files on disk, MB."""
    return sum(p.stat().st_size for p in (dataset / "cues").iterdir()) / 1e6


def figures(result: dict[str, object]) -> tuple[float, float]:
    """(seconds, peak MiB) of a child's result."""
    return float(str(result["seconds"])), int(str(result["peak_bytes"])) / 1024**2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cue-groups", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=1_000)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per compacted file")
    parser.add_argument("--out", type=Path, help="where to write the dataset (default: temp)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return 0
    print(f"{os.cpu_count()} CPUs; every phase in a fresh process, files in the page cache")
    with tempfile.TemporaryDirectory(prefix="compact-bench-") as scratch:
        dataset = args.out or Path(scratch) / "dataset"
        written = run_child("write", dataset, f"{args.cue_groups},{args.sources}")
        print(f"synthetic manifest: {written['detail']}, written in {figures(written)[0]:.1f} s")
        print(f"  cues/ holds {cues_megabytes(dataset):,.1f} MB")
        before = {phase: run_child(phase, dataset) for phase in PHASES}
        compacted = run_child("compact", dataset, str(args.rows))
        seconds, peak = figures(compacted)
        print(f"compaction: {seconds:.1f} s, peak memory {peak:,.0f} MiB: {compacted['detail']}")
        print(f"  cues/ holds {cues_megabytes(dataset):,.1f} MB")
        after = {phase: run_child(phase, dataset) for phase in PHASES}
        print(f"{'':16} {'parts':>16} {'compacted':>16} {'speed-up':>9}")
        for phase in PHASES:
            (s0, m0), (s1, m1) = figures(before[phase]), figures(after[phase])
            print(f"{phase:16} {s0:7.1f} s {m0:5.0f} MiB {s1:7.1f} s {m1:5.0f} MiB {s0 / s1:8.1f}x")
        for phase in PHASES:
            print(f"  {phase} (parts):     {before[phase]['detail']}")
            print(f"  {phase} (compacted): {after[phase]['detail']}")
        same = all(
            str(before[p]["detail"]).rsplit("[", 1)[-1]
            == str(after[p]["detail"]).rsplit("[", 1)[-1]
            for p in ("mcq", "classification")
        )
        inspect_ratio = figures(before["inspect"])[0] / figures(after["inspect"])[0]
        return report_goals(
            [
                Goal("inspect speed-up", inspect_ratio, 5.0, "x"),
                Goal("task items unchanged", float(same), 1.0),
            ]
        )


if __name__ == "__main__":
    sys.exit(main())
