"""Speaking score: does this face's mouth move with the voice?

For each sampled frame of a face track we measure the **mouth opening**: the
inner-lip gap (FaceMesh landmarks 13-14) divided by the face height (landmarks
10-152), from MediaPipe FaceMesh (468 landmarks, model shipped in the
``mediapipe`` wheel) run on a square crop around the track's box. The mouth
**activity** of a frame is the mean absolute change of the opening to its
neighbouring sampled frames, expressed per 200 ms (one step at 5 frames per
second). The **voice energy** of a frame is the RMS level in dB (re full
scale) of the audio between the midpoints to its neighbours.

* ``score``: Pearson correlation of mouth motion and voice energy over the
  track's sampled frames (-1..1; 0.0 when either is constant). Mouth motion is
  the sum of the standardised landmark activity and the standardised
  mouth-region pixel activity (below): on the real talking-head clips the sum
  followed the voice better (mean r 0.54 over whole clips) than landmarks
  alone (0.43); pixels alone scored 0.57 but also count head motion, which a
  nodding listener has too. A speaker's mouth moves while the voice is on and
  rests in its pauses.
* ``mouth_activity``: median activity over the frames where the voice is
  active (voice energy ≥ ``voice_floor_dbfs`` and within ``voice_range_db`` of
  the window's loud level, its 95th percentile).

Rule for a **clear non-speaker** (conservative, the only rejection this module
makes): the voice is active in at least ``speaking_min_voiced_fraction`` of the
frames *and* the mouth is still (``mouth_activity`` below
``speaking_still_threshold``, 0.003 of the face height per 200 ms by default).
Measured on the real talking-head clips at 320 px with landmark tracking (below):
speakers inside speech spans 0.0050-0.040; the same faces frozen on one frame
(FaceMesh jitter only) 0.00003-0.0022 (with the detector on every frame, as first
measured: speakers 0.0069-0.033, frozen 0.0006-0.0036; a GRID speaker over the exact
1.55 s of its subtitle 0.0039; the same faces silent between sentences 0.0005-0.0052,
one breathing, smiling face 0.02). The threshold sits below the slowest real speaker,
so it rejects only clearly still mouths and lets some frozen or silent faces through.
A correlation alone never rejects: on real talking-head clips the correlation
inside continuous speech is weak (syllables are faster than 5 frames per
second), while a still mouth under an active voice is unambiguous. Among
several faces the speaker is the one with the highest score that is not a
clear non-speaker (``pick_speaker``).

FaceMesh runs in its tracking mode along one track (``MouthMeter.measure_track``):
its face detector runs on the track's first frame and again only when the landmarks
are lost; every other frame takes the landmark model alone, from the region the
previous frame's landmarks give (half the cost of detecting on every frame, 1.4
against 2.6 ms a frame here). The graph is reset at the start of every track, so a
track's samples never depend on what was measured before it.

When FaceMesh finds landmarks on fewer than ``speaking_min_landmark_fraction``
of the frames, the whole track falls back to **mouth-region pixel motion**: the
mean absolute grey-level change (0..1) of the lower-middle part of the face box
between sampled frames, at the best shift of up to 3 pixels so box jitter does
not count; ``method`` says which measure was used. This fallback is weak: box
jitter, head motion and scale changes still add to it (a face frozen on one
frame measured 0.003-0.019 per 200 ms on the real clips, speakers 0.011-0.037),
so its still threshold (``speaking_pixel_still_threshold``, 0.002) only catches
nearly static mouths, such as a freeze frame. Missing landmark frames of a
landmark track are interpolated in time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from empathynet.config import FaceConfig
from empathynet.data.models import FaceBox
from empathynet.errors import MediaError
from empathynet.faces.detectors import (
    check_frame,
    import_cv2,
    import_mediapipe,
    quiet_native_logs,
)
from empathynet.faces.tracking import FaceTrack
from empathynet.resources import Closing
from empathynet.timeline import ms_to_samples

SpeakingMethod = Literal["landmarks", "pixels", "none"]

#: FaceMesh landmark indices: inner upper lip, inner lower lip, forehead top, chin.
UPPER_LIP, LOWER_LIP, FOREHEAD, CHIN = 13, 14, 10, 152
#: Activity is expressed per this step (ms): one sample at the default 5 fps.
ACTIVITY_STEP_MS = 200
#: The crop given to FaceMesh: this many times the box's longer side, square.
CROP_SCALE = 1.6
CROP_PIXELS = 256
#: The mouth region of a face box for pixel motion (fractions of the box).
MOUTH_REGION = (0.25, 0.75, 0.62, 1.0)  # x0, x1, y0, y1
MOUTH_PATCH_SIZE = (48, 24)  # width, height in pixels
#: Patches are compared at the best shift up to this many pixels (box jitter).
PATCH_MAX_SHIFT = 3
SILENCE_DB = -120.0


@dataclass(frozen=True)
class MouthSample:
    """What one frame tells about the mouth of one face."""

    opening: float | None  #: inner-lip gap / face height, None if no landmarks
    patch: np.ndarray  #: grey mouth region, float32 0..1, MOUTH_PATCH_SIZE


@dataclass(frozen=True)
class SpeakingScore:
    """How well one face's mouth motion matches the voice of its window."""

    score: float  #: Pearson r of mouth activity and voice energy (-1..1)
    mouth_activity: float  #: median activity over voiced frames (units of ``method``)
    voiced_fraction: float  #: fraction of frames with an active voice
    method: SpeakingMethod  #: "landmarks", "pixels", or "none" (fewer than 2 frames)
    frames: int  #: sampled frames scored
    landmark_frames: int  #: frames where FaceMesh found the face's landmarks
    clear_non_speaker: bool  #: voice active while the mouth is still


class MouthMeter(Closing):
    """Measures mouth opening with MediaPipe FaceMesh; set up once per worker."""

    def __init__(self) -> None:
        self._mesh: Any = None

    def setup(self) -> None:
        """Load FaceMesh (idempotent). Raises ``MissingDependencyError``."""
        if self._mesh is None:
            mp = import_mediapipe()
            self._cv2 = import_cv2()
            with quiet_native_logs():
                # Tracking mode; ``_restart`` clears its state before every track or image.
                self._mesh = mp.solutions.face_mesh.FaceMesh(
                    static_image_mode=False, max_num_faces=1, refine_landmarks=False
                )
                self._mesh.process(np.zeros((64, 64, 3), dtype=np.uint8))

    def close(self) -> None:
        """Release FaceMesh."""
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None

    def _restart(self) -> None:
        """Forget the landmarks of earlier frames. Resetting restarts the graph, whose
        calculators open (and log) on their own threads until the next run returns: callers
        reset and run inside one ``quiet_native_logs`` block."""
        self.setup()
        self._mesh.reset()

    def measure(self, rgb: np.ndarray, box: FaceBox) -> MouthSample:
        """Mouth opening and mouth patch of the face in ``box`` (frame fractions) of one
        image on its own (no landmarks carried over from other frames)."""
        frame = check_frame(rgb)
        with quiet_native_logs():
            self._restart()
            return self._measure(frame, box, _crop_region(frame.shape, box))

    def measure_track(self, frames: Sequence[tuple[np.ndarray, FaceBox]]) -> list[MouthSample]:
        """Mouth samples of one face along ``frames`` (``(rgb, box)`` in time order, frames
        of one size): landmarks are tracked from frame to frame, the detector runs only on
        the first frame and where the landmarks were lost (see the module doc)."""
        checked = [(check_frame(rgb), box) for rgb, box in frames]
        if not checked:
            return []
        # One crop region for the whole track (the union of the per-frame regions): the
        # tracker carries landmark positions over in crop pixels, so a crop that followed
        # the jittering detection boxes would shift them (a frozen face "moved").
        regions = [_crop_region(rgb.shape, box) for rgb, box in checked]
        region = (
            min(r[0] for r in regions),
            min(r[1] for r in regions),
            max(r[2] for r in regions),
            max(r[3] for r in regions),
        )
        # The first frame twice: landmarks found in the detector's region differ from those
        # found in the region the landmarks give; measuring every frame the second way keeps
        # that difference out of the first step's activity.
        # The restarted graph logs until its first run returns, and a subgraph logs when it
        # first runs (the detector runs again where landmarks were lost): all quietly.
        with quiet_native_logs():
            self._restart()
            self._measure(*checked[0], region)
            return [self._measure(rgb, box, region) for rgb, box in checked]

    def _measure(
        self, frame: np.ndarray, box: FaceBox, region: tuple[int, int, int, int]
    ) -> MouthSample:
        """Patch from ``box``; landmarks from the crop ``region`` (pixels: x0, y0, x1, y1)."""
        cv2 = self._cv2
        height, width = frame.shape[:2]
        x0, y0, x1, y1 = _box_pixels(box, width, height)
        mx0, mx1, my0, my1 = MOUTH_REGION
        bw, bh = x1 - x0, y1 - y0
        mouth = frame[_span(y0, bh, my0, my1, height), _span(x0, bw, mx0, mx1, width)]
        grey = cv2.cvtColor(np.ascontiguousarray(mouth), cv2.COLOR_RGB2GRAY)
        patch = cv2.resize(grey, MOUTH_PATCH_SIZE, interpolation=cv2.INTER_AREA)
        patch = patch.astype(np.float32) / 255.0

        c0, r0, c1, r1 = region
        crop = np.ascontiguousarray(frame[r0:r1, c0:c1])
        if crop.shape[0] < 8 or crop.shape[1] < 8:
            return MouthSample(None, patch)
        scale = CROP_PIXELS / max(crop.shape[:2])
        crop = cv2.resize(
            crop,
            (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
            interpolation=cv2.INTER_LINEAR,
        )
        result = self._mesh.process(crop)
        if not result.multi_face_landmarks:
            return MouthSample(None, patch)
        marks = result.multi_face_landmarks[0].landmark
        ch, cw = crop.shape[:2]

        def point(i: int) -> np.ndarray:
            return np.array([marks[i].x * cw, marks[i].y * ch])

        face_height = float(np.linalg.norm(point(FOREHEAD) - point(CHIN)))
        if face_height <= 0.0:
            return MouthSample(None, patch)
        gap = float(np.linalg.norm(point(UPPER_LIP) - point(LOWER_LIP)))
        return MouthSample(gap / face_height, patch)


def _box_pixels(box: FaceBox, width: int, height: int) -> tuple[int, int, int, int]:
    """``box`` (frame fractions) as pixels ``(x0, y0, x1, y1)``, at least one pixel wide."""
    x0 = round(box.x * width)
    y0 = round(box.y * height)
    return (
        x0,
        y0,
        max(x0 + 1, round((box.x + box.width) * width)),
        max(y0 + 1, round((box.y + box.height) * height)),
    )


def _crop_region(shape: tuple[int, ...], box: FaceBox) -> tuple[int, int, int, int]:
    """The square around ``box`` given to FaceMesh, ``CROP_SCALE`` times its longer side,
    clipped to the frame: pixels ``(x0, y0, x1, y1)``."""
    height, width = shape[:2]
    x0, y0, x1, y1 = _box_pixels(box, width, height)
    side = max(x1 - x0, y1 - y0) * CROP_SCALE
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (
        max(0, int(cx - side / 2)),
        max(0, int(cy - side / 2)),
        min(width, int(cx + side / 2)),
        min(height, int(cy + side / 2)),
    )


def _span(start: int, length: int, lo: float, hi: float, limit: int) -> slice:
    """Pixels ``lo..hi`` (fractions of ``length`` from ``start``), at least one, inside 0..limit."""
    first = min(limit - 1, max(0, start + int(lo * length)))
    return slice(first, min(limit, max(first + 1, start + int(hi * length))))


def voice_energy_db(
    audio: np.ndarray, audio_start_ms: int, times_ms: Sequence[int], sample_rate: int
) -> np.ndarray:
    """RMS level (dB re full scale) of ``audio`` around each time in ``times_ms``.

    Each frame owns the audio between the midpoints to its neighbours (the
    first and last extend by half a step). ``audio`` is mono float, sample 0 at
    ``audio_start_ms``. Frames with no audio get ``SILENCE_DB``.
    """
    samples = check_audio(audio)
    times = [int(t) for t in times_ms]
    if not times:
        return np.zeros(0)
    if len(times) == 1:
        bounds = [times[0] - ACTIVITY_STEP_MS // 2, times[0] + ACTIVITY_STEP_MS // 2]
    else:
        mids = [(a + b) // 2 for a, b in itertools.pairwise(times)]
        bounds = [2 * times[0] - mids[0], *mids, 2 * times[-1] - mids[-1]]
    levels = np.full(len(times), SILENCE_DB)
    for i in range(len(times)):
        lo = ms_to_samples(bounds[i] - audio_start_ms, sample_rate, "floor")
        hi = ms_to_samples(bounds[i + 1] - audio_start_ms, sample_rate, "ceil")
        chunk = samples[max(0, lo) : max(0, min(len(samples), hi))]
        if chunk.size:
            power = float(np.mean(np.square(chunk, dtype=np.float64)))
            levels[i] = max(SILENCE_DB, 10.0 * math.log10(power)) if power > 0 else SILENCE_DB
    return levels


def check_audio(audio: Any) -> np.ndarray:
    """``audio`` as a 1-D float array, or a ``MediaError``."""
    if not isinstance(audio, np.ndarray) or audio.ndim != 1 or audio.dtype.kind != "f":
        shape = getattr(audio, "shape", None)
        dtype = getattr(audio, "dtype", type(audio).__name__)
        raise MediaError(f"audio must be a 1-D float array (mono), got shape {shape} {dtype}")
    return audio


def patch_change(a: np.ndarray, b: np.ndarray, max_shift: int = PATCH_MAX_SHIFT) -> float:
    """Mean absolute grey-level change from patch ``a`` to ``b`` (0..1), at the best
    shift of up to ``max_shift`` pixels, so box jitter is not counted as mouth motion."""
    height, width = b.shape
    core = b[max_shift : height - max_shift, max_shift : width - max_shift]
    # every placement of a core-sized window inside ``a``: (2s+1, 2s+1, h, w)
    windows = np.lib.stride_tricks.sliding_window_view(a, core.shape)
    return float(np.abs(windows - core).mean(axis=(2, 3)).min())


def mouth_activity(values: np.ndarray, times_ms: Sequence[int]) -> np.ndarray:
    """Change of ``values`` to the neighbouring frames (mean of both sides), per 200 ms.

    ``values`` holds one opening per frame (1-D: absolute difference) or one grey
    patch per frame (3-D: ``patch_change``).
    """
    n = len(values)
    if n < 2:
        return np.zeros(n)
    times = np.asarray(times_ms, dtype=np.float64)
    steps = np.diff(times)
    if np.any(steps <= 0):
        raise ValueError("frame times must be strictly increasing")
    if values.ndim == 1:
        change = np.abs(np.diff(values.astype(np.float64)))
    else:
        change = np.array([patch_change(values[i], values[i + 1]) for i in range(n - 1)])
    per_step = change * (ACTIVITY_STEP_MS / steps)
    activity = np.empty(n)
    activity[0] = per_step[0]
    activity[-1] = per_step[-1]
    activity[1:-1] = (per_step[:-1] + per_step[1:]) / 2
    return activity


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = float(np.std(values))
    return (values - float(np.mean(values))) / spread if spread > 0.0 else np.zeros_like(values)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or float(np.std(a)) == 0.0 or float(np.std(b)) == 0.0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def speaking_score(
    times_ms: Sequence[int],
    samples: Sequence[MouthSample],
    audio: np.ndarray,
    audio_start_ms: int,
    sample_rate: int = 16_000,
    config: FaceConfig | None = None,
) -> SpeakingScore:
    """The speaking score of one face from its per-frame ``samples`` (see module doc).

    ``times_ms`` are the frame times (strictly increasing), ``audio`` mono float
    samples at ``sample_rate`` Hz whose sample 0 is at ``audio_start_ms``.
    """
    config = config if config is not None else FaceConfig()
    if len(times_ms) != len(samples):
        raise ValueError("one mouth sample per frame time is needed")
    energy = voice_energy_db(audio, audio_start_ms, times_ms, sample_rate)
    n = len(samples)
    found = [i for i, s in enumerate(samples) if s.opening is not None]
    found_openings = [s.opening for s in samples if s.opening is not None]
    if n < 2:
        return SpeakingScore(0.0, math.nan, 0.0, "none", n, len(found), False)
    loud = float(np.percentile(energy, 95))
    voiced = (energy >= config.voice_floor_dbfs) & (energy >= loud - config.voice_range_db)
    method: SpeakingMethod
    pixel_activity = mouth_activity(np.stack([s.patch for s in samples]), times_ms)
    if len(found) >= max(2, math.ceil(config.speaking_min_landmark_fraction * n)):
        method = "landmarks"
        times = np.asarray(times_ms, dtype=np.float64)
        openings = np.interp(times, times[found], found_openings)
        activity = mouth_activity(openings, times_ms)
        # Two noisy views of one mouth: their standardised sum follows the voice
        # better than either alone (see the module doc).
        motion = _standardise(activity) + _standardise(pixel_activity)
        still_threshold = config.speaking_still_threshold
    else:
        method = "pixels"
        activity = motion = pixel_activity
        still_threshold = config.speaking_pixel_still_threshold
    voiced_fraction = float(np.mean(voiced))
    active = float(np.median(activity[voiced] if voiced.any() else activity))
    return SpeakingScore(
        score=_pearson(motion, energy),
        mouth_activity=active,
        voiced_fraction=voiced_fraction,
        method=method,
        frames=n,
        landmark_frames=len(found),
        clear_non_speaker=bool(
            voiced_fraction >= config.speaking_min_voiced_fraction and active < still_threshold
        ),
    )


def score_track(
    meter: MouthMeter,
    track: FaceTrack,
    frames: Mapping[int, np.ndarray],
    audio: np.ndarray,
    audio_start_ms: int,
    sample_rate: int = 16_000,
    config: FaceConfig | None = None,
) -> SpeakingScore:
    """Speaking score of ``track`` over the sampled ``frames`` (time_ms -> RGB).

    Frames from the track's first to last detection are used; in its gaps the
    box is interpolated (``FaceTrack.box_at``).
    """
    times = sorted(t for t in frames if track.start_ms <= t <= track.end_ms)
    samples = meter.measure_track([(frames[t], track.box_at(t)) for t in times])
    return speaking_score(times, samples, audio, audio_start_ms, sample_rate, config)


def pick_speaker(scores: Sequence[SpeakingScore]) -> int | None:
    """Index of the face that speaks: the highest ``score`` among the faces that
    are not clear non-speakers (ties: more mouth activity); ``None`` if none."""
    candidates = [i for i, s in enumerate(scores) if not s.clear_non_speaker]
    if not candidates:
        return None
    return max(candidates, key=lambda i: (scores[i].score, scores[i].mouth_activity, -i))
