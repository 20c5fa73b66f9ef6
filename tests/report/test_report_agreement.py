"""The report's "Annotator agreement" section: α and κ with intervals when the dataset
has votes, nothing when it has none."""

from __future__ import annotations

import re
from pathlib import Path

from empathynet.labels import import_labels
from empathynet.labels.agreement import annotator_agreement
from empathynet.report import render_report
from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv


def test_agreement_section_only_with_votes(tmp_path: Path) -> None:
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=40, sources=3)
    assert "Annotator agreement" not in render_report(dataset.root)

    votes = write_votes_csv(tmp_path / "v.csv", dataset.truth, annotators=3, seed=4)
    import_labels(dataset.root, votes)
    page = render_report(dataset.root)
    assert '<h2 id="agreement">Annotator agreement</h2>' in page
    result = annotator_agreement(dataset.root)
    assert result.alpha.value is not None and result.kappa.value is not None
    shown = dict(re.findall(r'data-figure="(\w+)">([-0-9.]+)<', page))
    assert shown == {
        "alpha": f"{result.alpha.value:.3f}",
        "kappa": f"{result.kappa.value:.3f}",
        "cue_groups": "40",
        "left_out": "0",
        "votes": "120",
        "annotators": "3",
    }
    assert f"{result.alpha.low:.3f} \u2013 {result.alpha.high:.3f}" in page
    assert "MELD reports Fleiss\u2019 \u03ba 0.43" in page
    assert "Landis &amp; Koch" in page
