"""``build_from_recipe``: the same cue groups, labels and task items from fetched media.

The recipe gives the build options, every source's SHA-256 and every sentence with its
cue id, so the build cuts exactly the listed rows from the videos found in the inputs
(matched by content, whatever their names). A video whose bytes differ from the recipe's
is reported and not used. Then the votes and the taxonomy are written back, the labels
aggregated as the recipe says, the tasks made from their requests, and everything is
compared with the recipe: ``reports/recipe.json`` and the lines say what was reproduced
and what was not (a vanished source, a changed video, a row with another outcome, a task
whose items differ).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from empathynet.config import EmpathyNetConfig, from_mapping
from empathynet.errors import DatasetError
from empathynet.labels.aggregate import DEFAULT_METHOD, DEFAULT_TIE_RULE, read_aggregate
from empathynet.labels.store import LabelsLayout
from empathynet.labels.votes import VOTE_SCHEMA, reaggregate_labels
from empathynet.pipeline.build import BuildSummary, PlannedSource, build_dataset, config_hash
from empathynet.recipes.recipe import Recipe, RecipeCue, read_recipe
from empathynet.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_table
from empathynet.store.hashing import file_sha256
from empathynet.store.layout import DatasetLayout
from empathynet.store.lock import dataset_lock
from empathynet.store.parts import read_manifest
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.spec import TaskLayout
from empathynet.tasks.splits import SPLITS

#: At most this many differing cue ids are listed in the lines (all are in the JSON).
SHOWN = 10


@dataclass
class RecipeBuild:
    """What a build from a recipe reproduced (``reports/recipe.json``)."""

    dataset: Path
    build: BuildSummary
    sources: int = 0  #: sources the recipe lists
    sources_missing: list[str] = field(default_factory=list)  #: listed, not among the inputs
    cues: int = 0  #: rows the recipe lists
    cues_reproduced: int = 0  #: rows with the recipe's id and status
    cues_missing: list[str] = field(default_factory=list)  #: listed, not built
    cues_differ: list[str] = field(default_factory=list)  #: built with another outcome
    accepted: int = 0  #: accepted rows the recipe lists
    accepted_reproduced: int = 0
    labels: int = 0  #: labelled cue groups the recipe lists
    labels_reproduced: int = 0
    votes_written: int = 0
    votes_left_out: int = 0  #: votes on cue groups this build has not
    tasks_identical: list[str] = field(default_factory=list)
    tasks_differ: list[str] = field(default_factory=list)
    tasks_skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """Every listed row, label and task item file reproduced."""
        return (
            not self.sources_missing
            and self.cues_reproduced == self.cues
            and self.labels_reproduced == self.labels
            and not self.tasks_differ
            and not self.tasks_skipped
        )

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["dataset"] = str(self.dataset)
        values["build"] = self.build.to_dict()
        values["exact"] = self.exact
        return values

    def lines(self) -> list[str]:
        out = self.build.lines()
        out.append(
            "recipe: "
            + ("reproduced exactly" if self.exact else "NOT reproduced exactly (see below)")
        )
        out.append(f"  sources: {self.sources - len(self.sources_missing)} of {self.sources} found")
        out.append(
            f"  cue rows: {self.cues_reproduced} of {self.cues} with the same id and outcome"
        )
        out.append(f"  accepted cue groups: {self.accepted_reproduced} of {self.accepted}")
        out.append(f"  labels: {self.labels_reproduced} of {self.labels} the same")
        for name, ids in (("missing", self.cues_missing), ("other outcome", self.cues_differ)):
            if ids:
                shown = ", ".join(ids[:SHOWN]) + (" ..." if len(ids) > SHOWN else "")
                out.append(f"  rows {name} ({len(ids)}): {shown}")
        for source_id in self.sources_missing:
            out.append(f"  source {source_id}: not among the inputs (see empathynet fetch)")
        if self.tasks_identical:
            out.append(f"  tasks with byte-identical items: {', '.join(self.tasks_identical)}")
        if self.tasks_differ:
            out.append(f"  tasks whose items differ: {', '.join(self.tasks_differ)}")
        out.extend(f"  task {name}: skipped: {reason}" for name, reason in self.tasks_skipped)
        if self.votes_left_out:
            out.append(f"  votes left out (their cue groups were not built): {self.votes_left_out}")
        out.extend(f"  warning: {line}" for line in self.warnings)
        return out


def _order(cue: RecipeCue) -> tuple[int, int, str]:
    """Subtitle order: by start, then the ordinal of turns that start together."""
    return (cue.utterance.start_ms, len(cue.cue_id), cue.cue_id)


def planned_sources(recipe: Recipe) -> dict[str, PlannedSource]:
    """The recipe's sources with their sentences and cue ids, for ``build_dataset``."""
    by_source: dict[str, list[RecipeCue]] = {source_id: [] for source_id in recipe.sources}
    for cue in recipe.cues:
        by_source[cue.source_id].append(cue)
    planned = {}
    for source_id, source in recipe.sources.items():
        listed = sorted(by_source[source_id], key=_order)
        planned[source_id] = PlannedSource(
            sha256=source.sha256,
            cue_ids=tuple(cue.cue_id for cue in listed),
            utterances=tuple(cue.utterance for cue in listed),
            metadata=source.metadata,
            file_name=source.file_name,
        )
    return planned


def recipe_config(recipe: Recipe) -> tuple[EmpathyNetConfig, list[str]]:
    """The recipe's build options, and a warning when this version hashes them otherwise
    (an option added or renamed since: the rows may differ)."""
    config = from_mapping(EmpathyNetConfig, recipe.build_config)
    warnings = []
    expected = recipe.header.get("config_hash")
    if expected and config_hash(config) != expected:
        warnings.append(
            f"the build options hash to {config_hash(config)} here, {expected} where the "
            f"recipe was made (EmpathyNet {recipe.header.get('empathynet_version')}): "
            "rows may differ"
        )
    return config, warnings


def _vote_row(values: dict[str, Any]) -> dict[str, Any]:
    row = {name: values.get(name) for name in VOTE_SCHEMA.names}
    if isinstance(row["voted_at"], str):
        row["voted_at"] = datetime.fromisoformat(row["voted_at"])
    return row


def _write_labels(recipe: Recipe, root: Path, built: set[str], result: RecipeBuild) -> None:
    """The recipe's taxonomy and votes (on the cue groups built), then the aggregate."""
    labels = LabelsLayout(root)
    kept = [vote for vote in recipe.votes if vote.get("cue_id") in built]
    result.votes_left_out = len(recipe.votes) - len(kept)
    if not kept:
        return
    with dataset_lock(root):
        labels.folder.mkdir(exist_ok=True)
        if recipe.taxonomy is not None:
            atomic_write_bytes(labels.taxonomy, recipe.taxonomy.encode("utf-8"))
        table = pa.Table.from_pylist([_vote_row(v) for v in kept], schema=VOTE_SCHEMA)
        atomic_write_table(labels.votes, table)
    result.votes_written = len(kept)
    settings = recipe.labels or {}
    reaggregate_labels(
        root,
        tie_rule=str(settings.get("tie_rule") or DEFAULT_TIE_RULE),
        method=str(settings.get("method") or DEFAULT_METHOD),
    )


def _request(values: dict[str, Any]) -> TaskRequest:
    request = dict(values["request"])
    request["query"] = tuple(request["query"])
    request["answer"] = tuple(request.get("answer") or ())
    request["split_ratios"] = tuple(request["split_ratios"])
    return TaskRequest(**request)


def _make_tasks(recipe: Recipe, root: Path, result: RecipeBuild) -> None:
    for task in recipe.tasks:
        name = str(task["name"])
        try:
            made = make_task(root, _request(task), overwrite=True)
        except (DatasetError, KeyError, TypeError, ValueError) as error:
            result.tasks_skipped.append((name, str(error)))
            continue
        layout = TaskLayout(root, made.name)
        expected = task.get("files") or {}
        same = all(
            layout.items(split).is_file()
            and file_sha256(layout.items(split)) == expected.get(split)
            for split in SPLITS
        )
        (result.tasks_identical if same else result.tasks_differ).append(name)


def _compare(recipe: Recipe, root: Path, result: RecipeBuild) -> set[str]:
    """Count what the build reproduced; returns the ids of the rows built."""
    layout = DatasetLayout(root)
    manifest = read_manifest(layout, columns=["cue_id", "status"]) if layout.cue_parts() else None
    status_of: dict[str, str] = {}
    if manifest is not None:
        status_of = dict(
            zip(
                manifest.column("cue_id").to_pylist(),
                manifest.column("status").to_pylist(),
                strict=True,
            )
        )
    result.cues = len(recipe.cues)
    for cue in recipe.cues:
        got = status_of.get(cue.cue_id)
        if got is None:
            result.cues_missing.append(cue.cue_id)
        elif got != cue.status:
            result.cues_differ.append(cue.cue_id)
        else:
            result.cues_reproduced += 1
        if cue.status == "accepted":
            result.accepted += 1
            result.accepted_reproduced += got == "accepted"
    return set(status_of)


def _compare_labels(recipe: Recipe, root: Path, result: RecipeBuild) -> None:
    expected = {cue.cue_id: cue.label for cue in recipe.cues if cue.label}
    result.labels = len(expected)
    found = read_aggregate(LabelsLayout(root).aggregate)
    if found is None:
        return
    table = found[0]
    got = dict(
        zip(table.column("cue_id").to_pylist(), table.column("label").to_pylist(), strict=True)
    )
    result.labels_reproduced = sum(got.get(cue_id) == label for cue_id, label in expected.items())


def build_from_recipe(
    recipe: str | Path,
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    workers: int | None = 1,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    compact: bool = True,
    engine: str = "local",
    address: str | None = None,
) -> RecipeBuild:
    """Rebuild the dataset a recipe describes at ``out`` from the videos in ``inputs``
    (the folder ``empathynet fetch`` wrote, or any files and folders: sources are matched
    by their bytes). Resumable like ``build_dataset``. Returns what was reproduced, also
    written to ``reports/recipe.json``; ``RecipeError`` for a bad recipe. ``compact``,
    ``engine`` (``local`` or ``ray``) and ``address``: as for ``build_dataset``."""
    read = read_recipe(recipe)
    config, warnings = recipe_config(read)
    planned = planned_sources(read)
    summary = build_dataset(
        inputs,
        out,
        config,
        workers=workers,
        progress=progress,
        log=log,
        planned=planned,
        compact=compact,
        engine=engine,
        address=address,
    )
    root = Path(out)
    result = RecipeBuild(dataset=root, build=summary, sources=len(read.sources), warnings=warnings)
    found = set(summary.source_paths)
    result.sources_missing = sorted(set(read.sources) - found)
    built = _compare(read, root, result)
    _write_labels(read, root, built, result)
    _compare_labels(read, root, result)
    _make_tasks(read, root, result)
    atomic_write_json(DatasetLayout(root).reports_dir / "recipe.json", result.to_dict())
    return result


__all__ = ["RecipeBuild", "build_from_recipe", "planned_sources", "recipe_config"]
