"""Class discovery: clusters recover planted structure; page, JSON, apply, pre-labels."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.classes import (
    PRELABEL_SCHEMA,
    apply_classes,
    cluster_purity,
    cluster_range,
    label_agreement,
    parse_k,
    read_prelabels,
    read_suggestion,
    suggest_classes,
    write_prelabels,
)
from empathynet.classes.cluster import distinguishing_words, statistic_contrasts
from empathynet.classes.features import centre_within
from empathynet.cli.main import main
from empathynet.errors import ConfigError, DatasetError
from empathynet.labels import LabelsLayout, import_labels, load_taxonomy
from empathynet.media.audio import write_wav
from empathynet.media.encode import write_jpeg
from empathynet.store.layout import DatasetLayout
from empathynet.tasks.cuetable import load_cue_table
from empathynet.testing.realdata import write_dataset_from
from empathynet.testing.synthetic import write_votes_csv

PLANTED = 3
PER_CLASS = 12
RATE = 16_000
#: per planted class: F0 (Hz), amplitude, image pattern, text
_CLASSES = (
    (110.0, 0.08, "rows", "I am so happy, this is wonderful and great!"),
    (190.0, 0.3, "columns", "This is terrible, I hate it, awful and sad."),
    (320.0, 0.7, "checks", "The meeting is at noon in the room."),
)
HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"


def _image(pattern: str, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    y, x = np.mgrid[0:64, 0:64]
    if pattern == "rows":
        grey = np.where((y // 8) % 2 == 0, 40, 200)
    elif pattern == "columns":
        grey = np.where((x // 8) % 2 == 0, 90, 250)
    else:
        grey = np.where(((x // 16) + (y // 16)) % 2 == 0, 20, 140)
    pixels = np.clip(grey[..., None] + rng.normal(0, 12, (64, 64, 3)), 0, 255)
    return pixels.astype(np.uint8)


def _planted(root: Path, hostile: bool = False) -> list[int]:
    """A dataset of 3 planted classes (stills, blurred audio and text differ by class);
    returns the class of each cue group in cue id order."""
    rng = np.random.default_rng(5)
    truth = [i % PLANTED for i in range(PLANTED * PER_CLASS)]

    def fill(item: int, row: dict[str, Any], layout: DatasetLayout) -> dict[str, Any]:
        f0, amplitude, pattern, text = _CLASSES[truth[item]]
        for relative in [*row["still_paths"], *row["face_crop_paths"]]:
            write_jpeg(layout.resolve(relative), _image(pattern, rng))
        t = np.arange(RATE) / RATE
        pitch = f0 * rng.uniform(0.97, 1.03) * (1 + 0.02 * np.sin(2 * np.pi * 3 * t))
        phase = 2 * np.pi * np.cumsum(pitch) / RATE
        voice = sum(np.sin(h * phase) / h for h in (1, 2, 3))
        samples = amplitude * rng.uniform(0.9, 1.1) * voice / 1.9
        write_wav(layout.resolve(row["audio_path"]), samples, RATE)
        write_wav(layout.resolve(row["audio_blur_path"]), samples, RATE)
        words = f"{text} {HOSTILE}" if hostile and item == 0 else text
        return {"text": words, "end_ms": row["start_ms"] + 1000}

    write_dataset_from(root, len(truth), None, stills=2, audio_blur=True, fill=fill)
    return truth


def test_parse_k_accepts_numbers_ranges_and_lists() -> None:
    assert parse_k("6") == (6,)
    assert parse_k("4-7") == (4, 5, 6, 7)
    assert parse_k("8,4") == (4, 8)
    assert parse_k(3) == (3,)
    for bad in ("1", "7-4", "six", "2-"):
        with pytest.raises(ConfigError):
            parse_k(bad)


def test_kmeans_on_blobs_recovers_them_and_silhouette_peaks_at_their_number() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, (4, 5))
    truth = np.repeat(np.arange(4), 30)
    features = centres[truth] + rng.normal(0, 1, (120, 5))
    runs = cluster_range(features, parse_k("2-7"), seed=0)
    best = max(runs, key=lambda r: r.silhouette)
    assert best.k == 4
    assert cluster_purity(best.assignment, truth.tolist()) > 0.95
    assert label_agreement(best.assignment, truth.tolist()).adjusted_rand > 0.9
    # shuffled labels: purity falls to about the majority share
    shuffled = rng.permutation(truth)
    assert cluster_purity(best.assignment, shuffled.tolist()) < 0.5


def test_purity_ignores_unlabelled_and_checks_lengths() -> None:
    assert cluster_purity([0, 0, 1, 1], ["a", "b", "b", None]) == pytest.approx(2 / 3)
    with pytest.raises(ConfigError):
        cluster_purity([0, 1], ["a"])
    with pytest.raises(ConfigError):
        cluster_purity([0, 1], [None, None])


def test_distinguishing_words_and_statistics_point_at_the_cluster() -> None:
    texts = ["happy joy fun day"] * 10 + ["sad grey rain day"] * 10
    assignment = np.repeat([0, 1], 10)
    words = distinguishing_words(texts, assignment, 2)
    assert {w for w, _ in words[0]} == {"happy", "joy", "fun"}
    assert "day" not in {w for w, _ in words[1]}  # shared by both: not distinctive
    statistics = np.column_stack([np.repeat([1.0, 3.0], 10), np.ones(20)])
    contrasts = statistic_contrasts(statistics, assignment, 2)
    assert contrasts[0, 0] < -1 < 1 < contrasts[1, 0]
    assert contrasts[:, 1].tolist() == [0.0, 0.0]  # a constant statistic says nothing


def test_suggest_recovers_planted_classes_from_audio_and_stills(tmp_path: Path) -> None:
    root = tmp_path / "planted"
    truth = _planted(root)
    suggestion = suggest_classes(root, "2-6", ["audio_blur", "stills"], seed=0)
    assert suggestion.best_k == PLANTED
    assert cluster_purity(suggestion.result(PLANTED).assignment, truth) > 0.9
    # each view alone carries the structure too
    for views in (["audio_blur"], ["stills"]):
        alone = suggest_classes(root, PLANTED, views, seed=0)
        assert cluster_purity(alone.result(PLANTED).assignment, truth) > 0.9
    # the loud, high cluster is described as such, in plain words
    result = suggestion.result(PLANTED)
    loud = max(
        result.clusters,
        key=lambda c: np.mean([truth[suggestion.cue_ids.index(e.cue_id)] for e in c.nearest]),
    )
    described = " ".join(t.words for t in loud.traits)
    assert "higher" in described or "louder" in described


def test_page_and_json_are_written_escaped_and_read_back(tmp_path: Path) -> None:
    root = tmp_path / "planted"
    _planted(root, hostile=True)
    suggestion = suggest_classes(root, "3-4", ["audio_blur", "stills"], seed=1)
    page = (root / "reports" / "classes" / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;" in page
    # every media link is relative to the page and points at an existing file
    links = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert any(link.endswith(".jpg") for link in links)
    assert any(link.endswith(".wav") for link in links)
    for link in links:
        assert link.startswith("../../media/")
        assert (root / "reports" / "classes" / link).resolve().is_file()
    assert page.count("<details") == 2 and page.count('<details id="k') == 2
    values = json.loads((root / "reports" / "classes" / "suggestion.json").read_text("utf-8"))
    assert values["cue_ids"] == list(suggestion.cue_ids)
    assert [len(r["assignment"]) for r in values["results"]] == [len(suggestion.cue_ids)] * 2
    assert read_suggestion(root) == suggestion


def test_apply_writes_a_taxonomy_with_descriptions_and_examples(tmp_path: Path) -> None:
    root = tmp_path / "planted"
    _planted(root)
    suggestion = suggest_classes(root, "3-4", ["audio_blur", "stills"], seed=0)
    with pytest.raises(ConfigError, match="several k"):
        apply_classes(root, {0: "calm"})
    with pytest.raises(ConfigError, match="does not exist"):
        apply_classes(root, {3: "calm"}, k=3)
    with pytest.raises(ConfigError, match="lower-case name"):
        apply_classes(root, {0: "very calm"}, k=3)
    result = apply_classes(root, {0: "Calm", 1: "calm", 2: "loud"}, k=3)
    taxonomy = load_taxonomy(LabelsLayout(root).taxonomy)
    assert taxonomy.classes == ("calm", "loud")
    assert result.dropped == ()
    clusters = suggestion.result(3).clusters
    assert "clusters 0, 1" in (taxonomy.description_of("calm") or "")
    nearest = {e.cue_id for c in clusters[:2] for e in c.nearest}
    assert taxonomy.examples_of("calm") and set(taxonomy.examples_of("calm")) <= nearest
    assert taxonomy.examples_of("loud")[0] == clusters[2].nearest[0].cue_id
    # dropping a cluster
    dropped = apply_classes(root, {2: "loud"}, k=3)
    assert dropped.dropped == (0, 1) and dropped.taxonomy.classes == ("loud",)


def test_apply_refuses_to_change_the_taxonomy_under_votes(tmp_path: Path) -> None:
    root = tmp_path / "planted"
    _planted(root)
    suggest_classes(root, 3, ["stills"], seed=0)
    ids = load_cue_table(root).cue_ids()
    none = pa.nulls(len(ids), pa.string())
    truth = pa.table(
        {"cue_id": ids, "label": pa.array(["joy"] * len(ids)), "gender": none, "age_band": none}
    )
    import_labels(root, write_votes_csv(tmp_path / "votes.csv", truth, attributes=False))
    before = LabelsLayout(root).taxonomy.read_bytes()
    with pytest.raises(ConfigError, match=r"already has \d+ votes against another taxonomy"):
        apply_classes(root, {0: "calm", 1: "loud"})
    assert LabelsLayout(root).taxonomy.read_bytes() == before


def test_prelabels_are_written_apart_and_replaced_idempotently(tmp_path: Path) -> None:
    root = tmp_path / "planted"
    truth = _planted(root)
    with pytest.raises(DatasetError, match="no class suggestion"):
        write_prelabels(root, "clusters")
    first = write_prelabels(root, "vader")
    table = read_prelabels(root)
    assert table.schema.equals(PRELABEL_SCHEMA)
    assert first.rows == table.num_rows == len(truth)
    scores = dict(
        zip(table.column("cue_id").to_pylist(), table.column("score").to_pylist(), strict=True)
    )
    assert table.column("label").null_count == len(truth)
    ids = sorted(scores)
    # the planted happy text scores positive, the sad one negative, the neutral one 0
    assert scores[ids[0]] > 0.5 and scores[ids[1]] < -0.5 and scores[ids[2]] == 0.0
    write_prelabels(root, "vader")
    assert read_prelabels(root).num_rows == len(truth)  # replaced, not added
    suggestion = suggest_classes(root, 3, ["stills"], seed=0)
    unapplied = write_prelabels(root, "clusters")
    assert unapplied.labelled == 0 and unapplied.total_rows == 2 * len(truth)
    apply_classes(root, {0: "calm", 2: "loud"})
    applied = write_prelabels(root, "clusters")
    table = read_prelabels(root)
    assert table.num_rows == 2 * len(truth)
    rows = [r for r in table.to_pylist() if r["method"] == "clusters"]
    assignment = dict(zip(suggestion.cue_ids, suggestion.result(3).assignment, strict=True))
    for row in rows:
        cluster = assignment[row["cue_id"]]
        assert row["score"] == cluster
        assert row["label"] == {0: "calm", 2: "loud"}.get(cluster)
    assert applied.labelled == sum(1 for r in rows if r["label"])
    assert not LabelsLayout(root).votes.exists()  # never mixed with the votes
    # a new suggestion with another clustering: labels are not carried over to it
    suggest_classes(root, 4, ["stills"], seed=0)
    assert write_prelabels(root, "clusters").labelled == 0
    assert pq.read_table(LabelsLayout(root).folder / "prelabels.parquet").num_rows == 2 * len(truth)


def test_cli_suggest_apply_prelabel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "planted"
    _planted(root)
    assert main(["classes", "suggest", str(root), "-k", "2-4", "--views", "stills"]) == 0
    out = capsys.readouterr().out
    assert "<- best silhouette" in out and "index.html" in out
    names = tmp_path / "names.yaml"
    names.write_text("0: calm\n1: calm\n", encoding="utf-8")
    assert (
        main(["classes", "apply", str(root), "--k", "3", "--names", str(names), "--name", "2=loud"])
        == 0
    )
    assert "2 classes from k=3" in capsys.readouterr().out
    assert main(["classes", "prelabel", str(root), "--method", "clusters", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["labelled"] == 3 * PER_CLASS
    assert main(["classes", "suggest", str(root), "-k", "3", "--views", "video"]) == 2
    assert "cannot be clustered" in capsys.readouterr().err


def test_centring_within_speakers_turns_clusters_from_identity_to_expression() -> None:
    rng = np.random.default_rng(2)
    speaker = np.repeat(np.arange(3), 20)
    expression = np.tile(np.arange(2), 30)
    features = (
        rng.normal(0, 8, (3, 4))[speaker]  # who it is: large
        + np.array([[2.0, -2.0, 0, 0], [-2.0, 2.0, 0, 0]])[expression]  # expression: small
        + rng.normal(0, 0.3, (60, 4))
    )
    plain = cluster_range(features, [2, 3], seed=0)[1]
    assert cluster_purity(plain.assignment, speaker.tolist()) > 0.9
    centred = cluster_range(centre_within(features, speaker), [2], seed=0)[0]
    assert cluster_purity(centred.assignment, expression.tolist()) > 0.9
    assert label_agreement(centred.assignment, speaker.tolist()).adjusted_rand < 0.1
    # a group too small to centre is left as it is
    lone = centre_within(np.array([[5.0], [1.0], [2.0], [3.0]]), np.array([0, 1, 1, 1]))
    assert lone.ravel().tolist() == [5.0, -1.0, 0.0, 1.0]


def test_words_with_typographic_apostrophes_stay_whole() -> None:
    texts = ["you’re right, you're"] * 6 + ["no way never"] * 6
    words = distinguishing_words(texts, np.repeat([0, 1], 6), 2)
    assert [w for w, _ in words[0]][:2] in (["you're", "right"], ["right", "you're"])
    assert not {"re", "you"} & {w for w, _ in words[0]}
