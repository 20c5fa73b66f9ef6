"""Static plots of a dataset for its report: ``write_plots(dataset, out_dir)`` -> SVG files.

Each plot is a small pure function from plain data (numpy arrays, dicts) to a matplotlib
``Figure`` (``durations_figure``, ``face_sizes_figure``...), so it can be tested without
a dataset; ``collect_plots`` reads the dataset with the package's own readers (manifest
columns only, so a million rows stay fast) and pairs each figure with its title and
caption; ``write_plots`` writes them as SVG next to the report and returns the ``Plot``
records the report shows.

The files need nothing at view time (no script, no network). Text stays text
(``svg.fonttype = "none"``: small files, searchable), escaped by matplotlib's SVG
writer; a ``$`` in a class or task name is escaped so it never turns into math. The
bytes are reproducible: a fixed ``svg.hashsalt`` and no date in the metadata.

matplotlib is imported inside the functions that draw, so importing this module (and
starting the command line) stays quick; only its object API is used (``Figure``,
``savefig``), never ``pyplot``, which keeps global state.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from empathynet.errors import ConfigError, DatasetError
from empathynet.store.atomic import atomic_write_bytes
from empathynet.store.layout import DatasetLayout, read_dataset_json, require_dataset
from empathynet.store.lock import writes_dataset
from empathynet.store.parts import read_manifest

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from empathynet.evaluate.leaderboard import Board, BoardRow
    from empathynet.labels.agreement import Agreement

FloatArray = npt.NDArray[np.float64]
IntMatrix = npt.NDArray[np.int64]
#: (value, low, high) of a figure with its interval; None where it has none.
Interval = tuple[float | None, float | None, float | None]

#: The plots with a fixed name, in the order the report shows them.
FIXED_PLOTS: tuple[str, ...] = (
    "durations",
    "face_sizes",
    "reasons",
    "class_balance",
    "agreement_per_class",
    "annotator_confusion",
    "blur",
    "leaderboard",
)
#: One plot per classification task on the leaderboard: ``confusion_<task>``.
CONFUSION_PREFIX = "confusion_"
PLOT_SUFFIX = ".svg"
#: Salt of the ids matplotlib's SVG writer hashes (clip paths, markers): fixed, so the
#: same data gives the same bytes.
SVG_HASH_SALT = "empathynet-plots"

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies).
STATUS_COLOURS: dict[str, str] = {
    "accepted": "#0072B2",
    "rejected": "#E69F00",
    "failed": "#D55E00",
}
SPLIT_COLOURS: dict[str, str] = {"train": "#0072B2", "validation": "#009E73", "test": "#CC79A7"}
SERIES_COLOURS: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")
OTHER_COLOUR = "#999999"
#: The groups of ``face_sizes`` (``collect_plots`` names them so).
FACE_GROUP_COLOURS: dict[str, str] = {
    "accepted": STATUS_COLOURS["accepted"],
    "rejected: face too small": STATUS_COLOURS["rejected"],
    "rejected for another reason": OTHER_COLOUR,
}
_WIDTH = 7.0  # inches: the report's column
_LABEL_CHARACTERS = 40  # longer class / task / reason names are cut with an ellipsis

#: Manifest columns the plots read (all rows, every status).
MANIFEST_COLUMNS: tuple[str, ...] = (
    "status",
    "reason",
    "start_ms",
    "end_ms",
    "face_width_fraction",
    "face_height_fraction",
    "face_area_fraction",
    "face_size_fraction",
    "blur_method",
    "wer_blur",
    "f0_correlation",
    "speaking_rate_ratio",
    "label",
)

#: How the leaderboard's headline metrics are labelled (``evaluate.leaderboard.HEADLINE``).
METRIC_LABELS: dict[str, str] = {
    "top1": "top-1 accuracy (higher is better)",
    "accuracy": "accuracy (higher is better)",
    "bits_per_dim": "bits per dimension (lower is better)",
}


@dataclass(frozen=True)
class Plot:
    """One plot file of the report."""

    name: str  #: file stem, e.g. "durations"
    title: str  #: one line, plain words
    caption: str  #: what it shows and how to read it, 1-2 sentences
    file: str  #: path relative to ``reports/``, e.g. "plots/durations.svg"


# --------------------------------------------------------------------------- drawing


def plain(text: object, limit: int = _LABEL_CHARACTERS) -> str:
    """``text`` as matplotlib should show it literally: on one line, at most ``limit``
    characters (cut with an ellipsis), each ``$`` escaped so it never starts math."""
    line = " ".join(str(text).split())
    if len(line) > limit:
        line = line[: limit - 1] + "\u2026"
    return line.replace("$", r"\$")


def _figure(height: float, width: float = _WIDTH) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def svg_bytes(figure: Figure) -> bytes:
    """``figure`` as SVG bytes: text as text, fixed hash salt, no date (reproducible)."""
    import matplotlib

    buffer = io.BytesIO()
    with (
        matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "none"}),
        warnings.catch_warnings(),
    ):
        # A class name in a script the bundled font lacks is still written as text.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _ordered_groups(groups: Mapping[str, Any], order: Sequence[str]) -> list[str]:
    known = [name for name in order if name in groups]
    return known + sorted(name for name in groups if name not in order)


def _stacked_histogram(
    ax: Axes,
    groups: Mapping[str, FloatArray],
    edges: FloatArray,
    colours: Mapping[str, str],
) -> None:
    """Stacked bars of each group's counts in ``edges`` (values beyond the last edge
    counted in the last bar, below the first in the first)."""
    bottom = np.zeros(len(edges) - 1)
    widths = np.diff(edges)
    for index, (name, values) in enumerate(groups.items()):
        clipped = np.clip(values, edges[0], edges[-1])
        counts, _ = np.histogram(clipped, bins=edges)
        colour = colours.get(name, SERIES_COLOURS[index % len(SERIES_COLOURS)])
        ax.bar(
            edges[:-1],
            counts,
            width=widths,
            bottom=bottom,
            align="edge",
            color=colour,
            linewidth=0,
            label=plain(f"{name} ({len(values):,})"),
        )
        bottom = bottom + counts


def _class_ticks(ax: Axes, x: Any, classes: Sequence[str]) -> None:
    """Class names under the bars at ``x``, slanted when they are many or long."""
    rotate = len(classes) > 6 or max((len(c) for c in classes), default=0) > 10
    ax.set_xticks(
        x,
        [plain(c, 24) for c in classes],
        fontsize=8,
        rotation=30 if rotate else 0,
        ha="right" if rotate else "center",
    )


def _heading(figure: Figure, title: str, ax: Axes | None = None, **legend: Any) -> None:
    """The figure's title, and the legend of ``ax`` (or ``legend["handles"]``) in a row
    at the bottom, outside the axes so it never hides data."""
    figure.suptitle(plain(title, 90), fontsize=11)
    handles = legend.pop("handles", None)
    if handles is None and ax is not None:
        handles, _ = ax.get_legend_handles_labels()
    if handles:
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(handles), 4),
            frameon=False,
            fontsize=8,
            **legend,
        )


def _limit_line(ax: Axes, x: float, text: str) -> None:
    ax.axvline(x, color="black", linestyle="--", linewidth=1)
    ax.annotate(
        plain(text),
        xy=(x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        va="top",
        fontsize=8,
    )


def duration_axis_end(values: FloatArray, limits: Sequence[float]) -> float:
    """Right end of the duration axis, seconds: the longest sentence, unless a few are
    far longer than the rest (then 1.5 x the 99.5th percentile); widened to show a
    select limit that lies just beyond."""
    top = float(values.max()) if len(values) else 1.0
    typical = float(np.quantile(values, 0.995)) if len(values) else 1.0
    end = top if top <= 1.5 * typical else 1.5 * typical
    for limit in limits:
        if end < limit <= 1.25 * end:
            end = limit
    return max(end * 1.02, 1e-3)


def durations_figure(
    durations_s: Mapping[str, FloatArray],
    *,
    min_s: float | None = None,
    max_s: float | None = None,
    bins: int = 60,
) -> Figure:
    """Stacked histogram of sentence durations (seconds) per status (``accepted``,
    ``rejected``, ``failed``...), with the select rule's limits as dashed lines."""
    order = _ordered_groups(durations_s, tuple(STATUS_COLOURS))
    groups = {name: np.asarray(durations_s[name], dtype=np.float64) for name in order}
    values = np.concatenate(list(groups.values())) if groups else np.zeros(0)
    limits = [x for x in (min_s, max_s) if x is not None]
    end = duration_axis_end(values, limits)
    figure = _figure(3.2)
    ax = figure.add_subplot()
    _stacked_histogram(ax, groups, np.linspace(0.0, end, bins + 1), STATUS_COLOURS)
    if min_s is not None and min_s <= end:
        _limit_line(ax, min_s, f"shortest kept {min_s:g} s")
    if max_s is not None and max_s <= end:
        _limit_line(ax, max_s, f"longest kept {max_s:g} s")
    ax.set_xlim(0.0, end)
    ax.set_xlabel("sentence duration (s)")
    ax.set_ylabel("sentences")
    _heading(figure, "Sentence durations by outcome", ax)
    return figure


def face_sizes_figure(
    sizes: Mapping[str, FloatArray],
    *,
    threshold: float | None,
    measure_label: str,
    bins: int = 50,
) -> Figure:
    """Stacked histogram of face sizes (fraction of the frame, 0..1) per group of rows
    (``FACE_GROUP_COLOURS`` names the usual ones: accepted, rejected as too small,
    rejected otherwise), with the large-face threshold as a dashed line."""
    groups = {name: np.asarray(values, dtype=np.float64) for name, values in sizes.items()}
    values = np.concatenate(list(groups.values())) if groups else np.zeros(0)
    top = float(values.max()) if len(values) else 1.0
    end = min(1.0, max(top, threshold or 0.0) * 1.05) or 1.0
    figure = _figure(3.2)
    ax = figure.add_subplot()
    _stacked_histogram(ax, groups, np.linspace(0.0, end, bins + 1), FACE_GROUP_COLOURS)
    if threshold is not None:
        _limit_line(ax, threshold, f"large face \u2265 {threshold:g}")
    ax.set_xlim(0.0, end)
    ax.set_xlabel(plain(measure_label, 90))
    ax.set_ylabel("sentences")
    _heading(figure, "Face sizes", ax)
    return figure


def reasons_figure(counts: Sequence[tuple[str, str, int]]) -> Figure:
    """Horizontal bars of rows per ``(status, reason, rows)``, most rows on top,
    coloured by status."""
    ordered = sorted(counts, key=lambda entry: (-entry[2], entry[0], entry[1]))
    figure = _figure(1.3 + 0.26 * max(len(ordered), 1))
    ax = figure.add_subplot()
    positions = np.arange(len(ordered))[::-1]
    colours = [STATUS_COLOURS.get(status, OTHER_COLOUR) for status, _, _ in ordered]
    rows = [n for _, _, n in ordered]
    ax.barh(positions, rows, color=colours, height=0.7)
    ax.set_yticks(positions, [plain(reason) for _, reason, _ in ordered], fontsize=8)
    for y, n in zip(positions, rows, strict=True):
        ax.annotate(
            f"{n:,}", xy=(n, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7
        )
    ax.set_xlim(0, max(rows, default=1) * 1.15)
    ax.set_xlabel("rows")
    from matplotlib.patches import Patch

    shown = sorted({status for status, _, _ in ordered}, key=_status_order)
    handles = [Patch(color=STATUS_COLOURS.get(s, OTHER_COLOUR), label=plain(s)) for s in shown]
    _heading(figure, "Rows per rejection and failure reason", handles=handles)
    return figure


def _status_order(status: str) -> tuple[int, str]:
    order = tuple(STATUS_COLOURS)
    return (order.index(status) if status in order else len(order), status)


def class_balance_figure(
    panels: Mapping[str, Mapping[str, Mapping[str, int]]], *, title: str = "Class balance"
) -> Figure:
    """Grouped bars per panel (a task, or the labels): ``panel -> split -> class -> count``;
    classes in the order of the first split's mapping, one bar per split (train,
    validation, test first), each split's total in the panel's title."""
    from matplotlib.patches import Patch

    figure = _figure(0.8 + 2.5 * max(len(panels), 1))
    axes = figure.subplots(max(len(panels), 1), 1, squeeze=False)[:, 0]
    every_split: list[str] = []
    for ax, (name, splits) in zip(axes, panels.items(), strict=False):
        classes: list[str] = []
        for counts in splits.values():
            classes += [c for c in counts if c not in classes]
        names = _ordered_groups(splits, tuple(SPLIT_COLOURS))
        every_split += [n for n in names if n not in every_split]
        width = 0.8 / max(len(names), 1)
        x = np.arange(len(classes))
        totals = []
        for index, split in enumerate(names):
            heights = [splits[split].get(c, 0) for c in classes]
            totals.append(f"{split} {sum(heights):,}")
            offset = (index - (len(names) - 1) / 2) * width
            ax.bar(x + offset, heights, width=width, color=_split_colour(split))
        _class_ticks(ax, x, classes)
        ax.set_ylabel("items")
        ax.set_title(plain(f"{name}: {', '.join(totals)}", 100), fontsize=9, loc="left")
    handles = [Patch(color=_split_colour(split), label=plain(split)) for split in every_split]
    _heading(figure, title, handles=handles)
    return figure


def _split_colour(split: str) -> str:
    return SPLIT_COLOURS.get(split, OTHER_COLOUR)


def agreement_figure(classes: Sequence[str], estimates: Mapping[str, Sequence[Interval]]) -> Figure:
    """Grouped bars per class, one per statistic (``name -> per class (value, low,
    high)``), with the intervals as error bars; a class without a value gets "n/a"."""
    figure = _figure(3.6)
    ax = figure.add_subplot()
    x = np.arange(len(classes))
    width = 0.8 / max(len(estimates), 1)
    lowest = 0.0
    for index, (name, values) in enumerate(estimates.items()):
        offset = (index - (len(estimates) - 1) / 2) * width
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        heights = [np.nan if v is None else v for v, _, _ in values]
        ax.bar(x + offset, heights, width=width, color=colour, label=plain(name))
        for position, (value, low, high) in zip(x + offset, values, strict=True):
            if value is None:
                ax.annotate(
                    "n/a", xy=(position, 0), ha="center", va="bottom", fontsize=7, rotation=90
                )
            elif low is not None and high is not None:
                ax.errorbar(
                    position,
                    value,
                    yerr=[[max(value - low, 0.0)], [max(high - value, 0.0)]],
                    color="black",
                    capsize=2,
                    linewidth=1,
                )
                lowest = min(lowest, low)
            else:
                lowest = min(lowest, value)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylim(min(-0.1, lowest - 0.05), 1.05)
    _class_ticks(ax, x, classes)
    ax.set_ylabel("agreement (1 perfect, 0 chance)")
    _heading(figure, "Annotator agreement per class (this class or another)", ax)
    return figure


def confusion_figure(
    panels: Mapping[str, IntMatrix],
    classes: Sequence[str],
    *,
    title: str,
    row_label: str,
    column_label: str,
) -> Figure:
    """A heat map per panel (``name -> classes x classes counts``) with the count in each
    cell; shading is each cell's share of its row."""
    count = max(len(panels), 1)
    columns = min(count, 2)
    rows = math.ceil(count / columns)
    side = 3.0 + 0.25 * len(classes)
    figure = _figure(0.5 + side * rows, min(_WIDTH * 1.4, 0.8 + side * columns))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    labels = [plain(c, 20) for c in classes]
    cell_font = 8 if len(classes) <= 8 else 6
    for ax, (name, matrix) in zip(axes, panels.items(), strict=False):
        counts = np.asarray(matrix, dtype=np.int64)
        totals = counts.sum(axis=1, keepdims=True)
        share = np.divide(
            counts, totals, out=np.zeros(counts.shape, dtype=np.float64), where=totals > 0
        )
        ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
        for (i, j), n in np.ndenumerate(counts):
            ax.text(
                j,
                i,
                f"{n:,}",
                ha="center",
                va="center",
                fontsize=cell_font,
                color="white" if share[i, j] > 0.6 else ("black" if n else OTHER_COLOUR),
            )
        ticks = np.arange(len(classes))
        ax.set_xticks(ticks, labels, fontsize=8, rotation=45, ha="right")
        ax.set_yticks(ticks, labels, fontsize=8)
        ax.set_xlabel(plain(column_label, 60))
        ax.set_ylabel(plain(row_label, 60))
        if len(panels) > 1 or name:
            ax.set_title(plain(name, 60), fontsize=10)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    _heading(figure, title)
    return figure


def _box_statistics(values: FloatArray, label: str) -> dict[str, Any]:
    q05, q25, q50, q75, q95 = np.percentile(values, [5, 25, 50, 75, 95])
    return {
        "label": label,
        "whislo": q05,
        "q1": q25,
        "med": q50,
        "q3": q75,
        "whishi": q95,
        "fliers": [],
    }


def blur_figure(
    measures: Mapping[str, Mapping[str, FloatArray]],
    references: Mapping[str, float] | None = None,
) -> Figure:
    """One small panel per measure (``measure -> blur method -> values``): a box per
    method (middle half, median, whiskers at the 5th and 95th percentiles; no outlier
    points, so a million rows stay a small file), with an optional reference line."""
    count = max(len(measures), 1)
    figure = _figure(3.0)
    axes = figure.subplots(1, count, squeeze=False)[0]
    for ax, (measure, methods) in zip(axes, measures.items(), strict=False):
        names = sorted(methods)
        stats = [
            _box_statistics(np.asarray(methods[m], dtype=np.float64), plain(m, 16)) for m in names
        ]
        ax.bxp(
            stats,
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": "#56B4E9"},
            medianprops={"color": "black"},
        )
        ax.set_xticks(
            np.arange(1, len(names) + 1),
            [f"{plain(m, 16)}\n({len(methods[m]):,})" for m in names],
            fontsize=8,
        )
        reference = (references or {}).get(measure)
        if reference is not None:
            ax.axhline(reference, color="black", linestyle="--", linewidth=1)
        ax.set_title(plain(measure, 40), fontsize=8)
    _heading(figure, "Blurred voice per blur method")
    return figure


@dataclass(frozen=True)
class ScorePanel:
    """One task's baselines for ``leaderboard_figure``: a figure and its 95 % interval
    per model (None: not run or nothing scored)."""

    task: str
    metric: str  #: axis label, e.g. "top-1 accuracy (higher is better)"
    models: tuple[str, ...]
    values: tuple[float | None, ...]
    lows: tuple[float | None, ...]
    highs: tuple[float | None, ...]
    chance: float | None = None  #: drawn as a dashed line (MCQ)
    note: str = ""  #: shown after the task's name (e.g. the audit's verdict)


def leaderboard_figure(panels: Sequence[ScorePanel]) -> Figure:
    """One panel per task: each model's figure as a dot with its interval as error bars;
    models without a figure are listed with "not scored"."""
    heights = [0.9 + 0.3 * len(panel.models) for panel in panels] or [1.0]
    figure = _figure(0.3 + sum(heights))
    axes = figure.subplots(len(heights), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, panel in zip(axes, panels, strict=False):
        y = np.arange(len(panel.models))[::-1]
        for position, value, low, high in zip(
            y, panel.values, panel.lows, panel.highs, strict=True
        ):
            if value is None or not math.isfinite(value):
                ax.annotate(
                    "not scored",
                    xy=(0.01, position),
                    xycoords=("axes fraction", "data"),
                    va="center",
                    fontsize=7,
                    color=OTHER_COLOUR,
                )
                continue
            error = None
            if low is not None and high is not None:
                error = [[max(value - low, 0.0)], [max(high - value, 0.0)]]
            ax.errorbar(
                value,
                position,
                xerr=error,
                fmt="o",
                color=SERIES_COLOURS[0],
                markersize=4,
                capsize=2,
                linewidth=1,
            )
        if panel.chance is not None:
            ax.axvline(panel.chance, color="black", linestyle="--", linewidth=1)
        ax.set_yticks(y, [plain(m, 24) for m in panel.models], fontsize=8)
        ax.set_ylim(-0.7, len(panel.models) - 0.3)
        ax.set_xlabel(plain(panel.metric, 60), fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        title = panel.task + (f" ({panel.note})" if panel.note else "")
        ax.set_title(plain(title, 90), fontsize=9, loc="left")
    _heading(figure, "Baselines per task (95 % intervals)")
    return figure


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class PlotDraft:
    """A plot before it is drawn: its name, title, caption and how to draw it."""

    name: str
    title: str
    caption: str
    draw: Callable[[], Figure]


def _floats(table: pa.Table, name: str) -> FloatArray:
    column = pc.cast(table.column(name), pa.float64())
    return np.asarray(pc.fill_null(column, math.nan).to_numpy(), dtype=np.float64)


@dataclass(frozen=True)
class Category:
    """A string column as integer codes (no Python object per row): ``codes`` index
    ``names``, -1 where the value is null."""

    codes: npt.NDArray[np.int64]
    names: tuple[str, ...]

    def mask(self, *values: str) -> npt.NDArray[np.bool_]:
        """Rows whose value is one of ``values``."""
        wanted = [index for index, name in enumerate(self.names) if name in values]
        return np.isin(self.codes, wanted)

    def present(self) -> list[str]:
        """The values that occur, in code order."""
        used = np.unique(self.codes[self.codes >= 0])
        return [self.names[i] for i in used.tolist()]


def category(table: pa.Table, name: str) -> Category:
    """Column ``name`` of ``table`` as a ``Category``."""
    encoded = pc.dictionary_encode(table.column(name).combine_chunks())
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    names = tuple(str(value) for value in encoded.dictionary.to_pylist())
    return Category(np.asarray(codes, dtype=np.int64), names)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class BuildRules:
    """The select and face rules the dataset was built with (None: not recorded)."""

    min_duration_ms: int | None = None
    max_duration_ms: int | None = None
    large_fraction: float | None = None
    size_measure: str = "dims"


def build_rules(info: Mapping[str, Any]) -> BuildRules:
    """The rules in ``dataset.json``'s ``build_config`` (values of the wrong type are
    left out, as if not recorded)."""
    config = info.get("build_config")
    config = config if isinstance(config, Mapping) else {}
    select = config.get("select")
    select = select if isinstance(select, Mapping) else {}
    faces = config.get("faces")
    faces = faces if isinstance(faces, Mapping) else {}

    def number(section: Mapping[str, Any], key: str) -> float | None:
        value = section.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value if math.isfinite(value) else None

    low, high, large = (
        number(select, "min_duration_ms"),
        number(select, "max_duration_ms"),
        number(faces, "large_fraction"),
    )
    measure = faces.get("size_measure")
    return BuildRules(
        min_duration_ms=None if low is None else int(low),
        max_duration_ms=None if high is None else int(high),
        large_fraction=None if large is None else float(large),
        size_measure=measure if measure in ("dims", "height", "area") else "dims",
    )


def face_size(width: FloatArray, height: FloatArray, area: FloatArray, measure: str) -> FloatArray:
    """Per row, the face size the large-face rule compares with ``faces.large_fraction``,
    from the track's medians the manifest keeps: ``height``: the median height fraction;
    ``area``: the median area fraction (both exactly the rule's number); ``dims``: the
    smaller of the median width and height fractions. The rule takes the median of each
    detection's smaller side: the same number when one side is the smaller on every
    detection (a near-square face in a landscape frame: its width), never less otherwise.
    NaN where the row has no face."""
    if measure == "height":
        return height
    if measure == "area":
        return area
    return np.minimum(width, height)


_MEASURE_LABELS = {
    "dims": "face size: the smaller of its width and height, fraction of the frame's",
    "height": "face size: its height, fraction of the frame's height",
    "area": "face size: its area, fraction of the frame's area",
}


def _durations_draft(table: pa.Table, status: Category, rules: BuildRules) -> PlotDraft:
    seconds = (
        np.asarray(table.column("end_ms").to_numpy(), dtype=np.int64)
        - np.asarray(table.column("start_ms").to_numpy(), dtype=np.int64)
    ) / 1000.0
    groups = {
        name: seconds[status.mask(name)] for name in sorted(status.present(), key=_status_order)
    }
    min_s = None if rules.min_duration_ms is None else rules.min_duration_ms / 1000
    max_s = None if rules.max_duration_ms is None else rules.max_duration_ms / 1000
    end = duration_axis_end(seconds, [x for x in (min_s, max_s) if x is not None])
    beyond = int((seconds > end).sum())
    if min_s is not None and max_s is not None:
        rule = (
            f"The select rule rejects sentences shorter than {min_s:g} s or longer than "
            f"{max_s:g} s (dashed lines"
            + (f"; {max_s:g} s lies beyond the axis)" if max_s > end else ")")
        )
    else:
        rule = "The build's duration limits are not recorded in dataset.json"
    if beyond:
        rule += f"; the last bar also counts the {_count(beyond, 'longer sentence')}"
    caption = (
        "How long the subtitle sentences are (end minus start, seconds), stacked by "
        f"outcome: accepted, rejected or failed. {rule}."
    )
    return PlotDraft(
        "durations",
        "Sentence durations",
        caption,
        lambda: durations_figure(groups, min_s=min_s, max_s=max_s),
    )


def _face_sizes_draft(
    table: pa.Table, status: Category, reason: Category, rules: BuildRules
) -> PlotDraft | None:
    size = face_size(
        _floats(table, "face_width_fraction"),
        _floats(table, "face_height_fraction"),
        _floats(table, "face_area_fraction"),
        rules.size_measure,
    )
    # the number the rule compared, where the build recorded it (EmpathyNet >= cues@4)
    recorded = _floats(table, "face_size_fraction")
    size = np.where(np.isfinite(recorded), recorded, size)
    measured = np.isfinite(size)
    if not measured.any():
        return None
    rejected = status.mask("rejected")
    small = rejected & reason.mask("face_too_small")
    groups = {
        "accepted": size[measured & status.mask("accepted")],
        "rejected: face too small": size[measured & small],
        "rejected for another reason": size[measured & rejected & ~small],
    }
    groups = {name: values for name, values in groups.items() if len(values)}
    if not groups:
        return None
    threshold = rules.large_fraction
    measure = {
        "dims": "the median of the smaller of its width and height, each a fraction of the frame's",
        "height": "its median height as a fraction of the frame's height",
        "area": "its median area as a fraction of the frame's area",
    }[rules.size_measure]
    line = (
        f"the dashed line is the large-face rule ({threshold:g}): a face left of it is "
        "too small, and a rejected face right of it failed another rule (several faces, a "
        "shot cut...)"
        if threshold is not None
        else "the large-face threshold is not recorded in dataset.json"
    )
    caption = (
        f"The size of each sentence's face track, measured as the large-face rule measures "
        f"it ({measure}), for accepted rows and rejected rows that have a face; {line}."
    )
    label = _MEASURE_LABELS[rules.size_measure]
    return PlotDraft(
        "face_sizes",
        "Face sizes",
        caption,
        lambda: face_sizes_figure(groups, threshold=threshold, measure_label=label),
    )


def _reasons_draft(table: pa.Table) -> PlotDraft | None:
    kept = table.select(["status", "reason"]).filter(
        pc.not_equal(table.column("status"), "accepted")
    )
    if kept.num_rows == 0:
        return None
    grouped = kept.group_by(["status", "reason"]).aggregate([("status", "count")])
    counts = [
        (str(status), str(reason) if reason is not None else "(no reason)", int(n))
        for status, reason, n in zip(
            grouped.column("status").to_pylist(),
            grouped.column("reason").to_pylist(),
            grouped.column("status_count").to_pylist(),
            strict=True,
        )
    ]
    statuses = {status for status, _, _ in counts}
    parts = []
    if "rejected" in statuses:
        parts.append("rejections (a rule of the select stage said no)")
    if "failed" in statuses:
        parts.append("failures (a media error, named by its error class)")
    caption = (
        f"How many rows each reason removed, most first, coloured by status: "
        f"{' and '.join(parts) or 'rows neither accepted, rejected nor failed'}. "
        f"{_count(kept.num_rows, 'row')} in all were not kept."
    )
    return PlotDraft(
        "reasons", "Why sentences were not kept", caption, lambda: reasons_figure(counts)
    )


def _task_class_counts(root: Path) -> dict[str, dict[str, dict[str, int]]]:
    """Classification task -> split -> class -> items (splits with items only)."""
    from empathynet.tasks.spec import list_tasks, read_items, read_spec

    out: dict[str, dict[str, dict[str, int]]] = {}
    for summary in list_tasks(root):
        if summary.family != "classification":
            continue
        spec = read_spec(root, summary.name)
        recorded = spec.section("class_counts")
        per_split: dict[str, dict[str, int]] = {}
        for split, entry in spec.files.items():
            if entry.items == 0:
                continue
            counts = recorded.get(split)
            if isinstance(counts, Mapping):
                values = {str(c): int(n) for c, n in counts.items()}
            else:  # a spec without class counts: count the items' labels
                labels = read_items(root, summary.name, split).column("label")
                found = pc.value_counts(labels).to_pylist()
                values = {str(v["values"]): int(v["counts"]) for v in found if v["values"]}
            per_split[split] = {c: values.get(c, 0) for c in spec.classes} | {
                c: n for c, n in values.items() if c not in spec.classes
            }
        if per_split:
            out[summary.name] = per_split
    return out


def _class_balance_draft(
    root: Path, status: Category, manifest_labels: pa.ChunkedArray | None
) -> PlotDraft | None:
    from empathynet.labels.aggregate import read_aggregate
    from empathynet.labels.store import LabelsLayout, dataset_taxonomy

    tasks = _task_class_counts(root)
    if tasks:
        panels = {f"task {name}": splits for name, splits in tasks.items()}
        caption = (
            "Items per class in each split of each classification task (train, validation "
            "and test side by side). A class with few test items gets a wide interval on "
            "its recall; a class missing from a split cannot be scored there."
        )
        return PlotDraft(
            "class_balance",
            "Class balance per task and split",
            caption,
            lambda: class_balance_figure(panels, title="Class balance per task and split"),
        )
    classes = dataset_taxonomy(root).classes
    found = read_aggregate(LabelsLayout(root).aggregate)
    if found is not None:
        labels = found[0].column("label")
        origin = "the aggregate of the annotators' votes"
    else:
        if manifest_labels is None:
            return None
        labels = manifest_labels.filter(pa.array(status.mask("accepted")))
        origin = "the labels in the manifest"
    counted = {
        str(v["values"]): int(v["counts"])
        for v in pc.value_counts(labels).to_pylist()
        if v["values"]
    }
    if not counted:
        return None
    counts = {c: counted.get(c, 0) for c in classes} | {
        c: n for c, n in counted.items() if c not in classes
    }
    caption = (
        f"Labelled cue groups per class, from {origin}; no classification task has been "
        "made yet. A rare class gives a task few items to learn and score it on."
    )
    return PlotDraft(
        "class_balance",
        "Class balance of the labels",
        caption,
        lambda: class_balance_figure(
            {"labelled cue groups": {"all": counts}}, title="Class balance of the labels"
        ),
    )


def _agreement_drafts(root: Path, agreement: Agreement | None) -> list[PlotDraft]:
    from empathynet.labels.agreement import annotator_agreement, landis_koch
    from empathynet.labels.votes import read_votes

    if agreement is None:
        if read_votes(root).num_rows == 0:
            return []
        try:
            agreement = annotator_agreement(root)
        except DatasetError:  # votes it cannot count (the report's section says why)
            return []
    if agreement.cue_groups == 0:
        return []
    drafts = []
    classes = list(agreement.classes)
    estimates: dict[str, list[Interval]] = {
        "Fleiss' \u03ba": [(c.kappa.value, c.kappa.low, c.kappa.high) for c in agreement.per_class],
        "Krippendorff's \u03b1": [
            (c.alpha.value, c.alpha.low, c.alpha.high) for c in agreement.per_class
        ],
    }
    if any(v is not None for values in estimates.values() for v, _, _ in values):
        level = f"{agreement.confidence_level * 100:g} %"
        caption = (
            f"For each class, how well annotators agree on 'this class or another': "
            f"Fleiss' \u03ba and Krippendorff's \u03b1 with {level} bootstrap intervals "
            f"({agreement.resamples} resamples of the {agreement.cue_groups:,} cue groups "
            "with two or more votes). 1 is perfect agreement and 0 what chance gives; "
            "\u03ba above 0.6 is substantial (Landis & Koch), \u03b1 of 0.8 or more reliable "
            f"(overall \u03ba here: {agreement.kappa.text()}, "
            f"{landis_koch(agreement.kappa.value)})."
        )
        drafts.append(
            PlotDraft(
                "agreement_per_class",
                "Annotator agreement per class",
                caption,
                lambda: agreement_figure(classes, estimates),
            )
        )
    confusion = np.asarray(agreement.confusion, dtype=np.int64)
    if confusion.size and confusion.sum() > 0:
        caption = (
            "Each cell counts pairs of votes by two different annotators on the same cue "
            "group (each annotator's latest vote): the row's class from one, the column's "
            "from the other, both orders counted, so the table is symmetric. The diagonal "
            "is agreement; shading is the cell's share of its row."
        )
        drafts.append(
            PlotDraft(
                "annotator_confusion",
                "Which classes annotators confuse",
                caption,
                lambda: confusion_figure(
                    {"": confusion},
                    classes,
                    title="Pairs of votes by two annotators on one cue group",
                    row_label="one annotator's class",
                    column_label="the other annotator's class",
                ),
            )
        )
    return drafts


_BLUR_MEASURES: tuple[tuple[str, str], ...] = (
    ("wer_blur", "word error rate, blurred"),
    ("f0_correlation", "pitch contour correlation"),
    ("speaking_rate_ratio", "speaking rate, blurred / raw"),
)


def _blur_draft(table: pa.Table, status: Category, method: Category) -> PlotDraft | None:
    accepted = status.mask("accepted") & (method.codes >= 0)
    if not accepted.any():
        return None
    methods = sorted({method.names[i] for i in np.unique(method.codes[accepted]).tolist()})
    measures: dict[str, dict[str, FloatArray]] = {}
    for column, label in _BLUR_MEASURES:
        values = _floats(table, column)
        per_method = {}
        for name in methods:
            chosen = values[accepted & method.mask(name)]
            chosen = chosen[np.isfinite(chosen)]
            if len(chosen):
                per_method[name] = chosen
        if per_method:
            measures[label] = per_method
    if not measures:
        return None
    from empathynet.blur.verify import UNINTELLIGIBLE_WER

    references = {
        "word error rate, blurred": UNINTELLIGIBLE_WER,
        "pitch contour correlation": 1.0,
        "speaking rate, blurred / raw": 1.0,
    }
    shown = [label for _, label in _BLUR_MEASURES if label in measures]
    parts = {
        "word error rate, blurred": (
            f"the word error rate of speech recognition on the blurred voice against the "
            f"subtitle (dashed: {UNINTELLIGIBLE_WER:g}; higher means fewer words recognised)"
        ),
        "pitch contour correlation": (
            "how closely the pitch contour follows the original (1: exactly)"
        ),
        "speaking rate, blurred / raw": (
            "the ratio of syllable rates after and before (1: the same rate)"
        ),
    }
    caption = (
        "For the accepted cue groups of each blur method: "
        + "; ".join(parts[label] for label in shown)
        + ". Boxes span the middle half with the median inside, whiskers the 5th to 95th "
        "percentile; the count of cue groups is under each method."
    )
    return PlotDraft(
        "blur",
        "Blurred voice checks per blur method",
        caption,
        lambda: blur_figure(measures, {k: v for k, v in references.items() if k in measures}),
    )


_FAMILY_READING: dict[str, str] = {
    "classification": "top-1 accuracy for classification",
    "mcq": "accuracy for multiple choice (dashed line: chance)",
    "generation": "bits per dimension for generation (lower is better)",
}


def _leaderboard_drafts(root: Path, board: Board) -> list[PlotDraft]:
    from empathynet.tasks.spec import check_task_name, read_spec

    panels: list[ScorePanel] = []
    tasks: dict[str, list[BoardRow]] = {}
    for row in board.rows:
        tasks.setdefault(row.task, []).append(row)
    for task, rows in tasks.items():
        metric = rows[0].metric
        chance = None
        if rows[0].family == "mcq":
            try:
                options = read_spec(root, task).options
            except (DatasetError, ConfigError):
                options = None
            chance = 1.0 / options if options else None
        audit = board.audits.get(task)
        panels.append(
            ScorePanel(
                task=task,
                metric=f"{rows[0].family}: {METRIC_LABELS.get(metric, metric)}",
                models=tuple(row.model for row in rows),
                values=tuple(row.value for row in rows),
                lows=tuple(row.low for row in rows),
                highs=tuple(row.high for row in rows),
                chance=chance,
                note="" if audit is None else f"audit {audit}",
            )
        )
    drafts = []
    if any(v is not None for panel in panels for v in panel.values):
        families = dict.fromkeys(rows[0].family for rows in tasks.values())
        reading = [_FAMILY_READING.get(f, f"the headline figure for {f}") for f in families]
        caption = (
            "Each baseline's headline figure on the scored split with its 95 % bootstrap "
            f"interval, one panel per task: {', '.join(reading)}. The panel's title says "
            "whether the task passed its shortcut audit."
        )
        drafts.append(
            PlotDraft(
                "leaderboard",
                "Baselines per task",
                caption,
                lambda: leaderboard_figure(panels),
            )
        )
    for task, models in board.confusions.items():
        try:
            check_task_name(task)
        except ConfigError:
            continue
        scored = {m: np.asarray(c.counts, dtype=np.int64) for m, c in models.items()}
        scored = {m: counts for m, counts in scored.items() if counts.size and counts.sum() > 0}
        if not scored:
            continue
        first = next(iter(models.values()))
        classes = list(first.classes)
        split = first.split
        caption = (
            f"One panel per baseline on the {split} split of task {task}: rows are the true "
            "class, columns the predicted one, cells count items. Shading is the cell's share "
            "of its row, so the diagonal's shade is the class's recall."
        )
        drafts.append(
            PlotDraft(
                f"{CONFUSION_PREFIX}{task}",
                f"Baselines' confusion on task {task}",
                caption,
                _confusion_drawer(scored, classes, task, split),
            )
        )
    return drafts


def _confusion_drawer(
    panels: Mapping[str, IntMatrix], classes: Sequence[str], task: str, split: str
) -> Callable[[], Figure]:
    def draw() -> Figure:
        return confusion_figure(
            panels,
            classes,
            title=f"Task {task}, {split} split",
            row_label="true class",
            column_label="predicted class",
        )

    return draw


def collect_plots(
    dataset: str | Path,
    *,
    leaderboard: Board | None = None,
    agreement: Agreement | None = None,
) -> list[PlotDraft]:
    """The plots ``dataset`` has data for, in report order, not yet drawn; reads only.

    ``agreement``: the votes' agreement when the caller has it already (the report's
    agreement section); else computed here when the dataset has votes.
    """
    layout = require_dataset(dataset)
    root = layout.root
    drafts: list[PlotDraft | None] = []
    if layout.cue_parts():  # a dataset whose build has not committed a chunk yet has none
        rules = build_rules(read_dataset_json(root))
        table = read_manifest(layout, list(MANIFEST_COLUMNS))
        status = category(table, "status")
        drafts += [
            _durations_draft(table, status, rules),
            _face_sizes_draft(table, status, category(table, "reason"), rules),
            _reasons_draft(table),
            _class_balance_draft(root, status, table.column("label")),
            *_agreement_drafts(root, agreement),
            _blur_draft(table, status, category(table, "blur_method")),
        ]
    if leaderboard is not None:
        drafts += _leaderboard_drafts(root, leaderboard)
    return [draft for draft in drafts if draft is not None]


def is_plot_file(name: str) -> bool:
    """Whether a file name is one ``write_plots`` writes (a fixed plot, or
    ``confusion_<task>``)."""
    from empathynet.tasks.spec import check_task_name

    if not name.endswith(PLOT_SUFFIX):
        return False
    stem = name[: -len(PLOT_SUFFIX)]
    if stem in FIXED_PLOTS:
        return True
    if not stem.startswith(CONFUSION_PREFIX):
        return False
    try:
        check_task_name(stem[len(CONFUSION_PREFIX) :])
    except ConfigError:
        return False
    return True


def remove_stale_plots(out_dir: Path, keep: set[str]) -> list[Path]:
    """Delete the plot files (``is_plot_file``) in ``out_dir`` whose stem is not in
    ``keep``; any other file is left alone. Returns the deleted paths."""
    removed = []
    if out_dir.is_dir():
        for path in sorted(out_dir.iterdir()):
            stem = path.name[: -len(PLOT_SUFFIX)]
            if is_plot_file(path.name) and stem not in keep and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _relative_to_reports(layout: DatasetLayout, path: Path) -> str:
    return Path(os.path.relpath(path.resolve(), layout.reports_dir.resolve())).as_posix()


@writes_dataset
def write_plots(
    dataset: str | Path,
    out_dir: Path,
    *,
    leaderboard: Board | None = None,
    agreement: Agreement | None = None,
) -> list[Plot]:
    """Write the dataset's plots as SVG files in ``out_dir`` (normally
    ``DATASET/reports/plots/``; made if missing) and return them in report order.

    Only plots with data are written (no labels: no label plots); each file is written
    atomically, and plot files of an earlier run that have no data now are deleted.
    ``leaderboard`` adds the baselines' plot and one confusion plot per classification
    task; ``agreement`` saves recomputing the votes' agreement (see ``collect_plots``).
    """
    layout = require_dataset(dataset)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots: list[Plot] = []
    for draft in collect_plots(layout.root, leaderboard=leaderboard, agreement=agreement):
        path = out_dir / f"{draft.name}{PLOT_SUFFIX}"
        atomic_write_bytes(path, svg_bytes(draft.draw()))
        plots.append(
            Plot(draft.name, draft.title, draft.caption, _relative_to_reports(layout, path))
        )
    remove_stale_plots(out_dir, {plot.name for plot in plots})
    return plots


__all__ = [
    "CONFUSION_PREFIX",
    "FIXED_PLOTS",
    "Plot",
    "PlotDraft",
    "ScorePanel",
    "agreement_figure",
    "blur_figure",
    "class_balance_figure",
    "collect_plots",
    "confusion_figure",
    "durations_figure",
    "face_sizes_figure",
    "is_plot_file",
    "leaderboard_figure",
    "reasons_figure",
    "remove_stale_plots",
    "svg_bytes",
    "write_plots",
]
