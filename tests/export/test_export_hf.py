"""Hugging Face ``datasets`` folders: ``load_dataset`` opens each config offline."""

from __future__ import annotations

import importlib.util
import io
import re
import shutil
import socket
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import empathynet
from empathynet.errors import ConfigError
from empathynet.store.outputs import MARKER
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.testing.synthetic import write_synthetic_dataset

HAS_DATASETS = importlib.util.find_spec("datasets") is not None
pytestmark = pytest.mark.skipif(not HAS_DATASETS, reason="datasets is not installed (extra hf)")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 accepted cue groups with media (2 rejected), a classification and an MCQ task."""
    root = tmp_path_factory.mktemp("hf") / "ds"
    write_synthetic_dataset(
        root,
        cue_groups=30,
        sources=5,
        media=True,
        labels_in_manifest=True,
        rejected=2,
        min_ms=400,
        max_ms=900,
    )
    make_task(
        root, TaskRequest(family="classification", query="text+audio_blur+stills", name="cls")
    )
    make_task(
        root,
        TaskRequest(
            family="mcq",
            query="face_video",
            answer="audio_blur",
            name="mcq",
            distractors="any",
            duration_tolerance_pct=1000,
            split_ratios=(0.5, 0.1, 0.4),
        ),
    )
    return root


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``datasets`` in offline mode, with every network connection refused."""
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield datasets


def load(datasets: Any, folder: Path, name: str | None, cache: Path) -> Any:
    return datasets.load_dataset(str(folder), name=name, cache_dir=str(cache))


def test_every_config_loads_offline(dataset: Path, tmp_path: Path, offline: Any) -> None:

    from empathynet.export.hf import export_hf

    out = tmp_path / "hf"
    summary = export_hf(dataset, out)
    opened = empathynet.open_dataset(dataset)
    cues = sorted(opened.cues(), key=lambda c: c.cue_id)
    task_rows = sum(
        len(opened.task(t).split(s))
        for t in ("cls", "mcq")
        for s in ("train", "validation", "test")
    )
    assert summary.samples == len(cues) + task_rows
    assert "README.md" in summary.files and "data/mcq/test.parquet" in summary.files

    header = yaml.safe_load((out / "README.md").read_text().split("---\n")[1])
    assert [c["config_name"] for c in header["configs"]] == ["cue_groups", "cls", "mcq"]
    body = (out / "README.md").read_text().split("---\n", 2)[2]
    assert body.lstrip().startswith("#") and "source_id" in body  # the dataset card

    cue_groups = load(offline, out, None, tmp_path / "cache")  # the default config
    assert list(cue_groups) == ["train"] and len(cue_groups["train"]) == len(cues) == 30
    rows = cue_groups["train"]
    assert rows["cue_id"] == [c.cue_id for c in cues]
    for row, cue in zip(rows, cues, strict=True):
        assert (row["source_id"], row["start_ms"], row["end_ms"]) == (
            cue.source_id,
            cue.start_ms,
            cue.end_ms,
        )
        assert row["text"] == cue.text and row["label"] == cue.label is not None
        assert np.array_equal(np.asarray(row["stills"][1].convert("RGB")), cue.load_stills()[1])
        assert len(row["face_crops"]) == 5 and row["face_crops"][0].size == (32, 32)
        audio = row["audio_blur"]["bytes"]
        assert audio == (dataset / str(cue.media.audio_blur_path)).read_bytes()

    for name in ("cls", "mcq"):
        task = opened.task(name)
        loaded = load(offline, out, name, tmp_path / "cache")
        assert {s: len(loaded[s]) for s in loaded} == {s: len(task.split(s)) for s in task.splits}
        assert sum(len(loaded[s]) for s in loaded) > 0
    cls = load(offline, out, "cls", tmp_path / "cache")["train"]
    first = opened.task("cls").split("train").row(0)
    assert cls[0]["item_id"] == first["item_id"]
    assert cls.features["label"].names == list(opened.task("cls").classes)
    assert cls.features["label"].int2str(cls[0]["label"]) == first["label"]
    assert cls[0]["query_audio_blur"]["bytes"][:4] == b"RIFF"
    mcq = load(offline, out, "mcq", tmp_path / "cache")["test"]
    item = mcq[0]
    assert len(item["option_audio_blur"]) == 4
    assert all(o["bytes"][:4] == b"RIFF" for o in item["option_audio_blur"])
    video = item["query_face_video"]
    assert isinstance(video, bytes) and video[4:8] == b"ftyp"  # the MP4 itself


def test_folder_is_self_contained(dataset: Path, tmp_path: Path, offline: Any) -> None:
    """Media are embedded: the folder loads after the dataset is gone and it moved."""
    from empathynet.export.hf import export_hf

    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    export_hf(copy, tmp_path / "hf", tasks=["cls"])
    shutil.rmtree(copy)
    (tmp_path / "hf").rename(tmp_path / "moved")
    loaded = load(offline, tmp_path / "moved", "cls", tmp_path / "cache")
    image = loaded["test"][0]["query_stills"][0]
    assert image.size == (48, 32)
    assert np.asarray(image).std() > 0  # a decoded picture, not an empty one
    with pytest.raises(ValueError):  # only the tasks asked for
        load(offline, tmp_path / "moved", "mcq", tmp_path / "cache")
    with wave.open(io.BytesIO(loaded["train"][0]["query_audio_blur"]["bytes"])) as reader:
        assert reader.getframerate() == 16_000 and reader.getnframes() > 0


def test_refuses_a_users_file_and_replaces_its_own(dataset: Path, tmp_path: Path) -> None:
    from empathynet.export.hf import export_hf

    out = tmp_path / "hf"
    out.mkdir()
    (out / "README.md").write_text("my notes")
    with pytest.raises(ConfigError, match=r"README\.md that no EmpathyNet export wrote"):
        export_hf(dataset, out)
    assert (out / "README.md").read_text() == "my notes" and not (out / "data").exists()
    (out / "README.md").unlink()
    export_hf(dataset, out)
    assert (out / "data" / "mcq" / "test.parquet").is_file()
    summary = export_hf(dataset, out, tasks=["cls"])  # again, fewer tasks: mcq goes
    assert not (out / "data" / "mcq").exists()
    assert sorted(summary.files) == sorted(
        ["README.md", "data/cue_groups/train.parquet"]
        + [f"data/cls/{s}.parquet" for s in ("train", "validation", "test")]
    )
    assert (out / MARKER).is_file()
    with pytest.raises(ConfigError, match="no task 'nope'"):
        export_hf(dataset, tmp_path / "other", tasks=["nope"])


def test_empty_splits_are_left_out(tmp_path: Path, offline: Any) -> None:
    """A split without items is not listed (``load_dataset`` fails on an empty split)."""
    from empathynet.export.hf import export_hf

    root = tmp_path / "ds"
    write_synthetic_dataset(
        root, cue_groups=12, sources=3, media=True, labels_in_manifest=True, min_ms=400, max_ms=900
    )
    made = make_task(
        root,
        TaskRequest(
            family="classification", query="text+stills", name="cls", split_ratios=(0.6, 0, 0.4)
        ),
    )
    assert made.items["validation"] == 0 < made.items["train"]
    summary = export_hf(root, tmp_path / "hf")
    assert "data/cls/validation.parquet" not in summary.files
    loaded = load(offline, tmp_path / "hf", "cls", tmp_path / "cache")
    assert {s: len(loaded[s]) for s in loaded} == {
        "train": made.items["train"],
        "test": made.items["test"],
    }


def test_missing_media_file_is_named(dataset: Path, tmp_path: Path) -> None:
    from empathynet.errors import DatasetError
    from empathynet.export.hf import export_hf

    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    item = empathynet.open_dataset(copy).task("cls").split("test").row(0)
    (copy / item["query_stills"][0]).unlink()
    with pytest.raises(DatasetError, match=re.escape(f"cannot read {item['query_stills'][0]}")):
        export_hf(copy, tmp_path / "out", tasks=["cls"])
