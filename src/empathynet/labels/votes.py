"""Importing annotation votes: ``cue_id, annotator, label[, gender, age_band]`` CSV files.

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
the taxonomy's lists, an empty field or the same annotator twice on one cue gives a
``LabelFileError`` naming the file and line. Writes are atomic (votes, then aggregate).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

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
from empathynet.labels.store import LabelsLayout, cue_statuses, dataset_taxonomy
from empathynet.labels.taxonomy import Taxonomy, load_taxonomy, write_taxonomy
from empathynet.store.atomic import atomic_write_table
from empathynet.store.hashing import file_sha256
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset

REQUIRED_COLUMNS: tuple[str, ...] = ("cue_id", "annotator", "label")
OPTIONAL_COLUMNS: tuple[str, ...] = ("gender", "age_band")

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
        ("line", pa.int32(), False),  #: line of the vote in that file
    ]
)


class LabelFileError(EmpathyNetError):
    """A labels CSV file has a problem; the message names the file and line."""


@dataclass(frozen=True)
class Vote:
    """One annotator's vote on one cue group, as read from a CSV line."""

    cue_id: str
    annotator: str
    label: str
    gender: str | None
    age_band: str | None
    line: int


@dataclass(frozen=True)
class ImportResult:
    """What one ``import_labels`` call did."""

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
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise LabelFileError(
            f"unknown columns {unknown}; known: {list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}",
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
    return Vote(cue_id, annotator, label, attributes["gender"], attributes["age_band"], 0)


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
) -> Taxonomy:
    current = dataset_taxonomy(labels.root)
    if taxonomy_path is None:
        if not labels.taxonomy.exists():
            write_taxonomy(labels.taxonomy, current)  # record the default the labels use
        return current
    wanted = load_taxonomy(taxonomy_path)
    if wanted == current and labels.taxonomy.exists():
        return current
    if have_votes:
        raise ConfigError(
            "the dataset already has votes against another taxonomy "
            f"({labels.taxonomy}); a taxonomy cannot change under existing votes",
            taxonomy_path,
        )
    write_taxonomy(labels.taxonomy, wanted)
    return wanted


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
    labels = LabelsLayout(layout.root)
    csv_path = Path(csv_path)
    existing = read_votes(layout.root)
    taxonomy = _settle_taxonomy(labels, taxonomy_path, existing.num_rows > 0)
    votes = read_label_csv(csv_path, taxonomy, cue_statuses(layout.root))
    round_id = file_sha256(csv_path)
    rounds = existing.column("round")
    already = existing.num_rows > 0 and bool(pc.any(pc.equal(rounds, round_id)).as_py())
    added = 0
    table = existing
    if not already:
        round_index = int(pc.max(existing.column("round_index")).as_py() or 0) + 1
        new = pa.Table.from_pydict(
            {
                "cue_id": [v.cue_id for v in votes],
                "annotator": [v.annotator for v in votes],
                "label": [v.label for v in votes],
                "gender": [v.gender for v in votes],
                "age_band": [v.age_band for v in votes],
                "round": [round_id] * len(votes),
                "round_index": [round_index] * len(votes),
                "file": [csv_path.name] * len(votes),
                "line": [v.line for v in votes],
            },
            schema=VOTE_SCHEMA,
        )
        table = pa.concat_tables([existing, new]) if existing.num_rows else new
        atomic_write_table(labels.votes, table)
        added = len(votes)
    # Always recomputed, so an import interrupted between the two writes heals on re-run.
    aggregate = aggregate_votes(table, taxonomy, tie_rule)
    write_aggregate(labels.aggregate, aggregate, tie_rule)
    summary = _summary(table, aggregate, tie_rule, taxonomy)
    return ImportResult(
        file=str(csv_path),
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
def reaggregate_labels(dataset: str | Path, tie_rule: str = DEFAULT_TIE_RULE) -> LabelSummary:
    """Recompute ``labels/aggregate.parquet`` from the votes, e.g. under another tie rule."""
    check_tie_rule(tie_rule)
    layout = require_dataset(dataset)
    labels = LabelsLayout(layout.root)
    votes = read_votes(layout.root)
    if votes.num_rows == 0:
        raise DatasetError("the dataset has no votes: import a labels CSV first", layout.root)
    taxonomy = dataset_taxonomy(layout.root)
    aggregate = aggregate_votes(votes, taxonomy, tie_rule)
    write_aggregate(labels.aggregate, aggregate, tie_rule)
    return _summary(votes, aggregate, tie_rule, taxonomy)
