"""Prediction files: read, check strictly, and line up with a task's items.

A prediction file is JSON Lines (``.jsonl``: one JSON object per line; blank lines are
skipped) or Parquet (``.parquet``, the same columns), one row per item of the scored
split, keyed by ``item_id``, with exactly one prediction field, the same in every row:

==============  ===========================================================================
family          prediction field (one of)
==============  ===========================================================================
classification  ``label``: a class name; ``ranking``: class names, best first (may be
                partial); ``scores``: object class name -> finite number, higher = more
                likely (a class left out, or null, is not ranked and never a hit)
mcq             ``choice``: option index 0..N-1; ``scores``: list of N finite numbers
generation      ``nll_nats``: total negative log-likelihood of the target in nats (>= 0);
                ``logprob``: total log-probability of the target in nats (<= 0)
==============  ===========================================================================

Ties among scores go to the lowest class / option index (``metrics.TIE_RULE``).
Every problem raises ``PredictionError`` with one line naming the file and the line
(JSON Lines) or row (Parquet): unknown or duplicate item ids, missing items, NaN or
infinite values, a wrong number of option scores, an unknown class, two fields given,
a line longer than ``MAX_LINE_BYTES`` or nested deeper than ``MAX_DEPTH``. Quoted values
are cut short, so the line stays short.

Files are streamed: JSON Lines are read one line at a time and parsed in batches,
Parquet in record batches; the whole file is never held in memory.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from empathynet.errors import EmpathyNetError
from empathynet.tasks.families import PREDICTION_FIELDS, family_names, task_family
from empathynet.tasks.spec import TaskSpec, as_spec

#: Prediction fields per task family.
FIELDS: dict[str, tuple[str, ...]] = PREDICTION_FIELDS
FORMATS: tuple[str, ...] = (".jsonl", ".parquet")
#: A JSON line longer than this (bytes, without its newline) is refused unread.
MAX_LINE_BYTES = 1 << 20
#: Deepest ``[`` / ``{`` nesting of a JSON line (a prediction needs 2).
MAX_DEPTH = 32
#: Lines parsed at once (JSON Lines) and rows per record batch (Parquet).
JSONL_BATCH_BYTES = 4 << 20
JSONL_BATCH_LINES = 65536
PARQUET_BATCH_ROWS = 65536
#: Longest error message (characters); quoted values are cut well before.
MAX_MESSAGE_CHARS = 240
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


class PredictionError(EmpathyNetError):
    """A prediction file is malformed or does not match the task's items.

    The message is cut to ``MAX_MESSAGE_CHARS``, so an error stays one short line
    whatever the file holds."""

    def __init__(
        self, message: str, path: str | Path | None = None, position: str | None = None
    ) -> None:
        super().__init__(_clip(" ".join(message.split()), MAX_MESSAGE_CHARS), path, position)


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _shown(value: Any, show: Callable[[Any], str] = repr, limit: int = 60) -> str:
    """A value as quoted in an error message (``repr`` or JSON), cut to ``limit``."""
    return _clip(show(value), limit)


@dataclass(frozen=True)
class Predictions:
    """Checked predictions of one file.

    ``values`` depends on the family: classification, a (n, C) float64 score matrix over
    the task's classes (``-inf`` = not listed; a label is 0 on its class, a ranking is
    minus its position); mcq, the chosen option per item (n,) int64 (from the scores by
    the tie rule); generation, the target's NLL in nats per item (n,) float64.
    """

    path: Path
    family: str
    field: str  #: the prediction field the file uses
    item_ids: pa.Array  #: string ids, in the order of ``values``
    values: npt.NDArray[Any]

    def __len__(self) -> int:
        return len(self.item_ids)


Locate = Callable[[int], str]


def _task_spec(spec: TaskSpec | Mapping[str, Any], path: Path) -> TaskSpec:
    """``spec`` typed; a mapping of an unknown family is the predictions' error."""
    if isinstance(spec, TaskSpec):
        return spec
    if spec.get("family") not in family_names():
        raise PredictionError(f"unknown task family {_shown(spec.get('family'))}", path)
    return as_spec({"name": "<task>", **spec})


def _format(spec: TaskSpec) -> str:
    """The prediction format of the spec's family (a key of ``FIELDS``)."""
    return task_family(spec.family).prediction_format


def task_classes(spec: TaskSpec | Mapping[str, Any]) -> list[str]:
    """The class names of a classification or MCQ task spec, in taxonomy order."""
    return list(as_spec(spec).classes)


def task_options(spec: TaskSpec | Mapping[str, Any]) -> int:
    """The number of options of an MCQ task spec."""
    return as_spec(spec).options or 0


def load_predictions(
    path: str | Path,
    spec: TaskSpec | Mapping[str, Any],
    *,
    item_ids: pa.Array | Sequence[str] | None = None,
    items_label: str = "the scored split",
) -> Predictions:
    """Read and check the prediction file ``path`` for the task ``spec``.

    With ``item_ids`` (the items of the scored split), the predictions are also checked
    to cover exactly those items, once each, and returned in their order.
    """
    path = Path(path)
    spec = _task_spec(spec, path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise PredictionError(
            f"unknown prediction format {_shown(path.suffix)}: use .jsonl or .parquet", path
        )
    if not path.is_file():
        raise PredictionError("no such prediction file", path)
    table, locate = _read_jsonl(path, _format(spec)) if suffix == ".jsonl" else _read_parquet(path)
    predictions = _check(table, path, spec, locate)
    if item_ids is not None:
        predictions = _align(predictions, item_ids, locate, items_label)
    return predictions


def predictions_from_rows(
    rows: Sequence[Mapping[str, Any]],
    spec: TaskSpec | Mapping[str, Any],
    *,
    name: str,
    item_ids: pa.Array | Sequence[str] | None = None,
    items_label: str = "the scored split",
) -> Predictions:
    """Check prediction rows held in memory (dicts as a prediction file's lines) for the
    task ``spec``, as ``load_predictions`` checks a file; ``name`` stands for the file
    in messages (e.g. "<predictions of my-model>")."""
    path = Path(name)
    spec = _task_spec(spec, path)
    family = _format(spec)
    if not rows:
        raise PredictionError("no predictions", path)
    lines = [
        (number + 1, json.dumps(dict(row), allow_nan=True, default=_plain).encode())
        for number, row in enumerate(rows)
    ]
    table = _read_jsonl_lines(path, lines, family, where="row")

    def locate(row: int) -> str:
        return f"row {row + 1}"

    predictions = _check(table, path, spec, locate)
    if item_ids is not None:
        predictions = _align(predictions, item_ids, locate, items_label)
    return predictions


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays as JSON values (a model's outputs often are)."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not a prediction value")


# --- reading -------------------------------------------------------------------------


def _read_parquet(path: Path) -> tuple[pa.Table, Locate]:
    """Read in record batches, so the file is never decoded in one piece."""
    try:
        with pq.ParquetFile(path) as parquet:
            batches = list(parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS))
            table = pa.Table.from_batches(batches, schema=parquet.schema_arrow)
    except (OSError, pa.ArrowInvalid) as error:
        raise PredictionError(f"cannot read Parquet: {_clip(str(error), 160)}", path) from None
    return table, lambda row: f"row {row + 1}"


def _jsonl_chunks(path: Path) -> Iterator[tuple[bytes, npt.NDArray[np.int64]]]:
    """The file in chunks of whole lines, read ``JSONL_BATCH_BYTES`` at a time: per chunk
    its non-blank lines (each ending in a newline) and their line numbers.

    Refuses, before any JSON parser sees it, a line longer than ``MAX_LINE_BYTES`` (read
    no further than that) or nested deeper than ``MAX_DEPTH``. The checks are vectorised
    over the chunk; only a line with many brackets is scanned on its own (``_depth``).
    """

    def too_long(number: int) -> PredictionError:
        return PredictionError(
            f"line longer than {MAX_LINE_BYTES:,} bytes: a prediction is one short JSON "
            "object per line",
            path,
            f"line {number}",
        )

    try:
        handle = path.open("rb")
    except OSError as error:
        raise PredictionError(f"cannot read: {error.strerror}", path) from None
    first = 1  # line number of the chunk's first line
    carry = b""  # the start of a line the last block cut
    with handle:
        while True:
            try:
                block = handle.read(JSONL_BATCH_BYTES)
            except OSError as error:
                raise PredictionError(f"cannot read: {error.strerror}", path) from None
            data = carry + block if carry else block
            if block:
                end = data.rfind(b"\n") + 1
                if len(data) - end > MAX_LINE_BYTES:
                    raise too_long(first + data.count(b"\n", 0, end))
                if end == 0:
                    carry = data
                    continue
                chunk, carry = data[:end], data[end:]
            elif data:  # the last line, without a newline
                chunk, carry = data + b"\n", b""
            else:
                return
            del data
            codes = np.frombuffer(chunk, dtype=np.uint8)
            ends = np.flatnonzero(codes == 10)
            starts = np.concatenate([[0], ends[:-1] + 1])
            long = ends - starts > MAX_LINE_BYTES
            if long.any():
                raise too_long(first + _first(long))
            space = (codes == 32) | (codes == 9) | (codes == 13) | (codes == 10)
            kept = _per_line(space, ends) < ends - starts + 1  # not only white space
            opening = _per_line((codes == 91) | (codes == 123), ends)  # [ and {
            for at in np.flatnonzero(opening > MAX_DEPTH):
                if _depth(chunk[starts[at] : ends[at]]) > MAX_DEPTH:
                    raise PredictionError(
                        f"JSON nested deeper than {MAX_DEPTH} levels: a prediction holds "
                        "flat values (a list or an object of numbers at most)",
                        path,
                        f"line {first + int(at)}",
                    )
            numbers = first + np.flatnonzero(kept)
            if not kept.all():
                chunk = b"".join(
                    chunk[s : e + 1] for s, e in zip(starts[kept], ends[kept], strict=True)
                )
            first += len(ends)
            if len(numbers):
                yield chunk, numbers


def _per_line(mask: npt.NDArray[np.bool_], ends: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """How many entries of ``mask`` are true in each line (``ends``: its newlines)."""
    at = np.flatnonzero(mask)
    return np.diff(np.searchsorted(at, ends, side="right"), prepend=0)


def _depth(raw: bytes) -> int:
    """The deepest nesting of ``[`` / ``{`` in a JSON line, brackets inside strings aside."""
    text = _JSON_STRING.sub(b"", raw)
    quote = text.find(b'"')
    if quote >= 0:  # an unterminated string runs to the end of the line
        text = text[:quote]
    codes = np.frombuffer(text, dtype=np.uint8)
    step = np.isin(codes, _OPEN).astype(np.int64) - np.isin(codes, _CLOSE).astype(np.int64)
    return int(np.cumsum(step).max(initial=0))


def _read_jsonl(path: Path, family: str) -> tuple[pa.Table, Locate]:
    """Read a JSON Lines file chunk by chunk (``_jsonl_chunks``): each chunk by Arrow's
    JSON reader when every line holds one object of clean types, else line by line,
    naming the first bad line. Only one chunk of the file is held at a time."""
    tables: list[pa.Table] = []
    # rows from shift_rows[i] on are on line row + 1 + shifts[i] (blank lines move them)
    shift_rows: list[int] = [0]
    shifts: list[int] = [0]
    rows = 0
    for chunk, numbers in _jsonl_chunks(path):
        offset = numbers - np.arange(rows + 1, rows + 1 + len(numbers), dtype=np.int64)
        changed = np.flatnonzero(np.diff(offset, prepend=shifts[-1]) != 0)
        shift_rows.extend((rows + changed).tolist())
        shifts.extend(offset[changed].tolist())
        table = _read_jsonl_batch(path, family, chunk, numbers)
        tables.append(table)
        rows += table.num_rows
    if not tables:
        raise PredictionError("no predictions (the file is empty)", path)
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:  # every chunk has the same types
        raise PredictionError(f"cannot combine lines: {_clip(str(error), 160)}", path) from None

    def locate(row: int) -> str:
        return f"line {row + 1 + shifts[bisect.bisect_right(shift_rows, row) - 1]}"

    return table, locate


def _read_jsonl_batch(
    path: Path, family: str, chunk: bytes, numbers: npt.NDArray[np.int64]
) -> pa.Table:
    """One chunk of lines as a table of the canonical column types (``_conform``)."""
    try:
        table = pj.read_json(
            pa.BufferReader(chunk),
            read_options=pj.ReadOptions(block_size=max(len(chunk), 1 << 20)),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        table = None
    # one row per line (no line with two objects), and only types the checks expect
    if table is not None and table.num_rows == len(numbers):
        conformed = _conform(table, family)
        if conformed is not None:
            return conformed
    lines = chunk.split(b"\n")[:-1]
    return _read_jsonl_lines(path, list(zip(numbers.tolist(), lines, strict=True)), family)


def _conform(table: pa.Table, family: str) -> pa.Table | None:
    """``table`` with each column cast to its canonical type (string ids and labels,
    float64 numbers); None when a column is unknown or of a type that would need a
    value-changing cast (a number given as a string, a boolean): the line-by-line read
    then names the line."""
    columns: dict[str, pa.Array] = {}
    for name in table.column_names:
        column = table.column(name)
        kind = _canonical_type(family, name, column.type)
        if kind is None:
            return None
        columns[name] = column.cast(kind) if kind != column.type else column
    return pa.table(columns)


def _canonical_type(family: str, name: str, kind: pa.DataType) -> pa.DataType | None:
    def numeric(k: pa.DataType) -> bool:
        return _is_numeric(k) or pa.types.is_null(k)

    def text(k: pa.DataType) -> bool:
        return bool(pa.types.is_string(k) or pa.types.is_null(k))

    def listed(k: pa.DataType, ok: Callable[[pa.DataType], bool]) -> bool:
        return bool(pa.types.is_null(k) or (pa.types.is_list(k) and ok(k.value_type)))

    if name == "item_id" or (name == "label" and family == "classification"):
        return pa.string() if text(kind) else None
    if name not in FIELDS[family]:
        return None
    if name == "ranking":
        return pa.list_(pa.string()) if listed(kind, text) else None
    if name == "scores" and family == "classification":
        if pa.types.is_null(kind):
            return pa.struct([])
        if pa.types.is_struct(kind) and all(numeric(f.type) for f in kind):
            return pa.struct([pa.field(f.name, pa.float64()) for f in kind])
        return None
    if name == "scores":
        return pa.list_(pa.float64()) if listed(kind, numeric) else None
    return pa.float64() if numeric(kind) else None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"key {_shown(twice)} appears twice")
    return dict(pairs)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _read_jsonl_lines(
    path: Path, batch: list[tuple[int, bytes]], family: str, where: str = "line"
) -> pa.Table:
    """Parse a batch line by line, checking each value's JSON type; returns typed columns."""
    fields = FIELDS[family]
    rows: list[dict[str, Any]] = []
    for number, raw in batch:

        def fail(message: str, number: int = number) -> NoReturn:
            raise PredictionError(message, path, f"{where} {number}")

        try:
            row = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
        except (ValueError, UnicodeDecodeError) as error:
            fail(f"not valid JSON: {_clip(str(error), 120)}")
        if not isinstance(row, dict):
            fail(f"expected a JSON object, got {type(row).__name__}")
        for key, value in row.items():
            if value is None:
                continue
            if key == "item_id":
                if not isinstance(value, str):
                    fail(f"item_id must be a string, got {_shown(value, json.dumps)}")
            elif key not in fields:
                fail(_unknown_field_message(key, family))
            else:
                problem = _json_type_problem(family, key, value)
                if problem:
                    fail(problem)
        rows.append(row)
    columns: dict[str, pa.Array] = {
        "item_id": pa.array([r.get("item_id") for r in rows], pa.string())
    }
    for key in fields:
        if any(key in r for r in rows):
            columns[key] = _typed_column(family, key, [r.get(key) for r in rows])
    return pa.table(columns)


def _json_type_problem(family: str, key: str, value: Any) -> str | None:
    """Why ``value`` has the wrong JSON type for prediction field ``key`` (None if fine)."""
    if family == "classification" and key == "label":
        return None if isinstance(value, str) else "label must be a class name (string)"
    if key == "ranking":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else "ranking must be a list of class names (strings)"
    if family == "classification" and key == "scores":
        ok = isinstance(value, dict) and all(v is None or _is_number(v) for v in value.values())
        return None if ok else "scores must be an object of class name -> number"
    if key == "scores":
        ok = isinstance(value, list) and all(_is_number(v) for v in value)
        return None if ok else "scores must be a list of numbers, one per option"
    if key == "choice":
        ok = _is_number(value) and (isinstance(value, int) or float(value).is_integer())
        return (
            None
            if ok
            else f"choice must be an integer option index, got {_shown(value, json.dumps)}"
        )
    return None if _is_number(value) else f"{key} must be a number, got {_shown(value, json.dumps)}"


def _typed_column(family: str, key: str, values: list[Any]) -> pa.Array:
    if family == "classification" and key == "scores":
        names = sorted({name for v in values if v for name in v})
        if not names:  # every object empty: keep the rows, with no class
            return pa.array([None if v is None else {} for v in values], pa.struct([]))
        kind = pa.struct([pa.field(name, pa.float64()) for name in names])
        return pa.array([None if v is None else {n: v.get(n) for n in names} for v in values], kind)
    kinds = {
        "label": pa.string(),
        "ranking": pa.list_(pa.string()),
        "scores": pa.list_(pa.float64()),
        "choice": pa.float64(),  # checked to be integral; float keeps 2.0 readable
    }
    return pa.array(values, kinds.get(key, pa.float64()))


def _unknown_field_message(key: str, family: str) -> str:
    return (
        f"unknown field {_shown(key)}: a {family} prediction has item_id and exactly one of "
        f"{', '.join(FIELDS[family])}"
    )


# --- checking ------------------------------------------------------------------------


def _first(mask: npt.NDArray[np.bool_] | np.bool_) -> int:
    """Index of the first true entry (the caller knows there is one)."""
    return int(np.flatnonzero(mask)[0])


def _valid(column: pa.Array) -> npt.NDArray[np.bool_]:
    return np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)


def _numbers(column: pa.Array) -> npt.NDArray[np.float64]:
    """Numeric column -> float64 with NaN for null (types checked by the caller)."""
    cast = pc.cast(column, pa.float64())
    return np.asarray(pc.fill_null(cast, math.nan).to_numpy(zero_copy_only=False), np.float64)


def _is_numeric(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _check(table: pa.Table, path: Path, spec: TaskSpec, locate: Locate) -> Predictions:
    family = _format(spec)
    fields = FIELDS[family]

    def fail(row: int | None, message: str) -> NoReturn:
        raise PredictionError(message, path, None if row is None else locate(row))

    n = table.num_rows
    if n == 0:
        fail(None, "no predictions (the file is empty)")
    columns = {name: table.column(name).combine_chunks() for name in table.column_names}
    for name, column in columns.items():
        if name != "item_id" and name not in fields:
            valid = _valid(column)
            fail(_first(valid) if valid.any() else 0, _unknown_field_message(name, family))
    if "item_id" not in columns:
        fail(0, "no item_id: every prediction names the item it is about")
    ids = columns["item_id"]
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        fail(0, f"item_id must be a string, got {_shown(ids.type, str)}")
    ids_valid = _valid(ids)
    if not ids_valid.all():
        fail(_first(~ids_valid), "no item_id: every prediction names the item it is about")
    given = [name for name in fields if name in columns]
    present = np.stack([_valid(columns[name]) for name in given]) if given else np.zeros((1, n))
    count = present.sum(axis=0)
    if (count == 0).any():
        fail(_first(count == 0), f"no prediction: give one of {', '.join(fields)}")
    if (count > 1).any():
        row = _first(count > 1)
        both = [given[i] for i in np.flatnonzero(present[:, row])]
        fail(row, f"gives both {' and '.join(both)}: give exactly one prediction field")
    used = np.argmax(present, axis=0)
    if (used != used[0]).any():
        row = _first(used != used[0])
        fail(
            row,
            f"gives {given[int(used[row])]} but the first prediction gives "
            f"{given[int(used[0])]}: use one prediction field in the whole file",
        )
    field = given[int(used[0])]
    ids = pc.cast(ids, pa.string())
    column = columns[field]
    values: npt.NDArray[Any]
    if family == "classification":
        values = _classification(column, field, task_classes(spec), fail)
    elif family == "mcq":
        values = _mcq(column, field, task_options(spec), fail)
    else:
        values = _generation(column, field, fail)
    return Predictions(path, family, field, ids, values)


Fail = Callable[[int | None, str], NoReturn]


def _class_indices(
    names: pa.Array, rows: npt.NDArray[np.int64], classes: list[str], fail: Fail
) -> npt.NDArray[np.int64]:
    """Class names -> taxonomy indices; ``rows[i]`` is the file row of ``names[i]``."""
    found = pc.index_in(pc.cast(names, pa.string()), value_set=pa.array(classes, pa.string()))
    known = _valid(found)
    if not known.all():
        at = _first(~known)
        shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
        fail(int(rows[at]), f"unknown class {_shown(names[at].as_py())}; classes: {shown}")
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def _check_no_repeat(
    parent: npt.NDArray[np.int64], index: npt.NDArray[np.int64], width: int, what: str, fail: Fail
) -> None:
    keys = np.sort(parent * width + index)
    repeated = keys[1:] == keys[:-1]
    if repeated.any():
        fail(int(keys[_first(repeated)] // width), f"{what} names a class twice")


def _classification(
    column: pa.Array, field: str, classes: list[str], fail: Fail
) -> npt.NDArray[np.float64]:
    n, width = len(column), len(classes)
    scores = np.full((n, width), -np.inf, dtype=np.float64)
    every = np.arange(n, dtype=np.int64)
    if field == "label":
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            fail(0, f"label must be a class name (string), got {_shown(column.type, str)}")
        scores[every, _class_indices(column, every, classes, fail)] = 0.0
        return scores
    if field == "ranking":
        if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
            fail(0, f"ranking must be a list of class names, got {_shown(column.type, str)}")
        lengths = np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False))
        if (lengths == 0).any():
            fail(_first(lengths == 0), "empty ranking: list at least one class")
        names = pc.list_flatten(column)
        parent = np.asarray(pc.list_parent_indices(column).to_numpy(), dtype=np.int64)
        kind = column.type.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            fail(0, f"ranking must be a list of class names, got {_shown(column.type, str)}")
        named = _valid(names)
        if not named.all():
            fail(int(parent[_first(~named)]), "ranking holds a null: list class names")
        index = _class_indices(names, parent, classes, fail)
        _check_no_repeat(parent, index, width, "ranking", fail)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        position = np.arange(len(parent), dtype=np.int64) - starts[parent]
        scores[parent, index] = -position.astype(np.float64)
        return scores
    # scores: a struct (one field per class, JSON objects) or a map (Parquet)
    if pa.types.is_struct(column.type):
        for i in range(column.type.num_fields):
            child = column.field(i)
            name = column.type.field(i).name
            valid = _valid(child)
            row = _first(valid) if valid.any() else 0
            if name not in classes:
                shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
                fail(row, f"unknown class {_shown(name)} in scores; classes: {shown}")
            if not _is_numeric(child.type) and valid.any():
                fail(
                    row,
                    f"the score of {_shown(name)} must be a number, got {_shown(child.type, str)}",
                )
            values = _numbers(child) if valid.any() else np.full(n, math.nan)
            bad = valid & ~np.isfinite(values)
            if bad.any():
                fail(_first(bad), f"the score of {_shown(name)} is not finite ({values[bad][0]})")
            scores[:, classes.index(name)] = np.where(valid, values, -np.inf)
    elif pa.types.is_map(column.type):
        offsets = np.asarray(column.offsets.to_numpy(), dtype=np.int64)
        keys = column.keys[int(offsets[0]) : int(offsets[-1])]
        items = column.items[int(offsets[0]) : int(offsets[-1])]
        parent = np.repeat(every, np.diff(offsets))
        if not _is_numeric(items.type) and len(items):
            fail(0, f"scores must map class names to numbers, got {_shown(column.type, str)}")
        values = _numbers(items) if len(items) else np.zeros(0)
        valid = _valid(items) if len(items) else np.zeros(0, dtype=bool)
        bad = valid & ~np.isfinite(values)
        if bad.any():
            fail(int(parent[_first(bad)]), f"a score is not finite ({values[bad][0]})")
        index = _class_indices(keys, parent, classes, fail)
        _check_no_repeat(parent, index, width, "scores", fail)
        scores[parent[valid], index[valid]] = values[valid]
    else:
        fail(0, f"scores must be an object of class name -> number, got {_shown(column.type, str)}")
    listed = np.isfinite(scores).any(axis=1)
    if not listed.all():
        fail(_first(~listed), "scores name no class: score at least one class")
    return scores


def _mcq(column: pa.Array, field: str, options: int, fail: Fail) -> npt.NDArray[np.int64]:
    n = len(column)
    if field == "choice":
        if not _is_numeric(column.type):
            fail(0, f"choice must be an integer option index, got {_shown(column.type, str)}")
        values = _numbers(column)
        integral = np.isfinite(values) & (values == np.floor(values))
        if not integral.all():
            at = _first(~integral)
            fail(at, f"choice must be an integer option index, got {values[at]}")
        outside = (values < 0) | (values >= options)
        if outside.any():
            at = _first(outside)
            fail(at, f"choice {int(values[at])} is not an option index 0..{options - 1}")
        return values.astype(np.int64)
    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
        fail(0, f"scores must be a list of {options} numbers, got {_shown(column.type, str)}")
    lengths = np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False))
    wrong = lengths != options
    if wrong.any():
        at = _first(wrong)
        fail(at, f"{lengths[at]} scores given; the task has {options} options: give one each")
    flat = pc.list_flatten(column)
    if not _is_numeric(flat.type) and len(flat):
        fail(0, f"scores must be a list of {options} numbers, got {_shown(column.type, str)}")
    values = _numbers(flat).reshape(n, options)
    bad = ~np.isfinite(values)
    if bad.any():
        at = _first(bad.any(axis=1))
        fail(at, f"score of option {_first(bad[at])} is not finite ({values[bad][0]})")
    return np.asarray(np.argmax(values, axis=1), dtype=np.int64)


def _generation(column: pa.Array, field: str, fail: Fail) -> npt.NDArray[np.float64]:
    if not _is_numeric(column.type):
        fail(0, f"{field} must be a number, got {_shown(column.type, str)}")
    values = _numbers(column)
    bad = ~np.isfinite(values)
    if bad.any():
        fail(_first(bad), f"{field} is not finite ({values[bad][0]})")
    if field == "nll_nats":
        negative = values < 0
        if negative.any():
            at = _first(negative)
            fail(at, f"nll_nats must be >= 0 (a negative log-likelihood), got {values[at]}")
        return values
    positive = values > 0
    if positive.any():
        at = _first(positive)
        fail(at, f"logprob must be <= 0 (a log-probability), got {values[at]}")
    return np.asarray(-values, dtype=np.float64)


# --- lining up with the items ----------------------------------------------------------


def _align(
    predictions: Predictions, item_ids: pa.Array | Sequence[str], locate: Locate, label: str
) -> Predictions:
    """The predictions in the order of ``item_ids``; every item exactly once."""
    path = predictions.path
    ids = predictions.item_ids
    items = pc.cast(
        pa.array(item_ids) if not isinstance(item_ids, pa.Array) else item_ids, pa.string()
    )
    first = np.asarray(pc.index_in(ids, value_set=ids).to_numpy(), dtype=np.int64)
    repeated = first != np.arange(len(ids))
    if repeated.any():
        row = _first(repeated)
        earlier = locate(int(first[row]))
        raise PredictionError(
            f"duplicate item_id {_shown(ids[row].as_py())} (first given at {earlier})",
            path,
            locate(row),
        )
    found = pc.index_in(ids, value_set=items)
    known = _valid(found)
    if not known.all():
        row = _first(~known)
        raise PredictionError(
            f"unknown item_id {_shown(ids[row].as_py())}: not an item of {label}", path, locate(row)
        )
    position = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
    if len(ids) < len(items):
        covered = np.zeros(len(items), dtype=bool)
        covered[position] = True
        missing = np.flatnonzero(~covered)
        raise PredictionError(
            f"{len(missing)} of the {len(items)} items of {label} have no prediction "
            f"(first: {_shown(items[int(missing[0])].as_py())})",
            path,
        )
    order = np.empty(len(items), dtype=np.int64)
    order[position] = np.arange(len(ids), dtype=np.int64)
    return Predictions(
        path, predictions.family, predictions.field, items, predictions.values[order]
    )
