"""Generated videos with speech and subtitles, for unit tests, the demo and benchmarks.

A clip is a script (subtitle lines, each with the phrases spoken during it) laid out in
time, spoken by espeak-ng, shown over a real face photo (see ``scenes``), encoded in
process with PyAV as H.264 (yuv420p) + AAC in MP4, with a sidecar SRT of the same stem.
Every clip comes back as a ``DemoClip`` carrying its ground truth: subtitle sentence
times, where the voice is, which scene is on screen when, and the face boxes.

* ``make_clip``: one clip from a script (a short one by default, ~3 s, well under 2 s).
* ``generate_demo_media``: the demo set, one clip per case the pipeline must handle.
* ``make_long_video``: a long 720p video with many sentences, for speed benchmarks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from empathynet.demo.scenes import FaceBox, SceneName, SceneRenderer
from empathynet.demo.voice import Phrase, Speech, synthesize
from empathynet.errors import ConfigError, MediaError
from empathynet.store.atomic import atomic_write_bytes, atomic_write_with
from empathynet.timeline import (
    format_ms,
    frame_index_to_ms,
    ms_to_frame_index,
    ms_to_samples,
    samples_to_ms,
)

# Layout of speech inside a subtitle event, in milliseconds: subtitles appear a little
# before the voice and stay a little after it, as in real subtitle tracks.
SPEECH_ONSET_MS = 120
SPEECH_HANGOVER_MS = 250
PHRASE_PAUSE_MS = 250
CONTINUATION_GAP_MS = 120  # between two events of one sentence

_TRIM_LEVEL = 64  # int16 level under which espeak-ng's leading/trailing output is silence
_FADE_MS = 5
_ROOM_TONE_RMS = 6.0  # int16 units, about -75 dBFS: "near silence" between sentences
_OPEN_MOUTH_RMS_FRACTION = 0.6  # this fraction of a phrase's loudest RMS opens the mouth fully
_ENVELOPE_HOP_MS = 10
_ENVELOPE_SMOOTH_MS = 120  # passes the syllable rate (4-6 Hz), not faster flicker
_OPENNESS_GAMMA = 1.5


@dataclass(frozen=True)
class ScriptLine:
    """One subtitle event: its text exactly as written in the file, and what is said.

    ``continues`` means the sentence spoken last in this line goes on in the next line (a
    sentence split over two events). ``gap_after_ms`` overrides the silence after the
    event (milliseconds).
    """

    text: str
    phrases: tuple[Phrase, ...]
    continues: bool = False
    gap_after_ms: int | None = None


@dataclass(frozen=True)
class DemoCue:
    """One subtitle event as written to the SRT file; times in milliseconds."""

    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class DemoSentence:
    """Ground truth for one spoken sentence.

    ``start_ms`` / ``end_ms`` span the subtitle events that show it (both turns of a
    dialogue-dash event share that event's span); ``speech_start_ms`` / ``speech_end_ms``
    are where the voice actually is. ``text`` is the words alone (no tags, dashes or
    speaker labels); ``nonverbal`` holds sound tags such as ``"laughs"``; ``speaker`` the
    name a subtitle gives; ``face`` the on-screen face that speaks it (``None`` = off
    screen).
    """

    text: str
    start_ms: int
    end_ms: int
    speech_start_ms: int
    speech_end_ms: int
    nonverbal: tuple[str, ...] = ()
    speaker: str | None = None
    face: int | None = 0


@dataclass(frozen=True)
class PlacedSpeech:
    """Speech samples placed in a clip's audio at ``start_sample``; ``face`` is who speaks."""

    start_sample: int
    samples: npt.NDArray[np.int16] = field(repr=False)
    face: int | None


@dataclass(frozen=True)
class ScriptPlan:
    """A script laid out in time, with its speech: everything but the pictures.

    ``duration_ms`` is the clip length before rounding up to whole video frames.
    ``sample_rate`` is the speech's rate in Hz (espeak-ng's, 22 050).
    """

    cues: tuple[DemoCue, ...]
    sentences: tuple[DemoSentence, ...]
    speech: tuple[PlacedSpeech, ...]
    sample_rate: int
    duration_ms: int


@dataclass(frozen=True)
class DemoShot:
    """A stretch of the clip showing one scene; times in ms, frame-aligned, end exclusive.

    ``face_boxes`` are the scene's faces in frame pixels at rest (the camera jitter moves
    them by a few pixels).
    """

    start_ms: int
    end_ms: int
    scene: SceneName
    face_boxes: tuple[FaceBox, ...]


@dataclass(frozen=True)
class DemoClip:
    """A generated clip and its ground truth.

    ``expected`` is the outcome the pipeline should reach for the clip as a whole:
    ``accepted``, ``face_too_small``, ``several_faces``, ``no_face``, ``shot_cut``,
    ``dialogue``, ``no_audio`` or ``corrupt``. ``duration_ms`` is the encoded length
    (whole frames); ``audio_sample_rate`` is the AAC stream's rate (``None`` without audio).
    A corrupt clip's file is damaged on purpose: its other fields describe the clip
    before the damage.
    """

    name: str
    video_path: Path
    subtitle_path: Path
    description: str
    expected: str
    sentences: tuple[DemoSentence, ...]
    cues: tuple[DemoCue, ...]
    shots: tuple[DemoShot, ...]
    duration_ms: int
    width: int
    height: int
    fps: int
    audio_sample_rate: int | None
    corrupt: bool = False

    @property
    def has_audio(self) -> bool:
        """Whether the file has an audio stream."""
        return self.audio_sample_rate is not None

    @property
    def sentence_times_ms(self) -> tuple[tuple[int, int], ...]:
        """``(start_ms, end_ms)`` of each sentence's subtitle span."""
        return tuple((sentence.start_ms, sentence.end_ms) for sentence in self.sentences)

    @property
    def cuts_ms(self) -> tuple[int, ...]:
        """Times (ms) of the shot cuts: the start of every shot but the first."""
        return tuple(shot.start_ms for shot in self.shots[1:])


DEFAULT_LINES: tuple[ScriptLine, ...] = (
    ScriptLine("Hello there.", (Phrase("Hello there."),)),
    ScriptLine("It is a lovely day.", (Phrase("It is a lovely day."),)),
)


def _trim(speech: Speech) -> npt.NDArray[np.int16]:
    """Cut espeak-ng's leading and trailing silence and fade the ends (no clicks)."""
    loud = np.flatnonzero(np.abs(speech.samples.astype(np.int32)) > _TRIM_LEVEL)
    if loud.size == 0:
        return speech.samples[:0]
    samples = speech.samples[loud[0] : loud[-1] + 1].astype(np.float32)
    fade = min(ms_to_samples(_FADE_MS, speech.sample_rate), samples.size // 2)
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        samples[:fade] *= ramp
        samples[-fade:] *= ramp[::-1]
    trimmed: npt.NDArray[np.int16] = samples.astype(np.int16)
    return trimmed


@dataclass
class _OpenSentence:
    """A sentence being read, possibly over several subtitle events."""

    words: list[str]
    start_ms: int
    speech_start_ms: int
    nonverbal: list[str]
    speaker: str | None
    face: int | None

    def close(self, end_ms: int, speech_end_ms: int) -> DemoSentence:
        return DemoSentence(
            text=" ".join(self.words),
            start_ms=self.start_ms,
            end_ms=end_ms,
            speech_start_ms=self.speech_start_ms,
            speech_end_ms=speech_end_ms,
            nonverbal=tuple(self.nonverbal),
            speaker=self.speaker,
            face=self.face,
        )


def plan_script(
    lines: Sequence[ScriptLine],
    *,
    line_starts_ms: Sequence[int] | None = None,
    rate_wpm: int = 165,
    sentence_gap_ms: int = 700,
    lead_in_ms: int = 400,
    tail_ms: int = 600,
) -> ScriptPlan:
    """Speak ``lines`` and lay them out in time; all times in milliseconds.

    Each event starts ``SPEECH_ONSET_MS`` before its first phrase and ends
    ``SPEECH_HANGOVER_MS`` after its last. Without ``line_starts_ms`` the first event starts
    at ``lead_in_ms`` and each next one ``sentence_gap_ms`` after the previous ends
    (``CONTINUATION_GAP_MS`` inside a sentence split over events). With it, event ``i``
    starts at ``line_starts_ms[i]`` (``ConfigError`` if events would overlap). The clip
    ends ``tail_ms`` after the last event. ``rate_wpm`` is the speaking rate.
    """
    if not lines:
        raise ConfigError("a script needs at least one line")
    if line_starts_ms is not None and len(line_starts_ms) != len(lines):
        raise ConfigError(f"{len(line_starts_ms)} start times for {len(lines)} script lines")
    for index, line in enumerate(lines):
        if not line.phrases:
            raise ConfigError(f"script line {index} ({line.text!r}) has no phrase to speak")
        if line.phrases[-1].nonverbal is not None:
            raise ConfigError(
                f"script line {index} ({line.text!r}) ends with a non-verbal sound: a sound "
                "tag belongs to the words after it"
            )
    if lines[-1].continues:
        raise ConfigError("the last script line cannot continue into a next line")

    all_phrases = [phrase for line in lines for phrase in line.phrases]
    speeches = synthesize(all_phrases, rate_wpm=rate_wpm)
    sample_rate = speeches[0].sample_rate
    trimmed = iter([_trim(speech) for speech in speeches])

    cues: list[DemoCue] = []
    placed: list[PlacedSpeech] = []
    sentences: list[DemoSentence] = []
    open_sentence: _OpenSentence | None = None
    cursor_ms = lead_in_ms
    for index, line in enumerate(lines):
        start_ms = line_starts_ms[index] if line_starts_ms is not None else cursor_ms
        if cues and start_ms < cues[-1].end_ms:
            raise ConfigError(
                f"script line {index} ({line.text!r}) would start at {format_ms(start_ms)}, "
                f"before the previous event ends at {format_ms(cues[-1].end_ms)}"
            )
        at_ms = start_ms + SPEECH_ONSET_MS
        spans: list[tuple[int, int]] = []
        for phrase in line.phrases:
            samples = next(trimmed)
            start_sample = ms_to_samples(at_ms, sample_rate)
            end_ms = samples_to_ms(start_sample + samples.size, sample_rate, "ceil")
            placed.append(PlacedSpeech(start_sample, samples, phrase.face))
            spans.append((at_ms, end_ms))
            at_ms = end_ms + PHRASE_PAUSE_MS
        end_ms = spans[-1][1] + SPEECH_HANGOVER_MS
        cues.append(DemoCue(start_ms, end_ms, line.text))

        tags: list[str] = []
        for position, (phrase, (speech_start, speech_end)) in enumerate(
            zip(line.phrases, spans, strict=True)
        ):
            if phrase.nonverbal is not None:
                tags.append(phrase.nonverbal)
                continue
            if open_sentence is None:
                open_sentence = _OpenSentence(
                    words=[phrase.words],
                    start_ms=start_ms,
                    speech_start_ms=speech_start,
                    nonverbal=list(tags),
                    speaker=phrase.speaker,
                    face=phrase.face,
                )
            else:
                open_sentence.words.append(phrase.words)
                open_sentence.nonverbal.extend(tags)
            tags = []
            last_in_line = position == len(line.phrases) - 1
            if not (last_in_line and line.continues):
                sentences.append(open_sentence.close(end_ms, speech_end))
                open_sentence = None
        gap_ms = line.gap_after_ms
        if gap_ms is None:
            gap_ms = CONTINUATION_GAP_MS if line.continues else sentence_gap_ms
        cursor_ms = end_ms + gap_ms
    return ScriptPlan(
        cues=tuple(cues),
        sentences=tuple(sentences),
        speech=tuple(placed),
        sample_rate=sample_rate,
        duration_ms=cues[-1].end_ms + tail_ms,
    )


def _mix(plan: ScriptPlan, total_samples: int, seed: int) -> npt.NDArray[np.int16]:
    """The clip's mono soundtrack: placed speech over a faint room tone, int16."""
    rng = np.random.default_rng(seed)
    track = rng.normal(0.0, _ROOM_TONE_RMS, total_samples).astype(np.float32)
    for piece in plan.speech:
        end = min(total_samples, piece.start_sample + piece.samples.size)
        if end > piece.start_sample:
            track[piece.start_sample : end] += piece.samples[: end - piece.start_sample]
    mixed: npt.NDArray[np.int16] = np.clip(track, -32768, 32767).astype(np.int16)
    return mixed


def _mouth_openness(plan: ScriptPlan, frame_count: int, fps: int) -> npt.NDArray[np.float32]:
    """How open each face's mouth is in each frame (0-1): ``(frames, 2)``.

    Follows the RMS envelope of that face's own speech, taken every ``_ENVELOPE_HOP_MS``
    and smoothed with a ``_ENVELOPE_SMOOTH_MS`` Hann window (a jaw moves at the syllable
    rate, not faster; the mouth starts opening a little before the voice), read at each
    frame's middle. Each phrase is scaled on its own, so that ``_OPEN_MOUTH_RMS_FRACTION``
    of its loudest envelope opens the mouth fully and a quiet phrase still moves the lips,
    then raised to ``_OPENNESS_GAMMA``: wide on the stressed vowels, nearly shut on
    consonants, so consecutive 200 ms samples see clearly different openings.
    """
    openness = np.zeros((frame_count, 2), dtype=np.float32)
    rate = plan.sample_rate
    hop = ms_to_samples(_ENVELOPE_HOP_MS, rate)
    window = np.hanning(max(3, _ENVELOPE_SMOOTH_MS // _ENVELOPE_HOP_MS + 1)).astype(np.float32)
    window /= window.sum()
    reach = window.size // 2
    # The sample at the middle of each frame.
    middles = (2 * np.arange(frame_count, dtype=np.float64) + 1) * rate / (2 * fps)
    for piece in plan.speech:
        if piece.face is None or piece.face >= openness.shape[1] or piece.samples.size == 0:
            continue
        hops = -(-piece.samples.size // hop)
        values = np.zeros(hops * hop, dtype=np.float32)
        values[: piece.samples.size] = piece.samples
        power = np.mean(np.square(values.reshape(hops, hop)), axis=1)
        envelope = np.sqrt(np.convolve(power, window, mode="full"))
        # Hop k of the smoothed envelope is centred ``k - reach`` hops after the piece start.
        centres = piece.start_sample + (np.arange(envelope.size) - reach + 0.5) * hop
        first = max(0, int(centres[0] * fps // rate))
        last = min(frame_count, int(centres[-1] * fps // rate) + 1)
        loudest = float(envelope.max())
        if first >= last or loudest <= 0.0:
            continue
        level = np.interp(middles[first:last], centres, envelope, left=0.0, right=0.0)
        level = np.clip(level / (_OPEN_MOUTH_RMS_FRACTION * loudest), 0.0, 1.0)
        column = openness[first:last, piece.face]
        np.maximum(column, np.power(level, _OPENNESS_GAMMA).astype(np.float32), out=column)
    return openness


def srt_time(ms: int) -> str:
    """``3723004`` -> ``"01:02:03,004"``: a time (ms, not negative) as an SRT file writes it."""
    return format_ms(ms).replace(".", ",")


def _write_srt(path: Path, cues: Sequence[DemoCue]) -> None:
    """Write ``cues`` as an SRT file (UTF-8, LF), atomically."""
    blocks = [
        f"{number}\n{srt_time(cue.start_ms)} --> {srt_time(cue.end_ms)}\n{cue.text}\n"
        for number, cue in enumerate(cues, start=1)
    ]
    atomic_write_bytes(path, "\n".join(blocks).encode("utf-8"))


FrameSource = Callable[[int], npt.NDArray[np.uint8]]


def _encode(
    path: Path,
    *,
    frame_at: FrameSource,
    frame_count: int,
    width: int,
    height: int,
    fps: int,
    audio: npt.NDArray[np.int16] | None,
    speech_rate: int,
    audio_rate: int,
    preset: str,
    crf: int,
    gop_frames: int,
) -> None:
    """Encode frames (yuv420p arrays from ``frame_at(index)``) and mono audio to MP4.

    The audio (int16 at ``speech_rate`` Hz) is resampled by PyAV to ``audio_rate`` Hz AAC
    and interleaved with the video, one frame's worth at a time. Written to a temporary
    name and renamed, so a failed encode leaves no half file under ``path``.
    """

    def write(tmp: Path) -> None:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            video = container.add_stream(
                "libx264", rate=fps, options={"preset": preset, "crf": str(crf)}
            )
            video.width = width
            video.height = height
            video.pix_fmt = "yuv420p"
            video.codec_context.gop_size = gop_frames
            sound = None
            if audio is not None:
                sound = container.add_stream("aac", rate=audio_rate, layout="mono")
                sound.bit_rate = 96_000
            time_base = Fraction(1, fps)
            sent = 0
            for index in range(frame_count):
                frame = av.VideoFrame.from_ndarray(frame_at(index), format="yuv420p")
                frame.pts = index
                frame.time_base = time_base
                container.mux(video.encode(frame))
                if sound is not None and audio is not None:
                    until = (index + 1) * speech_rate // fps
                    chunk = av.AudioFrame.from_ndarray(
                        np.ascontiguousarray(audio[None, sent:until]), format="s16", layout="mono"
                    )
                    chunk.sample_rate = speech_rate
                    chunk.pts = sent
                    chunk.time_base = Fraction(1, speech_rate)
                    container.mux(sound.encode(chunk))
                    sent = until
            container.mux(video.encode(None))
            if sound is not None:
                container.mux(sound.encode(None))

    try:
        atomic_write_with(path, write)
    except (av.FFmpegError, OSError) as error:
        raise MediaError(f"could not encode the clip: {error}", path=path) from error


def make_clip(
    path: Path,
    *,
    script: ScriptPlan | Sequence[ScriptLine] | None = None,
    scene: SceneName = "large_face",
    shots: Sequence[tuple[int, SceneName]] | None = None,
    audio: bool = True,
    name: str | None = None,
    description: str = "",
    expected: str = "accepted",
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    audio_rate: int = 48_000,
    preset: str = "ultrafast",
    crf: int = 23,
    gop_frames: int = 50,
    seed: int = 0,
) -> DemoClip:
    """Write one MP4 (H.264 yuv420p + AAC) and its sidecar ``.srt``; return its truth.

    ``script`` is a plan from ``plan_script`` or the lines to plan (default
    ``DEFAULT_LINES``: two short sentences, a 4.4 s clip made in about 0.5 s). The picture
    is ``scene`` throughout, or ``shots``: ``(start_ms, scene)`` pairs, the first at 0, each
    cut placed on the first frame at or after its time. ``audio=False`` writes no audio
    stream (the mouth still moves). The SRT is ``path`` with the suffix ``.srt``. Size in
    pixels, ``fps`` in frames per second, ``audio_rate`` in Hz; ``preset``, ``crf`` and
    ``gop_frames`` are x264's. The clip lasts the script plus its tail, rounded up to whole
    frames. ``seed`` sets the camera jitter and room tone.
    """
    path = Path(path)
    if fps <= 0:
        raise ConfigError(f"frame rate must be positive, got {fps}", path=path)
    plan = script if isinstance(script, ScriptPlan) else plan_script(script or DEFAULT_LINES)
    frame_count = ms_to_frame_index(plan.duration_ms, Fraction(fps), "ceil")
    duration_ms = frame_index_to_ms(frame_count, Fraction(fps))

    shot_list = list(shots) if shots is not None else [(0, scene)]
    if not shot_list or shot_list[0][0] != 0:
        raise ConfigError("the first shot must start at 0 ms", path=path)
    starts = [ms_to_frame_index(start, Fraction(fps), "ceil") for start, _ in shot_list]
    if any(later <= earlier for earlier, later in itertools.pairwise(starts)):
        raise ConfigError("shots must start at increasing times, a frame apart", path=path)
    if starts[-1] >= frame_count:
        raise ConfigError(
            f"a shot starts at frame {starts[-1]}, after the clip's {frame_count} frames",
            path=path,
        )
    renderers: dict[str, SceneRenderer] = {}
    for _, shot_scene in shot_list:  # SceneRenderer rejects an unknown scene
        if shot_scene not in renderers:
            renderers[shot_scene] = SceneRenderer(shot_scene, width, height, seed=seed)
    frame_scene: list[SceneRenderer] = []
    demo_shots: list[DemoShot] = []
    for number, (start_frame, (_, shot_scene)) in enumerate(zip(starts, shot_list, strict=True)):
        end_frame = starts[number + 1] if number + 1 < len(starts) else frame_count
        renderer = renderers[shot_scene]
        frame_scene.extend([renderer] * (end_frame - start_frame))
        demo_shots.append(
            DemoShot(
                start_ms=frame_index_to_ms(start_frame, Fraction(fps)),
                end_ms=frame_index_to_ms(end_frame, Fraction(fps)),
                scene=renderer.scene,
                face_boxes=renderer.face_boxes,
            )
        )

    openness = _mouth_openness(plan, frame_count, fps)
    total_samples = frame_count * plan.sample_rate // fps
    soundtrack = _mix(plan, total_samples, seed) if audio else None

    def frame_at(index: int) -> npt.NDArray[np.uint8]:
        return frame_scene[index].frame(index / fps, openness[index])

    _encode(  # makes the folder
        path,
        frame_at=frame_at,
        frame_count=frame_count,
        width=width,
        height=height,
        fps=fps,
        audio=soundtrack,
        speech_rate=plan.sample_rate,
        audio_rate=audio_rate,
        preset=preset,
        crf=crf,
        gop_frames=gop_frames,
    )
    subtitle_path = path.with_suffix(".srt")
    _write_srt(subtitle_path, plan.cues)
    return DemoClip(
        name=name or path.stem,
        video_path=path,
        subtitle_path=subtitle_path,
        description=description,
        expected=expected,
        sentences=plan.sentences,
        cues=plan.cues,
        shots=tuple(demo_shots),
        duration_ms=duration_ms,
        width=width,
        height=height,
        fps=fps,
        audio_sample_rate=audio_rate if audio else None,
    )


def corrupt_file(path: Path, *, keep: Fraction = Fraction(3, 10)) -> int:
    """Damage a media file in place by keeping only its first ``keep`` of bytes.

    An MP4 written by ``make_clip`` keeps its index (``moov``) at the end, so the cut file
    cannot be opened at all. Returns the new size in bytes.
    """
    path = Path(path)
    if not 0 < keep < 1:
        raise ConfigError(f"keep must be between 0 and 1, got {keep}", path=path)
    size = path.stat().st_size
    new_size = math.floor(size * keep)
    with open(path, "r+b") as handle:
        handle.truncate(new_size)
    return new_size


# --- the demo set --------------------------------------------------------------------------

_MAIN_VOICE = "en-us+f4"  # the astronaut: F0 about 160-215 Hz
_OTHER_VOICE = "en-us+m3"  # a man off screen: F0 about 100-130 Hz
_SECOND_FACE_VOICE = "en-us+f2"


def _say(words: str, **options: object) -> Phrase:
    return Phrase(words, **options)  # type: ignore[arg-type]


def _single(text: str, **options: object) -> ScriptLine:
    return ScriptLine(text, (_say(text, **options),))


@dataclass(frozen=True)
class _DemoCase:
    name: str
    description: str
    expected: str
    lines: tuple[ScriptLine, ...]
    scene: SceneName = "large_face"
    audio: bool = True


_DEMO_CASES: tuple[_DemoCase, ...] = (
    _DemoCase(
        "large_face",
        "One large face speaking three sentences: one split over two subtitle events, "
        "one opening with a [laughs] tag.",
        "accepted",
        (
            _single("Hello again."),
            ScriptLine(
                "I went down to the harbour this morning",
                (_say("I went down to the harbour this morning"),),
                continues=True,
            ),
            _single("and watched the boats come in."),
            ScriptLine(
                "[laughs] One of them was painted bright pink!",
                (
                    _say("ha ha", nonverbal="laughs"),
                    _say("One of them was painted bright pink!"),
                ),
            ),
        ),
    ),
    _DemoCase(
        "small_face",
        "The same person filmed from afar: the face is about 9 % of the frame width.",
        "face_too_small",
        (
            _single("The weather has been lovely all week."),
            _single("We should go for a long walk later."),
        ),
        scene="small_face",
    ),
    _DemoCase(
        "two_faces",
        "Two people side by side, both faces large; each speaks one sentence.",
        "several_faces",
        (
            _single("Did you see the match last night?"),
            _single("Yes, it was a wonderful game.", voice=_SECOND_FACE_VOICE, pitch=35, face=1),
        ),
        scene="two_faces",
    ),
    _DemoCase(
        "no_face",
        "A cup of coffee and a narrator off screen: no face at all.",
        "no_face",
        (
            _single("The coffee here is always fresh.", voice=_OTHER_VOICE, face=None),
            _single("People come from far away to taste it.", voice=_OTHER_VOICE, face=None),
        ),
        scene="coffee",
    ),
    _DemoCase(
        "shot_cut",
        "A large face; in the middle of the second sentence the picture cuts to a rocket, "
        "and back to the face after it.",
        "shot_cut",
        (
            _single("Let me show you what we found."),
            _single("This is the rocket that we built last summer."),
            _single("It took us nearly a year."),
        ),
    ),
    _DemoCase(
        "dialogue",
        "One face; a dialogue-dash event with two turns (the first off screen) and a "
        "'JOHN:' speaker label spoken off screen.",
        "dialogue",
        (
            ScriptLine(
                "- Are you coming?\n- Yes, I am.",
                (
                    _say("Are you coming?", voice=_OTHER_VOICE, face=None),
                    _say("Yes, I am."),
                ),
            ),
            ScriptLine(
                "JOHN: I will wait for you by the door.",
                (
                    _say(
                        "I will wait for you by the door.",
                        voice=_OTHER_VOICE,
                        face=None,
                        speaker="JOHN",
                    ),
                ),
            ),
            _single("Then let us go together."),
        ),
    ),
    _DemoCase(
        "no_audio",
        "A large face with moving lips and subtitles, but no audio stream.",
        "no_audio",
        (
            _single("This clip has no sound at all."),
            _single("But you can still read the subtitles."),
        ),
        audio=False,
    ),
    _DemoCase(
        "corrupt",
        "A large face clip cut to its first 30 % of bytes: the MP4 index is lost.",
        "corrupt",
        (
            _single("This file is damaged and cannot be read."),
            _single("Nothing in it should be used."),
        ),
    ),
)

DEMO_CLIP_NAMES: tuple[str, ...] = tuple(case.name for case in _DEMO_CASES)


def generate_demo_media(
    out_dir: Path,
    *,
    rate_wpm: int = 165,
    sentence_gap_ms: int = 700,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    preset: str = "veryfast",
    seed: int = 0,
) -> list[DemoClip]:
    """Write the demo set into ``out_dir``: one ``<name>.mp4`` + ``<name>.srt`` per case.

    The cases, in order, are ``DEMO_CLIP_NAMES``: ``large_face`` (accepted),
    ``small_face``, ``two_faces``, ``no_face``, ``shot_cut``, ``dialogue``, ``no_audio``
    and ``corrupt``; each ``DemoClip`` says what the pipeline should make of it. Clips last
    6-12 s. ``rate_wpm`` is the speaking rate, ``sentence_gap_ms`` the silence between
    subtitle sentences, size in pixels, ``fps`` in frames per second; ``preset`` is x264's.
    The same arguments give the same files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips: list[DemoClip] = []
    for number, case in enumerate(_DEMO_CASES):
        plan = plan_script(case.lines, rate_wpm=rate_wpm, sentence_gap_ms=sentence_gap_ms)
        shots: list[tuple[int, SceneName]] = [(0, case.scene)]
        if case.name == "shot_cut":
            cut_sentence = plan.sentences[1]
            middle_ms = (cut_sentence.speech_start_ms + cut_sentence.speech_end_ms) // 2
            back_ms = cut_sentence.end_ms + sentence_gap_ms // 2
            shots = [(0, "large_face"), (middle_ms, "rocket"), (back_ms, "large_face")]
        clip = make_clip(
            out_dir / f"{case.name}.mp4",
            script=plan,
            shots=shots,
            audio=case.audio,
            name=case.name,
            description=case.description,
            expected=case.expected,
            width=width,
            height=height,
            fps=fps,
            preset=preset,
            seed=seed + number,
        )
        if case.name == "corrupt":
            corrupt_file(clip.video_path)
            clip = replace(clip, corrupt=True)
        clips.append(clip)
    return clips


# --- long videos for benchmarks ------------------------------------------------------------

_SUBJECTS = (
    "I",
    "We",
    "My brother",
    "Our neighbour",
    "The teacher",
    "My friend",
    "The doctor",
    "Everyone",
)
_VERBS = ("saw", "painted", "found", "remembered", "carried", "wanted", "visited", "lost")
_OBJECTS = (
    "a small red boat",
    "the old house by the river",
    "three green apples",
    "the letter from home",
    "the blue umbrella",
    "our first garden",
    "the morning train",
    "a map of the city",
)
_ENDINGS = (
    "yesterday.",
    "last summer.",
    "after the storm.",
    "before dinner.",
    "in the morning.",
    "again!",
    "for the first time.",
    "on Sunday.",
)


def benchmark_sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` short, varied English sentences (5-9 words), the same for the same seed."""
    rng = np.random.default_rng(seed)
    return [
        " ".join(
            (
                _SUBJECTS[rng.integers(len(_SUBJECTS))],
                _VERBS[rng.integers(len(_VERBS))],
                _OBJECTS[rng.integers(len(_OBJECTS))],
                _ENDINGS[rng.integers(len(_ENDINGS))],
            )
        )
        for _ in range(count)
    ]


def _long_video_scene(slot: int) -> SceneName:
    """Mostly a large face; every tenth sentence no face, every tenth two faces."""
    if slot % 10 == 4:
        return "coffee"
    if slot % 10 == 8:
        return "two_faces"
    return "large_face"


def make_long_video(
    path: Path,
    *,
    minutes: float | Fraction,
    width: int = 1280,
    height: int = 720,
    fps: int = 25,
    sentences: int | Sequence[str] | None = None,
    rate_wpm: int = 165,
    preset: str = "ultrafast",
    seed: int = 0,
) -> DemoClip:
    """A long video for speed benchmarks: ``minutes`` of mostly one large speaking face.

    ``sentences`` is how many sentences (default 15 a minute, so 150 in 10 minutes) or their
    texts; each gets an equal slot of the duration, one subtitle event each. Every tenth
    slot shows no face (a narrator off screen) and every tenth two faces, with the cuts in
    the pauses between sentences. Encoded with x264 ``preset`` (``ultrafast`` by default);
    frames are crops of a few prepared canvases, so making the video costs little more than
    encoding it. ``ConfigError`` when the sentences do not fit their slots.
    """
    path = Path(path)
    duration_ms = round(Fraction(minutes) * 60_000)
    if duration_ms < 5_000:
        raise ConfigError(f"a long video needs at least 5 s, got {duration_ms} ms", path=path)
    if sentences is None:
        sentences = max(1, round(Fraction(duration_ms, 60_000) * 15))
    texts = benchmark_sentences(sentences, seed) if isinstance(sentences, int) else list(sentences)
    if not texts:
        raise ConfigError("a long video needs at least one sentence", path=path)
    lead_in_ms, tail_ms = 400, 600
    slot_ms = (duration_ms - lead_in_ms - tail_ms) // len(texts)
    lines: list[ScriptLine] = []
    for slot, text in enumerate(texts):
        scene = _long_video_scene(slot)
        if scene == "coffee":
            phrase = Phrase(text, voice=_OTHER_VOICE, face=None)
        elif scene == "two_faces" and slot % 20 == 18:
            phrase = Phrase(text, voice=_SECOND_FACE_VOICE, pitch=35, face=1)
        else:
            phrase = Phrase(text)
        lines.append(ScriptLine(text, (phrase,)))
    starts = [lead_in_ms + slot * slot_ms for slot in range(len(texts))]
    try:
        plan = plan_script(lines, line_starts_ms=starts, rate_wpm=rate_wpm, tail_ms=tail_ms)
    except ConfigError as error:
        raise ConfigError(
            f"{len(texts)} sentences do not fit in {duration_ms} ms ({error.message}); "
            "ask for fewer sentences or more minutes",
            path=path,
        ) from error
    if plan.cues[-1].end_ms + tail_ms > duration_ms:
        raise ConfigError(
            f"the last sentence ends at {format_ms(plan.cues[-1].end_ms)}, past the "
            f"{format_ms(duration_ms)} asked for; ask for fewer sentences",
            path=path,
        )
    plan = replace(plan, duration_ms=duration_ms)
    shots: list[tuple[int, SceneName]] = []
    for slot in range(len(texts)):
        scene = _long_video_scene(slot)
        if not shots or shots[-1][1] != scene:
            # Cut in the pause before the sentence: halfway from the previous event's end.
            cut_ms = 0 if slot == 0 else (plan.cues[slot - 1].end_ms + starts[slot]) // 2
            shots.append((cut_ms, scene))
    return make_clip(
        path,
        script=plan,
        shots=shots,
        name=path.stem,
        description=f"{len(texts)} sentences over {format_ms(duration_ms)}, mostly a "
        "large face (every tenth sentence no face, every tenth two faces).",
        expected="accepted",
        width=width,
        height=height,
        fps=fps,
        preset=preset,
        seed=seed,
    )
