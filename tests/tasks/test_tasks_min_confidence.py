"""``tasks make --min-confidence``: only confident labels make items, the spec records
the rule and the count, and the cue table carries the aggregate's confidence."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from empathynet.cli.main import main as run
from empathynet.errors import ConfigError
from empathynet.labels import import_labels, reaggregate_labels
from empathynet.tasks.cuetable import load_cue_table
from empathynet.tasks.make import (
    MIN_CONFIDENCE_RULE,
    TaskRequest,
    confident_cues,
    make_suite,
    make_task,
)
from empathynet.tasks.spec import read_spec_values
from empathynet.testing.synthetic import (
    SyntheticDataset,
    write_synthetic_dataset,
    write_votes_csv,
)

SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    root = tmp_path_factory.mktemp("confidence") / "ds"
    # Labels in the manifest too: the last 20 cue groups get no votes, so they keep a
    # manifest label without a confidence.
    dataset = write_synthetic_dataset(
        root, cue_groups=400, sources=12, labels_in_manifest=True, rejected=2
    )
    voted = dataset.truth.slice(0, dataset.truth.num_rows - 20)
    votes = write_votes_csv(root.parent / "votes.csv", voted, annotators=3, agreement=0.7)
    import_labels(root, votes)
    return dataset


@pytest.fixture
def dataset(base: SyntheticDataset, tmp_path: Path) -> Path:
    copy = tmp_path / "ds"
    shutil.copytree(base.root, copy)
    return copy


def items(root: Path, name: str) -> pa.Table:
    return pa.concat_tables(
        [pq.read_table(root / "tasks" / name / f"{split}.parquet") for split in SPLITS]
    )


def test_cue_table_carries_confidence(base: SyntheticDataset) -> None:
    cues = load_cue_table(base.root)
    confidence = cues.column("confidence").to_pylist()
    agreement = cues.column("agreement").to_pylist()
    votes = cues.column("votes").to_pylist()
    assert confidence == agreement  # majority: the share of votes
    assert sum(v is None for v in votes) == 20
    assert all((c is None) == (v is None) for c, v in zip(confidence, votes, strict=True))
    assert cues.aggregate_method == "majority"


def test_classification_keeps_only_confident_cue_groups(dataset: Path) -> None:
    cues = load_cue_table(dataset)
    confidence = np.array(
        [np.nan if c is None else c for c in cues.column("confidence").to_pylist()]
    )
    labelled = cues.class_code >= 0
    expected_left_out = int((labelled & ~(confidence >= 0.7)).sum())
    assert expected_left_out > 20  # the 20 without votes, and low-agreement ones

    full = make_task(dataset, TaskRequest("classification", "text", name="all"))
    kept = make_task(
        dataset, TaskRequest("classification", "text", name="sure", min_confidence=0.7)
    )
    assert kept.dropped["below_min_confidence"] == expected_left_out
    assert sum(kept.items.values()) == sum(full.items.values()) - expected_left_out
    assert kept.dropped["tied"] == full.dropped["tied"]
    assert kept.dropped["no_label"] == full.dropped["no_label"]
    table = items(dataset, "sure")
    assert min(table.column("agreement").to_pylist()) >= 0.7
    # Splits are drawn before the threshold: every kept item keeps its split.
    split_of = dict(
        zip(
            items(dataset, "all").column("item_id").to_pylist(),
            items(dataset, "all").column("split").to_pylist(),
            strict=True,
        )
    )
    for item_id, split in zip(
        table.column("item_id").to_pylist(), table.column("split").to_pylist(), strict=True
    ):
        assert split_of[item_id] == split
    spec = read_spec_values(dataset, "sure")
    assert spec["labels"]["min_confidence"] == {
        "threshold": 0.7,
        "rule": MIN_CONFIDENCE_RULE,
        "left_out": expected_left_out,
    }
    assert "min_confidence" not in read_spec_values(dataset, "all")["labels"]
    # Same dataset fingerprint, another spec: a threshold change is a different task.
    assert (
        spec["dataset"]["fingerprint"] == read_spec_values(dataset, "all")["dataset"]["fingerprint"]
    )
    again = make_task(
        dataset, TaskRequest("classification", "text", name="sure", min_confidence=0.7)
    )
    assert again.unchanged
    with pytest.raises(Exception, match="exists with another spec"):
        make_task(dataset, TaskRequest("classification", "text", name="sure", min_confidence=0.8))


def test_mcq_distractors_are_confident_too(dataset: Path) -> None:
    request = TaskRequest(
        "mcq", "text", "stills", name="mcq-sure", min_confidence=0.7, distractors="any"
    )
    made = make_task(dataset, request)
    assert made.dropped["below_min_confidence"] > 0
    cues = load_cue_table(dataset)
    confidence = dict(
        zip(cues.cue_ids().to_pylist(), cues.column("confidence").to_pylist(), strict=True)
    )
    table = items(dataset, "mcq-sure")
    assert table.num_rows > 0
    for options in table.column("option_cue_ids").to_pylist():
        assert all(confidence[o] is not None and confidence[o] >= 0.7 for o in options)


def test_confident_cues_rules(dataset: Path) -> None:
    cues = load_cue_table(dataset)
    same, none = confident_cues(cues, None)
    assert same is cues and none == 0
    everything, zero = confident_cues(cues, 0.0)
    assert zero == 20  # only the labels without votes (no confidence) go
    _, all_voted = confident_cues(cues, 1.0)
    unanimous = sum(c == 1.0 for c in cues.column("confidence").to_pylist())
    assert all_voted == int((cues.class_code >= 0).sum()) - unanimous
    assert (everything.class_code >= 0).sum() == (cues.class_code >= 0).sum() - 20


def test_request_checks() -> None:
    with pytest.raises(ConfigError, match="between 0 and 1"):
        TaskRequest("classification", "text", min_confidence=1.5)
    with pytest.raises(ConfigError, match="not generation"):
        TaskRequest("generation", "stills", "text", min_confidence=0.5)
    assert TaskRequest("classification", "text", min_confidence=1).min_confidence == 1.0


def test_dawid_skene_confidence_changes_the_fingerprint(dataset: Path) -> None:
    majority = load_cue_table(dataset).fingerprint
    reaggregate_labels(dataset, "unlabelled", "dawid-skene")
    cues = load_cue_table(dataset)
    assert cues.aggregate_method == "dawid-skene"
    assert cues.fingerprint != majority
    posterior = [c for c in cues.column("confidence").to_pylist() if c is not None]
    share = [a for a in cues.column("agreement").to_pylist() if a is not None]
    assert posterior != share and all(0 < c <= 1 for c in posterior)
    make_task(dataset, TaskRequest("classification", "text", name="ds", min_confidence=0.9))
    spec = read_spec_values(dataset, "ds")
    assert spec["labels"]["method"] == "dawid-skene"
    assert spec["labels"]["min_confidence"]["left_out"] > 0
    reaggregate_labels(dataset)
    assert load_cue_table(dataset).fingerprint == majority


def test_cli_min_confidence_and_suite(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        [
            "tasks", "make", str(dataset), "--family", "classification", "--query", "text",
            "--min-confidence", "0.7", "--name", "cli-sure",
        ]
    )  # fmt: skip
    assert code == 0
    assert "below_min_confidence" in capsys.readouterr().out
    spec = yaml.safe_load((dataset / "tasks" / "cli-sure" / "spec.yaml").read_text())
    assert spec["labels"]["min_confidence"]["threshold"] == 0.7
    result = make_suite(dataset, "standard", min_confidence=0.7)
    made = {task.name: task for task in result.made}
    assert made["cls-text"].dropped["below_min_confidence"] > 0
    generation = read_spec_values(dataset, "gen-text-from-stills")
    assert "below_min_confidence" not in generation["dropped"]
