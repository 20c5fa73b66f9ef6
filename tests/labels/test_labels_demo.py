"""The demo's labels file: covers every cue group, imports cleanly, has no ties."""

from __future__ import annotations

from pathlib import Path

from empathynet.demo.labels import (
    ANNOTATORS,
    DEMO_VOTES,
    demo_label_rows,
    write_demo_labels,
)
from empathynet.labels import import_labels
from empathynet.testing.synthetic import write_synthetic_dataset


def test_demo_sentences_get_their_written_votes() -> None:
    rows = demo_label_rows([("b-000000002", "Hello again."), ("a-000000001", "Unplanned line.")])
    assert [r[0] for r in rows] == ["a-000000001"] * 3 + ["b-000000002"] * 3
    assert tuple(r[2] for r in rows[3:]) == DEMO_VOTES["Hello again."]
    assert len({r[2] for r in rows[:3]}) == 1  # an unplanned sentence: unanimous
    assert {r[1] for r in rows} == set(ANNOTATORS)
    for votes in DEMO_VOTES.values():
        top = max(votes.count(v) for v in votes)
        assert sum(votes.count(v) == top for v in set(votes)) == 1, votes  # never a tie


def test_demo_labels_cover_every_accepted_cue_group(tmp_path: Path) -> None:
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=9, sources=2, rejected=3)
    path = write_demo_labels(dataset.root, tmp_path / "demo-labels.csv")
    result = import_labels(dataset.root, path)
    assert result.votes_read == 9 * len(ANNOTATORS)
    assert result.cues_labelled == 9 and result.cues_tied == 0
