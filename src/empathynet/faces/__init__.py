"""Faces: detectors behind a registry, face size, IoU tracking, speaking score.

Frames are RGB ``uint8`` arrays (H × W × 3) in the displayed orientation, times
are integer milliseconds, and boxes are ``FaceBox`` fractions of the frame.
"""

from empathynet.faces.detectors import (
    DETECTORS,
    FaceDetector,
    HaarDetector,
    MediapipeDetector,
    MediapipeFullRangeDetector,
    create_detector,
)
from empathynet.faces.size import SIZE_MEASURES, SizeMeasure, is_large, size_fraction
from empathynet.faces.speaking import (
    MouthMeter,
    MouthSample,
    SpeakingScore,
    pick_speaker,
    score_track,
    speaking_score,
    voice_energy_db,
)
from empathynet.faces.tracking import (
    FaceTrack,
    FrameFaces,
    detect_frames,
    iou,
    sample_times_ms,
    track_faces,
)

__all__ = [
    "DETECTORS",
    "SIZE_MEASURES",
    "FaceDetector",
    "FaceTrack",
    "FrameFaces",
    "HaarDetector",
    "MediapipeDetector",
    "MediapipeFullRangeDetector",
    "MouthMeter",
    "MouthSample",
    "SizeMeasure",
    "SpeakingScore",
    "create_detector",
    "detect_frames",
    "iou",
    "is_large",
    "pick_speaker",
    "sample_times_ms",
    "score_track",
    "size_fraction",
    "speaking_score",
    "track_faces",
    "voice_energy_db",
]
