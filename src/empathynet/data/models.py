"""The three record levels, like lhotse's Recording / Supervision / Cut.

* ``Source``: one video file.
* ``Utterance``: one whole subtitle sentence of a source.
* ``CueGroup``: what became of one utterance: accepted with its media, or
  rejected / failed with a reason. Every utterance gets exactly one row.

Records are frozen dataclasses with ``to_dict`` / ``from_dict``; they hold data,
not behaviour. Times are integer milliseconds; media paths are relative to the
dataset root.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

Status = Literal["accepted", "rejected", "failed"]
CUE_STATUSES: tuple[str, ...] = ("accepted", "rejected", "failed")

R = TypeVar("R", bound="_Record")


class _Record:
    """``to_dict`` / ``from_dict`` shared by the records (tuples <-> lists)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [v.to_dict() if isinstance(v, _Record) else v for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls: type[R], values: dict[str, Any]) -> R:
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in values:
                continue
            value = values[f.name]
            if isinstance(value, list):
                if f.name == "face_boxes":
                    value = tuple(FaceBox.from_dict(v) for v in value)
                else:
                    value = tuple(value)
            kwargs[f.name] = value
        return cls(**kwargs)


@dataclass(frozen=True)
class Source(_Record):
    """One video file and what is known about it."""

    source_id: str  #: content hash (hex), stable across renames
    path: str  #: as given by the user (absolute or relative to where the build ran)
    duration_ms: int | None = None
    fps_num: int | None = None  #: average frame rate as an exact fraction num/den
    fps_den: int | None = None
    variable_frame_rate: bool | None = None
    width: int | None = None
    height: int | None = None
    rotation: int | None = None  #: degrees clockwise the player applies
    audio_sample_rate: int | None = None
    audio_streams: int | None = None
    #: How the build's decoders move in this file, decided when it is probed: "exact"
    #: (seek to each window), "approximate" (seek, then check where the seek landed) or
    #: "decode_through" (seeking fails: read from the start, demuxing up to each window)
    seek_mode: str | None = None
    video_start_ms: int | None = None  #: media time of the first video frame (> 0: starts late)
    audio_start_ms: int | None = None  #: media time of the first audio sample
    #: the voice's offset to the faces' mouths pooled over the source's cues (ms; positive:
    #: the voice comes late), with the pooled correlation and the number of cues; set when
    #: the build ends, for sources with enough measured cues (``faces/sync.py``)
    sync_offset_ms: int | None = None
    sync_peak: float | None = None
    sync_cues: int | None = None
    subtitle_origin: str | None = None  #: "sidecar" or "embedded:<stream index>"
    subtitle_path: str | None = None
    licence: str | None = None
    attribution: str | None = None
    url: str | None = None
    title: str | None = None
    year: int | None = None
    language: str | None = None
    status: str = "ok"  #: "ok" or "failed"
    reason: str | None = None  #: the error of a failed source, one line


@dataclass(frozen=True)
class Utterance(_Record):
    """One whole subtitle sentence (or one dialogue turn), never cut."""

    start_ms: int
    end_ms: int
    text: str  #: the words, markup and sound tags removed
    nonverbal: tuple[str, ...] = ()  #: sound tags such as "laughs", "sighs", "music"
    speaker: str | None = None  #: a name the subtitles give ("JOHN: ..."), else None
    event_ids: tuple[int, ...] = ()  #: indices of the subtitle events it came from
    dialogue: bool = False  #: split from a multi-speaker event ("- Hi. - Hello.")
    source_id: str | None = None
    overlap: bool = False  #: its event is on screen together with another event

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class FaceBox(_Record):
    """A face box as fractions of the frame (0..1), with the detector's score."""

    x: float
    y: float
    width: float
    height: float
    score: float

    @property
    def area_fraction(self) -> float:
        return self.width * self.height


def make_cue_id(source_id: str, start_ms: int, ordinal: int = 0) -> str:
    """``{source_id}-{start_ms:09d}``, sortable by time and free of dots.

    ``ordinal`` tells apart utterances that start together (the turns of one dialogue
    event): the second gets ``-1``, the third ``-2``.
    """
    suffix = f"-{ordinal}" if ordinal else ""
    return f"{source_id}-{start_ms:09d}{suffix}"


@dataclass(frozen=True)
class CueGroup(_Record):
    """The outcome for one utterance: an accepted cue group or a rejected/failed row."""

    cue_id: str
    source_id: str
    start_ms: int
    end_ms: int
    text: str
    status: str  #: one of CUE_STATUSES
    reason: str | None = None  #: why rejected or failed: one code (no_face, corrupt_media, ...)
    error: str | None = None  #: the one-line error message of a failed row
    nonverbal: tuple[str, ...] = ()
    speaker: str | None = None
    event_ids: tuple[int, ...] = ()
    # face track summary
    face_boxes: tuple[FaceBox, ...] = ()  #: one per still; width, height: linear fractions
    face_area_fractions: tuple[float, ...] = ()  #: box area / frame area, one per still
    face_width_fraction: float | None = None  #: median over the track
    face_height_fraction: float | None = None
    face_area_fraction: float | None = None
    face_fraction_min: float | None = None  #: smallest size (by the configured measure)
    face_detector: str | None = None
    face_coverage: float | None = None  #: fraction of sampled frames the face was seen in
    shot_cuts: int | None = None  #: shot cuts inside the sentence (None: rejected before)
    speaking_score: float | None = None  #: mouth motion vs voice energy, Pearson r
    #: best audio offset for the face's mouth, ms; positive: the voice comes late
    sync_offset_ms: int | None = None
    sync_score: float | None = None  #: mouth vs voice correlation near offset 0 (faces/sync.py)
    #: that correlation at every offset from -1000 to 1000 ms in 10 ms steps (None: not
    #: measured), pooled per source into the source's ``sync_offset_ms``
    sync_curve: tuple[float | None, ...] | None = None
    # media, relative to the dataset root
    clip_path: str | None = None
    face_clip_path: str | None = None
    still_paths: tuple[str, ...] = ()
    face_crop_paths: tuple[str, ...] = ()
    audio_path: str | None = None
    audio_blur_path: str | None = None
    #: every media file above and its size in bytes (same order), recorded when written,
    #: so ``empathynet check`` finds a file deleted or cut short (empty: older rows)
    media_files: tuple[str, ...] = ()
    media_bytes: tuple[int, ...] = ()
    # blur and its verification (empathynet.blur.BlurFigures)
    blur_method: str | None = None
    f0_correlation: float | None = None  #: F0 (semitones) raw vs blurred, frames voiced in both
    f0_rmse_semitones: float | None = None
    intensity_correlation: float | None = None  #: loudness contours raw vs blurred
    speaking_rate_ratio: float | None = None  #: syllable nuclei blurred / raw
    raw_transcript: str | None = None  #: the speech recogniser on the raw audio (blur verify)
    blur_transcript: str | None = None  #: the speech recogniser on the blurred audio
    wer_raw: float | None = None  #: raw transcript vs subtitle text
    wer_blur: float | None = None  #: blurred transcript vs subtitle text
    wer_blur_vs_raw: float | None = None  #: blurred transcript vs raw transcript
    may_be_intelligible: bool | None = None  #: the recogniser still got words from the blur
    # attributes and labels (filled by later stages)
    gender: str | None = None
    age_band: str | None = None
    attribute_origin: str | None = None
    label: str | None = None
    split: str | None = None
    stage_versions: str | None = None  #: "name@version+confighash;..." of the stages that made it

    def __post_init__(self) -> None:
        if self.status not in CUE_STATUSES:
            raise ValueError(f"status must be one of {CUE_STATUSES}, got {self.status!r}")
        if self.status != "accepted" and not self.reason:
            raise ValueError(f"a {self.status} cue row needs a reason")
