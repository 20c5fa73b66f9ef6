"""Multiple choice cannot be solved by matching the query's length to the options' lengths.

A length-only chooser sees the lengths each side of an item shows — audio and video:
the duration they show (the item's ``shown_ms`` cut), and audio the syllables heard in
it (the speaking rate times that duration); text: syllables, characters and words —
fits on train a least-squares map from the query's log lengths to the answer's,
and picks the option nearest the prediction (ties at random). On every standard-suite
MCQ pairing and the cross-modal ones of issue 13 it must stay at chance (one-sided
binomial p > 0.01) on a synthetic dataset of 24,000 cue groups whose texts follow their
durations as speech does; the same chooser shown the full durations (no cut) wins, so
the test can fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from empathynet.tasks.cuetable import CueTable, load_cue_table
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.mcq import TIMED_VIEWS, shown_lengths
from empathynet.tasks.spec import read_items, read_spec_values
from empathynet.tasks.validate import TaskValidationError, validate_task
from empathynet.testing.synthetic import write_synthetic_dataset

FloatArray = npt.NDArray[np.float64]
CUE_GROUPS = 24_000
#: (query, answer): the standard suite's MCQ pairings whose options show a length, and
#: issue 13's cross-modal ones.
PAIRINGS = (
    ("stills", "audio_blur"),
    ("audio_blur", "text"),
    ("face_video", "audio_blur"),
    ("text", "audio_blur"),
    ("stills+text", "audio_blur"),
)
_VOWELS = re.compile(r"[aeiouy]+")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lengths") / "dataset"
    write_synthetic_dataset(
        root,
        cue_groups=CUE_GROUPS,
        sources=240,
        labels_in_manifest=True,
        attributes_in_manifest=True,
        min_ms=800,
        max_ms=8000,
        speech_like_text=True,
    )
    return root


@pytest.fixture(scope="module")
def cues(dataset: Path) -> CueTable:
    return load_cue_table(dataset, ["text"])


def text_lengths(texts: list[str]) -> FloatArray:
    """Per text: syllables (vowel groups), characters, words."""
    return np.asarray(
        [(len(_VOWELS.findall(t.lower())), len(t), len(t.split())) for t in texts],
        dtype=np.float64,
    ).reshape(len(texts), 3)


def side_lengths(
    cues: CueTable, views: tuple[str, ...], rows: npt.NDArray[np.int64], shown: FloatArray | None
) -> FloatArray:
    """``(items, width, lengths)``: what ``views`` show of cue-table ``rows`` (items, width).

    Timed views show ``shown`` ms (per item), or the full duration when ``shown`` is None.
    """
    items, width = rows.shape
    parts = []
    if any(v in TIMED_VIEWS for v in views):
        full = cues.duration_ms[rows].astype(np.float64)
        parts.append((full if shown is None else np.repeat(shown[:, None], width, 1))[..., None])
    if any(v.startswith("audio") for v in views):
        # The audio also tells how many syllables it holds in what it shows: the
        # speaking rate (the sentence's syllables per ms) times the shown length.
        texts = cues.column("text").take(pa.array(rows.ravel())).to_pylist()
        syllables = text_lengths(texts)[:, 0].reshape(items, width)
        full = cues.duration_ms[rows].astype(np.float64)
        heard = syllables if shown is None else syllables * shown[:, None] / full
        parts.append(heard[..., None])
    if "text" in views:
        texts = cues.column("text").take(pa.array(rows.ravel())).to_pylist()
        parts.append(text_lengths(texts).reshape(items, width, 3))
    if not parts:
        return np.zeros((items, width, 0))
    return np.log1p(np.concatenate(parts, axis=2))


def length_chooser_correct(
    cues: CueTable, task: Path, query: tuple[str, ...], answer: tuple[str, ...], cut: bool
) -> tuple[int, int]:
    """(right, items) of the length-only chooser on the test split, fitted on train."""
    data = {}
    for split in ("train", "test"):
        items = read_items(task.parents[1], task.name, split)
        ids = cues.cue_ids()
        rows = np.asarray(pc.index_in(items.column("cue_id"), value_set=ids), dtype=np.int64)
        flat = pc.list_flatten(items.column("option_cue_ids").combine_chunks())
        options = np.asarray(pc.index_in(flat, value_set=ids), dtype=np.int64)
        options = options.reshape(len(rows), -1)
        shown = None
        if cut and "shown_ms" in items.column_names:
            shown = np.asarray(items.column("shown_ms"), dtype=np.float64)
        right = np.asarray(items.column("answer_index"), dtype=np.int64)
        data[split] = (
            side_lengths(cues, query, rows[:, None], shown)[:, 0, :],
            side_lengths(cues, answer, options, shown),
            right,
        )

    def design(query_lengths: FloatArray) -> FloatArray:
        return np.concatenate([np.ones((len(query_lengths), 1)), query_lengths], axis=1)

    q_train, o_train, a_train = data["train"]
    target = o_train[np.arange(len(a_train)), a_train]  # the answers' lengths
    coef, *_ = np.linalg.lstsq(design(q_train), target, rcond=None)
    spread = np.maximum((target - design(q_train) @ coef).std(axis=0), 1e-9)
    q_test, o_test, a_test = data["test"]
    predicted = design(q_test) @ coef
    distance = (((o_test - predicted[:, None, :]) / spread) ** 2).sum(axis=2)
    rng = np.random.default_rng(0)
    nearest = distance <= distance.min(axis=1, keepdims=True) + 1e-12
    chosen = np.argmax(np.where(nearest, rng.random(distance.shape), -1.0), axis=1)
    return int((chosen == a_test).sum()), len(a_test)


def p_above_chance(right: int, items: int, chance: float) -> float:
    from scipy.stats import binomtest

    return float(binomtest(right, items, chance, alternative="greater").pvalue)


@pytest.mark.parametrize(("query", "answer"), PAIRINGS, ids=["->".join(p) for p in PAIRINGS])
def test_a_length_only_chooser_is_at_chance(
    dataset: Path, cues: CueTable, query: str, answer: str
) -> None:
    request = TaskRequest(family="mcq", query=query, answer=answer)
    made = make_task(dataset, request, cues=cues, overwrite=True)
    assert made.items["test"] >= 1000  # enough to see a 4-point lead (p < 0.01)
    views = (request.query_views, request.answer_views)
    right, items = length_chooser_correct(cues, made.folder, *views, cut=True)
    assert p_above_chance(right, items, 0.25) > 0.01, f"{right} of {items} right"
    if query != "stills":  # the query shows a length: without the cut it gives the answer away
        right, items = length_chooser_correct(cues, made.folder, *views, cut=False)
        assert p_above_chance(right, items, 0.25) < 1e-6, f"uncut: {right} of {items} right"
    spec = read_spec_values(dataset, made.name)
    assert "shortest" in spec["constraints"]["length"]["rule"]
    assert spec["constraints"]["length"]["items_dropped"] == 0


def test_the_cut_is_three_quarters_of_the_shortest_option() -> None:
    durations = np.array([[4000, 1001, 2500, 9000], [3, 8, 9, 10], [1, 5, 5, 5]])
    assert shown_lengths(durations).tolist() == [750, 2, 1]


def test_tasks_without_timed_views_show_no_cut_and_options_without_length(
    dataset: Path, cues: CueTable
) -> None:
    made = make_task(dataset, TaskRequest(family="mcq", query="text", answer="stills"), cues=cues)
    assert "shown_ms" not in read_items(dataset, made.name, "test").column_names
    assert (
        "no audio or video" in read_spec_values(dataset, made.name)["constraints"]["length"]["rule"]
    )


def test_validate_checks_the_cut(dataset: Path, cues: CueTable) -> None:
    request = TaskRequest(family="mcq", query="face_video", answer="audio_blur", name="cut")
    made = make_task(dataset, request, cues=cues, overwrite=True)
    report = validate_task(dataset, "cut", check_media=False)
    assert any("shown_ms" in line for line in report.checks)
    path = made.folder / "test.parquet"
    items = read_items(dataset, "cut", "test")
    shown = items.column("shown_ms").to_numpy().astype(np.int64)
    shown[0] += 1
    forged = items.set_column(
        items.schema.get_field_index("shown_ms"), "shown_ms", pa.array(shown, pa.int64())
    )
    import pyarrow.parquet as pq

    from empathynet.store.hashing import file_sha256
    from empathynet.tasks.spec import spec_bytes

    pq.write_table(forged, path)
    spec = read_spec_values(dataset, "cut")
    spec["files"]["test"]["sha256"] = file_sha256(path)
    (made.folder / "spec.yaml").write_bytes(spec_bytes(spec))
    with pytest.raises(TaskValidationError, match="shown_ms"):
        validate_task(dataset, "cut", check_media=False)
