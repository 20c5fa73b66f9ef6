"""Importing votes: every vote kept, idempotent re-imports, majority with its tie rule."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from empathynet.cli.main import main as run
from empathynet.errors import ConfigError
from empathynet.labels import (
    LabelFileError,
    LabelsLayout,
    import_labels,
    read_aggregate,
    read_votes,
    reaggregate_labels,
    summarize_labels,
)
from empathynet.testing.synthetic import (
    SyntheticDataset,
    write_synthetic_dataset,
    write_votes_csv,
)


@pytest.fixture
def dataset(tmp_path: Path) -> SyntheticDataset:
    return write_synthetic_dataset(tmp_path / "ds", cue_groups=12, sources=3, rejected=2)


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def aggregate_of(root: Path) -> dict[str, dict[str, object]]:
    found = read_aggregate(LabelsLayout(root).aggregate)
    assert found is not None
    return {row["cue_id"]: row for row in found[0].to_pylist()}


def test_import_keeps_every_vote_and_reimport_adds_none(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    csv_path = write_votes_csv(tmp_path / "votes.csv", dataset.truth, annotators=3, seed=1)
    first = import_labels(dataset.root, csv_path)
    assert first.votes_added == 36 and not first.already_imported
    votes = read_votes(dataset.root)
    assert votes.num_rows == 36
    assert set(votes.column("line").to_pylist()) == set(range(2, 38))
    before = (LabelsLayout(dataset.root).aggregate).read_bytes()

    again = import_labels(dataset.root, csv_path)
    assert again.already_imported and again.votes_added == 0
    assert read_votes(dataset.root).num_rows == 36
    assert LabelsLayout(dataset.root).aggregate.read_bytes() == before
    assert (dataset.root / "labels" / "taxonomy.yaml").exists()  # the default, recorded


def test_majority_agreement_and_a_later_round_replacing_a_vote(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    a, b = dataset.truth.column("cue_id").to_pylist()[:2]
    write_csv(
        tmp_path / "round1.csv",
        [
            "cue_id,annotator,label,gender,age_band",
            f"{a},ann1,joy,female,adult",
            f"{a},ann2,JOY,female,",
            f"{a},ann3,anger,male,adult",
            f"{b},ann1,fear,,",
            f"{b},ann2,sadness,,",
        ],
    )
    import_labels(dataset.root, tmp_path / "round1.csv")
    rows = aggregate_of(dataset.root)
    assert rows[a]["label"] == "joy"
    assert rows[a]["votes"] == 3 and rows[a]["label_votes"] == 2
    assert rows[a]["agreement"] == pytest.approx(2 / 3)
    assert rows[a]["gender"] == "female" and rows[a]["age_band"] == "adult"
    assert dict(rows[a]["label_counts"]) == {"anger": 1, "joy": 2}
    # fear vs sadness: a tie; the default rule leaves the cue group unlabelled
    assert rows[b]["tie"] and rows[b]["label"] is None

    # round 2: ann2 changes their mind on b; their round-1 vote stays in the votes
    write_csv(tmp_path / "round2.csv", ["cue_id,annotator,label", f"{b},ann2,fear"])
    result = import_labels(dataset.root, tmp_path / "round2.csv")
    assert result.votes_total == 6
    rows = aggregate_of(dataset.root)
    assert rows[b]["label"] == "fear" and rows[b]["votes"] == 2 and not rows[b]["tie"]
    rounds = read_votes(dataset.root).column("round_index").to_pylist()
    assert sorted(set(rounds)) == [1, 2]


def test_tie_rule_taxonomy_order_takes_the_first_tied_class(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    cue = dataset.truth.column("cue_id")[0].as_py()
    write_csv(
        tmp_path / "tie.csv",
        ["cue_id,annotator,label", f"{cue},a,surprise", f"{cue},b,disgust"],
    )
    import_labels(dataset.root, tmp_path / "tie.csv")
    assert aggregate_of(dataset.root)[cue]["label"] is None
    summary = reaggregate_labels(dataset.root, "taxonomy-order")
    assert summary.tie_rule == "taxonomy-order"
    assert aggregate_of(dataset.root)[cue]["label"] == "disgust"  # before surprise
    table = pq.read_table(LabelsLayout(dataset.root).aggregate)
    assert table.schema.metadata[b"empathynet.tie_rule"] == b"taxonomy-order"
    with pytest.raises(ConfigError, match="unknown tie rule"):
        reaggregate_labels(dataset.root, "coin-flip")


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        (["{cue},a,happy"], 2, "label 'happy' is not in the taxonomy"),
        (["{cue},a,joy", "nope-000000001,a,joy"], 3, "unknown cue id 'nope-000000001'"),
        (["{rejected},a,joy"], 2, "is a rejected row, not a cue group"),
        (["{cue},a,joy", "{cue},a,fear"], 3, "votes twice on cue .* \\(first on line 2\\)"),
        (["{cue},,joy"], 2, "empty annotator"),
        (["{cue},a,joy,robot"], 2, "gender 'robot' is not one of"),
        (["{cue},a,joy,female,ancient"], 2, "age_band 'ancient' is not one of"),
        (["{cue},a,joy,female,adult,extra"], 2, "more fields than the header"),
    ],
)
def test_bad_rows_give_one_line_errors_naming_file_and_line(
    dataset: SyntheticDataset, tmp_path: Path, rows: list[str], line: int, message: str
) -> None:
    cue = dataset.truth.column("cue_id")[0].as_py()
    values = {"cue": cue, "rejected": dataset.rejected_ids[0]}
    path = write_csv(
        tmp_path / "bad.csv",
        ["cue_id,annotator,label,gender,age_band"] + [r.format(**values) for r in rows],
    )
    with pytest.raises(LabelFileError, match=message) as caught:
        import_labels(dataset.root, path)
    text = str(caught.value)
    assert text.startswith(f"{path}, line {line}: ")
    assert "\n" not in text
    # nothing was written: a bad file is refused whole
    assert not LabelsLayout(dataset.root).votes.exists()


def test_bad_header_and_more_problems_are_reported(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "h.csv", ["cue_id,annotator,lable", "x,a,joy"])
    with pytest.raises(LabelFileError, match="line 1: missing columns \\['label'\\]"):
        import_labels(dataset.root, path)
    path = write_csv(tmp_path / "u.csv", ["cue_id,annotator,label,mood", "x,a,joy,ok"])
    with pytest.raises(LabelFileError, match="unknown columns \\['mood'\\]"):
        import_labels(dataset.root, path)
    path = write_csv(tmp_path / "m.csv", ["cue_id,annotator,label", "x,a,joy", "y,a,joy"])
    with pytest.raises(LabelFileError, match=r"line 2: .*and 1 more lines with problems"):
        import_labels(dataset.root, path)


def test_custom_taxonomy_is_adopted_then_locked_by_votes(
    dataset: SyntheticDataset, tmp_path: Path
) -> None:
    cue = dataset.truth.column("cue_id")[0].as_py()
    taxonomy = tmp_path / "tax.yaml"
    taxonomy.write_text(
        "classes: [calm, tense]\nclass_groups: {low: [calm], high: [tense]}\n",
        encoding="utf-8",
    )
    votes = write_csv(tmp_path / "v.csv", ["cue_id,annotator,label", f"{cue},a,tense"])
    import_labels(dataset.root, votes, taxonomy_path=taxonomy)
    assert aggregate_of(dataset.root)[cue]["label"] == "tense"
    # the same taxonomy again is fine (the stored copy is its canonical form)
    more = write_csv(tmp_path / "w.csv", ["cue_id,annotator,label", f"{cue},b,calm"])
    assert import_labels(dataset.root, more, taxonomy_path=taxonomy).votes_added == 1
    other = tmp_path / "other.yaml"
    other.write_text("classes: [calm, tense, bored]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot change under existing votes"):
        import_labels(dataset.root, votes, taxonomy_path=other)
    summary = summarize_labels(dataset.root)
    assert summary.class_counts == {"calm": 0, "tense": 0}  # a 1-1 tie now
    assert summary.cues_tied == 1


def test_cli_import_prints_a_summary_and_fails_with_one_line(
    dataset: SyntheticDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    votes = write_votes_csv(tmp_path / "votes.csv", dataset.truth)

    assert run(["labels", "import", str(dataset.root), str(votes)]) == 0
    assert "36 votes added" in capsys.readouterr().out
    assert run(["labels", "summary", str(dataset.root), "--json"]) == 0
    assert '"votes": 36' in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", ["cue_id,annotator,label", "ghost,a,joy"])
    assert run(["labels", "import", str(dataset.root), str(bad)]) == 2
    out = capsys.readouterr().err.strip()
    assert out == (
        f"empathynet: error: {bad}, line 2: unknown cue id 'ghost': no such row in "
        "the dataset's manifest"
    )
