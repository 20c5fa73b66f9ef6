"""Features of accepted cue groups for class discovery, one block per view.

Views and what they give:

* ``text``: the sentence and its sound tags embedded with all-MiniLM-L6-v2 (384-d, the
  ``embed`` baseline's model, extra ``embed``); described by its distinguishing words.
* ``audio_blur``: the 13 prosody features of the blurred audio (``prosody_vector``:
  voicing, F0 in semitones, level in dBFS, speaking rate); they also describe clusters.
* ``stills`` / ``face_stills``: the baselines' image features (32x32 grey thumbnail,
  gradient-orientation and colour histograms), averaged over a cue group's images;
  described by six plain image statistics (``IMAGE_STATISTICS``).

Each view's block is centred (prosody and image columns also scaled to unit variance:
their units differ) and then divided by the square root of its total variance, so every
view has total variance 1 (times its weight) and none dominates the distances by having
more dimensions or larger numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from empathynet.errors import ConfigError, CorruptMediaError, MissingDependencyError
from empathynet.evaluate.baselines.features import (
    EMBED_INSTALL,
    cue_text,
    image_vector,
    load_sentence_model,
    prosody_vector,
)
from empathynet.store.layout import safe_join
from empathynet.tasks.cuetable import CueTable
from empathynet.tasks.views import require_views, view

FloatMatrix = npt.NDArray[np.float64]

#: Views class discovery can embed.
CLUSTER_VIEWS: tuple[str, ...] = ("text", "audio_blur", "stills", "face_stills")
#: The views used when none are given.
DEFAULT_VIEWS: tuple[str, ...] = ("text", "audio_blur", "stills")

#: Names of ``prosody_vector``'s 13 features, with what a higher / lower value sounds like.
PROSODY_STATISTICS: tuple[tuple[str, str, str], ...] = (
    ("voiced fraction", "more voiced, fewer pauses", "more pauses or unvoiced sound"),
    ("F0 mean", "higher pitch", "lower pitch"),
    ("F0 spread", "more pitch movement", "flatter pitch"),
    ("F0 minimum", "higher pitch floor", "lower pitch floor"),
    ("F0 maximum", "higher pitch peaks", "lower pitch peaks"),
    ("F0 median", "higher typical pitch", "lower typical pitch"),
    ("F0 slope", "pitch rising over the sentence", "pitch falling over the sentence"),
    ("level mean", "louder", "quieter"),
    ("level spread", "more varied loudness", "steadier loudness"),
    ("level maximum", "louder peaks", "softer peaks"),
    ("level 10th percentile", "louder quiet parts", "quieter quiet parts"),
    ("level 90th percentile", "louder loud parts", "softer loud parts"),
    ("speaking rate", "faster speech", "slower speech"),
)
#: Plain statistics of an image (mean over a cue group's images), with what higher /
#: lower means: brightness and contrast of the grey image (0-1), mean gradient magnitude,
#: the lower half's share of the gradient energy (mouth and jaw in a face crop),
#: warmth (mean red minus mean blue, 0-1) and saturation (HSV, 0-1).
IMAGE_STATISTICS: tuple[tuple[str, str, str], ...] = (
    ("brightness", "brighter", "darker"),
    ("contrast", "more contrast", "flatter lighting"),
    ("edge strength", "more edges and texture", "smoother"),
    ("lower-half detail", "more detail in the lower half (mouth, jaw)", "less lower-half detail"),
    ("warmth", "warmer colours", "cooler colours"),
    ("saturation", "more saturated colours", "greyer colours"),
)
_STAT_SIDE = 64  # pixels of the image the statistics are measured on


@dataclass(frozen=True)
class ViewBlock:
    """One view's features for every cue group (rows in cue-table order)."""

    view: str
    #: centred, scaled to total variance ``weight``; what the clustering sees
    matrix: FloatMatrix
    #: plain statistics in their own units (``(cues, 0)`` for text)
    statistics: FloatMatrix
    #: ``(name, higher, lower)`` per statistics column
    statistic_names: tuple[tuple[str, str, str], ...]


def check_views(views: Sequence[str]) -> tuple[str, ...]:
    """``views`` in ``CLUSTER_VIEWS`` order; ``ConfigError`` for others, empty or repeated."""
    names = [v.strip() for v in views]
    if not names:
        raise ConfigError(f"no views given; choose from {'+'.join(CLUSTER_VIEWS)}")
    for name in names:
        view(name)  # unknown view names get the task views' error
        if name not in CLUSTER_VIEWS:
            raise ConfigError(
                f"view {name!r} cannot be clustered; choose from {'+'.join(CLUSTER_VIEWS)}"
            )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"view {repeated[0]!r} given twice")
    return tuple(v for v in CLUSTER_VIEWS if v in names)


def scale_block(matrix: FloatMatrix, *, standardise: bool, weight: float = 1.0) -> FloatMatrix:
    """Centre the columns (and scale each to unit variance when ``standardise``), then
    scale the block to total variance ``weight`` (constant columns become zeros)."""
    values = np.asarray(matrix, dtype=np.float64)
    centred = values - values.mean(axis=0, keepdims=True)
    if standardise:
        spread = centred.std(axis=0, keepdims=True)
        centred = np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 1e-12)
    total = float((centred**2).sum(axis=0).sum() / max(len(centred), 1))
    if total <= 1e-12:
        return np.zeros_like(centred)
    return np.asarray(centred * np.sqrt(weight / total), dtype=np.float64)


def image_statistics(path: Path) -> FloatMatrix:
    """The six ``IMAGE_STATISTICS`` of one image file."""
    try:
        with Image.open(path) as image:
            rgb_image = image.convert("RGB").resize((_STAT_SIDE, _STAT_SIDE), Image.Resampling.BOX)
            rgb = np.asarray(rgb_image, dtype=np.float64) / 255.0
            hsv = np.asarray(rgb_image.convert("HSV"), dtype=np.float64) / 255.0
    except OSError as error:
        raise CorruptMediaError(f"cannot read image: {error}", path) from None
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    gy, gx = np.gradient(grey)
    energy = gx**2 + gy**2
    lower_share = float(energy[_STAT_SIDE // 2 :].sum() / max(energy.sum(), 1e-12))
    return np.array(
        [
            grey.mean(),
            grey.std(),
            np.sqrt(energy).mean(),
            lower_share,
            (rgb[..., 0] - rgb[..., 2]).mean(),
            hsv[..., 1].mean(),
        ]
    )


def _paths(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(p) for p in (value or ())]


def _text_block(cues: CueTable, rows: int) -> FloatMatrix:
    try:
        model = load_sentence_model()
    except MissingDependencyError:
        raise MissingDependencyError(
            "the text view embeds sentences with sentence-transformers and its model; "
            f"install them with: {EMBED_INSTALL}, or choose views without text "
            "(e.g. --views audio_blur+stills)"
        ) from None
    texts = cue_texts(cues)
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float64).reshape(rows, -1)


def cue_texts(cues: CueTable) -> list[str]:
    """Per cue group its sentence followed by its sound tags (``[laughs]``)."""
    text = cues.column("text").to_pylist()
    tags = cues.column("nonverbal").to_pylist()
    return [
        cue_text({"text": t, "nonverbal": g}, ("text", "nonverbal"))
        for t, g in zip(text, tags, strict=True)
    ]


def _centred(matrix: FloatMatrix, groups: npt.NDArray[np.int64] | None) -> FloatMatrix:
    return matrix if groups is None else centre_within(matrix, groups)


def view_block(
    cues: CueTable,
    name: str,
    weight: float = 1.0,
    groups: npt.NDArray[np.int64] | None = None,
) -> ViewBlock:
    """The features of view ``name`` for every cue group of ``cues`` (features and
    statistics centred within ``groups`` first when given, see ``cue_features``: the
    statistics then say how a cluster differs from its people's usual).

    Raises ``MissingViewError`` when cue groups lack the view's files,
    ``MissingDependencyError`` (with the install command) for ``text`` without the
    ``embed`` extra, ``CorruptMediaError`` naming an unreadable file.
    """
    rows = cues.rows
    require_views(cues, [name], np.arange(rows, dtype=np.int64))
    column = view(name).column
    if name == "text":
        return ViewBlock(
            name,
            scale_block(
                _centred(_text_block(cues, rows), groups), standardise=False, weight=weight
            ),
            np.zeros((rows, 0)),
            (),
        )
    if name == "audio_blur":
        paths = cues.column(column).to_pylist()
        raw = _centred(
            np.vstack([prosody_vector(safe_join(cues.root, str(p))) for p in paths]), groups
        )
        # prosody_vector's 13 values: voiced fraction, 6 of F0, 5 of level, rate
        return ViewBlock(
            name, scale_block(raw, standardise=True, weight=weight), raw, PROSODY_STATISTICS
        )
    vectors: list[FloatMatrix] = []
    statistics: list[FloatMatrix] = []
    for value in cues.column(column).to_pylist():
        files = [safe_join(cues.root, p) for p in _paths(value)]
        vectors.append(np.mean([image_vector(f) for f in files], axis=0))
        statistics.append(np.mean([image_statistics(f) for f in files], axis=0))
    raw_images = _centred(np.vstack(vectors), groups)
    return ViewBlock(
        name,
        scale_block(raw_images, standardise=True, weight=weight),
        _centred(np.vstack(statistics), groups),
        IMAGE_STATISTICS,
    )


#: What ``centre_by`` may name: groups whose own mean is taken out of the features.
CENTRE_BY: tuple[str, ...] = ("speaker", "source")
#: Groups smaller than this are not centred (one cue group would become all zeros).
MIN_CENTRED_GROUP = 3


def centre_groups(cues: CueTable, by: str) -> npt.NDArray[np.int64]:
    """Per cue group its group for ``centre_by``: the speaker (cue groups with no
    speaker: their source) or the source."""
    if by not in CENTRE_BY:
        raise ConfigError(f"cannot centre by {by!r}; choose from {list(CENTRE_BY)}")
    source = np.asarray(cues.source_code, dtype=np.int64)
    if by == "source":
        return source
    speaker = np.asarray(cues.speaker_code, dtype=np.int64)
    offset = int(speaker.max(initial=-1)) + 1
    return np.where(speaker >= 0, speaker, offset + source)


def centre_within(matrix: FloatMatrix, groups: npt.NDArray[np.int64]) -> FloatMatrix:
    """``matrix`` with each group's mean row subtracted from its rows (groups of fewer
    than ``MIN_CENTRED_GROUP`` rows are left as they are)."""
    out = np.asarray(matrix, dtype=np.float64).copy()
    for group in np.unique(groups):
        rows = groups == group
        if rows.sum() >= MIN_CENTRED_GROUP:
            out[rows] -= out[rows].mean(axis=0, keepdims=True)
    return out


def cue_features(
    cues: CueTable,
    views: Sequence[str],
    weights: Mapping[str, float] | None = None,
    *,
    centre_by: str | None = None,
) -> tuple[FloatMatrix, tuple[ViewBlock, ...]]:
    """The clustering matrix (views side by side, each of total variance its weight,
    default 1) and the per-view blocks.

    ``centre_by`` (``"speaker"`` or ``"source"``): subtract each speaker's (source's) own
    mean from every view's features first, so clusters follow what changes within a
    person (expression, voice) rather than who it is: faces of one person otherwise
    cluster together whatever their expression.
    """
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(views))
    if unknown:
        raise ConfigError(f"weights given for views {unknown} that are not clustered")
    for name, value in weights.items():
        if not value > 0:
            raise ConfigError(f"the weight of view {name!r} must be positive, got {value}")
    groups = centre_groups(cues, centre_by) if centre_by is not None else None
    blocks = tuple(
        view_block(cues, name, weights.get(name, 1.0), groups) for name in check_views(views)
    )
    return np.hstack([b.matrix for b in blocks]), blocks
