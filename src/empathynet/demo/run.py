"""The demo end to end: generate media, build a dataset, label it, make the standard suite,
run the baselines and audits, write the report (``empathynet demo``)."""

from __future__ import annotations

import importlib.util
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from empathynet.errors import MissingDependencyError

#: What ``pip install 'empathynet[demo]'`` adds: the voice and the face photo.
DEMO_PACKAGES = {"espeakng_loader": "espeakng-loader", "skimage": "scikit-image"}
DEMO_INSTALL = "pip install 'empathynet[demo]'"


def require_demo_extra() -> None:
    """``MissingDependencyError`` naming the install command when the ``demo`` extra is
    not installed."""
    missing = [
        name for module, name in DEMO_PACKAGES.items() if not importlib.util.find_spec(module)
    ]
    if missing:
        raise MissingDependencyError(
            f"the demo's media generator needs {', '.join(missing)}: {DEMO_INSTALL}"
        )


@dataclass
class DemoResult:
    """What ``run_demo`` did, as the lines the command prints."""

    dataset: Path
    report: Path
    lines: list[str] = field(default_factory=list)


def run_demo(
    out: str | Path,
    *,
    seed: int = 0,
    workers: int = 1,
    talks: int = 10,
    progress: Callable[[str], None] = lambda line: None,
) -> DemoResult:
    """Generate the demo media in ``out/media``, build ``out/dataset`` from it, import the
    demo's votes, make the standard suite, run the baselines and audits and write the
    report. ``progress`` gets one line per step (the command prints them on stderr)."""
    require_demo_extra()
    from empathynet.demo import generate_demo_media
    from empathynet.demo.labels import write_demo_labels
    from empathynet.demo.talks import generate_demo_talks
    from empathynet.evaluate.leaderboard import leaderboard, leaderboard_lines
    from empathynet.labels import import_labels
    from empathynet.labels.agreement import annotator_agreement
    from empathynet.pipeline.build import build_dataset, read_manifest, set_dataset_title
    from empathynet.report import write_report
    from empathynet.store.layout import DatasetLayout
    from empathynet.tasks import make_suite

    out = Path(out)
    media_dir = out / "media"
    started = time.monotonic()
    progress(f"generating demo media in {media_dir} ...")
    clips = generate_demo_media(media_dir, seed=seed)
    clips += generate_demo_talks(media_dir, count=talks, per_clip=8, seed=seed)
    progress(f"  {len(clips)} clips in {time.monotonic() - started:.1f} s")

    dataset = out / "dataset"
    progress(f"building the dataset in {dataset} ...")
    summary = build_dataset([media_dir], dataset, workers=workers)
    set_dataset_title(dataset, "EmpathyNet demo", "generated talking-head clips with subtitles")
    sources = pq.read_table(DatasetLayout(dataset).sources_parquet).to_pylist()
    clip_of = {s["source_id"]: Path(s["path"]).stem for s in sources}
    outcomes: dict[str, Counter[str]] = {clip.name: Counter() for clip in clips}
    for row in read_manifest(dataset):
        outcomes[clip_of[row.source_id]][row.reason or row.status] += 1
    lines = [f"{'clip':<12} {'made to show':<16} what the build did with its sentences"]
    for clip in clips:
        if clip.name.startswith("talk_") and clip.name != "talk_01":
            continue  # the talks all show the same thing: one line for them
        counts = outcomes[clip.name]
        name = clip.name
        if name == "talk_01":
            counts = sum((c for n, c in outcomes.items() if n.startswith("talk_")), Counter())
            name = f"talk_* ({sum(n.startswith('talk_') for n in outcomes)})"
        got = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"
        lines.append(f"{name:<12} {clip.expected:<16} {got}")
    lines += ["", *summary.lines()]

    labels_csv = write_demo_labels(dataset, out / "demo_labels.csv")
    imported = import_labels(dataset, labels_csv)
    lines += ["", f"labels from {labels_csv}:"]
    lines += [f"  {line}" for line in imported.lines()]
    lines.append(f"  {annotator_agreement(dataset, seed=seed).headline()}")
    suite = make_suite(dataset, "standard", seed=seed, overwrite=True)
    lines.append("tasks (standard suite):")
    lines += [f"  {line}" for line in suite.lines()]

    progress("running the baselines and audits ...")
    board = leaderboard(dataset, seed=seed)
    lines += ["", "leaderboard (test split; trained on train):"]
    lines += [f"  {line}" for line in leaderboard_lines(board)]
    report = write_report(dataset, leaderboard=board)
    lines += ["", f"report: {report}  (open it in a browser)"]
    return DemoResult(dataset, report, lines)


__all__ = ["DEMO_INSTALL", "DemoResult", "require_demo_extra", "run_demo"]
