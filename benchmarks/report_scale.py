"""Scale benchmark: the HTML report of a dataset of 100,000 rows, written and opened.

Writes a synthetic manifest (no media) of ``--rows`` rows over ``--sources`` sources,
``--rejected-share`` of them rejected or failed with the reasons a build of real films
gives in about these shares (``REASONS``), with speech-like texts and, unless
``--no-labels``, three annotators' votes on every accepted row. Then times
``write_report`` (seconds, peak memory, the size of ``reports/``) and opens
``index.html``, ``cues.html`` and ``sources.html`` in headless Chromium (Debian's
``chromium`` through playwright, extra ``browser``; ``EMPATHYNET_CHROMIUM`` overrides the
path) over file://, ``--repeats`` times each in a fresh browser context, and prints the
median of: first paint and first contentful paint (``performance.getEntriesByType
("paint")``), DOMContentLoaded and load; on ``cues.html`` the time until the first page
of rows is on screen (``#page-info`` starts with "rows 1") and until every row is loaded
(``#loaded`` equals the row count), and the time a filter takes on all the rows: the
status filter (synchronous: script time, and until the next frame) and the words filter
(from the input event until ``#page-info`` changes, its 150 ms typing pause included).
Goal: first paint < 2 s on both pages. Each phase that writes runs in its own child
process, so that its peak memory is its own (see ``tasks_scale.py``).

    python benchmarks/report_scale.py [--rows 100000] [--sources 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _child
from _child import print_figures
from _goal import Goal, report_goals

#: First paint of index.html and cues.html must come before this many seconds.
GOAL_FIRST_PAINT_S = 2.0
#: Rejected and failed rows by reason, in shares of those rows (roughly what the demo and
#: real films give); ``corrupt_media`` rows are failed, the others rejected.
REASONS: tuple[tuple[str, float], ...] = (
    ("no_face", 0.30),
    ("face_too_small", 0.20),
    ("several_faces", 0.14),
    ("shot_cut", 0.14),
    ("not_speaking", 0.08),
    ("too_short", 0.05),
    ("dialogue", 0.04),
    ("overlap", 0.03),
    ("corrupt_media", 0.02),
)
#: The Chromium flags of ../shared/DEPENDENCIES.md (headless and a fresh profile come
#: from playwright itself).
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
#: Records, in page time (ms since navigation start, as the paint entries), when the first
#: page of rows and the last row reach the DOM and the frame after each.
MARKS_SCRIPT = """
window.__marks = {};
(function () {
  var total = "%d", marks = window.__marks;
  function frame(key) {
    requestAnimationFrame(function () { marks[key] = performance.now(); });
  }
  function check() {
    var info = document.getElementById("page-info"), loaded = document.getElementById("loaded");
    if (info && marks.first_rows_dom === undefined && /^rows 1/.test(info.textContent)) {
      marks.first_rows_dom = performance.now(); frame("first_rows");
    }
    if (loaded && marks.all_rows_dom === undefined && loaded.textContent === total) {
      marks.all_rows_dom = performance.now(); frame("all_rows");
    }
  }
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
                                                 characterData: true});
})();
"""
PAGE_TIMES = """() => {
  const out = {};
  for (const entry of performance.getEntriesByType("paint")) out[entry.name] = entry.startTime;
  const nav = performance.getEntriesByType("navigation")[0];
  out.dom_content_loaded = nav.domContentLoadedEventEnd;
  out.load = nav.loadEventEnd;
  return out;
}"""
STATUS_FILTER = """async (value) => {
  const select = document.getElementById("filter-status");
  const began = performance.now();
  select.value = value;
  select.dispatchEvent(new Event("change"));
  const script = performance.now() - began;
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  return {script, shown: performance.now() - began,
          info: document.getElementById("page-info").textContent};
}"""
TEXT_FILTER = """async (word) => {
  const input = document.getElementById("filter-text");
  const info = document.getElementById("page-info");
  const changed = new Promise((done) => {
    const watch = new MutationObserver(() => { watch.disconnect(); done(); });
    watch.observe(info, {childList: true, characterData: true, subtree: true});
  });
  const began = performance.now();
  input.value = word;
  input.dispatchEvent(new Event("input"));
  await changed;
  return {shown: performance.now() - began, info: info.textContent};
}"""


def _vary_rejections(root: Path, seed: int) -> None:
    """Give the synthetic rejected rows (all ``no_face``, text "rejected") the reasons of
    ``REASONS`` and texts of accepted rows, as a build's would have."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from empathynet.store.atomic import atomic_write_table
    from empathynet.store.layout import DatasetLayout

    rng = np.random.default_rng(seed)
    names = [name for name, _ in REASONS]
    shares = np.array([share for _, share in REASONS])
    for part in DatasetLayout(root).cue_parts():
        table = pq.read_table(part)
        rejected = pc.equal(table.column("status"), "rejected").to_numpy(zero_copy_only=False)
        count = int(rejected.sum())
        if not count:
            continue
        drawn = np.array(names, dtype=object)[
            rng.choice(len(names), count, p=shares / shares.sum())
        ]
        reason = table.column("reason").to_numpy(zero_copy_only=False).astype(object)
        reason[rejected] = drawn
        status = table.column("status").to_numpy(zero_copy_only=False).astype(object)
        status[rejected] = np.where(drawn == "corrupt_media", "failed", "rejected")
        error = np.full(len(status), None, dtype=object)
        error[status == "failed"] = "invalid data found when processing input"
        texts = table.column("text").to_numpy(zero_copy_only=False).astype(object)
        donors = texts[~rejected] if (~rejected).any() else np.array(["a sentence"], dtype=object)
        texts[rejected] = donors[rng.integers(0, len(donors), count)]
        for name, values in (("reason", reason), ("status", status), ("error", error)):
            table = table.set_column(
                table.schema.get_field_index(name), name, pa.array(values, pa.string())
            )
        table = table.set_column(
            table.schema.get_field_index("text"), "text", pa.array(texts, pa.string())
        )
        atomic_write_table(part, table)


def child(dataset: Path, phase: str) -> None:
    """Run one phase in this (child) process and print its figures as JSON."""
    started = time.perf_counter()
    detail: dict[str, Any] = {}
    if phase == "write":
        from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv

        rows, sources, rejected, labels = json.loads(os.environ["REPORT_SCALE_SIZE"])
        dataset_truth = write_synthetic_dataset(
            dataset,
            cue_groups=rows - rejected,
            sources=sources,
            rejected=rejected,
            min_ms=800,
            max_ms=8000,
            speech_like_text=True,
        )
        _vary_rejections(dataset, seed=0)
        written = time.perf_counter() - started
        detail["manifest_s"] = written
        if labels:
            from empathynet.labels import import_labels

            votes = write_votes_csv(dataset.parent / "votes.csv", dataset_truth.truth)
            import_labels(dataset, votes)
            detail["labels_s"] = time.perf_counter() - started - written
    else:
        from empathynet.report.html import write_report

        write_report(dataset)
    print_figures(started, **detail)


def run_child(dataset: Path, phase: str, size: str = "") -> dict[str, Any]:
    return _child.run_child(
        __file__, ["--child", phase, str(dataset)], env={"REPORT_SCALE_SIZE": size}
    )


def folder_size(folder: Path) -> tuple[int, int]:
    """Bytes and number of files under ``folder``."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure_pages(reports: Path, total: int, repeats: int, word: str) -> dict[str, list[float]]:
    """Each figure (ms) over ``repeats`` fresh loads of each page."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("playwright is missing: pip install -e '.[browser]' (never `playwright install`)")
    executable = os.environ.get("EMPATHYNET_CHROMIUM") or shutil.which("chromium")
    if not executable:
        sys.exit(
            "chromium not found: apt-get install chromium (Debian), or set EMPATHYNET_CHROMIUM"
        )
    figures: dict[str, list[float]] = {}

    def add(name: str, value: float | None) -> None:
        figures.setdefault(name, []).append(float("nan") if value is None else float(value))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            for repeat in range(repeats):
                for page_name in ("index.html", "sources.html", "cues.html"):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                    if page_name == "cues.html":
                        page.add_init_script(MARKS_SCRIPT % total)
                    page.goto((reports / page_name).as_uri(), wait_until="load")
                    stem = page_name.removesuffix(".html")
                    if page_name == "cues.html":
                        page.wait_for_function(
                            "window.__marks.all_rows !== undefined", timeout=120_000
                        )
                        marks = page.evaluate("window.__marks")
                        add(f"{stem}: first page of rows shown", marks.get("first_rows"))
                        add(f"{stem}: all {total:,} rows loaded", marks.get("all_rows"))
                        status = page.evaluate(STATUS_FILTER, "rejected")
                        add(f"{stem}: status filter, script", status["script"])
                        add(f"{stem}: status filter, to next frame", status["shown"])
                        page.evaluate(STATUS_FILTER, "")
                        text = page.evaluate(TEXT_FILTER, word)
                        add(f"{stem}: words filter incl. 150 ms pause", text["shown"])
                        if not repeat:
                            print(f"  filters: {status['info']!r}; {word!r}: {text['info']!r}")
                    # paint entries are recorded once the frame is presented, after load
                    page.wait_for_function(
                        "performance.getEntriesByType('paint').length >= 2", timeout=60_000
                    )
                    times = page.evaluate(PAGE_TIMES)
                    add(f"{stem}: first paint", times.get("first-paint"))
                    add(f"{stem}: first contentful paint", times.get("first-contentful-paint"))
                    add(f"{stem}: DOMContentLoaded", times["dom_content_loaded"])
                    add(f"{stem}: load", times["load"])
                    if errors:
                        print(f"  {page_name}: page errors: {errors}")
                    context.close()
        finally:
            browser.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=1_000)
    parser.add_argument("--rejected-share", type=float, default=0.4)
    parser.add_argument("--no-labels", action="store_true", help="write no votes")
    parser.add_argument("--repeats", type=int, default=3, help="loads of each page")
    parser.add_argument("--out", type=Path, help="where to write the dataset (default: temp)")
    parser.add_argument("--child", nargs=2, metavar=("PHASE", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[1]), args.child[0])
        return 0

    with tempfile.TemporaryDirectory(prefix="report-scale-") as scratch:
        dataset = args.out or Path(scratch) / "dataset"
        rejected = round(args.rows * args.rejected_share)
        size = json.dumps([args.rows, args.sources, rejected, not args.no_labels])
        written = run_child(dataset, "write", size)
        labels = f", votes imported in {written['labels_s']:.1f} s" if "labels_s" in written else ""
        print(
            f"synthetic dataset: {args.rows:,} rows ({rejected:,} rejected or failed), "
            f"{args.sources:,} sources; manifest written in {written['manifest_s']:.1f} s{labels}"
        )
        report = run_child(dataset, "report")
        reports = dataset / "reports"
        total_bytes, files = folder_size(reports)
        data_bytes, chunks = folder_size(reports / "data")
        pages = {name: (reports / name).stat().st_size for name in ("index.html", "cues.html")}
        print(
            f"write_report: {report['seconds']:.1f} s, peak memory "
            f"{report['peak_bytes'] / 1024**2:.0f} MiB; reports/ {total_bytes / 1024**2:.1f} MiB "
            f"in {files:,} files (data/ {data_bytes / 1024**2:.1f} MiB in {chunks} files, "
            f"index.html {pages['index.html'] / 1024:.0f} KiB, "
            f"cues.html {pages['cues.html'] / 1024:.0f} KiB)"
        )
        import pyarrow.parquet as pq

        texts = pq.read_table(dataset / "cues", columns=["text"]).column("text")
        word = str(texts[len(texts) // 2].as_py()).split()[0]
        figures = measure_pages(reports, args.rows, args.repeats, word)
        print(f"\nbrowser figures (headless Chromium, file://, median of {args.repeats} loads):")
        width = max(len(name) for name in figures)
        print(f"  {'figure':<{width}}  {'median':>9}  {'max':>9}")
        for name, values in figures.items():
            print(f"  {name:<{width}}  {_median(values):>7.0f} ms  {max(values):>6.0f} ms")
        goals = [
            Goal(
                f"{page} first paint",
                _median(figures[f"{page}: first paint"]) / 1000,
                GOAL_FIRST_PAINT_S,
                "s",
                at_least=False,
            )
            for page in ("index", "cues")
        ]
        return report_goals(goals)


if __name__ == "__main__":
    sys.exit(main())
