"""Generation: the likelihood of target cue A given condition cue(s) B, on fixed representations.

Scores are negative log-likelihoods of the target in a representation fixed here, so
that submissions are comparable (bits per dimension = NLL in nats / (dims * ln 2)):

===========  ==========================================================  ==================
target view  representation (``load_target``)                           dims per item
===========  ==========================================================  ==================
text         the sentence's UTF-8 bytes (values 0-255)                   its byte count
face_stills  each face crop decoded to RGB and resized to 64x64 with     crops x 64 x 64 x 3
             Pillow's BOX (area) filter; 8-bit values, (crops,64,64,3)   (5 crops: 61,440)
audio_blur   blurred audio, channels averaged, resampled to 8 kHz with   8 per ms of the
             the Kaiser-windowed sinc filter below, cut or zero-padded   cue group's
             to exactly 8 samples per ms of the cue group's duration,    duration
             8-bit mu-law (mu = 255) codes 0-255
===========  ==========================================================  ==================

The number of dimensions of every item is written in its ``target_dims`` column and
the rule in the spec. Items whose target has no dimensions (an empty sentence) are
dropped and counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image

from empathynet.errors import ConfigError, CorruptMediaError
from empathynet.media.audio import read_wav_mono
from empathynet.store.layout import safe_join
from empathynet.tasks.cuetable import CueTable
from empathynet.tasks.items import FamilyItems, Positions, order_by_split, shared_columns
from empathynet.tasks.splits import SPLITS, SplitAssignment, count_by_split
from empathynet.tasks.views import leaking, require_views, view_columns
from empathynet.timeline import ms_to_samples

FAMILY = "generation"
FAMILY_VERSION = 1

TARGET_VIEWS: tuple[str, ...] = ("text", "face_stills", "audio_blur")
IMAGE_SIDE = 64  #: pixels, both sides
IMAGE_CHANNELS = 3
AUDIO_RATE = 8_000  #: Hz
MU = 255  #: mu-law parameter (8-bit codes)
_RESAMPLE_ZEROS = 16  # sinc zero crossings kept on each side of the filter centre
_RESAMPLE_KAISER_BETA = 8.0

TARGET_RULES: dict[str, dict[str, str]] = {
    "text": {
        "representation": "UTF-8 bytes of the sentence (text view), values 0-255",
        "dims": "number of UTF-8 bytes",
        "unit": "bits per byte",
    },
    "face_stills": {
        "representation": (
            "each face crop decoded to 8-bit RGB and resized to 64x64 with Pillow's BOX "
            "filter, shape (crops, 64, 64, 3)"
        ),
        "dims": "crops * 64 * 64 * 3",
        "unit": "bits per dimension",
    },
    "audio_blur": {
        "representation": (
            "blurred audio, channels averaged, resampled to 8000 Hz (Kaiser-windowed sinc, "
            "16 zero crossings, beta 8), cut or zero-padded to 8 samples per ms of the cue "
            "group's duration, 8-bit mu-law (mu 255)"
        ),
        "dims": "8 * duration_ms",
        "unit": "bits per sample",
    },
}


def check_target(names: Sequence[str]) -> str:
    """The single target view of a generation task; ``ConfigError`` otherwise."""
    if len(names) != 1 or names[0] not in TARGET_VIEWS:
        raise ConfigError(
            f"a generation task has one target view (--answer), one of {list(TARGET_VIEWS)}; "
            f"got {'+'.join(names) or 'none'}"
        )
    return names[0]


def target_dims(view: str, cues: CueTable, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Dimensions of the target ``view`` of each of ``rows`` of a cue table."""
    indices = pa.array(rows, pa.int64())
    if view == "text":
        lengths = pc.binary_length(cues.column("text").take(indices))
        return np.asarray(pc.fill_null(lengths, 0).to_numpy(), dtype=np.int64)
    if view == "face_stills":
        crops = pc.list_value_length(cues.column("face_crop_paths").take(indices))
        counts = np.asarray(pc.fill_null(crops, 0).to_numpy(), dtype=np.int64)
        return counts * IMAGE_SIDE * IMAGE_SIDE * IMAGE_CHANNELS
    if view == "audio_blur":
        duration = cues.duration_ms[rows]
        return duration * (AUDIO_RATE // 1000)
    raise ConfigError(f"{view} is not a generation target; targets: {list(TARGET_VIEWS)}")


def text_target(text: str) -> npt.NDArray[np.uint8]:
    """The text representation: UTF-8 bytes."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def image_target(path: Path) -> npt.NDArray[np.uint8]:
    """One image as 64x64 8-bit RGB (Pillow BOX resize), shape (64, 64, 3)."""
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB").resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BOX)
            pixels: npt.NDArray[np.uint8] = np.asarray(rgb, dtype=np.uint8)
            return pixels
    except OSError as error:
        raise CorruptMediaError(f"cannot read image: {error}", path) from None


def face_stills_target(root: Path, paths: Sequence[str]) -> npt.NDArray[np.uint8]:
    """Face crops (paths relative to ``root``) as (crops, 64, 64, 3) uint8."""
    return np.stack([image_target(safe_join(root, p)) for p in paths])


def mulaw_encode(samples: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    """Float samples in [-1, 1] (clipped beyond) -> 8-bit mu-law codes 0-255."""
    x = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
    y = np.sign(x) * np.log1p(MU * np.abs(x)) / math.log1p(MU)
    codes: npt.NDArray[np.uint8] = np.floor((y + 1.0) / 2.0 * MU + 0.5).astype(np.uint8)
    return codes


def mulaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """8-bit mu-law codes -> float samples in [-1, 1]."""
    y = 2.0 * np.asarray(codes, dtype=np.float64) / MU - 1.0
    return np.asarray(np.sign(y) * np.expm1(np.abs(y) * math.log1p(MU)) / MU, dtype=np.float64)


def resample(
    samples: npt.NDArray[np.floating], rate_in: int, rate_out: int
) -> npt.NDArray[np.float64]:
    """Resample mono audio by the rational factor ``rate_out / rate_in`` (rates in Hz).

    Zero-stuffing by ``up``, a Kaiser-windowed sinc low-pass at the lower Nyquist
    frequency, then keeping every ``down``-th sample; ``ceil(n * up / down)`` samples
    out. numpy only, so the representation does not depend on another library's version.
    """
    if rate_in <= 0 or rate_out <= 0:
        raise ConfigError(f"sample rates must be positive, got {rate_in} and {rate_out}")
    x = np.asarray(samples, dtype=np.float64)
    divisor = math.gcd(rate_in, rate_out)
    up, down = rate_out // divisor, rate_in // divisor
    if up == down:
        return x.copy()
    factor = max(up, down)
    half = _RESAMPLE_ZEROS * factor
    taps = np.arange(-half, half + 1)
    kernel = np.sinc(taps / factor) * np.kaiser(2 * half + 1, _RESAMPLE_KAISER_BETA)
    kernel *= up / kernel.sum()
    stuffed = np.zeros(len(x) * up, dtype=np.float64)
    stuffed[::up] = x
    filtered = np.convolve(stuffed, kernel)[half : half + len(stuffed)]
    return np.asarray(filtered[::down], dtype=np.float64)


def audio_target(path: Path, duration_ms: int) -> npt.NDArray[np.uint8]:
    """The audio representation of a WAV file: 8 kHz mu-law, ``8 * duration_ms`` codes."""
    mono, rate = read_wav_mono(path)
    at_8k = resample(mono, rate, AUDIO_RATE)
    length = ms_to_samples(duration_ms, AUDIO_RATE)
    fitted = np.zeros(length, dtype=np.float64)
    fitted[: min(length, len(at_8k))] = at_8k[:length]
    return mulaw_encode(fitted)


def load_target(
    root: str | Path, view: str, value: str | Sequence[str], duration_ms: int
) -> npt.NDArray[np.uint8]:
    """The fixed representation of one item's target (``value`` is its item column)."""
    root = Path(root)
    if view == "text":
        return text_target(str(value))
    if view == "face_stills":
        return face_stills_target(root, [value] if isinstance(value, str) else list(value))
    if view == "audio_blur":
        return audio_target(safe_join(root, str(value)), duration_ms)
    raise ConfigError(f"{view} is not a generation target; targets: {list(TARGET_VIEWS)}")


def build_generation_items(
    cues: CueTable, splits: SplitAssignment, query: tuple[str, ...], target: str
) -> FamilyItems:
    """Generation items of every accepted cue group with a non-empty target.

    Item columns besides the shared ones: ``target_<view>`` (the target's text or
    paths) and ``target_dims`` (its number of dimensions in the fixed representation).
    Labels are not needed.
    """
    everyone = np.arange(cues.rows, dtype=np.int64)
    require_views(cues, (*query, target), everyone)
    dims = target_dims(target, cues, everyone)
    kept = everyone[dims > 0]
    rows = kept[order_by_split(splits.split_code, kept)]
    split_of_item = splits.split_code[rows].astype(np.int64)

    def build(positions: Positions) -> dict[str, pa.Array]:
        chosen = rows[positions]
        columns = shared_columns(cues, split_of_item[positions], chosen, query)
        columns.update(view_columns(cues, (target,), chosen, "target"))
        columns["target_dims"] = pa.array(dims[chosen], pa.int64())
        return columns

    totals = np.bincount(split_of_item, weights=dims[rows], minlength=len(SPLITS))
    spec = {
        "views": {"query": list(query), "answer": [target], "leaks_words": leaking(query)},
        "target": {"view": target, **TARGET_RULES[target]},
        "items_per_split": count_by_split(split_of_item),
        "target_dims_per_split": {name: int(totals[i]) for i, name in enumerate(SPLITS)},
        "dropped": {"empty_target": int((dims <= 0).sum())},
    }
    return FamilyItems(split_of_item, build, spec)
