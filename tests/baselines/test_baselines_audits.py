"""Audits: a fair MCQ task of over 10,000 test items passes; each kind of leak fails."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.cli.main import main
from empathynet.evaluate.audits import audit_task
from empathynet.tasks.cuetable import load_cue_table
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.spec import TaskLayout
from empathynet.testing.synthetic import write_synthetic_dataset

SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24,000 cue groups (no media); half of them in the test split."""
    root = tmp_path_factory.mktemp("audits") / "ds"
    write_synthetic_dataset(
        root,
        cue_groups=24_000,
        sources=60,
        speakers_per_source=2,
        labels_in_manifest=True,
        attributes_in_manifest=True,
    )
    common: dict[str, Any] = {
        "family": "mcq",
        "query": "stills",
        "answer": "text",
        "split_ratios": (0.45, 0.05, 0.5),
    }
    # Fair: the standard rules (distractors from the answer's speaker, in a duration
    # window that holds the answer at a random place).
    make_task(root, TaskRequest(name="fair", **common))
    # Distractors from any source: identity leaks (duration does not).
    make_task(root, TaskRequest(name="any-source", distractors="any", **common))
    make_task(root, TaskRequest(family="classification", query="text", name="cls"))
    return root


def variant(root: Path, name: str, change: Callable[[str, list[dict[str, Any]]], None]) -> str:
    """A copy of the fair task whose items ``change(split, rows)`` edits in place."""
    source, target = TaskLayout(root, "fair"), TaskLayout(root, name)
    shutil.copytree(source.folder, target.folder)
    for split in SPLITS:
        table = pq.read_table(target.items(split))
        rows = table.to_pylist()
        change(split, rows)
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), target.items(split))
    return name


def results(root: Path, name: str) -> dict[str, bool | None]:
    report = audit_task(root, name)
    return {s.name: s.passed for s in report.shortcuts} | {"leakage": report.leakage_passed}


def test_a_fair_task_passes_every_audit(big: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(big), "fair"]) == 0
    assert "verdict: PASS" in capsys.readouterr().out
    report = json.loads((big / "reports" / "audits" / "fair.json").read_text())
    assert report["passed"] and report["failures"] == []
    assert report["items"] >= 10_000
    for shortcut in report["shortcuts"]:
        assert shortcut["passed"] and shortcut["tolerance_applied"]
        assert abs(shortcut["accuracy"] - 0.25) <= 0.02 and shortcut["p_value"] > 0.01


def test_distractors_from_any_source_leak_identity(
    big: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(big), "any-source"]) == 1
    out = capsys.readouterr().out
    assert "FAIL (leaks: identity)" in out
    outcome = results(big, "any-source")
    assert outcome["identity"] is False
    assert outcome["duration-only"] and outcome["position-only"] and outcome["option-only"]
    assert outcome["leakage"]


def keep_answers_in_the_middle(rows: list[dict[str, Any]], durations: dict[str, int]) -> None:
    """Keep only the items whose answer is neither the shortest nor the longest option
    (what a window centred on the answer does)."""

    def rank(row: dict[str, Any]) -> int:
        ids = row["option_cue_ids"]
        answer = durations[ids[row["answer_index"]]]
        return sum(durations[c] < answer for c in ids)

    rows[:] = [row for row in rows if 0 < rank(row) < len(row["option_cue_ids"]) - 1]


def rotate_answer_to_slot_0(split: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        a = row["answer_index"]
        for column in ("option_cue_ids", "option_text"):
            row[column] = row[column][a:] + row[column][:a]
        row["answer_index"] = 0


def mark_answer_text(split: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row["option_text"][row["answer_index"]] += " indeed"


def test_an_answer_always_in_slot_0_fails_position_only(big: Path) -> None:
    outcome = results(big, variant(big, "slot0", rotate_answer_to_slot_0))
    assert outcome == {
        "option-only": True,
        "position-only": False,
        "duration-only": True,
        "identity": True,
        "length-match": True,
        "leakage": True,
    }


def test_an_answer_in_the_middle_of_the_durations_fails_duration_only(big: Path) -> None:
    cues = load_cue_table(big)
    durations = dict(zip(cues.cue_ids().to_pylist(), cues.duration_ms.tolist(), strict=True))
    outcome = results(
        big, variant(big, "centred", lambda s, rows: keep_answers_in_the_middle(rows, durations))
    )
    assert outcome["duration-only"] is False
    assert outcome["position-only"] and outcome["identity"]


def test_a_word_only_in_answers_fails_option_only(big: Path) -> None:
    outcome = results(big, variant(big, "marked", mark_answer_text))
    assert outcome["option-only"] is False
    assert outcome["position-only"] and outcome["duration-only"] and outcome["identity"]


def test_a_source_in_two_splits_fails_the_leakage_check(big: Path) -> None:
    train_source = pq.read_table(TaskLayout(big, "fair").items("train"))["source_id"][0].as_py()

    def move(split: str, rows: list[dict[str, Any]]) -> None:
        if split == "test":
            rows[0]["source_id"] = train_source

    report = audit_task(big, variant(big, "leaky-split", move))
    assert not report.leakage_passed and not report.passed
    assert report.failures == ["split-leakage"]
    assert train_source in report.leakage and "train" in report.leakage


def test_other_families_get_the_leakage_check(big: Path) -> None:
    report = audit_task(big, "cls")
    assert report.passed and report.shortcuts == []
    assert "split leakage only" in report.notes[0]


def test_a_task_without_test_items_has_nothing_to_audit(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(
        root, cue_groups=12, sources=3, labels_in_manifest=True, attributes_in_manifest=True
    )
    make_task(root, TaskRequest(family="mcq", query="stills", answer="text", name="tiny"))
    report = audit_task(root, "tiny")
    assert report.items == 0 and report.passed
    assert all(s.passed is None for s in report.shortcuts)
    assert "nothing to audit" in report.notes[0]
