"""Find the videos to build from and pair each with its subtitles.

A video pairs with a sidecar subtitle file of the same stem in the same folder
(``movie.srt``, ``movie.en.srt``, ``movie.vtt``, ``.ass``, ``.ssa``, ``.sub``, ``.sbv``,
``.ttml``); without one, the video's own embedded subtitle stream is used (the
loader finds it, or fails with a clear error that becomes the source's reason).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from empathynet.errors import EmpathyNetError

VIDEO_EXTENSIONS = (
    ".mp4",
    ".m4v",
    ".mkv",
    ".mov",
    ".webm",
    ".avi",
    ".mpg",
    ".mpeg",
    ".ts",
    ".wmv",
    ".asf",
    ".flv",
    ".f4v",
    ".3gp",
    ".3g2",
    ".ogv",
    ".m2ts",
    ".mts",
    ".vob",
    ".mxf",
    ".dv",
    ".divx",
)
SUBTITLE_EXTENSIONS = (".srt", ".vtt", ".ass", ".ssa", ".sub", ".sbv", ".ttml", ".dfxp", ".smi")


@dataclass(frozen=True)
class SourceInput:
    """One video to build from and where its subtitles come from."""

    video_path: Path
    subtitle_path: Path | None  #: a sidecar file, or None for the embedded stream


def find_sidecar(video: Path) -> Path | None:
    """The sidecar subtitle file of ``video``: ``stem.ext`` first, then ``stem.<lang>.ext``."""
    for extension in SUBTITLE_EXTENSIONS:
        exact = video.with_suffix(extension)
        if exact.is_file():
            return exact
    candidates = sorted(
        path
        for path in video.parent.glob(f"{_glob_escape(video.stem)}.*")
        if path.suffix.lower() in SUBTITLE_EXTENSIONS and path.is_file()
    )
    return candidates[0] if candidates else None


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def discover_inputs(inputs: Iterable[str | Path]) -> list[SourceInput]:
    """Videos named directly or found (recursively) in folders, sorted, without repeats.

    Raises ``EmpathyNetError`` for a path that does not exist or a folder with no video.
    """
    videos: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file()
            )
            if not found:
                raise EmpathyNetError(
                    f"no video files ({', '.join(VIDEO_EXTENSIONS)}) in this folder", path
                )
            videos.extend(found)
        elif path.is_file():
            videos.append(path)
        else:
            raise EmpathyNetError("no such file or folder", path)
    seen: set[Path] = set()
    result: list[SourceInput] = []
    for video in videos:
        key = video.resolve()
        if key in seen:
            continue
        seen.add(key)
        result.append(SourceInput(video, find_sidecar(video)))
    return result
