"""Sentences from speech, for sources without subtitles, and a check of subtitle timing.

Most online video comes without subtitles. The recogniser (``blur.asr.Recognizer``:
faster-whisper with the bundled English tiny model, or any CTranslate2 Whisper model named
in ``transcribe.model``; extra ``asr``) gives words with their times, after Silero voice
activity detection; decoding is deterministic (temperature 0, no conditioning on earlier
text), so the same audio gives the same rows. Three uses:

* **transcription** (``transcribe.mode: missing|always``): whole sentences are formed from
  the words: a sentence ends at ``.``, ``?``, ``!`` or at a pause of ``max_pause_ms``. Each
  becomes an ``Utterance`` with ``transcript_source="asr"``, the model and its confidence
  (mean word probability); one below ``min_confidence`` is marked and rejected
  ``low_confidence`` by the cue stage. The sentence rules (duration, ...) apply as to
  subtitles.
* **alignment** of a transcript without times (``NAME.txt`` beside the video, one sentence
  per line, as many corpora ship them): its words are matched to the recogniser's words
  (``difflib``, on normalised words); a sentence gets the times of its first and last
  matched word and keeps its own text (``transcript_source="transcript"``). A sentence with
  fewer than half of its words matched cannot be placed: it is reported, not guessed.
* **timing check** (``transcribe.check_timing``): for subtitled sources, each subtitle
  sentence is found among the recognised words and the centres of the two spans compared:
  the median is the source's offset, the slope over time its drift (without 3 sentences
  found, the best overlap of the spans with the speech on a 10 ms grid); a clear constant
  offset can be corrected (``correct_offset``): the subtitles are shifted before cutting.

A transcript is cached per source in ``DATASET/transcripts/<source_id>.json`` with the
options that made it, so a resumed build does not transcribe again.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from empathynet.config import TranscribeConfig
from empathynet.data.models import Utterance
from empathynet.store.atomic import atomic_write_json

#: Rate the recogniser reads, Hz.
RATE = 16_000
#: Grid of the timing check, ms.
GRID_MS = 10
#: Largest subtitle offset the timing check looks for, ms.
MAX_OFFSET_MS = 10_000
#: A constant offset is corrected only when its correlation peak stands out this much
#: above the correlation in step (and is at least a frame, 40 ms).
MIN_PEAK_GAIN = 0.05
_SENTENCE_END = re.compile(r"[.?!…]+[\"')\]]*$")
_WORD = re.compile(r"[^\w']+")


@dataclass(frozen=True)
class Word:
    """One recognised word: media time in ms, its text and Whisper's probability."""

    start_ms: int
    end_ms: int
    text: str
    probability: float


@dataclass(frozen=True)
class Transcript:
    """The recogniser's words over a whole source."""

    model: str
    language: str | None
    words: tuple[Word, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "language": self.language,
            "words": [[w.start_ms, w.end_ms, w.text, round(w.probability, 4)] for w in self.words],
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Transcript:
        return cls(
            model=str(values["model"]),
            language=values.get("language"),
            words=tuple(Word(int(a), int(b), str(t), float(p)) for a, b, t, p in values["words"]),
        )


def recognise(path: Path, config: TranscribeConfig, duration_ms: int | None) -> Transcript:
    """The recogniser's words over the whole audio of ``path`` (``MissingDependencyError``
    naming the install command without the ``asr`` extra; media errors as the decoders
    raise them)."""
    from empathynet.blur.asr import Recognizer
    from empathynet.media.audio import AudioReader

    recogniser = Recognizer(
        beam_size=config.beam_size,
        cpu_threads=0,
        language=config.language,
        model_dir=config.model,
    )
    with AudioReader(path, sample_rate=RATE) as reader:
        samples = reader.read(0, duration_ms) if duration_ms else reader.read_all()
    words, info = recogniser.words(samples, RATE, vad=config.vad)
    found = tuple(
        Word(
            round(float(w.start) * 1000),
            max(round(float(w.end) * 1000), round(float(w.start) * 1000) + 1),
            str(w.word).strip(),
            float(w.probability),
        )
        for w in words
        if str(w.word).strip()
    )
    language = config.language or (getattr(info, "language", None) if info else None)
    return Transcript(recogniser.model_name, language, found)


def cached_transcript(
    path: Path,
    source_id: str,
    config: TranscribeConfig,
    duration_ms: int | None,
    cache_dir: Path | None,
) -> Transcript:
    """``recognise``, read from / written to ``cache_dir/<source_id>.json`` when given
    (only when the options that change the words are the same)."""
    key = {
        "model": config.model,
        "language": config.language,
        "vad": config.vad,
        "beam_size": config.beam_size,
    }
    cache = cache_dir / f"{source_id}.json" if cache_dir is not None else None
    if cache is not None and cache.is_file():
        try:
            stored = json.loads(cache.read_text(encoding="utf-8"))
            if stored.get("options") == key:
                return Transcript.from_dict(stored["transcript"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache is made again
    transcript = recognise(path, config, duration_ms)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(cache, {"options": key, "transcript": transcript.to_dict()})
    return transcript


def _sentence(
    words: Sequence[Word], source_id: str, model: str, config: TranscribeConfig, kind: str
) -> Utterance:
    confidence = float(np.mean([w.probability for w in words]))
    return Utterance(
        start_ms=words[0].start_ms,
        end_ms=words[-1].end_ms,
        text=" ".join(w.text for w in words),
        source_id=source_id,
        transcript_source=kind,
        transcript_model=model,
        transcript_confidence=round(confidence, 4),
        low_confidence=confidence < config.min_confidence,
    )


def sentences_from_words(
    transcript: Transcript, source_id: str, config: TranscribeConfig
) -> tuple[Utterance, ...]:
    """Whole sentences from the words: one ends at sentence-final punctuation or at a
    pause of ``config.max_pause_ms`` or more before the next word."""
    out: list[Utterance] = []
    current: list[Word] = []
    for index, word in enumerate(transcript.words):
        current.append(word)
        following = transcript.words[index + 1] if index + 1 < len(transcript.words) else None
        ends = _SENTENCE_END.search(word.text) is not None
        paused = following is not None and following.start_ms - word.end_ms >= config.max_pause_ms
        if following is None or ends or paused:
            out.append(_sentence(current, source_id, transcript.model, config, "asr"))
            current = []
    return tuple(out)


def _normal(text: str) -> list[str]:
    return [w for w in _WORD.sub(" ", text.lower()).split() if w]


@dataclass(frozen=True)
class Alignment:
    """Sentences of a transcript placed on the speech, and those that could not be."""

    utterances: tuple[Utterance, ...]
    unaligned: tuple[str, ...]  #: the sentences too few of whose words were heard


def align_sentences(
    sentences: Sequence[str], transcript: Transcript, source_id: str, config: TranscribeConfig
) -> Alignment:
    """Place each sentence of a transcript without times on the recognised words."""
    heard: list[str] = []
    heard_word: list[int] = []  # the recognised word each normalised token came from
    for index, word in enumerate(transcript.words):
        for token in _normal(word.text):
            heard.append(token)
            heard_word.append(index)
    given: list[str] = []
    given_sentence: list[int] = []
    for number, sentence in enumerate(sentences):
        for token in _normal(sentence):
            given.append(token)
            given_sentence.append(number)
    matched: dict[int, list[int]] = {}  # sentence -> recognised word indices
    matcher = difflib.SequenceMatcher(a=given, b=heard, autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            owner = given_sentence[block.a + offset]
            matched.setdefault(owner, []).append(heard_word[block.b + offset])
    out: list[Utterance] = []
    unaligned: list[str] = []
    for number, sentence in enumerate(sentences):
        tokens = len(_normal(sentence))
        indices = sorted(set(matched.get(number, [])))
        if not tokens or len(matched.get(number, [])) * 2 < tokens:
            unaligned.append(sentence)
            continue
        words = [transcript.words[i] for i in indices]
        placed = _sentence(words, source_id, transcript.model, config, "transcript")
        out.append(dataclasses.replace(placed, text=" ".join(sentence.split())))
    return Alignment(tuple(out), tuple(unaligned))


def read_plain_transcript(path: Path) -> list[str]:
    """The sentences of a transcript file: one per non-empty line (UTF-8)."""
    text = path.read_bytes().decode("utf-8-sig")
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def transcript_file(video: Path) -> Path | None:
    """``NAME.txt`` beside ``video`` when there is one."""
    candidate = video.with_suffix(".txt")
    return candidate if candidate.is_file() else None


@dataclass(frozen=True)
class TimingCheck:
    """How a source's subtitles sit against its speech."""

    offset_ms: int  #: shift to add to the subtitles' times (negative: they come late)
    method: str  #: "sentences" (matched by their words) or "speech" (overlap of spans)
    sentences: int  #: subtitle sentences matched to the speech ("sentences" method)
    spread_ms: float | None  #: median distance of the sentences' offsets from the offset
    drift_ms_per_min: float | None  #: how the offset changes over the source
    peak: float | None = None  #: "speech" method: overlap correlation at the shift
    at_zero: float | None = None  #: "speech" method: the correlation as the subtitles are
    corrected: bool = False

    @property
    def clear(self) -> bool:
        """Whether the offset is worth correcting: at least a frame (40 ms) and agreed on
        (by 3+ sentences within 250 ms of it, or a correlation peak that stands out)."""
        if abs(self.offset_ms) < 40:
            return False
        if self.method == "sentences":
            return self.sentences >= 3 and (self.spread_ms or 0.0) <= 250
        return (self.peak or 0.0) - (self.at_zero or 0.0) >= MIN_PEAK_GAIN

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _mask(spans: Sequence[tuple[int, int]], length: int) -> np.ndarray[Any, Any]:
    mask = np.zeros(length, dtype=np.float64)
    for start, end in spans:
        a, b = max(start // GRID_MS, 0), min(end // GRID_MS + 1, length)
        if b > a:
            mask[a:b] = 1.0
    return mask


def _best_shift(
    subs: np.ndarray[Any, Any], speech: np.ndarray[Any, Any]
) -> tuple[int, float, float]:
    """(shift in grid steps, correlation at it, correlation at 0) of ``subs`` against
    ``speech``: the subtitles moved by the shift cover the speech best."""
    limit = MAX_OFFSET_MS // GRID_MS
    centred_s = subs - subs.mean()
    centred_v = speech - speech.mean()
    norm = float(np.sqrt((centred_s**2).sum() * (centred_v**2).sum())) or 1.0
    full = np.correlate(centred_v, centred_s, mode="full") / norm
    zero = len(subs) - 1
    lo, hi = max(zero - limit, 0), min(zero + limit + 1, len(full))
    best = int(np.argmax(full[lo:hi])) + lo
    return best - zero, float(full[best]), float(full[zero])


def check_timing(
    utterances: Sequence[Utterance], transcript: Transcript, duration_ms: int | None = None
) -> TimingCheck | None:
    """Where the subtitle sentences sit against the recognised speech (None when either
    has no speech).

    Each sentence is found among the recognised words by its own words
    (``align_sentences``); its offset is the distance between the centres of the two spans
    (centres, because subtitles are shown a little before the first word and after the
    last: margins that cancel). The source's offset is their median and the drift the
    slope of a line through them. With fewer than 3 sentences found (another language than
    the model's, noise), the shift that best overlaps the subtitles' spans with the speech
    is used instead."""
    if not utterances or not transcript.words:
        return None
    aligned = align_sentences([u.text for u in utterances], transcript, "", TranscribeConfig())
    placed = {u.text: u for u in aligned.utterances}
    pairs = [
        (u, placed[" ".join(u.text.split())])
        for u in utterances
        if " ".join(u.text.split()) in placed
    ]
    if len(pairs) >= 3:
        times = np.array([(u.start_ms + u.end_ms) / 2 for u, _ in pairs])
        deltas = np.array([(h.start_ms + h.end_ms - u.start_ms - u.end_ms) / 2 for u, h in pairs])
        offset = float(np.median(deltas))
        spread = float(np.median(np.abs(deltas - offset)))
        drift = None
        if times.max() - times.min() >= 60_000:
            slope = float(np.polyfit(times, deltas, 1)[0])  # ms of offset per ms of time
            drift = round(slope * 60_000, 1)
        return TimingCheck(round(offset), "sentences", len(pairs), round(spread, 1), drift)
    if duration_ms is None:
        duration_ms = max(max(u.end_ms for u in utterances), transcript.words[-1].end_ms)
    length = duration_ms // GRID_MS + 1
    subs = _mask([(u.start_ms, u.end_ms) for u in utterances], length)
    speech = _mask([(w.start_ms, w.end_ms) for w in transcript.words], length)
    shift, peak, at_zero = _best_shift(subs, speech)
    return TimingCheck(
        shift * GRID_MS, "speech", len(pairs), None, None, round(peak, 4), round(at_zero, 4)
    )


def shifted(utterances: Sequence[Utterance], offset_ms: int) -> tuple[Utterance, ...]:
    """The utterances moved by ``offset_ms`` (none starts before 0)."""
    return tuple(
        dataclasses.replace(
            u, start_ms=max(u.start_ms + offset_ms, 0), end_ms=max(u.end_ms + offset_ms, 1)
        )
        for u in utterances
    )


__all__ = [
    "Alignment",
    "TimingCheck",
    "Transcript",
    "Word",
    "align_sentences",
    "cached_transcript",
    "check_timing",
    "read_plain_transcript",
    "recognise",
    "sentences_from_words",
    "shifted",
    "transcript_file",
]
