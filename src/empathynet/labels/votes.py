"""Importing annotation votes: ``cue_id, annotator, label[, gender, age_band, time]`` CSV
files, and the one "add a round of votes" path that every format (CSV, Label Studio's JSON
export: ``labels.labelstudio``) goes through.

Every vote is kept in ``labels/votes.parquet`` (one row per vote, with the file and line
it came from). An imported file is one annotation **round**, identified by the SHA-256
of its bytes. The rule that makes imports idempotent:

* a vote's key is ``(cue_id, annotator, round)``; importing a file whose round is
  already in ``votes.parquet`` adds nothing (re-importing the same file never
  duplicates votes);
* a different file is a new round, even if some rows repeat: its votes are added;
* the aggregate counts one vote per annotator and cue group: the one from the round
  imported last (an annotator who relabels a cue in a later round replaces their
  earlier vote; the earlier one stays in ``votes.parquet``).

A file is checked completely before anything is written: an unknown column, an
unknown or rejected cue id, a label outside the taxonomy, an attribute value outside
the taxonomy's lists, an empty field, a bad ``time`` or the same annotator twice on one
cue gives a ``LabelFileError`` naming the file and line. Writes are atomic (votes, then
aggregate).

``time`` (optional, ISO 8601, e.g. ``2026-05-01T12:30:00Z``) is when the vote was given;
a time without a UTC offset is taken as UTC. It is kept in ``voted_at`` (UTC, ms; null
when not given). Votes files written before that column existed read with it null.

An **annotation sheet** (``export_label_sheet``) is a CSV with one row per accepted cue
group: ``cue_id, annotator, label, gender, age_band, time`` (empty, to fill) followed by
context columns (text, non-verbal tags, media paths relative to the dataset). The import
ignores the context columns and skips rows whose ``annotator`` and ``label`` are both
empty (cue groups the annotator left unlabelled), so a filled sheet imports as it is.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathynet.errors import ConfigError, DatasetError, EmpathyNetError
from empathynet.labels.aggregate import (
    DEFAULT_TIE_RULE,
    aggregate_votes,
    check_tie_rule,
    read_aggregate,
    write_aggregate,
)
from empathynet.labels.store import (
    LabelsLayout,
    cue_statuses,
    dataset_taxonomy,
    read_manifest_columns,
)
from empathynet.labels.taxonomy import Taxonomy, load_taxonomy, write_taxonomy
from empathynet.store.atomic import atomic_write_bytes, atomic_write_table
from empathynet.store.hashing import file_sha256
from empathynet.store.layout import require_dataset, safe_join
from empathynet.store.lock import writes_dataset
from empathynet.store.outputs import check_new_file

REQUIRED_COLUMNS: tuple[str, ...] = ("cue_id", "annotator", "label")
OPTIONAL_COLUMNS: tuple[str, ...] = ("gender", "age_band", "time")
#: Context columns of an annotation sheet (``export_label_sheet``), ignored on import.
SHEET_CONTEXT_COLUMNS: tuple[str, ...] = (
    "text",
    "nonverbal",
    "speaker",
    "start_ms",
    "end_ms",
    "still_paths",
    "face_clip_path",
    "audio_blur_path",
    "audio_path",
)

VOTE_SCHEMA = pa.schema(
    [
        ("cue_id", pa.string(), False),
        ("annotator", pa.string(), False),
        ("label", pa.string(), False),
        ("gender", pa.string()),
        ("age_band", pa.string()),
        ("round", pa.string(), False),  #: SHA-256 (hex) of the imported file's bytes
        ("round_index", pa.int32(), False),  #: 1 for the first round imported, then 2, ...
        ("file", pa.string(), False),  #: the imported file's name
        ("line", pa.int32(), False),  #: CSV: the vote's line; Label Studio: the task's position
        ("voted_at", pa.timestamp("ms", tz="UTC")),  #: when the vote was given (null: unknown)
    ]
)


class LabelFileError(EmpathyNetError):
    """A labels file (CSV or Label Studio export) has a problem; the message names the file
    and the line or task."""


@dataclass(frozen=True)
class Vote:
    """One annotator's vote on one cue group, as read from a CSV line or a Label Studio
    annotation (``line``: the task's 1-based position in the export)."""

    cue_id: str
    annotator: str
    label: str
    gender: str | None
    age_band: str | None
    line: int
    voted_at: datetime | None = None  #: timezone-aware (UTC) when known


@dataclass(frozen=True)
class ImportResult:
    """What one import (``import_labels``, ``import_label_studio``, ``import_votes``) did."""

    file: str
    round: str  #: SHA-256 of the file
    votes_read: int
    votes_added: int  #: 0 when the file had been imported before
    already_imported: bool
    votes_total: int
    cues_labelled: int  #: cue groups with a majority label after the import
    cues_tied: int  #: cue groups whose votes tie (no label under the "unlabelled" rule)
    mean_agreement: float | None  #: mean share of votes for the majority label
    tie_rule: str

    def lines(self) -> list[str]:
        """A human-readable summary."""
        added = (
            "already imported: nothing added"
            if self.already_imported
            else f"{self.votes_added} votes added"
        )
        agreement = "-" if self.mean_agreement is None else f"{self.mean_agreement:.3f}"
        return [
            f"{self.file}: {self.votes_read} votes read, {added} (round {self.round[:12]})",
            f"  votes in the dataset: {self.votes_total}",
            f"  cue groups labelled: {self.cues_labelled}, tied: {self.cues_tied} "
            f"(tie rule: {self.tie_rule})",
            f"  mean agreement (share of votes for the majority): {agreement}",
        ]


def _clean(value: str | None) -> str:
    return (value or "").strip()


def parse_vote_time(value: str) -> datetime:
    """An ISO 8601 time -> an aware UTC datetime truncated to ms (no offset: taken as UTC).

    Raises ``ValueError`` when ``value`` is not ISO 8601.
    """
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def read_label_csv(path: str | Path, taxonomy: Taxonomy, statuses: dict[str, str]) -> list[Vote]:
    """Read and check a labels CSV against the taxonomy and the manifest's cue statuses.

    Raises ``LabelFileError`` (file, line) for the first problem, saying how many more
    lines have problems.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise LabelFileError(f"cannot read: {error.strerror or error}", path) from None
    except UnicodeDecodeError:
        raise LabelFileError("not UTF-8 text; save the CSV as UTF-8", path) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [_clean(name) for name in (reader.fieldnames or [])]
    if not header:
        raise LabelFileError("empty file: expected a header cue_id,annotator,label", path, "line 1")
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise LabelFileError(
            f"missing columns {missing}; the header must have cue_id, annotator, label "
            "and may have gender, age_band",
            path,
            "line 1",
        )
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + SHEET_CONTEXT_COLUMNS
    unknown = [c for c in header if c not in known]
    if unknown:
        raise LabelFileError(
            f"unknown columns {unknown}; known: {list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)} "
            f"(and the annotation sheet's {list(SHEET_CONTEXT_COLUMNS)})",
            path,
            "line 1",
        )
    votes: list[Vote] = []
    problems: list[tuple[int, str]] = []
    first_line: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append((line, "more fields than the header has"))
            continue
        if all(not _clean(v) for v in row.values()):
            continue  # blank line
        if not _clean(row.get("annotator")) and not _clean(row.get("label")):
            continue  # a sheet row left unlabelled
        problem = _check_row(row, taxonomy, statuses)
        if isinstance(problem, str):
            problems.append((line, problem))
            continue
        key = (problem.cue_id, problem.annotator)
        if key in first_line:
            problems.append(
                (
                    line,
                    f"annotator {problem.annotator!r} votes twice on cue {problem.cue_id!r} "
                    f"(first on line {first_line[key]})",
                )
            )
            continue
        first_line[key] = line
        votes.append(dataclasses.replace(problem, line=line))
    if problems:
        line, message = problems[0]
        more = f" (and {len(problems) - 1} more lines with problems)" if len(problems) > 1 else ""
        raise LabelFileError(message + more, path, f"line {line}")
    if not votes:
        raise LabelFileError("no votes: the file has a header but no rows", path)
    return votes


def _check_row(row: dict[str, str], taxonomy: Taxonomy, statuses: dict[str, str]) -> Vote | str:
    cue_id = _clean(row.get("cue_id"))
    annotator = _clean(row.get("annotator"))
    raw_label = _clean(row.get("label"))
    for name, value in (("cue_id", cue_id), ("annotator", annotator), ("label", raw_label)):
        if not value:
            return f"empty {name}"
    status = statuses.get(cue_id)
    if status is None:
        return f"unknown cue id {cue_id!r}: no such row in the dataset's manifest"
    if status != "accepted":
        return f"cue id {cue_id!r} is a {status} row, not a cue group: it cannot be labelled"
    label = taxonomy.canonical_label(raw_label)
    if label is None:
        return f"label {raw_label!r} is not in the taxonomy {list(taxonomy.classes)}"
    attributes: dict[str, str | None] = {}
    for column, allowed in (("gender", taxonomy.genders), ("age_band", taxonomy.age_bands)):
        value = _clean(row.get(column)).lower()
        if value and value not in allowed:
            return f"{column} {value!r} is not one of {list(allowed)} (leave it empty if unknown)"
        attributes[column] = value or None
    voted_at: datetime | None = None
    if _clean(row.get("time")):
        try:
            voted_at = parse_vote_time(_clean(row.get("time")))
        except ValueError:
            return f"time {_clean(row.get('time'))!r} is not ISO 8601 (e.g. 2026-05-01T12:30:00Z)"
    return Vote(cue_id, annotator, label, attributes["gender"], attributes["age_band"], 0, voted_at)


def read_votes(root: str | Path) -> pa.Table:
    """Every vote imported into the dataset (an empty table when there are none)."""
    path = LabelsLayout(Path(root)).votes
    if not path.exists():
        return VOTE_SCHEMA.empty_table()
    try:
        return pq.read_table(path, schema=VOTE_SCHEMA)
    except (OSError, pa.ArrowInvalid) as error:
        raise DatasetError(f"cannot read the votes: {error}", path) from None


def _settle_taxonomy(
    labels: LabelsLayout, taxonomy_path: str | Path | None, have_votes: bool
) -> tuple[Taxonomy, bool]:
    """The taxonomy the votes are checked against, and whether ``labels/taxonomy.yaml``
    must be written (by the caller, once the file has been read without problems)."""
    current = dataset_taxonomy(labels.root)
    if taxonomy_path is None:
        return current, not labels.taxonomy.exists()  # record the default the labels use
    wanted = load_taxonomy(taxonomy_path)
    if wanted == current and labels.taxonomy.exists():
        return current, False
    if have_votes:
        raise ConfigError(
            "the dataset already has votes against another taxonomy "
            f"({labels.taxonomy}); a taxonomy cannot change under existing votes",
            taxonomy_path,
        )
    return wanted, True


def _votes_table(
    votes: Sequence[Vote], round_id: str, round_index: int, file_name: str
) -> pa.Table:
    return pa.Table.from_pydict(
        {
            "cue_id": [v.cue_id for v in votes],
            "annotator": [v.annotator for v in votes],
            "label": [v.label for v in votes],
            "gender": [v.gender for v in votes],
            "age_band": [v.age_band for v in votes],
            "round": [round_id] * len(votes),
            "round_index": [round_index] * len(votes),
            "file": [file_name] * len(votes),
            "line": [v.line for v in votes],
            "voted_at": [v.voted_at for v in votes],
        },
        schema=VOTE_SCHEMA,
    )


def add_vote_round(
    root: Path,
    path: Path,
    read: Callable[[Taxonomy, dict[str, str]], list[Vote]],
    *,
    taxonomy_path: str | Path | None = None,
    tie_rule: str = DEFAULT_TIE_RULE,
) -> ImportResult:
    """Add the votes of one labels file as a round and recompute the aggregate.

    The one path every import format takes; the caller holds the dataset's lock.
    ``read(taxonomy, cue statuses)`` reads and checks the whole file (raising
    ``LabelFileError`` before anything is written). The round is the SHA-256 of
    ``path``'s bytes: a round already in ``votes.parquet`` adds nothing.
    """
    check_tie_rule(tie_rule)
    labels = LabelsLayout(root)
    existing = read_votes(root)
    taxonomy, record = _settle_taxonomy(labels, taxonomy_path, existing.num_rows > 0)
    votes = read(taxonomy, cue_statuses(root))
    if record:
        write_taxonomy(labels.taxonomy, taxonomy)
    round_id = file_sha256(path)
    rounds = existing.column("round")
    already = existing.num_rows > 0 and bool(pc.any(pc.equal(rounds, round_id)).as_py())
    added = 0
    table = existing
    if not already:
        round_index = int(pc.max(existing.column("round_index")).as_py() or 0) + 1
        new = _votes_table(votes, round_id, round_index, path.name)
        table = pa.concat_tables([existing, new]) if existing.num_rows else new
        atomic_write_table(labels.votes, table)
        added = len(votes)
    # Always recomputed, so an import interrupted between the two writes heals on re-run.
    aggregate = aggregate_votes(table, taxonomy, tie_rule)
    write_aggregate(labels.aggregate, aggregate, tie_rule)
    summary = _summary(table, aggregate, tie_rule, taxonomy)
    return ImportResult(
        file=str(path),
        round=round_id,
        votes_read=len(votes),
        votes_added=added,
        already_imported=already,
        votes_total=table.num_rows,
        cues_labelled=summary.cues_labelled,
        cues_tied=summary.cues_tied,
        mean_agreement=summary.mean_agreement,
        tie_rule=tie_rule,
    )


@writes_dataset
def import_labels(
    dataset: str | Path,
    csv_path: str | Path,
    *,
    taxonomy_path: str | Path | None = None,
    tie_rule: str = DEFAULT_TIE_RULE,
) -> ImportResult:
    """Import one labels CSV into ``dataset`` and recompute the aggregate.

    ``taxonomy_path``: a taxonomy YAML to adopt (only while the dataset has no votes,
    or when it equals the current one). ``tie_rule``: see ``labels.aggregate``.
    Idempotent: re-importing the same file adds no votes (see the module docstring).
    """
    check_tie_rule(tie_rule)
    layout = require_dataset(dataset)
    csv_path = Path(csv_path)
    return add_vote_round(
        layout.root,
        csv_path,
        lambda taxonomy, statuses: read_label_csv(csv_path, taxonomy, statuses),
        taxonomy_path=taxonomy_path,
        tie_rule=tie_rule,
    )


def import_votes(
    dataset: str | Path,
    path: str | Path,
    *,
    taxonomy_path: str | Path | None = None,
    tie_rule: str = DEFAULT_TIE_RULE,
) -> ImportResult:
    """Import a labels file of either format: a Label Studio JSON export or a CSV.

    The format is told by the content: a file whose first non-blank character is ``[``
    or ``{`` is JSON (Label Studio, ``labels.labelstudio.import_label_studio``), any
    other a CSV (``import_labels``); a ``.json`` file is always read as JSON, so a
    damaged export gives a JSON error rather than a CSV one.
    """
    path = Path(path)
    if _looks_like_json(path):
        from empathynet.labels.labelstudio import import_label_studio  # it imports this module

        return import_label_studio(dataset, path, taxonomy_path=taxonomy_path, tie_rule=tie_rule)
    return import_labels(dataset, path, taxonomy_path=taxonomy_path, tie_rule=tie_rule)


def _looks_like_json(path: Path) -> bool:
    if path.suffix.lower() == ".json":
        return True
    try:
        with path.open("rb") as stream:
            head = stream.read(4096)
    except OSError:
        return False  # the CSV reader reports the unreadable file
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped[:1] in (b"[", b"{")


@dataclass(frozen=True)
class ExportResult:
    """What one labels export (annotation sheet or Label Studio files) wrote."""

    format: str  #: "csv" or "label-studio"
    out: str  #: the CSV file, or the folder of the Label Studio files
    files: tuple[str, ...]  #: every file written
    tasks: int  #: cue groups exported (one task / sheet row each)
    predictions: int  #: machine pre-labels attached (Label Studio only)
    raw_audio: bool
    url_prefix: str | None  #: Label Studio only

    def lines(self) -> list[str]:
        """A human-readable summary."""
        out = [f"{self.tasks} cue groups exported ({self.format}) to {self.out}"]
        out += [f"  {name}" for name in self.files]
        if self.format == "label-studio":
            out.append(f"  media URLs: {self.url_prefix}<path in the dataset>")
            out.append(f"  machine pre-labels (predictions): {self.predictions}")
        if self.raw_audio:
            out.append("  raw (unblurred) audio included, as asked")
        return out


#: Manifest columns an export reads.
EXPORT_COLUMNS: tuple[str, ...] = (
    "cue_id",
    "status",
    "source_id",
    "start_ms",
    "end_ms",
    "speaker",
    "text",
    "nonverbal",
    "still_paths",
    "face_clip_path",
    "audio_blur_path",
    "audio_path",
)


def accepted_cue_rows(root: Path) -> list[dict[str, Any]]:
    """The accepted cue groups' export columns, sorted by cue id, every media path checked
    to stay inside the dataset (``PathEscapeError`` otherwise)."""
    table = read_manifest_columns(root, EXPORT_COLUMNS)
    table = table.filter(pc.equal(table.column("status"), "accepted"))
    table = table.take(pc.sort_indices(table, sort_keys=[("cue_id", "ascending")]))
    rows: list[dict[str, Any]] = table.to_pylist()
    for row in rows:
        paths = [row["face_clip_path"], row["audio_blur_path"], row["audio_path"]]
        for relative in [*(row["still_paths"] or []), *paths]:
            if relative:
                safe_join(root, str(relative))
    return rows


def _sheet_line(row: dict[str, Any], raw_audio: bool) -> list[str]:
    stills = row["still_paths"] or []
    tags = row["nonverbal"] or []
    assert isinstance(stills, list) and isinstance(tags, list)
    values: list[object] = [
        row["cue_id"],
        "",
        "",
        "",
        "",
        "",
        row["text"] or "",
        " ".join(str(t) for t in tags),
        row["speaker"] or "",
        row["start_ms"],
        row["end_ms"],
        " ".join(str(s) for s in stills),
        row["face_clip_path"] or "",
        row["audio_blur_path"] or "",
    ]
    if raw_audio:
        values.append(row["audio_path"] or "")
    return ["" if v is None else str(v) for v in values]


def export_label_sheet(
    dataset: str | Path, out: str | Path, *, raw_audio: bool = False, overwrite: bool = False
) -> ExportResult:
    """Write an annotation sheet: a CSV with one row per accepted cue group.

    Columns ``cue_id, annotator, label, gender, age_band, time`` (the last five empty, for
    the annotator to fill), then context: ``text``, ``nonverbal`` (space-separated tags),
    ``speaker``, ``start_ms``, ``end_ms``, ``still_paths`` (space-separated),
    ``face_clip_path``, ``audio_blur_path`` and, only when ``raw_audio``, ``audio_path``
    (the unblurred voice). Paths are relative to the dataset. ``labels import`` reads the
    filled sheet back (context columns ignored, unfilled rows skipped). Written atomically;
    reads the dataset only. An existing file is not replaced (it may hold annotations)
    unless ``overwrite``.
    """
    layout = require_dataset(dataset)
    out = Path(out)
    check_new_file(out, overwrite=overwrite)
    rows = accepted_cue_rows(layout.root)
    header = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *SHEET_CONTEXT_COLUMNS]
    if not raw_audio:
        header.remove("audio_path")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(_sheet_line(row, raw_audio))
    atomic_write_bytes(out, buffer.getvalue().encode("utf-8"))
    return ExportResult(
        format="csv",
        out=str(out),
        files=(str(out),),
        tasks=len(rows),
        predictions=0,
        raw_audio=raw_audio,
        url_prefix=None,
    )


@dataclass(frozen=True)
class LabelSummary:
    """What a dataset's labels hold."""

    rounds: int
    votes: int
    annotators: int
    cues_labelled: int
    cues_tied: int
    mean_agreement: float | None
    tie_rule: str | None
    class_counts: dict[str, int]  #: labelled cue groups per class (taxonomy order)

    def lines(self) -> list[str]:
        """A human-readable summary."""
        agreement = "-" if self.mean_agreement is None else f"{self.mean_agreement:.3f}"
        out = [
            f"rounds: {self.rounds}, votes: {self.votes}, annotators: {self.annotators}",
            f"cue groups labelled: {self.cues_labelled}, tied: {self.cues_tied} "
            f"(tie rule: {self.tie_rule or '-'})",
            f"mean agreement: {agreement}",
        ]
        out += [f"  {name}: {count}" for name, count in self.class_counts.items()]
        return out


def _summary(
    votes: pa.Table, aggregate: pa.Table | None, rule: str | None, taxonomy: Taxonomy
) -> LabelSummary:
    """Counts of the votes and their aggregate (None: no aggregate yet)."""
    counts = dict.fromkeys(taxonomy.classes, 0)
    labelled = tied = 0
    mean: float | None = None
    if aggregate is not None:
        for label in aggregate.column("label").to_pylist():
            if label is not None:
                counts[label] = counts.get(label, 0) + 1
                labelled += 1
        tied = int(pc.sum(aggregate.column("tie")).as_py() or 0)
        if aggregate.num_rows:
            mean = float(pc.mean(aggregate.column("agreement")).as_py())
    return LabelSummary(
        rounds=len(pc.unique(votes.column("round"))),
        votes=votes.num_rows,
        annotators=len(pc.unique(votes.column("annotator"))),
        cues_labelled=labelled,
        cues_tied=tied,
        mean_agreement=mean,
        tie_rule=rule,
        class_counts=counts,
    )


def summarize_labels(dataset: str | Path) -> LabelSummary:
    """Counts of a dataset's votes and aggregate."""
    layout = require_dataset(dataset)
    taxonomy = dataset_taxonomy(layout.root)
    votes = read_votes(layout.root)
    found = read_aggregate(LabelsLayout(layout.root).aggregate)
    if found is None:
        return _summary(votes, None, None, taxonomy)
    return _summary(votes, *found, taxonomy)


@writes_dataset
def reaggregate_labels(
    dataset: str | Path, tie_rule: str = DEFAULT_TIE_RULE, method: str = "majority"
) -> LabelSummary:
    """Recompute ``labels/aggregate.parquet`` from the votes, e.g. under another tie rule
    or with another method (``majority`` or ``dawid-skene``, see ``labels.aggregate``;
    an import afterwards aggregates by majority again)."""
    from empathynet.labels.aggregate import aggregate_with_model, check_method, model_metadata

    check_tie_rule(tie_rule)
    check_method(method)
    layout = require_dataset(dataset)
    labels = LabelsLayout(layout.root)
    votes = read_votes(layout.root)
    if votes.num_rows == 0:
        raise DatasetError("the dataset has no votes: import a labels CSV first", layout.root)
    taxonomy = dataset_taxonomy(layout.root)
    aggregate, model, latest = aggregate_with_model(votes, taxonomy, tie_rule, method)
    fitted = None if model is None or latest is None else model_metadata(model, latest, taxonomy)
    write_aggregate(labels.aggregate, aggregate, tie_rule, method, fitted)
    return _summary(votes, aggregate, tie_rule, taxonomy)
