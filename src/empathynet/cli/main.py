"""``empathynet`` entry point: parse arguments, call the API, print results.

Every command is a function of the Python API first; this module only parses
and prints. Errors the package raises on purpose print as one line on stderr
and exit with status 2; an interrupt exits with 130, with one line whatever the moment:
the commands (and their imports: most of the start-up) are loaded inside ``main``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from empathynet import __version__
from empathynet.errors import EmpathyNetError

#: What an interrupted command prints: every command writes atomically, so running it again
#: finishes the work (a build resumes where it stopped).
INTERRUPTED = "empathynet: interrupted; what was written is kept: run the same command to resume"


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command. Their modules are imported here, not at the top: their
    imports are most of the start-up, and a Ctrl-C in them then prints one line."""
    from empathynet.cli import audit as audit_cmd
    from empathynet.cli import baseline as baseline_cmd
    from empathynet.cli import blur as blur_cmd
    from empathynet.cli import build as build_cmd
    from empathynet.cli import check as check_cmd
    from empathynet.cli import classes as classes_cmd
    from empathynet.cli import compact as compact_cmd
    from empathynet.cli import demo as demo_cmd
    from empathynet.cli import evaluate as evaluate_cmd
    from empathynet.cli import export as export_cmd
    from empathynet.cli import fetch as fetch_cmd
    from empathynet.cli import labels as labels_cmd
    from empathynet.cli import leaderboard as leaderboard_cmd
    from empathynet.cli import recipe as recipe_cmd
    from empathynet.cli import remove as remove_cmd
    from empathynet.cli import report as report_cmd
    from empathynet.cli import tasks as tasks_cmd
    from empathynet.cli import utterances as utterances_cmd
    from empathynet.cli.parsing import CommandParser

    parser = CommandParser(
        prog="empathynet",
        description="Turn videos with subtitles into a multimodal benchmark of empathy cues.",
    )
    parser.add_argument("--version", action="version", version=f"empathynet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    utterances_cmd.add_parser(commands)
    build_cmd.add_parsers(commands)
    check_cmd.add_parser(commands)
    compact_cmd.add_parser(commands)
    blur_cmd.add_parser(commands)
    labels_cmd.add_parser(commands)
    classes_cmd.add_parser(commands)
    tasks_cmd.add_parser(commands)
    evaluate_cmd.add_parser(commands)
    baseline_cmd.add_parser(commands)
    audit_cmd.add_parser(commands)
    leaderboard_cmd.add_parser(commands)
    report_cmd.add_parser(commands)
    export_cmd.add_parser(commands)
    recipe_cmd.add_parser(commands)
    fetch_cmd.add_parser(commands)
    remove_cmd.add_parser(commands)
    demo_cmd.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    try:
        status: int = args.run(args)
    except EmpathyNetError as error:
        print(f"empathynet: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("empathynet: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
