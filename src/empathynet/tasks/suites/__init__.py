"""Task suites as YAML files: the standard suite ships here (``standard.yaml``); a user's
own suite is any YAML file of the same form (``tasks make DATASET --suite my-suite.yaml``).

A suite file has ``name``, an optional ``description`` and ``tasks``: a list of mappings
with the fields of a ``TaskRequest`` (``name``, ``family``, ``query`` and, for multiple
choice and generation, ``answer``; optionally ``options``, ``distractors``,
``duration_tolerance_pct``, ``duration_tolerance_min_ms``, ``split_ratios``,
``allow_leaking_views``). The suite's seed and ``min_confidence`` apply to every task.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from empathynet.errors import ConfigError

#: TaskRequest fields a suite entry may set (seed and min_confidence come from the suite).
ENTRY_FIELDS: tuple[str, ...] = (
    "name",
    "family",
    "query",
    "answer",
    "options",
    "distractors",
    "duration_tolerance_pct",
    "duration_tolerance_min_ms",
    "split_ratios",
    "allow_leaking_views",
)


@dataclass(frozen=True)
class Suite:
    """A named list of task requests' fields (see the module docstring)."""

    name: str
    description: str
    tasks: tuple[dict[str, Any], ...]
    path: str  #: where it was read from (for messages)


def builtin_suites() -> list[str]:
    """The names of the suites that ship with the package."""
    folder = resources.files(__package__)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_suite(suite: str | Path) -> Suite:
    """A shipped suite by name (``standard``) or a suite YAML file by path."""
    if isinstance(suite, str) and suite in builtin_suites():
        resource = resources.files(__package__).joinpath(f"{suite}.yaml")
        return parse_suite(resource.read_text(encoding="utf-8"), f"suite {suite}")
    path = Path(suite)
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        raise ConfigError(
            f"unknown suite {str(suite)!r}: give one of {builtin_suites()} or a suite YAML file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the suite: {error}", path) from None
    return parse_suite(text, str(path))


def parse_suite(text: str, where: str) -> Suite:
    """A suite from its YAML text; ``ConfigError`` naming ``where`` and the entry."""
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: not YAML ({' '.join(str(error).split())})") from None
    if not isinstance(values, dict) or not isinstance(values.get("tasks"), list):
        raise ConfigError(f"{where}: a suite is a mapping with a list of tasks")
    unknown = sorted(set(values) - {"name", "description", "tasks"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {', '.join(unknown)}")
    tasks: list[dict[str, Any]] = []
    names: set[str] = set()
    for number, entry in enumerate(values["tasks"], start=1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: task {number} is not a mapping")
        extra = sorted(set(entry) - set(ENTRY_FIELDS))
        if extra:
            raise ConfigError(
                f"{where}: task {number}: unknown field {', '.join(extra)}; "
                f"fields: {', '.join(ENTRY_FIELDS)}"
            )
        for required in ("name", "family", "query"):
            if not entry.get(required):
                raise ConfigError(f"{where}: task {number} has no {required}")
        if entry["name"] in names:
            raise ConfigError(f"{where}: task name {entry['name']!r} is there twice")
        names.add(str(entry["name"]))
        fields = dict(entry)
        if "split_ratios" in fields:
            fields["split_ratios"] = tuple(float(r) for r in fields["split_ratios"])
        tasks.append(fields)
    if not tasks:
        raise ConfigError(f"{where}: the suite has no tasks")
    return Suite(
        str(values.get("name") or Path(where).stem),
        str(values.get("description") or ""),
        tuple(tasks),
        where,
    )


def suite_entries(suite: Suite) -> list[tuple[str, str, str, str]]:
    """``(name, family, query, answer)`` of each task (views as written)."""
    return [
        (str(t["name"]), str(t["family"]), str(t["query"]), str(t.get("answer") or ""))
        for t in suite.tasks
    ]


__all__ = [
    "ENTRY_FIELDS",
    "Suite",
    "builtin_suites",
    "load_suite",
    "parse_suite",
    "suite_entries",
]
