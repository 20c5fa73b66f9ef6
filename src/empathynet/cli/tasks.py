"""``empathynet tasks``: make, list and validate benchmark tasks."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from empathynet.errors import ConfigError
from empathynet.tasks.families import family_names
from empathynet.tasks.make import SUITES, TaskRequest, make_suite, make_task, remake_tasks
from empathynet.tasks.mcq import DISTRACTOR_MODES
from empathynet.tasks.spec import list_tasks
from empathynet.tasks.validate import validate_task
from empathynet.tasks.views import VIEW_NAMES

EXAMPLE = """example:
  empathynet tasks make my-dataset --family classification --query text
  empathynet tasks make my-dataset --family mcq --query stills+text --answer audio_blur \\
      --options 4 --seed 1 --distractors same-speaker
  empathynet tasks make my-dataset --family generation --query stills --answer text
  empathynet tasks make my-dataset --suite standard --seed 0
  empathynet tasks make my-dataset --family classification --query text --min-confidence 0.6
  empathynet tasks ls my-dataset
  empathynet tasks validate my-dataset mcq-stills+text-to-audio_blur
"""


def _ratios(text: str) -> tuple[float, float, float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []

    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"expected three numbers like 0.8,0.1,0.1: {text!r}")
    return (values[0], values[1], values[2])


def add_parser(commands: Any) -> None:
    """Register ``tasks`` and its subcommands on the CLI's subparsers."""
    parser = commands.add_parser(
        "tasks",
        help="make, list and validate tasks (classification, mcq, generation)",
        description=(
            "Tasks are versioned, seeded specs built from the accepted cue groups, their "
            "labels and attributes: tasks/NAME/spec.yaml plus train/validation/test items "
            "as Parquet, with splits disjoint by source and speaker."
        ),
        epilog=EXAMPLE,
    )
    actions = parser.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)

    make = actions.add_parser(
        "make",
        help="make one task, or a suite",
        description=f"Views: {', '.join(VIEW_NAMES)}; mix them with '+'.",
        epilog=EXAMPLE,
    )
    make.add_argument("dataset", type=Path, help="dataset directory")
    make.add_argument("--family", choices=family_names(), help="task family (or --suite)")
    make.add_argument("--query", help="views shown as the query, e.g. stills+text")
    make.add_argument("--answer", help="MCQ answer views, or the generation target view")
    make.add_argument("--options", type=int, default=4, help="MCQ options (default 4)")
    make.add_argument("--seed", type=int, default=0, help="seed of splits and items (default 0)")
    make.add_argument("--name", help="task name (default: from the family and views)")
    make.add_argument(
        "--distractors",
        choices=DISTRACTOR_MODES,
        default="same-speaker",
        help="MCQ: where distractors come from: the answer's speaker (its source when the "
        "speaker is unknown; default), its source, or any (then identity solves items: the "
        "answer is often the only option from the query's speaker)",
    )
    make.add_argument(
        "--duration-tolerance",
        type=int,
        default=25,
        metavar="PCT",
        help="MCQ: distractor durations come from a window 2 x PCT %% of the answer's "
        "duration wide that holds the answer at a random place (default 25)",
    )
    make.add_argument(
        "--duration-tolerance-ms",
        type=int,
        default=250,
        metavar="MS",
        help="MCQ: ... or 2 x MS milliseconds wide, whichever is larger (default 250)",
    )
    make.add_argument(
        "--split-ratios",
        type=_ratios,
        default=(0.8, 0.1, 0.1),
        metavar="T,V,T",
        help="train,validation,test shares (default 0.8,0.1,0.1)",
    )
    make.add_argument(
        "--allow-leaking-views",
        action="store_true",
        help="MCQ: allow audio_raw (it carries the spoken words)",
    )
    make.add_argument(
        "--min-confidence",
        type=float,
        metavar="X",
        help="classification / mcq: use only cue groups whose label confidence (majority "
        "share, or Dawid-Skene posterior: see labels aggregate --method) is >= X (0-1); "
        "labels without votes are then left out too; the spec records the rule and count",
    )
    make.add_argument(
        "--suite",
        metavar="SUITE",
        help=f"make a whole suite instead: {', '.join(SUITES)} or a suite YAML file",
    )
    make.add_argument(
        "--overwrite", action="store_true", help="replace a task made with another request"
    )
    make.set_defaults(run=run_make)

    ls = actions.add_parser(
        "ls", help="list a dataset's tasks", description="List a dataset's tasks."
    )
    ls.add_argument("dataset", type=Path, help="dataset directory")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(run=run_ls)

    validate = actions.add_parser(
        "validate",
        help="re-check every constraint of a task against its dataset",
        description="Re-check every constraint of a task's written items against its "
        "dataset; the first broken one is an error naming the task's file.",
    )
    validate.add_argument("dataset", type=Path, help="dataset directory")
    validate.add_argument("name", help="task name (see tasks ls)")
    validate.add_argument(
        "--no-media-check", action="store_true", help="do not check that media files exist"
    )
    validate.set_defaults(run=run_validate)

    remake = actions.add_parser(
        "remake",
        help="make tasks again from their own specs (after empathynet remove)",
        description="Make tasks again with the family, views, seed and rules their specs "
        "record, against the dataset as it is now: the named tasks, else every task whose "
        "items use cue groups taken down with empathynet remove.",
    )
    remake.add_argument("dataset", type=Path, help="dataset directory")
    remake.add_argument("names", nargs="*", help="task names (default: the stale ones)")
    remake.set_defaults(run=run_remake)


def run_make(args: argparse.Namespace) -> int:
    if args.suite:
        if args.family or args.query or args.answer or args.name:
            raise ConfigError("--suite makes its own tasks: drop --family/--query/--answer/--name")
        result = make_suite(
            args.dataset,
            args.suite,
            seed=args.seed,
            overwrite=args.overwrite,
            min_confidence=args.min_confidence,
        )
        print("\n".join(result.lines()))
        return 0
    if not args.family or not args.query:
        raise ConfigError("tasks make needs --family and --query (or --suite)")
    request = TaskRequest(
        family=args.family,
        query=args.query,
        answer=args.answer or (),
        name=args.name,
        seed=args.seed,
        options=args.options,
        distractors=args.distractors,
        duration_tolerance_pct=args.duration_tolerance,
        duration_tolerance_min_ms=args.duration_tolerance_ms,
        split_ratios=args.split_ratios,
        allow_leaking_views=args.allow_leaking_views,
        min_confidence=args.min_confidence,
    )
    made = make_task(args.dataset, request, overwrite=args.overwrite)
    print(made.line())
    print(f"  {made.folder}")
    return 0


def run_ls(args: argparse.Namespace) -> int:
    tasks = list_tasks(args.dataset)
    if args.json:
        print(json.dumps([dataclasses.asdict(t) for t in tasks], indent=2))
    elif not tasks:
        print("no tasks (make some with `empathynet tasks make`)")
    else:
        for task in tasks:
            print(task.line())
    return 0


def run_remake(args: argparse.Namespace) -> int:
    made = remake_tasks(args.dataset, args.names)
    print("\n".join(task.line() for task in made) or "no task uses removed cue groups")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    report = validate_task(args.dataset, args.name, check_media=not args.no_media_check)
    print("\n".join(report.lines()))
    return 0
