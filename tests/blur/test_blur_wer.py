"""Text normalisation and word error rate."""

from __future__ import annotations

import pytest

from empathynet.blur.wer import (
    align_words,
    content_words,
    normalize_words,
    number_words,
    word_error_rate,
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hello, World!", ["hello", "world"]),
        (
            "Well-dressed people — hither/thither",
            ["well", "dressed", "people", "hither", "thither"],
        ),
        ("Don’t STOP", ["don't", "stop"]),
        ("'Quoted' words", ["quoted", "words"]),
        ("F2 now", ["f", "two", "now"]),
        ("21st of 1,000 cats", ["twenty", "first", "of", "one", "thousand", "cats"]),
        ("3.5 or 12th or 40th", ["three", "point", "five", "or", "twelfth", "or", "fortieth"]),
        ("50% & more", ["fifty", "percent", "and", "more"]),
        ("", []),
        ("...", []),
    ],
)
def test_normalize_words(text: str, words: list[str]) -> None:
    assert normalize_words(text) == words


def test_number_words() -> None:
    assert number_words(0) == "zero"
    assert number_words(15) == "fifteen"
    assert number_words(90) == "ninety"
    assert number_words(105) == "one hundred five"
    assert number_words(2024) == "two thousand twenty four"
    assert number_words(3_000_001) == "three million one"
    with pytest.raises(ValueError):
        number_words(-1)


def test_alignment_counts() -> None:
    reference = ["the", "cat", "sat", "on", "the", "mat"]
    assert align_words(reference, reference).wer == 0.0
    substituted = align_words(reference, ["the", "dog", "sat", "on", "the", "mat"])
    assert (substituted.substitutions, substituted.deletions, substituted.insertions) == (1, 0, 0)
    assert substituted.hits == 5
    deleted = align_words(reference, ["the", "cat", "on", "the", "mat"])
    assert (deleted.substitutions, deleted.deletions, deleted.insertions) == (0, 1, 0)
    inserted = align_words(reference, ["the", "cat", "sat", "down", "on", "the", "mat"])
    assert (inserted.substitutions, inserted.deletions, inserted.insertions) == (0, 0, 1)
    assert align_words(reference, []).wer == 1.0
    # Invented words push the WER past 1.
    assert align_words(["hi"], ["beep", "beep", "beep"]).wer == 3.0
    assert align_words([], ["anything"]).wer is None


def test_word_error_rate_on_normalised_text() -> None:
    reference = "AS I APPROACHED THE CITY I HEARD BELLS RINGING"
    assert word_error_rate(reference, "As I approached the city, I heard bells ringing.") == 0.0
    assert word_error_rate("a stir", "astir") == 1.0
    assert word_error_rate("Lay blue by C two again.", "Lay blue by C2 again") == 0.0
    assert word_error_rate("", "words") is None


def test_content_words_leave_out_function_words() -> None:
    assert content_words(normalize_words("I heard the bells and the city")) == {
        "heard",
        "bells",
        "city",
    }
