"""``empathynet audit``: check that a task cannot be solved by a shortcut, and its splits."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from empathynet.evaluate.audits import audit_task

EXAMPLE = """example:
  empathynet audit my-dataset mcq-stills-to-audio
  empathynet audit my-dataset mcq-audio-to-text --json

Exit status 1 when an audit fails; the report names the shortcut that leaks and is
written to <dataset>/reports/audits/<task>.json.
"""


def add_parser(commands: Any) -> None:
    """Register ``audit`` on the CLI's subparsers."""
    parser = commands.add_parser(
        "audit",
        help="shortcut audits (option, position, duration, identity, length) and split leakage",
        description=(
            "For an MCQ task, train option-only, position-only, duration-only, identity and "
            "length-match (the query's and the options' lengths, across modalities) "
            "models on the train split and score them on the test split: each must not beat "
            "chance (one-sided binomial test, p > 0.01) and, from 10,000 test items, must sit "
            "within chance +- 2 points. Every task gets a split leakage check."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument("task", help="task name (see `empathynet tasks ls`)")
    parser.add_argument("--seed", type=int, default=0, help="seed of tie-breaking (default 0)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    report = audit_task(args.dataset, args.task, seed=args.seed)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 0 if report.passed else 1
