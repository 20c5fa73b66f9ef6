"""Real footage in every container FFmpeg reads: a container/codec matrix made from a real
talking-head clip, streams that start late, and containers that cannot seek.

The matrix is made once per session with the bundled ffmpeg from
``../shared/data/video/talking_head/videoretalking_face5.mp4`` (4.88 s, one large face,
speech 0-2.60 s and 3.70-4.9 s) and built as one dataset: every file must give both
sentences accepted, with the face clip, the audio and the stills on the sentence bounds.
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import shared_path
from empathynet.errors import CorruptMediaError
from empathynet.media.audio import AudioReader
from empathynet.media.decode import WindowDecoder
from empathynet.media.probe import SEEK_DECODE_THROUGH, probe
from empathynet.pipeline.build import build_dataset

from .media_helpers import ffmpeg

#: (file name, ffmpeg output options); the input is the real clip.
VP9 = ("-c:v", "libvpx-vp9", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8")
MATRIX: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mp4_h264_aac.mp4", ("-c:v", "libx264", "-c:a", "aac")),
    ("mov_h264_aac.mov", ("-c:v", "libx264", "-c:a", "aac")),
    ("mkv_h264_aac.mkv", ("-c:v", "libx264", "-c:a", "aac")),
    ("webm_vp8_vorbis.webm", ("-c:v", "libvpx", "-b:v", "1M", "-c:a", "libvorbis")),
    (
        "webm_vp9_opus.webm",
        (*VP9, "-c:a", "libopus"),
    ),
    ("avi_mpeg4_pcm.avi", ("-c:v", "mpeg4", "-q:v", "3", "-c:a", "pcm_s16le")),
    ("avi_mjpeg_pcm.avi", ("-c:v", "mjpeg", "-q:v", "3", "-c:a", "pcm_s16le")),
    ("flv_flv1_mp3.flv", ("-c:v", "flv", "-q:v", "3", "-c:a", "libmp3lame", "-ar", "44100")),
    ("mpegps_mpeg2_mp2.mpg", ("-c:v", "mpeg2video", "-q:v", "3", "-c:a", "mp2", "-f", "vob")),
    ("mpegts_h264_aac.ts", ("-c:v", "libx264", "-c:a", "aac")),
    ("3gp_h264_aac.3gp", ("-c:v", "libx264", "-c:a", "aac", "-ar", "16000", "-ac", "1")),
    ("ogv_theora_vorbis.ogv", ("-c:v", "libtheora", "-q:v", "7", "-c:a", "libvorbis")),
    ("wmv_wmv2_wmav2.wmv", ("-c:v", "wmv2", "-q:v", "3", "-c:a", "wmav2")),
)
#: The video stream starts 500 ms after the audio (MP4 with a start offset).
VIDEO_OFFSET = "mp4_video_offset.mp4"
#: Cut by stream copy from 0.4 s: the first keyframe comes before the cut, so the
#: MP4 carries an edit list that hides the frames before it.
EDIT_LIST = "mp4_edit_list.mp4"
SENTENCES_MS = ((0, 2600), (3700, 4850))
#: The edit-list copy starts 400 ms later in the speech and is 4.48 s long.
EDIT_LIST_SENTENCES_MS = ((0, 2200), (3300, 4450))


def _srt(path: Path, sentences: tuple[tuple[int, int], ...]) -> None:
    def stamp(ms: int) -> str:
        return f"00:00:{ms // 1000:02d},{ms % 1000:03d}"

    blocks = [
        f"{i}\n{stamp(a)} --> {stamp(b)}\nSentence number {i} is spoken here.\n"
        for i, (a, b) in enumerate(sentences, 1)
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")


@pytest.fixture(scope="session")
def real_clip() -> Path:
    return shared_path("video", "talking_head", "videoretalking_face5.mp4")


@pytest.fixture(scope="session")
def matrix_dir(tmp_path_factory: pytest.TempPathFactory, real_clip: Path) -> Path:
    folder = tmp_path_factory.mktemp("containers")
    for name, options in MATRIX:
        ffmpeg("-i", str(real_clip), *options, str(folder / name))
        _srt((folder / name).with_suffix(".srt"), SENTENCES_MS)
    ffmpeg(
        "-i", str(real_clip), "-itsoffset", "0.5", "-i", str(real_clip),
        "-map", "1:v", "-map", "0:a", "-c:v", "libx264", "-c:a", "aac",
        str(folder / VIDEO_OFFSET),
    )  # fmt: skip
    _srt((folder / VIDEO_OFFSET).with_suffix(".srt"), SENTENCES_MS)
    ffmpeg("-ss", "0.4", "-i", str(real_clip), "-c", "copy", str(folder / EDIT_LIST))
    _srt((folder / EDIT_LIST).with_suffix(".srt"), EDIT_LIST_SENTENCES_MS)
    return folder


@pytest.fixture(scope="session")
def matrix_rows(matrix_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The matrix built as one dataset: cue rows (sorted by time) per file name."""
    pytest.importorskip("mediapipe")
    dataset = matrix_dir.parent / "containers-dataset"
    build_dataset([matrix_dir], dataset, workers=2, progress=False, log=lambda line: None)
    sources = pq.read_table(dataset / "sources.parquet").to_pylist()
    names = {s["source_id"]: Path(s["path"]).name for s in sources}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names.values()}
    for part in sorted((dataset / "cues").glob("*.parquet")):
        for row in pq.read_table(part).to_pylist():
            row["dataset"] = dataset
            rows[names[row["source_id"]]].append(row)
    for name in rows:
        rows[name].sort(key=lambda row: row["start_ms"])
    rows["__sources__"] = sources
    return rows


ALL_FILES = [name for name, _ in MATRIX] + [VIDEO_OFFSET, EDIT_LIST]


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_container_gives_both_sentences_accepted(
    name: str, matrix_rows: dict[str, list[dict[str, Any]]]
) -> None:
    rows = matrix_rows[name]
    expected = EDIT_LIST_SENTENCES_MS if name == EDIT_LIST else SENTENCES_MS
    assert [(r["start_ms"], r["end_ms"]) for r in rows] == list(expected)
    for row in rows:
        assert (row["status"], row["reason"], row["error"]) == ("accepted", None, None), row
        dataset: Path = row["dataset"]
        duration = Fraction(row["end_ms"] - row["start_ms"], 1000)
        # The face clip covers the sentence within one frame (25 fps: 40 ms).
        with av.open(str(dataset / row["face_clip_path"])) as clip:
            assert clip.duration is not None
            assert abs(Fraction(clip.duration, 1_000_000) - duration) <= Fraction(1, 25)
        # The audio is exactly the sentence at 16 kHz.
        with wave.open(str(dataset / row["audio_path"])) as audio:
            assert audio.getnframes() == (row["end_ms"] - row["start_ms"]) * 16
        assert len(row["still_paths"]) == 5
        assert all((dataset / still).stat().st_size > 1000 for still in row["still_paths"])


def test_sources_record_seek_mode_and_stream_starts(
    matrix_rows: dict[str, list[dict[str, Any]]],
) -> None:
    sources = {Path(s["path"]).name: s for s in matrix_rows["__sources__"]}
    assert set(sources) == set(ALL_FILES)
    assert all(
        s["seek_mode"] in ("exact", "approximate", "decode_through") for s in sources.values()
    )
    # MP4/MKV/WebM seek by their index; MPEG-PS seeks by estimated byte position.
    assert sources["mp4_h264_aac.mp4"]["seek_mode"] == "exact"
    assert sources["mkv_h264_aac.mkv"]["seek_mode"] == "exact"
    assert sources["mpegps_mpeg2_mp2.mpg"]["seek_mode"] == "approximate"
    offset = sources[VIDEO_OFFSET]
    assert (offset["audio_start_ms"], abs(offset["video_start_ms"] - 520) <= 40) == (0, True)
    assert all(s["audio_start_ms"] >= 0 and s["video_start_ms"] >= 0 for s in sources.values())


def test_sentence_before_the_first_frame_uses_the_first_frame(
    matrix_dir: Path, matrix_rows: dict[str, list[dict[str, Any]]]
) -> None:
    """The video starts at 520 ms: the sentence at 0 ms starts on the first frame, held,
    and its stills are in time with the audio (the first still is the first frame)."""
    path = matrix_dir / VIDEO_OFFSET
    with WindowDecoder(path) as decoder:
        frames = list(decoder.frames(0, 2600))
        first_pts = frames[0].pts
        assert frames[0].start == 0 and frames[0].end == frames[1].start
        assert frames[1].start * 1000 >= 520
    with WindowDecoder(path) as decoder:
        assert next(iter(decoder.frames(600, 700))).pts > first_pts
    row = matrix_rows[VIDEO_OFFSET][0]
    assert row["status"] == "accepted"
    with av.open(str(row["dataset"] / row["face_clip_path"])) as clip:
        stream = clip.streams.video[0]
        # Held frames are re-encoded at the nominal step, so the clip states its true length.
        assert clip.duration == 2_600_000
        assert stream.average_rate is not None and 20 < stream.average_rate < 30


def test_face1_sentence_at_zero_is_accepted(tmp_path: Path) -> None:
    """videoretalking_face1.mp4's video stream starts at 33 ms, its audio at 0: the
    sentence over its first speech span, 0-2350 ms, is accepted."""
    pytest.importorskip("mediapipe")
    clip = shared_path("video", "talking_head", "videoretalking_face1.mp4")
    assert probe(clip).video.start_ms > 0
    inputs = tmp_path / "in"
    inputs.mkdir()
    video = inputs / "face1.mp4"
    video.symlink_to(clip)
    _srt(inputs / "face1.srt", ((0, 2350),))
    summary = build_dataset([inputs], tmp_path / "ds", progress=False, log=lambda line: None)
    assert dict(summary.status_counts) == {"accepted": 1}


# -- containers that cannot seek ------------------------------------------------------


class _SeeklessContainer:
    """An input container whose ``seek`` fails, as FLV without an index or some AVI do."""

    def __init__(self, container: Any) -> None:
        self._container = container

    def seek(self, *args: Any, **kwargs: Any) -> None:
        raise av.error.PermissionError(1, "Operation not permitted")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def __enter__(self) -> _SeeklessContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._container.close()


@pytest.fixture
def seeks_fail(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every media file opened for reading refuses to seek."""
    real_open: Callable[..., Any] = av.open

    def open_seekless(*args: Any, **kwargs: Any) -> Any:
        container = real_open(*args, **kwargs)
        if kwargs.get("mode", "r") == "r":
            return _SeeklessContainer(container)
        return container

    monkeypatch.setattr(av, "open", open_seekless)
    yield


WINDOWS_MS = ((3700, 4850), (200, 1400), (1500, 2600))  # out of order on purpose


def _envelope(samples: Any) -> Any:
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    return np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))


def _frames_and_audio(path: Path, seek_mode: str | None) -> tuple[list[list[int]], list[Any]]:
    with WindowDecoder(path, seek_mode=seek_mode) as decoder:
        frames = [[f.pts for f in decoder.frames(*w)] for w in WINDOWS_MS]
    with AudioReader(path, seek_mode=seek_mode or "exact") as reader:
        audio = [reader.read(*w) for w in WINDOWS_MS]
    return frames, audio


@pytest.mark.parametrize("name", ["flv_flv1_mp3.flv", "avi_mpeg4_pcm.avi", "mp4_h264_aac.mp4"])
def test_a_seek_that_fails_decodes_through(
    name: str, matrix_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every seek raising, probe says ``decode_through`` and the decoders read the
    same frames and samples as with seeking (windows out of time order)."""
    path = matrix_dir / name
    expected_frames, expected_audio = _frames_and_audio(path, None)
    real_open: Callable[..., Any] = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: _SeeklessContainer(real_open(*a, **k)))
    assert probe(path).seek_mode == SEEK_DECODE_THROUGH
    # Told the file seeks ("exact"), the decoders find out and fall back.
    for mode in ("exact", SEEK_DECODE_THROUGH):
        frames, audio = _frames_and_audio(path, mode)
        assert frames == expected_frames
        for got, want in zip(audio, expected_audio, strict=True):
            assert got.shape == want.shape
            # Millisecond timestamps (FLV) fall between samples: after a seek, or a stretch
            # only demuxed, resampling can start a fraction of a sample (<= 31 us) apart,
            # so compare the 10 ms loudness envelopes.
            assert np.corrcoef(_envelope(got), _envelope(want))[0, 1] > 0.999
    with WindowDecoder(path, seek_mode=SEEK_DECODE_THROUGH) as decoder:
        for window in WINDOWS_MS:
            list(decoder.frames(*window))
        # Before each window the packets before the last keyframe were only demuxed, not
        # decoded: FLV and AVI have a keyframe every 12 frames; the MP4 only one, at 0.
        assert (decoder.skipped_packets > 0) == (not name.endswith(".mp4"))


def test_build_of_a_source_that_cannot_seek_is_accepted(
    matrix_dir: Path, tmp_path: Path, seeks_fail: None
) -> None:
    pytest.importorskip("mediapipe")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for suffix in (".flv", ".srt"):
        (inputs / f"clip{suffix}").symlink_to(matrix_dir / f"flv_flv1_mp3{suffix}")
    summary = build_dataset([inputs], tmp_path / "ds", progress=False, log=lambda line: None)
    assert dict(summary.status_counts) == {"accepted": 2}
    sources = pq.read_table(tmp_path / "ds" / "sources.parquet").to_pylist()
    assert [s["seek_mode"] for s in sources] == [SEEK_DECODE_THROUGH]


def test_failed_rows_hold_no_absolute_path(tmp_path: Path, matrix_dir: Path) -> None:
    """A truncated file fails as corrupt media; its rows name the problem, not the
    building machine's folders."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    data = (matrix_dir / "mp4_h264_aac.mp4").read_bytes()
    (inputs / "broken.mp4").write_bytes(data[: len(data) // 3])
    _srt(inputs / "broken.srt", SENTENCES_MS)
    dataset = tmp_path / "ds"
    build_dataset([inputs], dataset, progress=False, log=lambda line: None)
    texts = [s["reason"] or "" for s in pq.read_table(dataset / "sources.parquet").to_pylist()]
    for part in (dataset / "cues").glob("*.parquet"):
        texts += [row["error"] or "" for row in pq.read_table(part).to_pylist()]
    assert any(texts)
    assert not any(str(tmp_path) in text for text in texts), texts


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_audio_running_on_after_the_picture_is_beyond_end_not_corrupt(
    suffix: str, real_clip: Path, tmp_path: Path
) -> None:
    """The video stream stops at 3 s, the audio goes on to 4.88 s (MKV states no video
    duration of its own): the sentence at 3.7 s is rejected ``beyond_end``, not failed."""
    pytest.importorskip("mediapipe")
    inputs = tmp_path / "in"
    inputs.mkdir()
    video = inputs / f"short_picture{suffix}"
    ffmpeg(
        "-t", "3", "-i", str(real_clip), "-i", str(real_clip),
        "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-c:a", "aac", str(video),
    )  # fmt: skip
    _srt(video.with_suffix(".srt"), SENTENCES_MS)
    dataset = tmp_path / "ds"
    build_dataset([inputs], dataset, progress=False, log=lambda line: None)
    rows = [
        r for part in (dataset / "cues").glob("*.parquet") for r in pq.read_table(part).to_pylist()
    ]
    outcome = sorted((r["start_ms"], r["status"], r["reason"]) for r in rows)
    assert outcome == [(0, "accepted", None), (3700, "rejected", "beyond_end")]


@pytest.mark.parametrize("name", ALL_FILES)
def test_audio_reads_to_the_end_of_every_container(name: str, matrix_dir: Path) -> None:
    """Up to and past the end of the data (WMA's last resampled block has no timestamp)."""
    path = matrix_dir / name
    info = probe(path)
    assert info.audio is not None
    # The audio's own end (the late video stream makes the container longer).
    duration_ms = info.audio.start_ms + (info.audio.duration_ms or info.duration_ms)
    with AudioReader(path) as reader:
        tail = reader.read(duration_ms - 1500, duration_ms + 500)
        assert len(tail) == 2000 * 16 and np.abs(tail[:8000]).max() > 0.01
    with AudioReader(path) as reader:
        # (MPEG-TS states an estimated duration, 100 ms off here)
        assert abs(len(reader.read_all()) - duration_ms * 16) <= 200 * 16


def _damage_packets_at(source: Path, target: Path, seconds: float) -> None:
    """A copy of ``source`` with the video and audio packets at ``seconds`` overwritten."""
    data = bytearray(source.read_bytes())
    for kind in ("video", "audio"):
        with av.open(str(source)) as container:
            stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
            for packet in container.demux(stream):
                time = packet.pts * packet.time_base if packet.pts is not None else None
                if time is not None and time >= seconds and packet.pos is not None:
                    data[packet.pos + 4 : packet.pos + packet.size] = b"\xff" * (packet.size - 4)
                    break
    target.write_bytes(bytes(data))


def test_damage_before_a_window_does_not_fail_it(matrix_dir: Path, tmp_path: Path) -> None:
    """Damaged packets at 1 s: the window that holds them fails as corrupt media; a window
    after them still decodes, also when the reader decodes on through the damage (skipped
    and counted, as players conceal it)."""
    damaged = tmp_path / "damaged.mp4"
    _damage_packets_at(matrix_dir / "mp4_h264_aac.mp4", damaged, 1.0)
    with (
        pytest.raises(CorruptMediaError, match="does not decode"),
        WindowDecoder(damaged) as decoder,
    ):
        list(decoder.frames(500, 1500))
    with pytest.raises(CorruptMediaError, match="does not decode"), AudioReader(damaged) as reader:
        reader.read(500, 1500)
    with WindowDecoder(damaged) as decoder:
        assert len(list(decoder.frames(0, 500))) == 13
        assert len(list(decoder.frames(2000, 3000))) == 25
    with AudioReader(damaged) as reader:
        reader.read(0, 500)
        assert len(reader.read(2000, 3000)) == 16_000
        assert reader.damaged_packets == 1
