"""Timing repair: absurd and empty events, order, duplicates, roll-up captions, overlaps."""

from __future__ import annotations

from empathynet.config import SubtitleConfig
from empathynet.subtitles.events import SubtitleEvent, SubtitleReport
from empathynet.subtitles.fix import describe_event, fix_timing, overlapping_events

CONFIG = SubtitleConfig()


def ev(
    index: int, start_ms: int, end_ms: int, text: str = "", line: int | None = None
) -> SubtitleEvent:
    return SubtitleEvent(index, start_ms, end_ms, text or f"Line {index}.", line=line)


def spans(events: list[SubtitleEvent]) -> list[tuple[int, int, int]]:
    return [(e.index, e.start_ms, e.end_ms) for e in events]


def fix(
    events: list[SubtitleEvent], config: SubtitleConfig = CONFIG
) -> tuple[list[SubtitleEvent], SubtitleReport]:
    report = SubtitleReport()
    return fix_timing(events, config, report), report


def test_clean_input_passes_unchanged() -> None:
    events = [ev(0, 0, 1000), ev(1, 1000, 2000), ev(2, 2500, 4000)]
    fixed, report = fix(events)
    assert fixed == events
    assert not report.counts
    assert not report.warnings


def test_describe_event_names_index_line_and_times() -> None:
    assert describe_event(ev(12, 62345, 64000, line=48)) == (
        "event 12 (line 48, 00:01:02.345-00:01:04.000)"
    )
    assert describe_event(ev(3, 0, 5)) == "event 3 (00:00:00.000-00:00:00.005)"


# --- drops ----------------------------------------------------------------------------------


def test_absurd_times_are_dropped() -> None:
    config = SubtitleConfig(max_time_ms=100_000, max_event_ms=10_000)
    events = [
        ev(0, -500, 1000),
        ev(1, 2000, 3000),
        ev(2, 100_001, 101_000),
        ev(3, 5000, 15_001),
        ev(4, 90_000, 100_000),
    ]
    fixed, report = fix(events, config)
    assert spans(fixed) == [(1, 2000, 3000), (4, 90_000, 100_000)]
    assert report.counts["absurd_time_dropped"] == 3
    assert any("event 3 " in w and "10001 ms" in w for w in report.warnings)


def test_zero_and_negative_durations_are_dropped_with_their_words() -> None:
    events = [
        ev(0, 0, 0, "Don't show this text"),
        ev(1, 1000, 3000, "I was going"),
        ev(2, 3000, 3000, "to say"),
        ev(3, 5000, 6000, "Fine."),
        ev(4, 6500, 6000, "Backwards."),
        ev(5, 7000, 7000, "{\\an8}"),
    ]
    fixed, report = fix(events)
    assert [e.index for e in fixed] == [1, 3]
    assert report.counts["zero_duration_dropped"] == 3
    assert report.counts["negative_duration_dropped"] == 1
    zero_2 = next(w for w in report.warnings if w.startswith("event 2 "))
    assert "'to say'" in zero_2 and "continue a sentence" in zero_2
    negative = next(w for w in report.warnings if w.startswith("event 4 "))
    assert "'Backwards.'" in negative and "continue" not in negative
    empty = next(w for w in report.warnings if w.startswith("event 5 "))
    assert "words" not in empty


def test_empty_events_are_dropped_without_warning() -> None:
    drawing = "{\\pos(1,2)\\p1}m 0 0 l 100 0 100 100{\\p0}"
    events = [ev(0, 0, 1000, drawing), ev(1, 0, 1000, "Real text."), ev(2, 500, 900, " ")]
    fixed, report = fix(events)
    assert [e.index for e in fixed] == [1]
    assert report.counts["empty_dropped"] == 2
    assert not report.warnings
    # the drawing shown with the text did not make the text an overlapping event
    assert overlapping_events(fixed) == frozenset()


# --- order ------------------------------------------------------------------------------------


def test_unsorted_events_are_sorted_and_counted_once() -> None:
    events = [ev(0, 5000, 6000), ev(1, 1000, 2000), ev(2, 3000, 4000), ev(3, 0, 500)]
    fixed, report = fix(events)
    assert [e.index for e in fixed] == [3, 1, 2, 0]
    assert report.counts["events_sorted"] == 1
    assert "event 1 " in report.warnings[0]


def test_equal_starts_in_any_order_are_not_unsorted() -> None:
    events = [ev(0, 1000, 4000, "Top."), ev(1, 1000, 2000, "Bottom.")]
    fixed, report = fix(events)
    assert [e.index for e in fixed] == [1, 0]  # sorted by (start, end, index)
    assert "events_sorted" not in report.counts


# --- duplicates and roll-up -----------------------------------------------------------------


def test_exact_duplicate_is_dropped() -> None:
    events = [ev(0, 0, 1000, "Hello."), ev(1, 0, 1000, "Hello."), ev(2, 1000, 2000, "Bye.")]
    fixed, report = fix(events)
    assert spans(fixed) == [(0, 0, 1000), (2, 1000, 2000)]
    assert report.counts["duplicate_dropped"] == 1
    assert "event 1 " in report.warnings[0] and "event 0 " in report.warnings[0]


def test_same_words_in_other_markup_are_a_duplicate() -> None:
    # a karaoke layer over a plain layer (libass_generic.ass does this)
    events = [
        ev(0, 0, 4000, "{\\1a&HFF&}I'll shower in the sunshine."),
        ev(1, 0, 4000, "{\\kf34}I{\\kf47}'ll {\\kf41}sho{\\kf45}wer in the sun{\\kf131}shine."),
    ]
    fixed, report = fix(events)
    assert [e.index for e in fixed] == [0]
    assert report.counts["duplicate_dropped"] == 1


def test_retimed_copy_extends_the_first() -> None:
    events = [ev(0, 0, 2000, "Hello."), ev(1, 1500, 3000, "<i>Hello.</i>"), ev(2, 3000, 4000)]
    fixed, report = fix(events)
    assert spans(fixed) == [(0, 0, 3000), (2, 3000, 4000)]
    assert report.counts["duplicate_dropped"] == 1


def test_touching_copy_is_a_duplicate_but_a_later_repeat_is_not() -> None:
    events = [ev(0, 0, 1000, "Again."), ev(1, 1000, 1500, "Again."), ev(2, 3000, 4000, "Again.")]
    fixed, report = fix(events)
    assert spans(fixed) == [(0, 0, 1500), (2, 3000, 4000)]
    assert report.counts["duplicate_dropped"] == 1


def test_rollup_caption_lines_are_removed() -> None:
    events = [
        ev(0, 0, 400, "yeah"),
        ev(1, 400, 2000, "yeah\n<c.colorCCCCCC>what</c>"),
        ev(2, 2000, 3000, "what\nwe said\nthen"),
        ev(3, 3500, 4000, "then\nlater"),  # starts after the end: not roll-up
    ]
    fixed, report = fix(events)
    assert [e.text for e in fixed] == [
        "yeah",
        "<c.colorCCCCCC>what</c>",
        "we said\nthen",
        "then\nlater",
    ]
    assert report.counts["rollup_lines_dropped"] == 2


# --- overlaps ---------------------------------------------------------------------------------


def test_small_overlap_is_trimmed_without_warning() -> None:
    events = [ev(0, 0, 2100), ev(1, 2000, 3000)]
    fixed, report = fix(events)
    assert spans(fixed) == [(0, 0, 2000), (1, 2000, 3000)]
    assert report.counts["overlap_trimmed"] == 1
    assert not report.warnings
    assert overlapping_events(fixed) == frozenset()


def test_long_staggered_overlap_is_trimmed_with_warning() -> None:
    events = [ev(0, 11_000, 13_000, "Upper right"), ev(1, 12_000, 14_000, "Next line.")]
    fixed, report = fix(events)
    assert spans(fixed) == [(0, 11_000, 12_000), (1, 12_000, 14_000)]
    assert report.counts["overlap_trimmed"] == 1
    assert "overlap by 1000 ms" in report.warnings[0]


def test_simultaneous_events_are_kept_and_flagged() -> None:
    events = [
        ev(0, 0, 1000, "Before."),
        ev(1, 1000, 3000, "Top speaker."),
        ev(2, 1000, 3200, "Bottom speaker."),
        ev(3, 1100, 3000, "Third line nearly together."),
        ev(4, 3200, 4000, "After."),
    ]
    fixed, report = fix(events)
    assert spans(fixed) == [
        (0, 0, 1000),
        (1, 1000, 3000),
        (2, 1000, 3200),
        (3, 1100, 3000),
        (4, 3200, 4000),
    ]
    assert report.counts["overlap_simultaneous"] == 2  # once per later event
    assert overlapping_events(fixed) == frozenset({1, 2, 3})


def test_event_shown_inside_another_is_kept_and_flagged() -> None:
    events = [ev(0, 31_501, 50_500, "First text"), ev(1, 33_500, 35_500, "Second.")]
    fixed, report = fix(events)
    assert spans(fixed) == [(0, 31_501, 50_500), (1, 33_500, 35_500)]
    assert report.counts["overlap_contained"] == 1
    assert "event 1 " in report.warnings[0] and "inside event 0 " in report.warnings[0]
    assert overlapping_events(fixed) == frozenset({0, 1})


def test_overlaps_are_checked_against_every_event_still_on_screen() -> None:
    # as in pysrt_capability_tester.srt: a long event with lines coming and going under it
    events = [
        ev(20, 31_501, 50_500, "First text"),
        ev(22, 35_501, 37_500, "Third."),
        ev(23, 36_501, 50_500, "Fourth."),
    ]
    fixed, report = fix(events)
    assert spans(fixed) == [(20, 31_501, 50_500), (22, 35_501, 36_501), (23, 36_501, 50_500)]
    assert report.counts["overlap_contained"] == 2
    assert report.counts["overlap_trimmed"] == 1
    assert overlapping_events(fixed) == frozenset({20, 22, 23})


def test_inputs_are_not_changed() -> None:
    events = [ev(1, 2000, 3000), ev(0, 0, 2500)]
    before = list(events)
    fix(events)
    assert events == before


def test_overlapping_events_ignores_touching_spans() -> None:
    events = [ev(0, 0, 1000), ev(1, 1000, 2000), ev(2, 1999, 2500)]
    assert overlapping_events(events) == frozenset({1, 2})
