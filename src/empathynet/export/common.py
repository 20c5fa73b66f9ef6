"""What every export shares: the accepted cue groups in cue id order, each cue group's
metadata (source, time range, labels), and the bookkeeping of the files it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from empathynet.errors import DatasetError
from empathynet.store.dataset import Cue, Dataset, open_dataset
from empathynet.store.layout import safe_join


def as_dataset(dataset: str | Path | Dataset) -> Dataset:
    """``dataset`` opened (a ``Dataset`` is returned as is)."""
    return dataset if isinstance(dataset, Dataset) else open_dataset(dataset)


def accepted_cues(dataset: Dataset) -> list[Cue]:
    """The accepted cue groups sorted by cue id (the order every export writes)."""
    # every column: ``cues(columns=...)`` cannot name the flat media columns yet
    cues = sorted(dataset.cues(), key=lambda cue: cue.cue_id)
    for cue in cues:
        if "." in cue.cue_id:  # WebDataset splits a sample's key at its first dot
            raise DatasetError(f"cue id {cue.cue_id!r} holds a dot", dataset.root)
    return cues


class CueMetadata:
    """Each cue group's metadata as an export writes it: ids, time range, speaker,
    nonverbal tags, label and attributes, agreement and votes when labelled, and its
    source's title, url, licence, attribution and the SHA-256 of its bytes."""

    def __init__(self, dataset: Dataset) -> None:
        table = dataset.labels
        self.labels: dict[str, dict[str, Any]] = (
            {}
            if table is None
            else {
                row["cue_id"]: row
                for row in table.select(
                    ["cue_id", "label", "votes", "agreement", "confidence", "gender", "age_band"]
                ).to_pylist()
            }
        )
        self.sources = {source.source_id: source for source in dataset.sources}

    def __call__(self, cue: Cue) -> dict[str, Any]:
        """The metadata of ``cue`` (JSON-ready; ``agreement``, ``votes``, ``confidence``
        only when the cue group has imported votes)."""
        aggregate = self.labels.get(cue.cue_id)
        values: dict[str, Any] = {
            "cue_id": cue.cue_id,
            "source_id": cue.source_id,
            "start_ms": int(cue.start_ms),
            "end_ms": int(cue.end_ms),
            "text": cue.text,
            "speaker": cue.speaker,
            "nonverbal": list(cue.nonverbal),
            "label": cue.label,
            "gender": cue.gender,
            "age_band": cue.age_band,
        }
        if aggregate is not None:
            # the aggregate of the imported votes is the current label
            values["label"] = aggregate["label"]
            values["gender"] = aggregate["gender"] or cue.gender
            values["age_band"] = aggregate["age_band"] or cue.age_band
            values["votes"] = int(aggregate["votes"])
            values["agreement"] = float(aggregate["agreement"])
            values["confidence"] = float(aggregate["confidence"])
        source = self.sources.get(cue.source_id)
        described = {
            key: getattr(source, key)
            for key in ("title", "url", "licence", "attribution", "sha256")
            if source is not None and getattr(source, key) is not None
        }
        if described:
            values["source"] = described
        return values


def media_bytes(dataset: Dataset, cue: Cue, relative: str) -> bytes:
    """The bytes of one media file of ``cue``; ``DatasetError`` naming it when missing."""
    path = safe_join(dataset.root, relative)
    try:
        return path.read_bytes()
    except OSError as error:
        raise DatasetError(
            f"cue {cue.cue_id}: cannot read {relative} ({error.strerror or error}); "
            "run empathynet check",
            path,
        ) from None


__all__ = [
    "CueMetadata",
    "accepted_cues",
    "as_dataset",
    "media_bytes",
]
