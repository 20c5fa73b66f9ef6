"""The dataset card: every figure it shows is the dataset's own."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from empathynet.evaluate.baselines import run_baseline
from empathynet.export.card import dataset_card
from empathynet.labels import import_labels
from empathynet.labels.agreement import annotator_agreement
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.testing.synthetic import (
    SyntheticDataset,
    write_synthetic_dataset,
    write_votes_csv,
)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    root = tmp_path_factory.mktemp("card") / "ds"
    dataset = write_synthetic_dataset(root, cue_groups=60, sources=4, rejected=5, seed=3)
    import_labels(root, write_votes_csv(root.parent / "votes.csv", dataset.truth, seed=2))
    made = make_task(root, TaskRequest(family="classification", query="stills+text"))
    run_baseline(root, made.name, "majority", split="test")
    return dataset


def test_card_without_votes_says_so(tmp_path: Path) -> None:
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=8, sources=2, rejected=2)
    card = dataset_card(dataset.root)
    assert card.startswith("# ds\n")
    assert "- accepted cue groups: 8" in card
    assert "  - rejected no_face: 2" in card
    assert "No votes: annotator agreement is not known." in card
    assert "No labels yet" in card
    assert "No tasks yet." in card
    # sources without a recorded licence are listed as unknown, one table row each
    rows = [line for line in card.splitlines() if re.match(r"\| [0-9a-f]{16} \|", line)]
    assert len(rows) == 2 and all("| unknown |" in row for row in rows)


def test_card_counts_classes_agreement_and_splits(labelled: SyntheticDataset) -> None:
    root = labelled.root
    card = dataset_card(root)
    assert "- sources: 4 (0 failed)" in card
    assert "- utterances (manifest rows): 65" in card
    assert "- accepted cue groups: 60" in card
    assert "- rejected: 5; failed: 0" in card

    aggregate = pq.read_table(root / "labels" / "aggregate.parquet")
    classes = Counter(c for c in aggregate.column("label").to_pylist() if c is not None)
    total = sum(classes.values())
    for name, count in classes.items():
        assert re.search(rf"^\| {name} \| {count} \| {count / total:.1%} \|", card, re.M), name

    # the class table has one column per split and each split's column sums to its size
    head = next(line for line in card.splitlines() if line.startswith("| class |"))
    splits = [cell.strip() for cell in head.strip("|").split("|")][3:]
    assert splits == ["train", "validation", "test"]
    total_row = next(line for line in card.splitlines() if line.startswith("| total |"))
    per_split = [int(c) for c in total_row.strip("|").split("|")[3:]]
    task_line = next(line for line in card.splitlines() if "| classification |" in line)
    assert per_split == [int(c) for c in task_line.strip("|").split("|")[2:]]
    assert sum(per_split) > 0

    agreement = annotator_agreement(root)
    assert f"Krippendorff's alpha (nominal): {agreement.alpha.text()}" in card
    assert f"Fleiss' kappa: {agreement.kappa.text()}" in card
    assert f"{agreement.votes} votes, 3 annotators" in card
    assert "- duration: median " in card

    # the baseline's results file under reports/results/ is in the baselines table
    (results_file,) = (root / "reports" / "results").glob("*.json")
    results = json.loads(results_file.read_text(encoding="utf-8"))
    top1 = results["metrics"]["top1"]
    low, high = top1["ci95"]
    row = f"| test | {results_file.stem.removeprefix(results['task']['name'] + '-test-')} | top1 |"
    assert row in card
    assert f"{top1['value']:.3f} [{low:.3f}, {high:.3f}]" in card
    assert "## Limitations" in card and "## Intended use" in card
