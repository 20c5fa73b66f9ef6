"""Fixtures of the blur tests: generated voices (see voices.py) and espeak-ng speech."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from empathynet.demo import Phrase, synthesize

from .voices import Voice, glottal_voice


@pytest.fixture(scope="session")
def make_voice() -> Callable[..., Voice]:
    """``glottal_voice`` (see its docstring for the keyword arguments)."""
    return glottal_voice


@pytest.fixture(scope="session")
def espeak_voices() -> list[tuple[np.ndarray, int]]:
    """Two espeak-ng sentences (female and male voice), float32 at espeak's own rate."""
    speeches = synthesize(
        [
            Phrase("The quick brown fox jumps over the lazy dog, said the old man."),
            Phrase("Hello there, how are you today?", voice="en-us+m3"),
        ]
    )
    return [(s.samples.astype(np.float32) / 32768.0, s.sample_rate) for s in speeches]
