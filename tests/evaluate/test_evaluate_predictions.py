"""Prediction files: every format is read the same way; every problem is one clear line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.errors import EmpathyNetError
from empathynet.evaluate.predictions import PredictionError, load_predictions

CLASSES = ["anger", "fear", "joy", "neutral", "sadness", "surprise"]
CLS: dict[str, Any] = {"family": "classification", "labels": {"classes": CLASSES}}
MCQ: dict[str, Any] = {"family": "mcq", "constraints": {"options": 4}}
GEN: dict[str, Any] = {"family": "generation"}
IDS = ["a", "b", "c"]


def jsonl(tmp_path: Path, rows: list[Any], name: str = "p.jsonl") -> Path:
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def error(path: Path, spec: dict[str, Any], ids: list[str] | None = IDS) -> str:
    with pytest.raises(PredictionError) as caught:
        load_predictions(path, spec, item_ids=ids)
    text = str(caught.value)
    assert "\n" not in text and str(path) in text
    assert isinstance(caught.value, EmpathyNetError)
    return text


def test_classification_fields_become_score_matrices(tmp_path: Path) -> None:
    labels = load_predictions(
        jsonl(
            tmp_path,
            [{"item_id": i, "label": c} for i, c in zip(IDS, ["joy", "fear", "joy"], strict=True)],
        ),
        CLS,
        item_ids=["c", "a", "b"],  # returned in the items' order
    )
    assert labels.field == "label" and labels.item_ids.to_pylist() == ["c", "a", "b"]
    assert labels.values.argmax(axis=1).tolist() == [2, 2, 1]
    assert np.isinf(labels.values).sum() == 3 * (len(CLASSES) - 1)
    ranking = load_predictions(
        jsonl(tmp_path, [{"item_id": "a", "ranking": ["sadness", "anger", "joy"]}]), CLS
    )
    row = ranking.values[0]
    assert row[4] == 0 and row[0] == -1 and row[2] == -2 and np.isinf(row[[1, 3, 5]]).all()
    scores = load_predictions(
        jsonl(
            tmp_path,
            [
                {"item_id": "a", "scores": {"joy": 2, "fear": 0.5}},
                {"item_id": "b", "scores": {"anger": -1.5, "joy": None}},
            ],
        ),
        CLS,
    )
    assert scores.values[0, 2] == 2 and scores.values[0, 1] == 0.5
    assert scores.values[1, 0] == -1.5 and np.isinf(scores.values[1, 1:]).all()


def test_jsonl_and_parquet_agree(tmp_path: Path) -> None:
    rows = [{"item_id": i, "scores": [0.1 * k, 0.3, 0.3, 0.0]} for k, i in enumerate(IDS)]
    from_json = load_predictions(jsonl(tmp_path, rows), MCQ, item_ids=IDS)
    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    from_parquet = load_predictions(path, MCQ, item_ids=IDS)
    # ties go to the lowest option: 0.3 at options 1 and 2 -> 1; row 3: 0.2 < 0.3 -> 1
    assert from_json.values.tolist() == from_parquet.values.tolist() == [1, 1, 1]
    # a Parquet map column works like a JSON object
    table = pa.table(
        {
            "item_id": IDS,
            "scores": pa.array(
                [[("joy", 1.0)], [("fear", 2.0), ("joy", 1.0)], [("anger", 0.0)]],
                pa.map_(pa.string(), pa.float64()),
            ),
        }
    )
    pq.write_table(table, path)
    mapped = load_predictions(path, CLS, item_ids=IDS)
    assert mapped.values.argmax(axis=1).tolist() == [2, 1, 0]


def test_mcq_choice_and_generation_fields(tmp_path: Path) -> None:
    choice = load_predictions(
        jsonl(tmp_path, [{"item_id": "a", "choice": 3}, {"item_id": "b", "choice": 0.0}]), MCQ
    )
    assert choice.values.tolist() == [3, 0]
    logprob = load_predictions(
        jsonl(tmp_path, [{"item_id": "a", "logprob": -2.5}, {"item_id": "b", "logprob": 0}]), GEN
    )
    assert logprob.values.tolist() == [2.5, 0.0] and logprob.field == "logprob"
    nll = load_predictions(jsonl(tmp_path, [{"item_id": "a", "nll_nats": 7}]), GEN)
    assert nll.values.tolist() == [7.0]


def test_blank_lines_are_skipped_and_lines_counted(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path, ['{"item_id": "a", "choice": 1}', "", "  ", '{"item_id": "b", "choice": 9}']
    )
    assert "line 4: choice 9 is not an option index 0..3" in error(path, MCQ, None)
    ok = jsonl(tmp_path, ['{"item_id": "a", "choice": 1}', "", '{"item_id": "b", "choice": 2}'])
    assert load_predictions(ok, MCQ).values.tolist() == [1, 2]


CASES: list[tuple[dict[str, Any], list[Any], list[str] | None, str]] = [
    (
        MCQ,
        [{"item_id": "a", "choice": 1}, {"item_id": "b", "choice": 2}],
        IDS,
        "1 of the 3 items of the scored split have no prediction (first: 'c')",
    ),
    (MCQ, [{"item_id": i, "choice": 1} for i in [*IDS, "zz"]], IDS, "line 4: unknown item_id 'zz'"),
    (
        MCQ,
        [{"item_id": i, "choice": 1} for i in ["a", "b", "a"]],
        IDS,
        "line 3: duplicate item_id 'a' (first given at line 1)",
    ),
    (
        MCQ,
        [{"item_id": "a", "scores": [0, 1, 2]}],
        None,
        "line 1: 3 scores given; the task has 4 options",
    ),
    (
        MCQ,
        ['{"item_id": "a", "scores": [0, 1, 2, 3]}', '{"item_id": "b", "scores": [0, NaN, 2, 3]}'],
        None,
        "line 2: score of option 1 is not finite (nan)",
    ),
    (
        MCQ,
        [{"item_id": "a", "choice": 1.5}],
        None,
        "line 1: choice must be an integer option index, got 1.5",
    ),
    (
        MCQ,
        [{"item_id": "a", "choice": 1}, {"item_id": "b", "choice": True}],
        None,
        "line 2: choice must be an integer option index, got true",
    ),
    (
        MCQ,
        [{"item_id": "a", "choice": 1, "scores": [0, 0, 0, 1]}],
        None,
        "line 1: gives both choice and scores",
    ),
    (
        MCQ,
        [{"item_id": "a", "choice": 1}, {"item_id": "b", "scores": [0, 0, 0, 1]}],
        None,
        "line 2: gives scores but the first prediction gives choice",
    ),
    (MCQ, [{"item_id": "a"}], None, "line 1: no prediction: give one of choice, scores"),
    (MCQ, [{"item_id": "a", "choice": 1, "note": "x"}], None, "line 1: unknown field 'note'"),
    (MCQ, [{"choice": 1}], None, "line 1: no item_id"),
    (
        MCQ,
        [{"item_id": "a", "choice": 1}, '{"item_id": "b", "choice": 1'],
        None,
        "line 2: not valid JSON",
    ),
    (
        MCQ,
        [{"item_id": "a", "choice": 1}, [1, 2]],
        None,
        "line 2: expected a JSON object, got list",
    ),
    (
        MCQ,
        ['{"item_id": "a", "choice": 1, "choice": 2}'],
        None,
        "line 1: not valid JSON: key 'choice' appears twice",
    ),
    (
        CLS,
        [{"item_id": "a", "label": "joy"}, {"item_id": "b", "label": "glee"}],
        None,
        "line 2: unknown class 'glee'; classes: anger, fear",
    ),
    (
        CLS,
        [{"item_id": "a", "ranking": ["joy", "fear", "joy"]}],
        None,
        "line 1: ranking names a class twice",
    ),
    (
        CLS,
        [{"item_id": "a", "ranking": ["joy"]}, {"item_id": "b", "ranking": []}],
        None,
        "line 2: empty ranking",
    ),
    (
        CLS,
        [{"item_id": "a", "scores": {"joy": 1}}, {"item_id": "b", "scores": {"glee": 1}}],
        None,
        "line 2: unknown class 'glee' in scores",
    ),
    (
        CLS,
        ['{"item_id": "a", "scores": {"joy": Infinity}}'],
        None,
        "line 1: the score of 'joy' is not finite (inf)",
    ),
    (CLS, [{"item_id": "a", "scores": {}}], None, "line 1: scores name no class"),
    (CLS, [{"item_id": "a", "label": 3}], None, "line 1: label must be a class name"),
    (GEN, [{"item_id": "a", "nll_nats": -1}], None, "line 1: nll_nats must be >= 0"),
    (GEN, [{"item_id": "a", "logprob": 0.5}], None, "line 1: logprob must be <= 0"),
    (GEN, [{"item_id": "a", "nll_nats": "3"}], None, "line 1: nll_nats must be a number"),
    (GEN, [], None, "no predictions (the file is empty)"),
]


@pytest.mark.parametrize(("spec", "rows", "ids", "expected"), CASES)
def test_strict_errors_name_file_and_line(
    tmp_path: Path, spec: dict[str, Any], rows: list[Any], ids: list[str] | None, expected: str
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    assert expected in error(path, spec, ids)


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"item_id": IDS, "nll_nats": [1.0, math.nan, 2.0]}), path)
    assert f"{path}, row 2: nll_nats is not finite (nan)" in error(path, GEN)
    pq.write_table(pa.table({"item_id": ["a", None], "choice": [1, 2]}), path)
    assert "row 2: no item_id" in error(path, MCQ, None)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    assert "unknown prediction format '.csv'" in error(tmp_path / "p.csv", MCQ)
    assert "no such prediction file" in error(tmp_path / "absent.jsonl", MCQ)


def test_clean_jsonl_takes_the_fast_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from empathynet.evaluate import predictions

    def slow(*args: object) -> None:
        raise AssertionError("line-by-line reader used for a clean file")

    monkeypatch.setattr(predictions, "_read_jsonl_lines", slow)
    path = jsonl(tmp_path, [{"item_id": i, "scores": [0, 1, 0, 0]} for i in IDS])
    assert load_predictions(path, MCQ, item_ids=IDS).values.tolist() == [1, 1, 1]


# --- hostile files (issue 12): bounded lines, bounded nesting, short errors, streaming --


def test_deep_nesting_is_one_short_error_not_a_crash(tmp_path: Path) -> None:
    """20,000 nested brackets crashed the JSON parsers (segfault, rc 139): the nesting is
    refused before any parser sees the line. Run in a subprocess to catch a crash."""
    path = tmp_path / "deep.jsonl"
    deep = '{"item_id": "b", "scores": ' + "[" * 20_000 + "]" * 20_000 + "}"
    path.write_text('{"item_id": "a", "choice": 1}\n' + deep + "\n")
    script = (
        "import sys\n"
        "from empathynet.evaluate.predictions import PredictionError, load_predictions\n"
        "try:\n"
        "    load_predictions(sys.argv[1], {'family': 'mcq', 'constraints': {'options': 4}})\n"
        "except PredictionError as error:\n"
        "    print(error)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-500:]
    assert f"{path}, line 2: JSON nested deeper than 32 levels" in run.stdout
    # 5,000 deep: the error is one short line, not the 60 KB type of the nested lists
    path.write_text('{"item_id": "a", "scores": ' + "[" * 5000 + "]" * 5000 + "}\n")
    text = error(path, MCQ, None)
    assert "line 1: JSON nested deeper than 32 levels" in text and len(text) < 300
    # brackets inside strings are not nesting; 32 levels of lists is still a list
    path.write_text(json.dumps({"item_id": "[" * 100, "choice": 1}) + "\n")
    assert "unknown item_id" in error(path, MCQ, ["a"])
    path.write_text('{"item_id": "a", "scores": ' + "[" * 31 + "]" * 31 + "}\n")
    assert "nested" not in error(path, MCQ, None)


def test_huge_line_and_long_values_give_short_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"item_id": "a", "label": "j" * 2_000_000}) + "\n")
    text = error(path, CLS, None)
    assert "line 1: line longer than 1,048,576 bytes" in text and len(text) < 300
    long = "x" * 100_000
    for rows, expected in [
        ([{"item_id": "a", "label": long}], "line 1: unknown class 'xxx"),
        ([{"item_id": "a", "label": "joy", long: 1}], "line 1: unknown field 'xxx"),
        ([{"item_id": long, "label": "joy"}], "line 1: unknown item_id 'xxx"),
        ([{"item_id": "a", "scores": {long: 1}}], "line 1: unknown class 'xxx"),
        ([{"item_id": "a", "label": [long]}], "line 1: label must be a class name"),
        ([f'{{"item_id": "a", "label": "joy", "{long}": 1, "{long}": 2}}'], "appears twice"),
    ]:
        path = jsonl(tmp_path, rows)
        text = error(path, CLS, ["a"])
        assert expected in text and len(text) < 300 + len(str(path)), text[:400]
    nested = pa.table({"item_id": ["a"], "choice": [[[[["1"]]]]]})
    pq.write_table(nested, tmp_path / "p.parquet")
    assert len(error(tmp_path / "p.parquet", MCQ, None)) < 300


def test_jsonl_is_streamed_not_read_whole(tmp_path: Path) -> None:
    """A 200 MB file (sparse: written in no time) after a first good line: the reader
    stops 1 MB into the second line, never holding the file (it held all of it)."""
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:
        handle.write(b'{"item_id": "a", "choice": 1}\n')
        handle.truncate(200 * 1024 * 1024)
    tracemalloc.start()
    try:
        text = error(path, MCQ, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "line 2: line longer than 1,048,576 bytes" in text
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a 200 MiB file"


def test_chunks_join_into_one_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read in chunks of a few lines: types that differ between chunks (int / float,
    score objects naming other classes) join, and blank lines keep line numbers right."""
    from empathynet.evaluate import predictions

    monkeypatch.setattr(predictions, "JSONL_BATCH_BYTES", 40)
    rows = [
        '{"item_id": "a", "scores": {"joy": 2}}',
        "",
        '{"item_id": "b", "scores": {"fear": 0.5, "joy": null}}',
        "   ",
        "",
        '{"item_id": "c", "scores": {"anger": -1}}',
    ]
    scores = load_predictions(jsonl(tmp_path, rows), CLS, item_ids=IDS).values
    assert scores.argmax(axis=1).tolist() == [2, 1, 0] and scores[1, 1] == 0.5
    choices = [{"item_id": i, "choice": c} for i, c in zip(IDS, [1, 2.0, 3], strict=True)]
    assert load_predictions(jsonl(tmp_path, choices), MCQ).values.tolist() == [1, 2, 3]
    bad = [*rows[:4], '{"item_id": "c", "scores": {"glee": 1}}']
    assert "line 5: unknown class 'glee'" in error(jsonl(tmp_path, bad), CLS, None)
    late = [*rows, "", '{"item_id": "a", "scores": {"joy": 1}}']
    assert "line 8: duplicate item_id 'a' (first given at line 1)" in error(
        jsonl(tmp_path, late), CLS, IDS
    )


def test_parquet_is_read_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from empathynet.evaluate import predictions

    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole Parquet file was read at once")

    monkeypatch.setattr(pq, "read_table", whole)
    monkeypatch.setattr(predictions, "PARQUET_BATCH_ROWS", 2)
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"item_id": IDS, "choice": [3, 0, 1]}), path, row_group_size=1)
    assert load_predictions(path, MCQ, item_ids=IDS).values.tolist() == [3, 0, 1]
    pq.write_table(pa.table({"item_id": IDS, "choice": [3, 0, 7]}), path, row_group_size=1)
    assert "row 3: choice 7 is not an option index" in error(path, MCQ, None)
