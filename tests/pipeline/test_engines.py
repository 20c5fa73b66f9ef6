"""Same result on every engine: the demo clips built by the local pool (1 and 2 workers), by
Ray on one node and by Ray on a two-node cluster give the same cue rows and media bytes;
a Ray worker killed mid-chunk is redone without changing them; Ctrl-C stops a Ray build
with the one line of a local one. The Ray tests share one two-node cluster (module)."""

from __future__ import annotations

import hashlib
import json
import operator
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.cli.main import main
from empathynet.config import EmpathyNetConfig
from empathynet.demo import DemoClip
from empathynet.errors import EmpathyNetError
from empathynet.pipeline.build import BuildSummary, build_dataset, read_cue_parts
from empathynet.store.layout import DatasetLayout

from .same import assert_same_rows

pytest.importorskip("mediapipe")

INTERRUPTED = "empathynet: interrupted; what was written is kept: run the same command to resume"
NO_RAY = "ray is not installed (pip install 'empathynet[ray]'; scripts/test.sh installs it)"


def ray_module() -> Any:
    """The ``ray`` module; skips the calling test, with the reason, when it is absent."""
    return pytest.importorskip("ray", reason=NO_RAY)


def media_hashes(dataset: Path) -> dict[str, str]:
    """SHA-256 of every media file, by its path in the dataset."""
    return {
        path.relative_to(dataset).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((dataset / "media").rglob("*"))
        if path.is_file()
    }


def manifest_bytes(dataset: Path) -> dict[str, bytes]:
    """Each manifest file's table as Parquet bytes, without its schema metadata (where the
    part records the seconds its chunk took: the one thing an engine may change)."""
    tables = {}
    for path, table in read_cue_parts(DatasetLayout(dataset)):
        sink = pa.BufferOutputStream()
        pq.write_table(table.replace_schema_metadata(None), sink)
        tables[path.name] = sink.getvalue().to_pybytes()
    return tables


def assert_same_dataset(dataset: Path, reference: Path) -> None:
    """Every cue row, byte for byte apart from the stage times, and every media file's
    bytes are the reference's; no temporary file is left."""
    assert manifest_bytes(dataset) == manifest_bytes(reference)
    assert_same_rows(dataset, reference)
    assert media_hashes(dataset) == media_hashes(reference)


def reported_engine(dataset: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((dataset / "reports" / "build.json").read_text())
    return dict(report["engine"])


@pytest.fixture(scope="module")
def reference(demo: tuple[list[DemoClip], Path]) -> tuple[Path, Path]:
    """``(media, dataset)``: the demo media and their build by one local worker."""
    clips, dataset = demo
    return clips[0].video_path.parent, dataset


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A two-node Ray cluster on this machine (one CPU each); yields its address."""
    ray_module()
    from ray.cluster_utils import Cluster

    nodes = Cluster(
        initialize_head=True,
        connect=False,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    try:
        nodes.add_node(num_cpus=1)
        nodes.wait_for_nodes()
        yield str(nodes.address)
    finally:
        nodes.shutdown()


def build(media: Path, out: Path, **options: Any) -> BuildSummary:
    return build_dataset([media], out, progress=False, log=lambda line: None, **options)


def test_two_local_workers_write_what_one_writes(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    media, expected = reference
    summary = build(media, tmp_path / "dataset", workers=2)
    assert_same_dataset(tmp_path / "dataset", expected)
    assert summary.engine == {"name": "local", "workers": 2}
    assert reported_engine(expected) == {"name": "local", "workers": 1}


def test_ray_on_one_node_writes_what_the_local_engine_writes(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    ray = ray_module()
    media, expected = reference
    summary = build(media, tmp_path / "dataset", workers=2, engine="ray")
    assert_same_dataset(tmp_path / "dataset", expected)
    engine = reported_engine(tmp_path / "dataset")
    assert engine == summary.engine
    assert engine == {"name": "ray", "workers": 2, "nodes": 1, "restarted_workers": 0}
    assert not ray.is_initialized()  # the local Ray it started is stopped


def test_ray_on_two_nodes_writes_what_the_local_engine_writes(
    reference: tuple[Path, Path], cluster: str, tmp_path: Path
) -> None:
    ray = ray_module()
    media, expected = reference
    # no --workers: one per CPU of the cluster, one on each node
    summary = build(media, tmp_path / "dataset", workers=None, engine="ray", address=cluster)
    assert_same_dataset(tmp_path / "dataset", expected)
    assert summary.engine == {"name": "ray", "workers": 2, "nodes": 2, "restarted_workers": 0}
    assert "(engine ray, 2 workers on 2 nodes)" in "\n".join(summary.lines())
    assert not ray.is_initialized()  # it left the cluster


def test_the_ray_engine_keeps_two_items_a_worker_in_flight(cluster: str) -> None:
    ray_module()
    from empathynet.engines.ray import RayEngine

    taken = 0

    def items() -> Iterator[int]:
        nonlocal taken
        for item in range(200):
            taken += 1
            yield item

    engine: RayEngine[int, int, int] = RayEngine(2, address=cluster)
    results = []
    # builtins, importable by every worker: the context is int() = 0, the task adds it
    for result in engine.map(operator.add, int, items()):
        results.append(result)
        assert taken - len(results) < 2 * 2  # never more than two a worker sent ahead
    assert sorted(results) == list(range(200))
    assert engine.facts() == {"name": "ray", "workers": 2, "nodes": 2, "restarted_workers": 0}


def proctitle(pid: int) -> str:
    """A process's command line (a Ray worker's shows ``ray::RayWorker``)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_ray_worker_killed_mid_chunk_is_redone_and_the_rows_are_unchanged(
    reference: tuple[Path, Path], cluster: str, tmp_path: Path
) -> None:
    ray = ray_module()
    from empathynet.engines.ray import where

    media, _ = reference
    config = EmpathyNetConfig(chunk_size=1)  # many chunks: the kill lands inside one
    expected = tmp_path / "reference"
    uninterrupted = build(media, expected, config=config)
    out = tmp_path / "dataset"
    ray.init(address=cluster, logging_level="ERROR", log_to_driver=False)
    try:
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:  # the engine uses this process's connection to the cluster
                outcome["summary"] = build(media, out, config=config, engine="ray", workers=2)
            except BaseException as error:
                outcome["error"] = error

        builder = threading.Thread(target=run)
        builder.start()
        killed = None
        committed_then = 0
        deadline = time.monotonic() + 60
        while killed is None and builder.is_alive() and time.monotonic() < deadline:
            names = [n for n in ray.util.list_named_actors() if n.startswith("empathynet-")]
            committed_then = len(list((out / "cues").glob("part-*")))
            if len(names) == 2 and committed_then:
                # The actor's pid by a remote call (answered beside the chunk it runs: it
                # always has one running and one waiting while chunks are left).
                _, pid, _ = ray.get(where(ray.get_actor(names[0])), timeout=30)
                os.kill(pid, signal.SIGKILL)
                killed = pid
            time.sleep(0.01)
        builder.join(120)
    finally:
        ray.shutdown()
    assert killed is not None, "no worker was killed"
    assert committed_then < uninterrupted.chunks_written - 2, "killed too late: no chunk left"
    assert "error" not in outcome, outcome.get("error")
    summary: BuildSummary = outcome["summary"]
    assert summary.engine["restarted_workers"] == 1
    assert summary.chunks_written == uninterrupted.chunks_written  # each part written once
    assert_same_dataset(out, expected)


def ray_workers() -> list[int]:
    """This machine's Ray worker processes of a build (``ray::RayWorker``)."""
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and proctitle(int(entry.name)).startswith("ray::RayWorker")
    ]


def test_ctrl_c_stops_a_ray_build_with_one_line(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    ray_module()
    media, _ = reference
    out = tmp_path / "dataset"
    config = tmp_path / "build.yaml"
    config.write_text("chunk_size: 1\n")
    script = Path(sys.executable).with_name("empathynet")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "empathynet.cli.main"]
    command = [*program, "build", str(media), "--out", str(out), "--config", str(config)]
    before = set(ray_workers())  # of the module's cluster, if it runs
    process = subprocess.Popen(
        [*command, "--engine", "ray", "--workers", "2", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # Ctrl-C in a terminal reaches the whole process group
    )
    try:
        deadline = time.monotonic() + 120
        while not list((out / "cues").glob("part-*")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert list((out / "cues").glob("part-*")), "no chunk was committed"
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert stderr.decode().splitlines() == [INTERRUPTED], stderr.decode()
    assert process.returncode == 130
    deadline = time.monotonic() + 5
    while set(ray_workers()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(ray_workers()) - before, "its Ray workers outlived the build"
    # ... and the same command finishes it
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr


def test_without_ray_the_ray_engine_is_one_line_naming_the_extra(
    reference: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    media, _ = reference
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(EmpathyNetError, match=r"pip install 'empathynet\[ray\]'"):
        build(media, tmp_path / "dataset", engine="ray")
    assert not (tmp_path / "dataset").exists()  # said before anything was written
    status = main(["build", str(media), "--out", str(tmp_path / "d"), "--engine", "ray"])
    err = capsys.readouterr().err.splitlines()
    assert status == 2
    assert err == [
        "empathynet: error: the Ray engine needs Ray, which is not installed: "
        "pip install 'empathynet[ray]'"
    ]


def test_an_address_needs_the_ray_engine(
    reference: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    media, _ = reference
    status = main(["build", str(media), "--out", str(tmp_path / "d"), "--address", "auto"])
    assert status == 2
    assert "--address is the address of a Ray cluster: add --engine ray" in capsys.readouterr().err
