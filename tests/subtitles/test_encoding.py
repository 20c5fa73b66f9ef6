"""Encoding detection of subtitle bytes: BOMs, UTF-8, BOM-less UTF-16/32, legacy code pages."""

from __future__ import annotations

import random

import pytest

from conftest import shared_path
from empathynet.errors import SubtitleEncodingError
from empathynet.subtitles.encoding import LEGACY_ENCODINGS, decode_subtitle_bytes

BOM_FILES = {
    "pysrt_bom-utf-8.srt": "utf-8-sig",
    "pysrt_bom-utf-16-le.srt": "utf-16-le",
    "pysrt_bom-utf-16-be.srt": "utf-16-be",
    "pysrt_bom-utf-32-le.srt": "utf-32-le",
    "pysrt_bom-utf-32-be.srt": "utf-32-be",
}


def _srt(lines: list[str]) -> str:
    return "".join(
        f"{number}\n00:00:{number:02d},000 --> 00:00:{number + 1:02d},500\n{line}\n\n"
        for number, line in enumerate(lines, 1)
    )


def _vttjs_text(name: str) -> str:
    """The foreign-language line of a vtt.js conformance file (its cue identifier)."""
    path = shared_path("subtitles", "vttjs", "cuetext", "languages", f"{name}.vtt")
    return path.read_text(encoding="utf-8-sig").split("\n")[2].strip()


# --------------------------------------------------------------------------- real files


@pytest.mark.real
def test_bom_variants_decode_identically() -> None:
    folder = shared_path("subtitles", "pysrt")
    decoded = {
        name: decode_subtitle_bytes((folder / name).read_bytes(), name) for name in BOM_FILES
    }
    reference = decoded["pysrt_bom-utf-8.srt"][0]
    assert reference.startswith("1\n00:00:06,500 --> 00:00:09,000\nAbout 2 months ago")
    assert "\ufeff" not in reference
    for name, (text, encoding) in decoded.items():
        assert encoding == BOM_FILES[name], name
        assert text == reference, name


@pytest.mark.real
def test_windows_1252_film_decodes_like_its_utf8_copy() -> None:
    folder = shared_path("subtitles", "pysrt")
    cp1252_bytes = (folder / "pysrt_windows-1252.srt").read_bytes()
    assert b"\r\n" in cp1252_bytes and b"pr\xe9sentateur" in cp1252_bytes  # really cp1252 + CRLF
    text, encoding = decode_subtitle_bytes(cp1252_bytes, "pysrt_windows-1252.srt")
    utf8_text, utf8_encoding = decode_subtitle_bytes(
        (folder / "pysrt_utf-8.srt").read_bytes(), "pysrt_utf-8.srt"
    )
    assert (encoding, utf8_encoding) == ("cp1252", "utf-8")
    assert "\r" not in text
    assert "où le présentateur local\nrégnait en maître." in text
    assert "J'ai mangé des côtelettes." in text
    assert text == utf8_text


@pytest.mark.real
def test_libass_nonunicode_font_files_are_utf8_with_their_script() -> None:
    # The "non-Unicode" in these libass tests is the fonts' cmap; the files are UTF-8.
    folder = shared_path("subtitles", "libass")
    expected = {
        "libass_font_nonunicode__big5-hkscs.ass": "文鼎新藝體 訐解 古天",
        "libass_font_nonunicode__shiftjis.ass": "君の隣でずっと変わらずに護るだろう",
        "libass_font_nonunicode__legacy-arabic-simplified.ass": ",ج",
    }
    for name, dialogue in expected.items():
        text, encoding = decode_subtitle_bytes((folder / name).read_bytes(), name)
        assert encoding == "utf-8"
        assert dialogue in text


@pytest.mark.real
@pytest.mark.parametrize(
    ("name", "codecs"),
    [
        ("long_string_russian", ["cp1251", "koi8_r", "cp866", "iso8859_5"]),
        ("long_string_greek", ["cp1253", "iso8859_7"]),
        ("long_string_arabic", ["cp1256", "iso8859_6"]),
        ("long_string_hebrew", ["cp1255", "iso8859_8"]),
        ("long_string_thai", ["cp874"]),
        ("long_string_chinese", ["gb18030"]),
        ("long_string_korean", ["euc_kr", "cp949"]),
        ("japanese", ["shift_jis", "euc_jp"]),
        ("russian", ["cp1251", "koi8_r"]),
        ("greek", ["cp1253"]),
        ("arabic", ["cp1256"]),
        ("korean", ["euc_kr"]),
        ("thai", ["cp874"]),
    ],
)
def test_real_language_text_in_legacy_code_pages(name: str, codecs: list[str]) -> None:
    # KOI8-R, CP866 and ISO 8859-5 have no em dash
    text = _srt([_vttjs_text(name).replace("—", "-")] * 3)
    for codec in codecs:
        decoded, encoding = decode_subtitle_bytes(text.encode(codec), f"{name}.srt")
        assert decoded == text, (codec, encoding)


@pytest.mark.real
@pytest.mark.parametrize("codec", ["big5hkscs", "big5"])
def test_libass_big5_dialogue_round_trips(codec: str) -> None:
    dialogue = "文鼎新藝體 訐解 古天"
    assert dialogue in shared_path(
        "subtitles", "libass", "libass_font_nonunicode__big5-hkscs.ass"
    ).read_text("utf-8")
    text = _srt([dialogue, "從岸到彼岸", dialogue])
    decoded, encoding = decode_subtitle_bytes(text.encode(codec), "big5.srt")
    assert decoded == text
    assert encoding in ("big5", "big5hkscs", "cp950")


@pytest.mark.real
@pytest.mark.parametrize("codec", ["shift_jis", "cp932", "euc_jp"])
def test_libass_shift_jis_dialogue_round_trips(codec: str) -> None:
    dialogue = "君の隣でずっと変わらずに護るだろう"
    text = _srt([dialogue, "こんにちは、元気ですか？", dialogue])
    decoded, _ = decode_subtitle_bytes(text.encode(codec), "sjis.srt")
    assert decoded == text


# --------------------------------------------------------------------------- generated text

# Everyday sentences written for these tests, one file per language.
SENTENCES = {
    "french": ["Salut ! Ça va ?", "Très bien, merci. Et toi ?", "On rentre à la maison, déjà."],
    "german": ["Hallo! Wie geht's?", "Danke schön.", "Grüße aus der Straße, es ist spät."],
    "spanish": ["¡Hola! ¿Qué tal?", "Muy bien, gracias. ¿Y tú?", "Vámonos, señor."],
    "polish": ["Cześć! Jak się masz?", "Dziękuję, wszystko dobrze.", "Chodźmy, jest późno."],
    "czech": ["Ahoj! Jak se máš?", "Děkuji, mám se dobře.", "Pojďme domů, už je pozdě."],
    "turkish": ["Pijamalı hasta yağız şoföre güvendi.", "Bugün hava çok güzel.", "Şimdi ne?"],
    "ukrainian": ["Привіт! Як справи?", "Все добре, дякую.", "Ходімо додому, вже пізно."],
    "hebrew": ["שלום, מה שלומך?", "אני בסדר, תודה. ומה איתך?", "בוא נלך הביתה."],
    "arabic": ["مرحبا، كيف حالك؟", "أنا بخير، شكرا لك.", "هيا نذهب إلى البيت."],
    "chinese_traditional": ["你好，你今天過得怎麼樣？", "我很好，謝謝你。", "我們回家吧。"],
    "chinese_simplified": ["你好，你今天过得怎么样？", "我很好，谢谢你。", "我们回家吧。"],
    "japanese": ["こんにちは、元気ですか？", "はい、元気です。", "もう遅いから帰りましょう。"],
    "korean": ["안녕하세요, 잘 지내세요?", "네, 잘 지내요. 감사합니다.", "집에 갑시다."],
}
CODECS = {
    "french": ["cp1252", "iso8859_15"],
    "german": ["cp1252"],
    "spanish": ["cp1252"],
    "polish": ["cp1250", "iso8859_2"],
    "czech": ["cp1250"],
    "turkish": ["cp1254", "iso8859_9"],
    "ukrainian": ["cp1251", "koi8_u"],
    "hebrew": ["cp1255"],
    "arabic": ["cp1256"],
    "chinese_traditional": ["big5", "cp950"],
    "chinese_simplified": ["gb18030"],
    "japanese": ["shift_jis", "cp932", "euc_jp"],
    "korean": ["euc_kr", "cp949"],
}


@pytest.mark.parametrize(
    ("language", "codec"),
    [(language, codec) for language, codecs in CODECS.items() for codec in codecs],
)
def test_short_dialogues_in_legacy_code_pages(language: str, codec: str) -> None:
    text = _srt(SENTENCES[language])
    decoded, encoding = decode_subtitle_bytes(text.encode(codec), f"{language}.srt")
    assert decoded == text, encoding
    assert encoding in LEGACY_ENCODINGS


def test_latin_text_prefers_cp1252_over_other_code_pages() -> None:
    # charset-normalizer alone read French cp1252 as hp_roman8 / cp1250 on short text.
    text = _srt(["Là où tu vas, je ne sais pas.", "C'était l'été à Noël."])
    decoded, encoding = decode_subtitle_bytes(text.encode("cp1252"), "fr.srt")
    assert (decoded, encoding) == (text, "cp1252")
    ascii_only = _srt(["Plain English."]).encode("ascii")
    assert decode_subtitle_bytes(ascii_only, "en.srt") == (ascii_only.decode(), "utf-8")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_unicode_without_bom_from_nul_pattern(codec: str) -> None:
    text = _srt(["Où est la bibliothèque ?", "Привет", "你好"])
    assert decode_subtitle_bytes(text.encode(codec), "wide.srt") == (text, codec)


def test_newlines_are_normalised_and_eof_padding_removed() -> None:
    data = b"1\r\n00:00:01,000 --> 00:00:02,000\r\nOne\rTwo\r\n\r\n\x1a\x00"
    text, _ = decode_subtitle_bytes(data, "dos.srt")
    assert text == "1\n00:00:01,000 --> 00:00:02,000\nOne\nTwo\n\n"


def test_empty_bytes() -> None:
    assert decode_subtitle_bytes(b"", "empty.srt") == ("", "utf-8")


def test_utf32_bom_checked_before_utf16() -> None:
    text = "1\n00:00:01,000 --> 00:00:02,000\nHi\n"
    data = b"\xff\xfe\x00\x00" + text.encode("utf-32-le")
    assert decode_subtitle_bytes(data, "x.srt") == (text, "utf-32-le")


@pytest.mark.parametrize(
    "data",
    [
        random.Random(0).randbytes(4096),
        random.Random(1).randbytes(300),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        bytes(range(32)) * 20,
    ],
    ids=["random-4k", "random-300", "png", "controls"],
)
def test_binary_data_is_an_encoding_error(data: bytes) -> None:
    with pytest.raises(SubtitleEncodingError) as raised:
        decode_subtitle_bytes(data, "/videos/binary.srt")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("/videos/binary.srt")


def test_bom_contradicted_by_content_gives_position() -> None:
    data = b"\xef\xbb\xbf1\n00:00:01,000 --> 00:00:02,000\nbad \xff byte\n"
    with pytest.raises(SubtitleEncodingError, match=r"mixed\.srt, byte 39: .*utf-8"):
        decode_subtitle_bytes(data, "mixed.srt")


def test_valid_utf8_with_some_junk_characters_is_kept() -> None:
    # vtt.js' junk_characters test: control characters inside valid UTF-8 stay for cleaning.
    text = "WEBVTT\n\n00:00.000 --> 00:01.000\nok \x01\x02 " + "text " * 20 + "\n"
    assert decode_subtitle_bytes(text.encode(), "junk.vtt") == (text, "utf-8")
