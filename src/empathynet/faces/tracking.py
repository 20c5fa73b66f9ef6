"""Greedy IoU tracking of per-frame face detections into face tracks.

The frames of one window are sampled at a fixed rate (at least 5 per second);
each sampled frame gives zero or more boxes. A track links boxes of consecutive
sampled frames whose intersection-over-union with the track's predicted box is
high enough, best pairs first. The prediction moves the last box by the track's
last velocity, so two faces that cross keep their identities. A track survives
up to ``max_gap_frames`` sampled frames without a detection (a blink of the
detector), then it ends and a later detection starts a new track.

Times are integer milliseconds; boxes are fractions of the frame.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from empathynet.data.models import FaceBox
from empathynet.errors import ConfigError
from empathynet.faces.detectors import FaceDetector
from empathynet.faces.size import size_fraction
from empathynet.timeline import MS_PER_SECOND


@dataclass(frozen=True)
class FrameFaces:
    """The faces found in one sampled frame."""

    time_ms: int  #: when the frame is shown, in ms of the source
    boxes: tuple[FaceBox, ...]


def sample_times_ms(start_ms: int, end_ms: int, sample_fps: int) -> list[int]:
    """Times (ms) to sample in ``[start_ms, end_ms)`` at ``sample_fps`` per second.

    The k-th time is ``start_ms + floor(k * 1000 / sample_fps)``, computed in
    integers so it never drifts. An empty window gives an empty list.
    """
    if sample_fps <= 0:
        raise ConfigError(f"sample rate must be positive, got {sample_fps} frames per second")
    times: list[int] = []
    k = 0
    while True:
        time_ms = start_ms + (k * MS_PER_SECOND) // sample_fps
        if time_ms >= end_ms:
            return times
        times.append(time_ms)
        k += 1


def detect_frames(
    detector: FaceDetector, frames: Iterable[tuple[int, np.ndarray]]
) -> list[FrameFaces]:
    """Run ``detector`` on ``(time_ms, rgb)`` frames, in order."""
    return [FrameFaces(time_ms, tuple(detector.detect(rgb))) for time_ms, rgb in frames]


def iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes (0..1)."""
    overlap_w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    overlap_h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    if overlap_w <= 0.0 or overlap_h <= 0.0:
        return 0.0
    inter = overlap_w * overlap_h
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0.0 else 0.0


@dataclass(frozen=True)
class FaceTrack:
    """One face followed over the sampled frames of a window.

    ``times_ms`` and ``boxes`` hold the frames where the face was detected;
    ``sampled_frames`` is how many frames the window had, so ``coverage`` is
    the fraction of the window the face was seen in.
    """

    track_id: int
    times_ms: tuple[int, ...]
    boxes: tuple[FaceBox, ...]
    sampled_frames: int

    def __post_init__(self) -> None:
        if not self.boxes or len(self.boxes) != len(self.times_ms):
            raise ValueError("a face track needs one time per box and at least one box")
        if self.sampled_frames < len(self.boxes):
            raise ValueError("a face track cannot have more boxes than sampled frames")

    @property
    def start_ms(self) -> int:
        return self.times_ms[0]

    @property
    def end_ms(self) -> int:
        """Time of the last detection, ms."""
        return self.times_ms[-1]

    @property
    def coverage(self) -> float:
        """Fraction of the window's sampled frames in which this face was detected."""
        return len(self.boxes) / self.sampled_frames

    @property
    def median_width(self) -> float:
        """Median box width, fraction of the frame width."""
        return statistics.median(b.width for b in self.boxes)

    @property
    def median_height(self) -> float:
        """Median box height, fraction of the frame height."""
        return statistics.median(b.height for b in self.boxes)

    @property
    def median_area(self) -> float:
        """Median box area, fraction of the frame area."""
        return statistics.median(b.area_fraction for b in self.boxes)

    @property
    def mean_score(self) -> float:
        """Mean detector score over the detections."""
        return statistics.fmean(b.score for b in self.boxes)

    def median_size(self, measure: str = "dims") -> float:
        """Median of ``size_fraction(box, measure)`` over the detections."""
        return statistics.median(size_fraction(b, measure) for b in self.boxes)

    def min_size(self, measure: str = "dims") -> float:
        """Smallest ``size_fraction(box, measure)`` over the detections."""
        return min(size_fraction(b, measure) for b in self.boxes)

    def box_at(self, time_ms: int) -> FaceBox:
        """The box at ``time_ms``: linear between the detections around it,
        the first/last box before/after the track (for stills and face crops)."""
        times = self.times_ms
        if time_ms <= times[0]:
            return self.boxes[0]
        if time_ms >= times[-1]:
            return self.boxes[-1]
        index = int(np.searchsorted(np.asarray(times), time_ms, side="right"))
        t0, t1 = times[index - 1], times[index]
        b0, b1 = self.boxes[index - 1], self.boxes[index]
        w = (time_ms - t0) / (t1 - t0)

        def mix(u: float, v: float) -> float:
            return u + (v - u) * w

        return FaceBox(
            x=mix(b0.x, b1.x),
            y=mix(b0.y, b1.y),
            width=mix(b0.width, b1.width),
            height=mix(b0.height, b1.height),
            score=mix(b0.score, b1.score),
        )


@dataclass
class _OpenTrack:
    track_id: int
    indices: list[int] = field(default_factory=list)
    times_ms: list[int] = field(default_factory=list)
    boxes: list[FaceBox] = field(default_factory=list)

    def predict(self, index: int) -> FaceBox:
        """The last box moved by the last velocity (per sampled frame) to ``index``."""
        last = self.boxes[-1]
        if len(self.boxes) < 2:
            return last
        prev = self.boxes[-2]
        steps = self.indices[-1] - self.indices[-2]
        ahead = index - self.indices[-1]
        dx = ((last.x + last.width / 2) - (prev.x + prev.width / 2)) / steps * ahead
        dy = ((last.y + last.height / 2) - (prev.y + prev.height / 2)) / steps * ahead
        return FaceBox(last.x + dx, last.y + dy, last.width, last.height, last.score)


def track_faces(
    frames: Sequence[FrameFaces], iou_threshold: float = 0.3, max_gap_frames: int = 2
) -> list[FaceTrack]:
    """Link the boxes of consecutive sampled ``frames`` into tracks.

    ``frames`` must be every sampled frame of the window in time order,
    including frames without faces (they count as gaps and in ``coverage``).
    Tracks come back in order of their first detection.
    """
    if not 0.0 < iou_threshold <= 1.0:
        raise ConfigError(f"IoU threshold must be in (0, 1], got {iou_threshold!r}")
    if max_gap_frames < 0:
        raise ConfigError(f"max gap must be 0 or more frames, got {max_gap_frames}")
    for earlier, later in itertools.pairwise(frames):
        if later.time_ms <= earlier.time_ms:
            raise ValueError(
                f"frames must be in strictly increasing time order: "
                f"{later.time_ms} ms after {earlier.time_ms} ms"
            )
    open_tracks: list[_OpenTrack] = []
    finished: list[_OpenTrack] = []
    next_id = 0
    for index, frame in enumerate(frames):
        alive = []
        for track in open_tracks:
            if index - track.indices[-1] - 1 > max_gap_frames:
                finished.append(track)
            else:
                alive.append(track)
        open_tracks = alive
        pairs = []
        for t, track in enumerate(open_tracks):
            predicted = track.predict(index)
            for d, box in enumerate(frame.boxes):
                overlap = iou(predicted, box)
                if overlap >= iou_threshold:
                    pairs.append((overlap, t, d))
        # Best overlap first; ties go to the older track, then the earlier box.
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
        used_tracks: set[int] = set()
        used_boxes: set[int] = set()
        for _, t, d in pairs:
            if t in used_tracks or d in used_boxes:
                continue
            used_tracks.add(t)
            used_boxes.add(d)
            _extend(open_tracks[t], index, frame.time_ms, frame.boxes[d])
        for d, box in enumerate(frame.boxes):
            if d not in used_boxes:
                track = _OpenTrack(next_id)
                next_id += 1
                _extend(track, index, frame.time_ms, box)
                open_tracks.append(track)
    finished.extend(open_tracks)
    finished.sort(key=lambda track: track.track_id)
    return [
        FaceTrack(
            track_id=track.track_id,
            times_ms=tuple(track.times_ms),
            boxes=tuple(track.boxes),
            sampled_frames=len(frames),
        )
        for track in finished
    ]


def _extend(track: _OpenTrack, index: int, time_ms: int, box: FaceBox) -> None:
    track.indices.append(index)
    track.times_ms.append(time_ms)
    track.boxes.append(box)
