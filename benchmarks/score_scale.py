"""Scale benchmark: scoring 1,000,000 multiple-choice predictions with bootstrap intervals.

Makes a small synthetic dataset and a real MCQ task, then replaces the task's test
split by ``--items`` synthetic items (ids and answer positions; the spec's SHA-256 is
updated, as a task of that size would have it) and writes one prediction file per
format: JSON Lines with option scores, and Parquet with choices. Times ``score_task``
(read + strict checks + alignment + accuracy + ``--bootstrap`` resamples) on each.
Goal: < 10 s per file on 2 cores. For comparison it also times a plain index-matrix
bootstrap (``resample_index_blocks``) on a few resamples and extrapolates.

    python benchmarks/score_scale.py --items 1000000 --bootstrap 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from empathynet.evaluate import metrics, score_task
from empathynet.labels import import_labels
from empathynet.store.hashing import file_sha256
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.spec import TaskLayout
from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv

GOAL_SECONDS = 10.0
OPTIONS = 4


def make_dataset(root: Path, items: int) -> tuple[str, np.ndarray, list[str]]:
    """A real MCQ task whose test split is replaced by ``items`` synthetic items."""
    made = write_synthetic_dataset(root, cue_groups=400, sources=12)
    import_labels(root, write_votes_csv(root.parent / "votes.csv", made.truth))
    name = make_task(root, TaskRequest(family="mcq", query="stills", answer="audio_blur")).name
    layout = TaskLayout(root, name)
    rng = np.random.default_rng(0)
    answer = rng.integers(0, OPTIONS, size=items).astype(np.int32)
    ids = [f"{i:016x}-{i % 10**9:09d}" for i in range(items)]
    pq.write_table(pa.table({"item_id": ids, "answer_index": answer}), layout.items("test"))
    spec = yaml.safe_load(layout.spec.read_text(encoding="utf-8"))
    spec["files"]["test"].update(sha256=file_sha256(layout.items("test")), items=items)
    layout.spec.write_text(yaml.safe_dump(spec, sort_keys=True), encoding="utf-8")
    return name, answer, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="score-scale-") as scratch:
        root = Path(scratch) / "ds"
        name, answer, ids = make_dataset(root, args.items)
        rng = np.random.default_rng(1)
        # a model that is right 40 % of the time, as option scores
        scores = rng.random((args.items, OPTIONS))
        right = rng.random(args.items) < 0.4
        scores[np.arange(args.items), answer] += right * 1.0
        jsonl = Path(scratch) / "scores.jsonl"
        with jsonl.open("w", encoding="utf-8") as handle:
            for item_id, row in zip(ids, np.round(scores, 4).tolist(), strict=True):
                handle.write(json.dumps({"item_id": item_id, "scores": row}) + "\n")
        parquet = Path(scratch) / "choices.parquet"
        pq.write_table(pa.table({"item_id": ids, "choice": scores.argmax(axis=1)}), parquet)
        print(f"{args.items:,} MCQ items, {args.bootstrap} bootstrap resamples")
        met = True
        for path in (jsonl, parquet):
            started = time.perf_counter()
            results = score_task(root, name, path, bootstrap=args.bootstrap)
            seconds = time.perf_counter() - started
            met = met and seconds < GOAL_SECONDS
            figure = results.metrics["accuracy"]
            print(
                f"  {path.name:<16} {path.stat().st_size / 1e6:6.1f} MB: {seconds:5.2f} s "
                f"(goal < {GOAL_SECONDS:.0f} s); accuracy {figure.value:.4f} "
                f"[{figure.low:.4f}, {figure.high:.4f}]"
            )
        correct = (scores.argmax(axis=1) == answer).astype(np.float64)
        probe = 20
        started = time.perf_counter()
        for block in metrics.resample_index_blocks(args.items, probe, np.random.default_rng(0)):
            correct[block].mean(axis=1)
        per_resample = (time.perf_counter() - started) / probe
        print(
            f"  (an index-matrix bootstrap would take {per_resample * args.bootstrap:.1f} s "
            f"for {args.bootstrap} resamples: {per_resample * 1e3:.0f} ms each)"
        )
        print("goal met" if met else "goal NOT met")
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
