"""Write ``DATASET/reports/index.html``: one static page about a dataset.

The page is self-contained (inline CSS, no JavaScript, nothing fetched from a network)
and links the dataset's media with paths relative to ``reports/``, so it opens over
``file://`` and keeps working when the dataset folder is moved or copied. Media paths
come from the manifest as they are, after ``safe_join`` has checked that they stay
inside the dataset; a path that leaves it, or a file that is missing, is shown as such
and never linked. Every text from the dataset is escaped with ``html.escape``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from empathynet import __version__
from empathynet.data.models import CueGroup
from empathynet.data.schemas import table_to_records
from empathynet.errors import ConfigError, DatasetError, PathEscapeError
from empathynet.evaluate.leaderboard import Board
from empathynet.labels import LabelsLayout, read_aggregate
from empathynet.labels.agreement import (
    MELD_FLEISS_KAPPA,
    Agreement,
    Estimate,
    annotator_agreement,
    landis_koch,
)
from empathynet.pipeline.build import SourceFailure, summarize
from empathynet.store.atomic import atomic_write_bytes
from empathynet.store.layout import DatasetLayout
from empathynet.store.lock import writes_dataset
from empathynet.tasks import SPLITS, list_tasks, read_spec
from empathynet.timeline import format_ms

#: File name of the report inside ``DATASET/reports/``.
REPORT_NAME = "index.html"
#: Rejected / failed examples shown per reason.
EXAMPLES_PER_REASON = 3
_EXAMPLE_COLUMNS = (
    "cue_id",
    "source_id",
    "start_ms",
    "end_ms",
    "text",
    "status",
    "reason",
    "error",
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#222;
 background:#fafafa;line-height:1.35}
h1{margin:0 0 .2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.4em 0 1em;background:#fff}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777}.bad{color:#b00020;font-weight:600}.good{color:#1b7f3b;font-weight:600}
.tag{display:inline-block;background:#eef;border:1px solid #ccd;border-radius:3px;
 padding:0 .35em;margin-right:.25em;font-size:.85em}
.cues{display:flex;flex-direction:column;gap:1em}
.cue{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.7em}
.cue h3{margin:0 0 .3em;font-size:.95em;font-family:ui-monospace,monospace}
.cue blockquote{margin:.3em 0 .5em;font-size:1.1em;font-style:italic}
.cue .body{display:flex;gap:1em;flex-wrap:wrap;align-items:flex-start}
.cue .row{display:flex;gap:4px;flex-wrap:wrap;align-items:flex-start;margin:0 0 .4em}
.cue img{border:1px solid #ccc;display:block}.cue .figures{margin:0}
.cue .figures td,.cue .figures th{font-size:.85em}
.side{display:flex;gap:1.5em;flex-wrap:wrap;align-items:flex-start}
nav a{margin-right:1em}
.label{display:inline-block;background:#ffe9b3;border-radius:3px;padding:0 .4em;font-weight:600}
.media{display:flex;gap:1em;flex-wrap:wrap;align-items:center}
.media figure{margin:0}.media figcaption{font-size:.8em;color:#555}.media audio{width:220px}
code{font-family:ui-monospace,monospace;font-size:.9em}
"""


def escape_text(value: object) -> str:
    """``value`` as HTML text (``None`` -> an en dash); quotes are escaped too, so the
    result is safe inside an attribute as well as between tags."""
    if value is None:
        return "\u2013"
    return escape(str(value), quote=True)


def media_href(layout: DatasetLayout, relative: str) -> str | None:
    """The link from ``reports/index.html`` to a manifest media path, or None if the
    file does not exist. ``PathEscapeError`` when the path is absolute, contains ``..``
    or leaves the dataset (checked with ``safe_join``, symlinks resolved)."""
    parts = PurePosixPath(relative).parts
    if "\\" in relative or ".." in parts or not parts:
        raise PathEscapeError(f"media path {relative!r} is not a plain relative path", layout.root)
    target = layout.resolve(relative)
    if not target.is_file():
        return None
    # Relative to reports/, percent-encoded so '#', '?', '%' and spaces stay part of the path.
    return "../" + quote(relative, safe="/")


@dataclass
class _MediaLinks:
    """Makes media elements and counts the paths that could not be linked."""

    layout: DatasetLayout
    missing: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)

    def href(self, relative: str | None) -> str | None:
        if not relative:
            return None
        try:
            link = media_href(self.layout, relative)
        except PathEscapeError:
            self.refused.add(relative)
            return None
        if link is None:
            self.missing.add(relative)
        return link

    def problem(self, relative: str | None, what: str) -> str:
        """What to show instead of a file that cannot be linked."""
        if not relative:
            return f'<span class="muted">no {escape_text(what)}</span>'
        state = "refused (leaves the dataset)" if relative in self.refused else "missing"
        shown = escape_text(relative)
        return f'<span class="bad">{escape_text(what)} {state}: <code>{shown}</code></span>'

    def images(self, paths: Sequence[str], width: int, what: str) -> str:
        out = []
        for number, relative in enumerate(paths):
            link = self.href(relative)
            if link is None:
                out.append(self.problem(relative, f"{what} {number}"))
            else:
                alt = escape_text(f"{what} {number}")
                out.append(
                    f'<a href="{escape_text(link)}"><img src="{escape_text(link)}" '
                    f'width="{width}" alt="{alt}" title="{alt}" loading="lazy"></a>'
                )
        return "".join(out) or f'<span class="muted">no {escape_text(what)}s</span>'

    def audio(self, relative: str | None, caption: str) -> str:
        link = self.href(relative)
        if link is None:
            return self.problem(relative, caption)
        return (
            f"<figure><figcaption>{escape_text(caption)}</figcaption>"
            f'<audio controls preload="none" src="{escape_text(link)}"></audio></figure>'
        )

    def video(self, relative: str | None, caption: str, poster: str | None) -> str:
        link = self.href(relative)
        if link is None:
            return self.problem(relative, caption)
        # A poster (an already linked face crop) and preload="none": a page of 200 clips
        # loads no video until one is played.
        poster_link = self.href(poster) if poster else None
        poster_attr = f' poster="{escape_text(poster_link)}"' if poster_link else ""
        return (
            f"<figure><figcaption>{escape_text(caption)} "
            f'(<a href="{escape_text(link)}">open</a>)</figcaption>'
            f'<video controls muted preload="none" width="160" height="160"{poster_attr} '
            f'src="{escape_text(link)}"></video></figure>'
        )


@dataclass
class _ManifestView:
    """What the page shows from the manifest, fed one part at a time (``add``) as
    ``summarize`` reads it, so the manifest is read once and never held whole."""

    max_cues: int
    cues: list[CueGroup] = field(default_factory=list)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: pa.Table) -> None:
        """Keep the first accepted cue groups and the first examples per reason."""
        accepted_mask = pc.equal(table.column("status"), "accepted")
        accepted = table.filter(accepted_mask)
        if accepted.num_rows and self.max_cues:
            order = pc.sort_indices(accepted, sort_keys=[("cue_id", "ascending")])
            self.cues.extend(table_to_records(accepted.take(order[: self.max_cues]), CueGroup))
            self.cues = sorted(self.cues, key=lambda cue: cue.cue_id)[: self.max_cues]
        others = table.filter(pc.invert(accepted_mask)).select(list(_EXAMPLE_COLUMNS))
        for reason in pc.unique(others.column("reason")).to_pylist():
            if reason is None:
                continue
            rows = others.filter(pc.equal(others.column("reason"), reason))
            order = pc.sort_indices(rows, sort_keys=[("cue_id", "ascending")])
            first = rows.take(order[:EXAMPLES_PER_REASON]).to_pylist()
            merged = sorted([*self.examples.get(reason, []), *first], key=lambda row: row["cue_id"])
            self.examples[reason] = merged[:EXAMPLES_PER_REASON]

    @property
    def reason_status(self) -> dict[str, str]:
        """The status (rejected or failed) of each reason with examples."""
        return {reason: rows[0]["status"] for reason, rows in self.examples.items()}


def _labels(root: Path, cue_ids: Iterable[str]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Aggregate label rows of ``cue_ids`` and the tie rule; ``({}, None)`` without labels."""
    aggregate = read_aggregate(LabelsLayout(root).aggregate)
    if aggregate is None:
        return {}, None
    table, tie_rule = aggregate
    wanted = pa.array(list(cue_ids), pa.string())
    rows = table.filter(pc.is_in(table.column("cue_id"), value_set=wanted)).to_pylist()
    return {row["cue_id"]: row for row in rows}, tie_rule


def _number(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _count_cell(key: str, count: int) -> str:
    # data-count lets a test (or a script) read the figures back from the page.
    return f'<td class="num" data-count="{escape_text(key)}">{count}</td>'


def _header(
    root: Path, name: str, summary: dict[str, Any], media: _MediaLinks, agreement: bool = False
) -> list[str]:
    status = summary["status"]
    out = [
        f"<h1>{escape_text(name)}</h1>",
        f'<p class="muted">EmpathyNet dataset report \u00b7 <code>{escape_text(root)}</code> '
        f"\u00b7 empathynet {escape_text(__version__)} \u00b7 written "
        f"{escape_text(datetime.now(UTC).isoformat(timespec='seconds'))}</p>",
        '<nav><a href="#cues">cue groups</a>'
        + ('<a href="#agreement">annotator agreement</a>' if agreement else "")
        + '<a href="#rows">rejected and failed rows</a>'
        '<a href="#tasks">tasks</a><a href="#leaderboard">leaderboard</a></nav>',
        '<h2 id="summary">Build summary</h2><div class="side">',
        "<table><tr><th>what</th><th>count</th></tr>",
        f"<tr><th>sources</th>{_count_cell('sources', summary['sources'])}</tr>",
        f"<tr><th>sources failed</th>{_count_cell('sources_failed', summary['sources_failed'])}"
        "</tr>",
        f"<tr><th>utterances</th>{_count_cell('utterances', summary['utterances'])}</tr>",
    ]
    for key in ("accepted", "rejected", "failed"):
        out.append(f"<tr><th>{key}</th>{_count_cell('status:' + key, status.get(key, 0))}</tr>")
    out.append("</table>")
    reasons: dict[str, int] = summary["reasons"]
    if reasons:
        out.append("<table><tr><th>reason</th><th>rows</th></tr>")
        for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            cell = _count_cell("reason:" + reason, count)
            out.append(f"<tr><td>{escape_text(reason)}</td>{cell}</tr>")
        out.append("</table>")
    stages = summary["stage_seconds"]
    if stages or summary["wall_seconds"] is not None:
        out.append("<table><tr><th>stage (summed over workers)</th><th>seconds</th></tr>")
        for stage, seconds in stages.items():
            out.append(f'<tr><td>{escape_text(stage)}</td><td class="num">{seconds:.1f}</td></tr>')
        if summary["wall_seconds"] is not None:
            out.append(
                "<tr><th>wall time of the last run</th>"
                f'<td class="num">{summary["wall_seconds"]:.1f}</td></tr>'
            )
        out.append("</table>")
    out.append("</div>")
    failures = [SourceFailure(**failure) for failure in summary["failures"]]
    if failures:
        out.append("<h3>Failures by source</h3><ul>")
        out.extend(
            f'<li class="bad">{escape_text(failure.line(summary["inputs"]))}</li>'
            for failure in failures
        )
        out.append("</ul>")
    fixes = summary["subtitle_fixes"]
    if fixes:
        shown = ", ".join(f"{escape_text(k)} {int(v)}" for k, v in fixes.items())
        out.append(f"<p>Subtitle fixes: {shown}</p>")
    if media.missing or media.refused:
        out.append(
            f'<p class="bad">Media not linked: {len(media.missing)} missing, '
            f"{len(media.refused)} refused (outside the dataset) among the cue groups shown.</p>"
        )
    return out


def _middle(paths: Sequence[str]) -> str | None:
    """The middle still's path (the poster of a clip), None when there are none."""
    return paths[len(paths) // 2] if paths else None


def _cue_card(cue: CueGroup, label: dict[str, Any] | None, media: _MediaLinks) -> str:
    tags = "".join(f'<span class="tag">{escape_text(tag)}</span>' for tag in cue.nonverbal)
    if label is not None:
        shown = label["label"] if label["label"] is not None else "tie (unlabelled)"
        label_html = (
            f'<span class="label">{escape_text(shown)}</span> '
            f'<span class="muted">{label["label_votes"]}/{label["votes"]} votes, '
            f"agreement {label['agreement']:.2f}</span>"
        )
    elif cue.label is not None:
        label_html = f'<span class="label">{escape_text(cue.label)}</span>'
    else:
        label_html = '<span class="muted">unlabelled</span>'
    duration = cue.end_ms - cue.start_ms
    figures: list[tuple[str, str]] = [
        ("speaker", escape_text(cue.speaker)),
        ("time", f"{format_ms(cue.start_ms)} \u2013 {format_ms(cue.end_ms)} ({duration} ms)"),
        ("label", label_html),
        (
            "face width / height / area",
            f"{_number(cue.face.width_fraction)} / {_number(cue.face.height_fraction)} / "
            f"{_number(cue.face.area_fraction)} (min {_number(cue.face.fraction_min)})",
        ),
        ("face coverage", _number(cue.face.coverage)),
        ("speaking score", _number(cue.checks.speaking_score)),
        ("blur", escape_text(cue.blur.method)),
        ("F0 correlation", _number(cue.blur.f0_correlation)),
        ("speaking-rate ratio", _number(cue.blur.speaking_rate_ratio)),
    ]
    if cue.asr.wer_blur is not None:
        intelligible = (
            ' <span class="bad">may be intelligible</span>' if cue.asr.may_be_intelligible else ""
        )
        figures.append(("WER blurred", _number(cue.asr.wer_blur) + intelligible))
    rows = "".join(f"<tr><th>{key}</th><td>{value}</td></tr>" for key, value in figures)
    return "".join(
        [
            f'<article class="cue" id="cue-{escape_text(cue.cue_id)}">',
            f"<h3>{escape_text(cue.cue_id)}</h3>",
            f"<blockquote>{escape_text(cue.text)}</blockquote>",
            f'<div class="tags">{tags}</div>' if tags else "",
            f'<div class="body"><table class="figures">{rows}</table><div>',
            f'<div class="row">{media.images(cue.media.still_paths, 120, "still")}</div>',
            f'<div class="row">{media.images(cue.media.face_crop_paths, 64, "face")}</div>',
            '<div class="media">',
            media.audio(cue.media.audio_path, "audio"),
            media.audio(cue.media.audio_blur_path, "blurred audio"),
            media.video(cue.media.face_clip_path, "face clip", _middle(cue.media.face_crop_paths)),
            "</div></div></div></article>",
        ]
    )


def _cues_section(
    summary: dict[str, Any],
    view: _ManifestView,
    labels: dict[str, dict[str, Any]],
    media: _MediaLinks,
) -> list[str]:
    total = summary["status"].get("accepted", 0)
    out = [
        '<h2 id="cues">Accepted cue groups</h2>',
        f"<p>Showing {len(view.cues)} of {total} accepted cue groups, by cue id.</p>",
    ]
    if view.cues:
        out.append('<div class="cues">')
        out.extend(_cue_card(cue, labels.get(cue.cue_id), media) for cue in view.cues)
        out.append("</div>")
    return out


def _rows_section(summary: dict[str, Any], view: _ManifestView) -> list[str]:
    reasons: dict[str, int] = summary["reasons"]
    out = ['<h2 id="rows">Rejected and failed rows</h2>']
    if not reasons:
        return [*out, "<p>None: every utterance was accepted.</p>"]
    total = max(summary["utterances"], 1)
    out.append(
        "<table><tr><th>reason</th><th>status</th><th>rows</th><th>share of utterances</th></tr>"
    )
    for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(
            f"<tr><td>{escape_text(reason)}</td>"
            f"<td>{escape_text(view.reason_status.get(reason))}</td>"
            f"{_count_cell('reason:' + reason, count)}"
            f'<td class="num">{100 * count / total:.1f} %</td></tr>'
        )
    out.append("</table>")
    out.append(f"<h3>Examples (first {EXAMPLES_PER_REASON} per reason, by cue id)</h3>")
    out.append(
        "<table><tr><th>reason</th><th>cue id</th><th>time</th><th>text</th><th>error</th></tr>"
    )
    for reason in sorted(view.examples):
        for row in view.examples[reason]:
            out.append(
                f"<tr><td>{escape_text(reason)}</td><td><code>{escape_text(row['cue_id'])}</code>"
                f"</td><td>{format_ms(row['start_ms'])} \u2013 {format_ms(row['end_ms'])}</td>"
                f"<td>{escape_text(row['text'])}</td><td>{escape_text(row['error'])}</td></tr>"
            )
    out.append("</table>")
    return out


def _tasks_section(root: Path) -> list[str]:
    tasks = list_tasks(root)
    out = ['<h2 id="tasks">Tasks</h2>']
    if not tasks:
        return [
            *out,
            "<p>No tasks yet (<code>empathynet tasks make DATASET --suite standard</code>).</p>",
        ]
    split_heads = "".join(f"<th>{escape_text(s)}</th>" for s in SPLITS)
    out.append(
        "<table><tr><th>task</th><th>family</th><th>version</th><th>query</th><th>answer</th>"
        f"{split_heads}<th>dropped</th><th>seed</th></tr>"
    )
    for task in tasks:
        spec = read_spec(root, task.name)
        dropped = ", ".join(f"{escape_text(k)} {v}" for k, v in task.dropped.items() if v)
        splits = "".join(_count_cell(f"task:{task.name}:{s}", task.items.get(s, 0)) for s in SPLITS)
        out.append(
            f"<tr><td><code>{escape_text(task.name)}</code></td><td>{escape_text(task.family)}"
            f"</td><td>{escape_text(spec.family_version)}</td>"
            f"<td>{escape_text(' + '.join(task.query))}</td>"
            f"<td>{escape_text(' + '.join(task.answer) or None)}</td>{splits}"
            f"<td>{sum(task.dropped.values())}"
            f"{' (' + dropped + ')' if dropped else ''}</td><td>{task.seed}</td></tr>"
        )
    out.append("</table>")
    return out


def _agreement_row(name: str, estimate: Estimate, key: str, note: str) -> str:
    low = _number(estimate.low)
    high = _number(estimate.high)
    return (
        f"<tr><td>{escape_text(name)}</td>"
        f'<td class="num" data-figure="{escape_text(key)}">{_number(estimate.value)}</td>'
        f'<td class="num">{escape_text(low)} \u2013 {escape_text(high)}</td>'
        f"<td>{escape_text(note)}</td></tr>"
    )


def _agreement_section(root: Path) -> list[str]:
    """Krippendorff's α and Fleiss' κ of the votes (``labels.agreement``); nothing when
    the dataset has no votes."""
    if not LabelsLayout(root).votes.exists():
        return []
    try:
        result: Agreement = annotator_agreement(root)
    except DatasetError:
        return []  # no votes
    level = f"{result.confidence_level:.0%}"
    kappa_note = (
        f"{result.kappa_cue_groups} cue groups with {result.kappa_votes_per_cue_group} votes; "
        f"{landis_koch(result.kappa.value)} (Landis & Koch)"
    )
    return [
        '<h2 id="agreement">Annotator agreement</h2>',
        f"<table><tr><th>measure</th><th>value</th><th>{escape_text(level)} interval</th>"
        "<th>note</th></tr>",
        _agreement_row(
            "Krippendorff's \u03b1 (nominal)",
            result.alpha,
            "alpha",
            f"{result.cue_groups} cue groups with 2+ votes",
        ),
        _agreement_row("Fleiss' \u03ba", result.kappa, "kappa", kappa_note),
        "</table>",
        "<table><tr><th>cue groups counted</th><th>left out (1 vote)</th><th>votes</th>"
        "<th>annotators</th></tr><tr>"
        + "".join(
            f'<td class="num" data-figure="{key}">{value}</td>'
            for key, value in (
                ("cue_groups", result.cue_groups),
                ("left_out", result.cue_groups_left_out),
                ("votes", result.votes),
                ("annotators", result.annotators),
            )
        )
        + "</tr></table>",
        f'<p class="muted">Each annotator\u2019s latest vote per cue group; intervals: '
        f"bootstrap over cue groups ({result.resamples} resamples, seed {result.seed}). "
        "\u03ba below 0 is poor, to 0.20 slight, to 0.40 fair, to 0.60 moderate, to 0.80 "
        "substantial, above almost perfect (Landis &amp; Koch 1977); \u03b1 \u2265 0.800 "
        f"is reliable, \u2265 0.667 tentative. MELD reports Fleiss\u2019 \u03ba "
        f"{MELD_FLEISS_KAPPA:.2f}. Per class and per annotator: "
        f"<code>empathynet labels agreement {escape_text(root.name)}</code>.</p>",
    ]


def _leaderboard_section(board: Board | None) -> list[str]:
    out = ['<h2 id="leaderboard">Leaderboard</h2>']
    if board is None:
        return [
            *out,
            '<p class="muted">Not given (<code>empathynet leaderboard DATASET</code> '
            "computes one).</p>",
        ]
    out.append(
        "<table><tr><th>task</th><th>family</th><th>model</th><th>metric</th><th>items</th>"
        "<th>value</th><th>95 % interval</th><th>note</th></tr>"
    )
    for row in board.rows:
        interval = (
            f"[{row.low:.3f}, {row.high:.3f}]"
            if row.low is not None and row.high is not None
            else "\u2013"
        )
        out.append(
            f"<tr><td><code>{escape_text(row.task)}</code></td><td>{escape_text(row.family)}</td>"
            f"<td>{escape_text(row.model)}</td><td>{escape_text(row.metric)}</td>"
            f'<td class="num">{row.items}</td><td class="num">{_number(row.value)}</td>'
            f'<td class="num">{interval}</td><td>{escape_text(row.note or None)}</td></tr>'
        )
    out.append("</table><h3>Shortcut audits</h3>")
    out.append("<table><tr><th>task</th><th>verdict</th></tr>")
    for task, verdict in board.audits.items():
        css = "good" if verdict == "passed" else "bad"
        out.append(
            f'<tr><td><code>{escape_text(task)}</code></td><td class="{css}">'
            f"{escape_text(verdict)}</td></tr>"
        )
    out.append("</table>")
    return out


def _dataset_name(layout: DatasetLayout) -> str:
    try:
        value = json.loads(layout.dataset_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"cannot read dataset.json: {error}", layout.dataset_json) from None
    name = value.get("name") if isinstance(value, dict) else None
    return str(name) if name else layout.root.resolve().name


def render_report(
    dataset: str | Path, *, leaderboard: Board | None = None, max_cues: int = 200
) -> str:
    """The report page of ``dataset`` as HTML text (see ``write_report``)."""
    if max_cues < 0:
        raise ConfigError(f"max_cues must be >= 0, got {max_cues}")
    layout = DatasetLayout(Path(dataset))
    view = _ManifestView(max_cues)
    # DatasetError when it is not a dataset; the view sees each manifest part as it is read.
    summary = summarize(layout, view.add).to_dict()
    name = _dataset_name(layout)
    labels, tie_rule = _labels(layout.root, (cue.cue_id for cue in view.cues))
    media = _MediaLinks(layout)
    cues = _cues_section(summary, view, labels, media)  # before the header: it counts missing media
    if tie_rule is not None:
        cues.insert(
            1, f'<p class="muted">Labels: majority vote, tie rule {escape_text(tie_rule)}.</p>'
        )
    agreement = _agreement_section(layout.root)
    body = [
        *_header(layout.root, name, summary, media, agreement=bool(agreement)),
        *cues,
        *agreement,
        *_rows_section(summary, view),
        *_tasks_section(layout.root),
        *_leaderboard_section(leaderboard),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape_text(name)} \u2013 EmpathyNet report</title>",
            f"<style>{_CSS}</style></head><body>",
            *body,
            "</body></html>",
            "",
        ]
    )


@writes_dataset
def write_report(
    dataset: str | Path, *, leaderboard: Board | None = None, max_cues: int = 200
) -> Path:
    """Write ``DATASET/reports/index.html`` atomically and return its path.

    The page shows the build summary (``summarize``), the first ``max_cues`` accepted
    cue groups by cue id with their stills, face crops, audio, blurred audio and face
    clip (relative links, checked to stay inside the dataset; times in ms), their
    labels if the dataset has some, the rejected and failed rows per reason with
    examples, the tasks, and ``leaderboard`` when given.
    """
    page = render_report(dataset, leaderboard=leaderboard, max_cues=max_cues)
    path = DatasetLayout(Path(dataset)).reports_dir / REPORT_NAME
    atomic_write_bytes(path, page.encode("utf-8"))
    return path


__all__ = ["REPORT_NAME", "escape_text", "media_href", "render_report", "write_report"]
