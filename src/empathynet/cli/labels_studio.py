"""``empathynet labels export``: an annotation sheet (CSV) or a Label Studio project's files."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from empathynet.labels.labelstudio import LOCAL_FILES_PREFIX, export_label_studio
from empathynet.labels.votes import ExportResult, export_label_sheet

FORMATS: tuple[str, ...] = ("label-studio", "csv")

EXAMPLE = """example:
  empathynet labels export my-dataset --format label-studio --out ls-project
  empathynet labels export my-dataset --format label-studio --out ls-project \\
      --url-prefix http://localhost:8000/
  empathynet labels export my-dataset --format csv --out sheet.csv
  empathynet labels import my-dataset export.json     # Label Studio's JSON export
  empathynet labels import my-dataset sheet.csv       # the filled sheet

label-studio writes config.xml (labeling config), tasks.json (one task per accepted cue
group) and README.md (how to serve the media, create the project, import back). csv
writes a sheet with empty annotator/label/gender/age_band/time columns to fill. Only the
blurred voice is given unless --raw-audio.
"""


def add_actions(actions: Any) -> None:
    """Register ``export`` on the ``labels`` subparsers."""
    exporter = actions.add_parser(
        "export",
        help="write an annotation sheet (CSV) or Label Studio project files",
        description="Export the accepted cue groups for annotation: a CSV sheet, or a Label "
        "Studio labeling config, tasks and a short guide.",
        epilog=EXAMPLE,
    )
    exporter.add_argument("dataset", type=Path, help="dataset directory")
    exporter.add_argument("--format", choices=FORMATS, required=True, help="what to write")
    exporter.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder (label-studio) or CSV file (csv)",
    )
    exporter.add_argument(
        "--raw-audio",
        action="store_true",
        help="also give the raw (unblurred) voice; off by default",
    )
    exporter.add_argument(
        "--url-prefix",
        default=LOCAL_FILES_PREFIX,
        help="label-studio: prefix of media URLs, before the path inside the dataset "
        f"(default {LOCAL_FILES_PREFIX!r}: Label Studio's local-files serving with "
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=the dataset folder)",
    )
    exporter.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files in --out that no export wrote (csv: an existing sheet)",
    )
    exporter.add_argument("--json", action="store_true", help="print JSON")
    exporter.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    result: ExportResult
    if args.format == "csv":
        result = export_label_sheet(
            args.dataset, args.out, raw_audio=args.raw_audio, overwrite=args.overwrite
        )
    else:
        result = export_label_studio(
            args.dataset,
            args.out,
            raw_audio=args.raw_audio,
            url_prefix=args.url_prefix,
            overwrite=args.overwrite,
        )
    if args.json:
        print(json.dumps(dataclasses.asdict(result), indent=2))
    else:
        print("\n".join(result.lines()))
    return 0
