"""Making tasks: a request -> splits -> family items -> ``tasks/<name>/`` (spec + items).

``make_task(dataset, TaskRequest(...))`` is what ``empathynet tasks make`` runs;
``make_suite(dataset, "standard")`` makes the standard suite. The same dataset content
and seed give byte-identical files; re-making an existing task with the same request
changes nothing, with another request it needs ``overwrite``.

``min_confidence`` (classification and multiple choice): only cue groups whose label's
aggregate confidence (``labels.aggregate``: majority share, or Dawid–Skene posterior)
is at least the threshold take part, as items and as distractors. Cue groups labelled
in the manifest without votes have no confidence: a threshold leaves them out too.
Splits are drawn before the threshold applies, so a cue group sits in the same split
whatever the threshold. The spec records the rule and how many labelled cue groups it
left out (``labels.min_confidence`` and ``dropped.below_min_confidence``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet import __version__
from empathynet.errors import ConfigError, DatasetError
from empathynet.store.atomic import atomic_write_bytes, atomic_write_with
from empathynet.store.hashing import file_sha256
from empathynet.store.lock import writes_dataset
from empathynet.tasks.classification import unlabelled_counts
from empathynet.tasks.cuetable import CueTable, load_cue_table
from empathynet.tasks.families import family_names, task_family
from empathynet.tasks.items import FamilyItems
from empathynet.tasks.mcq import McqRules
from empathynet.tasks.spec import (
    SPEC_FORMAT,
    SPEC_FORMAT_VERSION,
    TaskLayout,
    check_task_name,
    read_spec_values,
    spec_bytes,
)
from empathynet.tasks.splits import (
    DEFAULT_RATIOS,
    SPLITS,
    SplitAssignment,
    assign_splits,
    check_ratios,
    check_split_leakage,
)
from empathynet.tasks.suites import builtin_suites, load_suite, suite_entries
from empathynet.tasks.views import TaskInputError, parse_views, views_label

#: Items per Parquet row group (and per batch built in memory).
ITEM_BATCH = 65_536
SPLIT_METHOD = (
    "seeded greedy stratification by class over units of sources joined by shared known "
    "speakers (v1)"
)


@dataclass(frozen=True)
class TaskRequest:
    """What to make. Views are ``+``-joined names or tuples (see ``tasks.views``)."""

    family: str
    query: tuple[str, ...] | str
    answer: tuple[str, ...] | str = ()
    name: str | None = None
    seed: int = 0
    options: int = 4  #: MCQ options (answer included)
    #: MCQ: same-speaker (else same source when unknown), same-source, or any (identity
    #: then solves items: the answer is often the only option from the query's speaker)
    distractors: str = "same-speaker"
    duration_tolerance_pct: int = 25  #: MCQ distractor duration rule
    duration_tolerance_min_ms: int = 250
    split_ratios: tuple[float, float, float] = DEFAULT_RATIOS
    #: Let MCQ show views that carry the spoken words (audio_raw, video, face_video).
    allow_leaking_views: bool = False
    #: Classification / MCQ: keep only cue groups whose label confidence is >= this
    #: (0-1; None: every labelled cue group). See the module docstring.
    min_confidence: float | None = None

    def __post_init__(self) -> None:
        if self.family not in family_names():
            raise ConfigError(f"unknown family {self.family!r}; families: {list(family_names())}")
        query = parse_views(self.query)
        object.__setattr__(self, "query", query)
        answer = parse_views(self.answer) if self.answer else ()
        object.__setattr__(self, "answer", answer)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"--seed must be a non-negative integer, got {self.seed!r}")
        check_ratios(self.split_ratios)
        shared = sorted(set(query) & set(answer))
        task_family(self.family).check_request(self)
        if shared:
            raise ConfigError(f"query and answer share {shared}: the answer would be given away")
        if self.name is not None:
            check_task_name(self.name)
        if self.min_confidence is not None:
            value = self.min_confidence
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"--min-confidence must be a number, got {value!r}")
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise ConfigError(f"--min-confidence must be between 0 and 1, got {value!r}")
            object.__setattr__(self, "min_confidence", float(value))

    @property
    def query_views(self) -> tuple[str, ...]:
        return tuple(self.query)

    @property
    def answer_views(self) -> tuple[str, ...]:
        return tuple(self.answer)

    def task_name(self) -> str:
        """The given name, else one made from the family and views."""
        if self.name:
            return self.name
        answer = views_label(self.answer_views) if self.answer_views else ""
        return task_family(self.family).default_name(views_label(self.query_views), answer)

    def mcq_rules(self) -> McqRules:
        return McqRules(
            options=self.options,
            distractors=self.distractors,
            duration_tolerance_pct=self.duration_tolerance_pct,
            duration_tolerance_min_ms=self.duration_tolerance_min_ms,
        )


def dataset_name(root: Path) -> str:
    """The name in ``dataset.json`` (else the folder's name)."""
    try:
        value = json.loads((root / "dataset.json").read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError):
        value = None
    return str(value) if value else root.resolve().name


def split_cues(cues: CueTable, request: TaskRequest) -> SplitAssignment:
    """The seeded split of every cue group, checked for leakage."""
    splits = assign_splits(
        cues.source_code,
        cues.speaker_code,
        cues.class_code,
        len(cues.taxonomy.classes),
        ratios=request.split_ratios,
        seed=request.seed,
    )
    check_leakage(cues, splits.split_code, cues.root)
    return splits


def check_leakage(cues: CueTable, split_code: np.ndarray[Any, Any], where: object) -> None:
    """``SplitLeakageError`` when a source or known speaker of ``cues`` is in two splits."""

    def describe(row: int, kind: str) -> str:
        column = "source_id" if kind == "source" else "speaker"
        return repr(cues.column(column)[row].as_py())

    check_split_leakage(split_code, cues.source_code, cues.speaker_code, describe, where)


MIN_CONFIDENCE_RULE = (
    "only cue groups whose label confidence (labels/aggregate.parquet: majority share or "
    "Dawid-Skene posterior) is >= the threshold are items or distractors; labels without "
    "votes have no confidence and are left out; splits are drawn before the threshold"
)


def confident_cues(cues: CueTable, min_confidence: float | None) -> tuple[CueTable, int]:
    """``cues`` with the labels of cue groups below ``min_confidence`` taken away (their
    class and group codes set to -1, so no family uses them), and how many labelled cue
    groups that left out. ``None`` returns ``cues`` unchanged and 0."""
    if min_confidence is None:
        return cues, 0
    confidence = pc.fill_null(cues.column("confidence"), -1.0).to_numpy(zero_copy_only=False)
    low = (cues.class_code >= 0) & ~(np.asarray(confidence, dtype=np.float64) >= min_confidence)
    if not low.any():
        return cues, 0
    kept = dataclasses.replace(
        cues,
        class_code=np.where(low, -1, cues.class_code),
        group_code=np.where(low, -1, cues.group_code),
        loaded=cues.loaded,  # share the lazily read columns with the full table
    )
    return kept, int(low.sum())


def build_items(cues: CueTable, request: TaskRequest, splits: SplitAssignment) -> FamilyItems:
    """The family's items and spec entries (no I/O)."""
    family = task_family(request.family)
    if family.labelled and not (cues.class_code >= 0).any():
        raise TaskInputError(
            f"no labelled cue groups: a {request.family} task needs labels; import them "
            "with `empathynet labels import`",
            cues.root,
        )
    return family.build_items(cues, request, splits)


def build_task(
    cues: CueTable,
    request: TaskRequest,
    *,
    splits: SplitAssignment | None = None,
) -> tuple[dict[str, Any], FamilyItems]:
    """The spec (without its ``files`` entry) and the items of ``request`` (no I/O).

    ``splits``: ``split_cues(cues, request)`` when already computed.
    """
    if splits is None:
        splits = split_cues(cues, request)
    shown, left_out = confident_cues(cues, request.min_confidence)
    if left_out and not (shown.class_code >= 0).any():
        raise TaskInputError(
            f"no cue group has a label confidence >= {request.min_confidence} "
            f"({left_out} labelled cue groups below it): lower --min-confidence",
            cues.root,
        )
    family = build_items(shown, request, splits)
    if request.min_confidence is not None:
        # The family counted the cue groups it left out as unlabelled: count them apart.
        dropped = {
            **family.spec.get("dropped", {}),
            **unlabelled_counts(cues),
            "below_min_confidence": left_out,
        }
        family = dataclasses.replace(family, spec={**family.spec, "dropped": dropped})
    taxonomy = cues.taxonomy
    spec: dict[str, Any] = {
        "format": SPEC_FORMAT,
        "format_version": SPEC_FORMAT_VERSION,
        "name": request.task_name(),
        "family": request.family,
        "family_version": task_family(request.family).version,
        "empathynet_version": __version__,
        "seed": request.seed,
        "dataset": {
            "name": dataset_name(cues.root),
            "fingerprint": cues.fingerprint,
            "cue_groups": cues.rows,
        },
        "splits": {
            "method": SPLIT_METHOD,
            "ratios": dict(zip(SPLITS, request.split_ratios, strict=True)),
            "disjoint_by": ["source", "speaker"],
            "stratified_by": "class",
            "seed": request.seed,
            "units": splits.units,
            "cue_groups_per_split": splits.counts(),
        },
        **family.spec,
    }
    if request.family != "generation":
        spec["labels"] = {
            "classes": list(taxonomy.classes),
            "class_groups": {g: list(m) for g, m in taxonomy.class_groups},
            "aggregate": "majority of each annotator's latest vote (labels/aggregate.parquet), "
            "else the manifest's label",
            "tie_rule": cues.tie_rule or "none (no votes imported)",
        }
        if cues.aggregate_method not in (None, "majority"):
            spec["labels"]["aggregate"] = (
                f"{cues.aggregate_method} over each annotator's latest vote "
                "(labels/aggregate.parquet), else the manifest's label"
            )
            spec["labels"]["method"] = cues.aggregate_method
        if request.min_confidence is not None:
            spec["labels"]["min_confidence"] = {
                "threshold": request.min_confidence,
                "rule": MIN_CONFIDENCE_RULE,
                "left_out": left_out,
            }
    return spec, family


def write_items(path: Path, family: FamilyItems, split: str) -> str:
    """Write the items of ``split`` as Parquet, in row groups of ``ITEM_BATCH`` items.

    Deterministic: fixed schema and options, no timestamps. Returns the file's SHA-256.
    """
    positions = family.positions(split)
    schema = family.table(positions[:0]).schema

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(
            tmp, schema, compression="zstd", use_dictionary=True, write_statistics=True
        ) as writer:
            for start in range(0, len(positions), ITEM_BATCH):
                batch = family.table(positions[start : start + ITEM_BATCH])
                writer.write_table(batch, row_group_size=ITEM_BATCH)

    atomic_write_with(path, write)
    return file_sha256(path)


@dataclass(frozen=True)
class MadeTask:
    """What ``make_task`` wrote."""

    name: str
    folder: Path
    family: str
    items: dict[str, int]
    dropped: dict[str, int]
    unchanged: bool  #: the task existed with byte-identical files

    def line(self) -> str:
        counts = " ".join(f"{s}={n}" for s, n in self.items.items())
        dropped = ", ".join(f"{k} {v}" for k, v in self.dropped.items() if v) or "none"
        state = "unchanged" if self.unchanged else "written"
        return f"{self.name}: {self.family}, items {counts}; dropped: {dropped} ({state})"


@writes_dataset
def make_task(
    dataset: str | Path,
    request: TaskRequest,
    *,
    overwrite: bool = False,
    cues: CueTable | None = None,
    splits: SplitAssignment | None = None,
) -> MadeTask:
    """Make one task in ``dataset`` (see the module docstring). Returns what it wrote.

    Items are written to staging files next to the final ones; they replace the task's
    files (and the spec is written last) only when the task is new, differs and may be
    overwritten. ``splits`` goes to ``build_task`` (with ``cues``).
    """
    table = cues if cues is not None else load_cue_table(dataset, request_views(request))
    spec, family = build_task(table, request, splits=splits)
    layout = TaskLayout(table.root, spec["name"])
    staged = {split: layout.folder / f".{split}.parquet.staged" for split in SPLITS}
    try:
        spec["files"] = {
            split: {
                "file": layout.items(split).name,
                "items": len(family.positions(split)),
                "sha256": write_items(staged[split], family, split),
            }
            for split in SPLITS
        }
        encoded = spec_bytes(spec)
        unchanged = layout.spec.exists() and layout.spec.read_bytes() == encoded
        unchanged = unchanged and all(
            layout.items(s).exists() and file_sha256(layout.items(s)) == spec["files"][s]["sha256"]
            for s in SPLITS
        )
        if layout.spec.exists() and not unchanged and not overwrite:
            raise DatasetError(
                f"task {spec['name']!r} exists with another spec or files; use another "
                "--name, or --overwrite to replace it",
                layout.folder,
            )
        if not unchanged:
            layout.spec.unlink(missing_ok=True)  # an unfinished task has no spec
            for split in SPLITS:
                os.replace(staged[split], layout.items(split))
            atomic_write_bytes(layout.spec, encoded)
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)
    return MadeTask(
        name=spec["name"],
        folder=layout.folder,
        family=request.family,
        items={s: int(spec["files"][s]["items"]) for s in SPLITS},
        dropped={k: int(v) for k, v in spec.get("dropped", {}).items()},
        unchanged=unchanged,
    )


def request_views(request: TaskRequest) -> tuple[str, ...]:
    """Every view a request shows (to keep in memory when loading the cue table)."""
    return request.query_views + request.answer_views


def request_from_spec(spec: dict[str, Any]) -> TaskRequest:
    """The request that makes the task ``spec`` describes (leaking views allowed: the
    spec records whether they were)."""
    views = spec.get("views", {})
    constraints = spec.get("constraints", {})
    ratios = spec["splits"]["ratios"]
    duration = constraints.get("duration", {})
    threshold = spec.get("labels", {}).get("min_confidence", {}).get("threshold")
    return TaskRequest(
        family=spec["family"],
        query=tuple(views.get("query", ())),
        answer=tuple(views.get("answer", ())),
        name=spec["name"],
        seed=int(spec["seed"]),
        options=int(constraints.get("options", 4)),
        distractors=str(constraints.get("distractors", {}).get("mode", "same-speaker")),
        duration_tolerance_pct=int(duration.get("pct", 25)),
        duration_tolerance_min_ms=int(duration.get("min_ms", 250)),
        split_ratios=(float(ratios["train"]), float(ratios["validation"]), float(ratios["test"])),
        allow_leaking_views=True,  # the spec records what was allowed (tasks validate checks it)
        min_confidence=None if threshold is None else float(threshold),
    )


@writes_dataset
def remake_tasks(dataset: str | Path, names: Sequence[str] | None = None) -> list[MadeTask]:
    """Make tasks again from their own specs (same family, views, seed and rules) against
    the dataset as it is now, e.g. after ``empathynet remove``: ``names``, else every task
    whose items use a removed cue group. Returns what was written."""
    from empathynet.store.removals import stale_tasks

    root = Path(dataset)
    chosen = list(names) if names else sorted(stale_tasks(root))
    requests = [request_from_spec(read_spec_values(root, name)) for name in chosen]
    cues = load_cue_table(root, [v for r in requests for v in request_views(r)])
    return [make_task(root, r, overwrite=True, cues=cues) for r in requests]


#: The standard suite, ``(name, family, query, answer)`` per task, from
#: ``tasks/suites/standard.yaml`` (see ``tasks.suites``).
STANDARD_SUITE: tuple[tuple[str, str, str, str], ...] = tuple(suite_entries(load_suite("standard")))
#: The suites that ship with the package (``tasks make --suite NAME``; a path to a suite
#: YAML file works too).
SUITES: tuple[str, ...] = tuple(builtin_suites())


@dataclass
class SuiteResult:
    """Tasks made and tasks skipped (with the reason) by ``make_suite``."""

    made: list[MadeTask] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [task.line() for task in self.made]
        out += [f"{name}: skipped: {reason}" for name, reason in self.skipped]
        return out


def suite_requests(
    suite: str | Path, seed: int, min_confidence: float | None = None
) -> list[TaskRequest]:
    """The requests of a suite (a shipped suite's name or a suite YAML file), all with
    ``seed``; ``min_confidence`` goes to the classification and multiple-choice tasks
    (generation uses no labels)."""
    loaded = load_suite(suite)
    requests = []
    for number, entry in enumerate(loaded.tasks, start=1):
        family = str(entry["family"])
        try:
            requests.append(
                TaskRequest(
                    **entry,
                    seed=seed,
                    min_confidence=None if family == "generation" else min_confidence,
                )
            )
        except ConfigError as error:
            raise ConfigError(f"{loaded.path}: task {number}: {error.message}") from None
    return requests


@writes_dataset
def make_suite(
    dataset: str | Path,
    suite: str | Path = "standard",
    *,
    seed: int = 0,
    overwrite: bool = False,
    min_confidence: float | None = None,
) -> SuiteResult:
    """Make every task of ``suite``. A task the dataset cannot support (a missing view
    such as blurred audio, no labels) is skipped and reported with the reason; other
    errors stop the suite. ``min_confidence``: see the module docstring (labelled
    families only)."""
    requests = suite_requests(suite, seed, min_confidence)
    cues = load_cue_table(dataset, [v for r in requests for v in request_views(r)])
    # One split per (seed, ratios): the requests share the cue table.
    split_of: dict[tuple[int, tuple[float, float, float]], SplitAssignment] = {}
    result = SuiteResult()
    for request in requests:
        try:
            key = (request.seed, request.split_ratios)
            if key not in split_of:
                split_of[key] = split_cues(cues, request)
            made = make_task(
                dataset,
                request,
                overwrite=overwrite,
                cues=cues,
                splits=split_of[key],
            )
            result.made.append(made)
        except TaskInputError as error:
            result.skipped.append((request.task_name(), error.message))
    return result
