"""Taxonomy descriptions and examples: optional, round-trip, old files and YAML unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathynet.errors import ConfigError
from empathynet.labels import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy, write_taxonomy
from empathynet.labels.taxonomy import taxonomy_yaml

#: The default taxonomy's YAML as written before descriptions existed: must not change
#: (the cue table's fingerprint hashes it).
DEFAULT_YAML = (
    "age_bands: [child, teen, young_adult, adult, senior]\n"
    "classes: [anger, disgust, fear, joy, neutral, sadness, surprise]\n"
    "genders: [female, male, other]\n"
)


def test_taxonomies_without_documentation_write_the_same_yaml_as_before() -> None:
    assert taxonomy_yaml(DEFAULT_TAXONOMY).decode() == DEFAULT_YAML


def test_descriptions_and_examples_round_trip_in_class_order(tmp_path: Path) -> None:
    taxonomy = Taxonomy(
        classes=("joy", "anger"),
        descriptions=(("anger", 'shouting: "no!" — très fâché\nsecond line'), ("joy", "laughs")),
        examples=(("joy", ("cue-1", "cue-2")),),
    )
    assert [name for name, _ in taxonomy.descriptions] == ["joy", "anger"]
    path = tmp_path / "taxonomy.yaml"
    write_taxonomy(path, taxonomy)
    back = load_taxonomy(path)
    assert back.descriptions == taxonomy.descriptions
    assert back.examples == taxonomy.examples
    assert back.description_of("anger") == 'shouting: "no!" — très fâché\nsecond line'
    assert back.examples_of("anger") == ()
    # documentation does not make two taxonomies differ (votes compare classes only)
    assert back == Taxonomy(classes=("joy", "anger"))


def test_old_files_stay_valid_and_bad_documentation_is_named(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("classes: [joy, anger]\n", encoding="utf-8")
    assert load_taxonomy(path).descriptions == ()
    for text, message in (
        ("classes: [joy]\ndescriptions: {fear: scared}\n", "not among the classes"),
        ("classes: [joy]\ndescriptions: [joy]\n", "descriptions must map"),
        ("classes: [joy]\ndescriptions: {joy: '  '}\n", "non-empty"),
        ("classes: [joy]\nexamples: {joy: cue-1}\n", "list of texts"),
    ):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message) as caught:
            load_taxonomy(path)
        assert str(path) in str(caught.value)
