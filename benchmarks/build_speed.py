"""Build speed against a plain full decode of the same file, measured in one run.

Generates (once, cached in --work) a long 720p video with a large speaking face and
~15 subtitle sentences a minute, then prints

    build_time / ffmpeg_full_decode_time

for the default outputs (face clips, stills, audio) and with full-frame clips too,
with the time spent per stage. ``ffmpeg_full_decode_time`` is ``ffmpeg -i movie -f
null -`` with the ffmpeg that imageio-ffmpeg ships, using the same number of threads
as the build has workers.

It also measures floors, in the same run and with as many processes (started, with
their models loaded, before the clock starts): the cost of the parts of the work every
build must do whatever it is built like, each with the build's own settings (detection
rate and width, clip size, CRF and preset from ``EmpathyNetConfig``) --

1. ``decode``: decoding the subtitle windows' frames (seeking to each, as the build does);
2. ``decode+detect``: that plus face detection on the sampled frames;
3. ``decode+detect+face clip``: that plus encoding the face clip of each window the
   default build accepted (the goal's yardstick);
4. ``+ cue outputs``: that plus the rest of what makes a cue group (``DESIGN.md``): the
   sentence's audio, the 5 stills and face crops as JPEG, the audio and the blurred
   audio as WAV;
5. ``+ cue checks``: that plus the checks an accepted cue passes and the figures it
   records: shot scores on every frame, the speaking score (FaceMesh on the sampled
   frames), the sync measure (every frame, the audio read with its margin instead), the
   blur figures (``verify_blur``).

Files are written as the build writes them (atomically, their fsync deferred to one sync
per worker's share, as the build syncs once per chunk).

Floors 4 and 5 call the library straight, without the build around them: the build's
ratio to floor 5 is what the build itself adds (rows, bookkeeping, idle workers,
start-up). Floor 4 over floor 3 is what the cue's required outputs cost on their own:
when it is above the goal, no build of these outputs meets the goal on this machine.

A floor above 1.0 means no build doing that work reaches a ratio of 1.0 on this machine.
Peak memory per worker is the largest peak resident size (``VmHWM``) seen among the
build's worker processes.

``--encoding realistic`` re-encodes the generated video as movies and online videos
are delivered (x264 ``veryfast``, CRF 23, High profile with B-frames and CABAC); the
default ``fast-decode`` keeps the generator's ``ultrafast`` encoding (baseline profile,
no B-frames, no deblocking), the cheapest H.264 there is to decode, which makes the
ffmpeg reference as small as it gets; ``--encoding both`` measures the two, one after the
other, in one run.

    python benchmarks/build_speed.py --minutes 10 --workers 2 --encoding both --skip-full-clips
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from _goal import Goal, report_goals

from empathynet.blur import BlurMethod, blur_pitch, create_blur_method, verify_blur
from empathynet.blur.prosody import import_parselmouth
from empathynet.config import EmpathyNetConfig
from empathynet.data.models import FaceBox
from empathynet.demo import make_long_video
from empathynet.faces.detectors import FaceDetector, create_detector
from empathynet.faces.speaking import MouthMeter, score_track
from empathynet.faces.sync import measure_sync
from empathynet.faces.tracking import FaceTrack, detect_frames, sample_times_ms, track_faces
from empathynet.media.audio import AudioReader, write_wav
from empathynet.media.decode import DecodedFrame, WindowDecoder, select_frames
from empathynet.media.encode import (
    CropBox,
    crop_square,
    encode_clip,
    square_crop_box,
    still_times,
    write_jpeg,
)
from empathynet.media.shots import detect_cuts
from empathynet.pipeline.build import build_dataset, read_manifest
from empathynet.store.atomic import batched_sync
from empathynet.subtitles import load_utterances
from empathynet.timeline import ms_to_samples

#: The goal: a build takes at most this many times its third floor (same run).
GOAL_FLOOR_RATIO = 1.25

FLOORS = (
    "decode",
    "decode+detect",
    "decode+detect+face clip",
    "+ cue outputs",
    "+ cue checks",
)
#: The floor the goal is measured against.
GOAL_FLOOR = FLOORS[2]


class PeakWatch:
    """Polls the peak resident size (``VmHWM``) of this process's children while it
    runs: the largest seen, and how many children were seen (Linux ``/proc``)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        parent = str(os.getpid())
        while not self._stop.is_set():
            self.poll(parent)
            self._stop.wait(self.interval)

    def poll(self, parent: str) -> None:
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
                )
            except OSError:
                continue
            if fields.get("PPid", "").strip() != parent or "VmHWM" not in fields:
                continue
            pid = int(status.parent.name)
            peak = int(fields["VmHWM"].split()[0]) * 1024
            self.peaks[pid] = max(self.peaks.get(pid, 0), peak)

    def line(self) -> str:
        # the pool's workers are the large children (the resource tracker is small)
        workers = sorted((p for p in self.peaks.values() if p > 100 * 2**20), reverse=True)
        if not workers:
            return "peak memory per worker: not measured (no worker process seen)"
        shown = ", ".join(f"{p / 2**20:.0f}" for p in workers)
        return f"peak memory per worker: {shown} MiB ({len(workers)} processes)"


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


Window = tuple[int, int, bool]  # start ms, end ms, whether the default build accepted it


@dataclass
class FloorContext:
    """What a floor's process sets up once: the detector and, for the last floor, the rest."""

    config: EmpathyNetConfig
    detector: FaceDetector | None = None
    meter: MouthMeter | None = None
    blur: BlurMethod | None = None
    checks: bool = False  #: floor 5: the checks too


_CONTEXT: list[FloorContext] = []


def _floor_setup(floor: str) -> None:
    config = EmpathyNetConfig()
    context = FloorContext(config)
    if floor != FLOORS[0]:
        context.detector = create_detector(config.faces)
        context.detector.setup()
    if FLOORS.index(floor) >= 3:
        context.meter = MouthMeter()
        context.meter.setup()
        context.checks = FLOORS.index(floor) >= 4
        context.blur = create_blur_method(config.blur)
        # what the build's modules load on first use
        import scipy.signal  # noqa: F401

        import_parselmouth()
    _CONTEXT.append(context)


def _floor_worker(args: tuple[str, list[Window], str, str]) -> int:
    """Do one floor's work over ``windows`` in this process; returns frames decoded."""
    video, windows, floor, scratch = args
    context = _CONTEXT[0]
    config = context.config
    level = FLOORS.index(floor)
    frames = 0
    with contextlib.ExitStack() as stack:
        # the files' fsync deferred to one sync at the end, as the build does per chunk
        stack.enter_context(batched_sync())
        decoder = stack.enter_context(WindowDecoder(video, threads=False))
        audio = (
            stack.enter_context(AudioReader(video, sample_rate=config.extract.audio_rate))
            if level >= 3
            else None
        )
        for start_ms, end_ms, accepted in windows:
            times = sample_times_ms(start_ms, end_ms, config.faces.sample_fps)
            sampled: dict[int, np.ndarray] = {}
            kept = []
            for decoded in decoder.frames(start_ms, end_ms):
                frames += 1
                for time_ms in times:
                    if level >= 1 and time_ms not in sampled and decoded.covers(time_ms):
                        width = min(config.faces.detection_width, decoded.display_size[0])
                        sampled[time_ms] = decoded.to_rgb(width=width, interpolation="AREA")
                if accepted and level >= 2:
                    kept.append(decoded)
            if context.detector is None:
                continue
            found = detect_frames(context.detector, sorted(sampled.items()))
            if not accepted or level < 2:
                continue
            tracks = track_faces(found, config.faces.iou_threshold, config.faces.max_gap_frames)
            track = max(tracks, key=lambda t: t.median_size("dims")) if tracks else None
            width, height = kept[0].display_size
            box = track.box_at(start_ms) if track else FaceBox(0.35, 0.15, 0.3, 0.5, 1.0)
            crop = square_crop_box(
                box.x * width, box.y * height, box.width * width, box.height * height,
                width, height, scale=config.extract.face_margin,
            )  # fmt: skip
            extract = config.extract
            encode_clip(
                Path(scratch) / f"{start_ms}.mp4", kept, start_ms, end_ms, crop=crop,
                size=(extract.face_size, extract.face_size), crf=extract.crf,
                preset=extract.preset,
            )  # fmt: skip
            if audio is not None and track is not None:
                _other_cue_work(context, audio, kept, sampled, track, start_ms, end_ms,
                                Path(scratch), crop)  # fmt: skip
    return frames


def _other_cue_work(
    context: FloorContext,
    audio: AudioReader,
    kept: list[DecodedFrame],
    sampled: dict[int, np.ndarray],
    track: FaceTrack,
    start_ms: int,
    end_ms: int,
    scratch: Path,
    crop: CropBox,
) -> None:
    """The rest of an accepted cue's work (floors 4 and 5), straight library calls."""
    config = context.config
    assert context.meter is not None and context.blur is not None
    rate = config.extract.audio_rate
    if context.checks:
        detect_cuts(kept, config.shots)
        margin_start = max(0, start_ms - config.faces.sync_search_ms)
        audio_end = end_ms + config.faces.sync_search_ms
    else:
        margin_start, audio_end = start_ms, end_ms
    margin = audio.read(margin_start, audio_end)
    offset = ms_to_samples(start_ms, rate) - ms_to_samples(margin_start, rate)
    samples = margin[offset : offset + ms_to_samples(end_ms, rate) - ms_to_samples(start_ms, rate)]
    if context.checks:
        score_track(context.meter, track, sampled, samples, start_ms, rate, config.faces)
        measure_sync(kept, track, margin, margin_start, rate, config.faces)
    times = still_times(start_ms, end_ms, config.extract.stills)
    for k, (_, decoded) in enumerate(select_frames(kept, times)):
        rgb = decoded.to_rgb()
        write_jpeg(scratch / f"{start_ms}_still_{k}.jpg", rgb, config.extract.jpeg_quality)
        face = crop_square(rgb, crop, config.extract.face_size)
        write_jpeg(scratch / f"{start_ms}_face_{k}.jpg", face, config.extract.jpeg_quality)
    write_wav(scratch / f"{start_ms}.wav", samples, rate)
    pitch = blur_pitch(samples, rate, config.blur)
    blurred = context.blur.blur(samples, rate, pitch=pitch)
    write_wav(scratch / f"{start_ms}_blur.wav", blurred, rate)
    if context.checks:
        verify_blur(samples, blurred, rate, "", config=config.blur, raw_pitch=pitch)


def floor_seconds(video: Path, workers: int, floor: str, accepted: set[int]) -> float:
    """Wall seconds of one floor's work, the windows split in time order over ``workers``
    processes (as the build's chunks are); the processes start (and load their models)
    before the clock starts. ``accepted``: start times (ms) of the accepted windows."""
    utterances = load_utterances(video.with_suffix(".srt")).utterances
    windows = [(u.start_ms, u.end_ms, u.start_ms in accepted) for u in utterances]
    share = -(-len(windows) // workers)
    groups = [windows[k : k + share] for k in range(0, len(windows), share)]
    spawn = multiprocessing.get_context("spawn")  # as the build's pool
    with (
        tempfile.TemporaryDirectory() as scratch,
        ProcessPoolExecutor(
            workers, mp_context=spawn, initializer=_floor_setup, initargs=(floor,)
        ) as pool,
    ):
        # Warm up: start the processes on one short window each.
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


def timed_build(
    video: Path, out: Path, config: EmpathyNetConfig, workers: int
) -> tuple[float, dict[str, float]]:
    """Wall seconds of a fresh build and its CPU seconds per stage (summed over workers)."""
    shutil.rmtree(out, ignore_errors=True)
    with PeakWatch() as watch:
        started = time.perf_counter()
        summary = build_dataset([video], out, config, workers=workers, progress=False)
        seconds = time.perf_counter() - started
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.status_counts.items()))
    print(f"    {counts}")
    # Stages do not overlap (``blur`` is not counted in ``extract``): they add up to the
    # workers' busy time.
    stages = dict(sorted(summary.stage_seconds.items(), key=lambda kv: -kv[1]))
    busy = sum(stages.values())
    print("    CPU seconds per stage (summed over workers):")
    for name, value in stages.items():
        print(f"      {name:<10} {value:6.1f} s  {100 * value / busy:4.1f} %")
    print(f"      {'total':<10} {busy:6.1f} s  (wall x workers: {seconds * workers:.1f} s)")
    print(f"    {watch.line()}")
    return seconds, stages


def measure(video: Path, args: argparse.Namespace, label: str) -> list[Goal]:
    """One encoding's build, floors and goal (printed); returns the goal."""
    decode = ffmpeg_decode_seconds(video, args.workers)
    print(f"== {label}: {video} ({video.stat().st_size / 1e6:.0f} MB), workers: {args.workers}")
    print(f"ffmpeg full decode: {decode:.1f} s")

    config = EmpathyNetConfig()
    print("build, default outputs (face clips, stills, face crops, audio):")
    default, _ = timed_build(video, args.work / "dataset-default", config, args.workers)
    print(f"  build {default:.1f} s -> ratio to ffmpeg {default / decode:.2f}")
    goals: list[Goal] = []
    if not args.skip_floors:
        rows = read_manifest(args.work / "dataset-default")
        accepted = {row.start_ms for row in rows if row.status == "accepted"}
        print("floors (work every build does, same processes, the build's settings):")
        floors: dict[str, float] = {}
        for floor in FLOORS:
            floors[floor] = floor_seconds(video, args.workers, floor, accepted)
            print(
                f"  {floor}: {floors[floor]:.1f} s -> ratio to ffmpeg "
                f"{floors[floor] / decode:.2f}; build / floor {default / floors[floor]:.2f}"
            )
        # The proof lines: the cue group's own outputs and checks against the goal's floor.
        for floor in FLOORS[3:]:
            print(f"  {floor} / {GOAL_FLOOR} = {floors[floor] / floors[GOAL_FLOOR]:.2f}")
        print(
            f"  (a build doing that work cannot be within {GOAL_FLOOR_RATIO} x of {GOAL_FLOOR} "
            "when these are above it)"
        )
        goals.append(
            Goal(
                f"{label}: build / {GOAL_FLOOR} floor",
                default / floors[GOAL_FLOOR],
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
        with_full, _ = timed_build(video, args.work / "dataset-full", full, args.workers)
        print(f"  build {with_full:.1f} s -> ratio {with_full / decode:.2f}")
    return goals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("benchmark-work"))
    parser.add_argument("--skip-full-clips", action="store_true")
    parser.add_argument("--skip-floors", action="store_true")
    parser.add_argument(
        "--encoding",
        choices=("fast-decode", "realistic", "both"),
        default="fast-decode",
        help="the generator's encoding, a delivered movie's, or both in this one run",
    )
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
    goals: list[Goal] = []
    if args.encoding in ("fast-decode", "both"):
        goals += measure(video, args, "fast-decode")
    if args.encoding in ("realistic", "both"):
        goals += measure(realistic_copy(video), args, "realistic")
    return report_goals(goals) if goals else 0


if __name__ == "__main__":
    sys.exit(main())
