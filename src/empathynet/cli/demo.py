"""``empathynet demo --out DIR``: generate demo media and run what is built on it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from empathynet.errors import EmpathyNetError
from empathynet.subtitles import load_utterances

EXAMPLE = """example:
  empathynet demo --out demo-out
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="generate demo videos with subtitles and process them",
        description=(
            "Generate short demo videos (a real face photo, a synthetic voice, subtitles) that "
            "cover the cases the pipeline must handle: a large single face, a small face, two "
            "faces, no face, a shot cut inside a sentence, dialogue, no audio stream, a corrupt "
            "file. Then turn each subtitle file into utterances and write them as JSON lines."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generated media")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from empathynet.testing import generate_demo_media

    out: Path = args.out
    media_dir = out / "media"
    started = time.monotonic()
    print(f"generating demo media in {media_dir} ...", file=sys.stderr)
    clips = generate_demo_media(media_dir, seed=args.seed)
    print(f"  {len(clips)} clips in {time.monotonic() - started:.1f} s", file=sys.stderr)

    utterance_dir = out / "utterances"
    utterance_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    print(f"{'clip':<12} {'utterances':>10}  expected outcome   subtitle file")
    for clip in clips:
        try:
            result = load_utterances(clip.subtitle_path)
        except EmpathyNetError as error:
            failures += 1
            print(f"{clip.name:<12} {'error':>10}  {error}")
            continue
        target = utterance_dir / f"{clip.name}.jsonl"
        tmp = target.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for utterance in result.utterances:
                handle.write(json.dumps(utterance.to_dict(), ensure_ascii=False) + "\n")
        tmp.replace(target)
        print(
            f"{clip.name:<12} {len(result.utterances):>10}  {clip.expected:<17}  "
            f"{clip.subtitle_path.name}"
        )
    print(f"wrote {utterance_dir}", file=sys.stderr)
    return 1 if failures else 0
