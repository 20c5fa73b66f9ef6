"""``open_dataset``: the dataset from Python, its cue groups read lazily, media as arrays."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import empathynet
from empathynet.errors import ConfigError, DatasetError, PathEscapeError
from empathynet.store.dataset import Cue, open_dataset
from empathynet.store.layout import DatasetLayout
from empathynet.testing.synthetic import SyntheticDataset, write_synthetic_dataset


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    root = tmp_path_factory.mktemp("open") / "ds"
    return write_synthetic_dataset(
        root, cue_groups=30, sources=3, media=True, rejected=4, labels_in_manifest=True
    )


def test_counts_sources_and_lazy_cues(synthetic: SyntheticDataset) -> None:
    dataset = empathynet.open_dataset(synthetic.root)
    assert len(dataset) == 30 and dataset.count("rejected") == 4 and dataset.count(None) == 34
    assert len(dataset.sources) == 3 and dataset.tasks == [] and dataset.labels is None
    cues = dataset.cues()
    assert isinstance(cues, types.GeneratorType)  # nothing read before it is iterated
    ids = [cue.cue_id for cue in cues]
    assert sorted(ids) == synthetic.truth.column("cue_id").to_pylist()
    assert {c.cue_id for c in dataset.cues("rejected")} == set(synthetic.rejected_ids)
    assert len(list(dataset.cues(None))) == 34


def test_filters_and_columns(synthetic: SyntheticDataset) -> None:
    dataset = open_dataset(synthetic.root)
    first = next(iter(dataset))
    same_source = list(dataset.cues(sources=[first.source_id]))
    assert same_source and all(c.source_id == first.source_id for c in same_source)
    joyful = list(dataset.cues(where=lambda c: c.label == "joy"))
    truth = synthetic.truth.to_pylist()
    assert len(joyful) == sum(1 for row in truth if row["label"] == "joy")
    slim = next(dataset.cues(columns=["label"]))
    assert slim.label is not None and slim.media.still_paths == () and slim.text
    stills = next(dataset.cues(columns=["still_paths"]))  # a column of a part
    assert len(stills.media.still_paths) == 5 and stills.media.audio_blur_path is None
    with pytest.raises(ConfigError, match="no cue column colour"):
        next(dataset.cues(columns=["colour"]))
    with pytest.raises(ConfigError, match="status must be"):
        next(dataset.cues("approved"))


def test_media_load_as_arrays(synthetic: SyntheticDataset) -> None:
    cue = next(iter(open_dataset(synthetic.root)))
    samples, rate = cue.load_audio()
    assert rate == 16_000 and samples.dtype == np.float32
    assert len(samples) == (cue.end_ms - cue.start_ms) * rate // 1000
    raw, _ = cue.load_audio(blurred=False)
    assert np.abs(raw).max() > np.abs(samples).max()  # the synthetic blur halves the tone
    stills = cue.load_stills()
    assert len(stills) == 5 and stills[0].shape == (32, 48, 3) and stills[0].dtype == np.uint8
    assert cue.load_stills(face=True)[0].shape == (32, 32, 3)
    clip = cue.load_face_clip()
    assert clip.ndim == 4 and clip.shape[3] == 3 and clip.shape[0] >= 1


def test_paths_that_leave_the_dataset_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(root, cue_groups=3, sources=1)
    cue = next(iter(open_dataset(root)))
    bad = Cue.from_dict({**cue.to_dict(), "audio_blur_path": "../../etc/passwd"})
    with pytest.raises(PathEscapeError):
        bad.load_audio()
    no_clip = Cue.from_dict({**cue.to_dict(), "face_clip_path": None})
    with pytest.raises(DatasetError, match="has no face clip"):
        no_clip.load_face_clip()
    with pytest.raises(DatasetError, match="not from an opened dataset"):
        Cue.from_dict({**cue.to_dict(), "dataset_root": None}).load_audio()


def test_a_damaged_part_is_skipped_with_one_line(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(root, cue_groups=20, sources=2)
    parts = DatasetLayout(root).cue_parts()
    kept = pq.read_table(parts[1]).num_rows
    parts[0].write_bytes(b"not parquet")
    lines: list[str] = []
    dataset = empathynet.store.dataset.Dataset(root, warn=lines.append)
    assert len(list(dataset.cues())) == kept
    assert len(lines) == 1 and parts[0].name in lines[0] and "skipped" in lines[0]


def test_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError):
        open_dataset(tmp_path)
