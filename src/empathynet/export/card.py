"""The dataset card: one Markdown page computed from a dataset.

``dataset_card(dataset)`` reads the manifest once and returns Markdown without a YAML
header: counts (sources, utterances, accepted and rejected rows by reason), classes and
their balance per split, annotator agreement, durations and face sizes (median and
quartiles), sources and licences, the blur method and its measured figures, tasks, the
baselines' results found under ``reports/results/``, then limitations and intended use.
Every figure comes from the dataset; only the prose is fixed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from empathynet.data.models import CueGroup
from empathynet.errors import DatasetError
from empathynet.labels.agreement import Agreement, annotator_agreement
from empathynet.pipeline.reblur import blur_report
from empathynet.store.dataset import Dataset, open_dataset
from empathynet.tasks import SPLITS, list_tasks

#: The fixed prose of the card's last sections.
INTENDED_USE = (
    "Research on recognising and generating empathic responses from a speaker's face, "
    "prosody and words: classification of a cue group's class, multiple-choice and "
    "generation tasks, and benchmarking models on them. Not for identifying, profiling or "
    "judging the people shown, nor for decisions about individuals."
)
LIMITATIONS = (
    "- The blurred audio removes the words but keeps prosody (pitch, loudness, rhythm): "
    "a voice may still be recognisable, and a speech recogniser may still catch words "
    "(see the blur figures).",
    "- Cue groups whose face is too small, missing, or not the speaker's are rejected, so "
    "close-ups of one frontal speaker are over-represented.",
    "- The text comes from subtitles (English in the demo and the shipped sources): "
    "subtitles shorten and paraphrase speech, and other languages are not covered.",
    "- The demo dataset uses synthetic voices and faces: its figures test the tooling, "
    "not human behaviour.",
    "- Gender and age band are annotators' perceptions, not self-reports; classes are "
    "annotators' judgements with the agreement shown above.",
    "- The sources are a small set of films and talks: their speakers, settings and "
    "recording conditions are not a sample of the world's population.",
)
PERSONAL_DATA = (
    "Faces and voices of identifiable people appear in the stills, face clips and (blurred) "
    "audio; the subtitles may name people. Each cue group keeps its source id and time "
    "range so that material can be removed on request."
)


def _quartiles(values: Sequence[float]) -> tuple[float, float, float] | None:
    finite = [v for v in values if v is not None and np.isfinite(v)]
    if not finite:
        return None
    q1, median, q3 = np.percentile(np.asarray(finite, dtype=np.float64), [25, 50, 75])
    return float(q1), float(median), float(q3)


def _quartile_text(values: Sequence[float], unit: str = "", digits: int = 3) -> str:
    found = _quartiles(values)
    if found is None:
        return "not measured"
    q1, median, q3 = (f"{v:.{digits}f}{unit}" for v in found)
    return f"median {median} (quartiles {q1} - {q3}), n = {len(values)}"


def _cell(value: object) -> str:
    text = "unknown" if value is None or value == "" else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _figure(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def _agreement(root: Path) -> Agreement | None:
    try:
        return annotator_agreement(root)
    except DatasetError:
        return None  # no votes


def _labels(dataset: Dataset) -> dict[str, str]:
    table = dataset.labels
    if table is None:
        return {}
    return {
        cue: label
        for cue, label in zip(
            table.column("cue_id").to_pylist(), table.column("label").to_pylist(), strict=True
        )
        if label is not None
    }


def _split_cues(dataset: Dataset) -> dict[str, set[str]]:
    """Split name -> the cue ids that any task puts in it."""
    out: dict[str, set[str]] = {}
    for name in dataset.tasks:
        task = dataset.task(name)
        for split in task.splits:
            items = task.split(split).items
            if "cue_id" in items.column_names:
                out.setdefault(split, set()).update(
                    str(c) for c in items.column("cue_id").to_pylist() if c is not None
                )
    return out


def _leaderboard(root: Path) -> list[list[object]]:
    """Rows (task, split, predictions, metric, value [CI]) from ``reports/results/``."""
    rows: list[list[object]] = []
    for path in sorted((root / "reports" / "results").glob("*.json")):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            task = results["task"]["name"]
            split = results["split"]
            predictions = Path(str(results["predictions"]["file"])).stem
            metrics = results["metrics"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a results file of this package
        for metric, figure in sorted(metrics.items()):
            value = figure.get("value") if isinstance(figure, dict) else None
            interval = figure.get("ci95") if isinstance(figure, dict) else None
            shown = _figure(value)
            if value is not None and interval:
                shown += f" [{interval[0]:.3f}, {interval[1]:.3f}]"
            rows.append([task, split, predictions, metric, shown])
    return rows


def card_facts(dataset: str | Path) -> dict[str, Any]:
    """The figures the card shows, as plain values (also used by the Croissant export)."""
    opened = open_dataset(dataset)
    statuses: Counter[str] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    durations: list[float] = []
    faces: list[float] = []
    accepted: list[CueGroup] = []
    for cue in opened.cues(status=None):
        statuses[cue.status] += 1
        if cue.status != "accepted":
            reasons[(cue.status, cue.reason or "unknown")] += 1
            continue
        durations.append((cue.end_ms - cue.start_ms) / 1000)
        if cue.face.area_fraction is not None:
            faces.append(cue.face.area_fraction)
        # blur_report needs only these parts; the media lists are dropped to keep memory low
        accepted.append(
            CueGroup(
                cue_id=cue.cue_id,
                source_id=cue.source_id,
                start_ms=cue.start_ms,
                end_ms=cue.end_ms,
                text="",
                status=cue.status,
                blur=cue.blur,
                asr=cue.asr,
            )
        )
    labels = _labels(opened)
    accepted_ids = {c.cue_id for c in accepted}
    classes = Counter(label for cue, label in labels.items() if cue in accepted_ids)
    per_split = {
        split: Counter(labels[c] for c in cues if c in labels and c in accepted_ids)
        for split, cues in _split_cues(opened).items()
    }
    return {
        "name": opened.title,
        "sources": opened.sources,
        "statuses": statuses,
        "reasons": reasons,
        "durations_s": durations,
        "face_area_fractions": faces,
        "classes": classes,
        "classes_per_split": per_split,
        "agreement": _agreement(opened.root),
        "blur": blur_report(accepted),
        "tasks": list_tasks(opened.root),
        "leaderboard": _leaderboard(opened.root),
    }


def _class_lines(facts: dict[str, Any]) -> list[str]:
    classes: Counter[str] = facts["classes"]
    if not classes:
        return ["No labels yet: import votes with `empathynet labels import`."]
    splits: dict[str, Counter[str]] = facts["classes_per_split"]
    order = [s for s in SPLITS if s in splits] + sorted(set(splits) - set(SPLITS))
    total = sum(classes.values())
    rows: list[list[object]] = []
    for name, count in sorted(classes.items(), key=lambda item: (-item[1], item[0])):
        row: list[object] = [name, count, f"{count / total:.1%}"]
        row += [splits[s].get(name, 0) for s in order]
        rows.append(row)
    rows.append(["total", total, "100.0%", *(sum(splits[s].values()) for s in order)])
    head = ["class", "cue groups", "share", *order]
    note = [] if order else ["", "No tasks yet, so no splits."]
    return [*_table(head, rows), *note]


def _agreement_lines(agreement: Agreement | None) -> list[str]:
    if agreement is None:
        return ["No votes: annotator agreement is not known."]
    if agreement.cue_groups == 0:
        return ["No cue group has two votes: agreement is not known."]
    level = f"{agreement.confidence_level:.0%}"
    return [
        f"- Krippendorff's alpha (nominal): {agreement.alpha.text()}",
        f"- Fleiss' kappa: {agreement.kappa.text()}",
        f"- over {agreement.cue_groups} cue groups with two or more votes "
        f"({agreement.cue_groups_left_out} with one vote left out), {agreement.votes} votes, "
        f"{agreement.annotators} annotators; {level} bootstrap intervals, "
        f"{agreement.resamples} resamples",
    ]


def _blur_lines(blur: dict[str, Any]) -> list[str]:
    if not blur:
        return ["No blur figures were measured (no accepted cue group records a blur method)."]
    rows = []
    for method, figures in blur.items():
        wer = (
            _figure(figures["median_wer_blur"])
            if figures["transcribed"]
            else "not verified (no speech recogniser run)"
        )
        rows.append(
            [
                method,
                figures["cues"],
                _figure(figures["median_f0_correlation"]),
                _figure(figures["median_intensity_correlation"]),
                _figure(figures["median_speaking_rate_ratio"]),
                _figure(figures["median_wer_raw"]),
                wer,
            ]
        )
    head = [
        "method",
        "cue groups",
        "median F0 r",
        "median intensity r",
        "median rate ratio",
        "median WER raw",
        "median WER blurred",
    ]
    return _table(head, rows)


def render_card(facts: dict[str, Any]) -> str:
    """The card's Markdown from ``card_facts``."""
    statuses: Counter[str] = facts["statuses"]
    reasons: Counter[tuple[str, str]] = facts["reasons"]
    sources = facts["sources"]
    accepted = statuses.get("accepted", 0)
    out = [
        f"# {facts['name']}",
        "",
        f"An EmpathyNet dataset: {accepted} cue groups (a subtitle sentence with its "
        f"speaker's face stills, face clip and blurred audio) from "
        f"{sum(s.status == 'ok' for s in sources)} sources, "
        "each traced to its source id and time range (source_id, start_ms, end_ms).",
        "",
        "## Counts",
        "",
        f"- sources: {len(sources)} ({sum(s.status != 'ok' for s in sources)} failed)",
        f"- utterances (manifest rows): {sum(statuses.values())}",
        f"- accepted cue groups: {accepted}",
        f"- rejected: {statuses.get('rejected', 0)}; failed: {statuses.get('failed', 0)}",
    ]
    for (status, reason), count in sorted(reasons.items()):
        out.append(f"  - {status} {reason}: {count}")
    out += ["", "## Classes", "", *_class_lines(facts)]
    out += ["", "## Annotator agreement", "", *_agreement_lines(facts["agreement"])]
    out += [
        "",
        "## Durations and face sizes",
        "",
        f"- duration: {_quartile_text(facts['durations_s'], ' s', 2)}",
        f"- face area (fraction of the frame): {_quartile_text(facts['face_area_fractions'])}",
        "",
        "## Sources and licences",
        "",
    ]
    out += _table(
        ["source_id", "title", "licence", "attribution", "url", "status"],
        [[s.source_id, s.title, s.licence, s.attribution, s.url, s.status] for s in sources],
    )
    out += ["", "## Audio blur", "", *_blur_lines(facts["blur"]), "", "## Tasks", ""]
    tasks = facts["tasks"]
    if tasks:
        out += _table(
            ["task", "family", *SPLITS],
            [[t.name, t.family, *(t.items.get(s, 0) for s in SPLITS)] for t in tasks],
        )
    else:
        out.append("No tasks yet.")
    out += ["", "## Baselines", ""]
    if facts["leaderboard"]:
        out += _table(
            ["task", "split", "predictions", "metric", "value [95 % CI]"], facts["leaderboard"]
        )
    else:
        out.append("No results under reports/results/ yet.")
    out += [
        "",
        "## Intended use",
        "",
        INTENDED_USE,
        "",
        "## Limitations",
        "",
        *LIMITATIONS,
        "",
        "## Personal data",
        "",
        PERSONAL_DATA,
        "",
    ]
    return "\n".join(out)


def dataset_card(dataset: str | Path) -> str:
    """The dataset card of ``dataset`` as Markdown (no YAML header); reads only."""
    return render_card(card_facts(dataset))


__all__ = [
    "INTENDED_USE",
    "LIMITATIONS",
    "PERSONAL_DATA",
    "card_facts",
    "dataset_card",
    "render_card",
]
