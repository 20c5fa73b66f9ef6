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
infinite values, a wrong number of option scores, an unknown class, two fields given.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
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

#: Prediction fields per task family.
FIELDS: dict[str, tuple[str, ...]] = {
    "classification": ("label", "ranking", "scores"),
    "mcq": ("choice", "scores"),
    "generation": ("nll_nats", "logprob"),
}
FORMATS: tuple[str, ...] = (".jsonl", ".parquet")
_BLANK_LINE = re.compile(rb"(?:\A|\n)[ \t\r]*(?:\n|\Z)")


class PredictionError(EmpathyNetError):
    """A prediction file is malformed or does not match the task's items."""


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


def task_classes(spec: dict[str, Any]) -> list[str]:
    """The class names of a classification or MCQ task spec, in taxonomy order."""
    return [str(c) for c in spec.get("labels", {}).get("classes", [])]


def task_options(spec: dict[str, Any]) -> int:
    """The number of options of an MCQ task spec."""
    return int(spec["constraints"]["options"])


def load_predictions(
    path: str | Path,
    spec: dict[str, Any],
    *,
    item_ids: pa.Array | Sequence[str] | None = None,
    items_label: str = "the scored split",
) -> Predictions:
    """Read and check the prediction file ``path`` for the task ``spec``.

    With ``item_ids`` (the items of the scored split), the predictions are also checked
    to cover exactly those items, once each, and returned in their order.
    """
    path = Path(path)
    family = str(spec["family"])
    if family not in FIELDS:
        raise PredictionError(f"unknown task family {family!r}", path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise PredictionError(
            f"unknown prediction format {path.suffix!r}: use .jsonl or .parquet", path
        )
    if not path.is_file():
        raise PredictionError("no such prediction file", path)
    table, locate = _read_jsonl(path, family) if suffix == ".jsonl" else _read_parquet(path)
    predictions = _check(table, path, spec, locate)
    if item_ids is not None:
        predictions = _align(predictions, item_ids, locate, items_label)
    return predictions


# --- reading -------------------------------------------------------------------------


def _read_parquet(path: Path) -> tuple[pa.Table, Locate]:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise PredictionError(f"cannot read Parquet: {error}", path) from None
    return table, lambda row: f"row {row + 1}"


def _read_jsonl(path: Path, family: str) -> tuple[pa.Table, Locate]:
    """Fast path: Arrow's JSON reader, when every line holds one object of clean types;
    else a line-by-line read that names the first bad line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PredictionError(f"cannot read: {error.strerror}", path) from None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    body = data[:-1] if data.endswith(b"\n") else data  # the last newline ends a line
    if data.strip() and not _BLANK_LINE.search(body):
        try:
            table = pj.read_json(
                pa.BufferReader(data), read_options=pj.ReadOptions(block_size=1 << 24)
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
        # one row per line (no blank line, no line with two objects): row r is line r + 1
        if table is not None and table.num_rows == lines:
            return table, lambda row: f"line {row + 1}"
    return _read_jsonl_lines(path, data, family)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"key {twice!r} appears twice")
    return dict(pairs)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _read_jsonl_lines(path: Path, data: bytes, family: str) -> tuple[pa.Table, Locate]:
    """Parse line by line, checking each value's JSON type; returns typed columns."""
    fields = FIELDS[family]
    rows: list[dict[str, Any]] = []
    line_numbers: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue

        def fail(message: str, number: int = number) -> NoReturn:
            raise PredictionError(message, path, f"line {number}")

        try:
            row = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
        except (ValueError, UnicodeDecodeError) as error:
            fail(f"not valid JSON: {error}")
        if not isinstance(row, dict):
            fail(f"expected a JSON object, got {type(row).__name__}")
        for key, value in row.items():
            if value is None:
                continue
            if key == "item_id":
                if not isinstance(value, str):
                    fail(f"item_id must be a string, got {json.dumps(value)}")
            elif key not in fields:
                fail(_unknown_field_message(key, family))
            else:
                problem = _json_type_problem(family, key, value)
                if problem:
                    fail(problem)
        rows.append(row)
        line_numbers.append(number)
    if not rows:
        raise PredictionError("no predictions (the file is empty)", path)
    columns: dict[str, pa.Array] = {
        "item_id": pa.array([r.get("item_id") for r in rows], pa.string())
    }
    for key in fields:
        if any(key in r for r in rows):
            columns[key] = _typed_column(family, key, [r.get(key) for r in rows])
    return pa.table(columns), lambda row: f"line {line_numbers[row]}"


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
        return None if ok else f"choice must be an integer option index, got {json.dumps(value)}"
    return None if _is_number(value) else f"{key} must be a number, got {json.dumps(value)}"


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
        f"unknown field {key!r}: a {family} prediction has item_id and exactly one of "
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


def _check(table: pa.Table, path: Path, spec: dict[str, Any], locate: Locate) -> Predictions:
    family = str(spec["family"])
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
        fail(0, f"item_id must be a string, got {ids.type}")
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
        fail(int(rows[at]), f"unknown class {names[at].as_py()!r}; classes: {shown}")
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
            fail(0, f"label must be a class name (string), got {column.type}")
        scores[every, _class_indices(column, every, classes, fail)] = 0.0
        return scores
    if field == "ranking":
        if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
            fail(0, f"ranking must be a list of class names, got {column.type}")
        lengths = np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False))
        if (lengths == 0).any():
            fail(_first(lengths == 0), "empty ranking: list at least one class")
        names = pc.list_flatten(column)
        parent = np.asarray(pc.list_parent_indices(column).to_numpy(), dtype=np.int64)
        kind = column.type.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            fail(0, f"ranking must be a list of class names, got {column.type}")
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
                fail(row, f"unknown class {name!r} in scores; classes: {shown}")
            if not _is_numeric(child.type) and valid.any():
                fail(row, f"the score of {name!r} must be a number, got {child.type}")
            values = _numbers(child) if valid.any() else np.full(n, math.nan)
            bad = valid & ~np.isfinite(values)
            if bad.any():
                fail(_first(bad), f"the score of {name!r} is not finite ({values[bad][0]})")
            scores[:, classes.index(name)] = np.where(valid, values, -np.inf)
    elif pa.types.is_map(column.type):
        offsets = np.asarray(column.offsets.to_numpy(), dtype=np.int64)
        keys = column.keys[int(offsets[0]) : int(offsets[-1])]
        items = column.items[int(offsets[0]) : int(offsets[-1])]
        parent = np.repeat(every, np.diff(offsets))
        if not _is_numeric(items.type) and len(items):
            fail(0, f"scores must map class names to numbers, got {column.type}")
        values = _numbers(items) if len(items) else np.zeros(0)
        valid = _valid(items) if len(items) else np.zeros(0, dtype=bool)
        bad = valid & ~np.isfinite(values)
        if bad.any():
            fail(int(parent[_first(bad)]), f"a score is not finite ({values[bad][0]})")
        index = _class_indices(keys, parent, classes, fail)
        _check_no_repeat(parent, index, width, "scores", fail)
        scores[parent[valid], index[valid]] = values[valid]
    else:
        fail(0, f"scores must be an object of class name -> number, got {column.type}")
    listed = np.isfinite(scores).any(axis=1)
    if not listed.all():
        fail(_first(~listed), "scores name no class: score at least one class")
    return scores


def _mcq(column: pa.Array, field: str, options: int, fail: Fail) -> npt.NDArray[np.int64]:
    n = len(column)
    if field == "choice":
        if not _is_numeric(column.type):
            fail(0, f"choice must be an integer option index, got {column.type}")
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
        fail(0, f"scores must be a list of {options} numbers, got {column.type}")
    lengths = np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False))
    wrong = lengths != options
    if wrong.any():
        at = _first(wrong)
        fail(at, f"{lengths[at]} scores given; the task has {options} options: give one each")
    flat = pc.list_flatten(column)
    if not _is_numeric(flat.type) and len(flat):
        fail(0, f"scores must be a list of {options} numbers, got {column.type}")
    values = _numbers(flat).reshape(n, options)
    bad = ~np.isfinite(values)
    if bad.any():
        at = _first(bad.any(axis=1))
        fail(at, f"score of option {_first(bad[at])} is not finite ({values[bad][0]})")
    return np.asarray(np.argmax(values, axis=1), dtype=np.int64)


def _generation(column: pa.Array, field: str, fail: Fail) -> npt.NDArray[np.float64]:
    if not _is_numeric(column.type):
        fail(0, f"{field} must be a number, got {column.type}")
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
        raise PredictionError(
            f"duplicate item_id {ids[row].as_py()!r} (first given at {locate(int(first[row]))})",
            path,
            locate(row),
        )
    found = pc.index_in(ids, value_set=items)
    known = _valid(found)
    if not known.all():
        row = _first(~known)
        raise PredictionError(
            f"unknown item_id {ids[row].as_py()!r}: not an item of {label}", path, locate(row)
        )
    position = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
    if len(ids) < len(items):
        covered = np.zeros(len(items), dtype=bool)
        covered[position] = True
        missing = np.flatnonzero(~covered)
        raise PredictionError(
            f"{len(missing)} of the {len(items)} items of {label} have no prediction "
            f"(first: {items[int(missing[0])].as_py()!r})",
            path,
        )
    order = np.empty(len(items), dtype=np.int64)
    order[position] = np.arange(len(ids), dtype=np.int64)
    return Predictions(
        path, predictions.family, predictions.field, items, predictions.values[order]
    )
