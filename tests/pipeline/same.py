"""Comparing a dataset with a reference build of the same media."""

from __future__ import annotations

from pathlib import Path

from empathynet.pipeline.build import read_manifest


def assert_same_rows(dataset: Path, reference: Path) -> None:
    """Every cue row (every field) is the reference's, and no temporary file is left."""
    rows, expected = read_manifest(dataset), read_manifest(reference)
    assert [(r.cue_id, r.status, r.reason) for r in rows] == [
        (r.cue_id, r.status, r.reason) for r in expected
    ]
    assert [repr(r) for r in rows] == [repr(r) for r in expected]  # repr: NaN equals NaN
    assert not list(dataset.rglob("*.tmp"))
