"""``empathynet report DATASET``: write the static HTML report ``DATASET/reports/index.html``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from empathynet.report import write_report

EXAMPLE = """example:
  empathynet report my-dataset --max-cues 50
  (then open my-dataset/reports/index.html in a browser)
"""


def _cue_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="write a static HTML report of a dataset (DATASET/reports/index.html)",
        description=(
            "Write the report's pages into DATASET/reports/: index.html (the build summary, "
            "plots, the first accepted cue groups with their stills, face crops, audio, "
            "blurred audio and face clip, the rejected and failed rows per reason with why, "
            "agreement, tasks and a glossary), cues.html (every row, filterable), "
            "sources.html and a page per source. They open over file:// (relative links) "
            "and fetch nothing from a network. Prints the path of index.html."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("dataset", type=Path, help="dataset directory")
    parser.add_argument(
        "--max-cues",
        type=_cue_count,
        default=200,
        metavar="N",
        help="accepted cue groups shown, first by cue id (default 200)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(write_report(args.dataset, max_cues=args.max_cues))
    return 0
