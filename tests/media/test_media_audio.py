"""Audio windows: exact length, exact position (found by a burst in the signal), WAV files."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from empathynet.errors import CorruptMediaError, NoAudioStreamError
from empathynet.media.audio import (
    AudioReader,
    read_audio,
    read_audio_windows,
    read_wav,
    write_wav,
)
from empathynet.timeline import ms_to_samples

from .media_helpers import BURST_STARTS_MS, truncated_copy

RATE = 16_000


def onset(samples: np.ndarray, threshold: float = 0.1) -> int:
    """Index of the first sample louder than ``threshold``."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    assert loud.size, "no burst found"
    return int(loud[0])


@pytest.mark.parametrize(("start_ms", "end_ms"), [(1010, 2530), (1499, 1600), (0, 4000)])
def test_window_length_and_position_are_exact(
    indexed_video: Path, start_ms: int, end_ms: int
) -> None:
    samples = read_audio(indexed_video, start_ms, end_ms)
    assert samples.dtype == np.float32
    assert len(samples) == ms_to_samples(end_ms, RATE) - ms_to_samples(start_ms, RATE)
    burst = BURST_STARTS_MS[0]
    expected = ms_to_samples(burst - start_ms, RATE)
    assert abs(onset(samples) - expected) <= 16  # within 1 ms
    # Stereo 0.5-amplitude tone in both channels -> mono 0.5 (normalised downmix).
    assert 0.45 < float(np.abs(samples).max()) < 0.56


def test_windows_in_any_order_equal_one_decode(indexed_video: Path) -> None:
    with AudioReader(indexed_video) as reader:
        whole = reader.read_all()
    assert abs(len(whole) - 4 * RATE) <= 1024  # AAC pads its last frame
    windows = [(100, 900), (900, 1700), (2999, 3100), (3500, 4000), (200, 400), (1450, 1550)]
    parts = read_audio_windows(indexed_video, windows)
    for (start_ms, end_ms), part in zip(windows, parts, strict=True):
        first, last = ms_to_samples(start_ms, RATE), ms_to_samples(end_ms, RATE)
        np.testing.assert_allclose(part, whole[first:last], atol=2e-4)
    with AudioReader(indexed_video) as reader:
        for start_ms, end_ms in windows[:4]:
            reader.read(start_ms, end_ms)
        assert reader.seeks == 1  # forward windows decode on, no seek
    # A seek to each window (48 kHz AAC, windows off the 3-sample grid) gives the same samples.
    with AudioReader(indexed_video, continue_gap=Fraction(0)) as reader:
        for start_ms, end_ms in [(1450, 1550), (2990, 3060), (1013, 2777)]:
            first, last = ms_to_samples(start_ms, RATE), ms_to_samples(end_ms, RATE)
            np.testing.assert_allclose(reader.read(start_ms, end_ms), whole[first:last], atol=1e-6)
        assert reader.seeks == 3


def test_window_beyond_the_audio_is_silence(indexed_video: Path) -> None:
    samples = read_audio(indexed_video, 3900, 5000)
    assert len(samples) == ms_to_samples(1100, RATE)
    assert not samples[-ms_to_samples(800, RATE) :].any()


def test_window_after_the_end_reads_nothing(indexed_video: Path) -> None:
    with AudioReader(indexed_video) as reader:
        assert not reader.read(60_000, 61_000).any()
        assert reader.seeks == 0


def test_no_audio_stream(make_media: Callable[..., Path]) -> None:
    silent = make_media(
        "silent.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:duration=1", "-c:v", "libx264"
    )
    with pytest.raises(NoAudioStreamError, match=r"silent\.mp4: no audio stream"):
        read_audio(silent, 0, 500)


def test_truncated_audio_fails(faststart_video: Path, tmp_path: Path) -> None:
    broken = truncated_copy(faststart_video, tmp_path / "cut.mp4", 0.5)
    with AudioReader(broken) as reader:
        assert reader.read(0, 1000).any()
        with pytest.raises(CorruptMediaError, match=r"cut\.mp4.*audio data ends"):
            reader.read(4000, 5500)


def test_wav_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    samples = rng.uniform(-1, 1, 16_001).astype(np.float32)
    samples[:3] = [1.5, -1.5, 0.0]  # clipped to full scale
    path = tmp_path / "cue" / "audio.wav"
    write_wav(path, samples, RATE)
    assert [p.name for p in path.parent.iterdir()] == ["audio.wav"]  # no temporary left
    back, rate = read_wav(path)
    assert rate == RATE and back.shape == samples.shape and back.dtype == np.float32
    # Written as round(x * 32767), read as n / 32768 (the libsndfile convention).
    np.testing.assert_allclose(back[3:], samples[3:], atol=2 / 32767)
    assert back[0] == pytest.approx(32767 / 32768) and back[1] == pytest.approx(-32767 / 32768)
    stereo = np.stack([samples[3:], -samples[3:]], axis=1) * 0.5
    write_wav(path, stereo, 8000)  # overwrites atomically
    back, rate = read_wav(path)
    assert rate == 8000 and back.shape == stereo.shape


def test_read_wav_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(CorruptMediaError, match=r"bad\.wav: cannot read WAV"):
        read_wav(bad)


@pytest.mark.real
def test_real_file_without_audio(shared_data: Path) -> None:
    path = shared_data / "video" / "negative" / "moviepy_doc_medias_example.mp4"
    if not path.exists():
        pytest.skip(f"real test material not found: {path}")
    with pytest.raises(NoAudioStreamError, match="no audio stream"):
        read_audio(path, 0, 1000)


@pytest.mark.real
def test_real_file_with_failing_audio(shared_data: Path) -> None:
    """Other readers fail on this MP3 track; PyAV decodes all of it (11.23 s). Its sound
    stops after about 5 s: the rest is digital silence (ffmpeg's volumedetect agrees)."""
    path = shared_data / "video" / "negative" / "moviepy_video_with_failing_audio.mp4"
    if not path.exists():
        pytest.skip(f"real test material not found: {path}")
    with AudioReader(path) as reader:
        whole = reader.read_all()
        assert abs(len(whole) - ms_to_samples(11_233, RATE)) <= RATE // 100
        assert np.abs(reader.read(1000, 2000)).max() > 0.05
        tail = reader.read(10_000, 11_233)
    assert len(tail) == ms_to_samples(1233, RATE)
    assert not tail.any()


@pytest.mark.real
def test_real_mpeg_ps_windows_match_one_decode(shared_data: Path) -> None:
    """MPEG-PS seeks approximately (and the first packet after a seek is partial): windows
    still line up with one decode from the start, to the sample. Its 90 kHz timestamps fall
    between audio samples, so after a seek the values can differ by a fraction of a sample
    in phase: compare by where the speech lines up best, not value by value."""
    path = shared_data / "video" / "talking_head" / "lipnet_grid_swiz3n.mpg"
    if not path.exists():
        pytest.skip(f"real test material not found: {path}")
    with AudioReader(path) as reader:
        whole = reader.read_all()
    windows = [(2200, 2900), (1000, 1500), (0, 600), (600, 1000)]
    for (start_ms, end_ms), part in zip(windows, read_audio_windows(path, windows), strict=True):
        first, last = ms_to_samples(start_ms, RATE), ms_to_samples(end_ms, RATE)
        assert len(part) == last - first
        inner = part[40:-40]
        correlation = {
            shift: float(np.corrcoef(inner, whole[first + 40 + shift : last - 40 + shift])[0, 1])
            for shift in range(-32, 33)
        }
        assert max(correlation, key=lambda shift: correlation[shift]) == 0
        assert correlation[0] > 0.99


@pytest.mark.real
def test_real_speech_windows(shared_data: Path) -> None:
    path = shared_data / "video" / "talking_head" / "videoretalking_face2.mp4"
    if not path.exists():
        pytest.skip(f"real test material not found: {path}")
    speech, pause = read_audio_windows(path, [(200, 1800), (2150, 2550)])
    # README: speech 0-1.97 s, then a pause until 2.67 s.
    rms = [float(np.sqrt(np.mean(part**2))) for part in (speech, pause)]
    assert rms[0] > 5 * rms[1]
