"""Provenance: a sources file (CSV / JSON Lines) or yt-dlp's info file gives each source its
URL, licence, title and speaker; every source row keeps them with the file's SHA-256."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import demo_clips_in
from empathynet.demo import DemoClip
from empathynet.errors import DatasetError
from empathynet.pipeline.build import build_dataset
from empathynet.pipeline.provenance import SourcesFileError, read_info_json, read_sources_file


def _sources(dataset: Path) -> dict[str, dict[str, object]]:
    rows = pq.read_table(dataset / "sources.parquet").to_pylist()
    return {Path(str(row["path"])).name: row for row in rows}


def test_csv_rows_keyed_by_resolved_path(tmp_path: Path) -> None:
    listed = tmp_path / "lists" / "sources.csv"
    listed.parent.mkdir()
    listed.write_text(
        "path,url,License,title,speaker,year\n"
        "../videos/a.mp4,https://example.org/a,CC-BY-4.0,Talk A,Ann,2019\n"
        "\n"
        "/abs/b.mkv,,,,,\n",
        encoding="utf-8",
    )
    found = read_sources_file(listed)
    first = found[(tmp_path / "videos" / "a.mp4").resolve()]
    assert (first.url, first.licence, first.title, first.speaker, first.year) == (
        "https://example.org/a",
        "CC-BY-4.0",
        "Talk A",
        "Ann",
        2019,
    )
    assert first.origin == "sources:sources.csv"
    empty = found[Path("/abs/b.mkv")]
    assert (empty.url, empty.licence, empty.title) == (None, None, None)


def test_jsonl_rows(tmp_path: Path) -> None:
    listed = tmp_path / "sources.jsonl"
    listed.write_text(
        json.dumps({"path": "a.mp4", "url": "https://example.org/a", "licence": "CC0"})
        + "\n\n"
        + json.dumps({"path": "b.mp4", "year": 2001})
        + "\n",
        encoding="utf-8",
    )
    found = read_sources_file(listed)
    assert found[(tmp_path / "a.mp4").resolve()].licence == "CC0"
    assert found[(tmp_path / "b.mp4").resolve()].year == 2001


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("s.csv", "path,colour\na.mp4,red\n", "line 2: unknown column 'colour'"),
        ("s.csv", "path,url\n,https://x\n", "line 2: no path"),
        ("s.csv", "path\na.mp4\n./a.mp4\n", "line 3: ./a.mp4 is listed twice"),
        ("s.csv", "path,year\na.mp4,last year\n", "line 2: year must be a year"),
        ("s.csv", "path,url\na.mp4,x,y\n", "line 2: more fields than the header"),
        ("s.csv", "path,url\n", "no rows"),
        ("s.csv", "", "empty file"),
        ("s.jsonl", '{"path": "a.mp4"}\n[1]\n', "line 2: expected a JSON object"),
        ("s.jsonl", '{"path": "a.mp4"\n', "line 1: not JSON"),
        ("s.jsonl", '{"path": "a.mp4", "title": ["x"]}\n', "line 1: title must be text"),
    ],
)
def test_bad_sources_files_name_file_and_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesFileError) as caught:
        read_sources_file(path)
    assert message in str(caught.value)
    assert name in str(caught.value)
    assert "\n" not in str(caught.value)


def test_sources_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("path,title\na.mp4,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(SourcesFileError, match="not UTF-8"):
        read_sources_file(path)


def test_info_json_of_yt_dlp(tmp_path: Path) -> None:
    video = tmp_path / "Talk [abc123].mp4"
    assert read_info_json(video) is None
    (tmp_path / "Talk [abc123].info.json").write_text(
        json.dumps(
            {
                "id": "abc123",
                "webpage_url": "https://video.example/watch?v=abc123",
                "title": "A talk",
                "license": "Creative Commons Attribution license (reuse allowed)",
                "uploader": "Someone",
                "upload_date": "20180412",
                "language": "en",
            }
        ),
        encoding="utf-8",
    )
    found = read_info_json(video)
    assert found is not None
    assert found.url == "https://video.example/watch?v=abc123"
    assert (found.title, found.attribution, found.year, found.language) == (
        "A talk",
        "Someone",
        2018,
        "en",
    )
    assert found.licence is not None and found.licence.startswith("Creative Commons")
    (tmp_path / "Talk [abc123].info.json").write_text("[]", encoding="utf-8")
    with pytest.raises(SourcesFileError, match="not a yt-dlp info file"):
        read_info_json(video)


@pytest.fixture(scope="module")
def two_clips(
    demo_media: list[DemoClip], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """Copies of the demo's large_face and dialogue clips with their subtitles."""
    pytest.importorskip("mediapipe")
    folder = tmp_path_factory.mktemp("provenance") / "videos"
    demo_clips_in(demo_media, ("large_face", "dialogue"), folder)
    return folder / "large_face.mp4", folder / "dialogue.mp4"


def test_build_keeps_provenance_and_sha256(two_clips: tuple[Path, Path], tmp_path: Path) -> None:
    large, dialogue = two_clips
    listed = tmp_path / "sources.csv"
    listed.write_text(
        "path,url,licence,title,speaker\n"
        f"{large},https://example.org/large.mp4,CC-BY-4.0,Large face,Lena\n"
        f"{tmp_path / 'gone.mp4'},https://example.org/gone.mp4,CC0,Gone,\n",
        encoding="utf-8",
    )
    info = dialogue.with_name("dialogue.info.json")
    info.write_text(
        json.dumps({"webpage_url": "https://video.example/d", "title": "Dialogue"}),
        encoding="utf-8",
    )
    try:
        summary = build_dataset(
            [dialogue],
            tmp_path / "ds",
            sources_file=listed,
            progress=False,
            log=lambda line: None,
        )
    finally:
        info.unlink()
    rows = _sources(tmp_path / "ds")
    first = rows["large_face.mp4"]
    assert first["url"] == "https://example.org/large.mp4"
    assert (first["licence"], first["title"], first["speaker"]) == (
        "CC-BY-4.0",
        "Large face",
        "Lena",
    )
    assert first["provenance"] == "sources:sources.csv"
    assert first["sha256"] == hashlib.sha256(large.read_bytes()).hexdigest()
    assert first["size_bytes"] == large.stat().st_size
    second = rows["dialogue.mp4"]
    assert (second["url"], second["title"], second["provenance"]) == (
        "https://video.example/d",
        "Dialogue",
        "info.json",
    )
    assert second["licence"] is None
    # the listed file that is not there is counted, not fatal
    assert [s.reason for s in summary.skipped_inputs] == ["listed in sources.csv but not found"]
    # the source's speaker goes to its sentences that the subtitles name no speaker of
    cues = pq.read_table(tmp_path / "ds" / "cues").to_pylist()
    speakers = {row["speaker"] for row in cues if row["source_id"] == first["source_id"]}
    assert speakers == {"Lena"}


def test_changed_speaker_is_refused_on_resume(two_clips: tuple[Path, Path], tmp_path: Path) -> None:
    large, _ = two_clips
    listed = tmp_path / "sources.csv"
    listed.write_text(f"path,speaker\n{large},Lena\n", encoding="utf-8")
    build_dataset([], tmp_path / "ds", sources_file=listed, progress=False, log=lambda _: None)
    listed.write_text(f"path,speaker\n{large},Maria\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"speaker of large_face\.mp4 changed"):
        build_dataset([], tmp_path / "ds", sources_file=listed, progress=False, log=lambda _: None)
    # the same speaker again resumes with nothing to do
    listed.write_text(f"path,speaker\n{large},Lena\n", encoding="utf-8")
    again = build_dataset(
        [], tmp_path / "ds", sources_file=listed, progress=False, log=lambda _: None
    )
    assert again.chunks_written == 0 and again.chunks_skipped > 0
