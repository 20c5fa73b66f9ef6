"""``empathynet blur DATASET`` and ``empathynet blur verify DATASET``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from empathynet.blur import BLUR_METHODS
from empathynet.cli.parsing import CommandParser
from empathynet.config import BlurConfig, from_mapping
from empathynet.pipeline.build import read_manifest
from empathynet.pipeline.reblur import blur_report, reblur_dataset, verify_dataset

EXAMPLE = """examples:
  empathynet blur my-dataset --method lowpass    # blur every accepted cue again
  empathynet blur verify my-dataset              # speech recogniser on raw and blurred audio

The build already blurs (method resynth).
"""

VERIFY_EXAMPLE = """examples:
  empathynet blur verify my-dataset
  empathynet blur verify --json my-dataset
  empathynet blur verify my-dataset --no-asr     # the figures of an earlier verify

It needs the asr extra:
  pip install 'empathynet[asr]'
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "blur",
        help="blur a dataset's audio again, or verify that its words are unintelligible",
        description=(
            "Blur every accepted cue's audio again so that its words are unintelligible "
            "while pitch, loudness and speaking rate survive (methods: "
            + ", ".join(BLUR_METHODS.names())
            + "). 'empathynet blur verify DATASET' checks the blur with a speech recogniser "
            "(see 'empathynet blur verify --help')."
        ),
        epilog=EXAMPLE,
    )
    if not isinstance(parser, CommandParser):  # pragma: no cover - main builds CommandParsers
        raise TypeError("the blur command needs a CommandParser for its 'verify' word")
    parser.add_argument("dataset", type=Path, metavar="DATASET", help="dataset directory")
    parser.add_argument("--method", help="blur method (default resynth)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress line")
    parser.set_defaults(run=run, verify=False)

    verify = parser.add_word(
        "verify",
        description=(
            "Transcribe every accepted cue's raw and blurred audio with Whisper tiny.en, store "
            "the word error rates in the manifest and print, per blur method, the median WER "
            "(on cues whose raw audio the recogniser got mostly right), F0 correlation, "
            "loudness correlation, speaking-rate ratio, and the cues whose words may still be "
            "intelligible."
        ),
        epilog=VERIFY_EXAMPLE,
    )
    verify.add_argument("dataset", type=Path, metavar="DATASET", help="dataset directory")
    verify.add_argument("--json", action="store_true", help="print the summary as JSON")
    verify.add_argument(
        "--no-asr",
        action="store_true",
        help="only print the figures stored by an earlier verify, run no speech recogniser",
    )
    verify.add_argument("--no-progress", action="store_true", help="no progress line")
    verify.set_defaults(run=run, verify=True, method=None)
    # 'blur --help' shows both forms.
    parser.usage = "\n       ".join(
        p.format_usage().removeprefix("usage: ").strip() for p in (parser, verify)
    )


def run(args: argparse.Namespace) -> int:
    dataset: Path = args.dataset
    config = from_mapping(BlurConfig, {"method": args.method} if args.method else {})
    BLUR_METHODS.get(config.method)  # an unknown method fails here, listing the known ones
    progress = not args.no_progress
    if args.verify:
        if not args.no_asr:
            verify_dataset(dataset, config, progress=progress)
    else:
        reblur_dataset(dataset, config, progress=progress)
    report = blur_report(read_manifest(dataset))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print("\n".join(blur_report_lines(report, dataset)))
    return 0


WORD_FIGURES = (
    "transcribed",
    "recognised_raw",
    "median_wer_raw",
    "median_wer_blur",
    "median_wer_blur_vs_raw",
)


def blur_report_lines(report: dict[str, Any], dataset: Path) -> list[str]:
    """``blur_report`` as text; says so when no speech recogniser has checked a blur."""
    out: list[str] = []
    for method, figures in report.items():
        out.append(f"blur method {method}: {figures['cues']} cues")
        checked = figures["transcribed"] > 0
        for key, value in figures.items():
            if key in ("cues", "possibly_intelligible") or (key in WORD_FIGURES and not checked):
                continue
            out.append(f"  {key}: {value}")
        flagged = figures["possibly_intelligible"]
        if not checked:
            out.append(
                "  intelligibility: not checked (no speech recogniser has run on this blur); "
                f"run: empathynet blur verify {dataset}"
            )
            continue
        unchecked = figures["cues"] - figures["transcribed"]
        note = f" (of {figures['transcribed']} transcribed)" if unchecked else ""
        out.append(f"  cues whose words may still be intelligible: {len(flagged)}{note}")
        out.extend(f"    {cue_id}" for cue_id in flagged)
        if unchecked:
            out.append(
                f"  {unchecked} cues not transcribed yet; run: empathynet blur verify {dataset}"
            )
    if not report:
        out.append("no accepted cue has blurred audio")
    return out
