"""Generated media for the media tests, made once per session with the bundled ffmpeg."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .media_helpers import (
    BURST_MS,
    BURST_STARTS_MS,
    INDEXED_FPS,
    INDEXED_FRAMES,
    ffmpeg,
    indexed_picture,
)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def indexed_video(media_dir: Path) -> Path:
    path = media_dir / "indexed.mp4"
    frames = b"".join(indexed_picture(i).tobytes() for i in range(INDEXED_FRAMES))
    bursts = "+".join(
        f"between(t\\,{start / 1000}\\,{(start + BURST_MS) / 1000})" for start in BURST_STARTS_MS
    )
    tone = f"0.5*sin(2*PI*1000*t)*({bursts})"
    ffmpeg(
        "-f", "rawvideo", "-pix_fmt", "gray", "-s", "320x240", "-r", str(INDEXED_FPS), "-i", "-",
        "-f", "lavfi", "-i", f"aevalsrc={tone}|{tone}:s=48000:d=4",
        "-c:v", "libx264", "-g", "50", "-sc_threshold", "0", "-bf", "2", "-crf", "18",
        "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k",
        str(path),
        stdin=frames,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def lavfi_video(media_dir: Path) -> Path:
    """testsrc2 640x360 at 25 fps (moving pattern) with a 220 Hz sine, 4 s."""
    path = media_dir / "lavfi.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=4",
        "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=44100:duration=4",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
        str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def make_media(media_dir: Path) -> Callable[..., Path]:
    """``make_media(name, *ffmpeg_args)`` -> ``media_dir / name``, made once."""

    def make(name: str, *args: str) -> Path:
        path = media_dir / name
        if not path.exists():
            ffmpeg(*args, str(path))
        return path

    return make


@pytest.fixture(scope="session")
def faststart_video(make_media: Callable[..., Path]) -> Path:
    """testsrc2 with the MP4 index at the front, 6 s."""
    return make_media(  # type: ignore[no-any-return]
        "faststart.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6",
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100:duration=6",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart",
    )  # fmt: skip
