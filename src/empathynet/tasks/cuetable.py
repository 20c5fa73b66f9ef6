"""The cue table tasks are made from: accepted cue groups with their labels and attributes.

``load_cue_table(dataset)`` reads the manifest in one pass (fast on millions of rows),
keeps the accepted rows in ``cue_id`` order and joins the label
aggregate (``labels/aggregate.parquet``). Where a cue group has an aggregate row, its
label, gender and age band come from there; otherwise from the manifest's own
``label`` / ``gender`` / ``age_band`` columns (attributes estimated by a build stage).
From the aggregate also come ``votes``, ``agreement`` (share of votes for the label)
and ``confidence`` (majority: the agreement; Dawid–Skene: the label's posterior); all
three are null for cue groups without votes. Values outside the taxonomy are an error,
never dropped silently.

The **fingerprint** is a SHA-256 over every column tasks use, in cue id order (ids,
times, text, tags, speakers, media paths, labels, attributes, agreement) plus the
taxonomy and the tie rule (and, for an aggregate other than majority, its method and
the confidence column; a majority aggregate's confidence is its agreement). It does
not depend on how the manifest is cut into parts or where the dataset lives; any
change that could change a task changes it. Media file contents are not hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from empathynet.errors import DatasetError
from empathynet.labels.aggregate import DEFAULT_METHOD, aggregate_method, read_aggregate
from empathynet.labels.store import LabelsLayout, dataset_taxonomy
from empathynet.labels.taxonomy import Taxonomy, taxonomy_yaml
from empathynet.store.layout import DatasetLayout, require_dataset
from empathynet.store.parts import manifest_tables
from empathynet.tasks.views import VIEWS, view

#: Columns every cue table holds in memory; view columns (``VIEWS``) are read on demand.
BASE_COLUMNS: tuple[str, ...] = (
    "cue_id",
    "source_id",
    "start_ms",
    "end_ms",
    "speaker",
    "label",
    "gender",
    "age_band",
)
VIEW_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(v.column for v in VIEWS if v.column not in BASE_COLUMNS)
)

Codes = npt.NDArray[np.int64]
_BATCH_ROWS = 1 << 16  # manifest rows per scanned batch


def _codes(column: pa.ChunkedArray | pa.Array, values: tuple[str, ...]) -> Codes:
    index = pc.index_in(column, value_set=pa.array(values, pa.string()))
    return np.asarray(pc.fill_null(index, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def dictionary_codes(column: pa.ChunkedArray | pa.Array) -> Codes:
    """Integer codes of a string column in order of first appearance; -1 for nulls."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    indices = pc.fill_null(encoded.indices, -1)
    return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def speaker_keys(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Speaker names as identity keys: trimmed, lower case; empty -> null."""
    key = pc.utf8_lower(pc.utf8_trim_whitespace(column))
    key = pc.if_else(pc.equal(key, ""), pa.scalar(None, pa.string()), key)
    return key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key


class _ColumnDigest:
    """SHA-256 of one column that does not depend on how its rows are chunked.

    Null flags, list lengths, string lengths and value bytes go into four separate
    streams, each fed chunk after chunk; the column's digest hashes the four.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self.streams = [hashlib.sha256() for _ in range(4)]

    def update(self, column: pa.ChunkedArray | pa.Array) -> None:
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        for chunk in chunks:
            self._update(chunk)

    def _update(self, chunk: pa.Array) -> None:
        nulls, list_lengths, lengths, values = self.streams
        self.rows += len(chunk)
        nulls.update(np.asarray(chunk.is_null().to_numpy(zero_copy_only=False)).tobytes())
        kind = chunk.type
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            counts = pc.fill_null(pc.list_value_length(chunk), 0).to_numpy()
            list_lengths.update(np.asarray(counts, dtype="<i8").tobytes())
            chunk = pc.list_flatten(chunk)
            kind = chunk.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            if not pa.types.is_large_string(kind):
                offset_type: type[np.int32] | type[np.int64] = np.int32
            else:
                offset_type = np.int64
            buffers = chunk.buffers()
            offsets = np.frombuffer(buffers[1], dtype=offset_type)[
                chunk.offset : chunk.offset + len(chunk) + 1
            ].astype(np.int64)
            string_lengths = np.diff(offsets)
            if chunk.null_count:  # a null counts as empty, as Parquet stores it
                string_lengths[np.asarray(chunk.is_null().to_numpy(zero_copy_only=False))] = 0
            lengths.update(string_lengths.astype("<i8").tobytes())
            if len(offsets) and buffers[2] is not None:
                values.update(memoryview(buffers[2])[int(offsets[0]) : int(offsets[-1])])
        else:
            numbers = pc.fill_null(chunk, 0).to_numpy(zero_copy_only=False)
            values.update(numbers.astype(numbers.dtype.newbyteorder("<")).tobytes())

    def digest(self) -> bytes:
        whole = hashlib.sha256(f"{self.name}\0{self.rows}\0".encode())
        for stream in self.streams:
            whole.update(stream.digest())
        return whole.digest()


@dataclass(frozen=True)
class CueTable:
    """Accepted cue groups (sorted by cue id) with labels, attributes and integer codes.

    ``table`` holds the base columns (``BASE_COLUMNS`` plus ``votes``, ``agreement``,
    ``confidence``, ``duration_ms``); ``column(name)`` also gives view columns (text, media paths):
    those asked for at load time are kept, others are read from the manifest on first
    use.
    """

    root: Path
    table: pa.Table
    taxonomy: Taxonomy
    tie_rule: str | None  #: of the label aggregate (None: no votes imported)
    fingerprint: str
    #: per row: class index in the taxonomy, -1 when unlabelled
    class_code: Codes = field(repr=False)
    #: per row: class group index (the class index when the taxonomy has no groups)
    group_code: Codes = field(repr=False)
    gender_code: Codes = field(repr=False)  #: -1 unknown
    age_code: Codes = field(repr=False)  #: -1 unknown
    source_code: Codes = field(repr=False)
    speaker_code: Codes = field(repr=False)  #: -1 unknown; same key across sources = same code
    duration_ms: Codes = field(repr=False)
    #: the manifest rows (in part order) that make the cue table: a boolean mask when
    #: they are already in cue id order, else their indices in cue id order
    selection: pa.Array = field(repr=False)
    #: the readable manifest parts the table was made from (a later column comes from them)
    manifest: ds.Dataset = field(repr=False)
    loaded: dict[str, pa.ChunkedArray] = field(default_factory=dict, repr=False)
    #: the label aggregate's method (``majority``, ``dawid-skene``; None: no votes)
    aggregate_method: str | None = None

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)

    def cue_ids(self) -> pa.Array:
        return self.table.column("cue_id").combine_chunks()

    def column(self, name: str) -> pa.ChunkedArray:
        """A column of the cue table (base or view column), one row per cue group."""
        if name in self.table.column_names:
            return self.table.column(name)
        if name not in self.loaded:
            self.loaded[name] = _read_selected(self.manifest, name, self.selection)
        return self.loaded[name]


def _parts_dataset(parts: list[Path], root: Path) -> ds.Dataset:
    try:
        return ds.dataset([str(p) for p in parts], format="parquet")
    except (OSError, pa.ArrowInvalid) as error:
        raise DatasetError(f"cannot read the manifest: {error}", root) from None


def _read_selected(manifest: ds.Dataset, name: str, selection: pa.Array) -> pa.ChunkedArray:
    # the same parts as the scan (which told about the damaged ones), not checked again
    column = manifest.to_table(columns=[name]).column(name)
    if pa.types.is_boolean(selection.type):
        return column.filter(selection)
    return column.take(selection)


def _duplicate(ids: pa.Array, root: Path) -> None:
    if len(ids) > 1:
        same = pc.equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
        repeated = np.flatnonzero(np.asarray(same, dtype=bool))
        if len(repeated):
            raise DatasetError(
                f"cue id {ids[int(repeated[0])].as_py()!r} is in the manifest more than once",
                root,
            )


@dataclass
class _Scan:
    base: pa.Table
    kept: dict[str, pa.ChunkedArray]
    selection: pa.Array
    digests: dict[str, bytes]
    manifest: ds.Dataset


def _scan(root: Path, keep: tuple[str, ...]) -> _Scan:
    """One pass over the manifest: accepted rows, digests of every column, kept columns."""
    try:
        return _scan_sorted(root, keep)
    except (OSError, pa.ArrowInvalid, pa.ArrowTypeError) as error:
        message = " ".join(str(error).split())
        raise DatasetError(f"cannot read the manifest: {message}", root) from None


def _scan_sorted(root: Path, keep: tuple[str, ...]) -> _Scan:
    layout = DatasetLayout(root)
    names = (*BASE_COLUMNS, *VIEW_COLUMNS)
    digests = {name: _ColumnDigest(name) for name in names}
    kept: dict[str, list[pa.Array]] = {name: [] for name in (*BASE_COLUMNS, *keep)}
    masks: list[npt.NDArray[np.bool_]] = []
    last_id: str | None = None
    # A damaged part is left out with one line on stderr; later columns are read from
    # the parts this scan read (``readable``), not checked again.
    readable: list[Path] = []
    for batch in manifest_tables(
        layout, ["status", *names], min_rows=_BATCH_ROWS, readable=readable
    ):
        accepted = pc.equal(batch.column("status"), "accepted")
        masks.append(np.asarray(pc.fill_null(accepted, False).to_numpy(zero_copy_only=False)))
        chosen = batch.filter(accepted)
        if chosen.num_rows == 0:
            continue
        ids = chosen.column("cue_id")
        _duplicate(ids.combine_chunks(), root)
        ordered = bool(pc.all(pc.greater(ids[1:], ids[:-1])).as_py() is not False)
        if not ordered or (last_id is not None and ids[0].as_py() <= last_id):
            # Real manifests come in cue id order (parts named by source and chunk);
            # anything else is read again whole and sorted.
            return _scan_unsorted(_parts_dataset(readable, root), root, keep)
        last_id = ids[-1].as_py()
        for name in names:
            digests[name].update(chosen.column(name))
        for name, chunks in kept.items():
            chunks.extend(chosen.column(name).chunks)
    mask = np.concatenate(masks) if masks else np.zeros(0, dtype=bool)
    dataset = _parts_dataset(readable, root)
    schema = dataset.schema
    columns = {
        name: pa.chunked_array(chunks, type=schema.field(name).type)
        for name, chunks in kept.items()
    }
    base = pa.table({name: columns[name] for name in BASE_COLUMNS}).combine_chunks()
    return _Scan(
        base,
        {name: columns[name] for name in keep},
        pa.array(mask, pa.bool_()),
        {name: digest.digest() for name, digest in digests.items()},
        dataset,
    )


def _scan_unsorted(dataset: ds.Dataset, root: Path, keep: tuple[str, ...]) -> _Scan:
    """``_scan`` for a manifest not in cue id order: reads it whole, then sorts."""
    names = (*BASE_COLUMNS, *VIEW_COLUMNS)
    manifest = dataset.to_table(columns=["status", *names])
    accepted = pc.fill_null(pc.equal(manifest.column("status"), "accepted"), False)
    rows = np.flatnonzero(np.asarray(accepted.to_numpy(zero_copy_only=False), dtype=bool))
    ids = manifest.column("cue_id").take(pa.array(rows, pa.int64())).combine_chunks()
    order = np.asarray(pc.sort_indices(ids).to_numpy(), dtype=np.int64)
    selection = pa.array(rows[order], pa.int64())
    _duplicate(ids.take(pa.array(order, pa.int64())), root)
    table = manifest.drop(["status"]).take(selection)
    digests: dict[str, bytes] = {}
    for name in names:
        digest = _ColumnDigest(name)
        digest.update(table.column(name))
        digests[name] = digest.digest()
    return _Scan(
        pa.table({name: table.column(name) for name in BASE_COLUMNS}).combine_chunks(),
        {name: table.column(name) for name in keep},
        selection,
        digests,
        dataset,
    )


def load_cue_table(dataset: str | Path, views: Iterable[str] = ()) -> CueTable:
    """The accepted cue groups of ``dataset`` with labels and attributes (see module doc).

    One pass over the manifest hashes every column and keeps the base columns and the
    columns of ``views`` (others are read again if asked for later), so memory stays
    low on manifests of millions of rows.
    """
    layout = require_dataset(dataset)
    root = layout.root
    keep = tuple(dict.fromkeys(view(n).column for n in views if view(n).column in VIEW_COLUMNS))
    scan = _scan(root, keep)
    table = scan.base
    taxonomy = dataset_taxonomy(root)
    found = read_aggregate(LabelsLayout(root).aggregate)
    tie_rule: str | None = None
    agreement = pa.nulls(table.num_rows, pa.float64())
    confidence = pa.nulls(table.num_rows, pa.float64())
    votes = pa.nulls(table.num_rows, pa.int32())
    method: str | None = None
    if found is not None:
        aggregate, tie_rule = found
        method = aggregate_method(LabelsLayout(root).aggregate)
        where = pc.index_in(table.column("cue_id"), value_set=aggregate.column("cue_id"))
        has_row = pc.is_valid(where)
        for name in ("label", "gender", "age_band"):
            from_votes = aggregate.column(name).take(where)
            # A cue group with votes takes the aggregate's value even when it is null (a
            # tie), so a tie never falls back to another source of labels.
            table = table.set_column(
                table.schema.get_field_index(name),
                name,
                pc.if_else(has_row, from_votes, table.column(name)),
            )
        agreement = aggregate.column("agreement").take(where)
        confidence = aggregate.column("confidence").take(where)
        votes = aggregate.column("votes").take(where)
    table = table.append_column("votes", votes).append_column("agreement", agreement)
    table = table.append_column("confidence", confidence)
    duration = pc.subtract(table.column("end_ms"), table.column("start_ms"))
    table = table.append_column("duration_ms", duration)

    class_code = _codes(table.column("label"), taxonomy.classes)
    gender_code = _codes(table.column("gender"), taxonomy.genders)
    age_code = _codes(table.column("age_band"), taxonomy.age_bands)
    for name, codes, allowed in (
        ("label", class_code, taxonomy.classes),
        ("gender", gender_code, taxonomy.genders),
        ("age_band", age_code, taxonomy.age_bands),
    ):
        present = np.asarray(pc.is_valid(table.column(name)).to_numpy(zero_copy_only=False))
        bad = np.flatnonzero(present & (codes < 0))
        if len(bad):
            row = int(bad[0])
            raise DatasetError(
                f"cue {table.column('cue_id')[row].as_py()}: {name} "
                f"{table.column(name)[row].as_py()!r} is not in the taxonomy {list(allowed)}",
                root,
            )
    group_of_class = np.asarray(taxonomy.group_index_of_classes(), dtype=np.int64)
    group_code = np.where(class_code >= 0, group_of_class[np.maximum(class_code, 0)], -1)
    duration_ms = np.asarray(table.column("duration_ms").to_numpy(), dtype=np.int64)
    if (duration_ms <= 0).any():
        row = int(np.flatnonzero(duration_ms <= 0)[0])
        raise DatasetError(f"cue {table.column('cue_id')[row].as_py()} ends before it starts", root)

    digest = hashlib.sha256()
    digest.update(taxonomy_yaml(taxonomy) + b"\0" + (tie_rule or "").encode() + b"\0")
    # A majority aggregate's confidence is its agreement: hashed only for other methods,
    # so fingerprints made before the method existed stay the same.
    other_method = method not in (None, DEFAULT_METHOD)
    if other_method:
        digest.update(f"method\0{method}\0".encode())
    for name in (*BASE_COLUMNS, *VIEW_COLUMNS):
        digest.update(scan.digests[name])
    final_columns = ("label", "gender", "age_band", "votes", "agreement")
    for name in (*final_columns, "confidence") if other_method else final_columns:
        final = _ColumnDigest(name)  # the values after joining the label aggregate
        final.update(table.column(name))
        digest.update(final.digest())
    return CueTable(
        root=root,
        table=table,
        taxonomy=taxonomy,
        tie_rule=tie_rule,
        fingerprint="sha256:" + digest.hexdigest(),
        class_code=class_code,
        group_code=group_code,
        gender_code=gender_code,
        age_code=age_code,
        source_code=dictionary_codes(table.column("source_id")),
        speaker_code=dictionary_codes(speaker_keys(table.column("speaker"))),
        duration_ms=duration_ms,
        selection=scan.selection,
        manifest=scan.manifest,
        loaded=dict(scan.kept),
        aggregate_method=method,
    )
