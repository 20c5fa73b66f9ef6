"""Taxonomy files: the default, class groups, and every way a file can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathynet.errors import ConfigError
from empathynet.labels import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy, write_taxonomy


def test_default_taxonomy_has_the_seven_classes_and_no_groups() -> None:
    assert DEFAULT_TAXONOMY.classes == (
        "anger",
        "disgust",
        "fear",
        "joy",
        "neutral",
        "sadness",
        "surprise",
    )
    assert not DEFAULT_TAXONOMY.grouped
    # without groups, each class is its own exclusion group
    assert DEFAULT_TAXONOMY.group_index_of_classes() == tuple(range(7))
    assert DEFAULT_TAXONOMY.canonical_label(" Joy ") == "joy"
    assert DEFAULT_TAXONOMY.canonical_label("happy") is None


def test_grouped_taxonomy_round_trips_through_yaml(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(
        "classes: [anger, joy, neutral, sadness]\n"
        "class_groups:\n"
        "  negative: [anger, sadness]\n"
        "  positive: [joy]\n"
        "  neutral: [neutral]\n"
        "genders: [female, male]\n",
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(path)
    assert taxonomy.grouped
    assert taxonomy.group_of("sadness") == "negative"
    assert taxonomy.group_names == ("negative", "neutral", "positive")
    assert taxonomy.group_index_of_classes() == (0, 2, 1, 0)
    assert taxonomy.genders == ("female", "male")
    assert taxonomy.age_bands == DEFAULT_TAXONOMY.age_bands
    copy = tmp_path / "copy.yaml"
    write_taxonomy(copy, taxonomy)
    assert load_taxonomy(copy) == taxonomy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("classes: []\n", "classes must not be empty"),
        ("classes: [joy, joy]\n", "more than once"),
        ("classes: [joy, 'bad name']\n", "not a lower-case name"),
        ("labels: [joy]\n", "unknown keys"),
        ("genders: [female]\n", "'classes' is missing"),
        (
            "classes: [joy, anger]\nclass_groups: {a: [joy], b: [joy, anger]}\n",
            "in two groups",
        ),
        ("classes: [joy, anger]\nclass_groups: {a: [joy, fear]}\n", "not one of the classes"),
        ("classes: [joy, anger]\nclass_groups: {a: [joy]}\n", "in no class group"),
        ("classes: [joy\n", "cannot read taxonomy"),
    ],
)
def test_bad_taxonomy_files_name_the_file_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_taxonomy(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_taxonomy_checks_itself_when_built_in_code() -> None:
    with pytest.raises(ConfigError, match="in no class group"):
        Taxonomy(classes=("joy", "anger"), class_groups=(("good", ("joy",)),))
