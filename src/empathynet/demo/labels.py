"""The demo's own labels: a small annotation CSV for the demo dataset's cue groups.

Three annotators label each accepted cue group of the demo. The demo's sentences have
hand-written votes (with some disagreement, no ties); a sentence the demo did not plan
(e.g. after a change of the demo script) gets a unanimous class chosen from its
position, so the file always covers every cue group. The demo face is one adult woman
(the ``astronaut`` photograph), so every vote says gender ``female``, age band ``adult``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from empathynet.demo.talks import TALK_SENTENCES
from empathynet.labels.taxonomy import DEFAULT_CLASSES
from empathynet.store.atomic import atomic_write_bytes

ANNOTATORS: tuple[str, ...] = ("ann1", "ann2", "ann3")

#: Votes of the three annotators per demo sentence.
DEMO_VOTES: dict[str, tuple[str, str, str]] = {
    "Hello again.": ("joy", "joy", "neutral"),
    "I went down to the harbour this morning and watched the boats come in.": (
        "neutral",
        "neutral",
        "neutral",
    ),
    "One of them was painted bright pink!": ("joy", "surprise", "joy"),
    "Let me show you what we found.": ("neutral", "joy", "neutral"),
    "This is the rocket that we built last summer.": ("joy", "joy", "neutral"),
    "It took us nearly a year.": ("sadness", "neutral", "sadness"),
    "Yes, I am.": ("neutral", "neutral", "joy"),
    "Then let us go together.": ("joy", "joy", "joy"),
}


def _talk_votes() -> dict[str, tuple[str, str, str]]:
    """Votes for the talk clips' sentences: the intended class, and every fifth sentence
    one annotator who reads it as neutral (disagreement, never a tie)."""
    votes: dict[str, tuple[str, str, str]] = {}
    for number, (text, label) in enumerate(TALK_SENTENCES):
        dissent = "neutral" if number % 5 == 4 and label != "neutral" else label
        votes[text] = (label, label, dissent)
    return votes


def demo_label_rows(cues: list[tuple[str, str]]) -> list[tuple[str, str, str, str, str]]:
    """``(cue_id, annotator, label, gender, age_band)`` rows for ``(cue_id, text)`` pairs."""
    rows: list[tuple[str, str, str, str, str]] = []
    known = {**_talk_votes(), **DEMO_VOTES}
    for number, (cue_id, text) in enumerate(sorted(cues)):
        fallback = DEFAULT_CLASSES[number % len(DEFAULT_CLASSES)]
        votes = known.get(text.strip(), (fallback, fallback, fallback))
        for annotator, label in zip(ANNOTATORS, votes, strict=True):
            rows.append((cue_id, annotator, label, "female", "adult"))
    return rows


def write_demo_labels(dataset: str | Path, out: str | Path) -> Path:
    """Write the demo labels CSV for the accepted cue groups of ``dataset`` to ``out``.

    Import it with ``empathynet labels import DATASET out.csv``. Returns ``out``.
    """
    from empathynet.labels.store import read_manifest_columns

    table = read_manifest_columns(dataset, ["cue_id", "status", "text"])
    cues = [
        (row["cue_id"], row["text"]) for row in table.to_pylist() if row["status"] == "accepted"
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["cue_id", "annotator", "label", "gender", "age_band"])
    writer.writerows(demo_label_rows(cues))
    path = Path(out)
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
    return path
