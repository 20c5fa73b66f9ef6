"""JSON Lines text: one JSON object per line, blank lines skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


class JsonLineError(ValueError):
    """A line of JSON Lines text that is not a JSON object; the message names the line."""


def json_objects(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of ``text`` (numbers from 1).
    ``JsonLineError`` at the first line that is not JSON (``line 3: not JSON (...)``) or
    not an object (``line 3: expected a JSON object``)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise JsonLineError(f"line {number}: not JSON ({error.msg})") from None
        if not isinstance(value, dict):
            raise JsonLineError(f"line {number}: expected a JSON object")
        yield number, value
