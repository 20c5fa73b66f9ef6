"""``empathynet evaluate``: score a prediction file against a task split."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from empathynet.evaluate.harness import score_task, write_results
from empathynet.store.layout import require_dataset
from empathynet.store.lock import dataset_lock

EXAMPLE = """example:
  empathynet evaluate my-dataset mcq-stills-to-audio preds.jsonl
  empathynet evaluate my-dataset cls-text preds.parquet --split validation --json

One prediction per item of the split, keyed by item_id (JSON Lines or Parquet):
  classification  {"item_id": "...", "label": "joy"}   or "ranking": [...] / "scores": {...}
  mcq             {"item_id": "...", "choice": 2}       or "scores": [0.1, 0.7, 0.1, 0.1]
  generation      {"item_id": "...", "nll_nats": 812.5} or "logprob": -812.5
Ties go to the lowest class / option index. Results are written to
DATASET/reports/results/<task>-<split>-<predictions stem>.json.
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="score a prediction file against a task split, with 95%% bootstrap intervals",
        description=(
            "Check a prediction file strictly against the items of a task split, print "
            "the task's metrics with 95% percentile-bootstrap intervals, and write a "
            "results JSON (task version, dataset fingerprint, seed, file hashes)."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument("task", help="task name (see `empathynet tasks ls`)")
    parser.add_argument("predictions", type=Path, help="prediction file (.jsonl or .parquet)")
    parser.add_argument("--split", default="test", help="split to score (default test)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000; 0: none)"
    )
    parser.add_argument("--json", action="store_true", help="print the results JSON")
    parser.set_defaults(run=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    # Locked from the start, so a busy dataset is refused before the scoring, not after.
    with dataset_lock(require_dataset(args.dataset).root):
        results = score_task(
            args.dataset,
            args.task,
            args.predictions,
            split=args.split,
            seed=args.seed,
            bootstrap=args.bootstrap,
        )
        path = write_results(args.dataset, results)
    if args.json:
        print(json.dumps(results.to_dict(), indent=2))
    else:
        print("\n".join(results.lines()))
        print(f"  results: {path}")
    return 0
