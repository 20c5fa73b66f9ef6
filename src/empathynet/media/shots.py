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

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import cv2
import numpy as np

from empathynet.config import ShotConfig
from empathynet.media.decode import DecodedFrame
from empathynet.timeline import seconds_to_ms

FloatArray = np.ndarray[Any, np.dtype[np.float32]]


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
        config = self.config
        values = [score for _, score in self.scores]
        found: list[ShotCut] = []
        for index, (start, score) in enumerate(self.scores):
            if score < config.min_content:
                continue
            lo = max(0, index - config.window_frames)
            neighbours = values[lo:index] + values[index + 1 : index + 1 + config.window_frames]
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


def _keep_strongest(cuts: list[ShotCut], min_gap: Fraction) -> list[ShotCut]:
    kept: list[ShotCut] = []
    for cut in cuts:
        if kept and cut.time - kept[-1].time < min_gap:
            if cut.score > kept[-1].score:
                kept[-1] = cut
            continue
        kept.append(cut)
    return kept
