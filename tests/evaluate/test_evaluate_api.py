"""``empathynet.evaluate(dataset, tasks, model)``: a model object or a baseline scored in
memory; third-party implementations through entry points."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import empathynet
from conftest import write_small_task_dataset
from empathynet.errors import ConfigError
from empathynet.evaluate.baselines import run_baseline
from empathynet.evaluate.predictions import PredictionError
from empathynet.registry import Registry


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_task_dataset(tmp_path_factory.mktemp("api") / "ds")


class Memoriser:
    """Learns each train text's class; says "neutral" for texts it has not seen."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}
        self.seen: list[Mapping[str, Any]] = []

    def fit(self, split: Any) -> None:
        for item in split:
            self.known[item["query"]["text"]] = item["label"]

    def predict_labels(self, items: Sequence[Mapping[str, Any]]) -> list[str]:
        self.seen += items
        return [self.known.get(item["query"]["text"], "neutral") for item in items]


class FirstOption:
    def choose(self, items: Sequence[Mapping[str, Any]]) -> list[np.int64]:
        assert all("answer_index" not in item for item in items)  # no answers given
        return [np.int64(0) for _ in items]


class UniformBytes:
    def log_likelihood(self, items: Sequence[Mapping[str, Any]]) -> list[float]:
        return [-float(item["target"].size) * np.log(256.0) for item in items]


def test_a_model_object_per_family(dataset: Path) -> None:
    model = Memoriser()
    results = empathynet.evaluate(dataset, ["cls"], model, split="train", bootstrap=0)
    assert results["cls"]["metrics"]["top1"]["value"] == 1.0  # it saw train
    assert all("label" not in item and "label_index" not in item for item in model.seen)
    assert results["cls"]["predictions"]["file"] == "<predictions of Memoriser>"
    mcq = empathynet.evaluate(dataset, "mcq", FirstOption())["mcq"]
    answers = empathynet.open_dataset(dataset).task("mcq").split("test").items["answer_index"]
    expected = float(np.mean(np.asarray(answers.to_pylist()) == 0))
    assert mcq["metrics"]["accuracy"]["value"] == pytest.approx(expected)
    gen = empathynet.evaluate_model(dataset, ["gen"], UniformBytes())["gen"]
    assert gen["metrics"]["bits_per_dim"]["value"] == pytest.approx(8.0)


def test_a_baseline_by_name_scores_as_the_command_does(dataset: Path) -> None:
    in_memory = empathynet.evaluate(dataset, ["cls"], "text-tfidf")["cls"]
    written = run_baseline(dataset, "cls", "text-tfidf")
    assert written.results is not None
    assert in_memory["metrics"] == written.results.to_dict()["metrics"]


def test_models_that_cannot_answer(dataset: Path) -> None:
    with pytest.raises(ConfigError, match="has no choose"):
        empathynet.evaluate(dataset, ["mcq"], Memoriser())

    class Short:
        def choose(self, items: Sequence[Any]) -> list[int]:
            return [0]

    with pytest.raises(ConfigError, match="returned 1 predictions"):
        empathynet.evaluate(dataset, ["mcq"], Short())

    class Bad:
        def choose(self, items: Sequence[Any]) -> list[int]:
            return [7 for _ in items]

    with pytest.raises(PredictionError, match="<predictions of Bad>"):
        empathynet.evaluate(dataset, ["mcq"], Bad())
    with pytest.raises(ConfigError, match="no task"):
        empathynet.evaluate(dataset, [], FirstOption())


def test_the_package_is_still_a_package() -> None:
    from empathynet.evaluate import score_task

    assert callable(empathynet.evaluate) and empathynet.evaluate.score_task is score_task
    assert "evaluate" in empathynet.__all__ and "open_dataset" in empathynet.__all__


def test_plugins_come_from_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed package declares implementations in an entry-point group; one that
    fails to load is named when asked for, and the others stay usable."""
    package = tmp_path / "empathy_plugin"
    package.mkdir()
    (package / "__init__.py").write_text("class Good:\n    pass\n")
    info = tmp_path / "empathy_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: empathy-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[empathynet.test_things]\n"
        "good = empathy_plugin:Good\n"
        "broken = empathy_plugin:Missing\n"
        "builtin = empathy_plugin:Good\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry: Registry[object] = Registry("thing", "empathynet.test_things")
    registry.add("builtin", object())
    assert registry.get("good").__name__ == "Good"  # type: ignore[attr-defined]
    assert registry.names() == ["builtin", "good"]
    with pytest.raises(ConfigError, match=r"thing 'broken': entry point .* failed to load"):
        registry.get("broken")
    with pytest.raises(ConfigError, match="named like a built-in"):
        registry.get("builtin")
    sys.modules.pop("empathy_plugin", None)
