from __future__ import annotations

import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.engines import LocalEngine
from empathynet.errors import DatasetError, PathEscapeError
from empathynet.store import (
    DatasetLayout,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_table,
)
from empathynet.store import atomic as atomic_module
from empathynet.store.atomic import atomic_write_with, batched_sync, remove_stale_temporaries
from empathynet.store.layout import read_dataset_json, require_dataset


def test_safe_join_refuses_paths_that_escape(tmp_path: Path) -> None:
    layout = DatasetLayout(tmp_path)
    assert layout.resolve("media/a/b.jpg") == (tmp_path / "media/a/b.jpg").resolve()
    for bad in ["../outside.txt", "media/../../x", "/etc/passwd", "\\\\server\\share", "C:/x"]:
        with pytest.raises(PathEscapeError):
            layout.resolve(bad)
    # a symlink inside the dataset that points outside is refused too
    (tmp_path / "link").symlink_to(tmp_path.parent)
    with pytest.raises(PathEscapeError, match="leaves the dataset"):
        layout.resolve("link/other")


def test_atomic_writes_leave_no_temporaries(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "a" / "x.bin", b"123")
    atomic_write_json(tmp_path / "b.json", {"k": "é"})
    atomic_write_table(tmp_path / "c.parquet", pa.table({"n": [1, 2]}))
    assert (tmp_path / "a" / "x.bin").read_bytes() == b"123"
    assert (tmp_path / "b.json").read_text(encoding="utf-8") == '{\n  "k": "é"\n}\n'
    assert pq.read_table(tmp_path / "c.parquet").column("n").to_pylist() == [1, 2]
    assert not list(tmp_path.rglob("*.tmp"))


def test_batched_sync_defers_every_fsync_to_one_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(atomic_module.os, "fsync", lambda fd: calls.append("fsync"))
    monkeypatch.setattr(atomic_module.os, "sync", lambda: calls.append("sync"))
    atomic_write_bytes(tmp_path / "alone.bin", b"0")
    assert calls == ["fsync"]
    calls.clear()
    with batched_sync():
        with batched_sync():  # nested blocks sync once, when the outer one ends
            atomic_write_bytes(tmp_path / "a.bin", b"1")
        atomic_write_json(tmp_path / "b.json", [2])
        assert calls == []
        assert (tmp_path / "a.bin").read_bytes() == b"1"  # renamed into place already
    assert calls == ["sync"]
    calls.clear()
    with pytest.raises(RuntimeError), batched_sync():
        atomic_write_bytes(tmp_path / "c.bin", b"3")
        raise RuntimeError("interrupted")
    assert calls == []  # a failed block's files are redone on resume: no sync
    atomic_write_bytes(tmp_path / "d.bin", b"4")
    assert calls == ["fsync"]  # outside a block again: each write syncs itself
    assert not list(tmp_path.rglob("*.tmp"))


def test_failed_atomic_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old")

    def broken(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_with(target, broken)
    assert target.read_text() == "old"
    assert not list(tmp_path.glob(".*.tmp"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".keep.txt.a1b2c3d4.tmp").write_text("x")
    assert remove_stale_temporaries(tmp_path) == 1
    assert not list(tmp_path.rglob(".*.tmp"))


def test_only_the_temporaries_atomic_writes_make_are_stale(tmp_path: Path) -> None:
    tmp = atomic_module.temporary_beside(tmp_path / "sources.parquet")
    assert atomic_module.is_temporary(tmp.name)
    mine = [tmp_path / ".draft.tmp", tmp_path / "notes.tmp", tmp_path / ".report.pdf.old.tmp"]
    for path in mine:
        path.write_text("the user's")
    (tmp_path / "sub").mkdir()
    deeper = atomic_module.temporary_beside(tmp_path / "sub" / "a.json")
    assert remove_stale_temporaries(tmp_path, recursive=False) == 1
    assert not tmp.exists() and deeper.exists()
    assert all(path.read_text() == "the user's" for path in mine)


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)])
def test_atomic_writes_give_files_the_mode_the_umask_allows(
    tmp_path: Path, umask: int, mode: int
) -> None:
    old = os.umask(umask)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"1")
        atomic_write_json(tmp_path / "b.json", [1])
        atomic_write_table(tmp_path / "c.parquet", pa.table({"n": [1]}))
    finally:
        os.umask(old)
    for name in ("a.bin", "b.json", "c.parquet"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def write_json_text(root: Path, text: str) -> Path:
    root.mkdir(exist_ok=True)
    (root / "dataset.json").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2, 3]", "holds a JSON list, not the object"),
        ('{"format": "empathynet-dataset", "format_', "not valid JSON"),
        ('{"format": "empathynet-dataset", "format_version": 99}', "format_version 99 is not"),
        ('{"name": "d"}', "has no 'format'"),
        ('{"format": "empathynet-dataset"}', "has no 'format_version'"),
        ('{"format": "coco", "format_version": 1}', "format is 'coco'"),
        ("\xff", "not valid JSON"),
    ],
)
def test_a_malformed_dataset_json_is_one_clear_error(
    tmp_path: Path, text: str, problem: str
) -> None:
    root = write_json_text(tmp_path / "d", text)
    with pytest.raises(DatasetError) as caught:
        require_dataset(root)
    message = str(caught.value)
    assert message.startswith(f"{root / 'dataset.json'}: ") and problem in message
    assert "\n" not in message


def test_a_valid_dataset_json_is_read(tmp_path: Path) -> None:
    text = '{"name": "d", "format": "empathynet-dataset", "format_version": 1}'
    root = write_json_text(tmp_path / "d", text)
    assert require_dataset(root).root == root
    assert read_dataset_json(root)["name"] == "d"


def _setup() -> int:
    return 10


def _task(context: int, item: int) -> int:
    return context + item


@pytest.mark.parametrize("workers", [1, 2])
def test_local_engine_runs_every_item_once(workers: int) -> None:
    engine: LocalEngine[int, int, int] = LocalEngine(workers)
    assert sorted(engine.map(_task, _setup, range(7))) == [10 + i for i in range(7)]


def test_a_closed_map_leaves_no_pool_for_the_exit_hook() -> None:
    """Closed early (Ctrl-C in the caller), the map stops its workers and its pool's
    manager thread, and takes the pool out of the table the interpreter's exit hook
    wakes: waking a wound-down pool races its closing pipe ("Bad file descriptor")."""
    from concurrent.futures import process as futures_process

    before = set(futures_process._threads_wakeups)
    engine: LocalEngine[int, int, int] = LocalEngine(2)
    results = engine.map(_task, _setup, range(20))
    assert next(results) >= 10
    started = set(futures_process._threads_wakeups) - before
    assert len(started) == 1
    results.close()
    (manager,) = started
    assert not manager.is_alive()
    assert manager not in futures_process._threads_wakeups


def test_local_engine_refuses_zero_workers() -> None:
    with pytest.raises(ValueError):
        LocalEngine(0)


def test_an_export_killed_part_way_is_ours_when_run_again(tmp_path: Path) -> None:
    """exporting() marks the files before writing them: after a kill -9 part-way, the
    same export runs again; a failed export leaves no empty folder; a user's files stay
    refused, named in one short line."""
    from empathynet.errors import ConfigError
    from empathynet.store.outputs import MARKER, exported_files, exporting

    out = tmp_path / "export"
    names = [f"media/{i}.jpg" for i in range(10)] + ["index.json"]
    with pytest.raises(RuntimeError), exporting(out, names, "test", overwrite=False):
        raise RuntimeError("a bad media file before anything was written")
    assert not out.exists()

    killed = exporting(out, names, "test", overwrite=False)
    killed.__enter__()  # then killed after four files: the context never exits
    (out / "media").mkdir()
    for name in names[:4]:
        (out / name).write_bytes(b"x")
    assert set(names) <= exported_files(out)
    with exporting(out, names[1:], "test", overwrite=False):  # one file fewer
        for name in names[1:]:
            (out / name).write_bytes(b"y")
    assert not (out / names[0]).exists() and exported_files(out) == set(names[1:])
    assert (out / MARKER).is_file()

    foreign = tmp_path / "foreign"
    (foreign / "media").mkdir(parents=True)
    for name in names:
        (foreign / name).write_bytes(b"mine")
    with pytest.raises(ConfigError) as caught, exporting(foreign, names, "t", overwrite=False):
        pass
    message = str(caught.value)
    assert "and 8 more that no EmpathyNet export wrote" in message and len(message) < 300
    assert all((foreign / name).read_bytes() == b"mine" for name in names)
