"""Build speed against a plain full decode of the same file, measured in one run.

Generates (once, cached in --work) a long 720p video with a large speaking face and
~15 subtitle sentences a minute, then prints

    build_time / ffmpeg_full_decode_time

for the default outputs (face clips, stills, audio) and with full-frame clips too,
with the time spent per stage. ``ffmpeg_full_decode_time`` is ``ffmpeg -i movie -f
null -`` with the ffmpeg that imageio-ffmpeg ships, using the same number of threads
as the build has workers.

It also measures floors, in the same run and with as many processes: the cost of the
parts of the work every build must do whatever it is built like — decoding the
subtitle windows' frames (seeking to each, as the build does), then that plus face
detection at 5 sampled frames a second, then that plus encoding a 224-pixel face clip
of each window the default build accepted. A floor above 1.0 means no build doing
that work reaches a ratio of 1.0 on this machine.

``--encoding realistic`` re-encodes the generated video as movies and online videos
are delivered (x264 ``veryfast``, CRF 23, High profile with B-frames and CABAC); the
default ``fast-decode`` keeps the generator's ``ultrafast`` encoding (baseline profile,
no B-frames, no deblocking), the cheapest H.264 there is to decode, which makes the
ffmpeg reference as small as it gets.

    python benchmarks/build_speed.py --minutes 10 --workers 2
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import imageio_ffmpeg
from _goal import Goal, report_goals

from empathynet.config import EmpathyNetConfig
from empathynet.demo import make_long_video
from empathynet.faces.detectors import create_detector
from empathynet.faces.tracking import sample_times_ms
from empathynet.media.decode import WindowDecoder
from empathynet.media.encode import ClipWriter, CropBox
from empathynet.pipeline.build import build_dataset, read_manifest
from empathynet.subtitles import load_utterances

#: The goal: a build takes at most this many times its last floor (same run).
GOAL_FLOOR_RATIO = 1.25

FLOORS = ("decode", "decode+detect", "decode+detect+face clip")


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


Window = tuple[int, int, bool]  # start ms, end ms, whether its face clip is encoded


def _floor_worker(args: tuple[str, list[Window], str, str]) -> int:
    """Do one floor's work over ``windows`` in this process; returns frames decoded."""
    video, windows, floor, scratch = args
    detector = create_detector() if floor != "decode" else None
    if detector is not None:
        detector.setup()
    frames = 0
    with WindowDecoder(video, threads=False) as decoder:
        for start_ms, end_ms, accepted in windows:
            times = sample_times_ms(start_ms, end_ms, 5)
            next_time = 0
            writer = None
            if floor == FLOORS[2] and accepted:
                writer = ClipWriter(
                    Path(scratch) / f"{start_ms}.mp4",
                    start_ms=start_ms,
                    crop=CropBox(440, 100, 400),
                    size=(224, 224),
                )
            for decoded in decoder.frames(start_ms, end_ms):
                frames += 1
                while next_time < len(times) and decoded.covers(times[next_time]):
                    if detector is not None:
                        detector.detect(decoded.to_rgb(width=320, interpolation="AREA"))
                    next_time += 1
                if writer is not None:
                    writer.add_frame(decoded)
            if writer is not None:
                writer.close(end_ms=end_ms)
    return frames


def floor_seconds(video: Path, workers: int, floor: str, accepted: set[int]) -> float:
    """Wall seconds of one floor's work, the windows split in time order over ``workers``
    processes (as the build's chunks are); the processes start (and load the detector)
    before the clock starts. ``accepted``: start times (ms) of the accepted windows."""
    utterances = load_utterances(video.with_suffix(".srt")).utterances
    windows = [(u.start_ms, u.end_ms, u.start_ms in accepted) for u in utterances]
    share = -(-len(windows) // workers)
    groups = [windows[k : k + share] for k in range(0, len(windows), share)]
    with tempfile.TemporaryDirectory() as scratch, ProcessPoolExecutor(workers) as pool:
        # Warm up: start the processes and their detector on one short window each.
        list(pool.map(_floor_worker, [(str(video), windows[:1], floor, scratch)] * workers))
        started = time.perf_counter()
        list(pool.map(_floor_worker, [(str(video), group, floor, scratch) for group in groups]))
        return time.perf_counter() - started


def realistic_copy(video: Path) -> Path:
    """``video`` re-encoded as delivered movies are (cached next to it, with its subtitles)."""
    target = video.with_name(f"{video.stem}_realistic.mp4")
    if not target.exists():
        print(f"re-encoding {video} as {target} ...", file=sys.stderr)
        partial = target.with_name(f".{target.name}.part.mp4")
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v", "error", "-y", "-i", str(video),
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high",
            "-c:a", "copy", str(partial),
        ]  # fmt: skip
        subprocess.run(command, check=True)
        partial.replace(target)
    shutil.copyfile(video.with_suffix(".srt"), target.with_suffix(".srt"))
    return target


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
    parser.add_argument("--skip-floors", action="store_true")
    parser.add_argument("--encoding", choices=("fast-decode", "realistic"), default="fast-decode")
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
    if args.encoding == "realistic":
        video = realistic_copy(video)
    decode = ffmpeg_decode_seconds(video, args.workers)
    print(f"video: {video} ({video.stat().st_size / 1e6:.0f} MB), workers: {args.workers}")
    print(f"ffmpeg full decode: {decode:.1f} s")

    config = EmpathyNetConfig()
    print("build, default outputs (face clips, stills, face crops, audio):")
    default = timed_build(video, args.work / "dataset-default", config, args.workers)
    print(f"  build {default:.1f} s -> ratio {default / decode:.2f}")
    goals: list[Goal] = []
    if not args.skip_floors:
        rows = read_manifest(args.work / "dataset-default")
        accepted = {row.start_ms for row in rows if row.status == "accepted"}
        print("floors (work every build does, same processes):")
        seconds = 0.0
        for floor in FLOORS:
            seconds = floor_seconds(video, args.workers, floor, accepted)
            print(f"  {floor}: {seconds:.1f} s -> ratio {seconds / decode:.2f}")
        # The goal: the build within GOAL_FLOOR_RATIO of the last (highest) floor.
        goals.append(
            Goal(
                "build / decode+detect+face-clip floor",
                default / seconds,
                GOAL_FLOOR_RATIO,
                "x",
                at_least=False,
            )
        )
    if not args.skip_full_clips:
        full = dataclasses.replace(
            config, extract=dataclasses.replace(config.extract, full_clip=True)
        )
        print("build, with full-frame clips too:")
        with_full = timed_build(video, args.work / "dataset-full", full, args.workers)
        print(f"  build {with_full:.1f} s -> ratio {with_full / decode:.2f}")
    return report_goals(goals) if goals else 0


if __name__ == "__main__":
    sys.exit(main())
