"""The label taxonomy of a dataset: its classes, optional class groups, attribute values.

A dataset's taxonomy is ``labels/taxonomy.yaml``; a dataset without one uses
``DEFAULT_TAXONOMY`` (the seven classes anger, disgust, fear, joy, neutral, sadness,
surprise; no class groups). The file::

    classes: [anger, disgust, fear, joy, neutral, sadness, surprise]
    class_groups:               # optional: every class in exactly one group
      negative: [anger, disgust, fear, sadness]
      positive: [joy]
      neutral: [neutral]
      other: [surprise]
    genders: [female, male, other]                            # optional
    age_bands: [child, teen, young_adult, adult, senior]      # optional
    descriptions:               # optional: what a class means, for annotators
      joy: "laughing, teasing, relief"
    examples:                   # optional: cue ids of example cue groups per class
      joy: [0a1b2c3d4e5f6a7b-000012200]

``descriptions`` and ``examples`` document the classes (``empathynet classes apply``
writes them from the clusters it was shown); they do not take part in comparing two
taxonomies, and a taxonomy without them writes exactly the YAML it always did.

Names are lower case (``a-z``, digits, ``_``, ``-``); labels read from annotation files
are matched case-insensitively and stored in the taxonomy's spelling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from empathynet.errors import ConfigError
from empathynet.store.atomic import atomic_write_bytes

DEFAULT_CLASSES: tuple[str, ...] = (
    "anger",
    "disgust",
    "fear",
    "joy",
    "neutral",
    "sadness",
    "surprise",
)
DEFAULT_GENDERS: tuple[str, ...] = ("female", "male", "other")
#: child 0-12, teen 13-19, young_adult 20-34, adult 35-59, senior 60+ (years, as perceived).
DEFAULT_AGE_BANDS: tuple[str, ...] = ("child", "teen", "young_adult", "adult", "senior")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KEYS = ("classes", "class_groups", "genders", "age_bands", "descriptions", "examples")


@dataclass(frozen=True)
class Taxonomy:
    """Classes (in a fixed order: class index = position), class groups, attribute values."""

    classes: tuple[str, ...] = DEFAULT_CLASSES
    #: ``(group, classes)`` pairs, sorted by group name (members in class order); empty
    #: when the taxonomy does not group its classes.
    class_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    genders: tuple[str, ...] = DEFAULT_GENDERS
    age_bands: tuple[str, ...] = DEFAULT_AGE_BANDS
    #: ``(class, description)`` pairs in class order; documentation only: not compared.
    descriptions: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    #: ``(class, example cue ids)`` pairs in class order; documentation only: not compared.
    examples: tuple[tuple[str, tuple[str, ...]], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        _check_names("classes", self.classes, None)
        _check_names("genders", self.genders, None)
        _check_names("age_bands", self.age_bands, None)
        self._settle_documentation()
        if not self.class_groups:
            return
        _check_names("class_groups", tuple(name for name, _ in self.class_groups), None)
        # One canonical form (groups by name, members in class order), so a taxonomy read
        # back from its sorted YAML equals the one written.
        order = {name: i for i, name in enumerate(self.classes)}
        canonical = tuple(
            (group, tuple(sorted(members, key=lambda c: order.get(c, len(order)))))
            for group, members in sorted(self.class_groups)
        )
        object.__setattr__(self, "class_groups", canonical)
        seen: dict[str, str] = {}
        for group, members in self.class_groups:
            if not members:
                raise ConfigError(f"taxonomy: class group {group!r} has no classes")
            for member in members:
                if member not in self.classes:
                    raise ConfigError(
                        f"taxonomy: class group {group!r} names {member!r}, "
                        f"which is not one of the classes {list(self.classes)}"
                    )
                if member in seen:
                    raise ConfigError(
                        f"taxonomy: class {member!r} is in two groups, "
                        f"{seen[member]!r} and {group!r}"
                    )
                seen[member] = group
        missing = [c for c in self.classes if c not in seen]
        if missing:
            raise ConfigError(f"taxonomy: classes {missing} are in no class group")

    def _settle_documentation(self) -> None:
        """Check ``descriptions`` / ``examples`` name classes; put them in class order."""
        order = {name: i for i, name in enumerate(self.classes)}
        for key, pairs in (("descriptions", self.descriptions), ("examples", self.examples)):
            names = [name for name, _ in pairs]
            unknown = [n for n in names if n not in order]
            if unknown:
                raise ConfigError(
                    f"taxonomy: {key} names {unknown}, which are not among the classes "
                    f"{list(self.classes)}"
                )
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ConfigError(f"taxonomy: {key} lists {repeated} more than once")
        for name, text in self.descriptions:
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"taxonomy: the description of {name!r} must be non-empty text")
        for name, values in self.examples:
            if not all(isinstance(v, str) and v.strip() for v in values):
                raise ConfigError(f"taxonomy: the examples of {name!r} must be non-empty texts")
        object.__setattr__(
            self,
            "descriptions",
            tuple(
                sorted(((n, t.strip()) for n, t in self.descriptions), key=lambda p: order[p[0]])
            ),
        )
        object.__setattr__(
            self,
            "examples",
            tuple(
                sorted(
                    ((n, tuple(v.strip() for v in values)) for n, values in self.examples),
                    key=lambda p: order[p[0]],
                )
            ),
        )

    def description_of(self, label: str) -> str | None:
        """The description of class ``label`` (None when it has none)."""
        return dict(self.descriptions).get(label)

    def examples_of(self, label: str) -> tuple[str, ...]:
        """The example cue ids of class ``label`` (empty when it has none)."""
        return dict(self.examples).get(label, ())

    @property
    def grouped(self) -> bool:
        """Whether the classes are grouped (MCQ distractors then differ in group too)."""
        return bool(self.class_groups)

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.class_groups)

    def group_of(self, label: str) -> str | None:
        """The group of class ``label`` (None when the taxonomy has no groups)."""
        for group, members in self.class_groups:
            if label in members:
                return group
        return None

    def group_index_of_classes(self) -> tuple[int, ...]:
        """Per class (taxonomy order) its group's index; the class's own index if ungrouped."""
        if not self.grouped:
            return tuple(range(len(self.classes)))
        names = self.group_names
        return tuple(names.index(self.group_of(c) or "") for c in self.classes)

    def canonical_label(self, value: str) -> str | None:
        """``value`` matched case-insensitively to a class, or None when it is not one."""
        wanted = value.strip().lower()
        return wanted if wanted in self.classes else None

    def to_mapping(self) -> dict[str, Any]:
        """The YAML mapping of this taxonomy (``class_groups``, ``descriptions`` and
        ``examples`` left out when empty)."""
        out: dict[str, Any] = {
            "classes": list(self.classes),
            "genders": list(self.genders),
            "age_bands": list(self.age_bands),
        }
        if self.class_groups:
            out["class_groups"] = {group: list(members) for group, members in self.class_groups}
        if self.descriptions:
            out["descriptions"] = dict(self.descriptions)
        if self.examples:
            out["examples"] = {name: list(values) for name, values in self.examples}
        return out


def _check_names(key: str, names: tuple[str, ...], path: Path | None) -> None:
    if key != "class_groups" and not names:
        raise ConfigError(f"taxonomy: {key} must not be empty", path)
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(
                f"taxonomy: {key} entry {name!r} is not a lower-case name (a-z, 0-9, '_', '-')",
                path,
            )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"taxonomy: {key} lists {duplicates} more than once", path)


DEFAULT_TAXONOMY = Taxonomy()


def _name_list(values: Mapping[str, Any], key: str, path: Path | None) -> tuple[str, ...]:
    raw = values[key]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ConfigError(f"taxonomy: {key} must be a list of names", path)
    return tuple(v.strip().lower() for v in raw)


def _text_list(values: Mapping[str, Any], key: str, path: Path | None) -> tuple[str, ...]:
    raw = values[key]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ConfigError(f"taxonomy: examples of {key!r} must be a list of texts", path)
    return tuple(raw)


def taxonomy_from_mapping(values: Mapping[str, Any], path: Path | None = None) -> Taxonomy:
    """A ``Taxonomy`` from a mapping (a parsed YAML file); ``ConfigError`` names the problem."""
    if not isinstance(values, Mapping):
        raise ConfigError("taxonomy: the file must be a mapping with a 'classes' list", path)
    unknown = sorted(set(values) - set(_KEYS))
    if unknown:
        raise ConfigError(f"taxonomy: unknown keys {unknown}; known: {list(_KEYS)}", path)
    if "classes" not in values:
        raise ConfigError("taxonomy: 'classes' is missing", path)
    kwargs: dict[str, Any] = {"classes": _name_list(values, "classes", path)}
    for key in ("genders", "age_bands"):
        if key in values:
            kwargs[key] = _name_list(values, key, path)
    groups = values.get("class_groups")
    if groups:
        if not isinstance(groups, Mapping):
            raise ConfigError("taxonomy: class_groups must map a group to its classes", path)
        pairs: list[tuple[str, tuple[str, ...]]] = []
        for group in groups:
            if not isinstance(group, str):
                raise ConfigError(f"taxonomy: class group name {group!r} is not text", path)
            pairs.append((group.strip().lower(), _name_list(groups, group, path)))
        kwargs["class_groups"] = tuple(pairs)
    descriptions = values.get("descriptions")
    if descriptions:
        if not isinstance(descriptions, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in descriptions.items()
        ):
            raise ConfigError("taxonomy: descriptions must map a class to a text", path)
        kwargs["descriptions"] = tuple((k.strip().lower(), v) for k, v in descriptions.items())
    examples = values.get("examples")
    if examples:
        if not isinstance(examples, Mapping) or not all(isinstance(k, str) for k in examples):
            raise ConfigError("taxonomy: examples must map a class to a list of cue ids", path)
        kwargs["examples"] = tuple(
            (k.strip().lower(), _text_list(examples, k, path)) for k in examples
        )
    try:
        return Taxonomy(**kwargs)
    except ConfigError as error:
        raise ConfigError(error.message, path) from None


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and check a taxonomy YAML file."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read taxonomy: {' '.join(str(error).split())}", path) from None
    return taxonomy_from_mapping(values, path)


def taxonomy_yaml(taxonomy: Taxonomy) -> bytes:
    """The YAML text of ``taxonomy`` (keys sorted), UTF-8.

    ``descriptions`` and ``examples`` (when any) follow in block style, one class a
    line, so long texts stay readable; without them the text is what it always was.
    """
    mapping = taxonomy.to_mapping()
    documentation = {
        key: mapping.pop(key) for key in ("descriptions", "examples") if key in mapping
    }
    text = yaml.safe_dump(mapping, sort_keys=True, default_flow_style=None)
    if documentation:
        text += yaml.safe_dump(
            documentation, sort_keys=True, default_flow_style=False, allow_unicode=True, width=100
        )
    return text.encode("utf-8")


def write_taxonomy(path: str | Path, taxonomy: Taxonomy) -> None:
    """Write ``taxonomy`` as YAML atomically."""
    atomic_write_bytes(Path(path), taxonomy_yaml(taxonomy))
