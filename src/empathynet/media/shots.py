"""Shot cuts inside a window, from the frames the window decoder already produced.

The measure is PySceneDetect's ``ContentDetector`` score — the mean absolute
difference of hue, saturation and value between consecutive frames, on a 0-255
scale (hue 0-179 as in OpenCV, compared on the colour circle) — and the decision
is its ``AdaptiveDetector`` rule: a frame starts a new shot when its score is at
least ``adaptive_threshold`` times the mean score of its neighbours (so steady
camera motion, which raises every score, does not count as a cut) and at least
``min_content``. A frame with no neighbours to compare with is judged by
``content_threshold`` alone.

Feed every decoded frame (downscaled: ``ShotConfig.width`` pixels wide is plenty)
so a cut is placed on the exact frame; gradual transitions (fades, dissolves)
are not detected.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import cv2
import numpy as np

from empathynet.config import ShotConfig
from empathynet.media.decode import DecodedFrame
from empathynet.timeline import ms_to_seconds, seconds_to_ms

FloatArray = np.ndarray[Any, np.dtype[np.float32]]

#: ``screened_cuts``: consecutive samples changing less than this fraction of
#: ``min_content`` have no cut between them.
SCREEN_FRACTION = 0.5


@dataclass(frozen=True)
class ShotCut:
    """A cut: the first frame of a new shot appears at ``time``."""

    time: Fraction  #: media seconds
    score: float  #: content score of the change (0-255)
    ratio: float  #: score / neighbours' mean score (``math.inf`` when they are all 0)

    @property
    def time_ms(self) -> int:
        """``time`` rounded to integer ms."""
        return seconds_to_ms(self.time)


def rgb_to_hsv(rgb: np.ndarray[Any, Any]) -> FloatArray:
    """``(h, w, 3)`` uint8 RGB -> float32 HSV with OpenCV's 8-bit ranges:
    H in [0, 180), S and V in [0, 255] (OpenCV's own conversion, as PySceneDetect uses;
    a tenth of the cost of the same formula in numpy)."""
    hsv: np.ndarray[Any, Any] = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)
    return hsv.astype(np.float32)


def content_score(hsv_before: FloatArray, hsv_after: FloatArray) -> float:
    """Mean absolute difference of H, S and V between two frames (0-255 scale);
    hue differences are taken around the colour circle."""
    difference = np.abs(hsv_after - hsv_before)
    hue = difference[..., 0]
    difference[..., 0] = np.minimum(hue, 180 - hue)
    return float(difference.mean())


class ShotDetector:
    """Collect frame-to-frame scores of one window, then find its cuts."""

    def __init__(self, config: ShotConfig | None = None) -> None:
        self.config = config or ShotConfig()
        self._previous: FloatArray | None = None
        #: ``(start, score)`` per frame after the first: the change into that frame.
        self.scores: list[tuple[Fraction, float]] = []

    def add(self, start: Fraction, rgb: np.ndarray[Any, Any]) -> None:
        """Add the next frame (display order): its start in media seconds and its pixels
        (``(h, w, 3)`` uint8 RGB, the same size for every frame)."""
        hsv = rgb_to_hsv(rgb)
        if self._previous is not None:
            if hsv.shape != self._previous.shape:
                raise ValueError(f"frame size changed from {self._previous.shape} to {hsv.shape}")
            self.scores.append((start, content_score(self._previous, hsv)))
        self._previous = hsv

    def add_frame(self, decoded: DecodedFrame) -> None:
        """Add a decoded frame, converted at ``config.width`` pixels wide."""
        # Fast bilinear scaling costs a third of the default here; cut scores (65-80 at
        # real cuts, under 6 inside shots on the test material) do not move.
        rgb = decoded.to_rgb(width=self.config.width, interpolation="FAST_BILINEAR")
        self.add(decoded.start, rgb)

    def cuts(self) -> list[ShotCut]:
        """The cuts among the frames added so far, in time order."""
        return _find_cuts(self.scores, range(len(self.scores)), self.config)


def _find_cuts(
    scores: Sequence[tuple[Fraction, float] | None], candidates: Iterable[int], config: ShotConfig
) -> list[ShotCut]:
    """The cuts among ``candidates`` (indices in ``scores``, ascending), by the adaptive rule.

    ``scores[j]`` is ``(start, score)`` of the change into frame ``j + 1``; ``None`` where
    it was not measured, which must not be a candidate's neighbour."""
    found: list[ShotCut] = []
    for index in candidates:
        entry = scores[index]
        assert entry is not None
        start, score = entry
        if score < config.min_content:
            continue
        lo = max(0, index - config.window_frames)
        around = [*scores[lo:index], *scores[index + 1 : index + 1 + config.window_frames]]
        neighbours = [value for _, value in cast(list[tuple[Fraction, float]], around)]
        if not neighbours:
            if score >= config.content_threshold:
                found.append(ShotCut(start, score, math.inf))
            continue
        mean = sum(neighbours) / len(neighbours)
        ratio = score / mean if mean > 0 else math.inf
        if ratio >= config.adaptive_threshold:
            found.append(ShotCut(start, score, ratio))
    return _keep_strongest(found, Fraction(config.min_shot_ms, 1000))


def detect_cuts(frames: Iterable[DecodedFrame], config: ShotConfig | None = None) -> list[ShotCut]:
    """Cuts among ``frames`` (every decoded frame of a window, in display order)."""
    detector = ShotDetector(config)
    for decoded in frames:
        detector.add_frame(decoded)
    return detector.cuts()


def screened_cuts(
    frames: Sequence[DecodedFrame],
    samples: Sequence[tuple[int, np.ndarray[Any, Any]]],
    config: ShotConfig | None = None,
) -> list[ShotCut]:
    """The cuts ``detect_cuts`` finds among ``frames``, with every frame scored only where
    the picture changes between ``samples``.

    ``samples``: ``(time_ms, RGB)`` pictures of the same window at a lower rate (the frames
    sampled for face detection, any one size), in time order. Between two consecutive
    samples whose content score is below ``SCREEN_FRACTION`` of ``min_content`` there is
    no cut (the pictures on either side of a cut differ at least as much as the two frames
    at it, less motion: on the test material cuts score 65-80 between samples as between
    frames, shots under 6); only the spans between changing samples, before the first and
    after the last are scored frame by frame, with ``window_frames`` of neighbours either
    side so the adaptive rule sees what it sees in a full pass. Same result as
    ``detect_cuts``, at a fifth of the cost on a window without cuts.
    """
    config = config or ShotConfig()
    count = len(frames)
    if count < 3 or len(samples) < 2:
        return detect_cuts(frames, config)
    ends = [frame.end for frame in frames]
    # the frame on screen at each sample time
    positions = [
        min(count - 1, bisect.bisect_right(ends, ms_to_seconds(time_ms))) for time_ms, _ in samples
    ]
    pictures = [rgb_to_hsv(rgb) for _, rgb in samples]
    # Candidate cut frames (first frames of a new shot), as spans of frame indices.
    spans = [(1, positions[0]), (positions[-1] + 1, count - 1)]
    for k in range(len(samples) - 1):
        if content_score(pictures[k], pictures[k + 1]) >= SCREEN_FRACTION * config.min_content:
            spans.append((positions[k] + 1, positions[k + 1]))
    spans = [(lo, hi) for lo, hi in spans if lo <= hi]
    margin = config.window_frames
    # Frames to convert: each span with its neighbours' frames (a score needs the frame
    # before), merged where they meet.
    ranges: list[list[int]] = []
    for lo, hi in sorted(
        (max(0, lo - margin - 1), min(count - 1, hi + margin)) for lo, hi in spans
    ):
        if ranges and lo <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], hi)
        else:
            ranges.append([lo, hi])
    scores: list[tuple[Fraction, float] | None] = [None] * (count - 1)
    for lo, hi in ranges:
        detector = ShotDetector(config)
        for index in range(lo, hi + 1):
            detector.add_frame(frames[index])
        scores[lo:hi] = detector.scores
    candidates = sorted({j - 1 for lo, hi in spans for j in range(lo, hi + 1)})
    return _find_cuts(scores, candidates, config)


def _keep_strongest(cuts: list[ShotCut], min_gap: Fraction) -> list[ShotCut]:
    kept: list[ShotCut] = []
    for cut in cuts:
        if kept and cut.time - kept[-1].time < min_gap:
            if cut.score > kept[-1].score:
                kept[-1] = cut
            continue
        kept.append(cut)
    return kept
