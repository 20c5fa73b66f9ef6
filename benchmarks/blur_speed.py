"""Blur speed: seconds of audio blurred per second of CPU, per core, for each method.

Blurs generated speech (espeak-ng sentences through ``empathynet.demo``,
resampled to the dataset's 16 kHz, one cue per sentence as the build does) and,
when ../shared/data is there, the real LibriSpeech utterance. CPU time is the
process's (all threads added up), so the figure is per core; the goal for
``resynth`` is at least 100x real time, verification excluded (checked on every
set: the script exits 1 when it is missed). For ``resynth`` it also prints where the
time goes.

    python benchmarks/blur_speed.py [--sentences 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _goal import Goal, report_goals
from scipy import signal

from empathynet.blur import BLUR_METHODS, create_blur_method
from empathynet.blur.prosody import pitch_track, rms_envelope
from empathynet.config import BlurConfig
from empathynet.demo import Phrase, benchmark_sentences, synthesize
from empathynet.media.audio import read_audio

RATE = 16_000
#: ``resynth`` must blur at least this many seconds of audio per CPU second.
GOAL_REAL_TIME = 100.0
LIBRISPEECH = Path("../shared/data/audio/librispeech_116-288045-0000.flac")


def generated_cues(count: int) -> list[np.ndarray[Any, Any]]:
    """``count`` espeak-ng sentences as 16 kHz float32 cues, alternating two voices."""
    voices = ("en-us+f4", "en-us+m3")
    phrases = [
        Phrase(text, voice=voices[index % 2])
        for index, text in enumerate(benchmark_sentences(count))
    ]
    cues = []
    for speech in synthesize(phrases):
        samples = speech.samples.astype(np.float64) / 32768.0
        cues.append(signal.resample_poly(samples, RATE, speech.sample_rate).astype(np.float32))
    return cues


def cpu_seconds(work: Any, repeats: int) -> float:
    """Least CPU seconds (process time, all threads) of ``repeats`` runs of ``work()``."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sets = {"generated": generated_cues(args.sentences)}
    if LIBRISPEECH.is_file():
        sets["librispeech"] = [read_audio(LIBRISPEECH, 0, 10_650, RATE)]
    else:
        print(f"real speech not found ({LIBRISPEECH}): generated speech only")
    goals: list[Goal] = []
    for name, cues in sets.items():
        seconds = sum(cue.size for cue in cues) / RATE
        print(f"== {name}: {len(cues)} cues, {seconds:.1f} s of audio at {RATE} Hz")
        for method in BLUR_METHODS.names():
            blur = create_blur_method(BlurConfig(method=method))
            blur.blur(cues[0], RATE)  # filters are designed on first use

            def run(blur: Any = blur, cues: list[Any] = cues) -> None:
                for cue in cues:
                    blur.blur(cue, RATE)

            cpu = cpu_seconds(run, args.repeats)
            print(f"{method:8s} {seconds / cpu:7.0f}x real time per core ({cpu:.3f} s CPU)")
            if method == "resynth":
                goals.append(Goal(f"resynth speed ({name})", seconds / cpu, GOAL_REAL_TIME, "x"))
        config = BlurConfig()
        pitch_cpu = cpu_seconds(
            lambda cues=cues: [pitch_track(cue, RATE) for cue in cues], args.repeats
        )
        envelope_cpu = cpu_seconds(
            lambda cues=cues, window_ms=float(config.envelope_ms): [
                rms_envelope(cue, RATE, window_ms=window_ms) for cue in cues
            ],
            args.repeats,
        )
        print(
            f"  resynth parts: Praat pitch {seconds / pitch_cpu:.0f}x, "
            f"RMS envelope {seconds / envelope_cpu:.0f}x real time per core"
        )
    return report_goals(goals)


if __name__ == "__main__":
    sys.exit(main())
