"""The cue table: accepted rows in cue id order, labels joined, a layout-free fingerprint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from empathynet.errors import DatasetError
from empathynet.labels import import_labels
from empathynet.tasks.cuetable import load_cue_table
from empathynet.tasks.views import missing_mask, parse_views, view
from empathynet.testing.synthetic import write_synthetic_dataset


def test_fingerprint_ignores_parts_and_location_but_not_content(tmp_path: Path) -> None:
    one = write_synthetic_dataset(tmp_path / "one", cue_groups=200, sources=5, rejected=4)
    many = write_synthetic_dataset(
        tmp_path / "many", cue_groups=200, sources=5, rejected=4, part_rows=7
    )
    assert len(list((many.root / "cues").glob("part-*"))) > 20
    first, second = load_cue_table(one.root), load_cue_table(many.root)
    assert first.rows == 200
    assert first.fingerprint == second.fingerprint
    assert first.cue_ids().to_pylist() == sorted(one.truth.column("cue_id").to_pylist())
    moved = tmp_path / "elsewhere"
    shutil.copytree(one.root, moved)
    assert load_cue_table(moved).fingerprint == first.fingerprint

    cue = first.cue_ids()[3].as_py()
    votes = tmp_path / "votes.csv"
    votes.write_text(f"cue_id,annotator,label\n{cue},a,joy\n", encoding="utf-8")
    import_labels(one.root, votes)
    assert load_cue_table(one.root).fingerprint != first.fingerprint


def test_a_manifest_out_of_cue_id_order_reads_the_same(tmp_path: Path) -> None:
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=150, sources=4, rejected=3)
    before = load_cue_table(dataset.root, parse_views("stills+text"))
    for part in (dataset.root / "cues").glob("part-*.parquet"):
        table = pq.read_table(part)
        pq.write_table(table.take(pa.array(range(table.num_rows - 1, -1, -1))), part)
    after = load_cue_table(dataset.root)
    assert after.fingerprint == before.fingerprint
    assert after.cue_ids().equals(before.cue_ids())
    # view columns read later follow the same order
    assert after.column("still_paths").equals(before.column("still_paths"))
    assert after.column("text").equals(before.column("text"))


def test_votes_override_manifest_labels_and_a_tie_stays_unlabelled(tmp_path: Path) -> None:
    dataset = write_synthetic_dataset(
        tmp_path / "ds", cue_groups=20, sources=2, labels_in_manifest=True
    )
    cues = load_cue_table(dataset.root)
    assert (cues.class_code >= 0).all()
    assert cues.tie_rule is None
    a, b = cues.cue_ids()[0].as_py(), cues.cue_ids()[1].as_py()
    votes = tmp_path / "votes.csv"
    votes.write_text(
        f"cue_id,annotator,label,gender\n{a},x,surprise,male\n{b},x,joy,\n{b},y,fear,\n",
        encoding="utf-8",
    )
    import_labels(dataset.root, votes)
    cues = load_cue_table(dataset.root)
    labels = cues.column("label").to_pylist()
    assert labels[0] == "surprise"
    assert labels[1] is None and cues.class_code[1] == -1  # a tie, not the manifest's label
    assert cues.column("gender").to_pylist()[0] == "male"
    assert cues.column("agreement").to_pylist()[:2] == [1.0, 0.5]
    assert cues.column("votes").to_pylist()[2] is None  # no votes: the manifest label stays
    assert labels[2] == dataset.truth.column("label")[2].as_py()
    assert cues.tie_rule == "unlabelled"


def rewrite_column(root: Path, column: str, change: object) -> None:
    part = next((root / "cues").glob("part-*.parquet"))
    table = pq.read_table(part)
    values = table.column(column).to_pylist()
    assert callable(change)
    change(values)
    index = table.schema.get_field_index(column)
    table = table.set_column(
        index, table.schema.field(column), pa.array(values, table.schema.field(column).type)
    )
    pq.write_table(table, part)


def test_bad_manifest_values_are_errors(tmp_path: Path) -> None:
    # one source: one part holds every row (a part holds one source's rows)
    root = write_synthetic_dataset(tmp_path / "a", cue_groups=10, sources=1).root
    rewrite_column(root, "label", lambda v: v.__setitem__(4, "bliss"))
    with pytest.raises(DatasetError, match="label 'bliss' is not in the taxonomy"):
        load_cue_table(root)

    root = write_synthetic_dataset(tmp_path / "b", cue_groups=10, sources=1).root
    rewrite_column(root, "cue_id", lambda v: v.__setitem__(5, v[4]))
    with pytest.raises(DatasetError, match="is in the manifest more than once"):
        load_cue_table(root)

    root = write_synthetic_dataset(tmp_path / "c", cue_groups=10, sources=1).root
    rewrite_column(root, "end_ms", lambda v: v.__setitem__(2, 0))
    with pytest.raises(DatasetError, match="ends before it starts"):
        load_cue_table(root)

    with pytest.raises(DatasetError, match="not an EmpathyNet dataset"):
        load_cue_table(tmp_path / "nothing")


def test_missing_views_are_found_per_cue_group(tmp_path: Path) -> None:
    root = write_synthetic_dataset(tmp_path / "ds", cue_groups=10, sources=2, audio_blur=False).root
    rewrite_column(root, "still_paths", lambda v: v.__setitem__(0, []))
    cues = load_cue_table(root)
    assert missing_mask(cues, "audio_blur").all()
    assert missing_mask(cues, "stills").sum() == 1
    assert not missing_mask(cues, "face_stills").any()
    assert not missing_mask(cues, "nonverbal").any()  # no tags is a value, not a gap
    assert view("audio_raw").leaks_words and not view("audio_blur").leaks_words
    assert parse_views("text+stills") == parse_views("stills+text") == ("text", "stills")
    assert pc.sum(pc.list_value_length(cues.column("nonverbal"))).as_py() > 0
