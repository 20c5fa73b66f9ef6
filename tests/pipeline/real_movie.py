"""A "movie" cut together from the real talking-head clips in ../shared/data (real shot cuts).

The video-retalking clips have no subtitles: the subtitle file made here puts one
sentence over each speech span the data README lists (the words are placeholders;
the pipeline does not read them). The GRID clip keeps its own hand-made subtitle.
SRT times are written by ``srt_time`` (``empathynet.demo``), also importable from here.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from empathynet.demo import srt_time

SIZE = 640  # every segment is scaled (square clips) or padded (others) to 640x640


@dataclass(frozen=True)
class Segment:
    file: str  #: path relative to ../shared/data/video
    seconds: float  #: how much of it to use, from its start
    #: (start_ms, end_ms, text, expected reason or "accepted") relative to the segment start
    sentences: tuple[tuple[int, int, str, str], ...]


SEGMENTS = (
    Segment(
        "talking_head/videoretalking_face5.mp4",
        4.88,
        ((0, 2600, "Face five speaks its first sentence.", "accepted"),),
    ),
    Segment(
        "talking_head/videoretalking_face1.mp4",
        6.1,
        (
            (0, 2350, "Face one speaks its first sentence.", "accepted"),
            (3530, 4490, "Face one speaks again.", "accepted"),
        ),
    ),
    Segment(
        "negative/moviepy_chaplin.mp4",
        6.0,
        ((1000, 4000, "Tiny people walk along the street.", "small_or_none"),),
    ),
    Segment(
        "talking_head/videoretalking_face2.mp4",
        5.0,
        (
            (0, 1970, "Face two speaks its first sentence.", "accepted"),
            (2670, 3830, "Face two speaks again.", "accepted"),
        ),
    ),
    Segment(
        "talking_head/lipnet_grid_bbaf2n.mpg",
        2.98,
        ((400, 2500, "Bin blue at F two now.", "accepted"),),
    ),
    Segment(
        "negative/moviepy_smpte-2997.mp4",
        3.0,
        ((500, 2500, "Colour bars and a tone.", "no_face"),),
    ),
)
#: A sentence across the cut from face2 to the GRID speaker (at 21,980 ms): a shot cut inside.
CUT_SENTENCE = (21000, 22300, "This sentence runs across a cut.", "shot_cut")


def make_real_movie(
    video_root: Path, out_dir: Path
) -> tuple[Path, list[tuple[int, int, str, str]]]:
    """Write ``movie.mp4`` + ``movie.srt``; returns them with the expected outcomes (ms)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    movie = out_dir / "movie.mp4"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y"]
    filters = []
    for k, segment in enumerate(SEGMENTS):
        command += ["-t", f"{segment.seconds}", "-i", str(video_root / segment.file)]
        filters.append(
            f"[{k}:v]scale={SIZE}:{SIZE}:force_original_aspect_ratio=decrease,"
            f"pad={SIZE}:{SIZE}:(ow-iw)/2:(oh-ih)/2,fps=25,setsar=1,format=yuv420p[v{k}];"
            f"[{k}:a]aresample=48000,aformat=channel_layouts=mono[a{k}]"
        )
    pairs = "".join(f"[v{k}][a{k}]" for k in range(len(SEGMENTS)))
    filters.append(f"{pairs}concat=n={len(SEGMENTS)}:v=1:a=1[v][a]")
    command += [
        "-filter_complex",
        ";".join(filters),
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-g",
        "50",
        "-c:a",
        "aac",
        str(movie),
    ]
    subprocess.run(command, check=True)
    expected: list[tuple[int, int, str, str]] = []
    offset = 0
    for segment in SEGMENTS:
        for start, end, text, outcome in segment.sentences:
            expected.append((offset + start, offset + end, text, outcome))
        offset += round(segment.seconds * 1000)
    expected.append(CUT_SENTENCE)
    expected.sort()
    lines = []
    for number, (start, end, text, _) in enumerate(expected, 1):
        lines.append(f"{number}\n{srt_time(start)} --> {srt_time(end)}\n{text}\n")
    movie.with_suffix(".srt").write_text("\n".join(lines), encoding="utf-8")
    return movie, expected
