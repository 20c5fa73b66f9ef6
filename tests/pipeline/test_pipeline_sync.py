"""A source's voice-to-mouth offset pooled over its cues: the real "movie" cut from the
talking-head clips, and the same movie with its audio 200 ms late."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from empathynet.faces.sync import pool_sync_curves, sync_lags_ms
from empathynet.pipeline.build import build_dataset

from .real_movie import make_real_movie


def test_pooled_sync_finds_a_constant_audio_delay(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    movie, _ = make_real_movie(shared_path("video"), tmp_path / "in" / "original")
    late = tmp_path / "in" / "late" / "movie_late.mp4"
    late.parent.mkdir()
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(movie)]
    command += ["-itsoffset", "0.2", "-i", str(movie), "-map", "0:v", "-map", "1:a"]
    subprocess.run([*command, "-c", "copy", str(late)], check=True)
    late.with_suffix(".srt").write_text(movie.with_suffix(".srt").read_text())
    dataset = tmp_path / "ds"
    summary = build_dataset(
        [tmp_path / "in"], dataset, workers=2, progress=False, log=lambda line: None
    )
    sources = {
        Path(s["path"]).name: s for s in pq.read_table(dataset / "sources.parquet").to_pylist()
    }
    original, shifted = sources["movie.mp4"], sources["movie_late.mp4"]
    assert original["sync_cues"] >= 5 and shifted["sync_cues"] >= 5
    # In step: within two frames of 0. Late: 200 ms later than the original, within a frame.
    assert abs(original["sync_offset_ms"]) <= 80
    assert abs(shifted["sync_offset_ms"] - original["sync_offset_ms"] - 200) <= 40
    listed = [line for line in summary.lines() if "fits the mouths best" in line]
    assert len(listed) == 1 and "movie_late.mp4" in listed[0] and "late" in listed[0]


def test_pooling_needs_enough_cues_and_ignores_unmeasured_offsets() -> None:
    lags = sync_lags_ms()
    # Measured within +-600 ms (short sentences near the start of the media), peak at 300.
    peak_at_300 = [None if abs(lag) > 600 else float(lag == 300) for lag in lags]
    assert pool_sync_curves([peak_at_300] * 4) is None
    pooled = pool_sync_curves([peak_at_300] * 5)
    assert pooled is not None and (pooled.offset_ms, pooled.cues) == (300, 5)
    # An offset measured by fewer than half of the cues is not a candidate.
    lonely = [5.0 if lag == -800 else None for lag in lags]
    pooled = pool_sync_curves([peak_at_300] * 5 + [lonely] * 3)
    assert pooled is not None and pooled.offset_ms == 300
