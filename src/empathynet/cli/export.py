"""``empathynet export DATASET --format webdataset|hf|croissant --out DIR``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from empathynet.export import FORMATS, export_dataset

EXAMPLE = """example:
  empathynet export my-dataset --format webdataset --out shards
  empathynet export my-dataset --format hf --out hf-folder --task mcq-stills-to-audio
  empathynet export my-dataset --format croissant --out croissant

WebDataset: tar shards, one sample per accepted cue group (stills, face crops, blurred
audio, text, JSON metadata with labels, source id and time range). hf: a folder that
datasets.load_dataset opens offline, one config per task. croissant: croissant.json
with file hashes and Responsible-AI fields, and the dataset card (card.md).
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "export",
        help="export a dataset as WebDataset shards, a Hugging Face folder or Croissant",
        description=(
            "Write what may be shared of a dataset in a format other tools read: WebDataset "
            "shards, a Hugging Face datasets folder (one config per task) or Croissant JSON-LD "
            "with its Responsible-AI fields and the dataset card. A folder holding files no "
            "export wrote is refused unless --overwrite."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument("--format", choices=sorted(FORMATS), required=True, help="what to write")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--task",
        action="append",
        dest="tasks",
        metavar="NAME",
        help="hf: export only this task (repeat for several; default every task)",
    )
    parser.add_argument(
        "--shard-size",
        type=int,
        default=1000,
        help="webdataset: samples per shard (default 1000)",
    )
    parser.add_argument(
        "--face-clip", action="store_true", help="webdataset: also the face clip of each sample"
    )
    parser.add_argument(
        "--raw-audio",
        action="store_true",
        help="webdataset: also the raw (unblurred) voice: it carries the words",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace files in --out that no export wrote"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {"overwrite": args.overwrite}
    if args.format == "webdataset":
        options.update(
            shard_size=args.shard_size, face_clip=args.face_clip, raw_audio=args.raw_audio
        )
    if args.format == "hf" and args.tasks:
        options["tasks"] = args.tasks
    summary = export_dataset(args.dataset, args.format, args.out, **options)
    if args.json:
        print(json.dumps(dataclasses.asdict(summary), indent=2, default=str))
    else:
        print("\n".join(summary.lines()))
    return 0
