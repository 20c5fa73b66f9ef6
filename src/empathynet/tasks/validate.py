"""``validate_task``: re-check every constraint of a written task against its dataset.

Nothing in the item files is trusted: each check recomputes what the item should be
from the dataset (its cue table, labels and the spec's seed) and compares.

* the spec's dataset fingerprint equals the dataset's now; each item file's SHA-256
  equals the spec's; every item is in the right split file, once;
* the splits are the seeded assignment and disjoint by source and known speaker;
* the shared columns and every view column equal the dataset's values (relative
  paths that stay inside the dataset, and with ``check_media`` files that exist);
* classification: every labelled cue group is an item with its label;
* multiple choice: N options, the answer in its slot, and every distractor distinct,
  from another cue group of the same split, labelled, of another class (and class
  group), with the answer's gender and age band, in the item's duration window
  (re-drawn from the seed), of the answer's identity in same-source / same-speaker
  mode, and with other text / tags when the answer shows them; with audio / video
  views, every item's ``shown_ms`` is the length cut (3/4 of its shortest option's
  duration) and the spec states the length rule; every cue group that
  could have an item has one, every dropped one truly cannot (recounted), and the
  dropped counts and answer-position counts equal the spec's;
* generation: every cue group with a non-empty target is an item with the right
  ``target_dims``.

The first failing check raises ``TaskValidationError`` naming the check, how many items
fail it and one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.errors import DatasetError, PathEscapeError
from empathynet.store.hashing import file_sha256
from empathynet.store.layout import safe_join
from empathynet.store.removals import stale_task_problem, stale_tasks
from empathynet.tasks import generation, mcq
from empathynet.tasks.classification import class_group_names
from empathynet.tasks.cuetable import CueTable, load_cue_table
from empathynet.tasks.families import task_family
from empathynet.tasks.make import (
    TaskRequest,
    confident_cues,
    request_from_spec,
    request_views,
    split_cues,
)
from empathynet.tasks.spec import TaskLayout, read_spec
from empathynet.tasks.splits import SPLITS, SplitAssignment
from empathynet.tasks.views import FILE_KINDS, option_columns, take, view, view_columns

Codes = npt.NDArray[np.int64]


class TaskValidationError(DatasetError):
    """A written task breaks one of its constraints or no longer matches its dataset."""


@dataclass
class ValidationReport:
    """Checks passed by ``validate_task`` (it raises on the first failure)."""

    name: str
    family: str
    items: dict[str, int]
    checks: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        counts = " ".join(f"{s}={n}" for s, n in self.items.items())
        return [f"task {self.name} ({self.family}): valid, items {counts}"] + [
            f"  ok: {check}" for check in self.checks
        ]


class _Checker:
    def __init__(self, folder: Path, report: ValidationReport, item_ids: pa.Array) -> None:
        self.folder = folder
        self.report = report
        self.item_ids = item_ids

    def require(self, check: str, good: npt.NDArray[np.bool_] | bool, detail: str = "") -> None:
        """Record ``check`` as passed, or raise naming the first failing item."""
        ok = np.asarray(good, dtype=bool)
        if ok.ndim == 0:
            if not bool(ok):
                raise TaskValidationError(
                    f"{check} fails{': ' + detail if detail else ''}", self.folder
                )
        elif not ok.all():
            bad = np.flatnonzero(~ok)
            example = self.item_ids[int(bad[0])].as_py() if len(self.item_ids) else "?"
            raise TaskValidationError(
                f"{check} fails for {len(bad)} of {len(ok)} items (e.g. item {example})"
                + (f": {detail}" if detail else ""),
                self.folder,
            )
        self.report.checks.append(check + (f" ({detail})" if detail and ok.all() else ""))

    def same_column(self, items: pa.Table, column: str, expected: pa.Array) -> None:
        if column not in items.column_names:
            raise TaskValidationError(f"the items have no column {column!r}", self.folder)
        actual = items.column(column).combine_chunks()
        try:
            actual = actual.cast(expected.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise TaskValidationError(
                f"column {column!r} has type {actual.type}, expected {expected.type}", self.folder
            ) from None
        if actual.equals(expected):
            self.report.checks.append(f"{column} equals the dataset's values")
            return
        differs = np.asarray(
            pc.fill_null(pc.not_equal(actual, expected), True).to_numpy(zero_copy_only=False)
            if not pa.types.is_list(expected.type)
            else [a != b for a, b in zip(actual.to_pylist(), expected.to_pylist(), strict=True)],
            dtype=bool,
        )
        self.require(f"{column} equals the dataset's values", ~differs)


def _read_items(layout: TaskLayout, spec: dict[str, Any]) -> pa.Table:
    tables = []
    for split in SPLITS:
        entry = spec.get("files", {}).get(split)
        path = layout.items(split)
        if entry is None or not path.exists():
            raise TaskValidationError(f"the {split} items file is missing", path)
        if file_sha256(path) != entry.get("sha256"):
            raise TaskValidationError(
                "the file's SHA-256 differs from the spec's: it was changed after the task "
                "was made",
                path,
            )
        table = pq.read_table(path)
        if table.num_rows != int(entry.get("items", -1)):
            raise TaskValidationError(
                f"{table.num_rows} items, the spec says {entry.get('items')}", path
            )
        wrong = pc.sum(pc.not_equal(table.column("split"), split)).as_py() or 0
        if wrong:
            raise TaskValidationError(f"{wrong} items are not in the {split} split", path)
        ids = table.column("item_id")
        if table.num_rows > 1 and not pc.all(pc.less(ids[:-1], ids[1:])).as_py():
            raise TaskValidationError("items are not in increasing item id order", path)
        tables.append(table)
    items = pa.concat_tables(tables, promote_options="permissive")
    return items.take(pc.sort_indices(items, sort_keys=[("item_id", "ascending")]))


def _media_check(cues: CueTable, names: tuple[str, ...], rows: Codes, checker: _Checker) -> None:
    paths: set[str] = set()
    index = pa.array(np.unique(rows), pa.int64())
    for name in names:
        info = view(name)
        if info.kind not in FILE_KINDS:
            continue
        values = cues.column(info.column).take(index)
        if info.kind == "files":
            values = pc.list_flatten(values)
        paths.update(v for v in pc.unique(values).to_pylist() if v)
    missing = []
    for relative in sorted(paths):
        try:
            target = safe_join(cues.root, relative)
        except PathEscapeError:
            missing.append(relative)
            continue
        if not target.is_file():
            missing.append(relative)
    checker.require(
        "media files exist inside the dataset",
        not missing,
        f"{len(missing)} of {len(paths)} missing, e.g. {missing[0]}"
        if missing
        else f"{len(paths)} files",
    )


def validate_task(dataset: str | Path, name: str, *, check_media: bool = True) -> ValidationReport:
    """Re-check task ``name`` of ``dataset`` (see the module docstring)."""
    typed = read_spec(dataset, name)
    # Validation re-checks every rule the spec states: it reads the spec as written.
    spec: dict[str, Any] = dict(typed.values)
    cues = load_cue_table(dataset, [*typed.query_views, *typed.answer_views])
    layout = TaskLayout(cues.root, name)
    if stale := stale_tasks(cues.root, [name]):  # cue groups taken down since it was made
        raise TaskValidationError(stale_task_problem(stale), layout.spec)
    fingerprint = typed.dataset_fingerprint or ""
    if fingerprint != cues.fingerprint:
        raise TaskValidationError(
            "the dataset changed since the task was made (fingerprint "
            f"{fingerprint[:19]} != {cues.fingerprint[:19]}); remake the task",
            layout.spec,
        )
    version = task_family(typed.family).version
    if typed.family_version != version:
        raise TaskValidationError(
            f"the task was made by {typed.family} family version "
            f"{typed.family_version}, this empathynet makes version {version}: items "
            "differ between versions; remake the task",
            layout.spec,
        )
    items = _read_items(layout, spec)
    report = ValidationReport(name, typed.family, {s: typed.items(s) for s in SPLITS})
    report.checks.append("dataset fingerprint and file SHA-256 match the spec")
    item_ids = items.column("item_id").combine_chunks()
    check = _Checker(layout.folder, report, item_ids)
    check.require("item ids are unique", pc.count_distinct(item_ids).as_py() == items.num_rows)
    check.same_column(items, "cue_id", item_ids.cast(pa.string()))
    where = pc.index_in(item_ids, value_set=cues.cue_ids())
    check.require(
        "every item is an accepted cue group of the dataset",
        np.asarray(pc.is_valid(where).to_numpy(zero_copy_only=False)),
    )
    rows = np.asarray(where.to_numpy(zero_copy_only=False), dtype=np.int64)

    request = request_from_spec(spec)
    splits = split_cues(cues, request)  # raises when a source or known speaker leaks
    # As make_task: splits over every cue group, then only the confident labels count.
    cues, left_out = confident_cues(cues, request.min_confidence)
    if request.min_confidence is not None:
        stated = spec["labels"]["min_confidence"].get("left_out")
        check.require(
            "the cue groups below min_confidence are the spec's",
            stated == left_out,
            f"{left_out} now, the spec says {stated}",
        )
    item_split = np.asarray(
        pc.index_in(items.column("split"), value_set=pa.array(SPLITS)).to_numpy(
            zero_copy_only=False
        ),
        dtype=np.int64,
    )
    check.require("splits are the seeded assignment", item_split == splits.split_code[rows])
    report.checks.append("splits are disjoint by source and by known speaker")
    for column in ("source_id", "speaker"):
        check.same_column(items, column, take(cues, column, rows))
    for column, expected in view_columns(cues, request.query_views, rows, "query").items():
        check.same_column(items, column, expected)

    media_rows = task_family(request.family).check_items(
        ItemCheck(cues, spec, request, splits, items, rows, check)
    )
    if check_media:
        _media_check(cues, request_views(request), media_rows, check)
    return report


@dataclass(frozen=True)
class ItemCheck:
    """What a family re-checks of its items (``TaskFamily.check_items``): the cue table
    (confident labels only), the spec as written, the request it states, the splits, the
    items of every split, each item's row in the cue table and the checker to report to."""

    cues: CueTable
    spec: dict[str, Any]
    request: TaskRequest
    splits: SplitAssignment
    items: pa.Table
    rows: Codes
    check: _Checker


def check_classification_items(context: ItemCheck) -> Codes:
    """Classification items: every labelled cue group, its label and class group."""
    cues, items, rows, check = context.cues, context.items, context.rows, context.check
    labelled = np.flatnonzero(cues.class_code >= 0)
    check.require(
        "every labelled cue group is an item",
        len(rows) == len(labelled) and bool(np.array_equal(rows, labelled)),
        f"{len(rows)} items for {len(labelled)} labelled cue groups",
    )
    check.same_column(items, "label", take(cues, "label", rows))
    check.same_column(items, "label_index", pa.array(cues.class_code[rows], pa.int32()))
    groups = class_group_names(cues)
    check.same_column(items, "class_group", pa.array(groups[cues.class_code[rows]], pa.string()))
    check.same_column(items, "agreement", take(cues, "agreement", rows))
    return rows


def check_generation_items(context: ItemCheck) -> Codes:
    """Generation items: every cue group with a non-empty target, its dimensions."""
    cues, items, rows, check = context.cues, context.items, context.rows, context.check
    target = context.request.answer_views[0]
    everyone = np.arange(cues.rows, dtype=np.int64)
    dims = generation.target_dims(target, cues, everyone)
    expected = everyone[dims > 0]
    check.require(
        "every cue group with a non-empty target is an item",
        len(rows) == len(expected) and bool(np.array_equal(rows, expected)),
        f"{len(rows)} items for {len(expected)} cue groups",
    )
    for column, expected in view_columns(cues, (target,), rows, "target").items():
        check.same_column(items, column, expected)
    check.same_column(items, "target_dims", pa.array(dims[rows], pa.int64()))
    return rows


def check_mcq_items(context: ItemCheck) -> Codes:
    """MCQ items: options, distractor rules, length cut, answer positions; returns the
    rows of every option (their media is checked too)."""
    cues, spec, request, splits = context.cues, context.spec, context.request, context.splits
    items, rows, check = context.items, context.rows, context.check
    rules = request.mcq_rules()
    n_options = rules.options
    option_ids = items.column("option_cue_ids").combine_chunks()
    lengths = np.asarray(pc.list_value_length(option_ids).to_numpy(zero_copy_only=False))
    check.require(f"every item has {n_options} options", lengths == n_options)
    flat = pc.index_in(pc.list_flatten(option_ids), value_set=cues.cue_ids())
    check.require(
        "every option is an accepted cue group",
        bool(pc.all(pc.is_valid(flat)).as_py()) if len(flat) else True,
    )
    options = np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.int64).reshape(-1, n_options)
    answer = np.asarray(items.column("answer_index").to_numpy(), dtype=np.int64)
    check.require("answer_index is a valid slot", (answer >= 0) & (answer < n_options))
    slots = np.arange(n_options)[None, :]
    check.require(
        "the answer slot holds the query's own cue group",
        options[np.arange(len(rows)), answer] == rows,
    )
    distractors = options[slots != answer[:, None]].reshape(len(rows), n_options - 1)
    ordered = np.sort(options, axis=1)
    check.require("options are distinct cue groups", (ordered[:, 1:] != ordered[:, :-1]).all(1))
    split = splits.split_code.astype(np.int64)

    def same(codes: Codes) -> npt.NDArray[np.bool_]:
        return np.asarray((codes[distractors] == codes[rows][:, None]).all(axis=1))

    check.require("distractors are in the answer's split", same(split))
    check.require("distractors are labelled", (cues.class_code[distractors] >= 0).all(1))
    check.require(
        "distractors have another class than the answer",
        (cues.class_code[distractors] != cues.class_code[rows][:, None]).all(1),
    )
    check.require(
        "distractors have another class group than the answer",
        (cues.group_code[distractors] != cues.group_code[rows][:, None]).all(1),
    )
    check.require("distractors have the answer's gender", same(cues.gender_code))
    check.require("distractors have the answer's age band", same(cues.age_code))
    # The windows are the generator's first draw (see ``mcq``): re-derive them exactly.
    eligible = np.flatnonzero(cues.class_code >= 0).astype(np.int64)
    views = request.query_views + request.answer_views
    pool = mcq.mcq_pool(cues, splits, eligible, request.answer_views, rules.distractors, views)
    windows = mcq.draw_duration_windows(
        pool.duration_ms, rules, mcq.item_generator(int(spec["seed"]))
    )
    check.require("every item is a labelled cue group", cues.class_code[rows] >= 0)
    # eligible is sorted and holds every item row and (labelled, checked above) distractor
    slot, distractor_slot = np.searchsorted(eligible, rows), np.searchsorted(eligible, distractors)
    low, high = windows.low_ms[slot][:, None], windows.high_ms[slot][:, None]
    duration = pool.duration_ms[distractor_slot]  # the window's lengths, as the pool has them
    check.require(
        "distractors are in the item's duration window",
        ((duration >= low) & (duration <= high)).all(1),
        f"2 tolerances of max({rules.duration_tolerance_min_ms} ms, "
        f"{rules.duration_tolerance_pct} %) wide, at a seeded place",
    )
    identity = pool.identity
    check.require(
        f"distractors meet the {rules.distractors} identity rule",
        (identity[distractor_slot] == identity[slot][:, None]).all(1),
    )
    content = pool.content[slot][:, None]
    check.require(
        "distractors show other text / tags than the answer",
        ((content < 0) | (pool.content[distractor_slot] != content)).all(1),
    )
    for column, expected in option_columns(cues, request.answer_views, options, "option").items():
        check.same_column(items, column, expected)
    check.require(
        "the spec states the length rule",
        spec.get("constraints", {}).get("length") == mcq.length_rule(views),
    )
    if mcq.shows_time(views):
        shown = mcq.shown_lengths(cues.duration_ms[options])
        check.same_column(items, "shown_ms", pa.array(shown, pa.int64()))
    else:
        check.require(
            "items without audio / video views carry no shown_ms",
            "shown_ms" not in items.column_names,
        )

    # Every cue group that could have an item has one; every dropped one could not.
    in_window, in_bucket = mcq.candidate_counts(pool, windows)
    k = n_options - 1
    has_item = np.isin(eligible, rows)
    check.require(
        "no item has fewer candidates than it needs",
        bool((in_window[has_item] >= k).all()),
    )
    maybe = np.flatnonzero(~has_item & (in_window >= k))
    content_dropped = sum(
        1 for i in maybe.tolist() if len(mcq.exact_candidates(pool, windows, i)) < k
    )
    check.require(
        "every droppable cue group was dropped only when no distractors exist",
        content_dropped == len(maybe),
        f"{len(maybe) - content_dropped} cue groups dropped that could have an item",
    )
    dropped = spec.get("dropped", {})
    recount = {
        "too_few_in_bucket": int(((in_window < k) & (in_bucket < k)).sum()),
        "too_few_close_in_duration": int(((in_window < k) & (in_bucket >= k)).sum()),
        "too_few_distinct_content": content_dropped,
    }
    check.require(
        "dropped counts equal the spec's",
        all(int(dropped.get(key, -1)) == value for key, value in recount.items()),
        f"recounted {recount}",
    )
    positions = np.bincount(
        split[rows] * n_options + answer, minlength=len(SPLITS) * n_options
    ).reshape(len(SPLITS), n_options)
    stated = spec.get("answer_positions", {})
    check.require(
        "answer-position counts equal the spec's",
        all(list(stated.get(s, [])) == positions[i].tolist() for i, s in enumerate(SPLITS)),
    )
    return np.concatenate([rows, options.ravel()])
