"""Annotator agreement: Krippendorff's α and Fleiss' κ equal the libraries' values and the
textbooks' published ones; bootstrap, per class, per annotator, confusion, CLI, CREMA-D."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import krippendorff
import numpy as np
import pyarrow as pa
import pytest
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from conftest import shared_path
from empathynet.cli.main import main as run
from empathynet.errors import DatasetError
from empathynet.labels import VOTE_SCHEMA, Taxonomy, import_labels
from empathynet.labels.agreement import (
    agreement_of_votes,
    alpha_nominal,
    annotator_agreement,
    landis_koch,
    statistics_of_counts,
)
from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv

CLASSES = ("c1", "c2", "c3", "c4", "c5")
TAXONOMY = Taxonomy(classes=CLASSES)


def votes_table(rows: Sequence[tuple[str, str, str]], round_index: int = 1) -> pa.Table:
    """A votes table (``VOTE_SCHEMA``) of ``(cue_id, annotator, label)`` rows."""
    n = len(rows)
    return pa.Table.from_pydict(
        {
            "cue_id": [r[0] for r in rows],
            "annotator": [r[1] for r in rows],
            "label": [r[2] for r in rows],
            "gender": [None] * n,
            "age_band": [None] * n,
            "round": [f"round{round_index}"] * n,
            "round_index": [round_index] * n,
            "file": ["votes.csv"] * n,
            "line": list(range(2, n + 2)),
            "voted_at": [None] * n,
        },
        schema=VOTE_SCHEMA,
    )


def votes_of_matrix(data: np.ndarray, classes: Sequence[str]) -> pa.Table:
    """Votes of a units x coders matrix of class codes (nan: no vote)."""
    rows = []
    for unit, values in enumerate(data):
        for coder, value in enumerate(values):
            if not np.isnan(value):
                rows.append((f"u{unit:04d}", f"coder{coder}", classes[int(value)]))
    return votes_table(rows)


# Fleiss (1971) as on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters each,
# 5 categories: how many raters put each subject in each category. Published κ = 0.210.
FLEISS_1971 = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", nominal example:
# 4 observers (rows) x 12 units (columns), values 1-5, nan = no value. α nominal = 0.743.
N = np.nan
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
        [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
    ]
)


def fleiss_raters_matrix(counts: np.ndarray) -> np.ndarray:
    """Subjects x raters category codes with the given per-subject counts."""
    return np.array([np.repeat(np.arange(counts.shape[1]), row) for row in counts])


def test_fleiss_1971_published_kappa() -> None:
    table, _ = aggregate_raters(fleiss_raters_matrix(FLEISS_1971))
    library = fleiss_kappa(table, method="fleiss")
    assert round(library, 3) == 0.210
    votes = votes_of_matrix(fleiss_raters_matrix(FLEISS_1971).astype(float), CLASSES)
    result = agreement_of_votes(votes, TAXONOMY, resamples=200)
    assert result.kappa.value == pytest.approx(library, abs=1e-12)
    assert round(result.kappa.value, 3) == 0.210
    assert result.kappa_cue_groups == 10 and result.kappa_votes_per_cue_group == 14
    assert result.cue_groups == 10 and result.votes == 140 and result.annotators == 14
    assert statistics_of_counts(FLEISS_1971)[1 + 5] == pytest.approx(library, abs=1e-12)


def test_krippendorff_2011_published_alpha() -> None:
    library = krippendorff.alpha(reliability_data=KRIPPENDORFF_2011, level_of_measurement="nominal")
    assert round(library, 3) == 0.743
    units = KRIPPENDORFF_2011.T - 1  # units x coders, codes 0-4
    result = agreement_of_votes(votes_of_matrix(units, CLASSES), TAXONOMY, resamples=200)
    assert result.alpha.value == pytest.approx(library, abs=1e-12)
    assert round(result.alpha.value, 3) == 0.743
    # Unit 12 has a single value: it does not count; units 1-11 do.
    assert result.cue_groups == 11 and result.cue_groups_left_out == 1
    assert result.votes == 40
    assert result.votes_per_cue_group == {1: 1, 2: 1, 3: 2, 4: 8}
    assert result.kappa_votes_per_cue_group == 4 and result.kappa_cue_groups == 8
    # The numpy formula behind the bootstrap gives the same α.
    counts = np.stack([(units == c).sum(axis=1) for c in range(5)], axis=1)
    assert statistics_of_counts(counts)[0] == pytest.approx(library, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_votes_equal_the_libraries(seed: int) -> None:
    rng = np.random.default_rng(seed)
    units, coders, n_classes = 80, 6, 5
    truth = rng.integers(0, n_classes, units)
    data = np.where(
        rng.random((units, coders)) < 0.6,
        truth[:, None],
        rng.integers(0, n_classes, (units, coders)),
    ).astype(float)
    complete = data.copy()
    data[rng.random(data.shape) < 0.25] = np.nan  # missing votes
    result = agreement_of_votes(votes_of_matrix(data, CLASSES), TAXONOMY, resamples=100)
    alpha = krippendorff.alpha(reliability_data=data.T, level_of_measurement="nominal")
    assert result.alpha.value == pytest.approx(alpha, abs=1e-10)
    # Fleiss: the cue groups with the most common number of votes.
    counts = (~np.isnan(data)).sum(axis=1)
    values, frequency = np.unique(counts[counts >= 2], return_counts=True)
    raters = int(values[frequency == frequency.max()].max())
    rows = data[counts == raters]
    chosen = np.array([row[~np.isnan(row)] for row in rows]).astype(int)
    table, _ = aggregate_raters(chosen, n_cat=n_classes)
    assert result.kappa_votes_per_cue_group == raters
    assert result.kappa_cue_groups == len(rows)
    assert result.kappa.value == pytest.approx(fleiss_kappa(table), abs=1e-10)
    # Per class: α and κ of the binarised labels, from the libraries.
    for index, item in enumerate(result.per_class):
        binary = np.where(np.isnan(data), np.nan, (data == index).astype(float))
        if np.nansum(binary) == 0:
            assert item.alpha.value is None
            continue
        expected = krippendorff.alpha(reliability_data=binary.T, level_of_measurement="nominal")
        assert item.alpha.value == pytest.approx(expected, abs=1e-10)
        binary_table, _ = aggregate_raters((chosen == index).astype(int), n_cat=2)
        assert item.kappa.value == pytest.approx(fleiss_kappa(binary_table), abs=1e-10)
    # Complete data: every cue group has all coders, Fleiss uses them all.
    full = agreement_of_votes(votes_of_matrix(complete, CLASSES), TAXONOMY, resamples=0)
    full_table, _ = aggregate_raters(complete.astype(int), n_cat=n_classes)
    assert full.kappa_cue_groups == units
    assert full.kappa.value == pytest.approx(fleiss_kappa(full_table), abs=1e-10)
    assert full.alpha.low is None  # no resamples, no interval


def test_bootstrap_is_seeded_and_brackets_the_value() -> None:
    rng = np.random.default_rng(5)
    data = np.where(rng.random((120, 3)) < 0.7, rng.integers(0, 5, (120, 1)), 0).astype(float)
    votes = votes_of_matrix(data, CLASSES)
    first = agreement_of_votes(votes, TAXONOMY, seed=3, resamples=400)
    again = agreement_of_votes(votes, TAXONOMY, seed=3, resamples=400)
    other = agreement_of_votes(votes, TAXONOMY, seed=4, resamples=400)
    assert first == again
    assert first.alpha != other.alpha
    for estimate in (first.alpha, first.kappa):
        assert estimate.low is not None and estimate.high is not None
        assert estimate.value is not None
        assert estimate.low < estimate.value < estimate.high
        assert estimate.high - estimate.low < 0.4
    # The interval narrows with more cue groups.
    bigger = np.tile(data, (9, 1))
    wide = first.alpha.high - first.alpha.low  # type: ignore[operator]
    narrow = agreement_of_votes(votes_of_matrix(bigger, CLASSES), TAXONOMY, resamples=400).alpha
    assert narrow.high - narrow.low < wide / 2  # type: ignore[operator]


def test_latest_vote_counts_and_single_votes_are_left_out() -> None:
    first = votes_table(
        [("a", "x", "c1"), ("a", "y", "c2"), ("b", "x", "c3"), ("b", "y", "c3"), ("c", "x", "c1")]
    )
    second = votes_table([("a", "x", "c2")], round_index=2)  # x changes their mind on a
    result = agreement_of_votes(pa.concat_tables([first, second]), TAXONOMY, resamples=0)
    assert result.cue_groups == 2 and result.cue_groups_left_out == 1
    assert result.votes == 4
    assert result.alpha.value == pytest.approx(1.0)  # a: c2/c2, b: c3/c3
    assert result.confusion[1][1] == 2 and result.confusion[2][2] == 2
    assert sum(map(sum, result.confusion)) == 4  # 2 ordered pairs per cue group


def test_per_annotator_spots_the_spammer_and_confusion_is_symmetric() -> None:
    rng = np.random.default_rng(11)
    units = 300
    truth = rng.integers(0, 5, units)
    good = [np.where(rng.random(units) < 0.85, truth, rng.integers(0, 5, units)) for _ in range(3)]
    spammer = rng.integers(0, 5, units)
    data = np.stack([*good, spammer], axis=1).astype(float)
    result = agreement_of_votes(votes_of_matrix(data, CLASSES), TAXONOMY, resamples=0)
    kappas = {a.annotator: a.kappa for a in result.per_annotator}
    assert set(kappas) == {"coder0", "coder1", "coder2", "coder3"}
    assert kappas["coder3"] is not None and abs(kappas["coder3"]) < 0.15
    assert all(kappas[f"coder{i}"] > 0.6 for i in range(3))  # type: ignore[operator]
    spam = next(a for a in result.per_annotator if a.annotator == "coder3")
    assert spam.votes == units and 0 < spam.compared <= units
    confusion = np.array(result.confusion)
    assert (confusion == confusion.T).all()
    assert confusion.sum() == units * 4 * 3
    assert confusion.trace() > confusion.sum() - confusion.trace()  # mostly agreeing pairs


def test_one_class_only_has_no_alpha() -> None:
    votes = votes_table([("a", "x", "c1"), ("a", "y", "c1"), ("b", "x", "c1"), ("b", "y", "c1")])
    result = agreement_of_votes(votes, TAXONOMY, resamples=50)
    assert result.alpha.value is None and result.kappa.value is None
    assert result.alpha.text() == "-"
    assert alpha_nominal(np.array([[2, 0], [3, 0]])) is None


def test_landis_koch_bands() -> None:
    assert landis_koch(-0.1) == "poor"
    assert landis_koch(0.43) == "moderate"
    assert landis_koch(0.85) == "almost perfect"
    assert landis_koch(None) == "-"


def test_dataset_agreement_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=60, sources=3)
    with pytest.raises(DatasetError, match="no votes"):
        annotator_agreement(dataset.root)
    csv_path = write_votes_csv(tmp_path / "v.csv", dataset.truth, annotators=3, seed=2)
    import_labels(dataset.root, csv_path)
    result = annotator_agreement(dataset.root, resamples=100)
    assert result.cue_groups == 60 and result.annotators == 3 and result.votes == 180
    assert result.alpha.value is not None and 0.3 < result.alpha.value < 0.95

    assert run(["labels", "agreement", str(dataset.root), "--resamples", "100"]) == 0
    out = capsys.readouterr().out
    assert f"Krippendorff's alpha (nominal): {result.alpha.text()}" in out
    assert "Landis & Koch" in out and "MELD reports Fleiss' kappa 0.43" in out
    assert "annotator1" in out and "class confusion" in out
    assert run(["labels", "agreement", str(dataset.root), "--json", "--resamples", "100"]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert parsed["alpha"]["value"] == pytest.approx(result.alpha.value)
    assert parsed["votes_per_cue_group"] == {"3": 60}


@pytest.mark.real
def test_cremad_vote_table_agreement() -> None:
    """CREMA-D's summary table has no vote counts, only each clip's majority class for
    voice, face and audio-visual ratings (ties as 'A:D'): agreement is measured between
    those three consensus labels and the actor's intended emotion (file name)."""
    path = shared_path("emotion", "cremad", "cremad_summaryTable.csv")
    names = {"A": "anger", "D": "disgust", "F": "fear", "H": "joy", "N": "neutral", "S": "sadness"}
    intent = {"ANG": "A", "DIS": "D", "FEA": "F", "HAP": "H", "NEU": "N", "SAD": "S"}
    rows = []
    with path.open(encoding="utf-8", newline="") as stream:
        for record in csv.DictReader(stream):
            clip = record["FileName"]
            rows.append((clip, "intended", names[intent[clip.split("_")[2]]]))
            for column in ("VoiceVote", "FaceVote", "MultiModalVote"):
                if ":" not in record[column]:  # a tie between classes: no consensus label
                    rows.append((clip, column, names[record[column]]))
    votes = votes_table(rows)
    taxonomy = Taxonomy(classes=tuple(names.values()))
    result = agreement_of_votes(votes, taxonomy, resamples=200)
    # 7 clips have ties in all three modalities: only the intended label, left out.
    assert result.cue_groups == 7435 and result.cue_groups_left_out == 7
    codes = {name: i for i, name in enumerate(names.values())}
    by_clip: dict[str, dict[str, float]] = {}
    for clip, coder, label in rows:
        by_clip.setdefault(clip, {})[coder] = codes[label]
    coders = ("intended", "VoiceVote", "FaceVote", "MultiModalVote")
    matrix = np.array([[by_clip[c].get(k, np.nan) for k in coders] for c in sorted(by_clip)])
    alpha = krippendorff.alpha(reliability_data=matrix.T, level_of_measurement="nominal")
    assert result.alpha.value == pytest.approx(alpha, abs=1e-10)
    complete = matrix[~np.isnan(matrix).any(axis=1)].astype(int)
    table, _ = aggregate_raters(complete, n_cat=6)
    assert result.kappa_votes_per_cue_group == 4 and result.kappa_cue_groups == len(complete)
    assert result.kappa.value == pytest.approx(fleiss_kappa(table), abs=1e-10)
    # Measured here: α 0.550, κ 0.566 on the 6,042 clips without a tie (moderate).
    assert 0.45 < result.kappa.value < 0.65 and landis_koch(result.kappa.value) == "moderate"
    voice = next(a for a in result.per_annotator if a.annotator == "VoiceVote")
    face = next(a for a in result.per_annotator if a.annotator == "FaceVote")
    assert voice.kappa is not None and face.kappa is not None
    assert voice.kappa < face.kappa  # CREMA-D: voice alone is the hardest to read
