"""The report in a real browser: headless Debian Chromium driven by playwright over file://.

A small synthetic dataset with real media (stills, face crops, WAV audio, face clips),
rejected rows with thumbnails and face boxes, a few failed rows, labels and a leaderboard
is written as a report; the test then checks what a reader sees: every image on the main
page loads, no page logs an error, the row table loads, filters and pages, a row's detail
shows its stills and plays its blurred audio, a source's timeline draws one mark per
sentence. Screenshots go to ``EMPATHYNET_SCREENSHOTS`` (default: pytest's temp folder).

Slow (a browser, real media): it runs only when asked for with ``-m slow``, as
``bash scripts/browser_test.sh`` does. Without playwright (extra ``browser``) or
``chromium`` on the PATH it is skipped with the reason; with
``EMPATHYNET_REQUIRE_BROWSER=1`` (set by that script) it fails instead. Playwright never
downloads a browser here: it launches the system's ``chromium`` (``EMPATHYNET_CHROMIUM``
overrides the path).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.data.schemas import CUE_SCHEMA, SOURCE_SCHEMA
from empathynet.evaluate.leaderboard import Board, BoardRow
from empathynet.labels import import_labels
from empathynet.media.encode import write_jpeg
from empathynet.report.html import write_report
from empathynet.store.atomic import atomic_write_table
from empathynet.store.layout import DatasetLayout
from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

pytestmark = pytest.mark.slow

ACCEPTED = 110
REJECTED = 50  # of which every FAILED_EVERY-th becomes a failed row: 160 rows, 2 pages
FAILED_EVERY = 8
SOURCES = 4
PAGE_ROWS = 100
CARDS = 12  # accepted cue groups on the main page (max_cues)
TITLES = ("Kitchen interview", "Harbour documentary", "Night drive", "Letters home")
REJECTED_TEXTS = (
    "I never said that to her.",
    "Come back tomorrow, we are closed.",
    "Where did you put the keys?",
    "You never listen to me!",
    "It is cold out there tonight.",
)
WORD = "Never"  # typed into the words filter (the filter ignores case)
#: Chromium flags of ../shared/DEPENDENCIES.md. ``--headless`` comes from playwright's
#: ``headless=True`` and its own fresh profile stands for ``--user-data-dir=$(mktemp -d)``
#: (playwright refuses that flag); autoplay lets the test call ``play()`` without a click.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
)
INSTALL_HINT = "bash scripts/browser_test.sh installs playwright and runs this test"


def _missing(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail when the browser step requires the test to run."""
    if os.environ.get("EMPATHYNET_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (EMPATHYNET_REQUIRE_BROWSER=1: the browser test must run)")
    pytest.skip(reason)


def _chromium() -> str:
    wanted = os.environ.get("EMPATHYNET_CHROMIUM") or "chromium"
    path = shutil.which(wanted)
    if not path:
        _missing(
            f"{wanted} not found: install Debian's chromium (apt-get install chromium) or set "
            "EMPATHYNET_CHROMIUM; never `playwright install`"
        )
    return str(path)


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    # A browser and real media are for a run that asks for slow tests by name, whatever
    # the project's default marker selection is (as the Label Studio live test).
    if "slow" not in str(request.config.getoption("markexpr") or ""):
        pytest.skip(f"browser test of the report: run it with -m slow ({INSTALL_HINT})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing(f"playwright is not installed (pip install -e '.[browser]'; {INSTALL_HINT})")
    executable = _chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("EMPATHYNET_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nreport screenshots: {path}")
    return path


@dataclass(frozen=True)
class Site:
    root: Path
    reports: Path
    rows: list[dict[str, Any]]  #: every manifest row (the columns the checks need)
    titles: dict[str, str]  #: source id -> title


def _thumbnail(path: Path, boxes: list[dict[str, float]], seed: int) -> None:
    """A 160x90 'middle frame': a plain background with a lighter patch per face box."""
    rng = np.random.default_rng(seed)
    pixels = np.empty((90, 160, 3), dtype=np.uint8)
    pixels[:] = rng.integers(40, 120, 3).astype(np.uint8)
    for box in boxes:
        left, top = int(160 * box["x"]), int(90 * box["y"])
        right, bottom = int(160 * (box["x"] + box["width"])), int(90 * (box["y"] + box["height"]))
        pixels[top:bottom, left:right] = (230, 190, 160)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_jpeg(path, pixels)


def _box(x: float, y: float, width: float, height: float) -> dict[str, float]:
    return {"x": x, "y": y, "width": width, "height": height, "score": 0.9}


def _realistic_rejections(root: Path) -> None:
    """Make the synthetic rejected rows look like a build's: times inside their source
    (after its accepted sentences), cue ids that follow the time, varied texts and
    reasons with what was measured, a thumbnail with face boxes for each media check, and
    every ``FAILED_EVERY``-th row failed (corrupt media, no thumbnail)."""
    layout = DatasetLayout(root)
    number = 0
    for part in layout.cue_parts():
        rows = pq.read_table(part).to_pylist()
        end = max((r["end_ms"] for r in rows if r["status"] == "accepted"), default=0)
        for row in rows:
            if row["status"] != "rejected":
                continue
            start = end + 700
            end = start + 1200 + 97 * (number % 11)
            row.update(start_ms=start, end_ms=end, text=REJECTED_TEXTS[number % 5])
            row["cue_id"] = f"{row['source_id']}-{start:09d}"
            folder = f"media/{row['source_id']}/{row['cue_id']}"
            if number % FAILED_EVERY == FAILED_EVERY - 1:
                row.update(status="failed", reason="corrupt_media", error="invalid NAL unit")
                number += 1
                continue
            reason = ("face_too_small", "several_faces", "no_face", "shot_cut")[number % 4]
            boxes = {
                "face_too_small": [_box(0.45, 0.3, 0.12, 0.2)],
                "several_faces": [_box(0.1, 0.2, 0.25, 0.45), _box(0.6, 0.25, 0.24, 0.42)],
                "no_face": [],
                "shot_cut": [_box(0.35, 0.2, 0.3, 0.5)],
            }[reason]
            row.update(reason=reason, thumb_path=f"{folder}/thumb.jpg", thumb_face_boxes=boxes)
            row["thumb_ms"] = (start + end) // 2
            if reason == "face_too_small":
                row.update(face_width_fraction=0.12, face_height_fraction=0.2)
            if reason == "shot_cut":
                row["shot_cut_ms"] = start + 400
            _thumbnail(layout.resolve(row["thumb_path"]), boxes, number)
            number += 1
        rows.sort(key=lambda r: r["cue_id"])
        atomic_write_table(part, pa.Table.from_pylist(rows, schema=CUE_SCHEMA))
    sources = pq.read_table(layout.sources_parquet).to_pylist()
    for source, title in zip(sources, TITLES, strict=False):
        source.update(title=title, licence="CC-BY-4.0", url="https://example.org/" + title[:5])
    atomic_write_table(layout.sources_parquet, pa.Table.from_pylist(sources, schema=SOURCE_SCHEMA))


@pytest.fixture(scope="module")
def site(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Site:
    base = tmp_path_factory.mktemp("browser")
    dataset = write_synthetic_dataset(
        base / "talks", cue_groups=ACCEPTED, sources=SOURCES, media=True, rejected=REJECTED
    )
    _realistic_rejections(dataset.root)
    import_labels(dataset.root, write_votes_csv(base / "votes.csv", dataset.truth))
    board = Board(
        [
            BoardRow("cls-text", "classification", "majority", "top1", 22, 0.318, 0.136, 0.5),
            BoardRow("cls-text", "classification", "random", "top1", 22, 0.182, 0.045, 0.364),
            BoardRow("cls-text", "classification", "prosody", "top1", 0, None, None, None, "n/a"),
        ],
        {"cls-text": "passed"},
    )
    index = write_report(dataset.root, leaderboard=board, max_cues=CARDS)
    columns = ["cue_id", "source_id", "status", "reason", "text", "thumb_face_boxes"]
    rows = pq.read_table(dataset.root / "cues", columns=columns).to_pylist()
    sources = pq.read_table(dataset.root / "sources.parquet").to_pylist()
    return Site(dataset.root, index.parent, rows, {s["source_id"]: s["title"] for s in sources})


@dataclass
class Watched:
    """A page and every error it logged: console errors, uncaught exceptions, failed loads."""

    page: Page
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    out = Watched(page)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            out.errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: out.errors.append(f"exception: {error}"))

    def failed(request: Request) -> None:
        # a media element aborts its own request once it has the metadata it wants
        if request.failure != "net::ERR_ABORTED":
            out.errors.append(f"failed: {request.url} {request.failure}")

    page.on("requestfailed", failed)
    try:
        yield out
    finally:
        context.close()


def _open(watched: Watched, path: Path) -> Page:
    watched.page.goto(path.resolve().as_uri(), wait_until="load")
    return watched.page


def _scroll_through(page: Page) -> None:
    """Scroll the whole page so that every lazily loaded image is fetched, then wait
    until every image has finished (loaded or failed)."""
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    for y in range(0, height + 900, 600):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(30)
    page.wait_for_function("Array.from(document.images).every((i) => i.complete)")
    page.evaluate("window.scrollTo(0, 0)")


def _broken_images(page: Page, selector: str) -> list[str]:
    """The ``src`` of each image under ``selector`` that did not load (naturalWidth 0)."""
    broken: list[str] = page.eval_on_selector_all(
        selector, "(images) => images.filter((i) => !(i.naturalWidth > 0)).map((i) => i.src)"
    )
    return broken


def _wait_info(page: Page, pattern: str) -> str:
    """Wait until ``#page-info`` matches ``pattern`` (a regular expression); its text."""
    try:
        page.wait_for_function(
            "(p) => new RegExp(p).test(document.getElementById('page-info').textContent)",
            arg=pattern,
            timeout=10_000,
        )
    finally:
        shown = str(page.text_content("#page-info"))
    return shown


def _shown_ids(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "table#cue-table tbody tr[data-cue-id]", "(rows) => rows.map((r) => r.dataset.cueId)"
    )
    return ids


def test_main_page_images_load_without_errors(
    site: Site, watched: Watched, screenshots: Path
) -> None:
    page = _open(watched, site.reports / "index.html")
    _scroll_through(page)
    plots = page.eval_on_selector_all("figure.plot img", "(i) => i.length")
    stills = page.eval_on_selector_all("article.cue img", "(i) => i.length")
    thumbs = page.eval_on_selector_all(".example .thumb img", "(i) => i.length")
    assert plots >= 3 and stills == CARDS * 10  # 5 stills + 5 face crops per card
    assert page.locator("article.cue").count() == CARDS
    assert thumbs > 0  # the rejected examples show their middle frame
    assert _broken_images(page, "img") == []
    # each audio player points at a file the browser can read (metadata loads)
    audio_ready = page.evaluate(
        """async () => {
            const players = Array.from(document.querySelectorAll('article.cue audio'));
            await Promise.all(players.slice(0, 4).map((a) => new Promise((done) => {
                a.addEventListener('loadedmetadata', done, {once: true});
                a.addEventListener('error', done, {once: true});
                a.preload = 'metadata'; a.load();
            })));
            return players.slice(0, 4).map((a) => a.duration > 0);
        }"""
    )
    assert audio_ready == [True] * 4
    page.screenshot(path=screenshots / "index.png", full_page=True)
    page.locator("#rows").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "index-rejected.png")
    assert watched.errors == []


def test_row_table_loads_filters_and_pages(site: Site, watched: Watched) -> None:
    total = len(site.rows)
    assert total > PAGE_ROWS + 40
    page = _open(watched, site.reports / "cues.html")
    page.wait_for_function(f"document.getElementById('loaded').textContent === '{total}'")
    first = _wait_info(page, "^rows 1")
    assert first == f"rows 1–{PAGE_ROWS} of {total}, page 1 of 2"
    assert len(_shown_ids(page)) == PAGE_ROWS
    assert page.is_disabled("#page-prev") and not page.is_disabled("#page-next")

    page.click("#page-next")
    assert _wait_info(page, "page 2") == f"rows {PAGE_ROWS + 1}–{total} of {total}, page 2 of 2"
    second = _shown_ids(page)
    assert len(second) == total - PAGE_ROWS and page.is_disabled("#page-next")
    page.click("#page-prev")
    _wait_info(page, "page 1 of 2")
    assert sorted(_shown_ids(page) + second) == sorted(r["cue_id"] for r in site.rows)

    rejected = sorted(r["cue_id"] for r in site.rows if r["status"] == "rejected")
    page.select_option("#filter-status", "rejected")
    shown = _wait_info(page, "filtered")
    assert (
        shown == f"rows 1–{len(rejected)} of {len(rejected)} (filtered from {total}), page 1 of 1"
    )
    assert sorted(_shown_ids(page)) == rejected
    statuses = page.eval_on_selector_all("#cue-table tbody tr", "(r) => r.map((x) => x.className)")
    assert set(statuses) == {"rejected"}

    reasons = Counter(r["reason"] for r in site.rows if r["status"] == "rejected")
    page.select_option("#filter-reason", "several_faces")
    _wait_info(page, f"of {reasons['several_faces']} ")
    assert len(_shown_ids(page)) == reasons["several_faces"]
    page.select_option("#filter-reason", "corrupt_media")  # a failed reason: none rejected
    assert _wait_info(page, "no row") == f"no row matches (filtered from {total})"
    page.select_option("#filter-reason", "")
    page.select_option("#filter-status", "")
    _wait_info(page, "^rows 1.*page 1 of 2$")

    page.fill("#filter-text", WORD)
    matching = sorted(r["cue_id"] for r in site.rows if WORD.lower() in r["text"].lower())
    assert 0 < len(matching) < total
    _wait_info(page, f"of {len(matching)} \\(filtered")
    assert sorted(_shown_ids(page)) == matching
    page.fill("#filter-text", "no sentence says this")
    assert _wait_info(page, "no row") == f"no row matches (filtered from {total})"
    assert _shown_ids(page) == []

    source_id = sorted(site.titles)[1]
    page.fill("#filter-text", "")
    page.select_option("#filter-source", label=site.titles[source_id])
    own = sorted(r["cue_id"] for r in site.rows if r["source_id"] == source_id)
    _wait_info(page, f"of {len(own)} \\(filtered")
    assert sorted(_shown_ids(page)) == own
    assert watched.errors == []


def test_row_detail_shows_stills_and_plays_blurred_audio(
    site: Site, watched: Watched, screenshots: Path
) -> None:
    page = _open(watched, site.reports / "cues.html")
    page.wait_for_function(f"document.getElementById('loaded').textContent === '{len(site.rows)}'")
    accepted = next(r for r in site.rows if r["status"] == "accepted")
    page.click(f"tr[data-cue-id='{accepted['cue_id']}']")
    detail = page.locator("section#cue-detail")
    assert detail.is_visible()
    assert detail.locator("h2").text_content() == accepted["cue_id"]
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#cue-detail img.still')).every((i) => i.complete)"
    )
    assert page.locator("#cue-detail img.still").count() == 5
    assert _broken_images(page, "#cue-detail img.still") == []
    played = page.evaluate(
        """async () => {
            const audio = document.querySelector('#cue-detail audio.blurred');
            if (!audio) return {error: 'no audio.blurred'};
            audio.muted = true;
            try { await audio.play(); } catch (e) { return {error: String(e)}; }
            const began = audio.currentTime;
            await new Promise((done) => setTimeout(done, 400));
            const out = {began, now: audio.currentTime, readyState: audio.readyState,
                         duration: audio.duration};
            audio.pause();
            return out;
        }"""
    )
    assert "error" not in played, played
    assert played["now"] > played["began"] or played["readyState"] >= 2, played
    assert played["duration"] > 0.5, played
    page.screenshot(path=screenshots / "cues-accepted-detail.png", full_page=True)

    # a rejected row with two faces: its middle frame with both boxes drawn over it
    page.select_option("#filter-status", "rejected")
    page.select_option("#filter-reason", "several_faces")
    _wait_info(page, "filtered")
    row = next(r for r in site.rows if r["reason"] == "several_faces")
    page.click(f"tr[data-cue-id='{row['cue_id']}']")
    page.wait_for_function("document.querySelector('#cue-detail div.thumb img')?.complete")
    assert _broken_images(page, "#cue-detail div.thumb img") == []
    boxes = page.eval_on_selector_all(
        "#cue-detail div.thumb span.box",
        "(spans) => spans.map((s) => { const r = s.getBoundingClientRect();"
        " return [r.width, r.height]; })",
    )
    assert len(boxes) == len(row["thumb_face_boxes"]) == 2
    assert all(width > 10 and height > 10 for width, height in boxes)  # drawn, not collapsed
    assert detail.locator("audio").count() == 0  # a rejected row has no blurred audio
    page.screenshot(path=screenshots / "cues-filtered-detail.png", full_page=True)
    assert watched.errors == []


def test_source_timeline_has_one_mark_per_sentence(
    site: Site, watched: Watched, screenshots: Path
) -> None:
    counts = Counter(r["source_id"] for r in site.rows)
    page = _open(watched, site.reports / "sources.html")
    links = page.eval_on_selector_all(
        "#source-table a[href^='sources/']", "(a) => a.map((x) => x.textContent)"
    )
    assert sorted(links) == sorted(site.titles.values())
    for number, source_id in enumerate(sorted(site.titles)):
        page = _open(watched, site.reports / "sources" / f"{source_id}.html")
        marks = page.eval_on_selector_all(
            "svg.timeline a rect",
            "(rects) => rects.map((r) => { const b = r.getBoundingClientRect();"
            " return [r.getAttribute('class'), b.width, b.height]; })",
        )
        own = [r for r in site.rows if r["source_id"] == source_id]
        assert len(marks) == counts[source_id] == len(own)
        assert Counter(m[0] for m in marks) == Counter(r["status"] for r in own)
        assert all(width > 0 and height > 0 for _, width, height in marks)
        assert page.locator("table.sentences tr[id^='row-']").count() == len(own)
        if number == 0:
            page.screenshot(path=screenshots / "source.png", full_page=True)
    assert watched.errors == []
