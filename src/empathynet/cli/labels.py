"""``empathynet labels``: import annotation votes, show and re-aggregate them."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from empathynet.labels import (
    DEFAULT_TIE_RULE,
    TIE_RULES,
    import_labels,
    reaggregate_labels,
    summarize_labels,
)

EXAMPLE = """example:
  empathynet labels import my-dataset votes.csv
  empathynet labels import my-dataset round2.csv --taxonomy taxonomy.yaml
  empathynet labels summary my-dataset
  empathynet labels aggregate my-dataset --tie-rule taxonomy-order

The CSV has a header with cue_id, annotator, label and optionally gender, age_band;
one vote per line. Labels must be classes of the dataset's taxonomy (default: anger,
disgust, fear, joy, neutral, sadness, surprise). Re-importing a file adds nothing.
"""


def add_parser(commands: Any) -> None:
    """Register ``labels`` and its subcommands on the CLI's subparsers."""
    parser = commands.add_parser(
        "labels",
        help="import annotation votes, aggregate them into labels",
        description=(
            "Keep every annotation vote (labels/votes.parquet) and the majority label per "
            "cue group with its agreement (labels/aggregate.parquet)."
        ),
        epilog=EXAMPLE,
    )
    actions = parser.add_subparsers(dest="labels_command", metavar="ACTION", required=True)

    importer = actions.add_parser(
        "import",
        help="import a CSV of votes (cue_id, annotator, label[, gender, age_band])",
        description="Import a CSV of votes (cue_id, annotator, label[, gender, age_band]) and "
        "recompute the majority label of every cue group.",
        epilog=EXAMPLE,
    )
    importer.add_argument("dataset", type=Path, help="dataset directory")
    importer.add_argument("csv", type=Path, help="labels CSV file")
    importer.add_argument(
        "--taxonomy", type=Path, help="taxonomy YAML to adopt (only before the first votes)"
    )
    importer.add_argument(
        "--tie-rule",
        choices=TIE_RULES,
        default=DEFAULT_TIE_RULE,
        help=f"what a tie between classes gives (default {DEFAULT_TIE_RULE}: no label)",
    )
    importer.add_argument("--json", action="store_true", help="print JSON")
    importer.set_defaults(run=run_import)

    summary = actions.add_parser(
        "summary",
        help="counts of votes, labels and agreement",
        description="Print the counts of votes, labels and agreement of a dataset.",
    )
    summary.add_argument("dataset", type=Path, help="dataset directory")
    summary.add_argument("--json", action="store_true", help="print JSON")
    summary.set_defaults(run=run_summary)

    aggregate = actions.add_parser(
        "aggregate",
        help="recompute the aggregate from the votes (e.g. another tie rule)",
        description="Recompute labels/aggregate.parquet from the stored votes (e.g. with "
        "another tie rule).",
    )
    aggregate.add_argument("dataset", type=Path, help="dataset directory")
    aggregate.add_argument(
        "--tie-rule",
        choices=TIE_RULES,
        default=DEFAULT_TIE_RULE,
        help=f"what a tie between classes gives (default {DEFAULT_TIE_RULE}: no label)",
    )
    aggregate.add_argument("--json", action="store_true", help="print JSON")
    aggregate.set_defaults(run=run_aggregate)


def _print(value: Any, lines: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(dataclasses.asdict(value), indent=2))
    else:
        print("\n".join(lines))


def run_import(args: argparse.Namespace) -> int:
    result = import_labels(
        args.dataset, args.csv, taxonomy_path=args.taxonomy, tie_rule=args.tie_rule
    )
    _print(result, result.lines(), args.json)
    return 0


def run_summary(args: argparse.Namespace) -> int:
    summary = summarize_labels(args.dataset)
    _print(summary, summary.lines(), args.json)
    return 0


def run_aggregate(args: argparse.Namespace) -> int:
    summary = reaggregate_labels(args.dataset, args.tie_rule)
    _print(summary, summary.lines(), args.json)
    return 0
