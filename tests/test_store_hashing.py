"""Source hashes are remembered: a resumed build does not read every video whole again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from conftest import demo_clips_in
from empathynet.demo import DemoClip
from empathynet.pipeline import build as build_module
from empathynet.pipeline.build import HASH_CACHE, build_dataset, read_manifest
from empathynet.store import hashing
from empathynet.store.dataset import open_dataset
from empathynet.store.hashing import Sha256Cache


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_hash_is_remembered_while_the_file_is_unchanged(tmp_path: Path) -> None:
    video = tmp_path / "a.mp4"
    video.write_bytes(b"first version")
    cache = Sha256Cache(tmp_path / "cache" / "sha256.json")
    assert cache.sha256(video, "id1") == _sha(video) and cache.computed == 1
    assert cache.sha256(video, "id1") == _sha(video) and cache.computed == 1
    cache.save()
    again = Sha256Cache(tmp_path / "cache" / "sha256.json")
    assert again.sha256(video, "id1") == _sha(video) and again.computed == 0
    # another content id, size or modification time: hashed again
    assert again.sha256(video, "id2") == _sha(video) and again.computed == 1
    video.write_bytes(b"second version, longer")
    assert again.sha256(video, "id2") == _sha(video) and again.computed == 2
    stat = video.stat()
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert again.sha256(video, "id2") == _sha(video) and again.computed == 3


def test_a_damaged_cache_file_is_an_empty_cache(tmp_path: Path) -> None:
    video = tmp_path / "a.mp4"
    video.write_bytes(b"bytes")
    (tmp_path / "sha256.json").write_text("{not json", encoding="utf-8")
    cache = Sha256Cache(tmp_path / "sha256.json")
    assert cache.sha256(video, "id") == _sha(video) and cache.computed == 1
    cache.save()
    assert Sha256Cache(tmp_path / "sha256.json").sha256(video, "id") == _sha(video)


def test_a_resumed_build_hashes_only_changed_videos(
    demo_media: list[DemoClip], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mediapipe")
    media = demo_clips_in(demo_media, ("large_face", "no_face"), tmp_path / "media")
    hashed: list[str] = []
    real = hashing.file_sha256

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(hashing, "file_sha256", counting)
    monkeypatch.setattr(build_module, "file_sha256", counting)
    out = tmp_path / "dataset"
    build_dataset([media], out, progress=False, log=lambda line: None)
    videos = sorted(p.name for p in media.glob("*.mp4"))
    assert sorted(hashed) == videos and (out / HASH_CACHE).is_file()
    rows = read_manifest(out)

    hashed.clear()
    build_dataset([media], out, progress=False, log=lambda line: None)
    assert hashed == []  # nothing read whole again
    assert read_manifest(out) == rows

    touched = media / videos[0]
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    build_dataset([media], out, progress=False, log=lambda line: None)
    assert hashed == [videos[0]]
    sources = {s.path: s.sha256 for s in open_dataset(out).sources}
    assert sources[str(touched)] == _sha(touched)
