"""Word error rate on normalised text, for the blur's intelligibility check.

Both texts are normalised the same way before the words are aligned: Unicode
NFKC, lower case, numbers written out as words ("2" -> "two", "21st" ->
"twenty first", "3.5" -> "three point five"), hyphens, dashes and slashes as word
breaks, every other punctuation mark removed (apostrophes inside words stay:
"don't"). The alignment is the word-level Levenshtein distance; WER is
(substitutions + deletions + insertions) / reference words, so it can pass 1
when the recogniser invents words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
#: Words that carry no content on their own: two shared content words between a
#: blurred transcript and the reference are evidence that words got through.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "can't",
        "cannot",
        "could",
        "couldn't",
        "did",
        "didn't",
        "do",
        "does",
        "doesn't",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "hadn't",
        "has",
        "hasn't",
        "have",
        "haven't",
        "having",
        "he",
        "he'd",
        "he'll",
        "he's",
        "her",
        "here",
        "here's",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "how's",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "let's",
        "me",
        "more",
        "most",
        "mustn't",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "oh",
        "on",
        "once",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "shan't",
        "she",
        "she'd",
        "she'll",
        "she's",
        "should",
        "shouldn't",
        "so",
        "some",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "there's",
        "these",
        "they",
        "they'd",
        "they'll",
        "they're",
        "they've",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "us",
        "very",
        "was",
        "wasn't",
        "we",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "were",
        "weren't",
        "what",
        "what's",
        "when",
        "when's",
        "where",
        "where's",
        "which",
        "while",
        "who",
        "who's",
        "whom",
        "why",
        "why's",
        "will",
        "with",
        "won't",
        "would",
        "wouldn't",
        "yeah",
        "yes",
        "you",
        "you'd",
        "you'll",
        "you're",
        "you've",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "uh",
        "um",
        "ah",
        "mm",
        "hmm",
        "okay",
        "ok",
        "well",
    ]
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?")


def number_words(value: int) -> str:
    """A non-negative integer written out in English words (``21`` -> ``twenty one``)."""
    if value < 0:
        raise ValueError(f"number_words needs a non-negative integer, got {value}")
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] if ones == 0 else f"{_TENS[tens]} {_ONES[ones]}"
    for scale, name in _SCALES:
        if value >= scale:
            high, rest = divmod(value, scale)
            head = f"{number_words(high)} {name}"
            return head if rest == 0 else f"{head} {number_words(rest)}"
    raise AssertionError("unreachable")  # every value >= 100 meets the hundred scale


def _ordinal(words: str) -> str:
    *head, last = words.split()
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _spell_number(match: re.Match[str]) -> str:
    token = match.group(0)
    suffix = token[-2:] if token[-2:] in ("st", "nd", "rd", "th") else ""
    digits = token[: len(token) - len(suffix)]
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", digits):
        digits = digits.replace(",", "")  # thousands separators: 1,000
    if "," in digits:  # a list such as 1,2
        return " " + " ".join(number_words(int(part)) for part in digits.split(",")) + " "
    whole, _, fraction = digits.partition(".")
    if "." in fraction:  # a version or a date such as 1.2.3: read each part
        return " " + " ".join(number_words(int(part)) for part in digits.split(".")) + " "
    words = number_words(int(whole))
    if fraction:
        words += " point " + " ".join(_ONES[int(digit)] for digit in fraction)
    elif suffix:
        words = _ordinal(words)
    return f" {words} "


def normalize_words(text: str) -> list[str]:
    """The words of ``text`` after the normalisation described in the module docstring."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = text.replace("%", " percent ").replace("&", " and ")
    text = _NUMBER.sub(_spell_number, text)
    text = re.sub(r"[-\u2010-\u2015/_]", " ", text)
    text = re.sub(r"[^\w' ]", " ", text)
    words = (word.strip("'") for word in text.split())
    return [word for word in words if word]


def content_words(words: Sequence[str]) -> set[str]:
    """The words of ``words`` that are not in ``STOP_WORDS``."""
    return {word for word in words if word not in STOP_WORDS}


@dataclass(frozen=True)
class WordAlignment:
    """Counts of a minimum-edit alignment of hypothesis words to reference words."""

    reference_words: int
    hits: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        """Substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float | None:
        """Word error rate (0 = perfect; above 1 when words are invented); ``None``
        when the reference has no word."""
        return self.errors / self.reference_words if self.reference_words else None


def align_words(reference: Sequence[str], hypothesis: Sequence[str]) -> WordAlignment:
    """The Levenshtein alignment of two word sequences (unit costs), as counts.

    Of equally short alignments the one with the most hits is taken.
    """
    columns = len(hypothesis) + 1
    # Each cell: (errors, -hits, substitutions, deletions, insertions); tuples compare in order.
    previous = [(j, 0, 0, 0, j) for j in range(columns)]
    for i, ref_word in enumerate(reference, start=1):
        current = [(i, 0, 0, i, 0)]
        for j, hyp_word in enumerate(hypothesis, start=1):
            diagonal = previous[j - 1]
            if ref_word == hyp_word:
                match = (diagonal[0], diagonal[1] - 1, diagonal[2], diagonal[3], diagonal[4])
            else:
                match = (diagonal[0] + 1, diagonal[1], diagonal[2] + 1, diagonal[3], diagonal[4])
            up = previous[j]
            delete = (up[0] + 1, up[1], up[2], up[3] + 1, up[4])
            left = current[j - 1]
            insert = (left[0] + 1, left[1], left[2], left[3], left[4] + 1)
            current.append(min(match, delete, insert))
        previous = current
    _, negative_hits, substitutions, deletions, insertions = previous[-1]
    return WordAlignment(len(reference), -negative_hits, substitutions, deletions, insertions)


def word_error_rate(reference: str, hypothesis: str) -> float | None:
    """WER of ``hypothesis`` against ``reference`` after normalising both; ``None`` when
    the reference has no word."""
    return align_words(normalize_words(reference), normalize_words(hypothesis)).wer
