"""Media I/O with PyAV: probe, window decoding, exact audio, shot cuts, clip encoding.

A source is opened once per worker; each utterance window is decoded once (seek to
the keyframe before it, decode through) and the same frames serve face detection,
shot scores, stills, crops and the encoded clips. Times are integer ms on the media
axis (0 = the container start), ``Fraction`` seconds for frames, integer samples
for audio (see ``empathynet.timeline``).
"""

from empathynet.config import ShotConfig
from empathynet.media.audio import (
    DEFAULT_SAMPLE_RATE,
    AudioReader,
    read_audio,
    read_audio_windows,
    read_wav,
    write_wav,
)
from empathynet.media.decode import (
    DecodedFrame,
    WindowDecoder,
    select_frames,
    times_shown,
)
from empathynet.media.encode import (
    DEFAULT_FACE_SIZE,
    ClipSummary,
    ClipWriter,
    CropBox,
    crop_square,
    encode_clip,
    even_size,
    frame_count_between,
    square_crop_box,
    still_times,
    write_jpeg,
)
from empathynet.media.probe import (
    AudioStreamInfo,
    MediaInfo,
    VideoStreamInfo,
    content_hash,
    probe,
)
from empathynet.media.shots import ShotCut, ShotDetector, detect_cuts

__all__ = [
    "DEFAULT_FACE_SIZE",
    "DEFAULT_SAMPLE_RATE",
    "AudioReader",
    "AudioStreamInfo",
    "ClipSummary",
    "ClipWriter",
    "CropBox",
    "DecodedFrame",
    "MediaInfo",
    "ShotConfig",
    "ShotCut",
    "ShotDetector",
    "VideoStreamInfo",
    "WindowDecoder",
    "content_hash",
    "crop_square",
    "detect_cuts",
    "encode_clip",
    "even_size",
    "frame_count_between",
    "probe",
    "read_audio",
    "read_audio_windows",
    "read_wav",
    "select_frames",
    "square_crop_box",
    "still_times",
    "times_shown",
    "write_jpeg",
    "write_wav",
]
