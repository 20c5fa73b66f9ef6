"""Loading subtitle files (every format, real files, errors) and embedded streams."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from conftest import SHARED_DATA, shared_path
from empathynet.errors import EmpathyNetError, SubtitleEncodingError, SubtitleFormatError
from empathynet.subtitles.events import LoadedSubtitles
from empathynet.subtitles.load import MAX_TEXT_BYTES, load_subtitles

SUBTITLES = SHARED_DATA / "subtitles"
REAL_FILES = (
    sorted(str(p.relative_to(SUBTITLES)) for p in SUBTITLES.rglob("*") if p.is_file())
    if SUBTITLES.is_dir()
    else []
)
#: Real files that are not subtitles at all (checked by reading them).
NOT_SUBTITLES = {
    "pysrt/pysrt_invalid.srt",  # "00:00:01 --> 00:00:10": no milliseconds
    "webvtt_py/webvtt_invalid_format.sbv",  # "some text"
    "webvtt_py/webvtt_invalid_format1.srt",  # "1"
    "webvtt_py/webvtt_invalid_format2.srt",  # "some text"
    "webvtt_py/webvtt_invalid_format3.srt",  # "1\nsome text"
    "vttjs/file-layout/garbage-signature.vtt",  # "garbage vtt file"
}
#: Event counts checked against the files (timing lines, Dialogue lines minus comments/drawings).
EVENT_COUNTS = {
    "cdown_srt/srt_ascii.srt": 3,
    "moviepy/moviepy_subtitles.srt": 5,
    "pysrt/pysrt_utf-8.srt": 1332,
    "pysrt/pysrt_windows-1252.srt": 1332,
    "pysrt/pysrt_capability_tester.srt": 37,
    "pysrt/pysrt_no-indexes.srt": 7,
    "libass/libass_generic.ass": 52,  # 64 Dialogue lines, 12 of them vector drawings
    "libass/libass_v4++__kt.ass": 24,  # + 6 Comment lines
    "libass/libass_draw-images__drawImg.ass": 0,  # one drawing, nothing to say
    "pysubs2/pysubs2_ttml_example.ttml": 11,
    "webvtt_py/webvtt_sample.vtt": 16,
    "webvtt_py/webvtt_sample.sbv": 5,
    "webvtt_py/webvtt_comments.vtt": 3,
    "webvtt_py/webvtt_using_identifiers.vtt": 6,
    "webvtt_py/webvtt_youtube_dl.vtt": 4,
    "vttjs/integration/spec-example.vtt": 13,
    "vttjs/integration/cycle-collector-talk.vtt": 15,
}


def _load_real(*parts: str) -> LoadedSubtitles:
    return load_subtitles(shared_path("subtitles", *parts))


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _assert_well_formed(loaded: LoadedSubtitles) -> None:
    assert [event.index for event in loaded.events] == list(range(len(loaded.events)))
    for event in loaded.events:
        assert isinstance(event.start_ms, int) and isinstance(event.end_ms, int)
        assert event.markup in ("ass", "html", "plain")
        assert "\\N" not in event.text and "\r" not in event.text
    assert all("\n" not in warning for warning in loaded.warnings)


# --------------------------------------------------------------------------- every real file


@pytest.mark.real
@pytest.mark.parametrize("relative", REAL_FILES or ["<missing>"])
def test_every_real_file_loads_or_raises_a_package_error(relative: str) -> None:
    path = shared_path("subtitles", relative)
    try:
        loaded = load_subtitles(path)
    except EmpathyNetError as error:
        message = str(error)
        assert "\n" not in message and path.name in message
        assert relative in NOT_SUBTITLES, f"unexpected error: {message}"
        assert isinstance(error, SubtitleFormatError)
        return
    assert relative not in NOT_SUBTITLES, "a file that is not subtitles loaded"
    _assert_well_formed(loaded)
    if relative in EVENT_COUNTS:
        assert len(loaded.events) == EVENT_COUNTS[relative]


# --------------------------------------------------------------------------- SubRip


@pytest.mark.real
def test_film_in_utf8_and_cp1252_gives_identical_events() -> None:
    utf8 = _load_real("pysrt", "pysrt_utf-8.srt")
    cp1252 = _load_real("pysrt", "pysrt_windows-1252.srt")
    assert (utf8.format, utf8.encoding, cp1252.encoding) == ("srt", "utf-8", "cp1252")
    assert len(utf8.events) == len(cp1252.events) == 1332
    assert [e.text for e in utf8.events] == [e.text for e in cp1252.events]
    assert [(e.start_ms, e.end_ms) for e in utf8.events] == [
        (e.start_ms, e.end_ms) for e in cp1252.events
    ]
    advert, first_line = cp1252.events[0], cp1252.events[4]
    assert (advert.start_ms, advert.end_ms, advert.text) == (
        1000,
        4000,
        "Downloaded From www.AllSubs.org",
    )
    assert (first_line.start_ms, first_line.end_ms) == (53_166, 56_533)
    assert first_line.text == "où le présentateur local\nrégnait en maître."
    assert first_line.line == 21 and first_line.markup == "html"  # its timing line


@pytest.mark.real
def test_bom_variants_load_identically() -> None:
    names = ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]
    loaded = [_load_real("pysrt", f"pysrt_bom-{name}.srt") for name in names]
    reference = loaded[0].events
    assert len(reference) == 7 and reference[0].text.startswith("About 2 months ago")
    for result in loaded[1:]:
        assert result.events == reference


@pytest.mark.real
def test_srt_markup_is_kept_as_written() -> None:
    events = _load_real("pysrt", "pysrt_capability_tester.srt").events
    assert events[0].text == "Don't show this text it may be used to insert hidden data"
    assert "<b><i>Use VLC 1.1 or higher" in events[1].text
    assert '<font color="#0000FF">This text should be blue</font>' in events[1].text
    assert (events[2].start_ms, events[2].end_ms) == (4500, 4500)  # zero length: kept


def test_srt_times_and_order_are_kept_as_written(tmp_path: Path) -> None:
    text = (
        "1\n00:00:05,000 --> 00:00:06,000\nLater first\n\n"
        "2\n00:00:01,000 --> 00:00:01,000\nZero length\n\n"
        "3\n00:00:02,000 --> 00:00:01,500\nEnds before it starts\n\n"
        "4\n99:59:59,999 --> 99:59:59,999\nLast possible\n"
    )
    loaded = load_subtitles(_write(tmp_path, "raw.srt", text))
    assert [(e.start_ms, e.end_ms) for e in loaded.events] == [
        (5000, 6000),
        (1000, 1000),
        (2000, 1500),
        (359_999_999, 359_999_999),
    ]
    assert [e.line for e in loaded.events] == [2, 6, 10, 14]


# --------------------------------------------------------------------------- WebVTT


@pytest.mark.real
def test_webvtt_note_blocks_are_not_merged_into_cues() -> None:
    events = _load_real("webvtt_py", "webvtt_comments.vtt").events
    assert [e.text for e in events] == [
        "- Ta en kopp varmt te.\n- Det är inte varmt.",
        "- Har en kopp te.\n- Det smakar som te.  ",
        "- Ta en kopp",
    ]
    assert [(e.start_ms, e.end_ms) for e in events] == [
        (135_000, 140_000),
        (140_000, 145_000),
        (145_000, 150_000),
    ]


@pytest.mark.real
def test_webvtt_headers_styles_and_identifiers_are_skipped() -> None:
    youtube = _load_real("webvtt_py", "webvtt_youtube_dl.vtt")
    assert all("::cue" not in e.text and "Kind:" not in e.text for e in youtube.events)
    assert youtube.events[1].text == "yeah\n<c.colorCCCCCC>what</c>"
    # the karaoke line holds inline timestamps; it stays one cue's text
    assert youtube.events[2].text.startswith("this<00:05:04.199><c> will</c>")
    styles = _load_real("webvtt_py", "webvtt_styles.vtt").events
    assert [e.text for e in styles] == ["- Hello <b>world</b>."]
    identified = _load_real("webvtt_py", "webvtt_using_identifiers.vtt").events
    assert [e.text for e in identified] == [f"Caption text #{n}" for n in range(1, 7)]


@pytest.mark.real
def test_webvtt_voice_gives_the_speaker_name() -> None:
    events = _load_real("vttjs", "integration", "cycle-collector-talk.vtt").events
    assert events[0].name == "Kyle Huey"
    assert events[0].text.startswith("<v Kyle Huey> Not ready yet?")
    assert events[1].name == ""  # two speakers in one cue


def test_webvtt_inline_timestamps_and_notes(tmp_path: Path) -> None:
    text = (
        "WEBVTT\nKind: captions\n\n"
        "NOTE a note\nacross two lines\n\n"
        "intro\n00:01.000 --> 00:02.500 align:start\n"
        "Karaoke <00:01.500>two <00:02.000>stamps\n\n"
        "STYLE\n::cue { color: red }\n\n"
        "01:00:00.000 --> 01:00:01.000\nAn hour in\n"
        "00:00:03.000 --> 00:00:04.000\nNo blank line before me\n\n"
        "00:61.000 --> 00:62.000\nBad seconds\n"
    )
    loaded = load_subtitles(_write(tmp_path, "cues.vtt", text))
    assert [(e.start_ms, e.end_ms, e.text, e.line) for e in loaded.events] == [
        (1000, 2500, "Karaoke <00:01.500>two <00:02.000>stamps", 8),
        (3_600_000, 3_601_000, "An hour in", 14),
        (3000, 4000, "No blank line before me", 16),
    ]
    assert any("line 19" in warning and "59" in warning for warning in loaded.warnings)


# --------------------------------------------------------------------------- ASS / SSA


@pytest.mark.real
def test_ass_comments_and_drawings_are_skipped() -> None:
    generic = _load_real("libass", "libass_generic.ass")
    assert generic.format == "ass" and len(generic.events) == 52
    assert any("12 ASS vector drawing" in warning for warning in generic.warnings)
    assert generic.events[0].line == 26 and generic.events[0].style == "Default"
    assert generic.events[0].text.startswith(
        "This is a simplified and shortended version of how a real world script"
    )
    assert "\n" in generic.events[0].text  # \N became a line break
    kt = _load_real("libass", "libass_v4++__kt.ass")
    assert len(kt.events) == 24
    assert any("6 ASS comment" in warning for warning in kt.warnings)


@pytest.mark.real
def test_ass_non_latin_dialogue_and_actor() -> None:
    shiftjis = _load_real("libass", "libass_font_nonunicode__shiftjis.ass").events
    assert [(e.text, e.name, e.style) for e in shiftjis] == [
        ("君の隣でずっと変わらずに護るだろう", "NTP", "kasi")
    ]
    assert (shiftjis[0].start_ms, shiftjis[0].end_ms) == (0, 114_410)
    big5 = _load_real("libass", "libass_font_nonunicode__big5-hkscs.ass").events
    assert [e.text for e in big5] == ["文鼎新藝體 訐解 古天"]
    arabic = _load_real("libass", "libass_font_nonunicode__legacy-arabic-simplified.ass")
    assert [e.text for e in arabic.events] == ["ج"]


@pytest.mark.real
def test_ssa_v4_file() -> None:
    loaded = _load_real("libass", "libass_ssa__alpha.ass")
    assert loaded.format == "ssa" and len(loaded.events) == 5
    assert loaded.events[0].text == "{\\xshad50}W" and loaded.events[0].markup == "ass"


def test_ass_bad_line_is_skipped_with_its_line_number(tmp_path: Path) -> None:
    text = (
        "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\n"
        "Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,"
        "100,100,0,0,1,2,2,2,10,10,10,1\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:01.00,0:00:02.00,Default,Ann,0,0,0,,Hello\\Nthere\n"
        "Dialogue: 0,0:00:0x.00,0:00:03.00,Default,,0,0,0,,Broken time\n"
        "Dialogue: 0,-0:00:01.00,0:00:04.00,Default,,0,0,0,,Starts before zero\n"
        "Comment: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,A note\n"
        "Dialogue: 0,0:00:07.00,0:00:08.00,Default,,0,0,0,,{\\p1}m 0 0 l 10 0 10 10{\\p0}\n"
    )
    loaded = load_subtitles(_write(tmp_path, "bad.ass", text))
    assert [(e.start_ms, e.end_ms, e.text, e.name, e.line) for e in loaded.events] == [
        (1000, 2000, "Hello\nthere", "Ann", 9),
        (-1000, 4000, "Starts before zero", "", 11),
    ]
    assert any(w.startswith("line 10: unreadable") for w in loaded.warnings)
    assert any("1 ASS comment" in w for w in loaded.warnings)
    assert any("1 ASS vector drawing" in w for w in loaded.warnings)


# --------------------------------------------------------------------------- other formats


@pytest.mark.real
def test_ttml_and_sbv() -> None:
    ttml = _load_real("pysubs2", "pysubs2_ttml_example.ttml")
    assert ttml.format == "ttml"
    assert (ttml.events[0].start_ms, ttml.events[0].end_ms) == (760, 3450)
    assert ttml.events[0].text == "It seems a paradox, does it not,"
    assert ttml.events[1].text == "that the image formed on\nthe Retina should be inverted?"
    sbv = _load_real("webvtt_py", "webvtt_sample.sbv")
    assert sbv.format == "sbv"
    assert [(e.start_ms, e.end_ms) for e in sbv.events][::2] == [
        (378, 11_378),
        (13_489, 15_489),
        (17_484, 16_543),  # ends before it starts in the file: kept for the next stage
    ]
    assert sbv.events[2].text == "Caption text #3 (line 1)\nCaption text #3 (line 2)"


def test_microdvd_frame_rates(tmp_path: Path) -> None:
    declared = load_subtitles(_write(tmp_path, "a.sub", "{1}{1}23.976\n{24}{48}Hello|world\n"))
    assert declared.format == "microdvd"
    assert [(e.start_ms, e.end_ms, e.text, e.line) for e in declared.events] == [
        (1001, 2002, "Hello\nworld", 2)
    ]
    default = load_subtitles(_write(tmp_path, "b.sub", "{25}{50}Hi\n"))
    assert [(e.start_ms, e.end_ms) for e in default.events] == [(1000, 2000)]
    given = load_subtitles(_write(tmp_path, "c.sub", "{30}{60}Hi\n"), fps=30.0)
    assert [(e.start_ms, e.end_ms) for e in given.events] == [(1000, 2000)]
    nonsense = load_subtitles(_write(tmp_path, "d.sub", "{1}{1}0\n{25}{50}Hi\n"))
    assert [(e.start_ms, e.end_ms) for e in nonsense.events] == [(1000, 2000)]
    assert any("frame rate" in warning for warning in nonsense.warnings)
    huge = load_subtitles(_write(tmp_path, "e.sub", "{25}{50}Hi\n{" + "9" * 5000 + "}{1}x\n"))
    assert [e.text for e in huge.events] == ["Hi"]
    assert any(w.startswith("line 2: unreadable") for w in huge.warnings)
    with pytest.raises(SubtitleFormatError, match="frame rate"):
        load_subtitles(_write(tmp_path, "f.sub", "{25}{50}Hi\n"), fps=0.0)


def test_format_comes_from_content_not_extension(tmp_path: Path) -> None:
    srt_text = "1\n00:00:01,000 --> 00:00:02,000\nHi\n"
    assert load_subtitles(_write(tmp_path, "named.vtt.txt", srt_text)).format == "srt"
    assert load_subtitles(_write(tmp_path, "wrong.ass", srt_text)).format == "srt"
    vtt_text = "WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n"
    assert load_subtitles(_write(tmp_path, "wrong.srt", vtt_text)).format == "vtt"


def test_legacy_encoding_through_the_loader(tmp_path: Path) -> None:
    text = (
        "1\n00:00:01,000 --> 00:00:02,000\nПривет! Как дела?\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nВсё хорошо, спасибо.\n"
    )
    loaded = load_subtitles(_write(tmp_path, "ru.srt", text, "cp1251"))
    assert loaded.encoding == "cp1251"
    assert [e.text for e in loaded.events] == ["Привет! Как дела?", "Всё хорошо, спасибо."]


# --------------------------------------------------------------------------- errors


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SubtitleFormatError, match=r"nothing\.srt: file not found"):
        load_subtitles(tmp_path / "nothing.srt")
    with pytest.raises(SubtitleFormatError, match="is a directory"):
        load_subtitles(tmp_path)


def test_empty_and_event_free_files_warn(tmp_path: Path) -> None:
    empty = load_subtitles(_write(tmp_path, "empty.srt", ""))
    assert empty.events == () and empty.warnings == ("empty file: no subtitle events",)
    blank = load_subtitles(_write(tmp_path, "blank.srt", "\ufeff\n\n  \n"))
    assert blank.events == () and blank.warnings
    header_only = load_subtitles(_write(tmp_path, "header.vtt", "WEBVTT\n"))
    assert header_only.events == ()
    assert header_only.warnings == ("no subtitle events found in 2 lines",)


def test_text_that_is_not_subtitles(tmp_path: Path) -> None:
    path = _write(tmp_path, "readme.srt", "Just some notes.\nNothing timed here.\n")
    with pytest.raises(SubtitleFormatError, match=r"readme\.srt: not a subtitle file"):
        load_subtitles(path)


def test_binary_file_is_an_encoding_error(tmp_path: Path) -> None:
    path = tmp_path / "image.srt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(SubtitleEncodingError, match=r"image\.srt"):
        load_subtitles(path)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.srt"
    with path.open("wb") as file:
        file.truncate(MAX_TEXT_BYTES + 1)  # sparse: no 50 MB written
    with pytest.raises(SubtitleFormatError, match="too large"):
        load_subtitles(path)


def test_broken_ttml_is_a_format_error(tmp_path: Path) -> None:
    text = '<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p begin="1s" end="2s">Hi</div>'
    with pytest.raises(SubtitleFormatError, match=r"broken\.ttml: cannot parse as ttml"):
        load_subtitles(_write(tmp_path, "broken.ttml", text))


def test_stream_index_on_a_text_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi\n")
    with pytest.raises(SubtitleFormatError, match="not a video"):
        load_subtitles(path, stream_index=0)


# --------------------------------------------------------------------------- embedded streams

SRT_FOR_VIDEO = (
    "1\n00:00:00,500 --> 00:00:01,250\nHello <i>there</i>.\n\n"
    "2\n00:00:01,500 --> 00:00:02,750\nSecond line\nwith a break\n"
)


def _ffmpeg(*arguments: str) -> None:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *arguments]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def _video_with(tmp_path: Path, name: str, *inputs_and_codecs: str) -> Path:
    output = tmp_path / name
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=64x64:d=3",
        *inputs_and_codecs,
        "-c:v",
        "libx264",
        str(output),
    )
    return output


def _pgs_file(tmp_path: Path) -> Path:
    """A minimal PGS stream: composition + end segments, enough for ffmpeg to mux it."""
    data = b""
    for pts in (0, 90_000):
        composition = struct.pack(">HHBHBBBB", 64, 64, 0x10, pts // 90_000, 0x80, 0, 0, 0)
        header = b"PG" + struct.pack(">II", pts, pts)
        data += header + b"\x16" + struct.pack(">H", len(composition)) + composition
        data += header + b"\x80" + struct.pack(">H", 0)
    path = tmp_path / "bitmap.sup"
    path.write_bytes(data)
    return path


def test_embedded_srt_in_mkv_and_mov_text_in_mp4(tmp_path: Path) -> None:
    subtitles = _write(tmp_path, "sub.srt", SRT_FOR_VIDEO)
    sidecar = load_subtitles(subtitles)
    mkv = _video_with(
        tmp_path, "film.mkv", "-i", str(subtitles), "-map", "0", "-map", "1", "-c:s", "srt"
    )
    mp4 = _video_with(
        tmp_path, "film.mp4", "-i", str(subtitles), "-map", "0", "-map", "1", "-c:s", "mov_text"
    )
    for video in (mkv, mp4):
        loaded = load_subtitles(video)
        assert loaded.format == "embedded:0"
        assert [(e.start_ms, e.end_ms, e.text) for e in loaded.events] == [
            (e.start_ms, e.end_ms, e.text) for e in sidecar.events
        ]
        assert loaded.events[1].text == "Second line\nwith a break"


def test_embedded_ass_keeps_styles(tmp_path: Path) -> None:
    subtitles = _write(tmp_path, "sub.srt", SRT_FOR_VIDEO)
    mkv = _video_with(
        tmp_path, "styled.mkv", "-i", str(subtitles), "-map", "0", "-map", "1", "-c:s", "ass"
    )
    loaded = load_subtitles(mkv)
    assert loaded.format == "embedded:0" and loaded.events[0].markup == "ass"
    assert [(e.start_ms, e.end_ms, e.style) for e in loaded.events] == [
        (500, 1250, "Default"),
        (1500, 2750, "Default"),
    ]
    assert loaded.events[0].text == "Hello {\\i1}there{\\i0}."


def test_video_without_subtitles(tmp_path: Path) -> None:
    video = _video_with(tmp_path, "silent.mkv")
    with pytest.raises(SubtitleFormatError, match=r"silent\.mkv: no subtitle stream"):
        load_subtitles(video)


def test_bitmap_subtitles_need_ocr(tmp_path: Path) -> None:
    subtitles = _write(tmp_path, "sub.srt", SRT_FOR_VIDEO)
    pgs = _pgs_file(tmp_path)
    only_bitmap = _video_with(
        tmp_path, "pgs.mkv", "-i", str(pgs), "-map", "0", "-map", "1", "-c:s", "copy"
    )
    with pytest.raises(SubtitleFormatError, match=r"bitmap.*OCR"):
        load_subtitles(only_bitmap)
    both = _video_with(
        tmp_path,
        "both.mkv",
        "-i",
        str(pgs),
        "-i",
        str(subtitles),
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "2",
        "-c:s:0",
        "copy",
        "-c:s:1",
        "srt",
    )
    assert load_subtitles(both).format == "embedded:1"  # the first *text* stream
    assert len(load_subtitles(both, stream_index=1).events) == 2
    with pytest.raises(SubtitleFormatError, match="stream 0 is a bitmap stream"):
        load_subtitles(both, stream_index=0)
    with pytest.raises(SubtitleFormatError, match="no subtitle stream 2: the file has 2"):
        load_subtitles(both, stream_index=2)


def test_garbage_with_a_video_extension(tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"not a video at all" * 10)
    with pytest.raises(SubtitleFormatError, match=r"fake\.mp4: cannot open as a media file"):
        load_subtitles(path)


def test_negative_srt_and_sbv_times_keep_their_sign(tmp_path: Path) -> None:
    """pysubs2 reads ``-00:00:01,000`` as 1 s: the loader puts the sign back, and the
    timing fixes drop the event as a negative timestamp instead of cutting it at 1-1.5 s."""
    from empathynet.subtitles import load_utterances

    srt = _write(
        tmp_path,
        "negative.srt",
        "1\n-00:00:01,000 --> 00:00:01,500\nHello there.\n\n"
        "2\n00:00:02,000 --> -00:00:03,000\nBack in time.\n\n"
        "3\n00:00:04,000 --00:00:05,000\nA sloppy arrow.\n\n"
        "4\n00:00:06,000 --> 00:00:07,000\nFine.\n",
    )
    events = load_subtitles(srt).events
    assert [(e.start_ms, e.end_ms) for e in events] == [
        (-1000, 1500),
        (2000, -3000),
        (4000, 5000),
        (6000, 7000),
    ]
    result = load_utterances(srt)
    assert [(u.start_ms, u.text) for u in result.utterances] == [
        (4000, "A sloppy arrow."),
        (6000, "Fine."),
    ]
    assert result.report.counts["absurd_time_dropped"] == 2
    warnings = [w for w in result.report.warnings if "negative timestamp" in w]
    assert len(warnings) == 2 and "line 2, -00:00:01.000" in warnings[0]
    assert "'Hello there.'" in warnings[0]
    sbv = _write(tmp_path, "negative.sbv", "-0:00:01.000,0:00:01.500\nHello there.\n")
    assert [(e.start_ms, e.end_ms) for e in load_subtitles(sbv).events] == [(-1000, 1500)]
