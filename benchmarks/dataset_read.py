"""Reading benchmark: every cue row of a 1,000,000-row manifest through ``Dataset.cues()``.

Writes a synthetic manifest (no media) of ``--cue-groups`` accepted cue groups over
``--sources`` sources, one part per source as a build writes them, then, in a fresh
child process, opens it with ``empathynet.open_dataset`` and iterates every record.
Prints rows per second and the reader's peak memory (``ru_maxrss`` of the child: a
child of the writing process would inherit the writer's peak). Goal: < 500 MB.

    python benchmarks/dataset_read.py --cue-groups 1000000 --sources 10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _child
from _child import print_figures, write_dataset

GOAL_BYTES = 500 * 1024**2


def child(phase: str, dataset: Path, size: str) -> None:
    started = time.perf_counter()
    if phase == "write":
        detail = write_dataset(dataset, size)
    else:
        import empathynet

        opened = empathynet.open_dataset(dataset)
        rows = 0
        characters = 0
        for cue in opened.cues():
            rows += 1
            characters += len(cue.text)
        detail = f"{rows:,} cue records ({characters:,} characters of text)"
    print_figures(started, detail=detail)


def run_child(phase: str, dataset: Path, size: str = "") -> dict[str, Any]:
    return _child.run_child(__file__, ["--child", phase, str(dataset), size])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cue-groups", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="where to write the dataset (default: temp)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return 0
    with tempfile.TemporaryDirectory(prefix="dataset-read-") as scratch:
        dataset = args.out or Path(scratch) / "dataset"
        if not (dataset / "dataset.json").exists():
            written = run_child("write", dataset, f"{args.cue_groups},{args.sources}")
            print(f"synthetic manifest: {written['detail']} in {written['seconds']:.1f} s")
        read = run_child("read", dataset)
        seconds = float(str(read["seconds"]))
        peak = int(str(read["peak_bytes"]))
        rows = args.cue_groups
        print(f"Dataset.cues(): {read['detail']} in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
        print(f"peak memory of the reader: {peak / 1024**2:.0f} MB (goal < 500 MB)")
        met = peak < GOAL_BYTES
        print("goal met" if met else "goal NOT met")
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
