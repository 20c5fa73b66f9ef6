"""The cue stage: one chunk of one source's utterances -> cue rows and their media.

``process_chunk(context, work)`` runs in a worker. For each utterance it decodes the
sentence's window once (seek to its start, decode through), and uses the same frames
for everything: shot-change scores (128 px, every frame where the sampled frames change:
``media.shots.screened_cuts``), face detection on frames
sampled at ``faces.sample_fps`` (downscaled to ``faces.detection_width``), the speaking
score, the 5 stills and face crops, and the encoded face clip.

Selection, in order (the first rule that applies gives the row's ``reason``):

0. ``beyond_end``: the sentence ends after the video does (subtitles for another cut
   of the film, or shifted): it cannot be cut whole. Known from the container's duration
   before decoding, or found while decoding when the video stream ends more than a frame
   before the sentence (audio that runs on after the picture).
1. ``dialogue``: a turn of a dialogue event ("- Hi. - Hello."): two speakers share the
   event's time span, so one speaker cannot be cut out.
2. ``overlap``: the subtitle is on screen together with another one.
3. ``too_short`` / ``too_long``: outside ``select.min_duration_ms .. max_duration_ms``.
4. ``no_face``: no face in any sampled frame (a second look with
   ``faces.small_face_detector`` tells ``face_too_small`` apart when it finds one).
5. ``face_too_small``: no face track is large (median size by ``faces.size_measure`` at
   least ``faces.large_fraction`` of the frame; default: ≥ 20 % of the width and of the
   height).
6. ``several_faces``: two large face tracks on screen at the same time.
7. ``shot_cut``: a shot cut inside the sentence, unless the same single large face is
   tracked across it for the whole sentence and looks the same on both sides (face-box
   colour histogram and grey-level correlation at least ``faces.same_face_similarity``).
   Cuts within one frame of the sentence's bounds are not inside it: subtitles are
   timed to the frame at best.
8. ``face_partial``: the large face is seen in fewer than ``faces.min_track_coverage``
   of the sampled frames (it enters, leaves or turns away).
9. ``not_speaking``: the face's mouth is still while the voice is active
   (``faces/speaking.py``), when ``select.reject_non_speakers``.
10. ``out_of_sync``: the voice does not follow the face's mouth in time (another
    person's voice dubbed over it, or a clear audio offset), measured on every frame
    against the audio with ``faces.sync_search_ms`` of margin (``faces/sync.py``),
    when ``faces.sync``. Accepted and ``out_of_sync`` rows record ``sync_offset_ms``
    (positive: the voice comes late) and ``sync_score``.

What a rejection records, so a report can show why (rules 4-10, the media checks): a
thumbnail (``thumb.jpg`` in the cue's media folder, listed in ``media_files``): the
frame nearest the sentence's middle among those sampled for detection (no frame is
decoded for it), ``THUMB_WIDTH`` pixels wide, boxes not drawn; the boxes of every face
the deciding detector found in that frame (``thumb_face_boxes``, fractions of the
frame) and its time (``thumb_ms``). The face track's sizes (``face_*_fraction``;
``face_size_fraction`` is the median size by ``faces.size_measure`` that
``faces.large_fraction`` is compared with) for every reason but ``no_face``; from
``shot_cut`` on, the number of cuts inside the sentence and the first one's time
(``shot_cuts``, ``shot_cut_ms``); from ``not_speaking`` on, the speaking figures
(``speaking_score``, ``mouth_activity`` against the still threshold of
``speaking_method``, ``voiced_fraction``). Rows rejected by rules 0-3 and failed rows
have no thumbnail: they were never decoded.

Otherwise the utterance is accepted and extracted. The clips are silent: the voice is a
cue of its own (``audio.wav``, and ``audio_blur.wav`` with the words made unintelligible),
so a task that shows the face never hears the words. A media error gives a ``failed`` row
whose ``reason`` names the error class and whose ``error`` is its one-line message. A
failure of the machine (a full disk, a quota, too many open files: ``errors.storage_error``)
gives no row: the chunk raises ``StorageError`` with its media removed, uncommitted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import multiprocessing
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from empathynet.blur import (
    BlurFigures,
    BlurMethod,
    blur_pitch,
    create_blur_method,
    may_be_intelligible,
    verify_blur,
)
from empathynet.config import EmpathyNetConfig
from empathynet.data.models import CueGroup, FaceBox, Source, Utterance
from empathynet.errors import (
    CorruptMediaError,
    EmpathyNetError,
    MediaError,
    NoAudioStreamError,
    NoVideoStreamError,
    storage_error,
)
from empathynet.faces.detectors import FaceDetector, create_detector, import_cv2
from empathynet.faces.speaking import MouthMeter, SpeakingScore, score_track
from empathynet.faces.sync import measure_sync, sync_fields
from empathynet.faces.tracking import (
    FaceTrack,
    FrameFaces,
    detect_frames,
    sample_times_ms,
    track_faces,
)
from empathynet.media.audio import AudioReader, write_wav
from empathynet.media.decode import DecodedFrame, WindowDecoder, select_frames
from empathynet.media.encode import (
    CropBox,
    crop_square,
    encode_clip,
    square_crop_box,
    still_times,
    write_jpeg,
)
from empathynet.media.shots import ShotDetector, screened_cuts
from empathynet.store.atomic import batched_sync
from empathynet.store.layout import DatasetLayout
from empathynet.store.parts import remove_cue_media
from empathynet.timeline import ms_to_samples

#: Bump when the rules or outputs of this stage change: rows record it. (4: rejected rows
#: have a thumbnail and what was measured; parts of 3 read the same, without them.)
STAGE_VERSION = "4"

#: A rejected row's thumbnail: file name, width in pixels (never enlarged), JPEG quality.
#: Small: a report shows hundreds, and the build writes it only for rows a media check
#: rejected, from a frame it decoded for detection.
THUMB_NAME = "thumb.jpg"
THUMB_WIDTH = 160
THUMB_QUALITY = 80

#: Decoded frames kept per window for extraction; a longer window is decoded twice.
MAX_KEPT_FRAME_BYTES = 400 * 1024 * 1024

# Which error classes a failed row names.
_FAILURE_REASONS: tuple[tuple[type[EmpathyNetError], str], ...] = (
    (NoAudioStreamError, "no_audio"),
    (NoVideoStreamError, "no_video"),
    (CorruptMediaError, "corrupt_media"),
    (MediaError, "media_error"),
)


def failure_reason(error: BaseException) -> str:
    """The ``reason`` code of a failed row for ``error``."""
    for error_type, reason in _FAILURE_REASONS:
        if isinstance(error, error_type):
            return reason
    if isinstance(error, EmpathyNetError):
        return "error"
    return "internal_error"


def row_error(error: EmpathyNetError, work: ChunkWork) -> str:
    """A failed row's ``error``: one line without absolute paths (a dataset file relative
    to the dataset, the source and its neighbours relative to the source's folder)."""
    return error.describe(work.dataset_root, Path(work.source.path).parent)


@dataclass(frozen=True)
class ChunkWork:
    """One unit of work: consecutive utterances of one source."""

    source: Source
    chunk: int
    utterances: tuple[Utterance, ...]
    cue_ids: tuple[str, ...]
    dataset_root: str
    stage_versions: str
    #: ``(reason, message)`` when the source itself cannot be used: every row fails.
    source_failure: tuple[str, str] | None = None


@dataclass
class ChunkResult:
    """The rows of one chunk and the seconds spent per stage."""

    source_id: str
    chunk: int
    rows: list[CueGroup]
    seconds: dict[str, float] = field(default_factory=dict)


class Timer:
    """Seconds spent per stage name, summed. A stage entered inside another counts for
    itself only (``blur`` inside ``extract``): the stages add up to the time spent."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._inner: list[float] = []  # per open stage: seconds of the stages inside it

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            own = elapsed - self._inner.pop()
            self.seconds[name] = self.seconds.get(name, 0.0) + own
            if self._inner:
                self._inner[-1] += elapsed


class WorkerContext:
    """What a worker sets up once: the configuration and the models."""

    def __init__(self, config: EmpathyNetConfig) -> None:
        self.config = config
        self.detector: FaceDetector = create_detector(config.faces)
        self.blur: BlurMethod = create_blur_method(config.blur)
        self._small_detector: FaceDetector | None = None
        self._mouth_meter: MouthMeter | None = None
        # In a pool's worker process the workers share the cores: FFmpeg's decoding threads
        # on top of them cost more than they bring (measured on 2 cores, 2 workers: decode
        # 7.5 -> 6.7 s, build 21.2 -> 20.0 s); alone in the main process, they help.
        self.decode_threads = multiprocessing.parent_process() is None

    @property
    def small_detector(self) -> FaceDetector | None:
        name = self.config.faces.small_face_detector
        if name is None:
            return None
        if self._small_detector is None:
            faces = self.config.faces
            self._small_detector = create_detector(
                dataclasses.replace(faces, detector=name, min_score=faces.small_face_min_score)
            )
        return self._small_detector

    @property
    def mouth_meter(self) -> MouthMeter:
        if self._mouth_meter is None:
            self._mouth_meter = MouthMeter()
            self._mouth_meter.setup()
        return self._mouth_meter


def make_context(config: EmpathyNetConfig) -> WorkerContext:
    """Set up a worker (module-level, so a process pool can pickle it)."""
    return WorkerContext(config)


def _row(work: ChunkWork, index: int, status: str, **values: Any) -> CueGroup:
    utterance = work.utterances[index]
    # ``values`` are manifest columns (flat names): from_dict groups them into parts.
    return CueGroup.from_dict(
        {
            "cue_id": work.cue_ids[index],
            "source_id": work.source.source_id,
            "start_ms": utterance.start_ms,
            "end_ms": utterance.end_ms,
            "text": utterance.text,
            "status": status,
            "nonverbal": utterance.nonverbal,
            "speaker": utterance.speaker,
            "event_ids": utterance.event_ids,
            "transcript_source": utterance.transcript_source,
            "transcript_model": utterance.transcript_model,
            "transcript_confidence": utterance.transcript_confidence,
            "stage_versions": work.stage_versions,
            **values,
        },
        strict=True,
    )


def _rule_reason(utterance: Utterance, context: WorkerContext, source: Source) -> str | None:
    """Reasons that need no media (rules 1-4)."""
    select = context.config.select
    if source.duration_ms is not None and utterance.end_ms > source.duration_ms:
        return "beyond_end"
    if utterance.low_confidence:
        return "low_confidence"
    if utterance.dialogue and select.reject_dialogue:
        return "dialogue"
    if utterance.overlap and select.reject_overlap:
        return "overlap"
    if utterance.duration_ms < select.min_duration_ms:
        return "too_short"
    if utterance.duration_ms > select.max_duration_ms:
        return "too_long"
    return None


def process_chunk(context: WorkerContext, work: ChunkWork) -> ChunkResult:
    """Turn one chunk of utterances into cue rows (and media files for accepted ones)."""
    timer = Timer()
    rows: list[CueGroup] = []
    if work.source_failure is not None:
        failed_reason, message = work.source_failure
        rows = [
            _row(work, i, "failed", reason=failed_reason, error=message)
            for i in range(len(work.utterances))
        ]
        return ChunkResult(work.source.source_id, work.chunk, rows, timer.seconds)
    pending: list[int] = []
    for index, utterance in enumerate(work.utterances):
        reason = _rule_reason(utterance, context, work.source)
        if reason is None:
            pending.append(index)
        else:
            rows.append(_row(work, index, "rejected", reason=reason))
    if pending:
        # One sync for the chunk's media files, before the build records them in a part.
        try:
            with batched_sync():
                rows.extend(_process_media(context, work, pending, timer))
        except BaseException as error:
            # A full disk (or another failure of the machine) is no row: the chunk stops
            # uncommitted, its media go (freeing space) and the build stops.
            storage = storage_error(error, work.dataset_root)
            if storage is None:
                raise
            with contextlib.suppress(OSError):
                remove_cue_media(
                    DatasetLayout(Path(work.dataset_root)), work.source.source_id, work.cue_ids
                )
            raise storage from error
    rows.sort(key=lambda row: (row.start_ms, row.cue_id))
    return ChunkResult(work.source.source_id, work.chunk, rows, timer.seconds)


def _process_media(
    context: WorkerContext, work: ChunkWork, pending: list[int], timer: Timer
) -> list[CueGroup]:
    rows: list[CueGroup] = []
    path = work.source.path
    try:
        with timer.stage("open"):
            seek_mode = work.source.seek_mode
            decoder = WindowDecoder(path, threads=context.decode_threads, seek_mode=seek_mode)
            audio = AudioReader(
                path,
                sample_rate=context.config.extract.audio_rate,
                seek_mode=seek_mode or decoder.seek_mode,
            )
    except EmpathyNetError as error:
        if storage_error(error, work.dataset_root) is not None:
            raise
        reason = failure_reason(error)
        message = row_error(error, work)
        return [_row(work, i, "failed", reason=reason, error=message) for i in pending]
    with decoder, audio:
        for index in pending:
            try:
                rows.append(_process_utterance(context, work, index, decoder, audio, timer))
            except EmpathyNetError as error:
                if storage_error(error, work.dataset_root) is not None:
                    raise
                rows.append(
                    _row(
                        work,
                        index,
                        "failed",
                        reason=failure_reason(error),
                        error=row_error(error, work),
                    )
                )
    return rows


@dataclass
class _Window:
    """What one pass over a sentence's frames collected."""

    start_ms: int
    end_ms: int
    frame_ms: int  #: one frame's duration: cuts that close to a bound are not inside
    sampled: dict[int, np.ndarray]  #: sample time (ms) -> downscaled RGB for detection
    kept: list[DecodedFrame] | None  #: every frame, or None when over the memory budget
    display_size: tuple[int, int]
    #: Shot scores gathered while decoding, once the frames stopped being kept.
    shots: ShotDetector | None = None

    def cuts_ms(self, context: WorkerContext, timer: Timer) -> list[int]:
        """Shot cuts inside the window (scored now from the kept frames if need be)."""
        with timer.stage("shots"):
            if self.shots is not None:
                cuts = self.shots.cuts()
            else:
                # frame by frame only where the sampled pictures change
                cuts = screened_cuts(
                    self.kept or [], sorted(self.sampled.items()), context.config.shots
                )
            return [
                cut.time_ms
                for cut in cuts
                if self.start_ms + self.frame_ms < cut.time_ms < self.end_ms - self.frame_ms
            ]


def _scan_window(
    context: WorkerContext,
    decoder: WindowDecoder,
    start_ms: int,
    end_ms: int,
    timer: Timer,
    frame_ms: int = 0,
) -> _Window:
    """Decode ``[start_ms, end_ms)`` once: the sampled detection frames and every frame.

    Shot scores wait until the faces ask for them (most windows are rejected before),
    unless the window is too long to keep its frames: then they are scored on the way.
    """
    faces = context.config.faces
    times = sample_times_ms(start_ms, end_ms, faces.sample_fps)
    next_sample = 0  # index in ``times`` of the next sample time
    sampled: dict[int, np.ndarray] = {}
    kept: list[DecodedFrame] | None = []
    kept_bytes = 0
    shots: ShotDetector | None = None
    display_size = (0, 0)
    frames = decoder.frames(start_ms, end_ms)
    while True:
        with timer.stage("decode"):
            decoded = next(frames, None)
        if decoded is None:
            break
        display_size = decoded.display_size
        with timer.stage("detect"):
            while next_sample < len(times) and decoded.covers(times[next_sample]):
                width = min(faces.detection_width, display_size[0])
                sampled[times[next_sample]] = decoded.to_rgb(width=width, interpolation="AREA")
                next_sample += 1
        if kept is not None:
            kept.append(decoded)
            kept_bytes += display_size[0] * display_size[1] * 3 // 2
            if kept_bytes > MAX_KEPT_FRAME_BYTES:
                with timer.stage("shots"):
                    shots = ShotDetector(context.config.shots)
                    for frame in kept:
                        shots.add_frame(frame)
                kept = None
        elif shots is not None:
            with timer.stage("shots"):
                shots.add_frame(decoded)
    video_end = decoder.video_end
    if video_end is not None and video_end * 1000 < end_ms - frame_ms:
        raise _BeyondVideoEnd
    if not sampled:
        raise CorruptMediaError(
            f"no video frame decoded between {start_ms} ms and {end_ms} ms",
            decoder.path,
        )
    return _Window(start_ms, end_ms, frame_ms, sampled, kept, display_size, shots)


class _BeyondVideoEnd(Exception):
    """The video stream ended before the sentence did (the ``beyond_end`` rule)."""


def _face_values(track: FaceTrack | None, context: WorkerContext) -> dict[str, Any]:
    if track is None:
        return {}
    measure = context.config.faces.size_measure
    return {
        "face_width_fraction": track.median_width,
        "face_height_fraction": track.median_height,
        "face_area_fraction": track.median_area,
        "face_fraction_min": track.min_size(measure),
        "face_coverage": track.coverage,
        "face_detector": context.config.faces.detector,
        "face_size_fraction": track.median_size(measure),
    }


def _speaking_values(score: SpeakingScore) -> dict[str, Any]:
    """The manifest columns of a face's speaking score (``faces/speaking.py``)."""
    return {
        "speaking_score": score.score,
        "mouth_activity": score.mouth_activity,
        "voiced_fraction": score.voiced_fraction,
        "speaking_method": score.method,
    }


def _write_thumbnail(
    work: ChunkWork, index: int, window: _Window, found: Sequence[FrameFaces]
) -> dict[str, Any]:
    """Write the thumbnail of a row a media check rejected and return its columns.

    The picture is the frame sampled for detection nearest the sentence's middle (already
    decoded and downscaled: nothing is decoded again), scaled to ``THUMB_WIDTH`` pixels
    wide; ``found`` are the detections it is judged by, whose boxes in that frame are
    recorded (fractions of the frame, as the thumbnail shows it).
    """
    utterance = work.utterances[index]
    middle_ms = (utterance.start_ms + utterance.end_ms) // 2
    time_ms = min(window.sampled, key=lambda t: (abs(t - middle_ms), t))
    rgb = window.sampled[time_ms]
    height, width = rgb.shape[:2]
    if width > THUMB_WIDTH:
        cv2 = import_cv2()
        size = (THUMB_WIDTH, max(1, round(height * THUMB_WIDTH / width)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    layout = DatasetLayout(Path(work.dataset_root))
    relative = layout.cue_media_relative(work.source.source_id, work.cue_ids[index], THUMB_NAME)
    path = layout.resolve(relative)
    write_jpeg(path, rgb, THUMB_QUALITY)
    boxes = next((frame.boxes for frame in found if frame.time_ms == time_ms), ())
    return {
        "thumb_path": relative,
        "thumb_ms": time_ms,
        "thumb_face_boxes": boxes,
        # Sizes as written, as for an accepted row's media (empathynet check).
        "media_files": (relative,),
        "media_bytes": (path.stat().st_size,),
    }


def _simultaneous(a: FaceTrack, b: FaceTrack) -> bool:
    return a.start_ms <= b.end_ms and b.start_ms <= a.end_ms


def _process_utterance(
    context: WorkerContext,
    work: ChunkWork,
    index: int,
    decoder: WindowDecoder,
    audio_reader: AudioReader,
    timer: Timer,
) -> CueGroup:
    config = context.config
    faces = config.faces
    utterance = work.utterances[index]
    start_ms, end_ms = utterance.start_ms, utterance.end_ms
    source = work.source
    frame_ms = (
        math.ceil(1000 * source.fps_den / source.fps_num)
        if source.fps_num and source.fps_den
        else 0
    )
    try:
        window = _scan_window(context, decoder, start_ms, end_ms, timer, frame_ms)
    except _BeyondVideoEnd:
        with timer.stage("audio"):
            # The picture ended first: a truncated file, whose audio data ends early too,
            # fails here as corrupt media; otherwise the audio runs on after the picture.
            audio_reader.read(start_ms, end_ms)
        return _row(work, index, "rejected", reason="beyond_end")
    times = sorted(window.sampled)
    with timer.stage("detect"):
        found = detect_frames(context.detector, ((t, window.sampled[t]) for t in times))
        tracks = track_faces(found, faces.iou_threshold, faces.max_gap_frames)
    common: dict[str, Any] = {}

    def reject(
        reason: str,
        track: FaceTrack | None = None,
        detections: Sequence[FrameFaces] = found,
        **extra: Any,
    ) -> CueGroup:
        with timer.stage("thumbnail"):
            thumbnail = _write_thumbnail(work, index, window, detections)
        values = {**common, **_face_values(track, context), **thumbnail, **extra}
        return _row(work, index, "rejected", reason=reason, **values)

    if not tracks:
        small = context.small_detector
        if small is not None:
            with timer.stage("detect"):
                second = detect_frames(small, ((t, window.sampled[t]) for t in times))
            small_tracks = track_faces(second, faces.iou_threshold, faces.max_gap_frames)
            if small_tracks:
                biggest = max(small_tracks, key=lambda t: t.median_size(faces.size_measure))
                return reject("face_too_small", biggest, second, face_detector=small.name)
        return reject("no_face")
    large = [t for t in tracks if t.median_size(faces.size_measure) >= faces.large_fraction]
    if not large:
        return reject(
            "face_too_small", max(tracks, key=lambda t: t.median_size(faces.size_measure))
        )
    main = max(large, key=lambda t: (t.coverage, t.median_size(faces.size_measure)))
    if any(_simultaneous(main, other) for other in large if other is not main):
        return reject("several_faces", main)
    whole = main.coverage >= faces.min_track_coverage
    cuts = window.cuts_ms(context, timer)
    common["shot_cuts"] = len(cuts)
    common["shot_cut_ms"] = min(cuts) if cuts else None
    if cuts and not (
        whole
        and len(large) == 1
        and all(_same_face_across(window, main, cut, faces.same_face_similarity) for cut in cuts)
    ):
        return reject("shot_cut", main)
    if not whole:
        return reject("face_partial", main)
    # The sentence's audio, with the margin the sync measure searches when it runs: read
    # once (the reader gives the same samples whichever way it reaches them).
    margin_start, margin_end = start_ms, end_ms
    if faces.sync:
        # Before the media's start there is no audio, and past its end the reader gives
        # silence that must not count as voice.
        margin_start = max(0, start_ms - faces.sync_search_ms)
        margin_end = end_ms + faces.sync_search_ms
        if source.duration_ms is not None:
            margin_end = max(end_ms, min(margin_end, source.duration_ms))
    rate = config.extract.audio_rate
    with timer.stage("audio"):
        margin_audio = audio_reader.read(margin_start, margin_end)
    offset = ms_to_samples(start_ms, rate) - ms_to_samples(margin_start, rate)
    samples = margin_audio[
        offset : offset + ms_to_samples(end_ms, rate) - ms_to_samples(start_ms, rate)
    ]
    speaking_values: dict[str, Any] = {}
    if faces.speaking:
        with timer.stage("speaking"):
            score = score_track(
                context.mouth_meter,
                main,
                window.sampled,
                samples,
                start_ms,
                config.extract.audio_rate,
                faces,
            )
        speaking_values = _speaking_values(score)
        if score.clear_non_speaker and config.select.reject_non_speakers:
            return reject("not_speaking", main, **speaking_values)
    sync_values: dict[str, Any] = {}
    if faces.sync:
        with timer.stage("sync"):
            # A window too long to keep its frames is decoded again, streamed.
            frames = window.kept if window.kept is not None else decoder.frames(start_ms, end_ms)
            sync = measure_sync(
                frames, main, margin_audio, margin_start, config.extract.audio_rate, faces
            )
        sync_values = sync_fields(sync)
        if sync.verdict == "out_of_sync":
            return reject("out_of_sync", main, **speaking_values, **sync_values)
    with timer.stage("extract"):
        media = _extract(context, work, index, decoder, window, main, samples, timer)
    return _row(
        work,
        index,
        "accepted",
        **common,
        **_face_values(main, context),
        **speaking_values,
        **sync_values,
        **media,
    )


def _face_patch(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    height, width = rgb.shape[:2]
    x0, y0 = max(0, int(box.x * width)), max(0, int(box.y * height))
    x1 = min(width, max(x0 + 1, int((box.x + box.width) * width)))
    y1 = min(height, max(y0 + 1, int((box.y + box.height) * height)))
    return np.ascontiguousarray(rgb[y0:y1, x0:x1])


def face_similarity(before: np.ndarray, after: np.ndarray) -> float:
    """How alike two face patches (RGB uint8) look, -1..1: the smaller of the
    hue-saturation histogram correlation and the 24x24 grey-level correlation."""
    cv2 = import_cv2()

    def histogram(patch: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV)
        values: np.ndarray = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
        return values

    def grey(patch: np.ndarray) -> np.ndarray:
        small = cv2.resize(cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY), (24, 24))
        flat: np.ndarray = small.astype(np.float32).ravel()
        normalised: np.ndarray = (flat - flat.mean()) / (flat.std() + 1e-6)
        return normalised

    colour = float(cv2.compareHist(histogram(before), histogram(after), cv2.HISTCMP_CORREL))
    shape = float(np.dot(grey(before), grey(after)) / 576)
    return min(colour, shape)


def _same_face_across(window: _Window, track: FaceTrack, cut_ms: int, threshold: float) -> bool:
    """Whether ``track`` shows the same face in the sampled frames around ``cut_ms``."""
    before = [t for t in track.times_ms if t < cut_ms]
    after = [t for t in track.times_ms if t >= cut_ms]
    if not before or not after:
        return False
    a, b = before[-1], after[0]
    patch_a = _face_patch(window.sampled[a], track.box_at(a))
    patch_b = _face_patch(window.sampled[b], track.box_at(b))
    return face_similarity(patch_a, patch_b) >= threshold


def _pixel_box(box: FaceBox, size: tuple[int, int], margin: float) -> CropBox:
    width, height = size
    return square_crop_box(
        box.x * width,
        box.y * height,
        box.width * width,
        box.height * height,
        width,
        height,
        scale=margin,
    )


def _median_box(track: FaceTrack) -> FaceBox:
    return FaceBox(
        x=float(np.median([b.x + b.width / 2 for b in track.boxes]) - track.median_width / 2),
        y=float(np.median([b.y + b.height / 2 for b in track.boxes]) - track.median_height / 2),
        width=track.median_width,
        height=track.median_height,
        score=track.mean_score,
    )


def blur_fields(figures: BlurFigures) -> dict[str, Any]:
    """The manifest columns of one cue's blur figures."""
    return {
        "f0_correlation": figures.f0_correlation,
        "f0_rmse_semitones": figures.f0_rmse_semitones,
        "intensity_correlation": figures.intensity_correlation,
        "speaking_rate_ratio": figures.speaking_rate_ratio,
        "raw_transcript": figures.raw_transcript,
        "blur_transcript": figures.blurred_transcript,
        "wer_raw": figures.wer_raw,
        "wer_blur": figures.wer_blurred,
        "wer_blur_vs_raw": figures.wer_blurred_vs_raw,
        "may_be_intelligible": (
            may_be_intelligible(figures) if figures.blurred_transcript is not None else None
        ),
    }


def _extract(
    context: WorkerContext,
    work: ChunkWork,
    index: int,
    decoder: WindowDecoder,
    window: _Window,
    track: FaceTrack,
    samples: np.ndarray,
    timer: Timer,
) -> dict[str, Any]:
    """Write the media of an accepted cue; returns the row's media fields."""
    extract = context.config.extract
    utterance = work.utterances[index]
    start_ms, end_ms = utterance.start_ms, utterance.end_ms
    layout = DatasetLayout(Path(work.dataset_root))
    cue_id = work.cue_ids[index]
    source_id = work.source.source_id

    def relative(name: str) -> str:
        return layout.cue_media_relative(source_id, cue_id, name)

    frames: list[DecodedFrame] = (
        window.kept if window.kept is not None else list(decoder.frames(start_ms, end_ms))
    )
    size = window.display_size
    still_paths: list[str] = []
    crop_paths: list[str] = []
    boxes: list[FaceBox] = []
    times = still_times(start_ms, end_ms, extract.stills)
    shown = dict(select_frames(frames, times))
    for k, time_ms in enumerate(times):
        rgb = shown[time_ms].to_rgb()
        box = track.box_at(time_ms)
        boxes.append(box)
        still, crop = relative(f"still_{k}.jpg"), relative(f"face_{k}.jpg")
        write_jpeg(layout.resolve(still), rgb, extract.jpeg_quality)
        face = crop_square(rgb, _pixel_box(box, size, extract.face_margin), extract.face_size)
        write_jpeg(layout.resolve(crop), face, extract.jpeg_quality)
        still_paths.append(still)
        crop_paths.append(crop)
    audio_path = relative("audio.wav")
    write_wav(layout.resolve(audio_path), samples, extract.audio_rate)
    with timer.stage("blur"):
        pitch = blur_pitch(samples, extract.audio_rate, context.config.blur)
        blurred = context.blur.blur(samples, extract.audio_rate, pitch=pitch)
        audio_blur_path = relative("audio_blur.wav")
        write_wav(layout.resolve(audio_blur_path), blurred, extract.audio_rate)
        figures = verify_blur(
            samples,
            blurred,
            extract.audio_rate,
            utterance.text,
            config=context.config.blur,
            raw_pitch=pitch,
        )
    face_clip = relative("face.mp4")
    encode_clip(
        layout.resolve(face_clip),
        frames,
        start_ms,
        end_ms,
        crop=_pixel_box(_median_box(track), size, extract.face_margin),
        size=(extract.face_size, extract.face_size),
        crf=extract.crf,
        preset=extract.preset,
    )
    clip_path: str | None = None
    if extract.full_clip:
        clip_path = relative("clip.mp4")
        clip_size: tuple[int, int] | None = None
        if extract.full_clip_width is not None and size[0] > extract.full_clip_width:
            clip_size = (
                extract.full_clip_width,
                round(size[1] * extract.full_clip_width / size[0]),
            )
        encode_clip(
            layout.resolve(clip_path),
            frames,
            start_ms,
            end_ms,
            size=clip_size,
            crf=extract.crf,
            preset=extract.preset,
        )
    # Sizes as written, so a file later deleted or cut short is found (empathynet check).
    media_files = (
        *still_paths,
        *crop_paths,
        audio_path,
        audio_blur_path,
        face_clip,
        *([clip_path] if clip_path is not None else []),
    )
    return {
        "media_files": media_files,
        "media_bytes": tuple(layout.resolve(path).stat().st_size for path in media_files),
        "audio_blur_path": audio_blur_path,
        "blur_method": context.config.blur.method,
        **blur_fields(figures),
        "face_boxes": tuple(boxes),
        "face_area_fractions": tuple(box.area_fraction for box in boxes),
        "still_paths": tuple(still_paths),
        "face_crop_paths": tuple(crop_paths),
        "audio_path": audio_path,
        "face_clip_path": face_clip,
        "clip_path": clip_path,
    }
