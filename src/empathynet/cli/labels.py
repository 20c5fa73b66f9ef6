"""``empathynet labels``: import annotation votes, show and re-aggregate them."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from empathynet.cli.labels_studio import add_actions as add_export_actions
from empathynet.labels import (
    DEFAULT_TIE_RULE,
    TIE_RULES,
    LabelsLayout,
    reaggregate_labels,
    summarize_labels,
)
from empathynet.labels.aggregate import DEFAULT_METHOD, METHODS, aggregate_method
from empathynet.labels.agreement import DEFAULT_RESAMPLES, annotator_agreement
from empathynet.labels.votes import import_votes

EXAMPLE = """example:
  empathynet labels import my-dataset votes.csv
  empathynet labels import my-dataset round2.csv --taxonomy taxonomy.yaml
  empathynet labels export my-dataset --format label-studio --out ls-project
  empathynet labels import my-dataset project-1-export.json
  empathynet labels summary my-dataset
  empathynet labels aggregate my-dataset --tie-rule taxonomy-order
  empathynet labels aggregate my-dataset --method dawid-skene
  empathynet labels agreement my-dataset

The CSV has a header with cue_id, annotator, label and optionally gender, age_band,
time; one vote per line. Labels must be classes of the dataset's taxonomy (default: anger,
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
    add_export_actions(actions)

    importer = actions.add_parser(
        "import",
        help="import votes: a CSV (cue_id, annotator, label[, gender, age_band, time]) or a "
        "Label Studio JSON export",
        description="Import votes from a CSV (cue_id, annotator, label[, gender, age_band, "
        "time]) or a Label Studio JSON export (each annotation a vote of its user at its time; "
        "skipped annotations and predictions are not votes) and recompute the label of every "
        "cue group.",
        epilog=EXAMPLE,
    )
    importer.add_argument("dataset", type=Path, help="dataset directory")
    importer.add_argument(
        "csv", type=Path, metavar="VOTES", help="labels CSV file or Label Studio export (.json)"
    )
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
    aggregate.add_argument(
        "--method",
        choices=METHODS,
        default=DEFAULT_METHOD,
        help="majority vote (default) or dawid-skene (weighs annotators by their estimated "
        "confusion matrices; every label gets a posterior as its confidence)",
    )
    aggregate.add_argument("--json", action="store_true", help="print JSON")
    aggregate.set_defaults(run=run_aggregate)
    add_agreement_action(actions)


def add_agreement_action(actions: Any) -> None:
    """Register ``labels agreement`` on the ``labels`` actions."""
    agreement = actions.add_parser(
        "agreement",
        help="inter-annotator agreement: Krippendorff's alpha, Fleiss' kappa, per class/annotator",
        description="Krippendorff's alpha (nominal) and Fleiss' kappa of the votes (each "
        "annotator's latest vote per cue group; cue groups with 2+ votes), with bootstrap "
        "95 % intervals over cue groups; per class (one vs rest), per annotator (Cohen's "
        "kappa against the others' majority), and the class confusion between annotators. "
        "See docs/labels.md.",
    )
    agreement.add_argument("dataset", type=Path, help="dataset directory")
    agreement.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    agreement.add_argument(
        "--resamples",
        type=int,
        default=DEFAULT_RESAMPLES,
        help=f"bootstrap resamples (default {DEFAULT_RESAMPLES}; 0: no intervals)",
    )
    agreement.add_argument("--json", action="store_true", help="print JSON")
    agreement.set_defaults(run=run_agreement)


def _print(value: Any, lines: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(dataclasses.asdict(value), indent=2))
    else:
        print("\n".join(lines))


def run_import(args: argparse.Namespace) -> int:
    result = import_votes(
        args.dataset, args.csv, taxonomy_path=args.taxonomy, tie_rule=args.tie_rule
    )
    _print(result, result.lines(), args.json)
    return 0


def run_summary(args: argparse.Namespace) -> int:
    summary = summarize_labels(args.dataset)
    _print(summary, summary.lines(), args.json)
    return 0


def run_aggregate(args: argparse.Namespace) -> int:
    summary = reaggregate_labels(args.dataset, args.tie_rule, args.method)
    if args.json:
        print(json.dumps({**dataclasses.asdict(summary), "method": args.method}, indent=2))
    else:
        print("\n".join([f"method: {args.method}", *summary.lines()]))
    return 0


def run_agreement(args: argparse.Namespace) -> int:
    result = annotator_agreement(args.dataset, seed=args.seed, resamples=args.resamples)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        method = aggregate_method(LabelsLayout(args.dataset).aggregate)
        print("\n".join([result.headline(), "", *result.lines()]))
        if method is not None:
            print(f"\nthe labels are aggregated by {method} (labels aggregate --method)")
    return 0
