"""Task families live in a registry: making, checking and scoring ask the family."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from empathynet.errors import DatasetError
from empathynet.evaluate import score_task
from empathynet.evaluate.api import MODEL_METHODS
from empathynet.evaluate.predictions import FIELDS
from empathynet.tasks.families import TASK_FAMILIES, Classification, family_names, task_family
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.spec import TaskLayout, read_items, read_spec
from empathynet.testing.synthetic import write_synthetic_dataset


def test_the_built_in_families() -> None:
    assert family_names()[:3] == ("classification", "mcq", "generation")
    for name in family_names():
        family = task_family(name)
        assert family.prediction_format in FIELDS
        assert MODEL_METHODS[name] == family.model_method
    assert task_family("mcq").truth_column == "answer_index"
    assert not task_family("generation").labelled


class Sentences(Classification):
    """A family of one's own: classification under another name (as a plugin would add)."""

    name = "sentence-class"
    version = 7


@pytest.fixture
def plugin() -> Iterator[Sentences]:
    family = Sentences()
    TASK_FAMILIES.add(family.name, family)
    try:
        yield family
    finally:
        TASK_FAMILIES._items.pop(family.name)


def test_a_registered_family_is_made_and_scored_through_the_registry(
    plugin: Sentences, tmp_path: Path
) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(root, cue_groups=60, sources=6, labels_in_manifest=True)
    made = make_task(root, TaskRequest(family=plugin.name, query="text", name="own"))
    spec = read_spec(root, "own")
    assert spec.family == plugin.name and spec.family_version == 7 and made.items["test"] > 0
    rows = read_items(root, "own", "test").to_pylist()
    path = tmp_path / "preds.jsonl"
    path.write_text(
        "".join(json.dumps({"item_id": r["item_id"], "label": r["label"]}) + "\n" for r in rows)
    )
    results = score_task(root, "own", path)
    assert results.metrics["top1"].value == 1.0


def test_a_spec_of_an_unknown_family_names_the_file(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(root, cue_groups=60, sources=6, labels_in_manifest=True)
    make_task(root, TaskRequest(family="classification", query="text", name="t"))
    layout = TaskLayout(root, "t")
    layout.spec.write_text(
        layout.spec.read_text().replace("family: classification", "family: poetry")
    )
    with pytest.raises(DatasetError, match="unknown family 'poetry'") as caught:
        read_spec(root, "t")
    assert "spec.yaml" in str(caught.value)
