"""The length-match audit at scale (issue 13): on 24,000 synthetic cue groups whose
texts and syllable nuclei follow their durations and speaking rates as speech does,
every MCQ task of the standard suite and the cross-modal pairings pass it; the same
items without the length cut fail it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from empathynet.errors import ConfigError
from empathynet.evaluate.audits import ShortcutResult, audit_task
from empathynet.evaluate.lengths import NUCLEI_CACHE, NucleiCounts
from empathynet.tasks.cuetable import CueTable, load_cue_table
from empathynet.tasks.make import STANDARD_SUITE, TaskRequest, make_suite, make_task
from empathynet.tasks.spec import TaskLayout
from empathynet.tasks.views import text_syllables
from empathynet.testing.synthetic import write_speech_nuclei, write_synthetic_dataset

CUE_GROUPS = 24_000
#: The audits that read only lengths and codes (option-only reads the audio itself).
AUDITS = ("length-match", "duration-only", "identity", "position-only")
CROSS_MODAL = (("face_video", "audio_blur"), ("audio_blur", "text"), ("text", "audio_blur"))
STANDARD_MCQ = tuple(name for name, family, _, _ in STANDARD_SUITE if family == "mcq")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("length-scale") / "ds"
    write_synthetic_dataset(
        root,
        cue_groups=CUE_GROUPS,
        sources=300,
        labels_in_manifest=True,
        attributes_in_manifest=True,
        min_ms=800,
        max_ms=8000,
        speech_like_text=True,
    )
    assert write_speech_nuclei(root) == CUE_GROUPS
    made = make_suite(root)
    assert not made.skipped
    for query, answer in CROSS_MODAL:
        request = TaskRequest(family="mcq", query=query, answer=answer, name=f"{query}-{answer}")
        make_task(root, request)
    return root


@pytest.fixture(scope="module")
def cues(dataset: Path) -> CueTable:
    return load_cue_table(dataset)


def audits(root: Path, task: str, cues: CueTable) -> dict[str, ShortcutResult]:
    report = audit_task(root, task, write=False, cues=cues, only=AUDITS)
    return {s.name: s for s in report.shortcuts}


def test_the_stand_in_nuclei_follow_the_text(dataset: Path, cues: CueTable) -> None:
    """The nuclei the audits read are speech-like: about 0.7-0.95 per text syllable, so
    an uncut audio tells its text's length."""
    known = NucleiCounts(dataset).known
    texts = cues.column("text").to_pylist()
    paths = cues.column("audio_blur_path").to_pylist()
    ratios = [
        len(known[path][2]) / text_syllables(text)
        for text, path in zip(texts[:2000], paths[:2000], strict=True)
        if text_syllables(text) >= 10
    ]
    assert len(ratios) > 1000
    mean = sum(ratios) / len(ratios)
    assert 0.7 < mean < 0.95
    assert (dataset / NUCLEI_CACHE).exists()


@pytest.mark.parametrize(
    "task", [*STANDARD_MCQ, *(f"{query}-{answer}" for query, answer in CROSS_MODAL)]
)
def test_every_standard_and_cross_modal_pairing_passes(
    dataset: Path, cues: CueTable, task: str
) -> None:
    found = audits(dataset, task, cues)
    assert set(found) == set(AUDITS)
    for name, result in found.items():
        if name == "length-match" and task == "mcq-text-to-stills":
            # stills show no length: the audit says so and does not run
            assert result.passed is None and "show no length" in result.detail
            continue
        assert result.items >= 1000, (task, name)
        assert result.passed is True, (task, name, result.accuracy, result.p_value)


def test_the_same_items_without_the_length_cut_fail(dataset: Path, cues: CueTable) -> None:
    """The video query lasts exactly as long as its answer: uncut, a ridge on the lengths
    picks it almost always."""
    uncut = TaskLayout(dataset, "uncut")
    shutil.copytree(TaskLayout(dataset, "face_video-audio_blur").folder, uncut.folder)
    for split in ("train", "validation", "test"):
        table = pq.read_table(uncut.items(split))
        pq.write_table(table.drop_columns(["shown_ms"]), uncut.items(split))
    length = audits(dataset, "uncut", cues)["length-match"]
    assert length.items >= 1000
    assert length.passed is False and length.accuracy is not None and length.accuracy > 0.9


def test_only_names_known_audits_and_never_writes_a_partial_report(dataset: Path) -> None:
    with pytest.raises(ConfigError, match="no shortcut audit lenght"):
        audit_task(dataset, "mcq-audio-to-text", write=False, only=("lenght",))
    with pytest.raises(ConfigError, match="not written"):
        audit_task(dataset, "mcq-audio-to-text", only=("length-match",))
