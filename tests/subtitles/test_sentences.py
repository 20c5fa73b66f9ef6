"""Events -> whole-sentence utterances: dialogue split, merging, sound-only events.

The real-file tests at the end use expectations worked out by reading the files by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from empathynet.config import SubtitleConfig
from empathynet.data.models import Utterance
from empathynet.subtitles.events import SubtitleEvent, SubtitleReport
from empathynet.subtitles.fix import fix_timing
from empathynet.subtitles.load import load_subtitles
from empathynet.subtitles.sentences import build_utterances, continues_sentence

CONFIG = SubtitleConfig()


def ev(index: int, start_ms: int, end_ms: int, text: str, name: str = "") -> SubtitleEvent:
    return SubtitleEvent(index, start_ms, end_ms, text, name=name)


def build(
    events: list[SubtitleEvent],
    config: SubtitleConfig = CONFIG,
    *,
    source_id: str | None = None,
    flagged: set[int] | None = None,
) -> tuple[list[Utterance], SubtitleReport]:
    report = SubtitleReport()
    utterances = build_utterances(events, config, report, source_id=source_id, flagged=flagged)
    return utterances, report


def texts(utterances: list[Utterance]) -> list[str]:
    return [u.text for u in utterances]


# --- one event, one utterance -----------------------------------------------------------


def test_single_event_becomes_one_utterance() -> None:
    utterances, report = build(
        [ev(7, 1000, 2500, "{\\i1}[sighs] Hello there.{\\i0}")], source_id="abc"
    )
    assert utterances == [
        Utterance(
            start_ms=1000,
            end_ms=2500,
            text="Hello there.",
            nonverbal=("sighs",),
            speaker=None,
            event_ids=(7,),
            dialogue=False,
            source_id="abc",
        )
    ]
    assert report.utterances == 1


def test_two_sentences_in_one_event_stay_one_utterance() -> None:
    utterances, _ = build([ev(0, 0, 3000, "Hi. How are you?")])
    assert texts(utterances) == ["Hi. How are you?"]


def test_speaker_label_and_ass_name() -> None:
    utterances, _ = build([ev(0, 0, 1000, "JOHN: Hello."), ev(1, 5000, 6000, "Hi.", name="Mary")])
    assert [(u.text, u.speaker) for u in utterances] == [("Hello.", "JOHN"), ("Hi.", "Mary")]


# --- dialogue ---------------------------------------------------------------------------------


def test_dialogue_event_gives_one_utterance_per_turn() -> None:
    utterances, report = build([ev(3, 5000, 8000, "- Hi. - Hello.")])
    assert [(u.text, u.start_ms, u.end_ms, u.dialogue, u.event_ids) for u in utterances] == [
        ("Hi.", 5000, 8000, True, (3,)),
        ("Hello.", 5000, 8000, True, (3,)),
    ]
    assert report.counts["dialogue_split"] == 1


def test_dialogue_turns_keep_their_speakers_and_tags() -> None:
    utterances, _ = build([ev(0, 0, 2000, "JOHN: [laughs] Hi.\nMARY: Hello.")])
    assert [(u.text, u.nonverbal, u.speaker) for u in utterances] == [
        ("Hi.", ("laughs",), "JOHN"),
        ("Hello.", (), "MARY"),
    ]


def test_dialogue_is_never_merged_with_neighbours() -> None:
    events = [
        ev(0, 0, 1000, "I was going"),
        ev(1, 1000, 2000, "- to say.\n- What?"),
        ev(2, 2000, 3000, "- Nothing,"),
        ev(3, 3000, 4000, "really."),
    ]
    utterances, report = build(events)
    assert [(u.text, u.event_ids, u.dialogue) for u in utterances] == [
        ("I was going", (0,), False),
        ("to say.", (1,), True),
        ("What?", (1,), True),
        ("Nothing, really.", (2, 3), False),  # a lone dash is a continuation marker
    ]
    assert report.counts["merge_blocked"] == 1
    assert "event 1 " in report.warnings[0] and "dialogue" in report.warnings[0]


def test_sound_only_turn_of_a_dialogue_is_dropped() -> None:
    utterances, report = build([ev(0, 0, 2000, "- [laughs]\n- Hello.")])
    assert [(u.text, u.dialogue) for u in utterances] == [("Hello.", True)]
    assert report.counts["sound_only_dropped"] == 1


# --- sound and music only ---------------------------------------------------------------------


def test_sound_and_music_only_events_are_dropped() -> None:
    events = [
        ev(0, 0, 1000, "[DOOR SLAMS]"),
        ev(1, 1000, 2000, "♪ la la la ♪"),
        ev(2, 2000, 3000, "(sighs)\n♪"),
        ev(3, 3000, 4000, "Words."),
    ]
    utterances, report = build(events)
    assert texts(utterances) == ["Words."]
    assert report.counts["sound_only_dropped"] == 2
    assert report.counts["music_only_dropped"] == 1


def test_keep_nonverbal_only_keeps_them_apart() -> None:
    config = SubtitleConfig(keep_nonverbal_only=True)
    events = [
        ev(0, 0, 1000, "I was"),
        ev(1, 1000, 1500, "[coughs]"),
        ev(2, 1500, 2500, "there."),
    ]
    utterances, _ = build(events, config)
    assert [(u.text, u.nonverbal) for u in utterances] == [
        ("I was", ()),
        ("", ("coughs",)),
        ("there.", ()),
    ]


def test_dropped_sound_event_does_not_break_a_sentence() -> None:
    events = [ev(0, 0, 1000, "I was"), ev(1, 1000, 1500, "[coughs]"), ev(2, 1500, 2500, "there.")]
    utterances, _ = build(events)
    assert [(u.text, u.event_ids) for u in utterances] == [("I was there.", (0, 2))]


# --- merging ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "merged"),
    [
        ("Et à San Diego, un présentateur", "les surclassait tous:", True),
        ("les surclassait tous:", "Ron Burgundy.", True),
        ("No final mark", "Capital start.", True),
        ("It ended.", "lower case start.", True),
        ("I was...", "...thinking.", True),
        ("I was...", "thinking.", True),
        ("I was...", "Thinking.", False),
        ("Hello.", "World.", False),
        ('He said "no."', "Then left.", False),
        ("本当に行く。", "はい", False),
        ("Really?", "Yes.", False),
    ],
)
def test_merge_rule(first: str, second: str, merged: bool) -> None:
    assert continues_sentence(first, second) is merged
    utterances, report = build([ev(0, 0, 1000, first), ev(1, 1200, 2000, second)])
    assert len(utterances) == (1 if merged else 2)
    assert report.counts["events_merged"] == (1 if merged else 0)


def test_merged_utterance_spans_whole_events() -> None:
    events = [
        ev(7, 68_648, 73_984, "Et à San Diego, un présentateur\nles surclassait tous:"),
        ev(8, 74_020, 76_011, "[applause] Ron Burgundy."),
    ]
    utterances, _ = build(events)
    assert utterances == [
        Utterance(
            start_ms=68_648,
            end_ms=76_011,
            text="Et à San Diego, un présentateur les surclassait tous: Ron Burgundy.",
            nonverbal=("applause",),
            event_ids=(7, 8),
        )
    ]


def test_join_removes_the_continuation_ellipsis() -> None:
    events = [
        ev(0, 0, 1000, "I was..."),
        ev(1, 1000, 2000, "...thinking"),
        ev(2, 2000, 3000, "…of you."),
    ]
    utterances, _ = build(events)
    assert texts(utterances) == ["I was... thinking of you."]


def test_nonverbal_union_in_order_without_repeats() -> None:
    events = [
        ev(0, 0, 1000, "[laughs] I was"),
        ev(1, 1000, 2000, "(sighs) going [laughs]"),
        ev(2, 2000, 3000, "[MUSIC] home."),
    ]
    utterances, _ = build(events)
    assert [(u.text, u.nonverbal) for u in utterances] == [
        ("I was going home.", ("laughs", "sighs", "music"))
    ]


def test_gap_longer_than_merge_gap_splits() -> None:
    events = [
        ev(0, 48_061, 51_588, "Il fut un temps,"),
        ev(1, 55_166, 58_533, "où le présentateur."),
    ]
    utterances, _ = build(events)
    assert len(utterances) == 2  # a 3578 ms gap
    utterances, _ = build(events, SubtitleConfig(merge_gap_ms=3578))
    assert texts(utterances) == ["Il fut un temps, où le présentateur."]


def test_speakers_must_agree_or_be_unknown() -> None:
    events = [
        ev(0, 0, 1000, "JOHN: I was"),
        ev(1, 1000, 2000, "going"),
        ev(2, 2000, 3000, "MARY: home"),
        ev(3, 3000, 4000, "again."),
    ]
    utterances, report = build(events)
    assert [(u.text, u.speaker, u.event_ids) for u in utterances] == [
        ("I was going", "JOHN", (0, 1)),
        ("home again.", "MARY", (2, 3)),  # the new speaker starts a new sentence
    ]
    assert report.counts["merge_blocked"] == 1
    assert "speaker changes (JOHN -> MARY)" in report.warnings[0]


def test_sentence_never_grows_past_max_sentence_ms() -> None:
    config = SubtitleConfig(max_sentence_ms=2500)
    events = [ev(i, i * 1000, i * 1000 + 1000, f"part {i}") for i in range(5)]
    utterances, report = build(events, config)
    assert [u.event_ids for u in utterances] == [(0, 1), (2, 3), (4,)]
    assert all(u.duration_ms <= 2500 for u in utterances)
    assert report.counts["sentence_too_long"] == 2
    assert report.warnings[0].startswith("event 2 ")


def test_overlapping_events_are_never_merged() -> None:
    events = [
        ev(0, 0, 1000, "I was"),
        ev(1, 1000, 3000, "top line"),
        ev(2, 1000, 3000, "bottom line"),
        ev(3, 3000, 4000, "and more"),
    ]
    report = SubtitleReport()
    fixed = fix_timing(events, CONFIG, report)
    utterances = build_utterances(fixed, CONFIG, report)
    assert [u.event_ids for u in utterances] == [(0,), (1,), (2,), (3,)]
    assert report.counts["overlap_simultaneous"] == 1
    # explicit flags replace the computed ones
    utterances, _ = build([ev(0, 0, 1000, "I was"), ev(1, 1000, 2000, "here.")], flagged={1})
    assert [u.event_ids for u in utterances] == [(0,), (1,)]


# --- real files ------------------------------------------------------------------------------


def real_utterances(path: Path) -> tuple[list[Utterance], SubtitleReport]:
    loaded = load_subtitles(path)
    report = SubtitleReport(path=str(path))
    fixed = fix_timing(list(loaded.events), CONFIG, report)
    return build_utterances(fixed, CONFIG, report), report


CAPABILITY_FIRST = (
    "SubRip subtitles capability tester 1.3o by ale5000 Use VLC 1.1 or higher as reference "
    "for most things and MPC Home Cinema for others This text should be blue This text should "
    "be red This text should be black If you see this with the normal font, the player don't "
    "support font face This text should be small This text should be normal This text should "
    "be big This should be an E with an accent: È 日本語 This text should be bold, italics and "
    "underline This text should be small and green This text should be small and red This "
    "text should be big and brown This line should be bold This line should be italics This "
    "line should be underline This line should be strikethrough Both lines should be "
    "underline > It would be a good thing to hide invalid html tags that are closed and show "
    "the text in them but show un-closed invalid html tags Show not opened tags < and also "
    "hide invalid html tags with parameters that are closed and show the text in them but "
    "show un-closed invalid html tags This text should be showed underlined without problems "
    "also: 2<3,5>1,4<6 This shouldn't be underlined This text should be in the normal "
    "position..."
)

REAL_FILES = [
    # file, utterances, first text, last text
    (
        "pysrt/pysrt_utf-8.srt",
        1349,
        "CE FILM RELATE DES ÉVÉNEMENTS QUI ONT EXISTÉ.",
        "PRESENTATEUR VEDETTE La légende de Ron Burgundy",
    ),
    (
        "pysrt/pysrt_windows-1252.srt",
        1349,
        "CE FILM RELATE DES ÉVÉNEMENTS QUI ONT EXISTÉ.",
        "PRESENTATEUR VEDETTE La légende de Ron Burgundy",
    ),
    ("moviepy/moviepy_subtitles.srt", 4, "Red!", "Blue More Blue!"),
    (
        "cdown_srt/srt_ascii.srt",
        1,
        "ascii oh look ascii everywhere",
        "ascii oh look ascii everywhere",
    ),
    (
        "webvtt_py/webvtt_sample.vtt",
        3,
        " ".join(f"Caption text #{i}" for i in range(1, 8)),
        "Caption text #15 Caption text #16",
    ),
    (
        "libass/libass_aegisub-format-tests.ass",
        26,
        "This is a test of the ASS format and some basic features in it.",
        "And the last thing on the programme, an animated rectangular \\clip, delayed by 1 "
        "second. And it even uses acceleration...!",
    ),
    (
        "pysrt/pysrt_capability_tester.srt",
        28,
        CAPABILITY_FIRST,
        "Three lines should be strikethrough, yes. Not closed tags showed as text Both line "
        "should be strikethrough but the wrong closing tag should be showed",
    ),
]


@pytest.mark.real
@pytest.mark.parametrize(
    ("name", "count", "first", "last"), REAL_FILES, ids=[r[0] for r in REAL_FILES]
)
def test_real_file(shared_data: Path, name: str, count: int, first: str, last: str) -> None:
    utterances, report = real_utterances(shared_data / "subtitles" / name)
    assert len(utterances) == count
    assert utterances[0].text == first
    assert utterances[-1].text == last
    assert report.utterances == count
    assert all(u.start_ms < u.end_ms for u in utterances)
    assert [u.start_ms for u in utterances] == sorted(u.start_ms for u in utterances)


@pytest.mark.real
def test_real_film_details(shared_data: Path) -> None:
    utterances, report = real_utterances(shared_data / "subtitles/pysrt/pysrt_utf-8.srt")
    # 1,332 events: 2 adverts dropped, 109 joined to the one before, 128 two-turn dialogues
    assert report.counts["events_merged"] == 109
    assert report.counts["credit_dropped"] == 2  # the "Downloaded From" adverts
    assert report.counts["dialogue_split"] == 128
    assert len(utterances) == 1332 - 2 - 109 + 128
    by_text = {u.text: u for u in utterances}
    merged = by_text["Et à San Diego, un présentateur les surclassait tous: Ron Burgundy."]
    assert (merged.start_ms, merged.end_ms, len(merged.event_ids)) == (68_648, 76_011, 2)
    first_turn = by_text["C'est trop bon d'être n°1."]
    second_turn = by_text["C'est bien mieux que d'être n°2."]
    assert first_turn.dialogue and second_turn.dialogue
    assert (first_turn.start_ms, first_turn.end_ms) == (second_turn.start_ms, second_turn.end_ms)
    assert (first_turn.start_ms, first_turn.end_ms) == (5_797_405, 5_801_102)
    # the last turn of a dialogue event goes on into the next event: not cut
    assert report.counts["merge_blocked"] == 0
    continued = by_text["C'est horrible, je préférerais me couper la gorge."]
    assert continued.dialogue and continued.event_ids == (1133, 1134)
    assert (continued.start_ms, continued.end_ms) == (4_849_525, 4_854_486)


@pytest.mark.real
def test_real_capability_tester_overlaps(shared_data: Path) -> None:
    utterances, report = real_utterances(
        shared_data / "subtitles/pysrt/pysrt_capability_tester.srt"
    )
    # two zero-length events (hidden text) are dropped with their words quoted
    assert report.counts["zero_duration_dropped"] == 2
    assert any("'Hidden'" in w for w in report.warnings)
    by_text = {u.text: u for u in utterances}
    # "First text" (31.501-50.500 s) is on screen while four others come and go: all kept whole
    first = by_text["First text"]
    assert (first.start_ms, first.end_ms) == (31_501, 50_500)
    # "Third" overlapped "Fourth" by 999 ms and was trimmed to Fourth's start
    third = by_text["Third, it should replace second"]
    assert (third.start_ms, third.end_ms) == (35_501, 36_501)
    assert by_text["TEXT 1"].nonverbal == ("bottom",)


@pytest.mark.real
def test_real_ass_karaoke_and_drawings(shared_data: Path) -> None:
    utterances, report = real_utterances(shared_data / "subtitles/libass/libass_generic.ass")
    all_text = " ".join(u.text for u in utterances)
    assert "m 0 0" not in all_text  # vector drawings are not words
    assert "{" not in all_text and "\\N" not in all_text
    # a karaoke layer repeating a plain layer counts once
    assert texts(utterances).count("Happy Monday.") == 1
    assert report.counts["duplicate_dropped"] >= 1
    # vertical CJK, one character per line, reads as one run of text
    assert "それでも僕らは進むだろう︒" in texts(utterances)


@pytest.mark.real
def test_real_webvtt_voice_and_rollup(shared_data: Path) -> None:
    utterances, _ = real_utterances(
        shared_data / "subtitles/vttjs/cuetext/voice/with-annotation.vtt"
    )
    assert [(u.text, u.speaker) for u in utterances] == [("No way!", "Mary")]
    # automatic captions: "yeah" / "yeah\nwhat" scroll up; the last cue repeats the one before
    utterances, report = real_utterances(shared_data / "subtitles/webvtt_py/webvtt_youtube_dl.vtt")
    assert [(u.text, u.start_ms, u.end_ms) for u in utterances] == [
        ("yeah what this will happen is I'm telling", 286_070, 305_400)
    ]
    assert report.counts["rollup_lines_dropped"] == 1
    assert report.counts["duplicate_dropped"] == 1


def test_last_dialogue_turn_continues_into_the_next_event() -> None:
    events = [
        ev(0, 0, 2000, "- Stay on the line.\n- It's horrible,"),
        ev(1, 2100, 4000, "I'd rather cut my throat."),
        ev(2, 4100, 5000, "Fine."),
    ]
    utterances, report = build(events)
    assert [(u.text, u.dialogue, u.event_ids) for u in utterances] == [
        ("Stay on the line.", True, (0,)),
        ("It's horrible, I'd rather cut my throat.", True, (0, 1)),
        ("Fine.", False, (2,)),
    ]
    assert (utterances[1].start_ms, utterances[1].end_ms) == (0, 4000)
    assert report.counts["dialogue_split"] == 1


def test_overlap_flag_marks_simultaneous_events() -> None:
    events = [ev(0, 0, 2000, "Top line."), ev(1, 0, 2000, "Bottom line.")]
    utterances, _ = build(events)
    assert [u.overlap for u in utterances] == [True, True]
    utterances, _ = build([ev(0, 0, 2000, "Alone.")])
    assert [u.overlap for u in utterances] == [False]
