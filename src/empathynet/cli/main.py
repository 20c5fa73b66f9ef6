"""``empathynet`` entry point: parse arguments, call the API, print results.

Every command is a function of the Python API first; this module only parses
and prints. Errors the package raises on purpose print as one line on stderr
and exit with status 2; an interrupt exits with 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from empathynet import __version__
from empathynet.cli import audit as audit_cmd
from empathynet.cli import baseline as baseline_cmd
from empathynet.cli import blur as blur_cmd
from empathynet.cli import build as build_cmd
from empathynet.cli import demo as demo_cmd
from empathynet.cli import evaluate as evaluate_cmd
from empathynet.cli import labels as labels_cmd
from empathynet.cli import leaderboard as leaderboard_cmd
from empathynet.cli import report as report_cmd
from empathynet.cli import tasks as tasks_cmd
from empathynet.cli import utterances as utterances_cmd
from empathynet.cli.parsing import CommandParser
from empathynet.errors import EmpathyNetError


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="empathynet",
        description="Turn videos with subtitles into a multimodal benchmark of empathy cues.",
    )
    parser.add_argument("--version", action="version", version=f"empathynet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    utterances_cmd.add_parser(commands)
    build_cmd.add_parsers(commands)
    blur_cmd.add_parser(commands)
    labels_cmd.add_parser(commands)
    tasks_cmd.add_parser(commands)
    evaluate_cmd.add_parser(commands)
    baseline_cmd.add_parser(commands)
    audit_cmd.add_parser(commands)
    leaderboard_cmd.add_parser(commands)
    report_cmd.add_parser(commands)
    demo_cmd.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
