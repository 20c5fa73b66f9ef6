"""Tasks from Python: items with their media loaded, PyTorch batches, Hugging Face rows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import empathynet
from conftest import write_small_task_dataset
from empathynet.errors import ConfigError
from empathynet.tasks.access import collate

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_DATASETS = importlib.util.find_spec("datasets") is not None


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_task_dataset(tmp_path_factory.mktemp("access") / "ds")


def test_items_load_their_media(dataset: Path) -> None:
    opened = empathynet.open_dataset(dataset)
    assert opened.tasks == ["cls", "gen", "mcq"]
    cls = opened.task("cls")
    assert cls.family == "classification" and cls.query_views == ("text", "audio_blur", "stills")
    train = cls.split("train")
    item = train.load(0)
    row = train.row(0)
    assert item["item_id"] == row["item_id"] and item["query"]["text"] == row["query_text"]
    assert item["label_index"] == cls.classes.index(row["label"])
    audio = item["query"]["audio_blur"]
    assert audio.dtype == np.float32 and audio.ndim == 1 and item["sample_rate"] == 16_000
    assert item["query"]["stills"].shape == (5, 32, 48, 3)
    assert len(list(train)) == len(train)
    with pytest.raises(IndexError):
        train.load(len(train))


def test_mcq_items_are_loaded_as_cut(dataset: Path) -> None:
    """An MCQ item shows its audio and clips only for ``shown_ms``: loaded, they are cut."""
    test = empathynet.open_dataset(dataset).task("mcq").split("test")
    item = test.load(0)
    shown = item["shown_ms"]
    assert shown == test.row(0)["shown_ms"] > 0
    for option in item["options"]["audio_blur"]:
        assert len(option) == shown * item["sample_rate"] // 1000
    clip = item["query"]["face_video"]
    assert clip.ndim == 4 and 1 <= clip.shape[0] <= shown * 25 // 1000 + 1  # 25 fps clips
    assert 0 <= item["answer_index"] < len(item["options"]["audio_blur"])


def test_generation_targets_are_the_scored_representation(dataset: Path) -> None:
    split = empathynet.open_dataset(dataset).task("gen").split("train")
    item = split.load(0)
    assert item["target"].dtype == np.uint8 and item["target"].size == split.row(0)["target_dims"]


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (extra embed)")
def test_torch_batches(dataset: Path) -> None:
    import torch

    task = empathynet.open_dataset(dataset).task("mcq")
    loader = torch.utils.data.DataLoader(
        task.split("train").to_torch(), batch_size=4, collate_fn=collate
    )
    batch = next(iter(loader))
    assert len(batch["item_id"]) == 4 and batch["answer_index"].shape == (4,)
    slots = batch["options"]["audio_blur"]
    assert len(slots) == 4
    values, lengths = slots[0]["values"], slots[0]["lengths"]
    assert values.dtype == torch.float32 and values.shape == (4, int(lengths.max()))
    video = batch["query"]["face_video"]
    assert video["values"].dtype == torch.uint8 and video["values"].shape[0] == 4
    cls = next(
        iter(
            torch.utils.data.DataLoader(
                empathynet.open_dataset(dataset).task("cls").split("train").to_torch(),
                batch_size=3,
                collate_fn=collate,
            )
        )
    )
    assert cls["label_index"].dtype == torch.int64 and cls["query"]["stills"].shape[:2] == (3, 5)
    with pytest.raises(ConfigError):
        collate([])


@pytest.mark.skipif(not HAS_DATASETS, reason="the datasets package is not installed (extra hf)")
def test_hugging_face_rows(dataset: Path) -> None:
    opened = empathynet.open_dataset(dataset)
    cls = opened.task("cls").split("test").to_hf()
    assert cls.features["label"].names == list(opened.task("cls").classes)
    row = cls[0]
    assert len(row["query_stills"]) == 5 and row["query_stills"][0].size == (48, 32)
    assert Path(row["query_audio_blur"]["path"]).is_file()
    mcq = opened.task("mcq").split("test").to_hf()
    assert len(mcq) == len(opened.task("mcq").split("test"))
    first = mcq[0]
    assert len(first["option_audio_blur"]) == 4 and first["shown_ms"] > 0
    assert 0 <= first["answer_index"] < 4
