"""The writers' lock of a dataset (store/lock.py): one writer at a time, readers free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from empathynet.cli.main import main
from empathynet.errors import DatasetError
from empathynet.store.atomic import atomic_write_json
from empathynet.store.lock import LOCK_NAME, dataset_lock

HOLDER = """
import sys, time
from empathynet.store.lock import dataset_lock
with dataset_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def make_dataset(root: Path) -> Path:
    atomic_write_json(
        root / "dataset.json",
        {"name": root.name, "format": "empathynet-dataset", "format_version": 1},
    )
    return root


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A dataset whose lock another process holds (killed with SIGKILL at the end)."""
    dataset = make_dataset(tmp_path / "d")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(dataset)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    yield dataset, holder
    holder.kill()
    holder.wait()


def test_a_second_writer_is_refused_naming_the_holder_and_the_os_frees_a_dead_ones_lock(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    dataset, holder = held
    expected = f"in use by another empathynet process (pid {holder.pid}); wait for it or stop it"
    with pytest.raises(DatasetError) as caught, dataset_lock(dataset):
        pass
    assert str(caught.value) == f"{dataset}: {expected}"
    os.kill(holder.pid, signal.SIGKILL)  # no clean-up runs: the OS drops the lock
    holder.wait()
    with dataset_lock(dataset) as lock:
        assert lock == dataset / LOCK_NAME
        assert lock.read_text().strip() == str(os.getpid())


def test_a_process_may_nest_its_own_lock(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path / "d")
    with dataset_lock(dataset), dataset_lock(dataset):
        pass
    with dataset_lock(dataset):  # released by the outer block
        pass


@pytest.mark.parametrize(
    "command",
    [
        ["build", "{video}", "--out", "{dataset}", "--no-progress"],
        ["blur", "{dataset}", "--no-progress"],
        ["labels", "import", "{dataset}", "{csv}"],
        ["labels", "aggregate", "{dataset}"],
        ["tasks", "make", "{dataset}", "--suite", "standard"],
        ["evaluate", "{dataset}", "cls-text", "{preds}"],
        ["baseline", "{dataset}", "cls-text", "--model", "random"],
        ["audit", "{dataset}", "cls-text"],
        ["leaderboard", "{dataset}"],
        ["report", "{dataset}"],
    ],
)
def test_every_command_that_writes_a_dataset_takes_its_lock(
    held: tuple[Path, subprocess.Popen[str]],
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dataset, holder = held
    # the first build's temporary file in flight: a second build must not delete it
    in_flight = dataset / ".sources.parquet.k2j4h5g6.tmp"
    in_flight.write_bytes(b"being written")
    video = tmp_path / "film.mp4"
    video.write_bytes(b"")
    csv = tmp_path / "votes.csv"
    csv.write_text("cue_id,annotator,label\n")
    preds = tmp_path / "preds.jsonl"
    preds.write_text("")
    values = {"video": video, "dataset": dataset, "csv": csv, "preds": preds}
    argv = [part.format(**values) for part in command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f"empathynet: error: {dataset}: in use by another empathynet process "
        f"(pid {holder.pid}); wait for it or stop it\n"
    )
    assert in_flight.read_bytes() == b"being written"


def test_readers_need_no_lock(
    held: tuple[Path, subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    dataset, _ = held
    assert main(["inspect", str(dataset), "--json"]) == 0
    assert main(["labels", "summary", str(dataset)]) == 0
    capsys.readouterr()
