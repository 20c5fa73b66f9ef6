"""One table comparing the blur methods on real speech: words destroyed, emotion kept
(measured independently of what the blur copies), F0 and speaking rate kept.

Material: the LibriSpeech utterance 116-288045-0000 (true transcript) and the 47
labelled emotional WAVs of pyAudioAnalysis (not English; their raw Whisper transcript
is the reference the blurred one is compared with).

Columns, per method:

* ``LS WER`` / ``LS recall``: Whisper tiny.en WER of the blurred LibriSpeech clip against
  its true text, and the share of reference words the blurred transcript still gets right;
* ``emo WER``: median WER of the blurred emotional clips' transcripts against their raw ones;
* ``arousal`` / ``valence``: accuracy of a logistic regression on spectral and voice-source
  features (MFCC statistics, spectral tilt, alpha ratio, HNR, CPPS:
  ``empathynet.blur.emotion``) **trained on raw clips, tested on blurred ones**, labels
  binarised at the median; grouped cross-validation, leave one recording session out (the
  files come in sessions of 5 consecutive clips with the same emotion; 40-46 is one
  session of 7), with the 95 % Wilson interval. The ``raw`` row is raw→raw.
  ``retained``: (blurred − chance) / (raw − chance);
* ``F0 r``: median correlation of the F0 contours frame by frame (``verify_blur``);
  ``F0 med Δ``: median over clips of |median F0 blurred − raw|, semitones (the F0
  statistics, which splicing keeps while reordering the contour);
* ``rate``: median speaking-rate ratio (syllable nuclei, blurred / raw).

Exits 1 when a goal is missed (see the end of ``main``).

    python benchmarks/blur_emotion.py [--data ../shared/data] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from _goal import Goal, report_goals

from empathynet.blur import BLUR_METHODS, Recognizer, blur_pitch, create_blur_method, verify_blur
from empathynet.blur.emotion import TransferAccuracy, transfer_accuracy, voice_quality_features
from empathynet.blur.wer import word_error_rate
from empathynet.config import BlurConfig
from empathynet.media.audio import read_audio, read_wav

LIBRISPEECH_TEXT = (
    "AS I APPROACHED THE CITY I HEARD BELLS RINGING AND A LITTLE LATER I FOUND THE STREETS "
    "ASTIR WITH THRONGS OF WELL DRESSED PEOPLE IN FAMILY GROUPS WENDING THEIR WAY HITHER AND "
    "THITHER"
)
RATE = 16_000
#: Clips per recording session in pyAudioAnalysis' speechEmotion folder (the last has 7).
SESSION_CLIPS = 5


def sessions(count: int) -> np.ndarray[Any, Any]:
    """Session index of each clip in file order: blocks of 5, the remainder joins the last."""
    return np.minimum(np.arange(count) // SESSION_CLIPS, count // SESSION_CLIPS - 1)


def median_f0_semitones(samples: np.ndarray[Any, Any], config: BlurConfig) -> float | None:
    pitch = blur_pitch(samples, RATE, config)
    voiced = pitch.f0_hz[pitch.voiced]
    return float(12.0 * np.log2(np.median(voiced) / 100.0)) if voiced.size else None


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def accuracy_cell(result: TransferAccuracy, condition: str) -> str:
    low, high = result.interval[condition]
    return f"{result.accuracy[condition]:.2f} [{low:.2f}-{high:.2f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--methods", nargs="*", default=BLUR_METHODS.names())
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    emotion = args.data / "emotion" / "pyaudioanalysis_speechEmotion"
    flac = args.data / "audio" / "librispeech_116-288045-0000.flac"
    if not emotion.is_dir() or not flac.is_file():
        print(f"real material not found under {args.data}", file=sys.stderr)
        return 2
    config = BlurConfig()
    wavs = sorted(emotion.glob("*.wav"))
    clips = []
    for wav in wavs:
        samples, rate = read_wav(wav)
        if rate != RATE or samples.ndim != 1:
            raise SystemExit(f"{wav}: expected 16 kHz mono, got {rate} Hz shape {samples.shape}")
        clips.append(samples.astype(np.float64))
    labels: dict[str, np.ndarray[Any, Any]] = {}
    for dimension in ("arousal", "valence"):
        with open(emotion / f"{dimension}.csv", newline="") as handle:
            values = {row[0]: float(row[1]) for row in csv.reader(handle) if row}
        scores = np.array([values[wav.name] for wav in wavs])
        labels[dimension] = scores > np.median(scores)
    groups = sessions(len(clips))
    librispeech = read_audio(flac, 0, 10_650, RATE)
    recognizer = Recognizer(beam_size=1, cpu_threads=1)
    raw_ls = recognizer.transcribe(librispeech, RATE)
    raw_texts = [recognizer.transcribe(clip, RATE) for clip in clips]
    raw_pitches = [blur_pitch(clip, RATE, config) for clip in clips]
    raw_f0 = [median_f0_semitones(clip, config) for clip in clips]
    raw_features = np.array([voice_quality_features(clip, RATE) for clip in clips])
    print(
        f"{len(clips)} emotional clips in {int(groups.max()) + 1} sessions, LibriSpeech raw WER "
        f"{word_error_rate(LIBRISPEECH_TEXT, raw_ls):.2f}; chance: arousal "
        f"{max(labels['arousal'].mean(), 1 - labels['arousal'].mean()):.2f}, valence "
        f"{max(labels['valence'].mean(), 1 - labels['valence'].mean()):.2f}"
    )
    rows: dict[str, dict[str, Any]] = {}
    blurred_features: dict[str, np.ndarray[Any, Any]] = {}
    for method in args.methods:
        blur = create_blur_method(replace(config, method=method))
        ls_blurred = blur.blur(librispeech, RATE)
        ls_figures = verify_blur(
            librispeech, ls_blurred, RATE, LIBRISPEECH_TEXT, recognizer, config=config,
            raw_transcript=raw_ls,
        )  # fmt: skip
        blurred = [
            blur.blur(clip, RATE, pitch=pitch)
            for clip, pitch in zip(clips, raw_pitches, strict=True)
        ]
        figures = [
            verify_blur(
                clip,
                out,
                RATE,
                "",
                recognizer,
                config=config,
                raw_transcript=text,
                raw_pitch=pitch,
            )
            for clip, out, text, pitch in zip(clips, blurred, raw_texts, raw_pitches, strict=True)
        ]
        blurred_features[method] = np.array([voice_quality_features(out, RATE) for out in blurred])
        f0_shift = [
            abs(after - before)
            for before, after in zip(
                raw_f0, (median_f0_semitones(o, config) for o in blurred), strict=True
            )
            if before is not None and after is not None
        ]
        emo_wer = [f.wer_blurred_vs_raw for f in figures if f.wer_blurred_vs_raw is not None]
        correlations = [f.f0_correlation for f in figures if f.f0_correlation is not None]
        rates = [f.speaking_rate_ratio for f in figures if f.speaking_rate_ratio is not None]
        rows[method] = {
            "librispeech_wer": ls_figures.wer_blurred,
            "librispeech_recall": (ls_figures.blurred_hits or 0) / ls_figures.reference_words,
            "librispeech_transcript": ls_figures.blurred_transcript,
            "emotion_wer_vs_raw": float(np.median(emo_wer)) if emo_wer else None,
            "f0_correlation": float(np.median(correlations)) if correlations else None,
            "f0_median_shift_semitones": float(np.median(f0_shift)) if f0_shift else None,
            "speaking_rate_ratio": float(np.median(rates)) if rates else None,
        }
    results = {
        dimension: transfer_accuracy(raw_features, blurred_features, labels[dimension], groups)
        for dimension in ("arousal", "valence")
    }
    arousal, valence = results["arousal"], results["valence"]
    header = (
        f"{'method':8} | {'LS WER':>6} | {'LS recall':>9} | {'emo WER':>7} | "
        f"{'arousal raw→blurred':>19} | {'kept':>5} | {'valence raw→blurred':>19} | "
        f"{'kept':>5} | {'F0 r':>5} | {'F0 med Δ st':>11} | {'rate':>5}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    print(
        f"{'raw':8} | {'':>6} | {'':>9} | {'':>7} | {accuracy_cell(arousal, 'raw'):>19} | "
        f"{'1.00':>5} | {accuracy_cell(valence, 'raw'):>19} | {'1.00':>5} | {'':>5} | "
        f"{'':>11} | {'':>5}"
    )
    for method, row in rows.items():
        row["arousal"] = arousal.accuracy[method]
        row["valence"] = valence.accuracy[method]
        row["arousal_retained"] = arousal.retained(method)
        row["valence_retained"] = valence.retained(method)
        print(
            f"{method:8} | {fmt(row['librispeech_wer']):>6} | "
            f"{fmt(row['librispeech_recall']):>9} | {fmt(row['emotion_wer_vs_raw']):>7} | "
            f"{accuracy_cell(arousal, method):>19} | {fmt(row['arousal_retained']):>5} | "
            f"{accuracy_cell(valence, method):>19} | {fmt(row['valence_retained']):>5} | "
            f"{fmt(row['f0_correlation']):>5} | {fmt(row['f0_median_shift_semitones']):>11} | "
            f"{fmt(row['speaking_rate_ratio']):>5}"
        )
    print(
        f"\nchance: arousal {arousal.chance:.2f}, valence {valence.chance:.2f}; "
        f"{arousal.folds} sessions left out in turn; fold std (arousal) "
        + ", ".join(f"{name} {std:.2f}" for name, std in arousal.fold_std.items())
    )
    for method, row in rows.items():
        print(f"  {method} blurred LibriSpeech: {str(row['librispeech_transcript'])[:110]!r}")
    if args.json:
        report = {
            "methods": rows,
            "emotion": {
                name: {
                    "chance": result.chance,
                    "accuracy": dict(result.accuracy),
                    "fold_std": dict(result.fold_std),
                    "interval": {key: list(value) for key, value in result.interval.items()},
                }
                for name, result in results.items()
            },
        }
        args.json.write_text(json.dumps(report, indent=1))
    default = config.method
    goals = [
        # Words destroyed, by every method: Whisper keeps under a third of the true words.
        *(
            Goal(f"{method} LibriSpeech word recall", row["librispeech_recall"], 0.34, "", False)
            for method, row in rows.items()
        ),
        *(
            Goal(f"{method} emotional clips WER vs raw", row["emotion_wer_vs_raw"] or 0.0, 0.8)
            for method, row in rows.items()
        ),
        # The independent measure can tell emotion at all: raw→raw arousal above chance.
        Goal("raw->raw arousal above chance", arousal.accuracy["raw"] - arousal.chance, 0.15),
    ]
    if default in rows:
        # The default keeps emotion as real voices carry it: raw→blurred arousal well above
        # chance, and F0 statistics within a semitone.
        goals.append(
            Goal(
                f"default ({default}) raw->blurred arousal above chance",
                arousal.accuracy[default] - arousal.chance,
                0.15,
            )
        )
        goals.append(
            Goal(
                f"default ({default}) median F0 shift",
                rows[default]["f0_median_shift_semitones"] or 0.0,
                1.0,
                "st",
                False,
            )
        )
    return report_goals(goals)


if __name__ == "__main__":
    sys.exit(main())
