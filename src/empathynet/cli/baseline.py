"""``empathynet baseline``: train a reference model on a task and score its predictions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from empathynet.evaluate.baselines import BASELINES, run_baseline
from empathynet.tasks.splits import SPLITS

EXAMPLE = """example:
  empathynet baseline my-dataset cls-text --model text-tfidf
  empathynet baseline my-dataset mcq-stills-to-audio --model prosody --split validation
  empathynet baseline my-dataset gen-text-from-stills --model marginal

Predictions go to <dataset>/reports/predictions/<task>-<model>-<split>.jsonl.
"""


def add_parser(commands: Any) -> None:
    """Register ``baseline`` on the CLI's subparsers."""
    models = "; ".join(f"{n}: {BASELINES.get(n).summary}" for n in BASELINES.names())
    parser = commands.add_parser(
        "baseline",
        help="train a baseline on a task's train split and score it",
        description=f"Models: {models}.",
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument("task", help="task name (see `empathynet tasks ls`)")
    parser.add_argument("--model", required=True, choices=BASELINES.names(), help="baseline")
    parser.add_argument(
        "--split", default="test", choices=SPLITS, help="split to predict (default test)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the run as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = run_baseline(args.dataset, args.task, args.model, split=args.split, seed=args.seed)
    if args.json:
        print(
            json.dumps(
                {
                    "task": result.task,
                    "model": result.model,
                    "split": result.split,
                    "items": result.items,
                    "predictions": str(result.path),
                    "views": list(result.views),
                    "notes": result.notes,
                    "results": result.results.to_dict() if result.results else None,
                },
                indent=2,
            )
        )
    else:
        print("\n".join(result.lines()))
    return 0
