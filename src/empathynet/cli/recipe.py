"""``empathynet recipe export DATASET --out recipe.jsonl``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EXAMPLE = """example:
  empathynet recipe export my-dataset --out recipe.jsonl
  empathynet fetch recipe.jsonl --to fetched
  empathynet build --recipe recipe.jsonl fetched --out rebuilt

A recipe lists each source's URL, licence and SHA-256, every cue row's sentence, time
range and outcome, the votes, the build options and the task requests: no media.
Give sources their URLs when building (build --sources FILE, or yt-dlp's .info.json).
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "recipe",
        help="write a dataset as a recipe: URLs, hashes, sentences, labels, tasks; no media",
        description=(
            "A recipe lets anyone rebuild the dataset from the sources' URLs when the media "
            "may not be shared: empathynet fetch downloads them, build --recipe rebuilds the "
            "same cue groups, labels and task items."
        ),
        epilog=EXAMPLE,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export",
        help="write the recipe of a dataset",
        description=(
            "Write the dataset's recipe (JSON Lines): its sources' URLs, licences and SHA-256, "
            "every cue row's sentence and outcome, the votes, the build options and the task "
            "requests. It holds no media. Sources without a URL are counted."
        ),
        epilog=EXAMPLE,
    )
    export.add_argument("dataset", type=Path, help="dataset directory")
    export.add_argument("--out", type=Path, required=True, help="the recipe file to write")
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    from empathynet.recipes import export_recipe

    print("\n".join(export_recipe(args.dataset, args.out).lines()))
    return 0
