"""A benchmark's phases in child processes of their own: each phase's peak memory is its
own (``ru_maxrss`` of the process; Linux carries a parent's peak into a forked child, so a
phase never runs in the process that ran another). The child prints one JSON line."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def peak_bytes() -> int:
    """This process's peak resident memory in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def print_figures(started: float, **figures: Any) -> None:
    """Print, as the child's last line, the seconds since ``started`` (``perf_counter``),
    its peak memory and ``figures``."""
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_bytes": peak_bytes(), **figures}))


def run_child(
    script: str, arguments: Sequence[str], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run ``script`` with ``arguments`` (and ``env`` added to this environment) in a new
    Python process; its figures (``print_figures``) as a dict."""
    done = subprocess.run(
        [sys.executable, script, *arguments],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def write_dataset(dataset: Path, size: str, **options: Any) -> str:
    """The write phase of the manifest benchmarks: a synthetic dataset of ``size``
    (``"cue groups,sources"``) with labels and attributes in its manifest and speech-like
    text, ``options`` added (``write_synthetic_dataset``); returns its detail line."""
    from empathynet.testing.synthetic import write_synthetic_dataset

    count, sources = (int(v) for v in size.split(","))
    write_synthetic_dataset(
        dataset,
        cue_groups=count,
        sources=sources,
        labels_in_manifest=True,
        attributes_in_manifest=True,
        speech_like_text=True,
        **options,
    )
    return f"{count:,} cue groups, {sources:,} sources"
