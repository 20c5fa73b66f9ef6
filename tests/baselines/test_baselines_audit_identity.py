"""The identity audit sees the query's speaker, not only its source: distractors drawn
from the answer's source but from its other speakers leak through a recognised voice or
face, and the audit must say so (the same-source leak is in test_baselines_audits.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathynet.evaluate.audits import audit_task
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.testing.synthetic import write_synthetic_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 cue groups (no media), 3 known speakers per source."""
    root = tmp_path_factory.mktemp("identity") / "ds"
    write_synthetic_dataset(
        root,
        cue_groups=3_000,
        sources=20,
        speakers_per_source=3,
        unknown_speaker_share=0.0,
        labels_in_manifest=True,
        attributes_in_manifest=True,
    )
    common = {"family": "mcq", "query": "stills", "answer": "text", "split_ratios": (0.5, 0.1, 0.4)}
    # Every option from the answer's source: "same source" tells nothing, "same
    # speaker" points at the answer.
    make_task(root, TaskRequest(name="same-source", distractors="same-source", **common))
    make_task(root, TaskRequest(name="same-speaker", **common))
    return root


def test_distractors_from_other_speakers_of_the_source_leak_identity(dataset: Path) -> None:
    report = audit_task(dataset, "same-source", write=False)
    shortcuts = {s.name: s for s in report.shortcuts}
    identity = shortcuts["identity"]
    assert identity.items >= 500
    assert identity.passed is False and identity.p_value is not None and identity.p_value <= 0.01
    assert identity.accuracy is not None and identity.accuracy > 0.3
    assert report.failures == ["identity"]


def test_distractors_from_the_answers_speaker_do_not(dataset: Path) -> None:
    report = audit_task(dataset, "same-speaker", write=False)
    identity = next(s for s in report.shortcuts if s.name == "identity")
    assert identity.items >= 500 and identity.passed is True
