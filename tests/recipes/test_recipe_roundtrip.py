"""The recipe round trip: build with URLs -> recipe export -> serve the media on 127.0.0.1
-> fetch -> build --recipe gives the same cue ids, labels and task items, byte for byte;
a source whose bytes differ is reported, not used."""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from empathynet.cli.main import main
from empathynet.demo import DemoClip
from empathynet.labels import import_labels
from empathynet.pipeline.build import build_dataset
from empathynet.recipes import RecipeError, build_from_recipe, export_recipe, read_recipe
from empathynet.recipes.fetch import fetch_recipe
from empathynet.tasks.make import TaskRequest, make_task

TASKS = ("cls", "gen")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static HTTP server on 127.0.0.1 over an empty folder: (base URL, folder)."""
    folder = tmp_path_factory.mktemp("served")
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def original(
    demo_media: list[DemoClip],
    server: tuple[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    """The demo clips served over HTTP, a dataset built from them with a sources file of
    their URLs, with the demo's votes and two tasks, and its recipe: (dataset, recipe)."""
    pytest.importorskip("mediapipe")
    from empathynet.demo.labels import write_demo_labels

    base, served = server
    work = tmp_path_factory.mktemp("original")
    listed = work / "sources.csv"
    with listed.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "url", "licence", "title"])
        for clip in demo_media:
            shutil.copy(clip.video_path, served / clip.video_path.name)
            url = f"{base}/{clip.video_path.name}"
            writer.writerow([clip.video_path, url, "CC-BY-4.0", f"Demo: {clip.description}"])
    dataset = work / "ds"
    build_dataset([], dataset, sources_file=listed, progress=False, log=lambda line: None)
    import_labels(dataset, write_demo_labels(dataset, work / "labels.csv"))
    make_task(dataset, TaskRequest(family="classification", query="text+stills", name="cls"))
    make_task(
        dataset,
        TaskRequest(family="generation", query="stills", answer="audio_blur", name="gen"),
    )
    recipe = work / "recipe.jsonl"
    export_recipe(dataset, recipe)
    return dataset, recipe


def _rows(dataset: Path) -> dict[str, dict[str, object]]:
    """Every cue row by id, without the columns that name the local file."""
    table = pq.read_table(dataset / "cues")
    return {
        row["cue_id"]: {k: v for k, v in row.items() if k != "error"} for row in table.to_pylist()
    }


def _media(dataset: Path) -> dict[str, str]:
    folder = dataset / "media"
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_recipe_holds_no_media_and_no_local_path(original: tuple[Path, Path]) -> None:
    dataset, recipe = original
    text = recipe.read_text(encoding="utf-8")
    assert str(dataset.parent) not in text  # no local path
    lines = [json.loads(line) for line in text.splitlines()]
    kinds = {line["kind"] for line in lines}
    assert kinds == {"recipe", "source", "cue", "taxonomy", "labels", "vote", "task"}
    assert all("path" not in line for line in lines if line["kind"] == "source")
    sources = pq.read_table(dataset / "sources.parquet").to_pylist()
    assert {line["sha256"] for line in lines if line["kind"] == "source"} == {
        row["sha256"] for row in sources
    }
    # the same dataset writes the same bytes
    again = recipe.with_name("again.jsonl")
    export_recipe(dataset, again)
    assert again.read_bytes() == recipe.read_bytes()


def test_round_trip_reproduces_ids_labels_and_task_items(
    original: tuple[Path, Path], tmp_path: Path
) -> None:
    dataset, recipe = original
    fetched = fetch_recipe(recipe, tmp_path / "fetched", progress=False, log=lambda line: None)
    assert fetched.complete, fetched.lines()
    result = build_from_recipe(
        recipe, [tmp_path / "fetched"], tmp_path / "rebuilt", progress=False, log=lambda _: None
    )
    assert result.exact, result.lines()
    before, after = _rows(dataset), _rows(tmp_path / "rebuilt")
    accepted = sorted(k for k, row in before.items() if row["status"] == "accepted")
    assert accepted and accepted == sorted(k for k, r in after.items() if r["status"] == "accepted")
    assert before == after  # every row, timing aside (media paths, face boxes, blur figures)
    assert _media(dataset) == _media(tmp_path / "rebuilt")
    aggregate = "labels/aggregate.parquet"
    assert pq.read_table(dataset / aggregate).equals(
        pq.read_table(tmp_path / "rebuilt" / aggregate)
    )
    for task in TASKS:
        for split in ("train", "validation", "test"):
            name = f"tasks/{task}/{split}.parquet"
            assert (dataset / name).read_bytes() == (tmp_path / "rebuilt" / name).read_bytes()
    assert set(result.tasks_identical) == set(TASKS)
    rebuilt_sources = pq.read_table(tmp_path / "rebuilt" / "sources.parquet").to_pylist()
    assert {s["url"] for s in rebuilt_sources} == {
        s["url"] for s in pq.read_table(dataset / "sources.parquet").to_pylist()
    }
    # a second run resumes with nothing to redo
    again = build_from_recipe(
        recipe, [tmp_path / "fetched"], tmp_path / "rebuilt", progress=False, log=lambda _: None
    )
    assert again.exact and again.build.chunks_written == 0


def test_changed_bytes_are_reported_not_used(
    original: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset, recipe = original
    folder = tmp_path / "videos"
    folder.mkdir()
    sources = pq.read_table(dataset / "sources.parquet").to_pylist()
    for source in sources:
        shutil.copy(source["path"], folder / Path(source["path"]).name)
    large = next(s for s in sources if Path(s["path"]).name == "large_face.mp4")
    target = folder / "large_face.mp4"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a byte the content id does not sample
    target.write_bytes(bytes(data))
    status = main(
        [
            "build",
            "--recipe",
            str(recipe),
            str(folder),
            "--out",
            str(tmp_path / "re"),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "NOT reproduced exactly" in out
    assert f"source {large['source_id']}: not among the inputs" in out
    report = json.loads((tmp_path / "re" / "reports" / "recipe.json").read_text())
    assert report["sources_missing"] == [large["source_id"]]
    skipped = report["build"]["skipped_inputs"]
    assert [s["reason"][:34] for s in skipped if s["path"].endswith("large_face.mp4")] == [
        "its bytes differ from the recipe's"
    ]
    rows = _rows(tmp_path / "re")
    assert not any(row["source_id"] == large["source_id"] for row in rows.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"kind": "source"}\n', "line 1: not an EmpathyNet recipe"),
        (
            '{"kind": "recipe", "format": "empathynet-recipe", "format_version": 9}\n',
            "recipe format version 9",
        ),
        (
            '{"kind": "recipe", "format": "empathynet-recipe", "format_version": 1}\n{oops\n',
            "line 2: not JSON",
        ),
        (
            '{"kind": "recipe", "format": "empathynet-recipe", "format_version": 1}\n'
            '{"kind": "source", "source_id": "ab"}\n',
            "line 2: a source line without a usable 'sha256'",
        ),
        ("", "empty file"),
    ],
)
def test_bad_recipes_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecipeError) as caught:
        read_recipe(path)
    assert message in str(caught.value) and "r.jsonl" in str(caught.value)


def test_recipes_after_a_takedown_leave_it_out(original: tuple[Path, Path], tmp_path: Path) -> None:
    from empathynet.errors import DatasetError
    from empathynet.store.removals import remove_from_dataset
    from empathynet.tasks.make import request_from_spec
    from empathynet.tasks.spec import read_spec_values

    source, _ = original
    dataset = tmp_path / "ds"
    shutil.copytree(source, dataset)
    accepted = sorted(k for k, row in _rows(dataset).items() if row["status"] == "accepted")
    removed = accepted[0]
    remove_from_dataset(dataset, cue_ids=[removed], reason="asked by the speaker")
    # tasks made before the removal name it: no recipe until they are made again
    with pytest.raises(DatasetError, match=r"uses? removed cue groups"):
        export_recipe(dataset, tmp_path / "stale.jsonl")
    assert not (tmp_path / "stale.jsonl").exists()
    for task in TASKS:
        make_task(dataset, request_from_spec(read_spec_values(dataset, task)), overwrite=True)
    made = export_recipe(dataset, tmp_path / "recipe.jsonl")
    text = (tmp_path / "recipe.jsonl").read_text(encoding="utf-8")
    assert removed not in text
    assert made.accepted == len(accepted) - 1


def test_a_recipe_rebuilds_the_same_on_ray(original: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray is not installed (pip install 'empathynet[ray]')")
    dataset, recipe = original
    fetched = fetch_recipe(recipe, tmp_path / "fetched", progress=False, log=lambda line: None)
    assert fetched.complete, fetched.lines()
    out = tmp_path / "rebuilt"
    command = ["build", "--recipe", str(recipe), str(tmp_path / "fetched"), "--out", str(out)]
    assert main([*command, "--engine", "ray", "--workers", "2", "--no-progress"]) == 0
    assert json.loads((out / "reports" / "recipe.json").read_text())["exact"] is True
    assert json.loads((out / "reports" / "build.json").read_text())["engine"]["name"] == "ray"
    assert _rows(dataset) == _rows(out)
    assert _media(dataset) == _media(out)
