"""``empathynet leaderboard DATASET``: every applicable baseline and the audits, every task."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from empathynet.evaluate.leaderboard import leaderboard, leaderboard_lines

EXAMPLE = """example:
  empathynet tasks make my-dataset --suite standard
  empathynet leaderboard my-dataset
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "leaderboard",
        help="run every applicable baseline and the audits on every task of a dataset",
        description=(
            "Train each applicable baseline on each task's train split, score it on the "
            "test split with 95 % bootstrap intervals, audit each task for shortcuts, and "
            "print the table (predictions and results JSON go to DATASET/reports/)."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument("--split", default="test", help="split to score (default test)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of baselines and bootstrap (default 0)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    board = leaderboard(args.dataset, split=args.split, seed=args.seed)
    if args.json:
        rows = [dataclasses.asdict(row) for row in board.rows]
        print(json.dumps({"rows": rows, "audits": board.audits}, indent=2))
    else:
        print("\n".join(leaderboard_lines(board)))
    failed = [task for task, verdict in board.audits.items() if verdict != "passed"]
    return 1 if failed else 0
