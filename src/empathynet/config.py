"""Typed configuration, read the same way by the Python API and the command line.

Each part of the flow has one frozen dataclass of options with documented units.
``from_mapping`` builds one from a plain mapping (a YAML file, CLI options) and
rejects unknown keys and wrong types with a ``ConfigError`` naming the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from empathynet.errors import ConfigError

C = TypeVar("C")


@dataclass(frozen=True)
class SubtitleConfig:
    """How subtitle events become whole-sentence utterances.

    Times are integer milliseconds.
    """

    #: Largest silence between two events that may still continue one sentence.
    merge_gap_ms: int = 3000
    #: A merged sentence never grows beyond this; longer runs are kept as separate utterances.
    max_sentence_ms: int = 30_000
    #: Events longer than this are absurd (a subtitle on screen for > 10 minutes) and dropped.
    max_event_ms: int = 600_000
    #: Events starting after this are absurd (beyond a 24-hour programme) and dropped.
    max_time_ms: int = 24 * 3_600_000
    #: Overlaps up to this long are trimmed silently-but-counted; longer ones are reported.
    overlap_tolerance_ms: int = 200
    #: Keep utterances that are only a sound tag (no words) as non-verbal cues.
    keep_nonverbal_only: bool = False


@dataclass(frozen=True)
class FaceConfig:
    """How faces are detected, tracked, sized and checked for speaking.

    Sizes are fractions of the displayed frame (0..1); times are integer ms.
    """

    #: Registered face detector: ``mediapipe`` (short-range model, default),
    #: ``mediapipe_full`` (full-range model, finds small faces) or ``haar`` (OpenCV).
    detector: str = "mediapipe"
    #: Detections with a lower detector score (0..1) are dropped.
    min_score: float = 0.5
    #: Detector run again on a window where ``detector`` found no face, to tell a
    #: small face (``face_too_small``) from none (``no_face``); the short-range model
    #: does not see faces under ~12 % of the frame width. ``None`` skips the second look.
    small_face_detector: str | None = "mediapipe_full"
    #: Score the second look needs: the full-range model scores real small faces 0.9+
    #: but finds "faces" in colour bars and crowds at 0.6-0.65.
    small_face_min_score: float = 0.75
    #: Across a shot cut inside a sentence, the face before and after must look alike
    #: (hue-saturation histogram and grey-level correlation of the face box, -1..1) to
    #: count as the same face; on real photos different people measured -0.47..0.45, one
    #: photo at two sizes 0.60, re-encoded 0.97; a box 5 % off drops it to about 0.5
    #: (tests/pipeline/test_pipeline_face_similarity.py).
    same_face_similarity: float = 0.5
    #: Frames sampled per second of each window for detection (at least 5).
    sample_fps: int = 5
    #: Frames wider than this (pixels) are downscaled before detection.
    detection_width: int = 320
    #: A face is large when its size (by ``size_measure``) is at least this fraction.
    large_fraction: float = 0.20
    #: ``dims`` (width and height both ≥ fraction), ``height`` or ``area``.
    size_measure: str = "dims"
    #: Smallest IoU that links a detection to a track.
    iou_threshold: float = 0.3
    #: Missed detections in a row a track survives without being split.
    max_gap_frames: int = 2
    #: A face track must be present in at least this fraction of sampled frames.
    min_track_coverage: float = 0.9
    #: Compute the speaking score (mouth motion vs voice energy).
    speaking: bool = True
    #: Median mouth-opening change per 200 ms (fraction of the face height) while the
    #: voice is active, below which a mouth counts as still (see faces/speaking.py).
    speaking_still_threshold: float = 0.003
    #: Median mouth-region grey-level change per 200 ms (0..1) below which a mouth
    #: counts as still, used when face landmarks are missing.
    speaking_pixel_still_threshold: float = 0.002
    #: A face is a clear non-speaker only if the voice is active in at least this
    #: fraction of sampled frames while its mouth is still.
    speaking_min_voiced_fraction: float = 0.5
    #: Audio quieter than this (dB relative to full scale) is never voice.
    voice_floor_dbfs: float = -45.0
    #: Audio more than this many dB below the window's loud level is not voice.
    voice_range_db: float = 20.0
    #: Landmarks must be found on at least this fraction of frames, else the
    #: speaking score uses mouth-region pixel motion.
    speaking_min_landmark_fraction: float = 0.67
    #: Check that the voice is in sync with the face's mouth and reject the cue as
    #: ``out_of_sync`` when it is not (faces/sync.py).
    sync: bool = True
    #: Audio offsets tried, ms either way (the cue stage reads this much audio margin).
    sync_search_ms: int = 1000
    #: Offsets within this many ms of 0 count as in sync (two frames at 25 fps).
    sync_max_offset_ms: int = 80
    #: Correlation of mouth darkness and voice level within ``sync_max_offset_ms``
    #: below which the face does not follow the voice (-1..1). Measured on 11 real
    #: speech spans: in sync -0.13..0.53 (median 0.32; -0.11 in the real-movie test);
    #: another clip's voice -0.40..0.60 (median 0.12).
    sync_min_score: float = -0.2
    #: An offset beyond ``sync_max_offset_ms`` rejects only if its correlation beats
    #: the best one near 0 by at least this much (real in-sync spans: up to 0.44).
    sync_min_margin: float = 0.5
    #: Fewer video frames in the sentence: sync is not measured.
    sync_min_frames: int = 10

    def __post_init__(self) -> None:
        def bad(key: str, rule: str, value: object) -> ConfigError:
            return ConfigError(f"FaceConfig.{key} {rule}, got {value!r}")

        if self.sample_fps < 5:
            raise bad("sample_fps", "must be at least 5", self.sample_fps)
        if self.detection_width < 32:
            raise bad("detection_width", "must be at least 32 pixels", self.detection_width)
        if self.size_measure not in ("dims", "height", "area"):
            raise bad("size_measure", "must be dims, height or area", self.size_measure)
        if self.max_gap_frames < 0:
            raise bad("max_gap_frames", "must be 0 or more", self.max_gap_frames)
        for key in ("min_score", "min_track_coverage"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise bad(key, "must be in [0, 1]", getattr(self, key))
        for key in ("large_fraction", "iou_threshold", "speaking_min_voiced_fraction"):
            if not 0.0 < getattr(self, key) <= 1.0:
                raise bad(key, "must be in (0, 1]", getattr(self, key))
        if not 0.0 <= self.speaking_min_landmark_fraction <= 1.0:
            raise bad(
                "speaking_min_landmark_fraction",
                "must be in [0, 1]",
                self.speaking_min_landmark_fraction,
            )
        for key in ("speaking_still_threshold", "speaking_pixel_still_threshold"):
            if getattr(self, key) < 0.0:
                raise bad(key, "must be 0 or more", getattr(self, key))
        if self.voice_range_db <= 0.0:
            raise bad("voice_range_db", "must be positive", self.voice_range_db)
        if not 0 <= self.sync_max_offset_ms <= self.sync_search_ms:
            raise bad(
                "sync_max_offset_ms", "must be in [0, sync_search_ms]", self.sync_max_offset_ms
            )
        if self.sync_min_frames < 3:
            raise bad("sync_min_frames", "must be at least 3", self.sync_min_frames)


@dataclass(frozen=True)
class ShotConfig:
    """Options of the shot-cut detector (scores are on a 0-255 scale)."""

    #: A frame's score must be this many times its neighbours' mean score.
    adaptive_threshold: float = 3.0
    #: ... and at least this high.
    min_content: float = 15.0
    #: Neighbours on each side used for the mean.
    window_frames: int = 2
    #: The score that makes a cut on its own when a frame has no neighbours.
    content_threshold: float = 27.0
    #: Of two cuts closer than this (ms) only the stronger is kept (flashes, flicker).
    min_shot_ms: int = 250
    #: Width in pixels of the frames the scores are measured on.
    width: int = 128


@dataclass(frozen=True)
class SelectConfig:
    """Which utterances become cue groups. Times are integer ms."""

    #: Shorter sentences are rejected as ``too_short``.
    min_duration_ms: int = 500
    #: Longer sentences are rejected as ``too_long``.
    max_duration_ms: int = 20_000
    #: Reject the turns of dialogue events (``dialogue``): two speakers share one time span.
    reject_dialogue: bool = True
    #: Reject utterances on screen together with another subtitle (``overlap``).
    reject_overlap: bool = True
    #: Reject a face whose mouth is still while the voice is active (``not_speaking``).
    reject_non_speakers: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.min_duration_ms < self.max_duration_ms:
            raise ConfigError(
                "SelectConfig needs 0 < min_duration_ms < max_duration_ms, got "
                f"{self.min_duration_ms} and {self.max_duration_ms}"
            )


@dataclass(frozen=True)
class ExtractConfig:
    """What is cut out of each accepted utterance."""

    #: Stills (and face crops) at equal intervals inside the sentence.
    stills: int = 5
    #: Side of the square face crops and of the face clip, pixels.
    face_size: int = 224
    #: The face crop's side is the face box's larger side times this (room for hair, chin).
    face_margin: float = 1.6
    #: Also encode the full-frame clip (``clip.mp4``); off by default, as it costs more
    #: than the rest of the build together (see benchmarks/build_speed.py).
    full_clip: bool = False
    #: Full-frame clips wider than this are downscaled (pixels; ``None``: source size).
    full_clip_width: int | None = None
    #: H.264 constant rate factor of the clips (lower is better quality, bigger files).
    crf: int = 23
    #: x264 preset of the clips: ``superfast`` encodes a 224x224 face clip in 0.54 ms a
    #: frame against 0.81 ms for ``veryfast``, for files twice as big (~12 kB a second).
    preset: str = "superfast"
    #: JPEG quality of stills and face crops (1-95).
    jpeg_quality: int = 90
    #: Sample rate of the audio cut (Hz, mono).
    audio_rate: int = 16_000

    def __post_init__(self) -> None:
        if self.stills < 1:
            raise ConfigError(f"ExtractConfig.stills must be at least 1, got {self.stills}")
        if self.face_size < 16 or self.face_size % 2:
            raise ConfigError(
                f"ExtractConfig.face_size must be an even number >= 16, got {self.face_size}"
            )
        if not 1 <= self.jpeg_quality <= 95:
            raise ConfigError(
                f"ExtractConfig.jpeg_quality must be in 1..95, got {self.jpeg_quality}"
            )


@dataclass(frozen=True)
class BlurConfig:
    """How audio cues are made unintelligible (see ``empathynet.blur``).

    Frequencies in Hz, times in ms, levels in dB; amplitudes are fractions of full scale.
    """

    #: Registered blur method: ``resynth`` (prosody resynthesis, default), ``lowpass`` or
    #: ``splice`` (random splicing).
    method: str = "resynth"
    #: F0 search range of the pitch analysis (Praat's pitch floor and ceiling).
    f0_min_hz: float = 75.0
    #: Upper end of the F0 search range.
    f0_max_hz: float = 500.0
    #: Time step of the pitch analysis, ms.
    frame_ms: int = 10
    #: Width of the loudness-envelope window, ms: shorter follows faster changes
    #: (more of the syllable rhythm, but also more consonant detail).
    envelope_ms: int = 25
    #: Centre of the one fixed broad formant shaping the resynthesised voice and noise.
    formant_hz: float = 500.0
    #: Bandwidth (between the half-power points) of that formant.
    formant_bandwidth_hz: float = 600.0
    #: Harmonics above this frequency are left out of the resynthesised voice.
    max_harmonic_hz: float = 2000.0
    #: Band of the noise that replaces unvoiced sound (lower and upper edges).
    noise_low_hz: float = 100.0
    #: Upper edge of that band.
    noise_high_hz: float = 1000.0
    #: Seed of the noise generator: the same input always gives the same output.
    seed: int = 0
    #: Cut-off (-6 dB point) of the ``lowpass`` method.
    lowpass_cutoff_hz: float = 400.0
    #: Width of the ``lowpass`` filter's transition band (steeper needs more taps).
    lowpass_transition_hz: float = 100.0
    #: Stop-band attenuation of the ``lowpass`` filter, dB.
    lowpass_attenuation_db: float = 80.0
    #: Shortest segment of the ``splice`` method, ms (lengths drawn uniformly, by ``seed``).
    splice_min_ms: int = 100
    #: Longest segment of the ``splice`` method, ms.
    splice_max_ms: int = 250
    #: Equal-power cross-fade between spliced segments, ms.
    splice_crossfade_ms: int = 10
    #: ``splice`` shuffles only speech: frames within this many dB of the cue's loudest
    #: frame; quieter stretches (pauses) stay where they are.
    splice_speech_db: float = 40.0
    #: Output louder than this (absolute sample value) is scaled down as a whole.
    peak_limit: float = 0.99

    def __post_init__(self) -> None:
        def bad(key: str, rule: str, value: object) -> ConfigError:
            return ConfigError(f"BlurConfig.{key} {rule}, got {value!r}")

        if not 0.0 < self.f0_min_hz < self.f0_max_hz:
            raise bad("f0_min_hz", "must be positive and below f0_max_hz", self.f0_min_hz)
        if self.frame_ms < 1:
            raise bad("frame_ms", "must be at least 1", self.frame_ms)
        if self.envelope_ms < 2:
            raise bad("envelope_ms", "must be at least 2", self.envelope_ms)
        for key in (
            "formant_hz",
            "formant_bandwidth_hz",
            "max_harmonic_hz",
            "lowpass_cutoff_hz",
            "lowpass_transition_hz",
        ):
            if getattr(self, key) <= 0.0:
                raise bad(key, "must be positive", getattr(self, key))
        if not 0.0 < self.noise_low_hz < self.noise_high_hz:
            raise bad("noise_low_hz", "must be positive and below noise_high_hz", self.noise_low_hz)
        if self.lowpass_attenuation_db < 21.0:
            raise bad("lowpass_attenuation_db", "must be at least 21", self.lowpass_attenuation_db)
        if not 0.0 < self.peak_limit <= 1.0:
            raise bad("peak_limit", "must be in (0, 1]", self.peak_limit)
        if not 2 * self.splice_crossfade_ms < self.splice_min_ms <= self.splice_max_ms:
            raise bad(
                "splice_min_ms",
                "must exceed twice splice_crossfade_ms and not exceed splice_max_ms",
                self.splice_min_ms,
            )
        if self.splice_crossfade_ms < 1:
            raise bad("splice_crossfade_ms", "must be at least 1", self.splice_crossfade_ms)
        if self.splice_speech_db <= 0.0:
            raise bad("splice_speech_db", "must be positive", self.splice_speech_db)


TRANSCRIBE_MODES: tuple[str, ...] = ("missing", "always", "never")


@dataclass(frozen=True)
class TranscribeConfig:
    """Speech recognition for sources without subtitles (``pipeline/transcribe.py``)."""

    #: ``missing``: transcribe sources that have no subtitles (no sidecar, no embedded
    #: text stream); ``always``: ignore subtitles and transcribe every source; ``never``
    mode: str = "missing"
    #: a CTranslate2 Whisper model folder (a multilingual one for other languages); None:
    #: the bundled English tiny model (extra asr)
    model: str | None = None
    #: the spoken language (ISO 639-1) when known; None: the model's guess
    language: str | None = None
    #: a sentence whose mean word probability is below this is rejected ``low_confidence``
    min_confidence: float = 0.5
    #: a pause between words this long ends a sentence even without punctuation
    max_pause_ms: int = 800
    #: Silero voice activity detection before recognition (skips silences and music)
    vad: bool = True
    beam_size: int = 1
    #: compare subtitle sentences with the recogniser's speech: report offset and drift
    check_timing: bool = False
    #: with check_timing: shift the subtitles by the constant offset found (when clear)
    correct_offset: bool = False

    def __post_init__(self) -> None:
        if self.mode not in TRANSCRIBE_MODES:
            raise ConfigError(
                f"transcribe.mode must be one of {', '.join(TRANSCRIBE_MODES)}, got {self.mode!r}"
            )
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ConfigError(
                f"transcribe.min_confidence must be in [0, 1], got {self.min_confidence!r}"
            )
        if self.max_pause_ms < 100:
            raise ConfigError(f"transcribe.max_pause_ms must be >= 100, got {self.max_pause_ms}")
        if self.beam_size < 1:
            raise ConfigError(f"transcribe.beam_size must be >= 1, got {self.beam_size}")


@dataclass(frozen=True)
class EmpathyNetConfig:
    """All options, grouped by part of the flow."""

    subtitles: SubtitleConfig = field(default_factory=SubtitleConfig)
    faces: FaceConfig = field(default_factory=FaceConfig)
    shots: ShotConfig = field(default_factory=ShotConfig)
    select: SelectConfig = field(default_factory=SelectConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    blur: BlurConfig = field(default_factory=BlurConfig)
    transcribe: TranscribeConfig = field(default_factory=TranscribeConfig)
    #: Utterances per unit of work; each unit is committed as one manifest part.
    chunk_size: int = 16


def _check_type(cls_name: str, key: str, value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{cls_name}.{key} must be a mapping, got {type(value).__name__}")
        return from_mapping(annotation, value)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            if option is type(None) and value is None:
                return None
            try:
                return _check_type(cls_name, key, value, option)
            except ConfigError:
                continue
        raise ConfigError(f"{cls_name}.{key}: {value!r} does not match {annotation}")
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{cls_name}.{key} must be true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{cls_name}.{key} must be an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{cls_name}.{key} must be a number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{cls_name}.{key} must be a string, got {value!r}")
        return value
    return value


def from_mapping(cls: type[C], values: Mapping[str, Any]) -> C:
    """Build the config dataclass ``cls`` from ``values``, checking keys and types."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"unknown option(s) for {cls.__name__}: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    kwargs = {
        key: _check_type(cls.__name__, key, value, hints[key]) for key, value in values.items()
    }
    return cls(**kwargs)


def to_mapping(config: Any) -> dict[str, Any]:
    """A config dataclass -> a plain dict (for ``dataset.json`` and hashing)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"{config!r} is not a dataclass instance")
    return dataclasses.asdict(config)


#: Sections added after datasets were built: left out of the options' hash while they
#: hold their defaults, so those datasets keep their hash (and resume).
LATE_SECTIONS: dict[str, Any] = {"transcribe": TranscribeConfig()}


def hashed_mapping(config: EmpathyNetConfig) -> dict[str, Any]:
    """``to_mapping(config)`` less the late sections at their defaults (what is hashed)."""
    values = to_mapping(config)
    for name, default in LATE_SECTIONS.items():
        if getattr(config, name) == default:
            values.pop(name, None)
    return values
