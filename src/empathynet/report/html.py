"""Write ``DATASET/reports/``: a small static site about a dataset.

Pages, rendered from Jinja2 templates (``report/templates``) with autoescaping on:

* ``index.html``: the build summary, the plots (``report/plots.py``, SVG files in
  ``plots/``), the first accepted cue groups with their media, annotator agreement, the
  rejected and failed rows per reason with a thumbnail showing why, tasks, leaderboard and
  a glossary. It has no script.
* ``cues.html``: every row in a table filterable by status, reason, class, source and
  words, with paging; the rows are in ``data/cues-NNNN.js`` files of ``CHUNK_ROWS`` rows
  that the page loads one after the other (``assets/cues.js``, no external dependency),
  so a dataset of 100,000 rows paints at once and fills in.
* ``sources.html`` and ``sources/<source_id>.html``: each source by name, with its licence
  and URL when known and its sentences on a timeline coloured by outcome.

Everything opens over ``file://`` and keeps working when the dataset folder is moved:
media are linked with paths relative to the page, checked to stay inside the dataset; a
path that leaves it, or a missing file, is shown as such and never linked. Every text from
the dataset is escaped by the templates, and the script sets text with ``textContent``.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from empathynet import __version__
from empathynet.data.models import CueGroup
from empathynet.data.schemas import CUE_SCHEMA, table_to_records
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
from empathynet.report.glossary import REASONS, SUBTITLE_FIXES, glossary_sections
from empathynet.store.atomic import atomic_write_bytes
from empathynet.store.layout import DatasetLayout, read_dataset_json
from empathynet.store.lock import writes_dataset
from empathynet.store.parts import read_manifest
from empathynet.tasks import SPLITS, list_tasks, read_spec
from empathynet.timeline import format_ms

#: File name of the report's main page inside ``DATASET/reports/``.
REPORT_NAME = "index.html"
#: Rejected / failed examples shown per reason on the main page.
EXAMPLES_PER_REASON = 3
#: Rows per data file of the row table (``data/cues-NNNN.js``).
CHUNK_ROWS = 10_000
#: Manifest columns the row table and the source pages read (when the manifest has them).
TABLE_COLUMNS: tuple[str, ...] = (
    "cue_id",
    "source_id",
    "start_ms",
    "end_ms",
    "text",
    "status",
    "reason",
    "error",
    "still_paths",
    "face_crop_paths",
    "audio_blur_path",
    "face_clip_path",
    "thumb_path",
    "face_boxes",
    "thumb_face_boxes",
    "face_size_fraction",
    "face_width_fraction",
    "face_height_fraction",
    "shot_cut_ms",
    "thumb_ms",
    "speaking_score",
    "mouth_activity",
    "voiced_fraction",
    "speaking_method",
)
_SOURCE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def _css() -> str:
    return resources.files("empathynet.report").joinpath("static/report.css").read_text("utf-8")


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


def _plain_path(relative: str) -> bool:
    """Whether a manifest path is a plain relative path (no ``..``, not absolute): what
    the row table links without looking at the file."""
    parts = PurePosixPath(relative).parts
    return bool(parts) and "\\" not in relative and ".." not in parts and relative[0] != "/"


def _web_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) address (a link a reader may follow), else None."""
    if not url:
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def _number(value: float | int | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _time(start_ms: int, end_ms: int) -> str:
    return f"{format_ms(start_ms)} \u2013 {format_ms(end_ms)} ({end_ms - start_ms} ms)"


@dataclass
class _MediaLinks:
    """Resolves media links and counts the paths that could not be linked."""

    layout: DatasetLayout
    up: str = ""  #: "" from reports/, "../" from reports/sources/
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
            return None
        return self.up + link

    def item(self, relative: str | None, what: str) -> dict[str, Any]:
        """What a template shows for one file: its link, or why there is none."""
        link = self.href(relative)
        state = "refused (leaves the dataset)" if relative in self.refused else "missing"
        return {"link": link, "path": relative, "what": what, "state": state}


@dataclass
class _SourceInfo:
    source_id: str
    name: str
    page: str
    row: dict[str, Any]
    counts: Counter[str] = field(default_factory=Counter)


def _sources(layout: DatasetLayout) -> dict[str, _SourceInfo]:
    """Each source by id: its display name (title, else file name) and page name."""
    if not layout.sources_parquet.exists():
        return {}
    import pyarrow.parquet as pq

    out: dict[str, _SourceInfo] = {}
    for row in pq.read_table(layout.sources_parquet).to_pylist():
        source_id = str(row["source_id"])
        name = row.get("title") or PurePosixPath(str(row.get("path") or source_id)).name
        page = f"{source_id}.html" if _SOURCE_ID.match(source_id) else ""
        out[source_id] = _SourceInfo(source_id, str(name), page, row)
    return out


def _source_of(sources: dict[str, _SourceInfo], source_id: str) -> _SourceInfo:
    found = sources.get(source_id)
    if found is None:  # a row whose source is not in sources.parquet
        page = f"{source_id}.html" if _SOURCE_ID.match(source_id) else ""
        found = sources[source_id] = _SourceInfo(source_id, source_id, page, {})
    return found


def _labels(root: Path) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Aggregate label rows by cue id and the tie rule; ``({}, None)`` without labels."""
    aggregate = read_aggregate(LabelsLayout(root).aggregate)
    if aggregate is None:
        return {}, None
    table, tie_rule = aggregate
    return {row["cue_id"]: row for row in table.to_pylist()}, tie_rule


@dataclass
class _Thresholds:
    """The gates a rejected row was judged by (``build_config.faces`` of dataset.json)."""

    large_fraction: float = 0.2
    size_measure: str = "dims"
    still_landmarks: float | None = None  #: mouth activity below: still (landmarks)
    still_pixels: float | None = None  #: the same, measured on pixels
    min_voiced: float | None = None  #: the voice must be active this share of frames


def _thresholds(layout: DatasetLayout) -> _Thresholds:
    try:
        config = read_dataset_json(layout.root).get("build_config", {})
    except DatasetError:
        return _Thresholds()
    faces = config.get("faces", {}) if isinstance(config, dict) else {}
    return _Thresholds(
        large_fraction=float(faces.get("large_fraction", 0.2)),
        size_measure=str(faces.get("size_measure", "dims")),
        still_landmarks=faces.get("speaking_still_threshold"),
        still_pixels=faces.get("speaking_pixel_still_threshold"),
        min_voiced=faces.get("speaking_min_voiced_fraction"),
    )


def _face_size(row: dict[str, Any], measure: str) -> float | None:
    """The face's size on the gate's scale: recorded, else from its width and height."""
    if row.get("face_size_fraction") is not None:
        return float(row["face_size_fraction"])
    width, height = row.get("face_width_fraction"), row.get("face_height_fraction")
    if width is None or height is None:
        return None
    if measure == "height":
        return float(height)
    if measure == "area":
        return float(width) * float(height)
    return float(min(width, height))


def why_line(row: dict[str, Any], thresholds: _Thresholds) -> str | None:
    """Plain words for why a media check rejected ``row``, with the measured figure."""
    reason = row.get("reason")
    if reason in ("face_too_small", "several_faces", "no_face"):
        size = _face_size(row, thresholds.size_measure)
        if size is None:
            return "no face found in the frames" if reason == "no_face" else None
        verb = "below" if size < thresholds.large_fraction else "above"
        return (
            f"face size {size:.3f} of the frame ({thresholds.size_measure}), {verb} the gate "
            f"{thresholds.large_fraction:g}"
        )
    if reason == "shot_cut" and row.get("shot_cut_ms") is not None:
        start = int(row["start_ms"])
        cut = int(row["shot_cut_ms"])
        line = f"the shot cuts at {format_ms(cut)}, {cut - start} ms into the sentence"
        if row.get("thumb_ms") is not None:
            side = "after" if int(row["thumb_ms"]) >= cut else "before"
            line += f"; the picture is from {side} the cut"
        return line
    if reason == "not_speaking" and row.get("mouth_activity") is not None:
        activity = float(row["mouth_activity"])
        method = row.get("speaking_method") or "landmarks"
        gate = thresholds.still_pixels if method == "pixels" else thresholds.still_landmarks
        line = f"mouth activity {activity:.4f} ({method})"
        if gate is not None:
            line += f", {'below' if activity < gate else 'above'} the still threshold {gate:g}"
        if row.get("voiced_fraction") is not None:
            line += f", while the voice is active in {100 * float(row['voiced_fraction']):.0f} %"
            line += " of the frames"
        return line
    if reason in ("not_speaking", "out_of_sync") and row.get("speaking_score") is not None:
        return f"speaking score {float(row['speaking_score']):.3f} (mouth against voice, r)"
    return None


def _boxes(row: dict[str, Any], thresholds: _Thresholds) -> list[dict[str, Any]]:
    """The face boxes drawn over a thumbnail, in % of the picture."""
    boxes = row.get("thumb_face_boxes") or []
    out = []
    for box in boxes:
        width, height = float(box["width"]), float(box["height"])
        size = {"height": height, "area": width * height}.get(
            thresholds.size_measure, min(width, height)
        )
        out.append(
            {
                "left": f"{100 * float(box['x']):.2f}",
                "top": f"{100 * float(box['y']):.2f}",
                "width": f"{100 * width:.2f}",
                "height": f"{100 * height:.2f}",
                "size": f"{size:.3f}",
                "large": size >= thresholds.large_fraction,
            }
        )
    return out


@dataclass
class _Rows:
    """What the pages show from the manifest, read once (only the columns needed)."""

    table: pa.Table
    examples: dict[str, list[dict[str, Any]]]
    reason_status: dict[str, str]


def _read_rows(layout: DatasetLayout) -> _Rows:
    columns = [c for c in TABLE_COLUMNS if c in CUE_SCHEMA.names]
    table = read_manifest(layout, columns=columns, warn=lambda line: None)
    table = table.take(pc.sort_indices(table, sort_keys=[("cue_id", "ascending")]))
    others = table.filter(pc.not_equal(table.column("status"), "accepted"))
    examples: dict[str, list[dict[str, Any]]] = {}
    reason_status: dict[str, str] = {}
    for reason in sorted(r for r in pc.unique(others.column("reason")).to_pylist() if r):
        rows = others.filter(pc.equal(others.column("reason"), reason))
        examples[reason] = rows.slice(0, EXAMPLES_PER_REASON).to_pylist()
        reason_status[reason] = str(rows.column("status")[0].as_py())
    return _Rows(table, examples, reason_status)


def _first_accepted(layout: DatasetLayout, max_cues: int) -> list[CueGroup]:
    """The first ``max_cues`` accepted cue groups by id, as records (all columns)."""
    if not max_cues:
        return []
    kept: list[CueGroup] = []
    from empathynet.store.parts import readable_parts

    for _, table in readable_parts(layout, warn=lambda line: None):
        accepted = table.filter(pc.equal(table.column("status"), "accepted"))
        if not accepted.num_rows:
            continue
        order = pc.sort_indices(accepted, sort_keys=[("cue_id", "ascending")])
        kept.extend(table_to_records(accepted.take(order[:max_cues]), CueGroup))
        kept = sorted(kept, key=lambda cue: cue.cue_id)[:max_cues]
    return kept


def _card(
    cue: CueGroup,
    label: dict[str, Any] | None,
    media: _MediaLinks,
    sources: dict[str, _SourceInfo],
) -> dict[str, Any]:
    shown_label: dict[str, Any] | None = None
    if label is not None:
        shown_label = {
            "shown": label["label"] if label["label"] is not None else "tie (unlabelled)",
            "label_votes": label["label_votes"],
            "votes": label["votes"],
            "agreement": label["agreement"],
        }
    elif cue.label is not None:
        shown_label = {"shown": cue.label, "votes": None}
    face = cue.face
    faces = media.item  # bound for brevity
    crops = [faces(p, f"face {n}") for n, p in enumerate(cue.media.face_crop_paths)]
    poster_path = (
        cue.media.face_crop_paths[len(cue.media.face_crop_paths) // 2]
        if cue.media.face_crop_paths
        else None
    )
    source = _source_of(sources, cue.source_id)
    return {
        "cue_id": cue.cue_id,
        "source_name": source.name,
        "source_page": source.page,
        "text": cue.text,
        "tags": list(cue.nonverbal),
        "speaker": cue.speaker if cue.speaker is not None else "\u2013",
        "time": _time(cue.start_ms, cue.end_ms),
        "label": shown_label,
        "figures": [
            (
                "face width / height / area",
                f"{_number(face.width_fraction)} / {_number(face.height_fraction)} / "
                f"{_number(face.area_fraction)} (min {_number(face.fraction_min)})",
            ),
            ("face coverage", _number(face.coverage)),
            ("speaking score", _number(cue.checks.speaking_score)),
            ("blur", cue.blur.method if cue.blur.method is not None else "\u2013"),
            ("F0 correlation", _number(cue.blur.f0_correlation)),
            ("speaking-rate ratio", _number(cue.blur.speaking_rate_ratio)),
        ],
        "wer_blur": None if cue.asr.wer_blur is None else _number(cue.asr.wer_blur),
        "may_be_intelligible": bool(cue.asr.may_be_intelligible),
        "stills": [faces(p, f"still {n}") for n, p in enumerate(cue.media.still_paths)],
        "faces": crops,
        "audio": faces(cue.media.audio_path, "audio"),
        "audio_blur": faces(cue.media.audio_blur_path, "blurred audio"),
        "face_clip": faces(cue.media.face_clip_path, "face clip"),
        "poster": media.href(poster_path) if poster_path else None,
    }


def _annotator_agreement(root: Path) -> Agreement | None:
    """Krippendorff's α and Fleiss' κ of the votes (``labels.agreement``); None when the
    dataset has no votes."""
    if not LabelsLayout(root).votes.exists():
        return None
    try:
        return annotator_agreement(root)
    except DatasetError:
        return None


def _agreement(root: Path, result: Agreement | None) -> dict[str, Any] | None:
    """The agreement section's values."""
    if result is None:
        return None

    def row(name: str, estimate: Estimate, key: str, note: str) -> dict[str, str]:
        return {
            "name": name,
            "key": key,
            "value": _number(estimate.value),
            "low": _number(estimate.low),
            "high": _number(estimate.high),
            "note": note,
        }

    kappa_note = (
        f"{result.kappa_cue_groups} cue groups with {result.kappa_votes_per_cue_group} votes; "
        f"{landis_koch(result.kappa.value)} (Landis & Koch)"
    )
    return {
        "level": f"{result.confidence_level:.0%}",
        "rows": [
            row(
                "Krippendorff's \u03b1 (nominal)",
                result.alpha,
                "alpha",
                f"{result.cue_groups} cue groups with 2+ votes",
            ),
            row("Fleiss' \u03ba", result.kappa, "kappa", kappa_note),
        ],
        "counts": [
            ("cue_groups", result.cue_groups),
            ("left_out", result.cue_groups_left_out),
            ("votes", result.votes),
            ("annotators", result.annotators),
        ],
        "note": (
            "Each annotator\u2019s latest vote per cue group; intervals: bootstrap over cue "
            f"groups ({result.resamples} resamples, seed {result.seed}). \u03ba below 0 is "
            "poor, to 0.20 slight, to 0.40 fair, to 0.60 moderate, to 0.80 substantial, above "
            "almost perfect (Landis & Koch 1977); \u03b1 \u2265 0.800 is reliable, \u2265 0.667 "
            f"tentative. MELD reports Fleiss\u2019 \u03ba {MELD_FLEISS_KAPPA:.2f}. Per class "
            f"and per annotator: empathynet labels agreement {root.name}."
        ),
    }


def _tasks(root: Path) -> list[dict[str, Any]]:
    out = []
    for task in list_tasks(root):
        spec = read_spec(root, task.name)
        out.append(
            {
                "name": task.name,
                "family": task.family,
                "version": spec.family_version,
                "query": " + ".join(task.query),
                "answer": " + ".join(task.answer) or "\u2013",
                "items": task.items,
                "dropped_total": sum(task.dropped.values()),
                "dropped": ", ".join(f"{k} {v}" for k, v in task.dropped.items() if v),
                "seed": task.seed,
            }
        )
    return out


def _board(board: Board | None) -> dict[str, Any] | None:
    """The leaderboard by task, each note said once per task (with the models it is on)."""
    if board is None:
        return None
    groups: dict[str, dict[str, Any]] = {}
    for row in board.rows:
        group = groups.setdefault(row.task, {"rows": [], "notes": {}})
        interval = (
            f"[{row.low:.3f}, {row.high:.3f}]"
            if row.low is not None and row.high is not None
            else "\u2013"
        )
        group["rows"].append(
            {
                "task": row.task,
                "family": row.family,
                "model": row.model,
                "metric": row.metric,
                "items": row.items,
                "value": _number(row.value),
                "interval": interval,
            }
        )
        if row.note:
            group["notes"].setdefault(row.note, []).append(row.model)
    return {
        "groups": [
            {
                "rows": group["rows"],
                "notes": [(note, ", ".join(models)) for note, models in group["notes"].items()],
            }
            for group in groups.values()
        ],
        "audits": list(board.audits.items()),
    }


def _title(layout: DatasetLayout) -> str:
    """The dataset's title: ``title`` in ``dataset.json``, else its ``name``, else the
    folder's name."""
    value = read_dataset_json(layout.root)
    for key in ("title", "name"):
        if isinstance(value.get(key), str) and value[key].strip():
            return str(value[key]).strip()
    return layout.root.resolve().name


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("empathynet.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )


@dataclass
class _Site:
    """Everything the pages share, read once."""

    layout: DatasetLayout
    title: str
    summary: dict[str, Any]
    sources: dict[str, _SourceInfo]
    rows: _Rows
    labels: dict[str, dict[str, Any]]
    tie_rule: str | None
    thresholds: _Thresholds
    agreement: Agreement | None
    env: Any
    carded: set[str] = field(default_factory=set)  #: cue ids with a card on index.html

    def common(self, up: str, home: str) -> dict[str, Any]:
        return {
            "title": self.title,
            "css": _css(),
            "up": up,
            "home": home,
            "has_agreement": self.agreement is not None,
        }


def _site(dataset: str | Path) -> _Site:
    layout = DatasetLayout(Path(dataset))
    summary = summarize(layout, warn=lambda line: None).to_dict()  # DatasetError: not one
    labels, tie_rule = _labels(layout.root)
    return _Site(
        layout=layout,
        title=_title(layout),
        summary=summary,
        sources=_sources(layout),
        rows=_read_rows(layout),
        labels=labels,
        tie_rule=tie_rule,
        thresholds=_thresholds(layout),
        agreement=_annotator_agreement(layout.root),
        env=_environment(),
    )


def _index(
    site: _Site,
    board: Board | None,
    max_cues: int,
    plots: Sequence[Any],
) -> str:
    layout, summary = site.layout, site.summary
    media = _MediaLinks(layout)
    cues = [
        _card(cue, site.labels.get(cue.cue_id), media, site.sources)
        for cue in _first_accepted(layout, max_cues)
    ]
    site.carded = {card["cue_id"] for card in cues}
    total = max(summary["utterances"], 1)
    reasons = []
    for reason, count in sorted(summary["reasons"].items(), key=lambda kv: (-kv[1], kv[0])):
        examples = []
        for row in site.rows.examples.get(reason, []):
            source = _source_of(site.sources, row["source_id"])
            examples.append(
                {
                    "cue_id": row["cue_id"],
                    "source_name": source.name,
                    "source_page": source.page,
                    "time": _time(row["start_ms"], row["end_ms"]),
                    "text": row["text"],
                    "error": row.get("error"),
                    "why": why_line(row, site.thresholds),
                    "thumb": {
                        "link": media.href(row.get("thumb_path")),
                        "boxes": _boxes(row, site.thresholds),
                    },
                }
            )
        reasons.append(
            {
                "reason": reason,
                "count": count,
                "status": site.rows.reason_status.get(reason, "\u2013"),
                "share": 100 * count / total,
                "words": REASONS.get(reason, ""),
                "examples": examples,
            }
        )
    agreement = _agreement(layout.root, site.agreement)
    failures = [SourceFailure(**failure) for failure in summary["failures"]]
    fixes = [(k, int(v)) for k, v in summary["subtitle_fixes"].items()]
    context = {
        **site.common("", ""),
        "root": str(layout.root),
        "version": __version__,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "summary": summary,
        "reasons": reasons,
        "stages": list(summary["stage_seconds"].items()),
        "wall": summary["wall_seconds"],
        "failures": [failure.line(summary["inputs"]) for failure in failures],
        "fixes": fixes,
        "fix_words": SUBTITLE_FIXES,
        "plots": list(plots),
        "cues": cues,
        "tie_rule": site.tie_rule,
        "agreement": agreement,
        "tasks": _tasks(layout.root),
        "splits": SPLITS,
        "board": _board(board),
        "glossary": glossary_sections(set(summary["reasons"]), {name for name, _ in fixes}),
        "media_missing": 0,
        "media_refused": 0,
    }
    # the cards were resolved above: now the counts of what could not be linked are known
    context["media_missing"], context["media_refused"] = len(media.missing), len(media.refused)
    rendered: str = site.env.get_template("index.html.j2").render(context)
    return rendered


def _source_pages(site: _Site) -> dict[str, str]:
    """``sources.html`` and one page per source (``sources/<id>.html``), by file name."""
    table = site.rows.table
    by_source: dict[str, list[int]] = defaultdict(list)
    for index, source_id in enumerate(table.column("source_id").to_pylist()):
        by_source[source_id].append(index)
    for source_id in by_source:
        _source_of(site.sources, source_id)
    statuses = table.column("status").to_pylist()
    for source_id, indices in by_source.items():
        site.sources[source_id].counts.update(statuses[i] for i in indices)
    pages: dict[str, str] = {}
    shown = []
    for info in sorted(site.sources.values(), key=lambda s: (s.name.lower(), s.source_id)):
        row = info.row
        duration = row.get("duration_ms")
        facts = {
            "source_id": info.source_id,
            "name": info.name,
            "page": info.page,
            "path": row.get("path") or "\u2013",
            "licence": row.get("licence") or "unknown",
            "url": row.get("url") or "\u2013",
            "url_link": _web_link(row.get("url")),
            "attribution": row.get("attribution"),
            "sha256": row.get("sha256") or "\u2013",
            "duration": format_ms(int(duration)) if duration is not None else "\u2013",
            "status": row.get("status") or "\u2013",
            "reason": row.get("reason"),
            "rows": sum(info.counts.values()),
            "accepted": info.counts.get("accepted", 0),
            "rejected": info.counts.get("rejected", 0),
            "failed": info.counts.get("failed", 0),
        }
        shown.append(facts)
        if info.page:
            pages[f"sources/{info.page}"] = _source_page(
                site, facts, by_source.get(info.source_id, []), duration
            )
    pages["sources.html"] = site.env.get_template("sources.html.j2").render(
        {**site.common("", "index.html"), "sources": shown}
    )
    return pages


def _source_page(
    site: _Site, facts: dict[str, Any], indices: list[int], duration: int | None
) -> str:
    rows = site.rows.table.take(pa.array(indices, pa.int64())).to_pylist() if indices else []
    end = max([duration or 0, *(int(r["end_ms"]) for r in rows)]) or 1
    lane, lanes_end = 14, [0] * 3
    marks = []
    for row in rows:
        start_ms, end_ms = int(row["start_ms"]), int(row["end_ms"])
        # overlapping sentences go on the next free lane (three at most)
        lane_index = next((i for i, t in enumerate(lanes_end) if t <= start_ms), 0)
        lanes_end[lane_index] = max(lanes_end[lane_index], end_ms)
        marks.append(
            {
                "cue_id": row["cue_id"],
                "x": f"{1000 * start_ms / end:.2f}",
                "y": 2 + lane_index * (lane + 2),
                "width": f"{max(1000 * (end_ms - start_ms) / end, 1.0):.2f}",
                "status": row["status"],
                "reason": row.get("reason"),
                "time": _time(start_ms, end_ms),
                "text": row["text"],
            }
        )
    lanes_used = 1 + max((m["y"] - 2) // (lane + 2) for m in marks) if marks else 1
    label_of = site.labels
    table_rows = [
        {
            "cue_id": row["cue_id"],
            "time": _time(int(row["start_ms"]), int(row["end_ms"])),
            "status": row["status"],
            "reason": row.get("reason") or "",
            "label": (label_of.get(row["cue_id"]) or {}).get("label") or "",
            "text": row["text"],
            "shown": row["cue_id"] in site.carded,
        }
        for row in rows
    ]
    rendered: str = site.env.get_template("source.html.j2").render(
        {
            **site.common("../", "../index.html"),
            "s": facts,
            "rows": table_rows,
            "timeline": {
                "marks": marks,
                "lane": lane,
                "height": 4 + lanes_used * (lane + 2),
                "end": format_ms(end),
            },
        }
    )
    return rendered


def _short_path(relative: str | None, source_id: str, cue_id: str) -> str | None:
    """A media path for the row table: its file name when it lies in the cue's own folder
    (the script puts the folder back), else the whole path; None when not plain."""
    if not relative or not _plain_path(relative):
        return None
    folder = f"media/{source_id}/{cue_id}/"
    name = relative.removeprefix(folder)
    return name if name != relative and "/" not in name else relative


def _table_files(site: _Site) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The row table's start values (for ``cues.html``) and its data files."""
    table = site.rows.table
    source_ids = sorted(site.sources)
    source_index = {source_id: i for i, source_id in enumerate(source_ids)}
    statuses = ["accepted", "rejected", "failed"]
    reasons = sorted(r for r in pc.unique(table.column("reason")).to_pylist() if r)
    classes = sorted({str(v["label"]) for v in site.labels.values() if v.get("label")})
    status_index = {s: i for i, s in enumerate(statuses)}
    reason_index = {r: i for i, r in enumerate(reasons)}
    class_index = {c: i for i, c in enumerate(classes)}
    names = table.column_names
    columns = {name: table.column(name).to_pylist() for name in names}
    for name in TABLE_COLUMNS:  # a manifest written before a column existed
        columns.setdefault(name, [None] * table.num_rows)
    files: dict[str, bytes] = {}
    chunk_names = []
    for start in range(0, table.num_rows, CHUNK_ROWS):
        rows = []
        for i in range(start, min(start + CHUNK_ROWS, table.num_rows)):
            cue_id, source_id = columns["cue_id"][i], columns["source_id"][i]
            status, reason = columns["status"][i], columns["reason"][i]
            label = (site.labels.get(cue_id) or {}).get("label")
            detail: dict[str, Any] = {}
            if status == "accepted":
                stills = [
                    _short_path(p, source_id, cue_id) for p in columns["still_paths"][i] or ()
                ]
                detail["s"] = [p for p in stills if p]
                crops = columns["face_crop_paths"][i] or []
                if crops:  # the poster of the face clip: the middle face crop
                    poster = _short_path(crops[len(crops) // 2], source_id, cue_id)
                    if poster:
                        detail["p"] = poster
                for key, column in (("b", "audio_blur_path"), ("v", "face_clip_path")):
                    path = _short_path(columns[column][i], source_id, cue_id)
                    if path:
                        detail[key] = path
            else:
                row = {name: columns[name][i] for name in TABLE_COLUMNS}
                thumb = _short_path(row.get("thumb_path"), source_id, cue_id)
                if thumb:
                    detail["t"] = thumb
                    detail["x"] = [
                        [
                            float(b["x"]),
                            float(b["y"]),
                            float(b["width"]),
                            float(b["height"]),
                            int(box["large"]),
                        ]
                        for b, box in zip(
                            row.get("thumb_face_boxes") or [],
                            _boxes(row, site.thresholds),
                            strict=True,
                        )
                    ]
                why = why_line(row, site.thresholds)
                if why:
                    detail["w"] = why
                if row.get("error"):
                    detail["e"] = row["error"]
            rows.append(
                [
                    cue_id,
                    source_index.get(source_id, -1),
                    columns["start_ms"][i],
                    columns["end_ms"][i],
                    status_index.get(status, 0),
                    reason_index.get(reason, -1) if reason else -1,
                    class_index.get(label, -1) if label else -1,
                    columns["text"][i],
                    detail or 0,
                ]
            )
        name = f"data/cues-{start // CHUNK_ROWS:04d}.js"
        chunk_names.append(name)
        payload = json.dumps(
            {"start": start, "rows": rows}, ensure_ascii=False, separators=(",", ":")
        )
        files[name] = f"EmpathyNet.chunk({payload});\n".encode()
    start_values = {
        "chunks": chunk_names,
        "total": table.num_rows,
        "statuses": statuses,
        "reasons": reasons,
        "classes": classes,
        "sources": [
            {"id": s, "name": site.sources[s].name, "page": site.sources[s].page}
            for s in source_ids
        ],
        "reason_words": {r: REASONS.get(r, "") for r in reasons},
        "page_rows": 100,
    }
    return start_values, files


def _cues_page(site: _Site, start: dict[str, Any]) -> str:
    rendered: str = site.env.get_template("cues.html.j2").render(
        {
            **site.common("", "index.html"),
            "total": start["total"],
            "chunk_rows": CHUNK_ROWS,
            "statuses": start["statuses"],
            "reasons": start["reasons"],
            "classes": start["classes"],
            "sources": start["sources"],
            "start": start,
        }
    )
    return rendered


def render_report(
    dataset: str | Path, *, leaderboard: Board | None = None, max_cues: int = 200
) -> str:
    """The main page of ``dataset``'s report as HTML text, without plots (see
    ``write_report``)."""
    if max_cues < 0:
        raise ConfigError(f"max_cues must be >= 0, got {max_cues}")
    return _index(_site(dataset), leaderboard, max_cues, [])


def _write_site(root: Path, files: dict[str, bytes]) -> None:
    """Write the site's files and remove those of an earlier report it no longer has (only
    names the report itself writes: ``data/cues-*.js``, ``sources/*.html``)."""
    reports = root / "reports"
    for name, data in files.items():
        target = reports / name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)
    for pattern in ("data/cues-*.js", "sources/*.html"):
        for old in reports.glob(pattern):
            if old.relative_to(reports).as_posix() not in files:
                old.unlink(missing_ok=True)


def _assets() -> dict[str, bytes]:
    static = resources.files("empathynet.report").joinpath("static")
    return {"assets/cues.js": static.joinpath("cues.js").read_bytes()}


@writes_dataset
def write_report(
    dataset: str | Path, *, leaderboard: Board | None = None, max_cues: int = 200
) -> Path:
    """Write the report's pages into ``DATASET/reports/`` (see the module docstring)
    and return the path of ``index.html``.

    The main page shows the build summary (``summarize``), the plots, the first
    ``max_cues`` accepted cue groups by cue id with their stills, face crops, audio,
    blurred audio and face clip, their labels, the rejected and failed rows per reason with
    examples, the tasks, ``leaderboard`` when given, and a glossary.
    """
    from empathynet.report.plots import write_plots

    if max_cues < 0:
        raise ConfigError(f"max_cues must be >= 0, got {max_cues}")
    site = _site(dataset)
    root = site.layout.root
    plots = write_plots(
        root, root / "reports" / "plots", leaderboard=leaderboard, agreement=site.agreement
    )
    index = _index(site, leaderboard, max_cues, plots)  # first: it picks the carded cues
    start, files = _table_files(site)
    files.update({name: page.encode() for name, page in _source_pages(site).items()})
    files["cues.html"] = _cues_page(site, start).encode()
    files.update(_assets())
    _write_site(root, files)
    path = root / "reports" / REPORT_NAME
    atomic_write_bytes(path, index.encode())
    return path


__all__ = [
    "CHUNK_ROWS",
    "REPORT_NAME",
    "escape_text",
    "media_href",
    "render_report",
    "why_line",
    "write_report",
]
