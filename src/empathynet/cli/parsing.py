"""The command line's argument parser and help formatter.

``CommandParser`` adds one thing to ``argparse``: a command that also takes an action
word in front of its positionals (``empathynet blur DATASET`` and ``empathynet blur
verify DATASET``), each word with its own parser, options and ``--help``.
``HelpFormatter`` wraps prose to the terminal but keeps examples as written.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from typing import Any


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Wrap description and epilog paragraphs; keep a paragraph as written when it has an
    indented line or starts with a heading such as ``example:`` (command lines)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = text.strip("\n").split("\n\n")
        out = []
        for paragraph in paragraphs:
            lines = paragraph.splitlines()
            if any(line[:1].isspace() for line in lines) or lines[0].rstrip().endswith(":"):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(
                    textwrap.fill(
                        " ".join(paragraph.split()),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                    )
                )
        return "\n\n".join(out)


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose first argument may be an action word with its own parser
    (see ``add_word``); any other first argument is parsed by this parser."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.words: dict[str, argparse.ArgumentParser] = {}

    def add_word(self, word: str, **kwargs: Any) -> CommandParser:
        """A parser for ``PROG WORD ...``; returns it to add arguments to."""
        parser = CommandParser(prog=f"{self.prog} {word}", **kwargs)
        self.words[word] = parser
        return parser

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if args and args[0] in self.words:
            return self.words[args[0]].parse_known_args(list(args[1:]), namespace)
        return super().parse_known_args(args, namespace)
