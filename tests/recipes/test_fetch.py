"""``empathynet fetch``: a recipe's videos downloaded from a local HTTP server (with Range
support written here), checked by SHA-256, resumed, and every failure one outcome."""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from empathynet.cli import fetch as fetch_cmd
from empathynet.errors import DatasetError, EmpathyNetError
from empathynet.pipeline.progress import Progress
from empathynet.recipes import (
    HttpDownloader,
    RecipeError,
    YtDlpDownloader,
    downloader_for,
    fetch_recipe,
)
from empathynet.recipes.fetch import FETCH_JSON, YTDLP_INSTALL


def payload(seed: int, size: int) -> bytes:
    """``size`` reproducible bytes that differ for each seed."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Served:
    """The test server's files by path, what it was asked and how it answered."""

    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    #: (path, Range header or None, status) of every request
    requests: list[tuple[str, str | None, int]] = field(default_factory=list)
    cut_once: set[str] = field(default_factory=set)  #: paths whose next body stops halfway

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``files``; paths under ``/norange/``
    ignore Range requests (answer 200 with the whole file)."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    state = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = state.files.get(self.path)
            asked = self.headers.get("Range")
            if data is None:
                state.requests.append((self.path, asked, 404))
                self.send_error(404)
                return
            start, status = 0, 200
            match = re.fullmatch(r"bytes=(\d+)-", asked or "")
            if match and not self.path.startswith("/norange/"):
                start, status = int(match.group(1)), 206
                if start >= len(data):
                    state.requests.append((self.path, asked, 416))
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            state.requests.append((self.path, asked, status))
            body = data[start:]
            self.send_response(status)
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in state.cut_once:
                state.cut_once.discard(self.path)
                body = body[: len(body) // 2]  # then the connection closes
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def source_line(
    name: str,
    data: bytes,
    url: str | None,
    *,
    source_id: str | None = None,
    size: int | None = None,
) -> dict[str, Any]:
    return {
        "kind": "source",
        "source_id": source_id or sha(data)[:16],
        "sha256": sha(data),
        "size_bytes": len(data) if size is None else size,
        "file_name": name,
        "url": url,
        "licence": "CC-BY-4.0",
        "title": name,
    }


def write_recipe(path: Path, sources: list[dict[str, Any]], **header: Any) -> Path:
    lines = [
        {
            "kind": "recipe",
            "format": "empathynet-recipe",
            "format_version": 1,
            "empathynet_version": "0.1.0",
            "dataset": "talks",
            **header,
        },
        *sources,
        {"kind": "someday", "what": "a kind this version does not know"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def fetch(recipe: Path, folder: Path, **options: Any) -> Any:
    return fetch_recipe(recipe, folder, progress=False, log=lambda line: None, **options)


def by_name(result: Any) -> dict[str, Any]:
    return {outcome.file_name: outcome for outcome in result.outcomes}


def test_downloads_check_sha256_and_a_second_run_asks_nothing(
    server: Served, tmp_path: Path
) -> None:
    first, second = payload(1, 300_000), payload(2, 5_000)
    server.files = {"/v/talk_01.mp4": first, "/v/talk_02.webm": second}
    recipe = write_recipe(
        tmp_path / "r.jsonl",
        [
            source_line("talk_01.mp4", first, server.url("/v/talk_01.mp4")),
            source_line("talk_02.webm", second, server.url("/v/talk_02.webm")),
        ],
    )
    folder = tmp_path / "videos"
    result = fetch(recipe, folder)
    assert [o.outcome for o in result.outcomes] == ["downloaded", "downloaded"]
    assert result.complete
    assert (folder / "talk_01.mp4").read_bytes() == first
    assert (folder / "talk_02.webm").read_bytes() == second
    assert by_name(result)["talk_01.mp4"].received_bytes == len(first)
    assert by_name(result)["talk_01.mp4"].via == "http"
    assert not list(folder.glob("*.part")) and not list(folder.glob(".*.part"))
    record = json.loads((folder / FETCH_JSON).read_text(encoding="utf-8"))
    assert record["counts"]["downloaded"] == 2 and record["complete"] is True
    assert record["dataset"] == "talks"

    asked = len(server.requests)
    again = fetch(recipe, folder)
    assert [o.outcome for o in again.outcomes] == ["present", "present"]
    assert len(server.requests) == asked  # nothing downloaded twice
    assert "2 present" in again.lines()[0] and len(again.lines()) == 2  # counts, record


def test_a_part_is_continued_with_a_range_request(server: Served, tmp_path: Path) -> None:
    data = payload(3, 200_000)
    server.files = {"/talk.mp4": data}
    recipe = write_recipe(
        tmp_path / "r.jsonl", [source_line("talk.mp4", data, server.url("/talk.mp4"))]
    )
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / ".talk.mp4.part").write_bytes(data[:70_000])
    result = fetch(recipe, folder)
    (outcome,) = result.outcomes
    assert outcome.outcome == "downloaded"
    assert server.requests == [("/talk.mp4", "bytes=70000-", 206)]
    assert outcome.received_bytes == len(data) - 70_000
    assert (folder / "talk.mp4").read_bytes() == data
    assert not (folder / ".talk.mp4.part").exists()


def test_a_server_ignoring_range_is_read_from_the_start(server: Served, tmp_path: Path) -> None:
    data = payload(4, 50_000)
    server.files = {"/norange/talk.mp4": data}
    url = server.url("/norange/talk.mp4")
    recipe = write_recipe(tmp_path / "r.jsonl", [source_line("talk.mp4", data, url)])
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / ".talk.mp4.part").write_bytes(b"x" * 1000)  # not even the right bytes
    (outcome,) = fetch(recipe, folder).outcomes
    assert outcome.outcome == "downloaded"
    assert server.requests == [("/norange/talk.mp4", "bytes=1000-", 200)]
    assert (folder / "talk.mp4").read_bytes() == data


def test_a_cut_transfer_keeps_its_part_and_the_next_run_resumes(
    server: Served, tmp_path: Path
) -> None:
    data = payload(5, 120_000)
    server.files = {"/talk.mp4": data}
    server.cut_once = {"/talk.mp4"}
    recipe = write_recipe(
        tmp_path / "r.jsonl", [source_line("talk.mp4", data, server.url("/talk.mp4"))]
    )
    folder = tmp_path / "videos"
    first = fetch(recipe, folder)
    (outcome,) = first.outcomes
    assert outcome.outcome == "failed"
    assert "run again to resume" in (outcome.message or "")
    assert not first.complete
    assert not (folder / "talk.mp4").exists()
    kept = (folder / ".talk.mp4.part").read_bytes()
    assert kept == data[: len(data) // 2]

    (outcome,) = fetch(recipe, folder).outcomes
    assert outcome.outcome == "downloaded"
    assert server.requests[-1] == ("/talk.mp4", f"bytes={len(kept)}-", 206)
    assert (folder / "talk.mp4").read_bytes() == data


def test_an_interrupted_fetch_leaves_only_its_part_and_resumes(
    server: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = payload(26, 100_000)
    server.files = {"/talk.mp4": data}
    url = server.url("/talk.mp4")
    recipe = write_recipe(tmp_path / "r.jsonl", [source_line("talk.mp4", data, url)])
    folder = tmp_path / "videos"
    real_advance = Progress.advance

    def interrupt_after_one_chunk(self: Progress, count: int = 1, **kwargs: Any) -> None:
        real_advance(self, count, **kwargs)
        raise KeyboardInterrupt  # Ctrl-C in the middle of the transfer

    monkeypatch.setattr(Progress, "advance", interrupt_after_one_chunk)
    small_chunks = lambda url: HttpDownloader(chunk_bytes=16_384)  # noqa: E731
    with pytest.raises(KeyboardInterrupt):
        fetch(recipe, folder, downloader=small_chunks)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [".empathynet.lock", ".talk.mp4.part", FETCH_JSON]
    assert (folder / ".talk.mp4.part").read_bytes() == data[:16_384]
    assert json.loads((folder / FETCH_JSON).read_text())["finished"] is False

    monkeypatch.setattr(Progress, "advance", real_advance)
    (outcome,) = fetch(recipe, folder).outcomes
    assert outcome.outcome == "downloaded"
    assert server.requests[-1] == ("/talk.mp4", "bytes=16384-", 206)
    assert (folder / "talk.mp4").read_bytes() == data


def test_other_bytes_are_kept_aside_as_changed_never_under_the_name(
    server: Served, tmp_path: Path
) -> None:
    listed, served = payload(6, 40_000), payload(7, 40_000)
    server.files = {"/talk.mp4": served}
    recipe = write_recipe(
        tmp_path / "r.jsonl", [source_line("talk.mp4", listed, server.url("/talk.mp4"))]
    )
    folder = tmp_path / "videos"
    result = fetch(recipe, folder)
    (outcome,) = result.outcomes
    assert outcome.outcome == "changed"
    assert not (folder / "talk.mp4").exists()
    assert (folder / "talk.mp4.changed").read_bytes() == served
    assert outcome.sha256 == sha(served) and outcome.expected_sha256 == sha(listed)
    assert f"sha256 {sha(served)[:12]}" in (outcome.message or "")
    assert result.lines()[1].startswith("  changed: talk.mp4: the URL gives other bytes")
    assert json.loads((folder / FETCH_JSON).read_text())["counts"]["changed"] == 1


def test_a_size_that_differs_counts_as_changed(server: Served, tmp_path: Path) -> None:
    data = payload(8, 10_000)
    server.files = {"/talk.mp4": data}
    line = source_line("talk.mp4", data, server.url("/talk.mp4"), size=9_999)
    folder = tmp_path / "videos"
    (outcome,) = fetch(write_recipe(tmp_path / "r.jsonl", [line]), folder).outcomes
    assert outcome.outcome == "changed"
    assert "10000 bytes, the recipe's 9999" in (outcome.message or "")
    assert not (folder / "talk.mp4").exists()


def test_a_users_file_with_other_bytes_is_left_alone(server: Served, tmp_path: Path) -> None:
    data = payload(9, 10_000)
    server.files = {"/talk.mp4": data}
    recipe = write_recipe(
        tmp_path / "r.jsonl", [source_line("talk.mp4", data, server.url("/talk.mp4"))]
    )
    folder = tmp_path / "videos"
    folder.mkdir()
    mine = payload(10, 10_000)
    (folder / "talk.mp4").write_bytes(mine)
    (outcome,) = fetch(recipe, folder).outcomes
    assert outcome.outcome == "changed"
    assert "exists with other bytes" in (outcome.message or "")
    assert (folder / "talk.mp4").read_bytes() == mine
    assert server.requests == []


def test_gone_files_vanish_and_the_others_go_on(server: Served, tmp_path: Path) -> None:
    data, orphan = payload(11, 20_000), payload(12, 100)
    server.files = {"/ok.mp4": data}
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}/talk.mp4"
    recipe = write_recipe(
        tmp_path / "r.jsonl",
        [
            source_line("gone.mp4", payload(13, 100), server.url("/gone.mp4")),
            source_line("refused.mp4", payload(14, 100), refused),
            source_line("orphan.mp4", orphan, None),
            source_line("ok.mp4", data, server.url("/ok.mp4")),
        ],
    )
    result = fetch(recipe, tmp_path / "videos")
    outcomes = by_name(result)
    assert outcomes["gone.mp4"].outcome == "vanished"
    assert outcomes["gone.mp4"].message == f"{server.url('/gone.mp4')}: HTTP 404 Not Found"
    assert outcomes["refused.mp4"].outcome == "vanished"
    assert "connection refused" in (outcomes["refused.mp4"].message or "")
    assert outcomes["orphan.mp4"].outcome == "no_url"
    assert sha(orphan) in (outcomes["orphan.mp4"].message or "")
    assert outcomes["ok.mp4"].outcome == "downloaded"
    counts = result.counts()
    assert (counts["vanished"], counts["no_url"], counts["downloaded"]) == (2, 1, 1)
    problems = result.lines()[1:]
    assert sum(line.startswith("  vanished: ") for line in problems) == 2
    assert all("\n" not in line for line in result.lines())


def test_an_unknown_host_vanishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: Any, **kwargs: Any) -> Any:
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", no_such_host)
    data = payload(15, 100)
    url = "http://videos.invalid/talk.mp4"
    recipe = write_recipe(tmp_path / "r.jsonl", [source_line("talk.mp4", data, url)])
    (outcome,) = fetch(recipe, tmp_path / "videos").outcomes
    assert outcome.outcome == "vanished"
    assert outcome.message == f"{url}: unknown host (Name or service not known)"


def test_a_file_url_is_copied_and_resumed(tmp_path: Path) -> None:
    data = payload(16, 30_000)
    original = tmp_path / "elsewhere" / "talk one.mp4"
    original.parent.mkdir()
    original.write_bytes(data)
    recipe = write_recipe(tmp_path / "r.jsonl", [source_line("talk.mp4", data, original.as_uri())])
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / ".talk.mp4.part").write_bytes(data[:1000])
    (outcome,) = fetch(recipe, folder).outcomes
    assert outcome.outcome == "downloaded"
    assert outcome.received_bytes == len(data) - 1000
    assert (folder / "talk.mp4").read_bytes() == data


def test_the_downloader_is_chosen_by_url() -> None:
    assert isinstance(downloader_for("https://example.org/media/talk.MP4?x=1"), HttpDownloader)
    assert isinstance(downloader_for("file:///data/talk"), HttpDownloader)
    assert isinstance(downloader_for("https://www.youtube.com/watch?v=abc"), YtDlpDownloader)
    assert isinstance(downloader_for("https://example.org/talk"), YtDlpDownloader)


def test_a_platform_url_without_ytdlp_fails_naming_the_install(
    server: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "yt_dlp" else real_find_spec(name, *args),
    )
    data = payload(17, 1000)
    server.files = {"/ok.mp4": data}
    page = "https://www.youtube.com/watch?v=abc123"
    recipe = write_recipe(
        tmp_path / "r.jsonl",
        [
            source_line("talk.mp4", payload(18, 10), page),
            source_line("ok.mp4", data, server.url("/ok.mp4")),
        ],
    )
    outcomes = by_name(fetch(recipe, tmp_path / "videos"))
    assert outcomes["talk.mp4"].outcome == "failed"
    assert outcomes["talk.mp4"].via == "yt-dlp"
    assert YTDLP_INSTALL in (outcomes["talk.mp4"].message or "")
    assert page in (outcomes["talk.mp4"].message or "")
    assert outcomes["ok.mp4"].outcome == "downloaded"


FAKE_YTDLP = """#!{python}
import json, os, shutil, sys
args = sys.argv[1:]
with open(os.environ["FAKE_YTDLP_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if os.environ.get("FAKE_YTDLP_MODE") == "gone":
    print("WARNING: something", file=sys.stderr)
    print("ERROR: [youtube] abc123: Video unavailable", file=sys.stderr)
    sys.exit(1)
shutil.copyfile(os.environ["FAKE_YTDLP_FILE"], args[args.index("-o") + 1].replace("%(ext)s", "mp4"))
"""


def test_a_platform_url_goes_to_ytdlp_as_a_subprocess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = payload(19, 8_000)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "yt-dlp"
    fake.write_text(FAKE_YTDLP.format(python=sys.executable), encoding="utf-8")
    fake.chmod(0o755)
    (tmp_path / "served.mp4").write_bytes(data)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_YTDLP_LOG", str(tmp_path / "argv.jsonl"))
    monkeypatch.setenv("FAKE_YTDLP_FILE", str(tmp_path / "served.mp4"))
    page = "https://www.youtube.com/watch?v=abc123"
    recipe = write_recipe(tmp_path / "r.jsonl", [source_line("talk.mp4", data, page)])
    folder = tmp_path / "videos"
    (outcome,) = fetch(recipe, folder).outcomes
    assert (outcome.outcome, outcome.via) == ("downloaded", "yt-dlp")
    assert (folder / "talk.mp4").read_bytes() == data
    assert sorted(p.name for p in folder.iterdir()) == [".empathynet.lock", FETCH_JSON, "talk.mp4"]
    argv = json.loads((tmp_path / "argv.jsonl").read_text().splitlines()[0])
    assert argv[-2:] == ["--", page]
    assert "-f" in argv and "--no-playlist" in argv
    assert argv[argv.index("--merge-output-format") + 1] == "mp4"

    (folder / "talk.mp4").unlink()
    monkeypatch.setenv("FAKE_YTDLP_MODE", "gone")
    (outcome,) = fetch(recipe, folder).outcomes
    assert outcome.outcome == "vanished"
    assert outcome.message == f"{page}: yt-dlp: [youtube] abc123: Video unavailable"


def test_file_names_stay_in_the_folder_and_apart(server: Served, tmp_path: Path) -> None:
    first, second, third = payload(20, 100), payload(21, 100), payload(22, 100)
    server.files = {"/a.mp4": first, "/b.mp4": second, "/c.mp4": third}
    recipe = write_recipe(
        tmp_path / "r.jsonl",
        [
            source_line("../../evil/talk.mp4", first, server.url("/a.mp4")),
            source_line("TALK.mp4", second, server.url("/b.mp4")),
            source_line("fetch.json", third, server.url("/c.mp4")),
        ],
    )
    folder = tmp_path / "deep" / "videos"
    result = fetch(recipe, folder)
    assert all(o.outcome == "downloaded" for o in result.outcomes)
    names = sorted(o.file_name for o in result.outcomes)
    assert names == sorted(
        [
            f"{sha(first)[:16]}_talk.mp4",
            f"{sha(second)[:16]}_TALK.mp4",
            f"{sha(third)[:16]}_fetch.json",
        ]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "r.jsonl"]
    assert (folder / f"{sha(first)[:16]}_talk.mp4").read_bytes() == first


def test_a_bad_recipe_is_refused_in_one_line(tmp_path: Path) -> None:
    not_recipe = tmp_path / "notes.jsonl"
    not_recipe.write_text('{"kind": "cue"}\n', encoding="utf-8")
    newer = write_recipe(tmp_path / "newer.jsonl", [], format_version=2)
    broken = tmp_path / "broken.jsonl"
    write_recipe(broken, [source_line("a.mp4", b"a", None)])
    broken.write_text(broken.read_text() + '{"kind": "source", "sha\n', encoding="utf-8")
    for path, words in (
        (not_recipe, "not an EmpathyNet recipe"),
        (newer, "version 2"),
        (broken, "line 4"),
    ):
        with pytest.raises(RecipeError) as caught:
            fetch(path, tmp_path / "videos")
        text = str(caught.value)
        assert text.startswith(str(path)) and words in text and "\n" not in text
    assert not (tmp_path / "videos").exists()


def test_a_dataset_a_foreign_fetch_json_or_a_held_folder_is_refused(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "r.jsonl", [source_line("a.mp4", b"a", None)])
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "dataset.json").write_text("{}", encoding="utf-8")
    with pytest.raises(EmpathyNetError, match="a dataset folder"):
        fetch(recipe, dataset)
    assert sorted(p.name for p in dataset.iterdir()) == ["dataset.json"]

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / FETCH_JSON).write_text('{"mine": true}', encoding="utf-8")
    with pytest.raises(EmpathyNetError, match="did not write"):
        fetch(recipe, foreign)

    held = tmp_path / "held"
    held.mkdir()
    fd = os.open(held / ".empathynet.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"4242\n")
        with pytest.raises(
            DatasetError, match=r"in use by another empathynet process \(pid 4242\)"
        ):
            fetch(recipe, held)
    finally:
        os.close(fd)
    assert fetch(recipe, held).outcomes[0].outcome == "no_url"  # free again


def test_the_command_prints_lines_and_exits_1_when_a_source_is_missing(
    server: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="empathynet")
    fetch_cmd.add_parser(parser.add_subparsers(dest="command"))
    data = payload(23, 5_000)
    server.files = {"/ok.mp4": data}
    good = write_recipe(
        tmp_path / "good.jsonl", [source_line("ok.mp4", data, server.url("/ok.mp4"))]
    )
    args = parser.parse_args(["fetch", str(good), "--to", str(tmp_path / "a"), "--no-progress"])
    assert args.run(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"fetch: 1 source into {tmp_path / 'a'}: 1 downloaded")
    assert out[-1] == f"  outcomes: {tmp_path / 'a' / FETCH_JSON}"

    bad = write_recipe(
        tmp_path / "bad.jsonl",
        [
            source_line("ok.mp4", data, server.url("/ok.mp4")),
            source_line("gone.mp4", payload(24, 10), server.url("/gone.mp4")),
        ],
    )
    args = parser.parse_args(["fetch", str(bad), "--to", str(tmp_path / "b"), "--no-progress"])
    assert args.run(args) == 1
    out = capsys.readouterr().out.splitlines()
    assert "1 downloaded, 1 vanished" in out[0]
    assert out[1] == f"  vanished: gone.mp4: {server.url('/gone.mp4')}: HTTP 404 Not Found"


def test_progress_counts_bytes_on_stderr(
    server: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = payload(25, 3_000)
    server.files = {"/talk.mp4": data}
    recipe = write_recipe(
        tmp_path / "r.jsonl", [source_line("talk.mp4", data, server.url("/talk.mp4"))]
    )
    fetch_recipe(recipe, tmp_path / "videos", progress=True)
    err = capsys.readouterr().err
    assert "talk.mp4: 3000/3000 bytes (100%)" in err
    assert "talk.mp4: downloaded 3.0 kB" in err
