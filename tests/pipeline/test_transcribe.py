"""Sources without subtitles: sentences from speech recognition, transcripts without times
aligned to the speech, and the subtitle timing check."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pysubs2
import pytest

from conftest import shared_path
from empathynet.blur.asr import asr_available
from empathynet.blur.wer import word_error_rate
from empathynet.config import EmpathyNetConfig, TranscribeConfig, from_mapping
from empathynet.data.models import Utterance
from empathynet.errors import ConfigError
from empathynet.pipeline.build import build_dataset, config_hash
from empathynet.pipeline.transcribe import (
    Transcript,
    Word,
    align_sentences,
    check_timing,
    sentences_from_words,
    shifted,
)

needs_asr = pytest.mark.skipif(
    not asr_available(), reason="speech recognition is not installed (extra asr)"
)


def _words(*items: tuple[int, int, str, float]) -> Transcript:
    return Transcript("test-model", "en", tuple(Word(*item) for item in items))


HEARD = _words(
    (0, 300, "Hello", 0.9),
    (300, 600, "there.", 0.95),
    (700, 900, "How", 0.9),
    (900, 1100, "are", 0.9),
    (1100, 1400, "you", 0.9),
    (2600, 2900, "fine", 0.2),  # 1.2 s pause before: a new sentence without punctuation
    (2900, 3100, "thanks", 0.3),
)


def test_sentences_end_at_punctuation_and_pauses() -> None:
    found = sentences_from_words(HEARD, "src", TranscribeConfig())
    assert [(u.start_ms, u.end_ms, u.text) for u in found] == [
        (0, 600, "Hello there."),
        (700, 1400, "How are you"),
        (2600, 3100, "fine thanks"),
    ]
    assert {u.transcript_source for u in found} == {"asr"}
    assert found[0].transcript_model == "test-model"
    assert found[0].transcript_confidence == pytest.approx(0.925)
    assert [u.low_confidence for u in found] == [False, False, True]  # mean 0.25 < 0.5


def test_a_transcript_without_times_is_placed_on_the_speech() -> None:
    lines = ["Hello, there!", "How are you?", "A sentence nobody said at all."]
    aligned = align_sentences(lines, HEARD, "src", TranscribeConfig())
    assert [(u.start_ms, u.end_ms, u.text) for u in aligned.utterances] == [
        (0, 600, "Hello, there!"),
        (700, 1400, "How are you?"),
    ]
    assert {u.transcript_source for u in aligned.utterances} == {"transcript"}
    assert aligned.unaligned == ("A sentence nobody said at all.",)


def _subtitles() -> list[Utterance]:
    return [
        Utterance(0, 600, "Hello there."),
        Utterance(700, 1400, "How are you"),
        Utterance(2600, 3100, "fine thanks"),
    ]


def test_timing_check_finds_a_constant_offset_and_shifts_it_back() -> None:
    late = shifted(_subtitles(), 2000)
    check = check_timing(late, HEARD)
    assert check is not None
    assert (check.offset_ms, check.method, check.sentences) == (-2000, "sentences", 3)
    assert check.clear
    assert [u.start_ms for u in shifted(late, check.offset_ms)] == [0, 700, 2600]
    in_step = check_timing(_subtitles(), HEARD)
    assert in_step is not None and in_step.offset_ms == 0 and not in_step.clear


def test_timing_check_without_matching_words_overlaps_the_spans() -> None:
    other_language = [
        dataclasses.replace(u, text=text)
        for u, text in zip(shifted(_subtitles(), -1500), ("Hallo", "Wie geht", "Gut"), strict=True)
    ]
    check = check_timing(other_language, HEARD)
    assert check is not None and check.method == "speech"
    assert abs(check.offset_ms - 1500) <= 100


def test_the_transcribe_section_keeps_old_hashes_at_its_defaults() -> None:
    default = EmpathyNetConfig()
    assert config_hash(default) == config_hash(from_mapping(EmpathyNetConfig, {}))
    never = from_mapping(EmpathyNetConfig, {"transcribe": {"mode": "never"}})
    assert config_hash(never) != config_hash(default)
    with pytest.raises(ConfigError, match=r"transcribe\.mode must be one of"):
        from_mapping(EmpathyNetConfig, {"transcribe": {"mode": "sometimes"}})


@needs_asr
def test_shifted_subtitles_are_found_and_corrected(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    from empathynet.demo.talks import generate_demo_talks

    (clip,) = generate_demo_talks(tmp_path / "talks", count=1, per_clip=8, seed=0)
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(clip.video_path, folder / "talk.mp4")
    subs = pysubs2.load(str(clip.subtitle_path))
    subs.shift(s=2.0)  # the subtitles come 2 s late
    subs.save(str(folder / "talk.srt"))
    options = from_mapping(
        EmpathyNetConfig, {"transcribe": {"check_timing": True, "correct_offset": True}}
    )
    lines: list[str] = []
    summary = build_dataset([folder], tmp_path / "ds", options, progress=False, log=lines.append)
    ((offset, corrected),) = summary.timing.values()
    assert abs(offset - (-2000)) <= 40 and corrected  # 2.0 s, within a frame at 25 fps
    assert any("subtitle timing -19" in line or "subtitle timing -20" in line for line in lines)
    rows = pq.read_table(tmp_path / "ds" / "cues").to_pylist()
    # the sentences are back where the subtitles had them before the shift, within a frame
    truth = sorted(sentence.start_ms for sentence in clip.sentences)
    starts = sorted(r["start_ms"] for r in rows)
    assert all(abs(a - b) <= 40 for a, b in zip(starts, truth, strict=True))
    assert sum(r["status"] == "accepted" for r in rows) >= 6


@needs_asr
def test_real_videos_without_subtitles_give_heard_sentences(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("videoretalking_face1.mp4", "videoretalking_face5.mp4"):
        shutil.copy(shared_path("video", "talking_head", name), folder / name)
    summary = build_dataset([folder], tmp_path / "ds", progress=False, log=lambda _: None)
    assert summary.sources_failed == 0
    rows = pq.read_table(tmp_path / "ds" / "cues").to_pylist()
    accepted = [r for r in rows if r["status"] == "accepted"]
    assert len(accepted) >= 2
    assert all(r["transcript_source"] == "asr" for r in rows)
    assert all(r["transcript_model"] for r in rows)
    text = " ".join(r["text"] for r in rows).lower()
    assert "asking for help" in text  # what the person in face1 says
    sources = pq.read_table(tmp_path / "ds" / "sources.parquet").to_pylist()
    assert {s["subtitle_origin"] for s in sources} == {"asr"}
    assert {s["language"] for s in sources} == {"en"}


GRID = {
    "lipnet_grid_bbaf2n.mpg": "bin blue at f two now",
    "lipnet_grid_lbbc2a.mpg": "lay blue by c two again",
    "lipnet_grid_swiz3n.mpg": "set white in z three now",
}


@needs_asr
def test_heard_sentences_match_what_was_said(tmp_path: Path) -> None:
    """GRID's sentences are known: transcribe them (subtitles ignored) and score the words."""
    pytest.importorskip("mediapipe")
    folder = tmp_path / "in"
    folder.mkdir()
    for name in GRID:
        shutil.copy(shared_path("video", "talking_head", name), folder / name)
    options = from_mapping(EmpathyNetConfig, {"transcribe": {"mode": "always"}})
    build_dataset([folder], tmp_path / "ds", options, progress=False, log=lambda _: None)
    rows = pq.read_table(tmp_path / "ds" / "cues").to_pylist()
    sources = {
        s["source_id"]: Path(s["path"]).name
        for s in pq.read_table(tmp_path / "ds" / "sources.parquet").to_pylist()
    }
    heard: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r["start_ms"]):
        name = sources[row["source_id"]]
        heard[name] = f"{heard.get(name, '')} {row['text']}".strip()
    rates = [word_error_rate(GRID[name], heard.get(name, "")) for name in GRID]
    assert all(rate is not None for rate in rates)
    mean = sum(r for r in rates if r is not None) / len(rates)
    # GRID's letters and "bin blue" are hard for the tiny model: most words still match
    assert mean <= 0.5, (heard, rates)
