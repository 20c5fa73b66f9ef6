"""The report's other pages: the filterable row table and its data files, the source
pages with their timelines, the glossary, the title, and the plain words for rejections."""

from __future__ import annotations

import json
from pathlib import Path

import markupsafe
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.data.schemas import SOURCE_SCHEMA
from empathynet.evaluate.leaderboard import Board, BoardRow
from empathynet.pipeline.build import set_dataset_title
from empathynet.report import html as report_html
from empathynet.report.html import why_line, write_report
from empathynet.store.atomic import atomic_write_table
from empathynet.store.layout import DatasetLayout
from empathynet.testing.synthetic import write_synthetic_dataset

EVIL_TITLE = '<img src=x onerror="alert(1)"> & </script>'


def _chunk_rows(path: Path) -> list[list[object]]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("EmpathyNet.chunk(") and text.endswith(");\n")
    payload: dict[str, list[list[object]]] = json.loads(text[len("EmpathyNet.chunk(") : -3])
    return payload["rows"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site") / "ds"
    write_synthetic_dataset(root, cue_groups=30, sources=3, media=True, rejected=6)
    layout = DatasetLayout(root)
    sources = pq.read_table(layout.sources_parquet).to_pylist()
    sources[0].update(title=EVIL_TITLE, url="javascript:alert(1)", licence="CC-BY-4.0")
    sources[1].update(title="Second talk", url="https://example.org/talk?a=1&b=2")
    atomic_write_table(layout.sources_parquet, pa.Table.from_pylist(sources, schema=SOURCE_SCHEMA))
    set_dataset_title(root, "A  demo   of <b>cues</b>")
    board = Board(
        [
            BoardRow("t", "mcq", "face", "accuracy", 0, None, None, None, "not run: no face"),
            BoardRow("t", "mcq", "prosody", "accuracy", 0, None, None, None, "not run: no face"),
            BoardRow("t", "mcq", "random", "accuracy", 8, 0.25, 0.0, 0.5),
        ],
        {"t": "passed"},
    )
    write_report(root, leaderboard=board)
    return root


def test_the_row_table_holds_every_row_in_its_data_files(site: Path) -> None:
    reports = site / "reports"
    table = pq.read_table(site / "cues")
    chunks = sorted((reports / "data").glob("cues-*.js"))
    assert [c.name for c in chunks] == ["cues-0000.js"]
    rows = _chunk_rows(chunks[0])
    assert sorted(r[0] for r in rows) == sorted(table.column("cue_id").to_pylist())
    texts = dict(
        zip(table.column("cue_id").to_pylist(), table.column("text").to_pylist(), strict=True)
    )
    assert all(row[7] == texts[row[0]] for row in rows)  # exact text, whatever it holds
    page = (reports / "cues.html").read_text(encoding="utf-8")
    for element in (
        "filter-status",
        "filter-reason",
        "filter-class",
        "filter-source",
        "filter-text",
        "cue-table",
        "page-next",
        "page-prev",
        "cue-detail",
    ):
        assert f'id="{element}"' in page
    assert '<script src="assets/cues.js"></script>' in page
    assert (reports / "assets" / "cues.js").is_file()
    start = page.split("EmpathyNet.start(", 1)[1].split(");</script>", 1)[0]
    assert "<" not in start and EVIL_TITLE not in page  # inline JSON cannot close the script
    values = json.loads(start)
    assert values["chunks"] == ["data/cues-0000.js"] and values["total"] == table.num_rows
    assert EVIL_TITLE in [s["name"] for s in values["sources"]]


def test_rejected_rows_carry_why_and_accepted_rows_their_media(site: Path) -> None:
    rows = _chunk_rows(site / "reports" / "data" / "cues-0000.js")
    accepted = [r for r in rows if r[4] == 0]
    assert accepted and all(isinstance(r[8], dict) and len(r[8]["s"]) == 5 for r in accepted)
    # the standard layout keeps only file names: the script puts the cue's folder back
    assert all("/" not in name for r in accepted for name in r[8]["s"])
    rejected = [r for r in rows if r[4] == 1]
    assert len(rejected) == 6


def test_sources_have_pages_with_a_timeline_and_safe_links(site: Path) -> None:
    reports = site / "reports"
    listing = (reports / "sources.html").read_text(encoding="utf-8")
    assert EVIL_TITLE not in listing and str(markupsafe.escape(EVIL_TITLE)) in listing
    assert 'href="javascript:' not in listing  # a URL is linked only when it is http(s)
    assert 'href="https://example.org/talk?a=1&amp;b=2"' in listing
    sources = pq.read_table(site / "sources.parquet").to_pylist()
    table = pq.read_table(site / "cues").to_pylist()
    for source in sources:
        page = (reports / "sources" / f"{source['source_id']}.html").read_text(encoding="utf-8")
        own = [r for r in table if r["source_id"] == source["source_id"]]
        assert page.count('<a href="#row-') == len(own)  # one mark per sentence
        assert all(f'id="row-{r["cue_id"]}"' in page for r in own)
        assert source["sha256"] is None or source["sha256"] in page


def test_title_glossary_and_notes_said_once(site: Path) -> None:
    index = (site / "reports" / "index.html").read_text(encoding="utf-8")
    assert "<title>A demo of &lt;b&gt;cues&lt;/b&gt; \u2013 EmpathyNet report</title>" in index
    assert index.count("not run: no face") == 1
    assert "face, prosody: not run: no face" in index
    assert "<dt>no_face</dt><dd>no face was found in the frames of the sentence</dd>" in index
    assert 'id="glossary"' in index and "bits per dimension" in index
    assert '<figure class="plot" id="plot-durations">' in index


def test_a_smaller_report_removes_its_stale_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(root, cue_groups=12, sources=2, media=False)
    monkeypatch.setattr(report_html, "CHUNK_ROWS", 5)
    write_report(root, max_cues=0)
    data = root / "reports" / "data"
    assert sorted(p.name for p in data.glob("*.js")) == [
        "cues-0000.js",
        "cues-0001.js",
        "cues-0002.js",
    ]
    (root / "reports" / "data" / "notes.txt").write_text("mine", encoding="utf-8")
    monkeypatch.setattr(report_html, "CHUNK_ROWS", 10)
    write_report(root, max_cues=0)
    assert sorted(p.name for p in data.iterdir()) == ["cues-0000.js", "cues-0001.js", "notes.txt"]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"reason": "face_too_small", "face_size_fraction": 0.12, "start_ms": 0},
            "face size 0.120 of the frame (dims), below the gate 0.2",
        ),
        (
            {"reason": "face_too_small", "face_width_fraction": 0.3, "face_height_fraction": 0.1},
            "face size 0.100 of the frame (dims), below the gate 0.2",
        ),
        (
            {"reason": "shot_cut", "start_ms": 1000, "shot_cut_ms": 1840},
            "the shot cuts at 00:00:01.840, 840 ms into the sentence",
        ),
        (
            {"reason": "not_speaking", "mouth_activity": 0.0012, "voiced_fraction": 0.8},
            "mouth activity 0.0012 (landmarks), below the still threshold 0.003, while the "
            "voice is active in 80 % of the frames",
        ),
        (
            {"reason": "shot_cut", "start_ms": 0, "shot_cut_ms": 500, "thumb_ms": 400},
            "the shot cuts at 00:00:00.500, 500 ms into the sentence; the picture is from "
            "before the cut",
        ),
        (
            {"reason": "out_of_sync", "speaking_score": 0.12},
            "speaking score 0.120 (mouth against voice, r)",
        ),
        ({"reason": "too_short"}, None),
    ],
)
def test_why_line(row: dict[str, object], expected: str | None) -> None:
    gates = report_html._Thresholds(still_landmarks=0.003, still_pixels=0.002)
    assert why_line(row, gates) == expected
