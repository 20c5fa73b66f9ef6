"""``empathynet utterances SUBTITLE_FILE``: print the whole sentences of a subtitle file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from empathynet.subtitles import load_utterances
from empathynet.timeline import format_ms

EXAMPLE = """example:
  empathynet utterances movie.srt
  empathynet utterances movie.mkv --stream 0 --json > utterances.jsonl
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "utterances",
        help="print the whole sentences of a subtitle file, one per line",
        description=(
            "Read a subtitle file (SRT, WebVTT, ASS/SSA, MicroDVD, SubViewer/SBV, TTML) or a "
            "video's embedded subtitle stream and print one line per utterance: start, end, "
            "text, non-verbal tags, speaker, source events. A summary of what was fixed goes "
            "to stderr."
        ),
        epilog=EXAMPLE,
    )
    parser.add_argument("subtitle_file", help="subtitle file, or a video with a subtitle stream")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    parser.add_argument(
        "--stream",
        type=int,
        default=None,
        help="subtitle stream number inside a video (default: first)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not print the summary and warnings to stderr"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = load_utterances(args.subtitle_file, stream_index=args.stream)
    out = sys.stdout
    for utterance in result.utterances:
        if args.json:
            row = {
                "start_ms": utterance.start_ms,
                "end_ms": utterance.end_ms,
                "text": utterance.text,
                "nonverbal": list(utterance.nonverbal),
                "speaker": utterance.speaker,
                "events": list(utterance.event_ids),
                "dialogue": utterance.dialogue,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            nonverbal = ", ".join(utterance.nonverbal)
            events = ",".join(str(i) for i in utterance.event_ids)
            out.write(
                f"{format_ms(utterance.start_ms)} --> {format_ms(utterance.end_ms)}"
                f"\t{utterance.text}"
                f"\t[{nonverbal}]"
                f"\t{utterance.speaker or '-'}"
                f"\tevents={events}\n"
            )
    if not args.quiet:
        report = result.report
        counts = ", ".join(f"{kind}={n}" for kind, n in sorted(report.counts.items()))
        print(
            f"{report.path}: {report.format}, {report.encoding}, {report.events_loaded} events -> "
            f"{report.utterances} utterances" + (f" ({counts})" if counts else ""),
            file=sys.stderr,
        )
        for warning in report.warnings[:20]:
            print(f"  warning: {warning}", file=sys.stderr)
        if len(report.warnings) > 20:
            print(f"  ... and {len(report.warnings) - 20} more warnings", file=sys.stderr)
    return 0
