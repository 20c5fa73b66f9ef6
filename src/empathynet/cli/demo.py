"""``empathynet demo --out DIR``: generate demo media and build a dataset from it."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from empathynet.evaluate.leaderboard import leaderboard, leaderboard_lines
from empathynet.labels import import_labels
from empathynet.pipeline.build import build_dataset, read_manifest
from empathynet.report import write_report
from empathynet.store.layout import DatasetLayout
from empathynet.tasks import make_suite
from empathynet.testing.demo_labels import write_demo_labels

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
    from empathynet.testing import generate_demo_media
    from empathynet.testing.talks import generate_demo_talks

    out: Path = args.out
    media_dir = out / "media"
    started = time.monotonic()
    print(f"generating demo media in {media_dir} ...", file=sys.stderr)
    clips = generate_demo_media(media_dir, seed=args.seed)
    clips += generate_demo_talks(media_dir, count=args.talks, per_clip=8, seed=args.seed)
    print(f"  {len(clips)} clips in {time.monotonic() - started:.1f} s", file=sys.stderr)

    dataset = out / "dataset"
    print(f"building the dataset in {dataset} ...", file=sys.stderr)
    summary = build_dataset([media_dir], dataset, workers=args.workers)
    sources = pq.read_table(DatasetLayout(dataset).sources_parquet).to_pylist()
    clip_of = {s["source_id"]: Path(s["path"]).stem for s in sources}
    outcomes: dict[str, Counter[str]] = {clip.name: Counter() for clip in clips}
    for row in read_manifest(dataset):
        outcomes[clip_of[row.source_id]][row.reason or row.status] += 1
    print(f"\n{'clip':<12} {'made to show':<16} what the build did with its sentences")
    for clip in clips:
        if clip.name.startswith("talk_") and clip.name != "talk_01":
            continue  # the talks all show the same thing: one line for them
        counts = outcomes[clip.name]
        name = clip.name
        if name == "talk_01":
            counts = sum((c for n, c in outcomes.items() if n.startswith("talk_")), Counter())
            name = f"talk_* ({sum(n.startswith('talk_') for n in outcomes)})"
        got = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"
        print(f"{name:<12} {clip.expected:<16} {got}")
    print()
    print("\n".join(summary.lines()))

    labels_csv = write_demo_labels(dataset, out / "demo_labels.csv")
    imported = import_labels(dataset, labels_csv)
    print(f"\nlabels from {labels_csv}:")
    for line in imported.lines():
        print(f"  {line}")
    suite = make_suite(dataset, "standard", seed=args.seed, overwrite=True)
    print("tasks (standard suite):")
    for line in suite.lines():
        print(f"  {line}")

    print("\nrunning the baselines and audits ...", file=sys.stderr)
    board = leaderboard(dataset, seed=args.seed)
    print("\nleaderboard (test split; trained on train):")
    for line in leaderboard_lines(board):
        print(f"  {line}")
    report = write_report(dataset, leaderboard=board)
    print(f"\nreport: {report}  (open it in a browser)")
    return 0
