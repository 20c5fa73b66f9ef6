"""Prediction files: every format is read the same way; every problem is one clear line."""

from __future__ import annotations

import json
import math
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
