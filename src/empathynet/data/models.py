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
    #: where its sentences come from: "sidecar", "embedded", "asr" (speech recognition),
    #: "transcript" (a text without times aligned to the speech) or "recipe"
    subtitle_origin: str | None = None
    subtitle_path: str | None = None
    #: the timing check (``transcribe.check_timing``): the shift that puts the subtitles on
    #: the speech (ms; positive: they came early), its drift over the source, the overlap
    #: correlation at the shift, and whether the subtitles were shifted by it
    timing_offset_ms: int | None = None
    timing_drift_ms_per_min: float | None = None
    timing_peak: float | None = None
    timing_corrected: bool | None = None
    sha256: str | None = None  #: SHA-256 (hex) of the whole file: what a recipe checks
    size_bytes: int | None = None
    #: where its url, licence, title... come from: "sources:<file name>" (a sources file
    #: given to the build), "info.json" (yt-dlp's NAME.info.json beside it), "recipe"
    provenance: str | None = None
    #: the person who speaks in it, when one person does (a sources file's ``speaker``):
    #: its sentences the subtitles give no name take it
    speaker: str | None = None
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
    #: where the words come from: "subtitles", "asr" (speech recognition) or "transcript"
    #: (a text without times, aligned to the speech by the recogniser)
    transcript_source: str = "subtitles"
    transcript_model: str | None = None  #: the recogniser that heard or aligned the words
    transcript_confidence: float | None = None  #: mean word probability (0-1) of the words
    low_confidence: bool = False  #: the recogniser was unsure: rejected ``low_confidence``

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
class FaceSummary(_Record):
    """The face track of a cue group: boxes and sizes as fractions of the frame."""

    boxes: tuple[FaceBox, ...] = ()  #: one per still; width, height: linear fractions
    area_fractions: tuple[float, ...] = ()  #: box area / frame area, one per still
    width_fraction: float | None = None  #: median over the track
    height_fraction: float | None = None
    area_fraction: float | None = None
    fraction_min: float | None = None  #: smallest size (by the configured measure)
    detector: str | None = None
    coverage: float | None = None  #: fraction of sampled frames the face was seen in
    #: median size by the configured measure (``faces.size_measure``): the value the
    #: large-face threshold (``faces.large_fraction``) is compared with
    size_fraction: float | None = None
    #: every face the detector found in the thumbnail's frame (``CueMedia.thumb_path``:
    #: rows a media check rejected), as fractions of the frame; empty: none or no thumbnail
    thumb_boxes: tuple[FaceBox, ...] = ()


@dataclass(frozen=True)
class SpeakerChecks(_Record):
    """Whether one person speaks, in one shot, in sync with the voice."""

    shot_cuts: int | None = None  #: shot cuts inside the sentence (None: rejected before)
    shot_cut_ms: int | None = None  #: media time (ms) of the first of them (None: no cut)
    speaking_score: float | None = None  #: mouth motion vs voice energy, Pearson r
    #: median mouth motion while the voice is active, per 200 ms (``faces/speaking.py``):
    #: below the still threshold of ``speaking_method`` (``faces.speaking_still_threshold``
    #: for landmarks, ``faces.speaking_pixel_still_threshold`` for pixels) the mouth is still
    mouth_activity: float | None = None
    #: fraction of the sampled frames with an active voice; a still mouth is rejected
    #: (``not_speaking``) only at ``faces.speaking_min_voiced_fraction`` or more
    voiced_fraction: float | None = None
    speaking_method: str | None = None  #: "landmarks", "pixels" or "none" (too few frames)
    #: best audio offset for the face's mouth, ms; positive: the voice comes late
    sync_offset_ms: int | None = None
    sync_score: float | None = None  #: mouth vs voice correlation near offset 0 (faces/sync.py)
    #: that correlation at every offset from -1000 to 1000 ms in 10 ms steps (None: not
    #: measured), pooled per source into the source's ``sync_offset_ms``
    sync_curve: tuple[float | None, ...] | None = None


@dataclass(frozen=True)
class CueMedia(_Record):
    """The cue group's files, relative to the dataset root."""

    clip_path: str | None = None
    face_clip_path: str | None = None
    still_paths: tuple[str, ...] = ()
    face_crop_paths: tuple[str, ...] = ()
    audio_path: str | None = None
    audio_blur_path: str | None = None
    #: a rejected row's picture of why (rows a media check rejected): the decoded frame
    #: nearest the sentence's middle, ~160 px wide, boxes not drawn (``face.thumb_boxes``)
    thumb_path: str | None = None
    thumb_ms: int | None = None  #: media time (ms) of the thumbnail's frame
    #: every media file above and its size in bytes (same order), recorded when written,
    #: so ``empathynet check`` finds a file deleted or cut short (empty: older rows)
    media_files: tuple[str, ...] = ()
    media_bytes: tuple[int, ...] = ()


@dataclass(frozen=True)
class BlurCheck(_Record):
    """What the blur kept of the voice (``empathynet.blur.BlurFigures``)."""

    method: str | None = None
    f0_correlation: float | None = None  #: F0 (semitones) raw vs blurred, frames voiced in both
    f0_rmse_semitones: float | None = None
    intensity_correlation: float | None = None  #: loudness contours raw vs blurred
    speaking_rate_ratio: float | None = None  #: syllable nuclei blurred / raw


@dataclass(frozen=True)
class AsrCheck(_Record):
    """The speech recogniser on the raw and the blurred voice (``blur verify``)."""

    raw_transcript: str | None = None
    blur_transcript: str | None = None
    wer_raw: float | None = None  #: raw transcript vs subtitle text
    wer_blur: float | None = None  #: blurred transcript vs subtitle text
    wer_blur_vs_raw: float | None = None  #: blurred transcript vs raw transcript
    may_be_intelligible: bool | None = None  #: the recogniser still got words from the blur


#: Per part of a ``CueGroup``: its record type and, per field, the manifest column (the
#: Parquet layout stays flat: ``CUE_SCHEMA``).
CUE_PARTS: dict[str, tuple[type[_Record], dict[str, str]]] = {
    "face": (
        FaceSummary,
        {
            "boxes": "face_boxes",
            "area_fractions": "face_area_fractions",
            "width_fraction": "face_width_fraction",
            "height_fraction": "face_height_fraction",
            "area_fraction": "face_area_fraction",
            "fraction_min": "face_fraction_min",
            "detector": "face_detector",
            "coverage": "face_coverage",
            "size_fraction": "face_size_fraction",
            "thumb_boxes": "thumb_face_boxes",
        },
    ),
    "checks": (SpeakerChecks, {f: f for f in SpeakerChecks.__dataclass_fields__}),
    "media": (CueMedia, {f: f for f in CueMedia.__dataclass_fields__}),
    "blur": (
        BlurCheck,
        {
            "method": "blur_method",
            **{f: f for f in BlurCheck.__dataclass_fields__ if f != "method"},
        },
    ),
    "asr": (AsrCheck, {f: f for f in AsrCheck.__dataclass_fields__}),
}


@dataclass(frozen=True)
class CueGroup(_Record):
    """The outcome for one utterance: an accepted cue group or a rejected/failed row.

    Grouped into typed parts: ``face`` (the face track), ``checks`` (shots, speaking,
    sync), ``media`` (file paths), ``blur`` (what the blur kept), ``asr`` (the recogniser
    on raw and blurred voice), and ``custom``: columns a user added to the manifest. On
    disk the manifest is flat (one column per part field, ``CUE_PARTS``): ``to_dict`` and
    ``from_dict`` use the flat column names, ``column(name)`` reads one.
    """

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
    #: "subtitles", "asr" or "transcript" (see ``Utterance``); None: written before v0.2
    transcript_source: str | None = None
    transcript_model: str | None = None
    transcript_confidence: float | None = None
    face: FaceSummary = FaceSummary()
    checks: SpeakerChecks = SpeakerChecks()
    media: CueMedia = CueMedia()
    blur: BlurCheck = BlurCheck()
    asr: AsrCheck = AsrCheck()
    # attributes and labels (filled by later stages)
    gender: str | None = None
    age_band: str | None = None
    attribute_origin: str | None = None
    label: str | None = None
    split: str | None = None
    stage_versions: str | None = None  #: "name@version+confighash;..." of the stages that made it
    #: manifest columns EmpathyNet does not define (a user's own fields), by name
    custom: dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.status not in CUE_STATUSES:
            raise ValueError(f"status must be one of {CUE_STATUSES}, got {self.status!r}")
        if self.status != "accepted" and not self.reason:
            raise ValueError(f"a {self.status} cue row needs a reason")

    @classmethod
    def column_names(cls) -> list[str]:
        """The flat manifest columns of a cue row, in ``CUE_SCHEMA`` order."""
        names: list[str] = []
        for f in dataclasses.fields(cls):
            if f.name in CUE_PARTS:
                names.extend(CUE_PARTS[f.name][1].values())
            elif f.name != "custom" and f.init and f.name in CueGroup.__dataclass_fields__:
                names.append(f.name)
        return names

    def to_dict(self) -> dict[str, Any]:
        """The flat row: one entry per manifest column, then the custom fields."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in CUE_PARTS:
                flat = value.to_dict()
                out.update({column: flat[name] for name, column in CUE_PARTS[f.name][1].items()})
            elif f.name == "custom":
                out.update({k: v for k, v in value.items() if k not in out})
            else:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls: type[C], values: dict[str, Any], *, strict: bool = False) -> C:
        """A record from a flat row (manifest columns); columns it does not know go to
        ``custom`` (``strict``: they are an error, for rows the build makes)."""
        kwargs: dict[str, Any] = {}
        for part, (kind, columns) in CUE_PARTS.items():
            kwargs[part] = _part_from_row(kind, columns, values)
        for name in _own_fields(cls):
            if name in values:
                value = values[name]
                kwargs[name] = tuple(value) if isinstance(value, list) else value
        known = _known_columns(cls)
        custom = {k: v for k, v in values.items() if k not in known}
        if "custom" in custom:
            custom.update(custom.pop("custom") or {})
        if strict and custom:
            raise ValueError(f"not cue columns: {', '.join(sorted(custom))}")
        return cls(**kwargs, custom=custom)

    def column(self, name: str) -> Any:
        """The value of manifest column ``name`` (``KeyError`` for an unknown one)."""
        return self.to_dict()[name]

    def with_columns(self: C, **columns: Any) -> C:
        """A copy with the given manifest columns replaced (flat names)."""
        return type(self).from_dict({**self.to_dict(), **columns})


# Per record class, computed once: from_dict runs once per manifest row.
_OWN_FIELDS: dict[type, tuple[str, ...]] = {}
_KNOWN_COLUMNS: dict[type, frozenset[str]] = {}
_TUPLE_FIELDS: dict[type, frozenset[str]] = {}


def _own_fields(cls: type[CueGroup]) -> tuple[str, ...]:
    """The fields of a cue record that are manifest columns themselves (not parts)."""
    if cls not in _OWN_FIELDS:
        _OWN_FIELDS[cls] = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in CUE_PARTS and f.name != "custom"
        )
    return _OWN_FIELDS[cls]


def _known_columns(cls: type[CueGroup]) -> frozenset[str]:
    """Every column name a cue record of ``cls`` takes from a row."""
    if cls not in _KNOWN_COLUMNS:
        parts = {c for _, columns in CUE_PARTS.values() for c in columns.values()}
        _KNOWN_COLUMNS[cls] = frozenset({*parts, *_own_fields(cls)})
    return _KNOWN_COLUMNS[cls]


def _tuple_fields(kind: type[_Record]) -> frozenset[str]:
    """The fields of a part whose empty value is ``()`` (a null column keeps it)."""
    if kind not in _TUPLE_FIELDS:
        fields = dataclasses.fields(kind)  # type: ignore[arg-type]
        _TUPLE_FIELDS[kind] = frozenset(f.name for f in fields if f.default == ())
    return _TUPLE_FIELDS[kind]


#: Part fields holding face boxes (dicts in a flat row).
_BOX_FIELDS = frozenset({"boxes", "thumb_boxes"})


def _part_from_row(kind: type[P], columns: dict[str, str], values: dict[str, Any]) -> P:
    tuples = _tuple_fields(kind)
    kwargs: dict[str, Any] = {}
    for name, column in columns.items():
        if column not in values:
            continue
        value = values[column]
        if value is None:
            if name in tuples:
                continue
        elif name in _BOX_FIELDS:
            value = tuple(b if isinstance(b, FaceBox) else FaceBox.from_dict(b) for b in value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    return kind(**kwargs)


C = TypeVar("C", bound=CueGroup)
P = TypeVar("P", bound=_Record)
