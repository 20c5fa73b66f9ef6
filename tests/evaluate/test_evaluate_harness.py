"""score_task and ``empathynet evaluate`` on synthetic tasks: figures, CIs, results JSON."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn import metrics as sk

from empathynet.cli import evaluate as evaluate_cli
from empathynet.errors import ConfigError, DatasetError
from empathynet.evaluate import PredictionError, score_task, write_results
from empathynet.labels import import_labels
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.mcq import FAMILY_VERSION
from empathynet.tasks.spec import TaskLayout, read_spec_values
from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv

CLS, MCQ, GEN = "cls-text", "mcq-stills-to-audio_blur", "gen-text-from-stills"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evaluate") / "ds"
    made = write_synthetic_dataset(root, cue_groups=3000, sources=40)
    import_labels(root, write_votes_csv(root.parent / "votes.csv", made.truth, agreement=0.85))
    make_task(root, TaskRequest(family="classification", query="text"))
    make_task(root, TaskRequest(family="mcq", query="stills", answer="audio_blur"))
    make_task(root, TaskRequest(family="generation", query="stills", answer="text"))
    return root


def split_items(dataset: Path, name: str, split: str = "test") -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(
        TaskLayout(dataset, name).items(split)
    ).to_pylist()
    return rows


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_classification_scores_match_sklearn(dataset: Path, tmp_path: Path) -> None:
    items = split_items(dataset, CLS)
    classes = read_spec_values(dataset, CLS)["labels"]["classes"]
    rng = np.random.default_rng(3)
    y_true = np.array([int(str(r["label_index"])) for r in items])
    scores = rng.normal(size=(len(items), len(classes))) + 1.2 * np.eye(len(classes))[y_true]
    path = write_jsonl(
        tmp_path / "scores.jsonl",
        [
            {"item_id": r["item_id"], "scores": dict(zip(classes, map(float, s), strict=True))}
            for r, s in zip(items, scores, strict=True)
        ],
    )
    results = score_task(dataset, CLS, path, bootstrap=500)
    y_pred = scores.argmax(axis=1)
    labels = list(range(len(classes)))
    figures = results.metrics
    assert figures["top1"].value == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert figures["top5"].value == pytest.approx(
        sk.top_k_accuracy_score(y_true, scores, k=5, labels=labels)
    )
    assert figures["macro_f1"].value == pytest.approx(
        sk.f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
    assert figures["weighted_f1"].value == pytest.approx(
        sk.f1_score(y_true, y_pred, average="weighted", zero_division=0)
    )
    assert (
        results.details["confusion_matrix"]["counts"]
        == sk.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    )
    for figure in figures.values():
        assert figure.low is not None and figure.high is not None
        assert figure.low <= figure.value <= figure.high and figure.high - figure.low < 0.3
    recall = sk.recall_score(y_true, y_pred, labels=labels, average=None, zero_division=np.nan)
    for c, name in enumerate(classes):
        got = results.details["per_class"][name]["recall"]["value"]
        assert (got is None and math.isnan(recall[c])) or got == pytest.approx(recall[c])
    # labels only: no top-5; perfect labels score 1 everywhere
    perfect = write_jsonl(
        tmp_path / "perfect.jsonl", [{"item_id": r["item_id"], "label": r["label"]} for r in items]
    )
    exact = score_task(dataset, CLS, perfect, bootstrap=200)
    assert set(exact.metrics) == {"top1", "macro_f1", "weighted_f1"}
    assert all(f.value == 1.0 and f.low == 1.0 for f in exact.metrics.values())


def test_mcq_accuracy_vs_chance_and_seeded_intervals(dataset: Path, tmp_path: Path) -> None:
    items = split_items(dataset, MCQ)
    assert len(items) > 50
    rng = np.random.default_rng(0)
    right = rng.random(len(items)) < 0.6
    rows = [
        {
            "item_id": r["item_id"],
            "choice": int(str(r["answer_index"])) if ok else (int(str(r["answer_index"])) + 1) % 4,
        }
        for r, ok in zip(items, right, strict=True)
    ]
    path = write_jsonl(tmp_path / "choices.jsonl", rows)
    first = score_task(dataset, MCQ, path, seed=5, bootstrap=400)
    again = score_task(dataset, MCQ, path, seed=5, bootstrap=400)
    other = score_task(dataset, MCQ, path, seed=6, bootstrap=400)
    accuracy = first.metrics["accuracy"]
    assert accuracy.value == pytest.approx(right.mean())
    assert (accuracy.low, accuracy.high) == (
        again.metrics["accuracy"].low,
        again.metrics["accuracy"].high,
    )
    assert (accuracy.low, accuracy.high) != (
        other.metrics["accuracy"].low,
        other.metrics["accuracy"].high,
    )
    # the interval is close to the normal approximation of a binomial share
    half = 1.96 * math.sqrt(right.mean() * (1 - right.mean()) / len(items))
    assert accuracy.high - accuracy.low == pytest.approx(2 * half, rel=0.25)
    assert first.details["chance"] == 0.25 and first.details["p_value_vs_chance"] < 1e-6
    data = first.to_dict()
    assert data["metrics"]["accuracy"]["ci95"] == [accuracy.low, accuracy.high]
    assert data["bootstrap"]["seed"] == 5 and data["bootstrap"]["resamples"] == 400
    assert (
        data["dataset"]["fingerprint"] == read_spec_values(dataset, MCQ)["dataset"]["fingerprint"]
    )


def test_generation_bits_per_byte(dataset: Path, tmp_path: Path) -> None:
    items = split_items(dataset, GEN)
    dims = np.array([int(str(r["target_dims"])) for r in items])
    # a uniform byte model: exactly 8 bits per byte, on every resample too
    path = write_jsonl(
        tmp_path / "uniform.jsonl",
        [
            {"item_id": r["item_id"], "logprob": -d * math.log(256)}
            for r, d in zip(items, dims, strict=True)
        ],
    )
    results = score_task(dataset, GEN, path, bootstrap=300)
    figure = results.metrics["bits_per_dim"]
    assert figure.value == pytest.approx(8.0) and figure.low == pytest.approx(8.0)
    assert results.details["unit"] == "bits per byte"
    assert results.details["total_dims"] == int(dims.sum())


def test_errors(dataset: Path, tmp_path: Path) -> None:
    items = split_items(dataset, MCQ, "validation")
    path = write_jsonl(
        tmp_path / "val.jsonl", [{"item_id": r["item_id"], "choice": 0} for r in items]
    )
    with pytest.raises(PredictionError, match=r"unknown item_id .* not an item of the test split"):
        score_task(dataset, MCQ, path)
    assert (
        score_task(dataset, MCQ, path, split="validation", bootstrap=0).metrics["accuracy"].low
        is None
    )
    with pytest.raises(ConfigError, match="unknown split"):
        score_task(dataset, MCQ, path, split="dev")
    with pytest.raises(ConfigError, match="--bootstrap"):
        score_task(dataset, MCQ, path, bootstrap=-1)
    with pytest.raises(DatasetError, match="no task"):
        score_task(dataset, "absent", path)


def test_cli_prints_table_and_writes_results(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = split_items(dataset, MCQ)
    path = write_jsonl(
        tmp_path / "zeros.jsonl", [{"item_id": r["item_id"], "choice": 0} for r in items]
    )
    parser = argparse.ArgumentParser()
    evaluate_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["evaluate", str(dataset), MCQ, str(path), "--bootstrap", "200"])
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "chance (1/N)" in printed and "95% CI" in printed
    written = dataset / "reports" / "results" / f"{MCQ}-test-zeros.json"
    data = json.loads(written.read_text(encoding="utf-8"))
    assert data["task"]["name"] == MCQ and data["task"]["family_version"] == FAMILY_VERSION
    assert data["split"] == "test" and data["items"] == len(items)
    assert data["predictions"]["field"] == "choice" and len(data["predictions"]["sha256"]) == 64
    assert data["empathynet_version"] and data["date"] and data["bootstrap"]["resamples"] == 200
    args = parser.parse_args(["evaluate", str(dataset), MCQ, str(path), "--json", "--seed", "3"])
    assert args.run(args) == 0
    assert json.loads(capsys.readouterr().out)["bootstrap"]["seed"] == 3
    assert write_results(dataset, score_task(dataset, MCQ, path, bootstrap=0)) == written
