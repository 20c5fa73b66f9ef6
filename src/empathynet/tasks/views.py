"""Cue views: which of a cue group's cues a task shows, and their item columns.

A view is one cue of a cue group; a task's query (and MCQ answer) is a mix of views
written ``stills+text``. Views and the manifest column they come from:

============  ===================  ======================================================
view          manifest column      item value
============  ===================  ======================================================
text          text                 the sentence (string)
nonverbal     nonverbal            its sound tags, e.g. ["laughs"] (list of strings)
audio_blur    audio_blur_path      blurred audio, words unintelligible (path)
audio_raw     audio_path           the raw audio: **leaks the words** (path)
stills        still_paths          5 full frames (list of paths)
face_stills   face_crop_paths      5 face crops (list of paths)
video         clip_path            full-frame clip, silent (path)
face_video    face_clip_path       face clip, silent (path)
============  ===================  ======================================================

``audio_raw`` carries the spoken words: specs flag it under ``views.leaks_words``;
multiple-choice tasks refuse it unless asked (audio there is always blurred). The clips
are silent (the build keeps the voice in its own audio files). Paths are relative to the
dataset root. A view whose files a cue group lacks is an error naming the missing
part, never a fallback to another view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from empathynet.errors import ConfigError, DatasetError

if TYPE_CHECKING:
    from empathynet.tasks.cuetable import CueTable


class TaskInputError(DatasetError):
    """The dataset lacks what a task needs (a view's files, labels)."""


class MissingViewError(TaskInputError):
    """Cue groups lack the files of a view the task shows."""


@dataclass(frozen=True)
class View:
    """One cue of a cue group as a task shows it."""

    name: str
    column: str  #: the manifest column it comes from
    kind: str  #: "text", "tags", "file" or "files"
    leaks_words: bool
    missing_hint: str  #: what to do when cue groups lack it


VIEWS: tuple[View, ...] = (
    View("text", "text", "text", False, "the manifest has no text"),
    View("nonverbal", "nonverbal", "tags", False, "the manifest has no nonverbal tags"),
    View(
        "audio_blur",
        "audio_blur_path",
        "file",
        False,
        "blurred audio is not built yet: run the blur stage on the dataset first",
    ),
    View("audio_raw", "audio_path", "file", True, "the build cut no audio"),
    View("stills", "still_paths", "files", False, "the build wrote no stills"),
    View("face_stills", "face_crop_paths", "files", False, "the build wrote no face crops"),
    View(
        "video",
        "clip_path",
        "file",
        False,
        "full-frame clips are made only by `empathynet build --full-clips`",
    ),
    View("face_video", "face_clip_path", "file", False, "the build wrote no face clips"),
)
VIEW_NAMES: tuple[str, ...] = tuple(v.name for v in VIEWS)
_BY_NAME = {v.name: v for v in VIEWS}
#: Views whose value is a file path (or a list of them): checked on disk by validate.
FILE_KINDS = ("file", "files")


def view(name: str) -> View:
    """The view called ``name``; ``ConfigError`` lists the known views."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(f"unknown view {name!r}; known: {'+'.join(VIEW_NAMES)}") from None


def parse_views(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"stills+text"`` (or a sequence of names) -> view names in canonical order.

    Canonical order is ``VIEW_NAMES``'s, so ``text+stills`` and ``stills+text`` are one
    mix. Unknown, empty or repeated views are a ``ConfigError``.
    """
    names = [part.strip() for part in (text.split("+") if isinstance(text, str) else text)]
    if not names or any(not n for n in names):
        raise ConfigError(f"empty view in {text!r}; write views like stills+text")
    for name in names:
        view(name)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"view {repeated[0]!r} given twice in {text!r}")
    return tuple(n for n in VIEW_NAMES if n in names)


def views_label(names: Iterable[str]) -> str:
    """``("stills", "text")`` -> ``"stills+text"``."""
    return "+".join(names)


def leaking(names: Iterable[str]) -> list[str]:
    """The views among ``names`` that carry the spoken words."""
    return [n for n in names if view(n).leaks_words]


def missing_mask(cues: CueTable, name: str) -> npt.NDArray[np.bool_]:
    """Cue-table rows that lack the view (null path, no files)."""
    info = view(name)
    column = cues.column(info.column)
    if info.kind == "files":
        lengths = pc.fill_null(pc.list_value_length(column), 0)
        return np.asarray(pc.equal(lengths, 0).to_numpy(zero_copy_only=False), dtype=bool)
    if info.kind == "file":
        empty = pc.or_(pc.is_null(column), pc.equal(pc.fill_null(column, ""), ""))
        return np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=bool)


def require_views(cues: CueTable, names: Iterable[str], rows: npt.NDArray[np.int64]) -> None:
    """Raise ``MissingViewError`` when any of ``rows`` lacks one of the views.

    The message names the view, its manifest column, how many cue groups lack it, one
    of them, and what to do.
    """
    for name in names:
        lacking = rows[missing_mask(cues, name)[rows]]
        if len(lacking):
            info = view(name)
            example = cues.column("cue_id")[int(lacking[0])].as_py()
            raise MissingViewError(
                f"view {name}: {len(lacking)} of {len(rows)} cue groups have no "
                f"{info.column} (e.g. {example}); {info.missing_hint}",
                str(cues.root),
            )


def take(cues: CueTable, column: str, rows: npt.NDArray[np.int64]) -> pa.Array:
    """Column values of cue-table ``rows`` as one array."""
    taken = cues.column(column).take(pa.array(rows, pa.int64()))
    return taken.combine_chunks() if isinstance(taken, pa.ChunkedArray) else taken


def view_columns(
    cues: CueTable, names: Iterable[str], rows: npt.NDArray[np.int64], prefix: str
) -> dict[str, pa.Array]:
    """Item columns ``<prefix>_<view>`` holding each row's view value."""
    return {f"{prefix}_{name}": take(cues, view(name).column, rows) for name in names}


def option_lists(cues: CueTable, column: str, options: npt.NDArray[np.int64]) -> pa.ListArray:
    """Per item the list of its options' values of ``column``.

    ``options`` is ``(items, n_options)`` cue-table rows.
    """
    items, per_item = options.shape
    offsets = pa.array(np.arange(0, items * per_item + 1, per_item, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, take(cues, column, options.ravel()))


def option_columns(
    cues: CueTable, names: Iterable[str], options: npt.NDArray[np.int64], prefix: str
) -> dict[str, pa.Array]:
    """Item columns ``<prefix>_<view>``: per item the list of its options' view values.

    ``options`` is ``(items, n_options)`` cue-table rows.
    """
    return {f"{prefix}_{name}": option_lists(cues, view(name).column, options) for name in names}


_VOWELS = re.compile(r"[aeiouyàáâãäåæèéêëìíîïòóôõöøœùúûüý]+", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def text_syllables(text: str) -> int:
    """An estimate of the syllables of ``text``: vowel groups per word, at least 1 a word."""
    return sum(max(len(_VOWELS.findall(word)), 1) for word in _WORD.findall(text))
