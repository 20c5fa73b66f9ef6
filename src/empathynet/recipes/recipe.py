"""A recipe: a dataset as references plus annotations, without its media.

Films and online videos cannot be redistributed freely, so a dataset travels as a recipe
(as ImageNet travelled as annotated URLs): ``export_recipe`` writes one JSON object per
line, each with a ``kind``:

* ``recipe`` (first line): format and version, the package version, the dataset's name,
  its build options (``build_config``) and their hash;
* ``source``: each source's id, SHA-256 and size of its bytes, file name, URL, licence,
  title, attribution, year, language and speaker;
* ``cue``: each manifest row's id, source, time range, words (text, sound tags, speaker,
  subtitle events), status and reason, and its aggregated label when labelled;
* ``taxonomy``: ``labels/taxonomy.yaml`` as text; ``labels``: the aggregate's method and
  tie rule; ``vote``: every imported vote (``labels/votes.parquet``);
* ``task``: each task's request (family, views, seed, rules) and its item files' SHA-256.

No media and no local path is written. ``empathynet fetch`` downloads the sources it names
and ``build_from_recipe`` rebuilds the same cue groups, labels and task items from them.
Lines are written in a fixed order with sorted keys: the same dataset gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from empathynet import __version__
from empathynet.data.models import Utterance
from empathynet.errors import DatasetError, EmpathyNetError
from empathynet.labels.aggregate import aggregate_method, read_aggregate
from empathynet.labels.store import LabelsLayout
from empathynet.labels.votes import read_votes
from empathynet.media.probe import content_hash
from empathynet.pipeline.provenance import SourceMetadata
from empathynet.store.atomic import atomic_write_bytes
from empathynet.store.hashing import file_sha256
from empathynet.store.jsonl import JsonLineError, json_objects
from empathynet.store.layout import read_dataset_json, require_dataset
from empathynet.store.parts import manifest_tables
from empathynet.store.removals import stale_task_problem, stale_tasks
from empathynet.tasks.make import request_from_spec
from empathynet.tasks.spec import list_tasks, read_spec_values

RECIPE_FORMAT = "empathynet-recipe"
RECIPE_FORMAT_VERSION = 1
#: The manifest columns a cue line keeps (the words and the outcome, no media).
CUE_COLUMNS: tuple[str, ...] = (
    "cue_id",
    "source_id",
    "start_ms",
    "end_ms",
    "text",
    "nonverbal",
    "speaker",
    "event_ids",
    "transcript_source",
    "transcript_model",
    "transcript_confidence",
    "status",
    "reason",
)
#: What a source line keeps of a ``Source`` (beside ``file_name``).
SOURCE_FIELDS: tuple[str, ...] = (
    "source_id",
    "sha256",
    "size_bytes",
    "duration_ms",
    "url",
    "licence",
    "title",
    "attribution",
    "year",
    "language",
    "speaker",
)


class RecipeError(EmpathyNetError):
    """A recipe file has a problem; the message names the file and line."""


@dataclass(frozen=True)
class RecipeSource:
    """One source a recipe lists: the bytes it must have and what is known of it."""

    source_id: str
    sha256: str
    size_bytes: int | None
    file_name: str
    metadata: SourceMetadata
    duration_ms: int | None = None


@dataclass(frozen=True)
class RecipeCue:
    """One manifest row a recipe lists: its sentence and the outcome it had."""

    cue_id: str
    source_id: str
    utterance: Utterance
    status: str
    reason: str | None
    label: str | None


@dataclass
class Recipe:
    """A recipe read back (``read_recipe``)."""

    path: Path
    header: dict[str, Any]
    sources: dict[str, RecipeSource] = field(default_factory=dict)
    cues: list[RecipeCue] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    taxonomy: str | None = None  #: ``labels/taxonomy.yaml``'s text (None: the default)
    labels: dict[str, Any] | None = None  #: the aggregate's method and tie rule
    tasks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def build_config(self) -> dict[str, Any]:
        value = self.header.get("build_config")
        return value if isinstance(value, dict) else {}

    def cues_of(self, source_id: str) -> list[RecipeCue]:
        return [cue for cue in self.cues if cue.source_id == source_id]


@dataclass(frozen=True)
class RecipeExport:
    """What ``export_recipe`` wrote."""

    path: Path
    sources: int
    cues: int
    accepted: int
    votes: int
    tasks: int
    no_url: int  #: sources without a URL: a rebuild needs their files from elsewhere

    def lines(self) -> list[str]:
        out = [
            f"recipe {self.path}: {self.sources} sources, {self.cues} cue rows "
            f"({self.accepted} accepted), {self.votes} votes, {self.tasks} tasks; no media"
        ]
        if self.no_url:
            out.append(
                f"  {self.no_url} sources have no URL: whoever rebuilds needs their files "
                "(give URLs with build --sources FILE)"
            )
        return out


def _source_sha256(source: dict[str, Any], root: Path) -> tuple[str, int]:
    """A source's recorded SHA-256 and size, else those of its file when it is still there
    with the same content; ``DatasetError`` when neither is known."""
    if source.get("sha256"):
        return str(source["sha256"]), int(source.get("size_bytes") or 0)
    path = Path(str(source["path"]))
    if path.is_file() and content_hash(path) == source["source_id"]:
        return file_sha256(path), path.stat().st_size
    raise DatasetError(
        f"source {source['source_id']} ({path.name}) has no recorded SHA-256 and its file "
        "is gone or changed: build the dataset again with this version to record it",
        root,
    )


def _line(kind: str, values: dict[str, Any]) -> bytes:
    return (
        json.dumps({"kind": kind, **values}, sort_keys=True, ensure_ascii=False) + "\n"
    ).encode()


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return value


def _refuse_damaged(root: Path) -> Callable[[str], None]:
    def refuse(line: str) -> None:
        raise DatasetError(
            f"{line}: a recipe lists every row; run the build again to redo the part", root
        )

    return refuse


def recipe_lines(dataset: str | Path) -> Iterator[bytes]:
    """The lines of ``dataset``'s recipe (see the module docstring), as bytes."""
    layout = require_dataset(dataset)
    root = layout.root
    info = read_dataset_json(root)
    yield _line(
        "recipe",
        {
            "format": RECIPE_FORMAT,
            "format_version": RECIPE_FORMAT_VERSION,
            "empathynet_version": __version__,
            "dataset": info.get("name"),
            "config_hash": info.get("config_hash"),
            "stage_versions": info.get("stage_versions"),
            "build_config": info.get("build_config", {}),
        },
    )
    sources = pq.read_table(layout.sources_parquet).to_pylist()
    for source in sorted(sources, key=lambda s: str(s["source_id"])):
        sha256, size = _source_sha256(source, root)
        values = {name: source.get(name) for name in SOURCE_FIELDS}
        values.update(sha256=sha256, size_bytes=size, file_name=Path(str(source["path"])).name)
        yield _line("source", values)
    labels = LabelsLayout(root)
    found = read_aggregate(labels.aggregate)
    label_of: dict[str, str] = {}
    if found is not None:
        table, tie_rule = found
        label_of = dict(
            zip(table.column("cue_id").to_pylist(), table.column("label").to_pylist(), strict=True)
        )
    rows: list[dict[str, Any]] = []
    for table in manifest_tables(layout, columns=list(CUE_COLUMNS), warn=_refuse_damaged(root)):
        rows.extend(table.to_pylist())
    for row in sorted(rows, key=lambda r: str(r["cue_id"])):
        label = label_of.get(row["cue_id"])
        yield _line("cue", {**row, **({"label": label} if label else {})})
    if labels.taxonomy.is_file():
        yield _line("taxonomy", {"yaml": labels.taxonomy.read_text(encoding="utf-8")})
    if found is not None:
        yield _line("labels", {"method": aggregate_method(labels.aggregate), "tie_rule": tie_rule})
    votes = read_votes(root).to_pylist()
    for vote in sorted(votes, key=lambda v: (v["round_index"], v["line"], v["cue_id"])):
        yield _line("vote", {k: _json_value(v) for k, v in vote.items()})
    tasks = list_tasks(root)
    stale = stale_tasks(root, [task.name for task in tasks])
    if stale:  # their items name cue groups taken down: a rebuild could not match them
        raise DatasetError(stale_task_problem(stale), root)
    for task in tasks:
        spec = read_spec_values(root, task.name)
        request = request_from_spec(spec)
        yield _line(
            "task",
            {
                "name": task.name,
                "request": {
                    "family": request.family,
                    "query": list(request.query_views),
                    "answer": list(request.answer_views),
                    "name": task.name,
                    "seed": request.seed,
                    "options": request.options,
                    "distractors": request.distractors,
                    "duration_tolerance_pct": request.duration_tolerance_pct,
                    "duration_tolerance_min_ms": request.duration_tolerance_min_ms,
                    "split_ratios": list(request.split_ratios),
                    "allow_leaking_views": request.allow_leaking_views,
                    "min_confidence": request.min_confidence,
                },
                "files": {
                    split: entry.get("sha256") for split, entry in spec.get("files", {}).items()
                },
            },
        )


def export_recipe(dataset: str | Path, out: str | Path) -> RecipeExport:
    """Write ``dataset``'s recipe to ``out`` (JSON Lines, atomically; see the module
    docstring). Only reads the dataset, so it takes no lock."""
    out = Path(out)
    if out.is_dir():
        raise EmpathyNetError("is a folder: --out names the recipe file to write", out)
    lines = list(recipe_lines(dataset))
    kinds = [json.loads(line)["kind"] for line in lines]
    records = [json.loads(line) for line in lines]
    atomic_write_bytes(out, b"".join(lines))
    return RecipeExport(
        path=out,
        sources=kinds.count("source"),
        cues=kinds.count("cue"),
        accepted=sum(r["kind"] == "cue" and r["status"] == "accepted" for r in records),
        votes=kinds.count("vote"),
        tasks=kinds.count("task"),
        no_url=sum(r["kind"] == "source" and not r.get("url") for r in records),
    )


def _utterance(values: dict[str, Any]) -> Utterance:
    """The sentence a cue row was cut from. The rows do not keep the dialogue, overlap and
    low-confidence flags; a row rejected for them had them, and they decide nothing else."""
    reason = values.get("reason")
    return Utterance(
        start_ms=int(values["start_ms"]),
        end_ms=int(values["end_ms"]),
        text=str(values["text"]),
        nonverbal=tuple(values.get("nonverbal") or ()),
        speaker=values.get("speaker"),
        event_ids=tuple(int(i) for i in values.get("event_ids") or ()),
        dialogue=reason == "dialogue",
        source_id=str(values["source_id"]),
        overlap=reason == "overlap",
        transcript_source=str(values.get("transcript_source") or "subtitles"),
        transcript_model=values.get("transcript_model"),
        transcript_confidence=values.get("transcript_confidence"),
        low_confidence=reason == "low_confidence",
    )


def _source(values: dict[str, Any]) -> RecipeSource:
    metadata = SourceMetadata(
        origin="recipe",
        **{
            k: values.get(k)
            for k in ("url", "licence", "title", "speaker", "attribution", "year", "language")
        },
    )
    return RecipeSource(
        source_id=str(values["source_id"]),
        sha256=str(values["sha256"]),
        size_bytes=values.get("size_bytes"),
        file_name=str(values.get("file_name") or values["source_id"]),
        metadata=metadata,
        duration_ms=values.get("duration_ms"),
    )


def read_recipe(path: str | Path) -> Recipe:
    """Read a recipe written by ``export_recipe``. ``RecipeError`` names the file and the
    line of what is wrong (not a recipe, a newer format, bad JSON, a missing field)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise RecipeError(f"cannot read the recipe: {error.strerror}", path) from None
    except UnicodeDecodeError:
        raise RecipeError("not UTF-8 text: not a recipe", path) from None
    recipe: Recipe | None = None

    def lines() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            yield from json_objects(text)
        except JsonLineError as error:
            raise RecipeError(str(error), path) from None

    for number, values in lines():
        kind = values.pop("kind", None)
        if recipe is None:
            if kind != "recipe" or values.get("format") != RECIPE_FORMAT:
                raise RecipeError(f"line {number}: not an EmpathyNet recipe", path)
            version = values.get("format_version")
            if not isinstance(version, int) or version > RECIPE_FORMAT_VERSION:
                raise RecipeError(
                    f"recipe format version {version!r}: this EmpathyNet reads up to "
                    f"{RECIPE_FORMAT_VERSION}; upgrade it",
                    path,
                )
            recipe = Recipe(path, values)
            continue
        try:
            if kind == "source":
                source = _source(values)
                recipe.sources[source.source_id] = source
            elif kind == "cue":
                recipe.cues.append(
                    RecipeCue(
                        cue_id=str(values["cue_id"]),
                        source_id=str(values["source_id"]),
                        utterance=_utterance(values),
                        status=str(values["status"]),
                        reason=values.get("reason"),
                        label=values.get("label"),
                    )
                )
            elif kind == "vote":
                recipe.votes.append(values)
            elif kind == "taxonomy":
                recipe.taxonomy = str(values["yaml"])
            elif kind == "labels":
                recipe.labels = values
            elif kind == "task":
                recipe.tasks.append(values)
            # other kinds come from newer versions of the same format: not needed here
        except (KeyError, TypeError, ValueError) as error:
            raise RecipeError(
                f"line {number}: a {kind} line without a usable {error}", path
            ) from None
    if recipe is None:
        raise RecipeError("empty file: not a recipe", path)
    known = set(recipe.sources)
    for cue in recipe.cues:
        if cue.source_id not in known:
            raise RecipeError(f"cue {cue.cue_id} names source {cue.source_id}, not listed", path)
    return recipe


__all__ = [
    "CUE_COLUMNS",
    "RECIPE_FORMAT",
    "RECIPE_FORMAT_VERSION",
    "Recipe",
    "RecipeCue",
    "RecipeError",
    "RecipeExport",
    "RecipeSource",
    "export_recipe",
    "read_recipe",
    "recipe_lines",
]
