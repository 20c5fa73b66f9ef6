"""``empathynet build`` and ``empathynet inspect``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from empathynet.cli.main import INTERRUPTED
from empathynet.config import EmpathyNetConfig, from_mapping
from empathynet.errors import ConfigError
from empathynet.pipeline.build import build_dataset, set_dataset_title, summarize
from empathynet.store.layout import DatasetLayout

BUILD_EXAMPLE = """example:
  empathynet build movies/ --out my-dataset --workers 2
  empathynet build film.mkv talk.mp4 --out my-dataset --config build.yaml
  empathynet build --sources sources.csv --out my-dataset
  empathynet build --recipe recipe.jsonl fetched/ --out rebuilt
  empathynet build /shared/movies --out /shared/my-dataset --engine ray --address auto

Videos pair with a sidecar subtitle file of the same name (film.srt, film.en.vtt, ...),
else with their embedded subtitle stream. A sources file (CSV or JSON Lines with the
columns path,url,licence,title,speaker[,attribution,year,language]) lists videos and where
they come from; yt-dlp's NAME.info.json beside a video is read too. --recipe rebuilds the
cue groups, labels and tasks a recipe lists from the videos in the inputs (see
empathynet recipe export and empathynet fetch); it exits with 1 when something differs.
Re-running the same command resumes an interrupted build without duplicates.
--engine ray runs the work on a Ray cluster (pip install 'empathynet[ray]'): a local one
started for the build, or the one at --address; the inputs and --out must then be on
storage every node sees, at the same path (docs/scaling.md).
"""

INSPECT_EXAMPLE = """example:
  empathynet inspect my-dataset
  empathynet inspect my-dataset --json
"""


def add_parsers(commands: Any) -> None:
    build = commands.add_parser(
        "build",
        help="turn videos with subtitles into a dataset of cue groups",
        description=(
            "Cut every whole subtitle sentence spoken by one person with a large face into a "
            "cue group (face clip, 5 stills and face crops, audio, text); every other "
            "sentence becomes a rejected row with its reason, every failure a failed row."
        ),
        epilog=BUILD_EXAMPLE,
    )
    build.add_argument("inputs", nargs="*", help="video files or folders")
    build.add_argument("--out", required=True, type=Path, help="dataset directory")
    build.add_argument(
        "--workers",
        type=int,
        help="worker processes (default 1; with --engine ray, one per CPU of the cluster)",
    )
    build.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where the work runs: local processes (default) or a Ray cluster (extra ray)",
    )
    build.add_argument(
        "--address",
        metavar="ADDR",
        help="with --engine ray: the cluster to join (HOST:6379, auto); default: start a "
        "local Ray for the build",
    )
    build.add_argument("--config", type=Path, help="YAML file of build options")
    build.add_argument(
        "--sources",
        type=Path,
        metavar="FILE",
        help="CSV or JSON Lines of path,url,licence,title,speaker: videos and their provenance",
    )
    build.add_argument(
        "--recipe",
        type=Path,
        metavar="FILE",
        help="rebuild what a recipe lists from the videos in the inputs (its options are used)",
    )
    build.add_argument(
        "--full-clips", action="store_true", help="also encode full-frame clips (clip.mp4)"
    )
    build.add_argument("--detector", help="face detector (mediapipe, mediapipe_full, haar)")
    build.add_argument(
        "--overwrite",
        action="store_true",
        help="rebuild from scratch when the dataset was built with other options",
    )
    build.add_argument("--title", help="the dataset's title, shown by its report, card and exports")
    build.add_argument(
        "--transcribe",
        choices=("missing", "always", "never"),
        help="hear the sentences of sources without subtitles (missing, the default), of "
        "every source (always), or never (extra asr)",
    )
    build.add_argument(
        "--check-timing",
        action="store_true",
        help="compare subtitle sentences with the speech and report each source's offset",
    )
    build.add_argument(
        "--correct-timing",
        action="store_true",
        help="with the check: shift subtitles by a clear constant offset",
    )
    build.add_argument(
        "--no-compact",
        action="store_true",
        help="leave the manifest in its parts (by default a build of 1,000 parts or more "
        "merges them: empathynet compact)",
    )
    build.add_argument("--no-progress", action="store_true", help="no progress line")
    build.add_argument("--json", action="store_true", help="print the summary as JSON")
    build.set_defaults(run=run_build)

    inspect = commands.add_parser(
        "inspect",
        help="print a dataset's counts per status and reason",
        description="Print what a dataset holds: sources, cue rows per status and reason, "
        "time per stage.",
        epilog=INSPECT_EXAMPLE,
    )
    inspect.add_argument("dataset", type=Path, help="dataset directory")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(run=run_inspect)


def load_config(path: Path | None, overrides: dict[str, dict[str, Any]]) -> EmpathyNetConfig:
    """Options from a YAML file, then command-line overrides (section -> key -> value)."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"cannot read config: {error}", path) from None
        if not isinstance(loaded, dict):
            raise ConfigError("config must be a mapping of sections", path)
        values = loaded
    for section, options in overrides.items():
        merged = dict(values.get(section) or {})
        merged.update(options)
        values[section] = merged
    return from_mapping(EmpathyNetConfig, values)


def run_build(args: argparse.Namespace) -> int:
    if args.recipe is not None:
        return run_recipe_build(args)
    if not args.inputs and args.sources is None:
        raise ConfigError("give video files or folders, or --sources FILE")
    overrides: dict[str, dict[str, Any]] = {}
    if args.full_clips:
        overrides.setdefault("extract", {})["full_clip"] = True
    if args.detector:
        overrides.setdefault("faces", {})["detector"] = args.detector
    if args.transcribe:
        overrides.setdefault("transcribe", {})["mode"] = args.transcribe
    if args.check_timing or args.correct_timing:
        overrides.setdefault("transcribe", {})["check_timing"] = True
    if args.correct_timing:
        overrides.setdefault("transcribe", {})["correct_offset"] = True
    config = load_config(args.config, overrides)
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    if args.address is not None and args.engine != "ray":
        raise ConfigError("--address is the address of a Ray cluster: add --engine ray")
    # Locally one process unless asked; on Ray, by default every CPU of the cluster.
    workers = args.workers if args.workers is not None or args.engine == "ray" else 1
    try:
        summary = build_dataset(
            args.inputs,
            args.out,
            config,
            workers=workers,
            overwrite=args.overwrite,
            progress=not args.no_progress,
            sources_file=args.sources,
            engine=args.engine,
            address=args.address,
            compact=not args.no_compact,
        )
        if args.title is not None:
            set_dataset_title(args.out, args.title)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print("\n".join(summary.lines()))
        print(f"  report: {DatasetLayout(args.out).build_report}")
    return 0


def run_recipe_build(args: argparse.Namespace) -> int:
    from empathynet.recipes import build_from_recipe

    given = [
        flag
        for flag, value in (
            ("--config", args.config),
            ("--sources", args.sources),
            ("--detector", args.detector),
            ("--full-clips", args.full_clips),
            ("--overwrite", args.overwrite),
            ("--transcribe", args.transcribe),
            ("--check-timing", args.check_timing),
            ("--correct-timing", args.correct_timing),
        )
        if value
    ]
    if given:
        raise ConfigError(f"--recipe gives the build options and sources: drop {given[0]}")
    if not args.inputs:
        raise ConfigError("--recipe needs the folder of the videos (what empathynet fetch wrote)")
    if args.address is not None and args.engine != "ray":
        raise ConfigError("--address is the address of a Ray cluster: add --engine ray")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    # as build: locally one process unless asked; on Ray, by default every CPU of the cluster
    workers = args.workers if args.workers is not None or args.engine == "ray" else 1
    try:
        result = build_from_recipe(
            args.recipe,
            args.inputs,
            args.out,
            workers=workers,
            progress=not args.no_progress,
            compact=not args.no_compact,
            engine=args.engine,
            address=args.address,
        )
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print("\n".join(result.lines()))
        print(f"  report: {DatasetLayout(args.out).reports_dir / 'recipe.json'}")
    return 0 if result.exact else 1


def run_inspect(args: argparse.Namespace) -> int:
    summary = summarize(DatasetLayout(args.dataset))
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print("\n".join(summary.lines()))
    return 0
