"""A build stopped by the machine or the user: a full disk, ``kill -9``, Ctrl-C.

Each must leave a dataset that a re-run of the same command finishes with exactly the rows
and media of an uninterrupted build, print one line (never a traceback), and leave no
worker process behind.
"""

from __future__ import annotations

import errno
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av.error
import pytest

from empathynet.cli.build import load_config
from empathynet.cli.main import main
from empathynet.demo import DemoClip
from empathynet.errors import CorruptMediaError, MediaError, StorageError, storage_error
from empathynet.media import encode
from empathynet.pipeline import cues
from empathynet.pipeline.build import build_dataset, read_manifest
from empathynet.store import atomic

from .same import assert_same_rows

pytest.importorskip("mediapipe")

#: The clips of these tests: accepted cues, rejections of each kind, failed sources.
FEW = ("large_face", "shot_cut", "dialogue", "no_face")
ALL = (*FEW, "small_face", "two_faces", "no_audio", "corrupt")
INTERRUPTED = "empathynet: interrupted; what was written is kept: run the same command to resume"


def linked_media(clips: list[DemoClip], folder: Path, names: tuple[str, ...]) -> Path:
    """A folder of links to the named demo clips and their subtitles."""
    folder.mkdir()
    for clip in clips:
        if clip.name in names:
            for path in (clip.video_path, clip.subtitle_path):
                (folder / path.name).symlink_to(path)
    return folder


@pytest.fixture(scope="module")
def small_build(
    demo_media: list[DemoClip], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, Path]:
    """``(media, config, reference)``: links to the ``FEW`` clips, a config of one utterance
    per chunk (many commits to land between) and the uninterrupted build of them."""
    root = tmp_path_factory.mktemp("interrupts")
    media = linked_media(demo_media, root / "media", FEW)
    config = root / "build.yaml"
    config.write_text("chunk_size: 1\n")
    reference = root / "reference"
    build_dataset([media], reference, load_config(config, {}), progress=False)
    return media, config, reference


def build_command(media: Path, config: Path, out: Path, *options: str) -> list[str]:
    """The ``empathynet build`` command line a user runs (the installed script)."""
    script = Path(sys.executable).with_name("empathynet")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "empathynet.cli.main"]
    return [*program, "build", str(media), "--config", str(config), "--out", str(out), *options]


def media_files(dataset: Path) -> list[Path]:
    return sorted(p.relative_to(dataset) for p in (dataset / "media").rglob("*"))


def assert_same_dataset(dataset: Path, reference: Path) -> None:
    """Same rows (every field) and the same media files as the reference, no temporaries."""
    assert_same_rows(dataset, reference)
    assert media_files(dataset) == media_files(reference)


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie no longer does: it only waits to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def workers_of(pid: int) -> list[int]:
    """The process-pool workers of ``pid`` (spawned interpreters, not its resource tracker)."""
    workers = []
    for child in children_of(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            workers.append(child)
    return workers


def wait_until(condition: object, timeout: float, step: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(step)
    return False


# --- the environment fails: disk full, quota, I/O error, file limits ----------------------


def test_storage_errors_are_told_apart_from_bad_media(tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    clip = dataset / "media" / "s" / "c" / "face.mp4"
    # FFmpeg's own error, wrapped by the clip writer into a MediaError, as in a build
    ffmpeg = av.error.OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(clip))
    try:
        raise MediaError("cannot encode clip: No space left on device", clip) from ffmpeg
    except MediaError as wrapped:
        found = storage_error(wrapped, dataset)
    assert found is not None and found.errno == errno.ENOSPC
    assert "disk is full" in str(found) and "run the same command again" in str(found)
    assert "media/s/c/face.mp4" in str(found) and "\n" not in str(found)
    # the message alone (a MediaError that crossed a process boundary without its cause)
    bare = MediaError("cannot encode clip: No space left on device", clip)
    assert getattr(storage_error(bare, dataset), "errno", None) == errno.ENOSPC
    for code in (errno.EDQUOT, errno.EIO, errno.EMFILE, errno.ENFILE):
        plain = OSError(code, os.strerror(code))  # no file name (wave, PIL, pyarrow)
        assert getattr(storage_error(plain, dataset), "errno", None) == code
    # permission denied: the environment on the dataset's files, a bad input on a source's
    denied = PermissionError(errno.EACCES, "Permission denied")
    denied.filename = str(clip)
    assert getattr(storage_error(denied, dataset), "errno", None) == errno.EACCES
    denied.filename = str(tmp_path / "film.mp4")
    assert storage_error(denied, dataset) is None
    assert storage_error(CorruptMediaError("moov atom not found", clip), dataset) is None
    assert storage_error(ValueError("bad value"), dataset) is None
    # picklable with its errno: it crosses the process pool
    again = pickle.loads(pickle.dumps(found))
    assert isinstance(again, StorageError) and again.errno == errno.ENOSPC
    assert str(again) == str(found)


def full_disk_after(clips_written: int, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Make the clip writer's final write fail with ENOSPC after ``clips_written`` clips
    (as FFmpeg does when the disk fills); returns the paths it failed on."""
    real_commit = atomic.commit  # what the clip writer calls
    written: list[Path] = []
    failed: list[Path] = []

    def commit(tmp: Path, path: Path) -> None:
        if len(written) >= clips_written:
            failed.append(path)
            raise av.error.OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
        real_commit(tmp, path)
        written.append(path)

    monkeypatch.setattr(encode, "commit", commit)
    return failed


def test_a_full_disk_stops_the_build_in_one_line_and_the_resume_equals_uninterrupted(
    small_build: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    media, config, reference = small_build
    out = tmp_path / "dataset"
    argv = ["build", str(media), "--config", str(config), "--out", str(out), "--no-progress"]
    with monkeypatch.context() as patch:
        failed = full_disk_after(1, patch)
        assert main(argv) == 2
    error = capsys.readouterr().err
    assert len(error.splitlines()) == 1 and "Traceback" not in error, error
    assert "disk is full" in error and "run the same command again" in error
    # the chunk whose clip could not be written is not committed, not even as a failed row
    assert len(failed) == 1
    cue_id = failed[0].parent.name
    rows = read_manifest(out)
    assert rows and all(row.status != "failed" for row in rows)
    assert cue_id not in {row.cue_id for row in rows}
    assert not failed[0].parent.exists()  # its media are removed: space is freed
    assert not list(out.rglob("*.tmp"))
    # space freed: the same command finishes the build as if nothing happened
    assert main(argv) == 0
    assert_same_dataset(out, reference)


#: A full disk in a pool worker: it patches its own clip writer (a test cannot patch a
#: spawned process from here), then runs the real stage.
_REAL_PROCESS_CHUNK = cues.process_chunk


def process_chunk_on_a_full_disk(context: cues.WorkerContext, work: cues.ChunkWork) -> object:
    def commit(tmp: Path, path: Path) -> None:
        raise av.error.OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

    encode.commit = commit  # type: ignore[attr-defined]  # this worker serves this build only
    return _REAL_PROCESS_CHUNK(context, work)


def test_a_full_disk_in_a_pool_worker_stops_the_build_and_the_resume_equals_uninterrupted(
    small_build: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media, config, reference = small_build
    out = tmp_path / "dataset"
    options = load_config(config, {})
    with monkeypatch.context() as patch:
        patch.setattr(cues, "process_chunk", process_chunk_on_a_full_disk)
        with pytest.raises(StorageError, match="disk is full") as raised:
            build_dataset([media], out, options, workers=2, progress=False)
    assert raised.value.errno == errno.ENOSPC
    # no clip could be written: no accepted row, no failed row, no temporaries, and no
    # media but the thumbnails of the rejected rows
    rows = read_manifest(out)
    assert all(row.status == "rejected" for row in rows)
    thumbnails = {Path(row.media.thumb_path) for row in rows if row.media.thumb_path}
    assert not [p for p in media_files(out) if p.suffix and p not in thumbnails]
    assert not list(out.rglob("*.tmp"))
    build_dataset([media], out, options, workers=2, progress=False)
    assert_same_dataset(out, reference)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1.2 MB tmpfs (a real disk that fills up); skipped where mounting is not allowed."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_real_full_disk_stops_the_build_and_the_resume_after_freeing_space_equals_it(
    small_build: tuple[Path, Path, Path], small_tmpfs: Path
) -> None:
    media, config, reference = small_build
    out = small_tmpfs / "dataset"
    command = build_command(media, config, out, "--no-progress")
    stopped = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert stopped.returncode == 2 and "Traceback" not in stopped.stderr, stopped.stderr
    [line] = stopped.stderr.splitlines()
    assert line.startswith(f"empathynet: error: {out}: the disk is full")
    assert line.endswith("run the same command again to resume")
    assert all(row.status != "failed" for row in read_manifest(out))
    assert not list(out.rglob("*.tmp"))
    # free space (a bigger disk), run the same command
    subprocess.run(["mount", "-o", "remount,size=16m", str(small_tmpfs)], check=True)
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    assert_same_dataset(out, reference)


# --- the main process is killed: its workers go with it ------------------------------------


def test_pool_workers_exit_within_seconds_when_the_build_is_killed(
    small_build: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    media, config, _ = small_build
    command = build_command(media, config, tmp_path / "dataset", "--workers", "2")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(workers_of(process.pid)) == 2, 120), "no workers started"
        workers = workers_of(process.pid)
        time.sleep(0.5)  # into their start-up (imports, models)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    started = time.monotonic()
    gone = wait_until(lambda: not any(alive(pid) for pid in workers), 5.0, 0.05)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:  # do not leave them to the other tests
        os.kill(pid, signal.SIGKILL)
    assert gone, f"workers {left} still running 5 s after their build was killed"
    assert time.monotonic() - started < 5.0


# --- Ctrl-C: one line whatever the moment --------------------------------------------------


@pytest.mark.parametrize("moment", ["0.2s", "1s", "workers starting", "cutting"])
def test_ctrl_c_at_any_moment_prints_one_line_and_exits_130(
    small_build: tuple[Path, Path, Path], tmp_path: Path, moment: str
) -> None:
    media, config, _ = small_build
    out = tmp_path / "dataset"
    command = build_command(media, config, out, "--workers", "2", "--no-progress")
    # its own process group: Ctrl-C in a terminal reaches the build and all its workers
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        if moment.endswith("s"):
            time.sleep(float(moment.removesuffix("s")))
        elif moment == "workers starting":
            assert wait_until(lambda: workers_of(process.pid), 120), "no workers started"
        else:
            assert wait_until(lambda: list((out / "cues").glob("part-*")), 120), "no chunk"
        workers = workers_of(process.pid)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = stderr.decode()
    assert wait_until(lambda: not any(alive(pid) for pid in workers), 5.0, 0.05)
    if moment in ("0.2s", "workers starting") and text.splitlines() != [INTERRUPTED]:
        # Known gaps, outside our code: a Ctrl-C before the interpreter runs any of it
        # ends it silently (killed by SIGINT), and a worker interrupted while Python's
        # multiprocessing bootstrap reads its start-up data (under load) prints that
        # bootstrap's EOFError. Neither may come from empathynet or lose anything.
        assert process.returncode in (130, -signal.SIGINT), (process.returncode, text)
        assert "empathynet/" not in text, text
        assert all(
            line.startswith(("empathynet: interrupted", "Traceback", " ", "EOFError"))
            for line in text.splitlines()
            if line
        ), text
        return
    assert "Traceback" not in text, text
    assert text.splitlines() == [INTERRUPTED], text
    assert process.returncode == 130


# --- kill -9 at random moments, resume each time ------------------------------------------


def test_random_kills_then_resume_equal_an_uninterrupted_build(
    demo_media: list[DemoClip], tmp_path: Path
) -> None:
    media = linked_media(demo_media, tmp_path / "media", ALL)
    config = tmp_path / "build.yaml"
    config.write_text("chunk_size: 1\n")
    reference = tmp_path / "reference"
    build_dataset([media], reference, load_config(config, {}), progress=False)
    total_parts = len(list((reference / "cues").glob("part-*.parquet")))
    out = tmp_path / "dataset"
    cues_dir = out / "cues"

    def committed() -> int:
        return len(list(cues_dir.glob("part-*.parquet")))

    def entries() -> set[str]:
        try:
            return set(os.listdir(cues_dir))
        except OSError:
            return set()

    rng = random.Random(12)

    def wait_for(moment: str, process: subprocess.Popen[bytes]) -> None:
        """Return at ``moment`` of the build ``process`` (or when it ended)."""

        def parts_at_least(count: int) -> bool:
            return committed() >= count or process.poll() is not None

        if moment == "start-up":  # imports, reading sources, sources.parquet, dataset.json
            time.sleep(rng.uniform(0.05, 2.5))
        elif moment == "commit":  # a part's temporary file, or the part, appears
            target = committed() + rng.randint(0, 1)
            wait_until(lambda: parts_at_least(target), 60, 0.002)
            before = entries()
            wait_until(lambda: bool(entries() - before) or process.poll() is not None, 60, 0.001)
        elif moment == "after a commit":
            target = committed() + rng.randint(1, 2)
            wait_until(lambda: parts_at_least(target), 60, 0.002)
            time.sleep(rng.uniform(0.0, 0.05))
        else:
            time.sleep(rng.uniform(0.3, 3.5))

    kills: list[str] = []
    runs = 0
    while len(kills) < 12 and committed() < total_parts:
        runs += 1
        workers = "2" if runs % 3 == 0 else "1"
        process = subprocess.Popen(
            build_command(media, config, out, "--workers", workers, "--no-progress"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        moment = rng.choice(["start-up", "commit", "after a commit", "anywhere"])
        wait_for(moment, process)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills.append(f"{moment} ({committed()}/{total_parts} parts, {workers} workers)")
        process.wait()
    assert len(kills) >= 10, f"the build finished after only {len(kills)} kills: {kills}"
    finished = subprocess.run(
        build_command(media, config, out, "--no-progress"), capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stderr
    assert_same_dataset(out, reference)
