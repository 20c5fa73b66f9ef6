"""Speech for demo and test media: espeak-ng through the ``espeakng-loader`` wheel.

The wheel ships ``libespeak-ng`` and its data, so no system package is needed. Synthesis
runs in a short-lived child process (see ``_espeak_child.py``): the library keeps state
between calls, and a fresh process per batch makes the output repeatable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from empathynet.errors import MediaError, MissingDependencyError

_CHILD_SCRIPT = Path(__file__).with_name("_espeak_child.py")
_SYNTH_TIMEOUT_S = 120


@dataclass(frozen=True)
class Phrase:
    """One stretch of speech: what is said, by which voice, and by whom on screen.

    ``voice`` is an espeak-ng voice name (``"en-us+f4"``: US English, female variant 4,
    F0 about 160-215 Hz); ``pitch`` is espeak-ng's 0-100 pitch setting (50 = the voice's
    own). ``face`` is the index of the on-screen face that speaks it (its mouth moves),
    ``None`` for a voice off screen. ``nonverbal`` names a sound tag (``"laughs"``) when
    the phrase is a non-verbal sound rather than words of the sentence; ``speaker`` is the
    name a subtitle gives the speaker (``"JOHN"``), if any.
    """

    words: str
    voice: str = "en-us+f4"
    pitch: int = 50
    face: int | None = 0
    nonverbal: str | None = None
    speaker: str | None = None


@dataclass(frozen=True)
class Speech:
    """Synthesised mono speech: int16 ``samples`` at ``sample_rate`` Hz."""

    samples: npt.NDArray[np.int16]
    sample_rate: int


def espeak_paths() -> tuple[Path, Path]:
    """The ``libespeak-ng`` shared library and its data folder shipped by ``espeakng-loader``.

    Raises ``MissingDependencyError`` with the install command when the wheel is missing.
    """
    try:
        import espeakng_loader
    except ImportError as error:
        raise MissingDependencyError(
            "espeakng-loader is needed to make demo speech: pip install 'empathynet[demo]'"
        ) from error
    library = Path(espeakng_loader.get_library_path())
    data = Path(espeakng_loader.get_data_path())
    if not library.is_file():
        raise MissingDependencyError(
            "espeakng-loader has no libespeak-ng for this platform: "
            "reinstall it (pip install --force-reinstall espeakng-loader)",
            path=library,
        )
    return library, data


def synthesize(phrases: Sequence[Phrase], *, rate_wpm: int = 165) -> list[Speech]:
    """Speak each phrase with espeak-ng; one ``Speech`` per phrase, in order.

    ``rate_wpm`` is the speaking rate in words per minute. The samples are exactly as
    espeak-ng makes them (22 050 Hz for its voices), leading and trailing silence included.
    The same phrases always give the same samples.
    """
    if not phrases:
        return []
    library, data = espeak_paths()
    request = {
        "library": str(library),
        "data": str(data),
        "rate_wpm": int(rate_wpm),
        "phrases": [
            {"text": phrase.words, "voice": phrase.voice, "pitch": int(phrase.pitch)}
            for phrase in phrases
        ],
    }
    # -I -S: no user site, no site-packages; the child needs the standard library only.
    completed = subprocess.run(
        [sys.executable, "-I", "-S", str(_CHILD_SCRIPT)],
        input=json.dumps(request).encode("utf-8"),
        capture_output=True,
        timeout=_SYNTH_TIMEOUT_S,
        check=False,
    )
    if completed.returncode != 0:
        reason = completed.stderr.decode("utf-8", "replace").strip() or "no message"
        raise MediaError(
            f"espeak-ng synthesis failed (exit {completed.returncode}): {reason}",
            path=library,
        )
    header_line, _, body = completed.stdout.partition(b"\n")
    header = json.loads(header_line)
    sample_rate = int(header["sample_rate"])
    lengths = [int(length) for length in header["lengths"]]
    if len(lengths) != len(phrases) or sum(lengths) * 2 != len(body):
        raise MediaError("espeak-ng child returned a malformed answer", path=_CHILD_SCRIPT)
    samples = np.frombuffer(body, dtype=np.int16)
    speeches: list[Speech] = []
    start = 0
    for length in lengths:
        speeches.append(Speech(samples[start : start + length].copy(), sample_rate))
        start += length
    return speeches
