"""The HTML report: well-formed, links only to existing files inside the dataset,
escapes the dataset's text, and shows the counts ``summarize`` gives."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markupsafe
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.cli import report as report_cmd
from empathynet.data.schemas import CUE_SCHEMA, SOURCE_SCHEMA
from empathynet.errors import DatasetError, PathEscapeError
from empathynet.evaluate.leaderboard import Board, BoardRow
from empathynet.labels import LabelsLayout, import_labels, read_aggregate
from empathynet.pipeline.build import summarize
from empathynet.report import escape_text, media_href, render_report, write_report
from empathynet.store.atomic import atomic_write_table
from empathynet.store.layout import DatasetLayout
from empathynet.tasks import TaskRequest, make_task
from empathynet.tasks.spec import read_spec_values
from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv

VOID = {"meta", "img", "br", "hr", "input", "link", "source", "wbr"}
EVIL_TEXT = '<script>alert("x")</script> & <b>bold</b>'
EVIL_SPEAKER = '"><img src=x onerror=alert(1)>'
EVIL_ERROR = "decoder said <boom> & stopped"
EVIL_SOURCE_REASON = "source.mp4: <not a video>"


@dataclass
class Page:
    """What a strict parse of the page found."""

    tags: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  #: (tag, src/href/poster)
    ids: set[str] = field(default_factory=set)
    counts: dict[str, list[str]] = field(default_factory=dict)  #: data-count -> cell texts
    articles: list[str] = field(default_factory=list)  #: cue card ids, in page order
    labels: list[str] = field(default_factory=list)  #: label badges, in page order


class StrictParser(HTMLParser):
    """Fails on an unclosed or mismatched element; collects links, ids and counts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[str] = []
        self.capture: tuple[str, str] | None = None  #: (kind, key) of the open capture
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.page.tags.append(tag)
        for name in ("src", "href", "poster"):
            if name in values:
                self.page.links.append((tag, values[name]))
        if "id" in values:
            assert values["id"] not in self.page.ids, f"duplicate id {values['id']}"
            self.page.ids.add(values["id"])
        if tag == "article":
            self.page.articles.append(values["id"])
        if tag not in VOID:
            self.stack.append(tag)
            if "data-count" in values:
                self.capture, self.text = ("count", values["data-count"]), []
            elif values.get("class") == "label":
                self.capture, self.text = ("label", ""), []

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"end tag of void element {tag}"
        assert self.stack, f"</{tag}> without an open element"
        opened = self.stack.pop()
        assert opened == tag, f"</{tag}> closes <{opened}>"
        if self.capture is not None and tag in ("td", "span"):
            kind, key = self.capture
            text = "".join(self.text).strip()
            if kind == "count":
                self.page.counts.setdefault(key, []).append(text)
            else:
                self.page.labels.append(text)
            self.capture = None

    def handle_data(self, data: str) -> None:
        if self.capture is not None:
            self.text.append(data)


def parse(html_text: str) -> Page:
    parser = StrictParser()
    parser.feed(html_text)
    parser.close()
    assert parser.stack == ["html"] or parser.stack == [], f"unclosed: {parser.stack}"
    return parser.page


def _rewrite_part(root: Path) -> tuple[str, str]:
    """Put hostile text, bad and missing media paths into the manifest and sources.

    Returns the cue ids of the cue with the hostile text and the cue with bad paths."""
    layout = DatasetLayout(root)
    part = sorted(layout.cues_dir.glob("part-*.parquet"))[0]  # the first source's rows
    rows = pq.read_table(part).to_pylist()
    accepted = sorted((r for r in rows if r["status"] == "accepted"), key=lambda r: r["cue_id"])
    evil, broken = accepted[0], accepted[1]
    evil["text"], evil["speaker"] = EVIL_TEXT, EVIL_SPEAKER
    evil.update(f0_correlation=0.9984, speaking_rate_ratio=1.02, wer_blur=0.25)
    evil.update(may_be_intelligible=True, face_width_fraction=0.3125)
    (root.parent / "outside.jpg").write_bytes(b"not for the report")
    broken["still_paths"] = ["../outside.jpg", *broken["still_paths"][1:]]
    broken["face_crop_paths"] = ["/etc/hostname", *broken["face_crop_paths"][1:]]
    layout.resolve(broken["audio_blur_path"]).unlink()
    failed = next(r for r in rows if r["status"] == "rejected")
    failed.update(status="failed", reason="corrupt_media", error=EVIL_ERROR)
    atomic_write_table(part, pa.Table.from_pylist(rows, schema=CUE_SCHEMA))
    sources = pq.read_table(layout.sources_parquet).to_pylist()
    sources[0].update(status="failed", reason=EVIL_SOURCE_REASON)
    atomic_write_table(layout.sources_parquet, pa.Table.from_pylist(sources, schema=SOURCE_SCHEMA))
    return evil["cue_id"], broken["cue_id"]


@dataclass(frozen=True)
class Written:
    root: Path
    page_path: Path
    html: str
    page: Page
    evil_id: str
    broken_id: str
    task: str


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    base = tmp_path_factory.mktemp("report")
    dataset = write_synthetic_dataset(
        base / "my ds#1", cue_groups=20, sources=4, media=True, rejected=5
    )
    root = dataset.root
    write_votes_csv(base / "votes.csv", dataset.truth)
    import_labels(root, base / "votes.csv")
    task = make_task(root, TaskRequest(family="classification", query="text")).name
    evil_id, broken_id = _rewrite_part(root)
    board = Board(
        [
            BoardRow(task, "classification", "majority", "top1", 3, 0.3333, 0.0, 1.0),
            BoardRow(task, "classification", "<evil>", "top1", 0, None, None, None, "not run"),
        ],
        {task: "FAILED: option-only <x>"},
    )
    page_path = write_report(root, leaderboard=board)
    html_text = page_path.read_text(encoding="utf-8")
    return Written(root, page_path, html_text, parse(html_text), evil_id, broken_id, task)


def test_the_page_is_written_well_formed_and_self_contained(written: Written) -> None:
    assert written.page_path == written.root / "reports" / "index.html"
    assert written.html.startswith("<!DOCTYPE html>")
    assert "script" not in written.page.tags
    assert len(written.page.articles) == 20
    for _, link in written.page.links:
        assert urlsplit(link).scheme == "" and not link.startswith(("/", "//")), link
        if link.startswith("#"):
            assert link[1:] in written.page.ids, link


def test_every_link_is_an_existing_file_inside_the_dataset(written: Written) -> None:
    root = written.root.resolve()
    files = [(tag, link) for tag, link in written.page.links if not link.startswith("#")]
    for _, link in files:
        target = (written.page_path.parent / unquote(urlsplit(link).path)).resolve()
        assert root in target.parents and target.is_file(), link
    media = [(tag, link) for tag, link in files if link.startswith("../media/")]
    by_tag = {tag: sum(1 for t, _ in media if t == tag) for tag in ("img", "audio", "video")}
    # 20 cue groups x 10 images, less the refused still and face crop of the broken cue
    assert by_tag == {"img": 198, "audio": 39, "video": 40}  # video: src and poster


def test_blur_and_face_figures_are_shown(written: Written) -> None:
    card = written.html.split(f'id="cue-{written.evil_id}"')[1].split("</article>")[0]
    assert "<th>F0 correlation</th><td>0.998</td>" in card
    assert "<th>speaking-rate ratio</th><td>1.020</td>" in card
    assert '<th>WER blurred</th><td>0.250 <span class="bad">may be intelligible</span>' in card
    assert "0.312 / \u2013 / \u2013" in card  # face width known, height and area not
    other = written.html.split(f'id="cue-{written.broken_id}"')[1].split("</article>")[0]
    assert "WER blurred" not in other  # only after blur verify


def test_bad_and_missing_media_are_shown_not_linked(written: Written) -> None:
    assert "outside.jpg" not in " ".join(link for _, link in written.page.links)
    assert "/etc/hostname" not in " ".join(link for _, link in written.page.links)
    assert "still 0 refused (leaves the dataset): <code>../outside.jpg</code>" in written.html
    assert "face 0 refused (leaves the dataset): <code>/etc/hostname</code>" in written.html
    assert "blurred audio missing" in written.html
    assert "Media not linked: 1 missing, 2 refused" in written.html


def test_text_from_the_dataset_is_escaped(written: Written) -> None:
    for raw in (EVIL_TEXT, EVIL_SPEAKER, EVIL_ERROR, EVIL_SOURCE_REASON, "option-only <x>"):
        assert raw not in written.html
        assert str(markupsafe.escape(raw)) in written.html
    assert escape_text("<evil>") in written.html
    assert escape_text('a<b>"c"&\'d') == "a&lt;b&gt;&quot;c&quot;&amp;&#x27;d"
    assert escape_text(None) == "\u2013"


def test_counts_match_summarize(written: Written) -> None:
    summary = summarize(DatasetLayout(written.root)).to_dict()
    expected = {
        "sources": summary["sources"],
        "sources_failed": summary["sources_failed"],
        "utterances": summary["utterances"],
        **{f"status:{k}": summary["status"].get(k, 0) for k in ("accepted", "rejected", "failed")},
        **{f"reason:{k}": v for k, v in summary["reasons"].items()},
    }
    assert expected["status:failed"] == 1 and expected["sources_failed"] == 1
    shown = {k: v for k, v in written.page.counts.items() if not k.startswith("task:")}
    assert set(shown) == set(expected)
    for key, texts in shown.items():
        assert texts == [str(expected[key])] * len(texts), key
    assert written.page.counts["reason:no_face"] == ["4", "4"]  # header and rows section


def test_cues_are_first_by_id_with_their_aggregate_labels(written: Written) -> None:
    aggregate = read_aggregate(LabelsLayout(written.root).aggregate)
    assert aggregate is not None
    labels = {r["cue_id"]: r["label"] for r in aggregate[0].to_pylist()}
    cue_ids = [article.removeprefix("cue-") for article in written.page.articles]
    assert cue_ids == sorted(labels)
    assert written.page.labels == [labels[c] or "tie (unlabelled)" for c in cue_ids]


def test_tasks_and_leaderboard_are_shown(written: Written) -> None:
    spec = read_spec_values(written.root, written.task)
    for split, entry in spec["files"].items():
        assert written.page.counts[f"task:{written.task}:{split}"] == [str(entry["items"])]
    assert "0.333" in written.html and "[0.000, 1.000]" in written.html
    assert '<td class="bad">FAILED: option-only &lt;x&gt;</td>' in written.html


def test_max_cues_limits_the_cards(written: Written, tmp_path: Path) -> None:
    page = parse(render_report(written.root, max_cues=3))
    assert page.articles == written.page.articles[:3]
    assert "Showing 3 of 20 accepted cue groups" in render_report(written.root, max_cues=3)


def test_media_href_refuses_paths_leaving_the_dataset(written: Written) -> None:
    layout = DatasetLayout(written.root)
    for bad in ("../outside.jpg", "/etc/hostname", "media/../../outside.jpg", "media\\x.jpg"):
        with pytest.raises(PathEscapeError):
            media_href(layout, bad)
    assert media_href(layout, "media/none/missing.jpg") is None
    assert media_href(layout, "dataset.json") == "../dataset.json"
    odd = "media/odd name #1 %20.jpg"  # '#', '%' and spaces stay part of the path
    layout.resolve(odd).write_bytes(b"jpeg")
    assert media_href(layout, odd) == "../media/odd%20name%20%231%20%2520.jpg"
    layout.resolve(odd).unlink()


def test_a_folder_that_is_not_a_dataset_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no dataset\.json"):
        write_report(tmp_path)
    assert not (tmp_path / "reports").exists()


def test_cli_writes_the_report_and_prints_its_path(
    written: Written, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    report_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["report", str(written.root), "--max-cues", "2"])
    assert args.run(args) == 0
    assert capsys.readouterr().out.strip() == str(written.page_path)
    assert len(parse(written.page_path.read_text(encoding="utf-8")).articles) == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["report", str(written.root), "--max-cues", "-1"])
