"""Scale benchmark: multiple-choice task generation on 1,000,000 cue groups.

Writes a synthetic manifest (no media; labels, genders and age bands in the manifest)
of ``--cue-groups`` accepted cue groups over ``--sources`` sources, then makes an MCQ
task (stills -> blurred audio, 4 options) from it: reading the manifest, fingerprint,
splits, distractor sampling, writing the items. Prints the wall time and the peak
memory of the process that made it (``resource.getrusage``: ru_maxrss). Goal: < 30 s
and < 2 GiB on 2 cores.

Each phase runs in its own child process of a small parent: Linux carries a parent's
peak RSS into ru_maxrss across fork + exec, so a child of the process that wrote the
dataset would report that process's peak, not its own.
``--validate`` also times ``tasks validate`` (not part of the goal). ``--pairings``
also makes an MCQ task for each pairing of ``PAIRINGS`` (the standard suite's and the
cross-modal ones of issue 13) and prints its yield: items / labelled cue groups, and the
items dropped per reason. The synthetic texts follow the durations as speech does
(``speech_like_text``), so text pairings meet realistic lengths.

    python benchmarks/tasks_scale.py --cue-groups 1000000 --sources 10000 --pairings
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _child
from _child import print_figures, write_dataset

GOAL_SECONDS = 30.0
GOAL_BYTES = 2 * 1024**3
#: (query, answer) of the MCQ pairings ``--pairings`` reports yield for.
PAIRINGS: tuple[tuple[str, str], ...] = (
    ("stills", "audio_blur"),
    ("audio_blur", "text"),
    ("text", "stills"),
    ("face_video", "audio_blur"),
    ("text", "audio_blur"),
    ("audio_blur", "face_video"),
    ("text", "face_video"),
    ("face_video", "text"),
    ("stills+text", "audio_blur"),
)


def child(dataset: Path, phase: str) -> None:
    """Run one phase in this (child) process and print its figures as JSON."""
    from empathynet.tasks.make import TaskRequest, make_task
    from empathynet.tasks.validate import validate_task

    started = time.perf_counter()
    if phase == "write":
        detail = write_dataset(
            dataset,
            os.environ["TASKS_SCALE_SIZE"],
            unknown_attribute_share=0.05,
            min_ms=800,
            max_ms=8000,
        )
    elif phase == "mcq":
        made = make_task(
            dataset,
            TaskRequest(family="mcq", query="stills", answer="audio_blur", seed=0, name="scale"),
            overwrite=True,
        )
        detail = made.line()
    elif phase == "pairings":
        from empathynet.tasks.cuetable import load_cue_table

        cues = load_cue_table(dataset, ["text", "stills"])
        labelled = int((cues.class_code >= 0).sum())
        lines = []
        for query, answer in PAIRINGS:
            request = TaskRequest(family="mcq", query=query, answer=answer, seed=0)
            made = make_task(dataset, request, overwrite=True, cues=cues)
            items = sum(made.items.values())
            dropped = ", ".join(f"{k} {v}" for k, v in made.dropped.items() if v)
            lines.append(
                f"{query}->{answer}: {items:,} items = {100 * items / labelled:.1f} % of "
                f"{labelled:,} labelled; dropped: {dropped}"
            )
        detail = "\n".join(lines)
    else:
        report = validate_task(dataset, "scale", check_media=False)
        detail = f"{len(report.checks)} checks passed"
    print_figures(started, detail=detail)


def run_child(dataset: Path, phase: str, size: str = "") -> dict[str, Any]:
    return _child.run_child(
        __file__, ["--child", phase, str(dataset)], env={"TASKS_SCALE_SIZE": size}
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cue-groups", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="where to write the dataset (default: temp)")
    parser.add_argument("--validate", action="store_true", help="also time tasks validate")
    parser.add_argument(
        "--pairings", action="store_true", help="also print the yield of every MCQ pairing"
    )
    parser.add_argument("--child", nargs=2, metavar=("PHASE", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[1]), args.child[0])
        return 0

    with tempfile.TemporaryDirectory(prefix="tasks-scale-") as scratch:
        dataset = args.out or Path(scratch) / "dataset"
        written = run_child(dataset, "write", f"{args.cue_groups},{args.sources}")
        print(
            f"synthetic manifest: {written['detail']}, "
            f"written in {float(str(written['seconds'])):.1f} s"
        )
        result = run_child(dataset, "mcq")
        seconds = float(str(result["seconds"]))
        peak = int(str(result["peak_bytes"]))
        print(f"  {result['detail']}")
        print(
            f"MCQ generation: {seconds:.1f} s (goal < {GOAL_SECONDS:.0f} s), peak memory "
            f"{peak / 1024**3:.2f} GiB (goal < {GOAL_BYTES / 1024**3:.0f} GiB)"
        )
        if args.validate:
            checked = run_child(dataset, "validate")
            print(
                f"validate: {float(str(checked['seconds'])):.1f} s, peak memory "
                f"{int(str(checked['peak_bytes'])) / 1024**3:.2f} GiB ({checked['detail']})"
            )
        if args.pairings:
            pairings = run_child(dataset, "pairings")
            print(f"yield per pairing ({float(str(pairings['seconds'])):.1f} s):")
            for line in str(pairings["detail"]).splitlines():
                print(f"  {line}")
        met = seconds < GOAL_SECONDS and peak < GOAL_BYTES
        print("goal met" if met else "goal NOT met")
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
