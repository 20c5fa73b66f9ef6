"""Typed configuration, read the same way by the Python API and the command line.

Each part of the flow has one frozen dataclass of options with documented units.
``from_mapping`` builds one from a plain mapping (a YAML file, CLI options) and
rejects unknown keys and wrong types with a ``ConfigError`` naming the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from empathynet.errors import ConfigError

C = TypeVar("C")


@dataclass(frozen=True)
class SubtitleConfig:
    """How subtitle events become whole-sentence utterances.

    Times are integer milliseconds.
    """

    #: Largest silence between two events that may still continue one sentence.
    merge_gap_ms: int = 1500
    #: A merged sentence never grows beyond this; longer runs are kept as separate utterances.
    max_sentence_ms: int = 30_000
    #: Events longer than this are absurd (a subtitle on screen for > 10 minutes) and dropped.
    max_event_ms: int = 600_000
    #: Events starting after this are absurd (beyond a 24-hour programme) and dropped.
    max_time_ms: int = 24 * 3_600_000
    #: Overlaps up to this long are trimmed silently-but-counted; longer ones are reported.
    overlap_tolerance_ms: int = 200
    #: Keep utterances that are only a sound tag (no words) as non-verbal cues.
    keep_nonverbal_only: bool = False


@dataclass(frozen=True)
class EmpathyNetConfig:
    """All options, grouped by part of the flow."""

    subtitles: SubtitleConfig = field(default_factory=SubtitleConfig)


def _check_type(cls_name: str, key: str, value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{cls_name}.{key} must be a mapping, got {type(value).__name__}")
        return from_mapping(annotation, value)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            if option is type(None) and value is None:
                return None
            try:
                return _check_type(cls_name, key, value, option)
            except ConfigError:
                continue
        raise ConfigError(f"{cls_name}.{key}: {value!r} does not match {annotation}")
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{cls_name}.{key} must be true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{cls_name}.{key} must be an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{cls_name}.{key} must be a number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{cls_name}.{key} must be a string, got {value!r}")
        return value
    return value


def from_mapping(cls: type[C], values: Mapping[str, Any]) -> C:
    """Build the config dataclass ``cls`` from ``values``, checking keys and types."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"unknown option(s) for {cls.__name__}: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    kwargs = {
        key: _check_type(cls.__name__, key, value, hints[key]) for key, value in values.items()
    }
    return cls(**kwargs)


def to_mapping(config: Any) -> dict[str, Any]:
    """A config dataclass -> a plain dict (for ``dataset.json`` and hashing)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"{config!r} is not a dataclass instance")
    return dataclasses.asdict(config)
