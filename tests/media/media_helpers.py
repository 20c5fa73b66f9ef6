"""Helpers for the media tests: the bundled ffmpeg, the indexed test video's code.

``indexed_video``: 4 s, 25 fps, 320x240 H.264 (keyframe every 2 s, B-frames) whose
frame ``i`` shows ``i`` in binary as 8 white/black stripes, with AAC stereo audio that
is silent except two 50 ms 1 kHz bursts starting at 1.500 s and 3.000 s. The pixels
and the audio, not the timestamps, tell which frame and which instant a cut holds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

INDEXED_FPS = 25
INDEXED_FRAMES = 100
INDEXED_SIZE = (320, 240)
STRIPES = 8
STRIPE_WIDTH = INDEXED_SIZE[0] // STRIPES
#: Starts of the 1 kHz bursts in ``indexed_video``, ms.
BURST_STARTS_MS = (1500, 3000)
BURST_MS = 50


def ffmpeg(*args: str, stdin: bytes | None = None) -> None:
    """Run the bundled ffmpeg quietly; fail the test with its message on error."""
    quiet = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y"]
    result = subprocess.run(
        quiet + (["-nostdin"] if stdin is None else []) + list(args),
        input=stdin,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {result.stderr.decode(errors='replace')}")


def indexed_picture(index: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """The grey picture of frame ``index``: bit ``b`` of ``index`` white in stripe ``b``."""
    width, height = INDEXED_SIZE
    picture = np.zeros((height, width), dtype=np.uint8)
    for bit in range(STRIPES):
        if index >> bit & 1:
            picture[:, bit * STRIPE_WIDTH : (bit + 1) * STRIPE_WIDTH] = 255
    return picture


def read_index(rgb: np.ndarray[Any, Any]) -> int:
    """The frame number shown by an ``indexed_video`` picture (any size, RGB or grey)."""
    grey = rgb if rgb.ndim == 2 else rgb.mean(axis=2)
    height, width = grey.shape
    row = grey[height // 2]
    value = 0
    for bit in range(STRIPES):
        centre = int((bit + 0.5) * width / STRIPES)
        if row[centre] > 128:
            value |= 1 << bit
    return value


def truncated_copy(source: Path, target: Path, fraction: float) -> Path:
    """A copy of ``source`` cut to ``fraction`` of its size."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target
