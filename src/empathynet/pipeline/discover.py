"""Find the videos to build from and pair each with its subtitles.

A video pairs with a sidecar subtitle file of the same stem in the same folder
(``movie.srt``, ``movie.en.srt``, ``movie.vtt``, ``.ass``, ``.ssa``, ``.sub``, ``.sbv``,
``.ttml``); without one, the video's own embedded subtitle stream is used (the
loader finds it, or fails with a clear error that becomes the source's reason).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from empathynet.errors import EmpathyNetError
from empathynet.pipeline.provenance import SourceMetadata
from empathynet.store.layout import is_dataset
from empathynet.store.lock import LOCK_NAME

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
#: Sound files: found in a folder, they are reported as having no video stream.
AUDIO_EXTENSIONS = (
    ".mp3",
    ".m4a",
    ".aac",
    ".wav",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".wma",
    ".aif",
    ".aiff",
    ".ac3",
    ".mka",
)


#: Files empathynet writes into a folder of videos (``empathynet fetch``'s lock and record):
#: found in an input folder, they are not listed as skipped.
OWN_FILES = frozenset({LOCK_NAME, "fetch.json"})


@dataclass(frozen=True)
class SourceInput:
    """One video to build from and where its subtitles come from."""

    video_path: Path
    subtitle_path: Path | None  #: a sidecar file, or None for the embedded stream
    #: its URL, licence, title, speaker... (a sources file's row or yt-dlp's info file)
    metadata: SourceMetadata | None = None


@dataclass(frozen=True)
class SkippedInput:
    """A file the build was given or found that is not built from, and why."""

    path: str  #: as found (under the input folder it was found in)
    reason: str  #: one line: ``no video stream (a sound file)``, ``not a video file``...

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


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


def _dataset_files(path: Path, excluded: set[Path]) -> bool:
    """Whether ``path`` is, or lies inside, an excluded folder or a dataset."""
    resolved = path.resolve()
    return any(folder in excluded or is_dataset(folder) for folder in (resolved, *resolved.parents))


def _videos_in(
    folder: Path, excluded: set[Path], others: list[Path] | None = None
) -> Iterable[Path]:
    """Video files in ``folder`` and its subfolders (not through folder symlinks), less
    the excluded folders and the datasets; the other files go to ``others``."""
    for current, subfolders, files in os.walk(folder):
        here = Path(current)
        if here.resolve() in excluded or is_dataset(here):
            subfolders.clear()
            continue
        for name in files:
            candidate = here / name
            if candidate.suffix.lower() in VIDEO_EXTENSIONS and candidate.is_file():
                yield candidate
            elif others is not None:
                others.append(candidate)


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def discover_inputs(
    inputs: Iterable[str | Path],
    exclude: Iterable[str | Path] = (),
    skipped: list[SkippedInput] | None = None,
) -> list[SourceInput]:
    """Videos named directly or found (recursively) in folders, sorted, without repeats.

    A dataset's own files are never inputs: folders that hold an EmpathyNet dataset
    (``dataset.json``) and the folders of ``exclude`` (the build's ``--out``) are not
    searched. Raises ``EmpathyNetError`` for a path that does not exist, a folder with no
    video, or an input inside an excluded folder or a dataset. With ``skipped``, every
    other file found in a folder is added to it with the reason it is not built from,
    so every file of an input folder is accounted for.
    """
    excluded = {Path(folder).resolve() for folder in exclude}
    videos: list[Path] = []
    others: list[Path] = []
    for item in inputs:
        path = Path(item)
        if _dataset_files(path, excluded):
            raise EmpathyNetError(
                "is inside an EmpathyNet dataset (or the --out folder): a dataset's own "
                "files are never inputs",
                path,
            )
        if path.is_dir():
            found = sorted(_videos_in(path, excluded, others))
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
    if skipped is not None:
        used = {item.subtitle_path for item in result if item.subtitle_path is not None}
        by_stem = {(item.video_path.parent, item.video_path.stem): item for item in result}
        for other in sorted(set(others)):
            reason = _skipped_reason(other, used, by_stem)
            if reason is not None:
                skipped.append(SkippedInput(str(other), reason))
    return result


def _skipped_reason(
    path: Path, used: set[Path], videos: dict[tuple[Path, str], SourceInput]
) -> str | None:
    """Why a file found in an input folder is not built from; None for a sidecar
    subtitle file in ``used``. ``videos``: the sources by (folder, stem)."""
    suffix = path.suffix.lower()
    if path.name in OWN_FILES:
        return None  # what empathynet itself writes beside videos (a fetch's folder)
    info_of = path.name.removesuffix(".info.json")
    if info_of != path.name and (path.parent, info_of) in videos:
        return None  # yt-dlp's info file of a video: read for its URL, title, licence
    if suffix in SUBTITLE_EXTENSIONS:
        if path in used:
            return None
        stem = path.stem  # film.en.srt: the video film.mp4 or film.en.mp4
        while stem:
            video = videos.get((path.parent, stem))
            if video is not None:
                taken = video.subtitle_path.name if video.subtitle_path else "none"
                return f"subtitles not used: {video.video_path.name} takes {taken}"
            stem, _, _ = stem.rpartition(".")
        return "subtitles with no video of the same name beside them"
    if suffix in AUDIO_EXTENSIONS:
        return "no video stream (a sound file): a cue needs a face"
    if suffix in VIDEO_EXTENSIONS:
        return "not a regular file (a broken link?)"
    return "not a video file"
