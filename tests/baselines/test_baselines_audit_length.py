"""The length-match audit: a query that tells how long its answer is leaks, across
modalities (issue 13); a query whose length says nothing about the answer does not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathynet.evaluate.audits import ShortcutResult, audit_task
from empathynet.evaluate.lengths import NUCLEI_CACHE, NucleiCounts, text_lengths, text_syllables
from empathynet.tasks.cuetable import load_cue_table
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.tasks.spec import TaskLayout
from empathynet.testing.synthetic import write_synthetic_dataset

SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 cue groups with media (tone WAVs, clips); 40 % of them in the test split.

    Synthetic sentences ("synthetic sentence 17.") say nothing of their duration.
    """
    root = tmp_path_factory.mktemp("length") / "ds"
    write_synthetic_dataset(
        root,
        cue_groups=600,
        sources=20,
        speakers_per_source=2,
        labels_in_manifest=True,
        attributes_in_manifest=True,
        media=True,
        min_ms=800,
        max_ms=3000,
    )
    common = {"family": "mcq", "answer": "audio_blur", "split_ratios": (0.5, 0.1, 0.4)}
    # The standard rules: distractors in a duration window around the answer, so they
    # last about as long as it, but only the answer lasts exactly as long as the query.
    make_task(root, TaskRequest(name="video-to-audio", query="face_video", **common))
    make_task(root, TaskRequest(name="text-to-audio", query="text", **common))
    # The same items without the length cut (``shown_ms``), as tasks were made before it.
    uncut = TaskLayout(root, "video-to-audio-uncut")
    shutil.copytree(TaskLayout(root, "video-to-audio").folder, uncut.folder)
    for split in SPLITS:
        table = pq.read_table(uncut.items(split))
        pq.write_table(table.drop_columns(["shown_ms"]), uncut.items(split))
    return root


def shortcuts(root: Path, task: str) -> dict[str, ShortcutResult]:
    return {s.name: s for s in audit_task(root, task, write=False).shortcuts}


def test_a_video_query_as_long_as_its_answer_audio_fails_length_match(dataset: Path) -> None:
    report = audit_task(dataset, "video-to-audio-uncut", write=False)
    length = next(s for s in report.shortcuts if s.name == "length-match")
    assert length.items >= 100
    assert length.passed is False and length.p_value is not None and length.p_value <= 0.01
    assert length.accuracy is not None and length.accuracy > 0.9
    # The other shortcuts see no query: the standard rules keep them at chance.
    assert report.failures == ["length-match"]
    assert "query's lengths (duration)" in length.sees
    assert "audio_blur syllable nuclei" in length.sees


def test_the_length_cut_of_standard_tasks_passes(dataset: Path) -> None:
    """Made by the standard rules, every audio and video view shows the same ``shown_ms``:
    the audit, which measures what an item shows, is at chance."""
    report = audit_task(dataset, "video-to-audio", write=False)
    length = next(s for s in report.shortcuts if s.name == "length-match")
    assert length.items >= 100
    assert length.passed is True and length.p_value is not None and length.p_value > 0.01
    assert report.failures == []


def test_a_text_query_whose_length_says_nothing_passes(dataset: Path) -> None:
    length = shortcuts(dataset, "text-to-audio")["length-match"]
    assert length.items >= 100
    assert length.passed is True and length.p_value is not None and length.p_value > 0.01
    assert "text syllables, text characters, text words" in length.sees


def test_a_text_as_long_as_the_audio_fails_across_modalities(dataset: Path) -> None:
    """Query texts with one word per ~250 ms of the cue, options uncut: the model must
    learn on train how words relate to the options' durations."""
    cues = load_cue_table(dataset)
    duration = dict(zip(cues.cue_ids().to_pylist(), cues.duration_ms.tolist(), strict=True))
    source = TaskLayout(dataset, "text-to-audio")
    target = TaskLayout(dataset, "wordy-text-to-audio")
    shutil.copytree(source.folder, target.folder)
    for split in SPLITS:
        table = pq.read_table(target.items(split))
        if "shown_ms" in table.column_names:  # uncut, as tasks were made before the cut
            table = table.drop_columns(["shown_ms"])
        rows = table.to_pylist()
        for row in rows:
            row["query_text"] = " ".join(["la"] * (duration[row["cue_id"]] // 250))
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), target.items(split))
    length = shortcuts(dataset, "wordy-text-to-audio")["length-match"]
    assert length.passed is False and length.p_value is not None and length.p_value <= 0.01
    assert length.accuracy is not None and length.accuracy > 0.5


def test_stills_answers_show_no_length(dataset: Path) -> None:
    make_task(dataset, TaskRequest(family="mcq", query="text", answer="stills", name="to-stills"))
    length = shortcuts(dataset, "to-stills")["length-match"]
    assert length.passed is None and "show no length" in length.detail


def test_nuclei_counts_are_cached_per_file(dataset: Path) -> None:
    relative = pq.read_table(TaskLayout(dataset, "video-to-audio").items("test"))[
        "option_audio_blur"
    ][0][0].as_py()
    assert (dataset / NUCLEI_CACHE).exists()  # written by the audits above
    cached = NucleiCounts(dataset)
    assert relative in cached.known
    count = len(cached.known[relative][2])
    assert cached.count(relative) == count and not cached.changed
    (dataset / relative).touch()  # a new modification time: counted again
    assert cached.count(relative) == count and cached.changed
    assert cached.count(relative, shown_ms=0) == 0


def test_text_lengths() -> None:
    assert text_syllables("banana") == 3
    assert text_syllables("Rhythm, 42!") == 2  # a word without vowels is one syllable
    assert text_lengths("  two  words ") == (2, 8, 2)
    assert text_lengths(None) == (0, 0, 0)
