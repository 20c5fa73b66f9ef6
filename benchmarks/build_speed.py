"""Build speed against a plain full decode of the same file, measured in one run.

Generates (once, cached in --work) a long 720p video with a large speaking face and
~15 subtitle sentences a minute, then prints

    build_time / ffmpeg_full_decode_time

for the default outputs (face clips, stills, audio) and with full-frame clips too,
with the time spent per stage. ``ffmpeg_full_decode_time`` is ``ffmpeg -i movie -f
null -`` with the ffmpeg that imageio-ffmpeg ships, using the same number of threads
as the build has workers.

    python benchmarks/build_speed.py --minutes 10 --workers 2
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg

from empathynet.config import EmpathyNetConfig
from empathynet.pipeline.build import build_dataset
from empathynet.testing import make_long_video


def ffmpeg_decode_seconds(video: Path, threads: int) -> float:
    """Wall seconds of ``ffmpeg -i video -f null -`` (best of two runs)."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-threads",
        str(threads),
        "-i",
        str(video),
        "-f",
        "null",
        "-",
    ]
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run(command, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def timed_build(video: Path, out: Path, config: EmpathyNetConfig, workers: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    summary = build_dataset([video], out, config, workers=workers, progress=False)
    seconds = time.perf_counter() - started
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.status_counts.items()))
    # Stages do not overlap (``blur`` is not counted in ``extract``): they add up to the
    # workers' busy time.
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(summary.stage_seconds.items()))
    busy = sum(summary.stage_seconds.values())
    print(f"    {counts}")
    print(f"    per stage (summed over workers): {stages}; total {busy:.1f}s")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("benchmark-work"))
    parser.add_argument("--skip-full-clips", action="store_true")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    video = args.work / f"long_{args.minutes:g}min_720p.mp4"
    if not video.exists() or not video.with_suffix(".srt").exists():
        print(f"generating {video} ...", file=sys.stderr)
        started = time.perf_counter()
        clip = make_long_video(video, minutes=args.minutes)
        print(
            f"  {len(clip.sentences)} sentences in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    decode = ffmpeg_decode_seconds(video, args.workers)
    print(f"video: {video} ({video.stat().st_size / 1e6:.0f} MB), workers: {args.workers}")
    print(f"ffmpeg full decode: {decode:.1f} s")

    config = EmpathyNetConfig()
    print("build, default outputs (face clips, stills, face crops, audio):")
    default = timed_build(video, args.work / "dataset-default", config, args.workers)
    print(f"  build {default:.1f} s -> ratio {default / decode:.2f}")
    if not args.skip_full_clips:
        full = dataclasses.replace(
            config, extract=dataclasses.replace(config.extract, full_clip=True)
        )
        print("build, with full-frame clips too:")
        with_full = timed_build(video, args.work / "dataset-full", full, args.workers)
        print(f"  build {with_full:.1f} s -> ratio {with_full / decode:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
