"""What decoding through costs where a container cannot seek, measured in one run.

Generates (once, cached in --work) a long 720p video with ~15 subtitle sentences a
minute (``make_long_video``) and re-encodes it as delivered in two containers: MP4
(H.264 + AAC) and FLV (Sorenson H.263 + MP3, a keyframe every 250 frames as Flash
encoders set it). For each file it reads every sentence window's video frames and audio
the way a build does (chunks of ``chunk_size`` sentences, one decoder and one audio
reader per chunk, windows in time order) with each seek mode:

* ``exact`` / ``approximate``: seek to the keyframe before each window;
* ``decode_through``: never seek, read from the start of the file for each chunk,
  demuxing without decoding up to each window;

and prints the wall seconds and the ratio to ``ffmpeg -i file -f null -`` (one full
decode of video and audio with the bundled ffmpeg, one thread), the reference for
"decode everything once". It exits 1 when decoding through costs more than
``GOAL_RATIO`` full decodes.

    python benchmarks/seek_modes.py --minutes 5
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
from _goal import Goal, report_goals

from empathynet.demo import make_long_video
from empathynet.media.audio import AudioReader
from empathynet.media.decode import WindowDecoder
from empathynet.media.probe import probe
from empathynet.subtitles import load_utterances

#: The goal: reading every window without seeking costs at most this many full decodes
#: (the windows cover most of a film: decoding through must not cost a decode per chunk).
GOAL_RATIO = 2.0

ENCODINGS = {
    "mp4": ("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac"),
    "flv": ("-c:v", "flv", "-q:v", "4", "-g", "250", "-c:a", "libmp3lame", "-ar", "44100"),
}


def ffmpeg(*args: str) -> None:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-nostdin", *args]
    subprocess.run(command, check=True)


def full_decode_seconds(path: Path) -> float:
    """Wall seconds of ``ffmpeg -threads 1 -i path -f null -`` (best of two)."""
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        ffmpeg("-threads", "1", "-i", str(path), "-f", "null", "-")
        best = min(best, time.perf_counter() - started)
    return best


def read_windows(
    path: Path, windows: list[tuple[int, int]], mode: str, chunk_size: int
) -> tuple[float, int, int]:
    """Wall seconds to read every window's frames and audio, chunk by chunk; frames
    decoded and packets only demuxed, summed."""
    started = time.perf_counter()
    decoded = skipped = 0
    for first in range(0, len(windows), chunk_size):
        chunk = windows[first : first + chunk_size]
        with (
            WindowDecoder(path, threads=False, seek_mode=mode) as decoder,
            AudioReader(path, seek_mode=mode) as audio,
        ):
            for start_ms, end_ms in chunk:
                for _ in decoder.frames(start_ms, end_ms):
                    pass
                audio.read(start_ms, end_ms)
            decoded += decoder.decoded_frames
            skipped += decoder.skipped_packets + audio.skipped_packets
    return time.perf_counter() - started, decoded, skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--chunk-size", type=int, default=16)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "en-seek")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    source = args.work / f"long-{args.minutes:g}.mp4"
    subtitle = source.with_suffix(".srt")
    if not source.exists():
        clip = make_long_video(source, minutes=args.minutes)
        subtitle = clip.subtitle_path
    windows = [(u.start_ms, u.end_ms) for u in load_utterances(subtitle).utterances]
    print(f"{args.minutes:g} min 720p, {len(windows)} sentences, chunks of {args.chunk_size}")
    goals: list[Goal] = []
    for name, options in ENCODINGS.items():
        path = args.work / f"long-{args.minutes:g}-delivered.{name}"
        if not path.exists():
            ffmpeg("-i", str(source), *options, str(path))
        reference = full_decode_seconds(path)
        measured = probe(path).seek_mode
        print(f"{name}: probe says {measured}; ffmpeg full decode {reference:.1f} s")
        modes = [measured] if measured == "decode_through" else [measured, "decode_through"]
        for mode in modes:
            seconds, decoded, skipped = read_windows(path, windows, mode, args.chunk_size)
            print(
                f"  {mode:15s} {seconds:6.1f} s  = {seconds / reference:4.2f} x full decode"
                f"  ({decoded} frames decoded, {skipped} packets only demuxed)"
            )
            if mode == "decode_through":
                ratio = seconds / reference
                goals.append(
                    Goal(
                        f"{name} decode_through / full decode",
                        ratio,
                        GOAL_RATIO,
                        "x",
                        at_least=False,
                    )
                )
    return report_goals(goals)


if __name__ == "__main__":
    sys.exit(main())
