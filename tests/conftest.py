"""Shared fixtures: the real test material in ../shared/data (skipped visibly when absent),
and the generated demo media, made once per session."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from empathynet.demo import DemoClip
    from empathynet.tasks.make import TaskRequest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (PROJECT_ROOT / ".." / "shared" / "data").resolve()


def shared_path(*parts: str) -> Path:
    """A path inside ../shared/data; skips the calling test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real test material not found: {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture
def shared_data() -> Path:
    """The root of ../shared/data; skips the test when the folder is absent."""
    return shared_path()


@pytest.fixture(scope="session")
def demo_media(tmp_path_factory: pytest.TempPathFactory) -> list[DemoClip]:
    """The demo set (``generate_demo_media``) in ``<tmp>/demo/media``, shared by every test
    that reads it: read-only for the tests."""
    from empathynet.demo import generate_demo_media

    return generate_demo_media(tmp_path_factory.mktemp("demo") / "media")


def demo_clips_in(
    clips: Sequence[DemoClip], names: Sequence[str], folder: Path, *, link: bool = False
) -> Path:
    """The videos and subtitle files of the demo clips ``names`` in ``folder`` (made),
    copied (``link``: symlinked, for tests that never change them); returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for clip in clips:
        if clip.name in names:
            for path in (clip.video_path, clip.subtitle_path):
                if link:
                    (folder / path.name).symlink_to(path)
                else:
                    shutil.copy2(path, folder / path.name)
    return folder


def write_small_task_dataset(root: Path, requests: Sequence[TaskRequest] | None = None) -> Path:
    """48 synthetic cue groups with tiny real media and labels, and the tasks of
    ``requests``; by default one per family: ``cls`` (text+audio_blur+stills), ``mcq``
    (face_video -> audio_blur, 4 options, 40 % test) and ``gen`` (stills -> audio_blur)."""
    from empathynet.tasks.make import TaskRequest, make_task
    from empathynet.testing.synthetic import write_synthetic_dataset

    write_synthetic_dataset(
        root,
        cue_groups=48,
        sources=8,
        media=True,
        min_ms=400,
        max_ms=1000,
        genders=("female",),
        age_bands=("adult",),
        labels_in_manifest=True,
        attributes_in_manifest=True,
    )
    if requests is None:
        requests = (
            TaskRequest(family="classification", query="text+audio_blur+stills", name="cls"),
            TaskRequest(
                family="mcq",
                query="face_video",
                answer="audio_blur",
                name="mcq",
                distractors="any",  # 48 cue groups: too few per speaker
                duration_tolerance_pct=1000,
                split_ratios=(0.5, 0.1, 0.4),
            ),
            TaskRequest(family="generation", query="stills", answer="audio_blur", name="gen"),
        )
    for request in requests:
        make_task(root, request)
    return root
