"""Dawid–Skene aggregation: recovers the truth better than majority from annotators of
known quality, finds the spammer, is deterministic; the aggregate records its method
and a confidence per cue group."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from empathynet.cli.main import main as run
from empathynet.errors import ConfigError
from empathynet.labels import LabelsLayout, import_labels, read_aggregate, reaggregate_labels
from empathynet.labels.aggregate import (
    aggregate_method,
    aggregate_model,
    aggregate_votes,
    dawid_skene,
)
from empathynet.labels.taxonomy import DEFAULT_TAXONOMY
from empathynet.testing.synthetic import SyntheticDataset, write_synthetic_dataset

N_CLASSES = 5


def confusion(accuracy: float) -> np.ndarray:
    """A confusion matrix: right with ``accuracy``, else any other class alike."""
    matrix = np.full((N_CLASSES, N_CLASSES), (1 - accuracy) / (N_CLASSES - 1))
    np.fill_diagonal(matrix, accuracy)
    return matrix


#: one good annotator, two noisy ones, one spammer (answers ignore the truth)
ANNOTATORS = (
    confusion(0.9),
    confusion(0.55),
    confusion(0.55),
    np.full((N_CLASSES, N_CLASSES), 1 / N_CLASSES),
)


def simulate(units: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(truth, cue, annotator, label) of every annotator voting on every unit."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, N_CLASSES, units)
    cue, annotator, label = [], [], []
    for unit in range(units):
        for index, matrix in enumerate(ANNOTATORS):
            cue.append(unit)
            annotator.append(index)
            label.append(rng.choice(N_CLASSES, p=matrix[truth[unit]]))
    return truth, np.array(cue), np.array(annotator), np.array(label)


@pytest.mark.parametrize("seed", [0, 1])
def test_dawid_skene_beats_majority_and_finds_the_spammer(seed: int) -> None:
    truth, cue, annotator, label = simulate(500, seed)
    model = dawid_skene(cue, annotator, label, 500, len(ANNOTATORS), N_CLASSES)
    assert model.converged
    counts = np.bincount(cue * N_CLASSES + label, minlength=500 * N_CLASSES).reshape(500, -1)
    majority_right = (counts.argmax(axis=1) == truth).mean()
    ds_right = (model.posterior.argmax(axis=1) == truth).mean()
    assert ds_right > majority_right + 0.05
    assert ds_right > 0.8
    # The spammer's estimated matrix is near uniform; the good annotator's is diagonal.
    assert np.abs(model.confusion[3] - 1 / N_CLASSES).max() < 0.12
    assert np.diag(model.confusion[0]).mean() > 0.8
    assert 0.4 < np.diag(model.confusion[1]).mean() < 0.7
    np.testing.assert_allclose(model.confusion.sum(axis=2), 1.0)
    np.testing.assert_allclose(model.posterior.sum(axis=1), 1.0)
    assert model.prior.sum() == pytest.approx(1.0)


def test_dawid_skene_is_deterministic() -> None:
    _, cue, annotator, label = simulate(200, 7)
    first = dawid_skene(cue, annotator, label, 200, 4, N_CLASSES)
    second = dawid_skene(cue, annotator, label, 200, 4, N_CLASSES)
    assert first.iterations == second.iterations
    np.testing.assert_array_equal(first.posterior, second.posterior)
    np.testing.assert_array_equal(first.confusion, second.confusion)
    stopped = dawid_skene(cue, annotator, label, 200, 4, N_CLASSES, max_iterations=2)
    assert stopped.iterations == 2 and not stopped.converged
    with pytest.raises(ConfigError):
        dawid_skene(cue, annotator, label, 200, 4, N_CLASSES, tolerance=0)


@pytest.fixture
def voted(tmp_path: Path) -> SyntheticDataset:
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=120, sources=4)
    truth_rows = dataset.truth.to_pylist()
    classes = DEFAULT_TAXONOMY.classes
    rng = np.random.default_rng(3)
    lines = ["cue_id,annotator,label"]
    for row in truth_rows:
        right = classes.index(row["label"])
        for name, accuracy in (("good", 0.9), ("noisy1", 0.55), ("noisy2", 0.55), ("spam", None)):
            if accuracy is None:
                code = int(rng.integers(len(classes)))  # the spammer ignores the cue group
            elif rng.random() < accuracy:
                code = right
            else:
                code = (right + 1 + int(rng.integers(len(classes) - 1))) % len(classes)
            lines.append(f"{row['cue_id']},{name},{classes[code]}")
    path = tmp_path / "votes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_labels(dataset.root, path)
    return dataset


def test_majority_aggregate_has_confidence_equal_to_agreement(voted: SyntheticDataset) -> None:
    labels = LabelsLayout(voted.root)
    found = read_aggregate(labels.aggregate)
    assert found is not None
    table = found[0]
    assert table.column("confidence").to_pylist() == table.column("agreement").to_pylist()
    assert aggregate_method(labels.aggregate) == "majority"
    assert aggregate_model(labels.aggregate) is None


def test_reaggregate_with_dawid_skene(voted: SyntheticDataset, tmp_path: Path) -> None:
    labels = LabelsLayout(voted.root)
    truth = {row["cue_id"]: row["label"] for row in voted.truth.to_pylist()}
    majority = read_aggregate(labels.aggregate)
    assert majority is not None
    majority_rows = majority[0].to_pylist()
    summary = reaggregate_labels(voted.root, "unlabelled", "dawid-skene")
    assert summary.votes == 480
    found = read_aggregate(labels.aggregate)
    assert found is not None
    rows = found[0].to_pylist()
    assert aggregate_method(labels.aggregate) == "dawid-skene"
    model = aggregate_model(labels.aggregate)
    assert model is not None and model["converged"] is True
    matrices = model["confusion"]
    assert isinstance(matrices, dict)
    # 120 cue groups give each row ~17 votes: the spammer's matrix is flat up to that
    # noise, the good annotator's strongly diagonal.
    assert np.diag(np.array(matrices["spam"])).mean() < 0.3
    assert np.diag(np.array(matrices["good"])).mean() > 0.75
    # Confidence is the posterior: in (0, 1]; label_votes / votes is still the agreement.
    for row in rows:
        assert 0 < row["confidence"] <= 1
        assert row["agreement"] == pytest.approx(row["label_votes"] / row["votes"])
    ds_right = sum(row["label"] == truth[row["cue_id"]] for row in rows)
    majority_right = sum(row["label"] == truth[row["cue_id"]] for row in majority_rows)
    assert ds_right > majority_right
    # Same votes, same file: deterministic.
    before = labels.aggregate.read_bytes()
    reaggregate_labels(voted.root, "unlabelled", "dawid-skene")
    assert labels.aggregate.read_bytes() == before
    metadata = pq.read_schema(labels.aggregate).metadata
    assert metadata[b"empathynet.aggregate_method"] == b"dawid-skene"
    assert metadata[b"empathynet.tie_rule"] == b"unlabelled"
    # Back to majority: the original aggregate again.
    reaggregate_labels(voted.root)
    back = read_aggregate(labels.aggregate)
    assert back is not None and back[0].to_pylist() == majority_rows
    with pytest.raises(ConfigError, match="unknown aggregation method"):
        reaggregate_labels(voted.root, "unlabelled", "median")


def test_cli_aggregate_method(voted: SyntheticDataset, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["labels", "aggregate", str(voted.root), "--method", "dawid-skene"]) == 0
    assert "method: dawid-skene" in capsys.readouterr().out
    assert run(["labels", "aggregate", str(voted.root), "--method", "dawid-skene", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "dawid-skene"
    assert aggregate_method(LabelsLayout(voted.root).aggregate) == "dawid-skene"


def test_empty_votes_aggregate_is_empty() -> None:
    from empathynet.labels import VOTE_SCHEMA

    table = aggregate_votes(
        VOTE_SCHEMA.empty_table(), DEFAULT_TAXONOMY, "unlabelled", "dawid-skene"
    )
    assert table.num_rows == 0 and "confidence" in table.column_names
