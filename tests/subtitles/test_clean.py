"""Cleaning one event's text: markup, sound tags, speakers, dialogue turns."""

from __future__ import annotations

import pytest

from empathynet.subtitles.clean import (
    CleanText,
    clean_event_text,
    ends_sentence,
    is_credit,
    join_text,
    starts_lowercase,
    starts_with_ellipsis,
    strip_markup,
)
from empathynet.subtitles.events import Markup, SubtitleEvent


def clean(text: str, markup: Markup = "ass", name: str = "") -> CleanText:
    return clean_event_text(SubtitleEvent(0, 0, 1000, text, markup, name=name))


def turns(
    text: str, markup: Markup = "ass", name: str = ""
) -> list[tuple[str, tuple[str, ...], str | None]]:
    return [(t.text, t.nonverbal, t.speaker) for t in clean(text, markup, name).turns]


# --- markup ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{\\an8}{\\i1}Hello{\\i0} there", "Hello there"),
        ("{\\k20}Ka{\\k30}ra{\\kf40}o{\\K10}ke", "Karaoke"),
        ("{\\pos(363,213)\\fscx100}Sign", "Sign"),
        ("{\\t(0.6,\\fs140\\frz339.4)}Some shapes", "Some shapes"),
        ("{\\pos(1,2)\\p1}m 0 0 l 10 0 10 10{\\p0}Drawn text", "Drawn text"),
        ("{\\p2}m 0 0 b 1 2 3 4", ""),
        ("Now {By the way, an inline comment}going", "Now going"),
        ("<i>Hi</i> <b>bold</b> <u>u</u> <s>s</s>", "Hi bold u s"),
        ('<font color="#00FF00" size="6">big <font size="35">m</font>ost</font>', "big most"),
        ("<c.yellow.bg_blue>Yellow</c> and <lang en-GB>English</lang>", "Yellow and English"),
        ("When the moon <00:17.500>hits<00:00:18.000> your eye", "When the moon hits your eye"),
        ("<ruby>That's <rt>awesome!</rt></ruby> Hee!", "That's Hee!"),
        ("<ruby>No <rt>way!</ruby> yes", "No yes"),
        ("&lt;3 &amp; &gt; caf&eacute; &#233;&#x41;", "<3 & > café éA"),
        ("a&nbsp;b &nb &am; AT&T", "a b &nb &am; AT&T"),
        ("The\\hline\\hwill\\hnever", "The line will never"),
        ("no break here,\\nbut one here\\Nnext line", "no break here, but one here\nnext line"),
        ("  spaced   out \t text  \n\n  second  ", "spaced out text\nsecond"),
        ("2<3,5>1,4<6", "2<3,5>1,4<6"),
        ("zero\u200bwidth\ufeff and \u200fmarks", "zerowidth and marks"),
        ("<v Bob>voice name is not text", "voice name is not text"),
    ],
)
def test_strip_markup(raw: str, expected: str) -> None:
    assert strip_markup(raw, "ass") == expected


@pytest.mark.parametrize("markup", ["ass", "html"])
def test_an_override_block_never_closed_runs_to_the_end_of_the_event(markup: Markup) -> None:
    assert strip_markup("{\\an8Hello there.", markup) == ""
    assert strip_markup("Hi {\\i1}you{\\i0} {\\an8 and\nthe rest", markup) == "Hi you"
    assert strip_markup("Hi {\\an8 <i>tags</i> too", markup) == "Hi"
    # closed later: an ordinary block; a brace without a backslash is no override
    assert strip_markup("{\\an8}Hello {\\i1}there", markup) == "Hello there"
    assert strip_markup("Hi {\\an8", markup) == "Hi"
    assert turns("{\\an8Hello there.", markup) == []


def test_braces_without_backslash_are_text_outside_ass() -> None:
    raw = "show this: {normal text} but not {\\an8} nor {Y:i}"
    assert strip_markup(raw, "html") == "show this: {normal text} but not nor"
    assert strip_markup(raw, "ass") == "show this: but not nor"


def test_drawing_mode_spans_blocks_until_p0() -> None:
    raw = "{\\p1}m 0 0 l 0 2{\\p0}{\\p1}m 0 0 l 2 2{\\p0}\\N{\\1a\\fs20}Image(draw) with text"
    assert strip_markup(raw) == "Image(draw) with text"
    assert turns(raw) == [("Image with text", ("draw",), None)]


def test_line_breaks_are_kept_as_lines() -> None:
    result = clean("{\\i1}First line{\\i0}\nsecond line")
    assert [line.text for line in result.lines] == ["First line", "second line"]
    assert result.text == "First line second line"


# --- WebVTT voices and ASS names -------------------------------------------------------


def test_webvtt_voice_gives_speaker() -> None:
    assert turns("<v.loud Joe>That's awesome!</v>", "html") == [("That's awesome!", (), "Joe")]
    assert turns("<v Joe>Hee!</v> Hee!", "html") == [("Hee! Hee!", (), "Joe")]
    assert turns("<v>No name</v>", "html") == [("No name", (), None)]


def test_two_voices_are_two_turns() -> None:
    result = clean("<v Bob>Hi.\n<v Alice>Hello.", "html")
    assert [(t.text, t.speaker) for t in result.turns] == [("Hi.", "Bob"), ("Hello.", "Alice")]
    assert result.is_dialogue


def test_ass_actor_name_is_the_speaker_of_a_single_turn() -> None:
    assert turns("Hi there.", name="Bob") == [("Hi there.", (), "Bob")]
    # with two turns the actor field cannot say who says what
    assert turns("- Hi.\n- Hello.", name="Bob") == [("Hi.", (), None), ("Hello.", (), None)]


# --- sound tags and music ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text", "nonverbal"),
    [
        ("[laughs] Yeah. (sighs)", "Yeah.", ("laughs", "sighs")),
        ("*Laughter*", "", ("laughter",)),
        ("[LAUGHTER]", "", ("laughter",)),
        ("(door slams)", "", ("door slams",)),
        ("(door\nslams)", "", ("door slams",)),
        ("[ Sighs: ] Fine.", "Fine.", ("sighs",)),
        ("I was (coughs) there.", "I was there.", ("coughs",)),
        ("[laughs] Ha. [laughs]", "Ha.", ("laughs",)),
        ("♪", "", ("music",)),
        ("♪ Somewhere over\nthe rainbow ♪", "", ("music",)),
        ("♪ la la la", "", ("music",)),
        ("# la la la #", "", ("music",)),
        ("♪ la la ♪ Hello.", "Hello.", ("music",)),
        ("Hello. ♫ la ♫", "Hello.", ("music",)),
        ("[♪♪♪]", "", ("music",)),
        ("Caption text #1", "Caption text #1", ()),
        ("We're #1 in town", "We're #1 in town", ()),
    ],
)
def test_sound_tags(raw: str, text: str, nonverbal: tuple[str, ...]) -> None:
    result = clean(raw)
    assert result.text == text
    assert result.nonverbal == nonverbal


def test_known_limit_brackets_are_always_sound_tags() -> None:
    # documented: a bracketed name or a spoken parenthetical is taken as a sound tag
    assert turns("[JOHN] Hi.") == [("Hi.", ("john",), None)]
    assert turns("the player don't (fully) support it") == [
        ("the player don't support it", ("fully",), None)
    ]


# --- speaker labels ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "speaker", "text"),
    [
        ("JOHN: Hello.", "JOHN", "Hello."),
        ("MARY SMITH: Hi.", "MARY SMITH", "Hi."),
        ("DR. WHO : Hi", "DR. WHO", "Hi"),
        ("GUARD 2: Stop!", "GUARD 2", "Stop!"),
        ("JOSÉ: Olá.", "JOSÉ", "Olá."),
        ("Note: this is it.", None, "Note: this is it."),
        ("Dr. Who: Hello.", None, "Dr. Who: Hello."),
        ("At 10:30 we go.", None, "At 10:30 we go."),
        ("I: me.", None, "I: me."),
        ("ONE TWO THREE FOUR: too many words", None, "ONE TWO THREE FOUR: too many words"),
        ("SOME SIGN:THAT", None, "SOME SIGN:THAT"),
    ],
)
def test_speaker_labels(raw: str, speaker: str | None, text: str) -> None:
    assert turns(raw) == [(text, (), speaker)]


def test_speaker_label_after_a_sound_tag() -> None:
    assert turns("[laughs] JOHN: Hello.") == [("Hello.", ("laughs",), "JOHN")]


def test_label_alone_on_a_line_names_the_next_line() -> None:
    assert turns("JOHN:\nHello there.") == [("Hello there.", (), "JOHN")]


def test_two_labels_are_two_turns() -> None:
    assert turns("JOHN: Hello.\nMARY SMITH: Hi.") == [
        ("Hello.", (), "JOHN"),
        ("Hi.", (), "MARY SMITH"),
    ]


# --- dialogue dashes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("- Hi. - Hello.", ["Hi.", "Hello."]),
        ("- Hi.\n- Hello.", ["Hi.", "Hello."]),
        ("-Hi.\n-Hello.", ["Hi.", "Hello."]),
        ("– Oui ? – Non !", ["Oui ?", "Non !"]),
        ('— Yes! — "No," he said.', ["Yes!", '"No," he said.']),
        ("-- Hi.\n-- Hello.", ["Hi.", "Hello."]),
        ("Hi.\n- Hello.", ["Hi.", "Hello."]),
        ("- Hi. - Hello. - Bye.", ["Hi.", "Hello.", "Bye."]),
        ("- [laughs] - Hello.", ["", "Hello."]),
        ("well - I mean it", ["well - I mean it"]),
        (
            "a well-known fact. - no split before lower case",
            ["a well-known fact. - no split before lower case"],
        ),
        ("- I was going\nto say", ["I was going to say"]),
        ("- Continuation marker only", ["Continuation marker only"]),
        ("-5 degrees outside", ["-5 degrees outside"]),
        ("-\nHello", ["Hello"]),
        ("[laughs] - Hi", ["Hi"]),
        ("JOHN: - Hi", ["Hi"]),
    ],
)
def test_dialogue_turns(raw: str, expected: list[str]) -> None:
    result = clean(raw)
    assert [turn.text for turn in result.turns] == expected
    assert result.is_dialogue == (len(expected) > 1)


def test_dash_flags_on_lines() -> None:
    result = clean("- Hi. - Hello.\nsecond line")
    assert [(line.text, line.dash) for line in result.lines] == [
        ("Hi.", True),
        ("Hello.", True),
        ("second line", False),
    ]
    assert [turn.text for turn in result.turns] == ["Hi.", "Hello. second line"]


def test_sound_only_turn_keeps_its_tags() -> None:
    assert turns("- [laughs]\n- Hello.") == [("", ("laughs",), None), ("Hello.", (), None)]


def test_empty_event_has_no_turns() -> None:
    assert clean("").turns == ()
    assert clean("{\\an8}").turns == ()
    assert clean("{\\p1}m 0 0 l 1 1{\\p0}").turns == ()


# --- scripts without spaces and sentence helpers -------------------------------------------


def test_cjk_lines_join_without_spaces() -> None:
    assert clean("そ\nれ\nで\nも\n僕\n︒").text == "それでも僕︒"
    assert join_text("漢字", "abc") == "漢字 abc"
    assert join_text("", "x") == "x"
    assert join_text("x", "") == "x"


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("Hello.", True),
        ("Really?!", True),
        ('He said "no."', True),
        ("Wait...", True),
        ("Wait…", True),
        ("(It ends.)", True),
        ("行く。", True),
        ("本当？", True),
        ("Hello,", False),
        ("les surclassait tous:", False),
        ("Hello", False),
        ("", False),
    ],
)
def test_ends_sentence(text: str, ends: bool) -> None:
    assert ends_sentence(text) is ends


def test_start_helpers() -> None:
    assert starts_lowercase("où le présentateur")
    assert starts_lowercase("...thinking")
    assert starts_lowercase('"and then"')
    assert not starts_lowercase("Ron")
    assert not starts_lowercase("10 minutes")
    assert not starts_lowercase("")
    assert starts_with_ellipsis("...thinking")
    assert starts_with_ellipsis("…Thinking")
    assert not starts_with_ellipsis("Thinking...")


@pytest.mark.parametrize(
    ("text", "credit"),
    [
        ("Downloaded From www.AllSubs.org", True),
        ("Subtitles by SomeTeam", True),
        ("Sync and corrections by n17t01", True),
        ("Corrections by n17t01", True),
        ("Visit https://example.net now", True),
        ("I downloaded it from my brother.", False),
        ("Go to the station by noon.", False),
        ("Meet me at 10.30.", False),
    ],
)
def test_is_credit(text: str, credit: bool) -> None:
    assert is_credit(text) is credit
