"""``empathynet classes``: suggest classes from clusters, apply them, write pre-labels."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from empathynet.classes import (
    DEFAULT_VIEWS,
    PRELABEL_METHODS,
    apply_classes,
    parse_names,
    read_names_file,
    suggest_classes,
    write_prelabels,
)
from empathynet.classes.features import CENTRE_BY
from empathynet.errors import ConfigError

EXAMPLE = """example:
  empathynet classes suggest my-dataset -k 4-12
  empathynet classes suggest my-dataset -k 6 --views text --seed 1
  empathynet classes suggest my-dataset -k 4-10 --views face_stills --centre-by speaker
  empathynet classes apply my-dataset --k 6 --name 0=joy --name 1=joy --name 2=anger
  empathynet classes apply my-dataset --k 6 --names names.yaml
  empathynet classes prelabel my-dataset --method vader
  empathynet classes prelabel my-dataset --method clusters

suggest writes reports/classes/index.html (open it in a browser) and suggestion.json;
apply writes labels/taxonomy.yaml from the named clusters (unnamed clusters are dropped);
prelabel writes labels/prelabels.parquet, machine suggestions kept apart from the votes.
"""


def add_parser(commands: Any) -> None:
    """Register ``classes`` and its actions on the CLI's subparsers."""
    parser = commands.add_parser(
        "classes",
        help="discover classes by clustering cue groups; apply them; machine pre-labels",
        description="Cluster the accepted cue groups (text, blurred-audio prosody, stills) "
        "so a person can choose the classes, write the chosen taxonomy, and write machine "
        "pre-labels that order annotation work.",
        epilog=EXAMPLE,
    )
    actions = parser.add_subparsers(dest="classes_command", metavar="ACTION", required=True)

    suggest = actions.add_parser(
        "suggest",
        help="cluster cue groups for a range of k; write a page and JSON",
        description="Cluster the accepted cue groups with k-means for each k and write "
        "reports/classes/index.html (silhouette per k; per cluster its size, the cue groups "
        "nearest its centre and what distinguishes it) and reports/classes/suggestion.json.",
        epilog=EXAMPLE,
    )
    suggest.add_argument("dataset", type=Path, help="dataset directory")
    suggest.add_argument(
        "-k", "--k", dest="k", default="4-12", help="clusters: 6, a range 4-12 or a list 4,6,8"
    )
    suggest.add_argument(
        "--views",
        default="+".join(DEFAULT_VIEWS),
        help="views to cluster on, of text, audio_blur, stills, face_stills "
        f"(default {'+'.join(DEFAULT_VIEWS)}; text needs the embed extra)",
    )
    suggest.add_argument("--seed", type=int, default=0, help="k-means seed (default 0)")
    suggest.add_argument(
        "--centre-by",
        choices=CENTRE_BY,
        help="take each speaker's (source's) mean out of the features first, so clusters "
        "follow expression rather than who it is",
    )
    suggest.add_argument("--json", action="store_true", help="print the suggestion's JSON")
    suggest.set_defaults(run=run_suggest)

    apply = actions.add_parser(
        "apply",
        help="write labels/taxonomy.yaml from named clusters",
        description="Name clusters of the last suggestion (several clusters may share a "
        "name; unnamed ones are dropped) and write labels/taxonomy.yaml with descriptions "
        "and example cue groups from the clusters.",
        epilog=EXAMPLE,
    )
    apply.add_argument("dataset", type=Path, help="dataset directory")
    apply.add_argument("--k", type=int, help="which k of the suggestion (needed if it has several)")
    apply.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="CLUSTER=CLASS",
        help="name a cluster, e.g. 0=joy (repeat)",
    )
    apply.add_argument(
        "--names", type=Path, help="a YAML or JSON file mapping cluster numbers to class names"
    )
    apply.add_argument("--json", action="store_true", help="print JSON")
    apply.set_defaults(run=run_apply)

    prelabel = actions.add_parser(
        "prelabel",
        help="write machine pre-labels (VADER sentiment or cluster ids)",
        description="Write labels/prelabels.parquet rows for every accepted cue group: "
        "vader (compound sentiment of the text, no class) or clusters (cluster id of the "
        "last suggestion, with its applied class). Re-running replaces that method's rows.",
        epilog=EXAMPLE,
    )
    prelabel.add_argument("dataset", type=Path, help="dataset directory")
    prelabel.add_argument(
        "--method",
        choices=PRELABEL_METHODS,
        required=True,
        help="vader: sentiment of the text; clusters: cluster id and applied class",
    )
    prelabel.add_argument("--k", type=int, help="clusters: which k of the suggestion")
    prelabel.add_argument("--json", action="store_true", help="print JSON")
    prelabel.set_defaults(run=run_prelabel)


def run_suggest(args: argparse.Namespace) -> int:
    suggestion = suggest_classes(
        args.dataset, args.k, args.views.split("+"), args.seed, centre_by=args.centre_by
    )
    if args.json:
        print(json.dumps(suggestion.to_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(suggestion.lines()))
    return 0


def run_apply(args: argparse.Namespace) -> int:
    names = parse_names(args.name)
    if args.names is not None:
        from_file = read_names_file(args.names)
        both = sorted(set(names) & set(from_file))
        if both:
            raise ConfigError(f"cluster {both[0]} is named both by --name and in the file")
        names.update(from_file)
    result = apply_classes(args.dataset, names, args.k)
    if args.json:
        values = dataclasses.asdict(result)
        values["taxonomy_path"] = str(result.taxonomy_path)
        values["taxonomy"] = result.taxonomy.to_mapping()
        print(json.dumps(values, indent=2, ensure_ascii=False))
    else:
        print("\n".join(result.lines()))
    return 0


def run_prelabel(args: argparse.Namespace) -> int:
    result = write_prelabels(args.dataset, args.method, k=args.k)
    if args.json:
        values = dataclasses.asdict(result)
        values["path"] = str(result.path)
        print(json.dumps(values, indent=2))
    else:
        print("\n".join(result.lines()))
    return 0
