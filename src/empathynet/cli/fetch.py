"""``empathynet fetch RECIPE --to DIR``: download a recipe's videos, checked by SHA-256."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EXAMPLE = """example:
  empathynet fetch recipe.jsonl --to fetched
  empathynet build --recipe recipe.jsonl fetched --out rebuilt

A URL ending in a video extension (and any file:// URL) is downloaded over HTTP(S) and
resumed with a Range request when a fetch was interrupted; a platform page (a YouTube
watch page...) is downloaded with yt-dlp (pip install yt-dlp). A file whose SHA-256 is
not the recipe's is kept as NAME.changed, never under its name. Running the command
again skips what is present and resumes the rest; DIR/fetch.json records each outcome.

exit status: 0 when every source is downloaded or present; 1 when some changed (other
bytes), vanished (HTTP 404/410, unknown host, removed video), failed or have no URL in
the recipe, each listed; 2 for an error such as a malformed recipe or DIR in use.
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "fetch",
        help="download the videos of a recipe into a folder, checked by SHA-256",
        description=(
            "Download the videos a recipe lists into DIR (made if missing), each checked "
            "against the recipe's SHA-256 and size, so that the dataset can be built again "
            "from them. A file already in DIR with the recipe's bytes is not downloaded again; "
            "a file of yours with other bytes is left alone and reported."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("recipe", type=Path, help="the recipe file (JSON Lines)")
    parser.add_argument(
        "--to", type=Path, required=True, metavar="DIR", help="folder to download into"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="do not show download progress on stderr"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from empathynet.recipes import fetch_recipe  # here: its imports are most of the start-up

    result = fetch_recipe(args.recipe, args.to, progress=not args.no_progress)
    print("\n".join(result.lines()))
    return 0 if result.complete else 1
