"""What each blur method keeps and destroys, on the real speech in ../shared/data.

Material (55 utterances):

* the LibriSpeech utterance 116-288045-0000 with its true transcript;
* the audio of the three GRID clips, with the sentence of their .srt files;
* the audio of the four video-retalking clips (real English speech, no true
  transcript): the raw Whisper transcript is their reference (read, and right as
  far as one can tell), so their raw WER is 0 by construction;
* the 47 labelled emotional WAVs of pyAudioAnalysis. They are not English (Whisper
  tiny.en turns them into English-sounding nonsense) and have no transcript: they
  count for the prosody figures, for the blurred-vs-raw transcript comparison and
  for the emotion check, not for the WER against a reference.

For each method it prints

* WER: median raw and blurred WER against the true text over utterances whose raw
  WER ≤ 0.5, the share of reference words the blurred transcript still gets right,
  the median blurred-vs-raw WER over all, and the cues ``may_be_intelligible`` flags;
* prosody: median F0 correlation and RMSE (semitones), loudness-contour correlation
  and speaking-rate ratio (syllable nuclei, blurred / raw) over all utterances;
* "emotion survives": leave-one-out accuracy of a small L2 logistic regression
  (numpy) on prosody features (F0 mean / std / 5-95 % range in semitones, level
  mean / std in dB, voiced fraction, syllable rate) predicting arousal above its
  median, trained and tested on raw audio, then on blurred audio;
* seconds of CPU for blurring and for verification (with Whisper).

    python benchmarks/blur_quality.py [--data ../shared/data] [--beam-size 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from empathynet.blur import (
    BLUR_METHODS,
    BlurFigures,
    Recognizer,
    blur_pitch,
    create_blur_method,
    may_be_intelligible,
    summarize_blur,
    verify_blur,
)
from empathynet.blur.prosody import level_track, pitch_track, syllable_nuclei
from empathynet.blur.wer import word_error_rate
from empathynet.config import BlurConfig
from empathynet.media.audio import AudioReader, read_audio, read_wav
from empathynet.subtitles.load import load_subtitles

#: LibriSpeech dev-other 116-288045-0000, as in the corpus's transcript file.
LIBRISPEECH_TEXT = (
    "AS I APPROACHED THE CITY I HEARD BELLS RINGING AND A LITTLE LATER I FOUND THE STREETS "
    "ASTIR WITH THRONGS OF WELL DRESSED PEOPLE IN FAMILY GROUPS WENDING THEIR WAY HITHER AND "
    "THITHER"
)
RATE = 16_000


@dataclass(frozen=True)
class Utterance:
    """One real utterance: 16 kHz mono samples, its text ('' when unknown, ``None``: use
    the raw Whisper transcript), its arousal label if any."""

    name: str
    samples: np.ndarray[Any, Any]
    text: str | None
    arousal: float | None


def load_material(data: Path) -> list[Utterance]:
    """Every utterance of the real material, in a fixed order."""
    flac = data / "audio" / "librispeech_116-288045-0000.flac"
    utterances = [
        Utterance("librispeech", read_audio(flac, 0, 10_650, RATE), LIBRISPEECH_TEXT, None)
    ]
    for mpg in sorted((data / "video" / "talking_head").glob("lipnet_grid_*.mpg")):
        text = " ".join(event.text for event in load_subtitles(mpg.with_suffix(".srt")).events)
        utterances.append(Utterance(f"grid/{mpg.stem}", read_audio(mpg, 0, 3000, RATE), text, None))
    for mp4 in sorted((data / "video" / "talking_head").glob("videoretalking_*.mp4")):
        with AudioReader(mp4, sample_rate=RATE) as reader:
            samples = reader.read_all()
        utterances.append(Utterance(f"retalking/{mp4.stem}", samples, None, None))
    emotion = data / "emotion" / "pyaudioanalysis_speechEmotion"
    with open(emotion / "arousal.csv", newline="") as handle:
        arousal = {row[0]: float(row[1]) for row in csv.reader(handle) if row}
    for wav in sorted(emotion.glob("*.wav")):
        samples, rate = read_wav(wav)
        if rate != RATE or samples.ndim != 1:
            raise SystemExit(f"{wav}: expected 16 kHz mono, got {rate} Hz shape {samples.shape}")
        utterances.append(Utterance(f"emotion/{wav.stem}", samples, "", arousal[wav.name]))
    return utterances


def prosody_features(samples: np.ndarray[Any, Any], config: BlurConfig) -> list[float]:
    """F0 mean / std / 5-95 % range (semitones re 100 Hz), level mean / std (dBFS, frames
    within 40 dB of the loudest), voiced fraction of pitch frames, syllables per second."""
    pitch = pitch_track(samples, RATE, f0_min_hz=config.f0_min_hz, f0_max_hz=config.f0_max_hz)
    voiced = pitch.f0_hz[pitch.voiced]
    semitones = 12.0 * np.log2(voiced / 100.0) if voiced.size else np.zeros(1)
    levels = level_track(samples, RATE).db
    loud = levels[levels > levels.max() - 40.0]
    nuclei = syllable_nuclei(samples, RATE, pitch=pitch)
    return [
        float(semitones.mean()),
        float(semitones.std()),
        float(np.percentile(semitones, 95) - np.percentile(semitones, 5)),
        float(loud.mean()),
        float(loud.std()),
        float(pitch.voiced.mean()) if pitch.voiced.size else 0.0,
        nuclei.size / (samples.size / RATE),
    ]


def logistic_loo_accuracy(features: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> float:
    """Leave-one-out accuracy of an L2-regularised logistic regression (features
    standardised on each training fold; full-batch gradient descent)."""
    hits = 0
    for held in range(len(labels)):
        train = np.arange(len(labels)) != held
        mean = features[train].mean(axis=0)
        std = features[train].std(axis=0) + 1e-9
        x = np.hstack([(features[train] - mean) / std, np.ones((int(train.sum()), 1))])
        y = labels[train]
        weights = np.zeros(x.shape[1])
        for _ in range(2000):
            p = 1.0 / (1.0 + np.exp(-x @ weights))
            gradient = x.T @ (p - y) / len(y) + 0.01 * np.r_[weights[:-1], 0.0]
            weights -= 0.5 * gradient
        test = np.r_[(features[held] - mean) / std, 1.0]
        hits += int((test @ weights > 0) == bool(labels[held]))
    return hits / len(labels)


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def quantile(values: list[float | None], q: float) -> float | None:
    present = [value for value in values if value is not None]
    return float(np.quantile(present, q)) if present else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--methods", nargs="*", default=BLUR_METHODS.names())
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"real material not found: {args.data}", file=sys.stderr)
        return 2
    utterances = load_material(args.data)
    recognizer = Recognizer(beam_size=args.beam_size, cpu_threads=1)
    started = time.process_time()
    raw_transcripts = {u.name: recognizer.transcribe(u.samples, RATE) for u in utterances}
    asr_cpu = time.process_time() - started
    audio_seconds = sum(u.samples.size for u in utterances) / RATE
    print(
        f"{len(utterances)} utterances, {audio_seconds:.1f} s of audio; Whisper tiny.en "
        f"beam {args.beam_size}: {audio_seconds / asr_cpu:.1f}x real time per core on raw audio"
    )
    references = {u.name: raw_transcripts[u.name] if u.text is None else u.text for u in utterances}
    for utterance in utterances:
        if references[utterance.name]:
            wer = word_error_rate(references[utterance.name], raw_transcripts[utterance.name])
            print(f"  raw WER {fmt(wer, 2)} {utterance.name}: {raw_transcripts[utterance.name]!r}")
    labelled = [u for u in utterances if u.arousal is not None]
    arousal = np.array([u.arousal for u in labelled], dtype=np.float64)
    high_arousal = (arousal > np.median(arousal)).astype(np.float64)
    config = BlurConfig()
    raw_accuracy = logistic_loo_accuracy(
        np.array([prosody_features(u.samples, config) for u in labelled]), high_arousal
    )
    # The raw F0 track depends only on the F0 settings, the same for every method: measured
    # once per utterance and given to the blur and to verify_blur, as the build does.
    started = time.process_time()
    raw_pitches = {u.name: blur_pitch(u.samples, RATE, config) for u in utterances}
    pitch_cpu = time.process_time() - started
    print(
        f"raw F0 tracks (shared by every blur and verification, not in their times below): "
        f"{audio_seconds / pitch_cpu:.0f}x real time per core"
    )
    report: dict[str, Any] = {"raw_transcripts": raw_transcripts, "methods": {}}
    for method in args.methods:
        blur = create_blur_method(replace(config, method=method))
        blurred: dict[str, np.ndarray[Any, Any]] = {}
        started = time.process_time()
        for utterance in utterances:
            blurred[utterance.name] = blur.blur(
                utterance.samples, RATE, pitch=raw_pitches[utterance.name]
            )
        blur_cpu = time.process_time() - started
        started = time.process_time()
        figures: dict[str, BlurFigures] = {
            u.name: verify_blur(
                u.samples,
                blurred[u.name],
                RATE,
                references[u.name],
                recognizer,
                config=config,
                raw_transcript=raw_transcripts[u.name],
                raw_pitch=raw_pitches[u.name],
            )
            for u in utterances
        }
        verify_cpu = time.process_time() - started
        referenced = summarize_blur({n: f for n, f in figures.items() if f.reference_words})
        everything = summarize_blur(figures)
        blurred_accuracy = logistic_loo_accuracy(
            np.array([prosody_features(blurred[u.name], config) for u in labelled]), high_arousal
        )
        rates = [figure.speaking_rate_ratio for figure in figures.values()]
        correlations = [f.f0_correlation for f in figures.values() if f.f0_correlation is not None]
        print(
            f"\n== {method}: blur {audio_seconds / blur_cpu:.0f}x real time per core, "
            f"verification {audio_seconds / verify_cpu:.1f}x"
        )
        print(
            f"words: {referenced.recognised_raw} of {referenced.cues} utterances with a "
            f"reference and raw WER <= 0.5; median raw WER {fmt(referenced.median_wer_raw)}, "
            f"blurred WER {fmt(referenced.median_wer_blurred)}, blurred word recall "
            f"{fmt(referenced.median_blurred_word_recall)}; all {everything.cues}: median "
            f"blurred-vs-raw WER {fmt(everything.median_wer_blurred_vs_raw)}"
        )
        print(f"possibly intelligible: {', '.join(everything.possibly_intelligible) or 'none'}")
        print(
            f"prosody: median F0 correlation {fmt(everything.median_f0_correlation)} "
            f"(min {fmt(min(correlations, default=None))}), "
            f"F0 RMSE {fmt(everything.median_f0_rmse_semitones)} st, loudness correlation "
            f"{fmt(everything.median_intensity_correlation)}, speaking-rate ratio "
            f"{fmt(everything.median_speaking_rate_ratio)} (IQR {fmt(quantile(rates, 0.25))}"
            f"-{fmt(quantile(rates, 0.75))}), same duration "
            f"{everything.same_duration}/{everything.cues}"
        )
        print(
            f"emotion survives: high-arousal LOO accuracy raw {raw_accuracy:.3f}, blurred "
            f"{blurred_accuracy:.3f} ({blurred_accuracy / raw_accuracy:.0%} of raw; "
            f"n={len(labelled)}, chance {max(high_arousal.mean(), 1 - high_arousal.mean()):.3f})"
        )
        for name, figure in figures.items():
            if figure.reference_words or may_be_intelligible(figure):
                print(
                    f"  {name}: WER {fmt(figure.wer_blurred, 2)}, hits {figure.blurred_hits}, "
                    f"shared content words {figure.shared_content_words}: "
                    f"{(figure.blurred_transcript or '')[:70]!r}"
                )
        report["methods"][method] = {
            "summary_referenced": referenced.to_dict(),
            "summary_all": everything.to_dict(),
            "arousal_accuracy_raw": raw_accuracy,
            "arousal_accuracy_blurred": blurred_accuracy,
            "figures": {name: figure.to_dict() for name, figure in figures.items()},
        }
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
