"""End to end with a real Label Studio 1.23 server on 127.0.0.1 (slow: own venv, start-up).

Installs ``label-studio==1.23.*`` into its own venv (``EMPATHYNET_LABEL_STUDIO_VENV``,
default ``~/.cache/empathynet/label-studio-venv``; reused when present), starts it with
the non-interactive environment of ``../shared/DEPENDENCIES.md``, creates a project from
``export_label_studio``'s config and tasks, serves the media through a local-files
storage, posts the annotations of two users, exports through the API and imports the
export back. Run it alone with ``bash scripts/label_studio_test.sh``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.labels import LabelsLayout, read_aggregate, read_votes
from empathynet.labels.labelstudio import export_label_studio
from empathynet.labels.votes import import_votes
from empathynet.testing.synthetic import SyntheticDataset, write_synthetic_dataset

pytestmark = pytest.mark.slow

VERSION_SPEC = "label-studio==1.23.*"
TOKEN = "5f0c2a9d1e7b4c3a8d6e2f1a0b9c8d7e6f5a4b3c"  # 40 hex, a throw-away local token
START_TIMEOUT_S = 900


def venv_dir() -> Path:
    default = Path.home() / ".cache" / "empathynet" / "label-studio-venv"
    return Path(os.environ.get("EMPATHYNET_LABEL_STUDIO_VENV", default))


def ensure_label_studio() -> tuple[Path, float]:
    """The ``label-studio`` executable, installed when missing; and the install seconds."""
    venv = venv_dir()
    executable = venv / "bin" / "label-studio"
    if executable.exists():
        return executable, 0.0
    began = time.monotonic()
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", VERSION_SPEC],
        check=True,
    )
    return executable, time.monotonic() - began


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    install_s: float
    start_s: float

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Token {TOKEN}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:800]
            raise AssertionError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        return json.loads(raw) if raw else None

    def get_bytes(self, path: str) -> bytes:
        request = urllib.request.Request(self.url + path)
        request.add_header("Authorization", f"Token {TOKEN}")
        with urllib.request.urlopen(request, timeout=60) as response:
            return bytes(response.read())


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and the processes it started (its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture
def dataset(tmp_path: Path) -> SyntheticDataset:
    return write_synthetic_dataset(tmp_path / "ds", cue_groups=4, sources=2, media=True)


@pytest.fixture
def server(
    request: pytest.FixtureRequest, tmp_path: Path, dataset: SyntheticDataset
) -> Iterator[Server]:
    # Installing (about 1 GB) and starting a server is only for a run that asks for slow
    # tests by name, whatever the project's default marker selection is.
    if "slow" not in str(request.config.getoption("markexpr") or ""):
        pytest.skip(
            "Label Studio live test: run it with -m slow (bash scripts/label_studio_test.sh)"
        )
    executable, install_s = ensure_label_studio()
    port = free_port()
    environment = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(tmp_path / "ls-data"),
        "LABEL_STUDIO_USERNAME": "lead@example.com",
        "LABEL_STUDIO_PASSWORD": "local-only-password",
        "LABEL_STUDIO_USER_TOKEN": TOKEN,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "COLLECT_ANALYTICS": "false",
        "LATEST_VERSION_CHECK": "false",
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(dataset.root.resolve()),
    }
    log = tmp_path / "label-studio.log"
    began = time.monotonic()
    with log.open("wb") as log_stream:
        process = subprocess.Popen(
            [
                str(executable),
                "start",
                "--no-browser",
                "--internal-host",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            env=environment,
            stdout=log_stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise AssertionError(f"label-studio exited ({process.returncode}):\n{tail}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() - began > START_TIMEOUT_S:
                raise AssertionError(f"label-studio not ready after {START_TIMEOUT_S} s; see {log}")
            time.sleep(1)
        yield Server(url, process, log, install_s, time.monotonic() - began)
    finally:
        stop(process)


def choices(field: str, value: str) -> dict[str, Any]:
    return {"from_name": field, "to_name": "text", "type": "choices", "value": {"choices": [value]}}


def test_label_studio_round_trip(server: Server, dataset: SyntheticDataset, tmp_path: Path) -> None:
    test_began = time.monotonic()
    ids = [str(c) for c in dataset.truth.column("cue_id").to_pylist()]
    # A machine pre-label on the first cue group: shown as a prediction, never a vote.
    LabelsLayout(dataset.root).folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {"cue_id": [ids[0]], "method": ["lexicon"], "label": ["surprise"], "score": [0.7]}
        ),
        LabelsLayout(dataset.root).folder / "prelabels.parquet",
    )
    out = tmp_path / "ls"
    exported = export_label_studio(dataset.root, out)
    assert exported.tasks == 4 and exported.predictions == 1

    config = (out / "config.xml").read_text(encoding="utf-8")
    project = server.request(
        "POST", "/api/projects/", {"title": "EmpathyNet live test", "label_config": config}
    )
    project_id = project["id"]
    storage = server.request(
        "POST",
        "/api/storages/localfiles/",
        {"project": project_id, "title": "dataset media", "path": str(dataset.root / "media")},
    )
    assert storage["id"]
    tasks = json.loads((out / "tasks.json").read_text(encoding="utf-8"))
    imported = server.request("POST", f"/api/projects/{project_id}/import", tasks)
    assert imported["task_count"] == 4 and imported["prediction_count"] == 1

    listed = server.request("GET", f"/api/tasks/?project={project_id}&page_size=100")["tasks"]
    task_of = {t["data"]["cue_id"]: t["id"] for t in listed}
    assert set(task_of) == set(ids)
    # The media URLs resolve through Label Studio's local-files serving.
    first = next(t for t in tasks if t["data"]["cue_id"] == ids[0])["data"]
    still = dataset.root / "media" / first["stills"][0].split("?d=media/", 1)[1]
    assert server.get_bytes(first["stills"][0]) == still.read_bytes()
    assert server.get_bytes(first["audio"])[:4] == b"RIFF"

    second = server.request(
        "POST",
        "/api/users/",
        {"email": "ann2@example.com", "username": "ann2", "password": "local-only-password-2"},
    )
    users = server.request("GET", "/api/users/")
    owner = next(u["id"] for u in users if u["email"] == "lead@example.com")
    annotator2 = second["id"]
    assert annotator2 != owner
    plan = {  # cue -> (owner's label, annotator 2's label or None for a skip)
        ids[0]: ("joy", "joy"),
        ids[1]: ("fear", "fear"),
        ids[2]: ("sadness", "anger"),
        ids[3]: ("neutral", None),
    }
    posted: dict[tuple[str, int], int] = {}
    for cue_id, (label1, label2) in plan.items():
        task = task_of[cue_id]
        made = server.request(
            "POST",
            f"/api/tasks/{task}/annotations/",
            {"result": [choices("label", label1), choices("gender", "female")]},
        )
        assert made["completed_by"] == owner
        posted[(cue_id, owner)] = made["id"]
        body: dict[str, Any] = {"completed_by": annotator2}
        if label2 is None:
            body |= {"result": [], "was_cancelled": True}
        else:
            body |= {"result": [choices("label", label2), choices("age_band", "adult")]}
        made = server.request("POST", f"/api/tasks/{task}/annotations/", body)
        assert made["completed_by"] == annotator2
        posted[(cue_id, annotator2)] = made["id"]

    export_path = tmp_path / "export-1.json"
    export = server.request("GET", f"/api/projects/{project_id}/export?exportType=JSON")
    export_path.write_text(json.dumps(export), encoding="utf-8")
    result = import_votes(dataset.root, export_path)
    assert result.votes_read == 7 and result.votes_added == 7  # the skip is no vote

    votes = read_votes(dataset.root).to_pylist()
    by_key = {(v["cue_id"], v["annotator"]): v for v in votes}
    user1, user2 = f"ls-user-{owner}", f"ls-user-{annotator2}"
    assert set(by_key) == {(c, user1) for c in ids} | {(c, user2) for c in ids[:3]}
    assert all(v["voted_at"] is not None for v in votes)
    assert by_key[(ids[0], user1)]["gender"] == "female"
    assert by_key[(ids[2], user2)]["label"] == "anger"
    assert by_key[(ids[2], user2)]["age_band"] == "adult"
    assert not any(v["label"] == "surprise" for v in votes)  # the prediction

    def labels() -> dict[str, tuple[str | None, float, bool]]:
        found = read_aggregate(LabelsLayout(dataset.root).aggregate)
        assert found is not None
        return {r["cue_id"]: (r["label"], r["agreement"], r["tie"]) for r in found[0].to_pylist()}

    assert labels() == {
        ids[0]: ("joy", 1.0, False),
        ids[1]: ("fear", 1.0, False),
        ids[2]: (None, 0.5, True),
        ids[3]: ("neutral", 1.0, False),
    }
    assert import_votes(dataset.root, export_path).already_imported

    # Annotator 2 changes their mind on the tie: a later export is a new round.
    server.request(
        "PATCH",
        f"/api/annotations/{posted[(ids[2], annotator2)]}/",
        {"result": [choices("label", "sadness")]},
    )
    later_path = tmp_path / "export-2.json"
    later = server.request("GET", f"/api/projects/{project_id}/export?exportType=JSON")
    later_path.write_text(json.dumps(later), encoding="utf-8")
    again = import_votes(dataset.root, later_path)
    assert not again.already_imported and again.votes_added == 7
    assert read_votes(dataset.root).num_rows == 14
    assert labels()[ids[2]] == ("sadness", 1.0, False)
    print(
        f"\nlabel-studio: install {server.install_s:.1f} s (0 = venv reused), "
        f"start-up {server.start_s:.1f} s, test {time.monotonic() - test_began:.1f} s"
    )
