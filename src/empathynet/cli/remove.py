"""``empathynet remove DATASET --source ID|--cue ID [--reason TEXT]``: takedown."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from empathynet.errors import ConfigError
from empathynet.store.removals import remove_from_dataset

EXAMPLE = """example:
  empathynet remove my-dataset --source 3f2a9c0d1e2b4a5f --reason "takedown request"
  empathynet remove my-dataset --cue 3f2a9c0d1e2b4a5f-000012345 --cue 3f2a9c0d1e2b4a5f-000020000

Each removal is logged in reports/removals.jsonl before anything is deleted: a removal
that was stopped is finished by running the same command again (or by the next build).
Building again never brings a removed source or cue group back. Tasks made before the
removal are named: make them again (tasks validate and the hf export refuse them).
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "remove",
        help="remove a source or cue groups from a dataset for good (takedown)",
        description=(
            "Delete sources (every cue group, media folder and their row) or single cue "
            "groups (their rows and media) from a dataset, with their votes and pre-labels; "
            "recompute the label aggregate and log each removal, with its reason, in "
            "reports/removals.jsonl."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument(
        "--source",
        action="append",
        dest="sources",
        default=[],
        metavar="ID",
        help="a source id to remove with all its cue groups (repeat for several)",
    )
    parser.add_argument(
        "--cue",
        action="append",
        dest="cues",
        default=[],
        metavar="ID",
        help="a cue id to remove (repeat for several)",
    )
    parser.add_argument("--reason", metavar="TEXT", help="why (logged with each removal)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.sources and not args.cues:
        raise ConfigError("nothing to remove: give at least one --source ID or --cue ID")
    result = remove_from_dataset(
        args.dataset, source_ids=args.sources, cue_ids=args.cues, reason=args.reason
    )
    if args.json:
        print(json.dumps(dataclasses.asdict(result), indent=2, default=str))
    else:
        print("\n".join(result.lines()))
    return 0
