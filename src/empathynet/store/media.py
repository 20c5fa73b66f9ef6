"""A dataset's media files as arrays: audio, images and clips, paths resolved inside it.

Every function takes the dataset root and a path relative to it (as the manifest and the
task items hold them); a path that leaves the dataset raises ``PathEscapeError``, an
unreadable file ``CorruptMediaError`` naming it. ``shown_ms`` reads only the start of an
audio file or clip, as an MCQ item cut for length shows it (``tasks/mcq.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from empathynet.errors import CorruptMediaError
from empathynet.store.layout import safe_join

Image = npt.NDArray[np.uint8]


def load_audio(
    root: Path, relative: str, shown_ms: int | None = None, *, mono: bool = False
) -> tuple[npt.NDArray[np.float32], int]:
    """``(samples, sample_rate)`` of a WAV file: float32 in [-1, 1), ``(n,)`` for mono,
    ``(n, channels)`` otherwise (``mono``: channels averaged, always ``(n,)``); only its
    first ``shown_ms`` when given."""
    from empathynet.media.audio import read_wav, read_wav_mono

    path = safe_join(root, relative)
    if mono:
        averaged, rate = read_wav_mono(path)
        samples: npt.NDArray[np.float32] = averaged.astype(np.float32)
    else:
        samples, rate = read_wav(path)
    if shown_ms is not None:
        samples = samples[: shown_ms * rate // 1000]
    return samples, rate


def load_image(root: Path, relative: str) -> Image:
    """An image file as an H x W x 3 uint8 array."""
    from PIL import Image as PILImage

    path = safe_join(root, relative)
    try:
        with PILImage.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except OSError as error:
        raise CorruptMediaError(f"cannot read image: {error}", path) from None


def load_images(root: Path, relatives: Sequence[str]) -> list[Image]:
    """Several image files (e.g. a cue group's 5 stills), each H x W x 3 uint8."""
    return [load_image(root, relative) for relative in relatives]


def load_clip(root: Path, relative: str, shown_ms: int | None = None) -> npt.NDArray[np.uint8]:
    """The frames of a clip as a frames x H x W x 3 uint8 array; only the frames that
    start before ``shown_ms`` when given (at least the first)."""
    import av

    path = safe_join(root, relative)
    frames: list[Image] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            base = stream.time_base or Fraction(1, 1000)
            first: int | None = None
            for frame in container.decode(stream):
                if frame.pts is not None:
                    if first is None:
                        first = frame.pts
                    elif shown_ms is not None and (frame.pts - first) * base * 1000 >= shown_ms:
                        break
                frames.append(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8))
    except (OSError, av.FFmpegError, IndexError) as error:
        raise CorruptMediaError(f"cannot read clip: {error}", path) from None
    if not frames:
        raise CorruptMediaError("clip has no frames", path)
    return np.stack(frames)


__all__ = ["load_audio", "load_clip", "load_image", "load_images"]
