"""WebDataset shards: one sample per accepted cue group, read back with ``webdataset``."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

import empathynet
from empathynet.errors import ConfigError, DatasetError
from empathynet.labels import import_labels
from empathynet.store.outputs import MARKER
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv

HAS_WEBDATASET = importlib.util.find_spec("webdataset") is not None
pytestmark = pytest.mark.skipif(
    not HAS_WEBDATASET, reason="webdataset is not installed (extra export)"
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """21 accepted cue groups with media (3 rejected rows), votes for the first 10."""
    root = tmp_path_factory.mktemp("wds") / "ds"
    made = write_synthetic_dataset(
        root,
        cue_groups=21,
        sources=4,
        media=True,
        labels_in_manifest=True,
        rejected=3,
        min_ms=400,
        max_ms=900,
    )
    import_labels(root, write_votes_csv(root.parent / "votes.csv", made.truth.slice(0, 10)))
    make_task(root, TaskRequest(family="classification", query="text+stills", name="cls"))
    return root


def read_back(folder: Path) -> list[dict[str, object]]:
    import webdataset

    shards = sorted(str(p) for p in folder.glob("*.tar"))
    return list(webdataset.WebDataset(shards, shardshuffle=False, empty_check=False))


def test_samples_are_the_accepted_cue_groups(dataset: Path, tmp_path: Path) -> None:
    from PIL import Image

    from empathynet.export.webdataset import export_webdataset

    opened = empathynet.open_dataset(dataset)
    summary = export_webdataset(dataset, tmp_path / "out", shard_size=8)
    assert summary.samples == len(opened) == 21
    assert summary.files == (
        "empathynet-000000.tar",
        "empathynet-000001.tar",
        "empathynet-000002.tar",
    )
    assert f"{summary.samples} samples in 3 files" in summary.lines()[0]
    samples = read_back(tmp_path / "out")
    cues = sorted(opened.cues(), key=lambda c: c.cue_id)
    assert [s["__key__"] for s in samples] == [c.cue_id for c in cues]  # cue id order
    labelled = {r["cue_id"]: r for r in opened.labels.to_pylist()}
    assert len(labelled) == 10
    for sample, cue in zip(samples, cues, strict=True):
        members = {k for k in sample if not k.startswith("__")}
        assert members == {
            *(f"still_{n}.jpg" for n in range(5)),
            *(f"face_{n}.jpg" for n in range(5)),
            "audio_blur.wav",
            "txt",
            "json",
        }
        image = np.asarray(Image.open(io.BytesIO(sample["still_2.jpg"])).convert("RGB"))
        assert np.array_equal(image, cue.load_stills()[2])
        assert np.asarray(Image.open(io.BytesIO(sample["face_0.jpg"]))).shape == (32, 32, 3)
        wav = sample["audio_blur.wav"]
        assert isinstance(wav, bytes) and wav[:4] == b"RIFF"
        assert wav == (dataset / str(cue.media.audio_blur_path)).read_bytes()
        assert sample["txt"] == cue.text.encode("utf-8")
        meta = json.loads(sample["json"])
        assert (meta["cue_id"], meta["source_id"], meta["start_ms"], meta["end_ms"]) == (
            cue.cue_id,
            cue.source_id,
            cue.start_ms,
            cue.end_ms,
        )
        assert meta["speaker"] == cue.speaker and meta["nonverbal"] == list(cue.nonverbal)
        if cue.cue_id in labelled:  # the imported votes' aggregate is the label
            row = labelled[cue.cue_id]
            assert meta["label"] == row["label"] and meta["votes"] == row["votes"] == 3
            assert meta["agreement"] == pytest.approx(row["agreement"])
        else:
            assert meta["label"] == cue.label is not None
            assert "votes" not in meta and "agreement" not in meta


def test_face_clip_and_raw_audio_only_when_asked(dataset: Path, tmp_path: Path) -> None:
    from empathynet.export.webdataset import export_webdataset

    export_webdataset(dataset, tmp_path, face_clip=True, raw_audio=True)
    samples = read_back(tmp_path)
    assert len(samples) == 21
    cue = next(iter(empathynet.open_dataset(dataset).cues()))
    sample = next(s for s in samples if s["__key__"] == cue.cue_id)
    assert sample["audio_raw.wav"] == (dataset / str(cue.media.audio_path)).read_bytes()
    assert sample["face_clip.mp4"] == (dataset / str(cue.media.face_clip_path)).read_bytes()
    assert sample["audio_raw.wav"] != sample["audio_blur.wav"]


def test_shards_are_reproducible_and_rerun_replaces_its_own(dataset: Path, tmp_path: Path) -> None:
    from empathynet.export.webdataset import export_webdataset

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    export_webdataset(dataset, out, shard_size=5)
    first = (out / "empathynet-000000.tar").read_bytes()
    assert len(list(out.glob("*.tar"))) == 5
    summary = export_webdataset(dataset, out, shard_size=5)  # again: same bytes
    assert (out / "empathynet-000000.tar").read_bytes() == first
    summary = export_webdataset(dataset, out, shard_size=100)  # one shard: the rest go
    assert summary.files == ("empathynet-000000.tar",)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "empathynet-000000.tar", "notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"
    assert len(read_back(out)) == 21
    with tarfile.open(out / "empathynet-000000.tar") as tar:
        assert all("." not in name.split(".", 1)[0] for name in tar.getnames())


def test_refuses_a_users_file(dataset: Path, tmp_path: Path) -> None:
    from empathynet.export.webdataset import export_webdataset

    (tmp_path / "empathynet-000000.tar").write_bytes(b"a user's archive")
    with pytest.raises(ConfigError, match="no EmpathyNet export wrote"):
        export_webdataset(dataset, tmp_path)
    assert (tmp_path / "empathynet-000000.tar").read_bytes() == b"a user's archive"
    assert not (tmp_path / MARKER).exists()
    export_webdataset(dataset, tmp_path, overwrite=True)
    assert len(read_back(tmp_path)) == 21
    with pytest.raises(ConfigError, match="shard size"):
        export_webdataset(dataset, tmp_path / "other", shard_size=0)


def test_missing_media_file_is_named(dataset: Path, tmp_path: Path) -> None:
    from empathynet.export.webdataset import export_webdataset

    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    cue = next(iter(empathynet.open_dataset(copy).cues()))
    (copy / str(cue.media.audio_blur_path)).unlink()
    with pytest.raises(DatasetError, match=cue.cue_id):
        export_webdataset(copy, tmp_path / "out")
    # nothing half-written, no staging left: the folder it made is gone again
    assert not (tmp_path / "out").exists()
