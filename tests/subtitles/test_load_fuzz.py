"""Fuzz the subtitle loader and the sentence rules: 10,000 random, mutated and generated files.

Whatever the bytes, ``load_subtitles`` returns ``LoadedSubtitles`` or raises an
``EmpathyNetError`` whose message is one line naming the file; never another exception.
What loads then goes through the whole utterance stage (fix, clean, sentences), which
must give well-formed utterances.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA
from empathynet.errors import EmpathyNetError
from empathynet.subtitles import utterances_from_loaded
from empathynet.subtitles.events import LoadedSubtitles
from empathynet.subtitles.load import load_subtitles

# Real files are cut to this many bytes: mutations near the start matter most, and it
# keeps 10,000 examples within the time budget.
SEED_BYTES = 8192
EXTENSIONS = [".srt", ".vtt", ".ass", ".ssa", ".sub", ".sbv", ".ttml", ".smi", ".txt", ""]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "cp1252", "cp1251", "gb18030"]

GENERATED_SEEDS = [
    "1\n00:00:01,000 --> 00:00:02,500\nHello <i>there</i>\n\n"
    "2\n00:00:03,000 --> 00:00:04,000\n- Hi.\n- Bye.\n",
    "WEBVTT\n\nNOTE hi\n\nid\n00:01.000 --> 00:02.000 align:start\n<v Ann>Hello</v>\n",
    "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    "Dialogue: 0,0:00:01.00,0:00:02.00,Default,Ann,0,0,0,,Hello\\Nthere\n",
    "{1}{1}23.976\n{24}{48}Hello|world\n",
    "0:00:01.000,0:00:02.000\nHello\n\n0:00:03.000,0:00:04.000\nWorld\n",
    '<tt xmlns="http://www.w3.org/ns/ttml"><body><div>'
    '<p begin="00:00:01.000" end="00:00:02.000">Hello<br/>there</p></div></body></tt>',
]


def _seeds() -> list[bytes]:
    seeds = [text.encode() for text in GENERATED_SEEDS]
    folder = SHARED_DATA / "subtitles"
    if folder.is_dir():  # without the real material the generated seeds still run
        seeds += [
            path.read_bytes()[:SEED_BYTES] for path in sorted(folder.rglob("*")) if path.is_file()
        ]
    return seeds


SEEDS = _seeds()


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        elif kind == "truncate":
            del data[position:]
        else:
            data[position:position] = data[position : position + draw(st.integers(1, 256))]
    return bytes(data)


def _timestamp(draw: st.DrawFn, style: str) -> str:
    shape = draw(st.sampled_from(["ok", "ok", "negative", "huge", "garbage", "short"]))
    if shape == "huge":
        return "9" * draw(st.integers(3, 5000)) + ":00:00,000"
    if shape == "garbage":
        return draw(st.text(alphabet="0123456789:.,-x ", max_size=16))
    ms = draw(st.integers(0, 10**9))
    hours, minutes, seconds, millis = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000
    mark = {"srt": ",", "vtt": ".", "ass": "."}[style]
    if style == "ass":
        text = f"{hours}:{minutes:02d}:{seconds:02d}.{millis // 10:02d}"
    else:
        text = f"{hours:02d}:{minutes:02d}:{seconds:02d}{mark}{millis:03d}"
    if shape == "negative":
        text = "-" + text
    if shape == "short":
        text = text[: draw(st.integers(0, len(text)))]
    return text


@st.composite
def generated_files(draw: st.DrawFn) -> bytes:
    style = draw(st.sampled_from(["srt", "vtt", "ass", "microdvd"]))
    lines = ["WEBVTT", ""] if style == "vtt" else []
    if style == "ass":
        lines += ["[Script Info]", "ScriptType: v4.00+", "", "[Events]"]
    for number in range(draw(st.integers(0, 8))):
        text = draw(st.text(max_size=40))
        if style == "microdvd":
            start, end = draw(st.integers(-(10**6), 10**12)), draw(st.integers(-(10**6), 10**12))
            lines.append(f"{{{start}}}{{{end}}}{text}")
            continue
        start, end = _timestamp(draw, style), _timestamp(draw, style)
        if style == "ass":
            kind = draw(st.sampled_from(["Dialogue", "Comment", "Style"]))
            lines.append(f"{kind}: 0,{start},{end},Default,,0,0,0,,{text}")
        else:
            lines += [str(number + 1), f"{start} --> {end}", text, ""]
    encoding = draw(st.sampled_from(ENCODINGS))
    return "\n".join(lines).encode(encoding, errors="replace")


inputs = st.one_of(st.binary(max_size=4096), mutated_files(), generated_files())


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.slow
@settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=inputs, extension=st.sampled_from(EXTENSIONS))
def test_loader_survives_random_and_mutated_files(
    fuzz_folder: Path, data: bytes, extension: str
) -> None:
    path = fuzz_folder / f"fuzzed{extension}"
    path.write_bytes(data)
    try:
        loaded = load_subtitles(path)
    except EmpathyNetError as error:
        event(type(error).__name__)  # the outcome mix shows in --hypothesis-show-statistics
        message = str(error)
        assert "\n" not in message
        assert path.name in message
        return
    event(f"loaded {loaded.format}")
    assert isinstance(loaded, LoadedSubtitles)
    assert [event.index for event in loaded.events] == list(range(len(loaded.events)))
    assert all(type(e.start_ms) is int and type(e.end_ms) is int for e in loaded.events)
    assert all("\n" not in warning for warning in loaded.warnings)

    result = utterances_from_loaded(loaded)
    known = {e.index for e in loaded.events}
    for utterance in result.utterances:
        assert 0 <= utterance.start_ms < utterance.end_ms
        assert utterance.text == utterance.text.strip()
        assert "\n" not in utterance.text
        assert utterance.event_ids and set(utterance.event_ids) <= known
    assert result.report.utterances == len(result.utterances)
    assert all("\n" not in warning for warning in result.report.warnings)
