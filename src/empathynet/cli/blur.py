"""``empathynet blur DATASET`` and ``empathynet blur verify DATASET``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from empathynet.blur import BLUR_METHODS
from empathynet.config import BlurConfig, from_mapping
from empathynet.errors import ConfigError
from empathynet.pipeline.build import read_manifest
from empathynet.pipeline.reblur import blur_report, reblur_dataset, verify_dataset

EXAMPLE = """examples:
  empathynet blur my-dataset --method lowpass    # blur every accepted cue again
  empathynet blur verify my-dataset              # speech recogniser on raw and blurred audio
  empathynet blur verify my-dataset --json

The build already blurs (method resynth). 'verify' needs the asr extra:
  pip install 'empathynet[asr]'
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "blur",
        help="blur a dataset's audio again, or verify that its words are unintelligible",
        description=(
            "Blur: make every accepted cue's audio unintelligible while pitch, loudness and "
            "speaking rate survive (methods: " + ", ".join(BLUR_METHODS.names()) + "). "
            "Verify: transcribe raw and blurred audio with Whisper tiny.en and print, per "
            "method, word error rates, F0 correlation and speaking-rate ratio, and the cues "
            "whose words may still be intelligible."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target",
        nargs="+",
        metavar="[verify] DATASET",
        help="the dataset, after 'verify' to verify",
    )
    parser.add_argument("--method", help="blur method (default resynth)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--no-asr",
        action="store_true",
        help="verify: only print the stored figures, run no speech recogniser",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress line")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target: list[str] = args.target
    verify = target[0] == "verify"
    if verify:
        target = target[1:]
    if len(target) != 1:
        raise ConfigError("give one dataset: empathynet blur [verify] DATASET")
    dataset = Path(target[0])
    config = from_mapping(BlurConfig, {"method": args.method} if args.method else {})
    BLUR_METHODS.get(config.method)  # an unknown method fails here, listing the known ones
    progress = not args.no_progress
    if verify:
        if args.method:
            raise ConfigError("--method is for blurring; verify checks the stored blur")
        if not args.no_asr:
            verify_dataset(dataset, config, progress=progress)
    else:
        reblur_dataset(dataset, config, progress=progress)
    report = blur_report(read_manifest(dataset))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for method, figures in report.items():
        print(f"blur method {method}: {figures['cues']} cues")
        for key, value in figures.items():
            if key not in ("cues", "possibly_intelligible"):
                print(f"  {key}: {value}")
        flagged = figures["possibly_intelligible"]
        print(f"  cues whose words may still be intelligible: {len(flagged)}")
        for cue_id in flagged:
            print(f"    {cue_id}")
    if not report:
        print("no accepted cue has blurred audio")
    return 0
