"""``empathynet demo --out DIR``: generate demo media and build a dataset from it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXAMPLE = """example:
  empathynet demo --out demo-out
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="generate demo videos with subtitles and build a dataset from them",
        description=(
            "Generate short demo videos (a real face photo, a synthetic voice, subtitles) that "
            "cover the cases the pipeline must handle: a large single face, a small face, two "
            "faces, no face, a shot cut inside a sentence, dialogue, no audio stream, a corrupt "
            "file. Then build a dataset from them, print what became of each clip, label the "
            "accepted cues, make the standard task suite, run the baselines and audits and "
            "print a leaderboard, and write the HTML report (DIR/dataset/reports/index.html)."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of the generated media (default 0)"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--talks",
        type=int,
        default=10,
        help="extra clips of a face saying sentences of known emotion (default 10), so the "
        "tasks have enough cue groups",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from empathynet.demo.run import run_demo

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = run_demo(
        args.out, seed=args.seed, workers=args.workers, talks=args.talks, progress=progress
    )
    print("\n".join(result.lines))
    return 0
