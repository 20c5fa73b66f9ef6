"""``empathynet check DATASET [--repair] [--json]``: is a dataset whole?"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from empathynet.store.check import check_dataset

EXAMPLE = """example:
  empathynet check my-dataset
  empathynet check my-dataset --repair     (then run the build command it prints)

Exit status: 0 when the dataset is whole (or every problem was repaired), 1 when
problems are left, 2 when DATASET is not a dataset.
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="check a dataset: manifest parts, dataset.json and every media file",
        description=(
            "Check that every manifest part reads with the manifest's schema and holds only "
            "its own source's rows, that dataset.json is a supported dataset description whose "
            "config hash the rows agree with, and that every media file an accepted row names "
            "is inside the dataset with the size recorded when it was written. One line per "
            "problem. --repair deletes each chunk with a problem (its manifest part and media) "
            "so that running the build again with the same inputs redoes exactly those chunks; "
            "it prints that command."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument(
        "--repair", action="store_true", help="delete the chunks with problems, to build again"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    report = check_dataset(args.dataset, repair=args.repair)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1
