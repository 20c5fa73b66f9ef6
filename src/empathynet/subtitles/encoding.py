"""Detect the text encoding of a subtitle file and decode it.

Order: byte-order marks, strict UTF-8, BOM-less UTF-16/32 (recognised by their NUL-byte
pattern), then legacy code pages. For legacy code pages charset-normalizer proposes
candidates from a fixed list of common subtitle encodings (left to itself it read French
cp1252 as ``hp_roman8``), and each candidate's decoded text is scored for signs of a wrong
guess: control characters, symbols inside words, letters from two scripts in one word,
an upper-case letter straight after a lower-case one (cp1251 read as KOI8-R), rare CJK
forms. Latin text that cp1252 decodes cleanly is read as cp1252.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from dataclasses import dataclass

from charset_normalizer import from_bytes

from empathynet.errors import SubtitleEncodingError

__all__ = ["LEGACY_ENCODINGS", "decode_subtitle_bytes", "normalise_newlines"]

# Longest checked in order: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be", "utf-16-be"),
)

#: Legacy code pages a subtitle file may plausibly use, most common first (the order breaks
#: ties). Python codec names; nothing exotic, so a guess can never be ``hp_roman8`` and the like.
LEGACY_ENCODINGS: tuple[str, ...] = (
    "cp1252",
    "iso8859_15",
    "cp1250",
    "iso8859_2",
    "cp1251",
    "koi8_r",
    "koi8_u",
    "cp866",
    "iso8859_5",
    "cp1253",
    "iso8859_7",
    "cp1254",
    "iso8859_9",
    "cp1255",
    "iso8859_8",
    "cp1256",
    "iso8859_6",
    "cp1257",
    "cp1258",
    "cp874",
    "gb18030",
    "big5",
    "big5hkscs",
    "cp950",
    "shift_jis",
    "cp932",
    "euc_jp",
    "euc_kr",
    "cp949",
)

# Share of characters that may be control / unassigned / private-use before a decoding is
# called implausible. Real subtitles have next to none. A legacy code page decodes any bytes,
# so its text must be clean; valid UTF-8 (or text behind a byte-order mark) checks itself,
# and junk inside it is left for the cleaning stage.
_MAX_BAD_FRACTION = 0.01
_MAX_BAD_FRACTION_UTF = 0.1
# Only this many characters of a decoded text are scored: enough to tell code pages apart,
# and it keeps large files cheap.
_SCORE_CHARS = 20_000
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_BAD_CATEGORIES = frozenset({"Cc", "Cn", "Co", "Cs"})
_JAPANESE = frozenset({"shift_jis", "cp932", "euc_jp"})
#: The accented letters of the Latin-script languages the legacy code pages serve.
_LATIN_ALPHABETS: tuple[frozenset[str], ...] = tuple(
    frozenset(letters)
    for letters in (
        "àâæçéèêëîïôœùûüÿ",  # French
        "äöüß",  # German
        "áéíñóúü",  # Spanish
        "áâãàçéêíóôõú",  # Portuguese
        "àèéìíîòóùú",  # Italian
        "àçèéíïòóúü",  # Catalan
        "éèëïóöüáàâêîôûç",  # Dutch (with French loans)
        "æøåéóôàü",  # Danish, Norwegian
        "åäöéü",  # Swedish, Finnish
        "áðéíóúýþæö",  # Icelandic
        "ąćęłńóśźż",  # Polish
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "čćđšž",  # Croatian, Bosnian, Serbian, Slovene
        "áéíóöőúüű",  # Hungarian
        "ăâîșțşţ",  # Romanian
        "çğıöşüî",  # Turkish
        "ąčęėįšųūž",  # Lithuanian
        "āčēģīķļņšūž",  # Latvian
        "äõöüšž",  # Estonian
        "âêîôûŵŷáéíóúàèìòùäëïöüÿ",  # Welsh
    )
)


def decode_subtitle_bytes(data: bytes, path: str) -> tuple[str, str]:
    """Decode the raw bytes of a subtitle file.

    Args:
        data: the whole file.
        path: the file's path, used in error messages only.

    Returns:
        ``(text, encoding)``: the text without byte-order mark, with newlines normalised to
        ``"\\n"`` and trailing NUL / DOS end-of-file (``\\x1a``) padding removed; and the
        Python codec name that decoded it (``"utf-8"``, ``"utf-8-sig"``, ``"utf-16-le"``,
        ``"cp1252"``, ...). Empty input gives ``("", "utf-8")``.

    Raises:
        SubtitleEncodingError: the bytes contradict their byte-order mark, or no candidate
            encoding gives plausible text (binary data, many control characters).
    """
    if not data:
        return "", "utf-8"
    decoded = _decode_with_bom(data, path) or _decode_without_bom(data, path)
    text, name, max_bad_fraction = decoded
    text = normalise_newlines(text).rstrip("\x00\x1a")
    bad = _count_bad_characters(text)
    if bad > max_bad_fraction * len(text):
        raise SubtitleEncodingError(
            f"not text in any supported encoding: {bad} of {len(text)} characters are control "
            f"characters when read as {name}",
            path,
        )
    return text, name


def _decode_with_bom(data: bytes, path: str) -> tuple[str, str, float] | None:
    for bom, codec, name in _BOMS:
        if not data.startswith(bom):
            continue
        try:
            return data[len(bom) :].decode(codec), name, _MAX_BAD_FRACTION_UTF
        except UnicodeDecodeError as error:
            if codec == "utf-32-le":
                # FF FE 00 00 may also be a UTF-16 LE mark followed by a NUL character.
                continue
            raise SubtitleEncodingError(
                f"starts with a {codec} byte-order mark but is not valid {codec}: {error.reason}",
                path,
                f"byte {error.start + len(bom)}",
            ) from None
    return None


def _decode_without_bom(data: bytes, path: str) -> tuple[str, str, float]:
    wide = _guess_wide_unicode(data)
    if wide is not None:
        try:
            return data.decode(wide), wide, _MAX_BAD_FRACTION
        except UnicodeDecodeError:
            pass  # the NUL pattern was a coincidence: try the byte-oriented encodings
    try:
        return data.decode("utf-8"), "utf-8", _MAX_BAD_FRACTION_UTF
    except UnicodeDecodeError:
        pass
    text, codec = _decode_legacy(data, path)
    return text, codec, _MAX_BAD_FRACTION


def _guess_wide_unicode(data: bytes) -> str | None:
    """UTF-32/UTF-16 without BOM, from where the NUL bytes sit in mostly-ASCII text."""
    sample = data[:4096]
    if sample.count(0) < len(sample) // 4:
        return None

    def zero_fraction(offset: int, step: int) -> float:
        part = sample[offset::step]
        return part.count(0) / len(part) if part else 0.0

    if len(data) % 4 == 0 and len(sample) >= 4:
        zeros = [zero_fraction(k, 4) for k in range(4)]
        if min(zeros[1:]) > 0.9 and zeros[0] < 0.1:
            return "utf-32-le"
        if min(zeros[:3]) > 0.9 and zeros[3] < 0.1:
            return "utf-32-be"
    if len(data) % 2 == 0:
        even, odd = zero_fraction(0, 2), zero_fraction(1, 2)
        if odd > 0.5 and even < 0.1:
            return "utf-16-le"
        if even > 0.5 and odd < 0.1:
            return "utf-16-be"
    return None


@dataclass(frozen=True)
class _Candidate:
    codec: str
    text: str
    penalty: float  # suspicious characters per scored non-ASCII character
    coherence: float  # charset-normalizer's language coherence, 0..1
    chaos: float  # charset-normalizer's mess ratio, 0..1 (1 when it did not propose the codec)
    rank: int  # position in LEGACY_ENCODINGS: how common the code page is
    latin: bool  # the non-ASCII letters are Latin (or there are none)


def _decode_legacy(data: bytes, path: str) -> tuple[str, str]:
    # Legacy code pages never use C0 control bytes for text: binary data stops here,
    # before the costlier detection.
    controls = sum(data.count(byte) for byte in range(32) if chr(byte) not in _ALLOWED_CONTROLS)
    if controls > _MAX_BAD_FRACTION * len(data):
        raise SubtitleEncodingError(
            f"binary data, not text: {controls} control bytes in {len(data)}", path
        )
    # charset-normalizer ranks the candidates and measures language coherence; every
    # candidate is also decoded and scored here, because on short texts it often proposes
    # a wrong code page first or leaves the right one out.
    measures: dict[str, tuple[float, float]] = {}
    for match in from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)):
        measures.setdefault(match.encoding, (match.coherence, match.chaos))

    candidates: list[_Candidate] = []
    for codec in LEGACY_ENCODINGS:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _count_bad_characters(text) > _MAX_BAD_FRACTION * len(text):
            continue
        penalty, latin = _score(text, japanese=codec in _JAPANESE)
        coherence, chaos = measures.get(codec, (0.0, 1.0))
        rank = LEGACY_ENCODINGS.index(codec)
        candidates.append(_Candidate(codec, text, penalty, coherence, chaos, rank, latin))
    if not candidates:
        raise SubtitleEncodingError(
            "not valid UTF-8 and no common legacy encoding gives plausible text", path
        )
    best_penalty = min(candidate.penalty for candidate in candidates)
    # Within a small margin the scores cannot tell code pages apart: then prefer cp1252 for
    # Latin text (the most common legacy subtitle encoding), else the most coherent language,
    # the least messy text, the most common code page.
    close = [c for c in candidates if c.penalty <= best_penalty + 0.02]
    for candidate in close:
        if candidate.codec == "cp1252" and candidate.latin:
            return candidate.text, candidate.codec
    chosen = min(close, key=lambda c: (-round(c.coherence, 1), round(c.chaos, 3), c.rank))
    return chosen.text, chosen.codec


def _count_bad_characters(text: str) -> int:
    """Characters real subtitle text does not contain: controls, unassigned, private use."""
    # per distinct character: cheap even for 50 MB of CJK text
    return sum(
        count
        for char, count in Counter(text).items()
        if char not in _ALLOWED_CONTROLS and unicodedata.category(char) in _BAD_CATEGORIES
    )


@functools.lru_cache(maxsize=65_536)
def _char_info(char: str) -> tuple[str, str, float]:
    """``(category, script, rarity)`` of a non-ASCII character.

    ``script`` is a coarse name for letters (LATIN, CYRILLIC, HAN, HANGUL, KANA, ...) and
    ``""`` otherwise; ``rarity`` is 1 for forms that real text seldom uses and that wrong
    multi-byte decodings produce often.
    """
    category = unicodedata.category(char)
    if category[0] == "C":
        return category, "", 1.0  # C1 controls: Latin-1 reading bytes another code page uses
    if "\ufe10" <= char <= "\ufe6f":
        return category, "", 1.0  # vertical and small punctuation forms
    if category[0] != "L":
        return category, "", 0.0
    name = unicodedata.name(char, "")
    head = name.split(" ", 1)[0] if name else "UNKNOWN"
    if head == "CJK":
        return category, "HAN", 0.0 if _is_common_han(char) else 1.0
    if head in ("HIRAGANA", "KATAKANA"):
        return category, "KANA", 0.0
    if head == "HANGUL":
        # KS X 1001's 2,350 syllables; Python's euc_kr spells the others as 8-byte sequences
        common = "SYLLABLE" in name and len(_encode(char, "euc_kr")) == 2
        return category, "HANGUL", 0.0 if common else 1.0
    # Eth and thorn are Icelandic only; Turkish cp1254 read as cp1252 is full of them.
    rare = head in ("HALFWIDTH", "UNKNOWN") or "COMPATIBILITY" in name or char in "ðþÐÞ"
    return category, head, 1.0 if rare else 0.0


def _encode(char: str, codec: str) -> bytes:
    """``char`` in ``codec``, or ``b""`` when the codec cannot encode it."""
    try:
        return char.encode(codec)
    except UnicodeEncodeError:
        return b""


def _is_common_han(char: str) -> bool:
    """In GB2312, Big5's frequent-character block or JIS X 0208 level 1.

    Text decoded with the right code page uses these almost only; a wrong multi-byte code
    page scatters characters over the whole ideograph block.
    """
    if _encode(char, "gb2312"):
        return True
    big5 = _encode(char, "big5")
    if len(big5) == 2 and 0xA4 <= big5[0] <= 0xC6:
        return True
    sjis = _encode(char, "shift_jis")
    return len(sjis) == 2 and (0x88, 0x9F) <= (sjis[0], sjis[1]) <= (0x98, 0x72)


def _score(text: str, *, japanese: bool) -> tuple[float, bool]:
    """Suspicious characters per non-ASCII character, and whether the letters are Latin.

    A wrong code page turns letters into symbols inside words ("Zaż³ó"), mixes two scripts in
    one word ("dйjа"), makes whole words of accented Latin letters ("Ñåìüÿ" for cp1251 read
    as cp1252), puts capitals after small letters ("щРН" for cp1251 read as KOI8-R) or
    produces rare forms (rare ideographs and Hangul syllables, half-width katakana, kana
    outside a Japanese code page).
    """
    sample = text[:_SCORE_CHARS]
    scripts: dict[str, int] = {}
    cases: dict[str, int] = {"Lu": 0, "Ll": 0}  # non-ASCII capitals and small letters
    latin_letters: Counter[str] = Counter()  # accented Latin letters, lower-cased
    suspicious = 0.0
    non_ascii = 0
    word_length = 0  # letters in the current word
    word_all_accented_latin = True
    previous = " "
    previous_category = "Zs"
    for position, char in enumerate(sample):
        if char < "\x80":
            is_letter = char.isalpha()
            category = "L" if is_letter else "Zs"
            script = "ASCII" if is_letter else ""
        else:
            non_ascii += 1
            category, script, rarity = _char_info(char)
            suspicious += rarity
            if script == "KANA" and not japanese:
                suspicious += 0.5  # Chinese and Korean code pages have kana, texts seldom do
            following = sample[position + 1] if position + 1 < len(sample) else " "
            if script:
                scripts[script] = scripts.get(script, 0) + 1
                if script == "LATIN":
                    latin_letters[char.lower()] += 1
                if category in cases:
                    cases[category] += 1
                if script != "LATIN" and (
                    _is_ascii_letter(previous) or _is_ascii_letter(following)
                ):
                    suspicious += 1  # e.g. French "déjà" read as cp1251
                if category == "Lu" and previous_category == "Ll":
                    suspicious += 1
            elif category in ("Mn", "Mc") and previous_category[0] != "L":
                suspicious += 1  # a combining vowel or tone mark with no letter to sit on
            elif (
                (category[0] in ("S", "N") or category in ("Lm", "Po"))
                and char not in "¡¿"
                and not ("\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uff65")
            ):
                # symbols glued to letters, "Za¿ó³æ" (Polish read as cp1252); CJK punctuation
                # is meant to touch its neighbours
                glued = (previous_category[0] == "L") + _is_letter(following)
                suspicious += 0.5 * glued
        if script:
            word_length += 1
            word_all_accented_latin = word_all_accented_latin and script == "LATIN"
        else:
            if word_length >= 3 and word_all_accented_latin:
                suspicious += word_length
            word_length = 0
            word_all_accented_latin = True
        previous, previous_category = char, category
    if word_length >= 3 and word_all_accented_latin:
        suspicious += word_length
    if non_ascii == 0:
        return 0.0, True
    dominant = _dominant_group(scripts)
    for script, count in scripts.items():
        if script not in _compatible_scripts(dominant):
            suspicious += count
    if dominant == "LATIN":
        # Accented letters no single language uses together ("ì ø š" for Czech cp1250 read
        # as cp1252) betray a wrong code page.
        covered = max(
            sum(count for letter, count in latin_letters.items() if letter in alphabet)
            for alphabet in _LATIN_ALPHABETS
        )
        suspicious += latin_letters.total() - covered
    ratio = suspicious / non_ascii
    if dominant not in ("LATIN", None) and sum(cases.values()) >= 20 and min(cases.values()) == 0:
        # A cased script (Cyrillic, Greek) with no capital at all, or only capitals, is how
        # a caseless one (Hebrew, Arabic) looks through the wrong code page.
        ratio += 0.1
    return ratio, dominant in ("LATIN", None)


def _dominant_group(scripts: dict[str, int]) -> str | None:
    groups: dict[str, int] = {}
    for script, count in scripts.items():
        group = "CJK" if script in ("HAN", "KANA") else script
        groups[group] = groups.get(group, 0) + count
    return max(groups, key=lambda group: groups[group]) if groups else None


def _compatible_scripts(dominant: str | None) -> frozenset[str]:
    if dominant == "CJK":
        return frozenset({"HAN", "KANA", "LATIN"})
    # Only ASCII letters (never counted here) may mix freely with another script, so
    # accented Latin letters in a Cyrillic text still count against it.
    return frozenset({dominant}) if dominant else frozenset()


def _is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] == "L"


def normalise_newlines(text: str) -> str:
    """``"\\r\\n"`` and lone ``"\\r"`` line breaks -> ``"\\n"``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
