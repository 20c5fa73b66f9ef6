"""Class discovery on real labelled material: cluster purity and adjusted Rand index.

Makes datasets from ../shared/data/emotion (``empathynet.testing.realdata``), runs
``suggest_classes`` on each for a range of k and prints, per dataset, view and k, the
silhouette, purity and adjusted Rand index (ARI) against each known labelling, with the
majority share (the purity of one single cluster) and the chance purity (the same
clusters with the labels shuffled, mean of 200) to compare with. Also the VADER
pre-label score against MELD's sentiment labels.

* MELD dev (1,109 TV utterances, 7 emotions; text view);
* facial_expressions (48 face photos, 8 expressions; stills view);
* MEAD (24 acted-emotion face videos, 3 speakers; five frames each; stills view, also
  centred by speaker);
* pyAudioAnalysis speech (47 WAVs, arousal / valence high-low; blurred audio view).

    python benchmarks/classes_purity.py [--data ../shared/data] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from empathynet.classes import cluster_purity, label_agreement, suggest_classes
from empathynet.classes.features import cue_texts
from empathynet.classes.prelabels import vader_scores
from empathynet.tasks.cuetable import load_cue_table
from empathynet.testing.realdata import (
    RealDataset,
    write_face_photo_dataset,
    write_face_video_dataset,
    write_meld_dataset,
    write_speech_dataset,
)


def _measure(
    name: str,
    dataset: RealDataset,
    views: list[str],
    ks: str,
    seed: int,
    centre_by: str | None = None,
) -> list[dict[str, Any]]:
    started = time.perf_counter()
    suggestion = suggest_classes(dataset.root, ks, views, seed, centre_by=centre_by)
    seconds = time.perf_counter() - started
    assert suggestion.cue_ids == dataset.cue_ids
    rows = []
    for result in suggestion.results:
        for labelling, labels in dataset.labels.items():
            agreement = label_agreement(result.assignment, list(labels))
            # purity of the same cluster sizes with the labels shuffled: what chance gives
            rng = np.random.default_rng(seed)
            chance = np.mean(
                [
                    cluster_purity(result.assignment, list(rng.permutation(labels)))
                    for _ in range(200)
                ]
            )
            rows.append(
                {
                    "dataset": name,
                    "views": "+".join(views) + ("/by " + centre_by if centre_by else ""),
                    "k": result.k,
                    "labelling": labelling,
                    "silhouette": result.silhouette,
                    "purity": agreement.purity,
                    "ari": agreement.adjusted_rand,
                    "majority": agreement.majority_share,
                    "chance": float(chance),
                    "cue_groups": agreement.labelled,
                    "seconds": seconds,
                }
            )
    return rows


def _vader_vs_sentiment(dataset: RealDataset) -> dict[str, float]:
    """VADER's compound score against MELD's sentiment: 3-way accuracy with VADER's own
    thresholds (+-0.05), and on positive/negative utterances VADER scores at all, whether
    the sign is right."""
    cues = load_cue_table(dataset.root)
    scores = np.array(vader_scores(cue_texts(cues)))
    truth = np.array(dataset.labels["sentiment"])
    predicted = np.where(
        scores >= 0.05, "positive", np.where(scores <= -0.05, "negative", "neutral")
    )
    polar = (truth != "neutral") & (np.abs(scores) >= 0.05)
    sign = np.where(truth[polar] == "positive", 1, -1)
    numeric = np.select([truth == "positive", truth == "negative"], [1, -1], 0)
    return {
        "accuracy_3way": float((predicted == truth).mean()),
        "majority_share": float(max(np.unique(truth, return_counts=True)[1]) / len(truth)),
        "polar_scored_share": float(polar.sum() / (truth != "neutral").sum()),
        "sign_accuracy": float((np.sign(scores[polar]) == sign).mean()),
        "pearson_r": float(np.corrcoef(scores, numeric)[0, 1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).parents[1] / ".." / "shared" / "data"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    emotion = args.data.resolve() / "emotion"
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        meld = write_meld_dataset(work / "meld", emotion / "meld" / "meld_dev_sent_emo.csv")
        rows += _measure("MELD dev", meld, ["text"], "2-12", args.seed)
        rows += _measure("MELD dev", meld, ["text"], "6-10", args.seed, "speaker")
        extra["vader_vs_meld_sentiment"] = _vader_vs_sentiment(meld)
        photos = write_face_photo_dataset(
            work / "photos",
            emotion / "facial_expressions" / "images",
            emotion / "facial_expressions" / "sample_labels.csv",
        )
        rows += _measure("facial_expressions", photos, ["stills"], "2-12", args.seed)
        mead = write_face_video_dataset(work / "mead", emotion / "mead_face_video")
        rows += _measure("MEAD", mead, ["stills"], "2-10", args.seed)
        rows += _measure("MEAD", mead, ["stills"], "2-10", args.seed, "speaker")
        speech = write_speech_dataset(work / "speech", emotion / "pyaudioanalysis_speechEmotion")
        rows += _measure("pyAudioAnalysis", speech, ["audio_blur"], "2-10", args.seed)
    print(
        f"{'dataset':<20}{'views':<18}{'labels':<11}{'k':>3}{'silh':>7}{'purity':>8}"
        f"{'ARI':>7}{'chance':>8}{'one cl.':>8}{'n':>6}"
    )
    for row in rows:
        print(
            f"{row['dataset']:<20}{row['views']:<18}{row['labelling']:<11}{row['k']:>3}"
            f"{row['silhouette']:7.3f}{row['purity']:8.3f}{row['ari']:7.3f}{row['chance']:8.3f}"
            f"{row['majority']:8.3f}"
            f"{row['cue_groups']:6d}"
        )
    vader = extra["vader_vs_meld_sentiment"]
    print(
        "VADER compound vs MELD sentiment: 3-way accuracy {accuracy_3way:.3f} (majority "
        "{majority_share:.3f}); of positive/negative utterances VADER scores "
        "{polar_scored_share:.3f}, with the right sign for {sign_accuracy:.3f}; Pearson r "
        "{pearson_r:.3f}".format(**vader)
    )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, **extra}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
