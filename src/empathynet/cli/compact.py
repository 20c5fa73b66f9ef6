"""``empathynet compact DATASET [--rows N] [--json]``: merge the manifest parts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from empathynet.store.compact import DEFAULT_ROWS, compact_dataset

EXAMPLE = f"""example:
  empathynet compact my-dataset
  empathynet compact my-dataset --rows 50000

A build compacts by itself at its end once the dataset has 1,000 parts or more; compacting
again with no new part changes nothing. Each compacted file holds whole sources, sorted by
cue id, about --rows rows (default {DEFAULT_ROWS:,}); the rows are unchanged.
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "compact",
        help="merge a dataset's many small manifest parts into a few large files",
        description=(
            "Merge the manifest parts (one per chunk of 16 utterances: ~62,000 files for "
            "1,000,000 cue groups) into compacted files of about --rows rows, sorted by cue "
            "id, so that every reader opens a few files instead. Each compacted file records "
            "the chunks it holds, so a resumed build skips them. Safe to stop at any moment "
            "(kill -9 included): the new files count only once cues/compacted.json lists "
            "them, and what a stopped compaction left is deleted by the next command that "
            "writes. New parts (a resumed build) are merged with the compacted files of the "
            "sources among theirs."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_ROWS,
        metavar="N",
        help=f"rows per compacted file to aim at (default {DEFAULT_ROWS:,})",
    )
    parser.add_argument("--json", action="store_true", help="print what was done as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = compact_dataset(args.dataset, rows=args.rows)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print("\n".join(result.lines()))
    return 0
