"""Multiple choice: given query cue(s) B of one cue group, find its answer cue(s) A.

Each labelled cue group gives at most one item: the query shows its B views, the
options are N answer-view sets (default 4): its own A views and N-1 **distractors**,
other cue groups that

1. are in the same split;
2. have the answer's gender and the answer's age band (value equality, where
   "unknown" matches only "unknown": such items are counted as unmatched in the spec);
3. belong to another class than the answer, and to another class group when the
   taxonomy groups classes;
4. have a duration in the item's **duration window**, which holds the answer's
   duration ``a`` at a uniform random place. Durations are measured in tolerances
   (``tol(d) = max(min_ms, d * pct // 100)`` ms; on the scale ``T`` of
   ``duration_scale``: linear in ms below ``min_ms * 100 / pct``, logarithmic above), and
   the window is 2 tolerances wide: ``[T(a) - u, T(a) - u + 2]`` with ``u`` uniform in
   ``[0, 2]`` (fixed point, integer). For short answers that is ``[a - u * min_ms,
   a + (2 - u) * min_ms]`` ms; for long ones about ``a * [e^(-u * pct/100),
   e^((2 - u) * pct/100)]``. As every window is equally likely to be drawn for every
   answer it holds, the answer is, given its window, distributed like its distractors:
   its duration rank among the options is uniform (a window centred on the answer, or
   one whose width depends on the answer, makes duration a shortcut);
5. in ``same-source`` mode come from the answer's source, in ``same-speaker`` mode
   from the answer's speaker when it is known, else from its source — so identity
   cannot solve the item (in ``any`` mode the answer is often the only option from the
   query's source / speaker, and a model that recognises a voice or face solves it);
6. when the answer shows text or sound tags, do not show the same text / tags
   (compared trimmed and case-folded), so that no item has two right answers.

**Lengths are cut** (issue 13): the answer is the query's own sentence, so a query that
shows time (audio or video) lasts as long as the answer, and a text query's syllables
tell it; matching distractors within a band cannot hide an equality. So every audio and
video view of an item — query and options alike — is shown for the same length, the
item's ``shown_ms``: 3/4 of the shortest option's duration (answer included), from the
view's start. It is a symmetric function of the options, so no option's length, and no
length the query shows, tells which option is the answer; the 1/4 left out means no
option ends where its sentence ends (the shortest one would be the only complete one).
Items are the same as without the cut (none is dropped by it); consumers must play only
the first ``shown_ms`` of each audio / video view. Stills show no length. Text is not
cut, and the cut audio still tells the speaking rate (its syllables per second), while
a text tells its syllables, the rate times the sentence's duration: so when an item
shows text and audio or video, the duration window (rule 4) is on the text's
syllables instead of the duration (``window_on_syllables``; a syllable counts as
``SYLLABLE_MS`` on the window scale): the distractors' sentences have about the
answer's syllables, and given them, its rate is distributed like theirs.

The task's generator (``item_generator(seed)``) first draws every window
(``draw_duration_windows``, one offset per labelled cue group in cue-table order), so
``tasks validate`` re-derives them from the seed; then distractors are drawn uniformly
among all cue groups that meet 1-6, without replacement; the answer's position is
uniform over the N slots. An item that has fewer than N-1 such cue groups is **dropped
and counted** by reason (``too_few_in_bucket``: not enough cue groups of another class
in its split, gender, age band [and identity]; ``too_few_close_in_duration``: not
enough in its window; ``too_few_distinct_content``), never filled with weaker
distractors.

The sampler is vectorised: cue groups are sorted by (split, gender, age band, identity,
duration), so each bucket is a contiguous run sorted by duration and each item's
duration window is a range ``[lo, hi)`` of sorted positions found by binary search.
Excluding the answer's class group is done per group with a prefix count: the r-th cue
group of another group in ``[lo, hi)`` is ``others[lo - before(lo) + r]``, where
``others`` lists the positions not in the group — O(1) per draw, O(N log N) in all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from empathynet.errors import ConfigError
from empathynet.tasks.classification import unlabelled_counts
from empathynet.tasks.cuetable import CueTable, dictionary_codes
from empathynet.tasks.items import FamilyItems, Positions, order_by_split, shared_columns
from empathynet.tasks.splits import SPLITS, SplitAssignment, count_by_split
from empathynet.tasks.views import (
    leaking,
    option_columns,
    option_lists,
    require_views,
    text_syllables,
)

DISTRACTOR_MODES: tuple[str, ...] = ("any", "same-source", "same-speaker")
DROP_REASONS: tuple[str, ...] = (
    "too_few_in_bucket",
    "too_few_close_in_duration",
    "too_few_distinct_content",
)
#: Largest option count; more would need an ever larger pool per bucket.
MAX_OPTIONS = 26
_RNG_STREAM = 1  # the MCQ generator's stream of the task seed (splits use the seed itself)

Codes = npt.NDArray[np.int64]


@dataclass(frozen=True)
class McqRules:
    """The distractor rules of a multiple-choice task."""

    options: int = 4
    distractors: str = "same-speaker"  #: one of DISTRACTOR_MODES
    #: A duration's tolerance is this % of it, or ``duration_tolerance_min_ms`` if larger;
    #: the duration window is 2 tolerances wide (see the module docstring).
    duration_tolerance_pct: int = 25
    duration_tolerance_min_ms: int = 250

    def __post_init__(self) -> None:
        if not 2 <= self.options <= MAX_OPTIONS:
            raise ConfigError(f"--options must be 2..{MAX_OPTIONS}, got {self.options}")
        if self.distractors not in DISTRACTOR_MODES:
            raise ConfigError(
                f"unknown distractor mode {self.distractors!r}; known: {list(DISTRACTOR_MODES)}"
            )
        if self.duration_tolerance_pct < 0 or self.duration_tolerance_min_ms < 0:
            raise ConfigError("duration tolerances must be 0 or more")

    def tolerance_ms(self, duration_ms: Codes) -> Codes:
        """One tolerance per duration: ``max(min_ms, d * pct // 100, 1)``, ms.

        The duration window is two tolerances wide (see the module docstring); under
        1 ms counts as 1 ms.
        """
        relative = duration_ms * self.duration_tolerance_pct // 100
        return np.maximum(np.maximum(relative, self.duration_tolerance_min_ms), 1).astype(np.int64)


#: Fixed-point units of the duration scale per tolerance (integer, so exact everywhere).
SCALE_UNITS = 1 << 32
#: Longest duration the scale is tabulated for (one int64 per ms: 24 h -> 691 MB).
MAX_SCALE_MS = 24 * 3600 * 1000


def duration_scale(max_ms: int, rules: McqRules) -> Codes:
    """``T(d)`` for ``d = 0..max_ms`` ms: ``sum(SCALE_UNITS // tolerance_ms(x), x < d)``.

    Durations measured in tolerances: linear below ``min_ms * 100 / pct``, logarithmic
    above. A window of constant width on this scale is the same for every answer it
    holds, which is what makes the answer's duration rank uniform.
    """
    if max_ms > MAX_SCALE_MS:
        raise ConfigError(
            f"a cue group lasts {max_ms} ms (over 24 h); check the manifest's start/end times"
        )
    step = SCALE_UNITS // rules.tolerance_ms(np.arange(max(max_ms, 0), dtype=np.int64))
    return np.concatenate([[0], np.cumsum(step)]).astype(np.int64)


@dataclass(frozen=True)
class DurationWindows:
    """Per pool row: the durations its distractors may have, ``[low_ms, high_ms]`` inclusive."""

    low_ms: Codes
    high_ms: Codes


def item_generator(seed: int) -> np.random.Generator:
    """The generator an MCQ task of ``seed`` draws its windows, distractors and slots from."""
    return np.random.default_rng((seed, _RNG_STREAM))


def draw_duration_windows(
    duration_ms: Codes, rules: McqRules, rng: np.random.Generator
) -> DurationWindows:
    """One duration window per answer duration (ms), with one ``rng.integers`` call.

    On the scale ``T`` of ``duration_scale``, the window is ``[T(a) - offset,
    T(a) - offset + 2 * SCALE_UNITS]`` with ``offset`` uniform in ``0..2 * SCALE_UNITS``;
    returned as the durations in ms whose ``T`` falls in it, cut at 0 and at the longest
    of ``duration_ms`` (nothing in the pool is longer).
    """
    duration = np.asarray(duration_ms, dtype=np.int64)
    if len(duration) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return DurationWindows(empty, empty)
    scale = duration_scale(int(duration.max()), rules)
    low_t = scale[duration] - rng.integers(0, 2 * SCALE_UNITS + 1, size=len(duration))
    high_t = low_t + 2 * SCALE_UNITS
    low = np.searchsorted(scale, low_t, "left").astype(np.int64)
    high = (np.searchsorted(scale, high_t, "right") - 1).astype(np.int64)
    return DurationWindows(low, high)


@dataclass(frozen=True)
class DistractorPool:
    """Per candidate cue group (all arrays the same length): what the rules compare."""

    split: Codes
    gender: Codes  #: -1 unknown (matches only unknown)
    age: Codes  #: -1 unknown
    identity: Codes  #: all 0 in "any" mode; source / speaker key otherwise
    exclusion: Codes  #: class group (or class) code: distractors must differ
    content: Codes  #: answer content key (-1: not compared): distractors must differ
    duration_ms: Codes

    def __len__(self) -> int:
        return len(self.split)


def identity_codes(mode: str, source_code: Codes, speaker_code: Codes) -> Codes:
    """The identity key of ``mode``: 0, the source, or the speaker (else the source)."""
    if mode == "any":
        return np.zeros(len(source_code), dtype=np.int64)
    if mode == "same-source":
        return source_code.astype(np.int64)
    speakers = int(speaker_code.max()) + 1 if len(speaker_code) else 0
    return np.where(speaker_code >= 0, speaker_code, speakers + source_code).astype(np.int64)


@dataclass(frozen=True)
class _Windows:
    order: Codes  #: sorted position -> pool row
    lo: Codes  #: per sorted position: duration window [lo, hi) in sorted positions
    hi: Codes
    bucket_lo: Codes  #: per sorted position: its bucket [bucket_lo, bucket_hi)
    bucket_hi: Codes


def _windows(pool: DistractorPool, durations: DurationWindows) -> _Windows:
    n = len(pool)
    duration = pool.duration_ms
    order = np.lexsort((duration, pool.identity, pool.age, pool.gender, pool.split))
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Windows(order.astype(np.int64), empty, empty, empty, empty)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in (pool.split, pool.gender, pool.age, pool.identity):
        ordered = key[order]
        change[1:] |= ordered[1:] != ordered[:-1]
    bucket = np.cumsum(change) - 1
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n)
    sorted_duration = duration[order]
    low = durations.low_ms[order]
    high = durations.high_ms[order]
    span = max(int(sorted_duration.max()), int(high.max())) + 1
    if (int(bucket[-1]) + 1) * span >= 2**62:
        raise ConfigError("durations too long to index; check the manifest's start/end times")
    key = bucket * span + sorted_duration
    lo = np.searchsorted(key, bucket * span + low, "left")
    hi = np.searchsorted(key, bucket * span + high, "right")
    return _Windows(order.astype(np.int64), lo, hi, starts[bucket], ends[bucket])


def _groups(exclusion_sorted: Codes) -> Iterator[tuple[Codes, Codes, Codes]]:
    """Per exclusion value: (its sorted positions, prefix count of it, positions of others)."""
    for value in np.unique(exclusion_sorted):
        mine = exclusion_sorted == value
        prefix = np.concatenate([[0], np.cumsum(mine)]).astype(np.int64)
        yield np.flatnonzero(mine), prefix, np.flatnonzero(~mine)


def _group_counts(windows: _Windows, rows: Codes, prefix: Codes) -> tuple[Codes, Codes]:
    """For sorted positions ``rows`` of one exclusion group (``prefix`` its prefix count):
    cue groups of other groups ``(in the duration window, in the bucket)``."""
    lo, hi = windows.lo[rows], windows.hi[rows]
    blo, bhi = windows.bucket_lo[rows], windows.bucket_hi[rows]
    return (hi - lo) - (prefix[hi] - prefix[lo]), (bhi - blo) - (prefix[bhi] - prefix[blo])


def candidate_counts(pool: DistractorPool, durations: DurationWindows) -> tuple[Codes, Codes]:
    """Per pool row: cue groups meeting rules 1-5 ``(in its duration window, in its bucket)``.

    Rule 6 (distinct content) is not counted here; see ``exact_candidates``.
    """
    windows = _windows(pool, durations)
    in_window = np.zeros(len(pool), dtype=np.int64)
    in_bucket = np.zeros(len(pool), dtype=np.int64)
    for rows, prefix, _ in _groups(pool.exclusion[windows.order]):
        pool_rows = windows.order[rows]
        in_window[pool_rows], in_bucket[pool_rows] = _group_counts(windows, rows, prefix)
    return in_window, in_bucket


def exact_candidates(pool: DistractorPool, durations: DurationWindows, row: int) -> Codes:
    """Pool rows meeting all six rules for answer ``row`` (slow: one row at a time)."""
    ok = (
        (pool.split == pool.split[row])
        & (pool.gender == pool.gender[row])
        & (pool.age == pool.age[row])
        & (pool.identity == pool.identity[row])
        & (pool.exclusion != pool.exclusion[row])
        & (pool.duration_ms >= durations.low_ms[row])
        & (pool.duration_ms <= durations.high_ms[row])
    )
    if pool.content[row] >= 0:
        ok &= pool.content != pool.content[row]
    return np.flatnonzero(ok).astype(np.int64)


def distinct_ranks(sizes: Codes, k: int, rng: np.random.Generator) -> Codes:
    """Per row, ``k`` distinct integers drawn uniformly from ``[0, sizes[row])``.

    Sequential draws without replacement: the j-th draw is uniform over the
    ``size - j`` values left, mapped past the values already taken (sorted). Needs
    ``sizes >= k``.
    """
    out = np.empty((len(sizes), k), dtype=np.int64)
    for j in range(k):
        draw = rng.integers(0, sizes - j) if len(sizes) else np.zeros(0, dtype=np.int64)
        if j:
            taken = np.sort(out[:, :j], axis=1)
            for t in range(j):
                draw = draw + (draw >= taken[:, t])
        out[:, j] = draw
    return out


@dataclass(frozen=True)
class DistractorDraw:
    """Distractors per pool row (``-1`` rows are dropped) and drop reasons."""

    distractors: Codes  #: (rows, options - 1) pool rows
    reason: npt.NDArray[np.int8]  #: 0 kept, else 1 + index into DROP_REASONS
    windows: DurationWindows  #: the duration window of every pool row

    @property
    def kept(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.reason == 0)

    def dropped(self) -> dict[str, int]:
        """Dropped items per reason (every reason listed, zeros included)."""
        counts = np.bincount(self.reason, minlength=len(DROP_REASONS) + 1)
        return {name: int(counts[i + 1]) for i, name in enumerate(DROP_REASONS)}


def sample_distractors(
    pool: DistractorPool, rules: McqRules, rng: np.random.Generator
) -> DistractorDraw:
    """Draw ``rules.options - 1`` distractors for every pool row (see module docstring).

    The first draw from ``rng`` is ``draw_duration_windows(pool.duration_ms, rules, rng)``.
    """
    k = rules.options - 1
    n = len(pool)
    durations = draw_duration_windows(pool.duration_ms, rules, rng)
    windows = _windows(pool, durations)
    order = windows.order
    chosen = np.full((n, k), -1, dtype=np.int64)  # in sorted positions
    reason = np.zeros(n, dtype=np.int8)  # in sorted positions
    for rows, prefix, others in _groups(pool.exclusion[order]):
        valid, in_bucket = _group_counts(windows, rows, prefix)
        ok = valid >= k
        reason[rows[~ok]] = np.where(in_bucket[~ok] >= k, 2, 1)
        ranks = distinct_ranks(valid[ok], k, rng)
        lo = windows.lo[rows]
        first_other = (lo - prefix[lo])[ok]  # index in `others` of the first one >= lo
        chosen[rows[ok]] = others[first_other[:, None] + ranks]

    content = pool.content[order]
    kept = np.flatnonzero(reason == 0)
    clash = (content[kept] >= 0) & (content[chosen[kept]] == content[kept][:, None]).any(axis=1)
    position_of = np.empty(n, dtype=np.int64)
    position_of[order] = np.arange(n)
    for position in kept[clash].tolist():
        # Rare (repeated sentences): redraw this item exactly among all allowed cue groups.
        allowed = exact_candidates(pool, durations, int(order[position]))
        if len(allowed) < k:
            reason[position] = 3
            chosen[position] = -1
        else:
            picked = rng.choice(allowed, size=k, replace=False)
            chosen[position] = position_of[picked]

    distractors = np.full((n, k), -1, dtype=np.int64)
    out_reason = np.zeros(n, dtype=np.int8)
    good = reason == 0
    distractors[order[good]] = order[chosen[good]]
    out_reason[order] = reason
    return DistractorDraw(distractors, out_reason, durations)


def place_answers(
    answer: Codes, distractors: Codes, options: int, rng: np.random.Generator
) -> tuple[Codes, npt.NDArray[np.int64]]:
    """Options per item with the answer at a uniform random slot: ``(options, position)``."""
    position = rng.integers(0, options, size=len(answer)).astype(np.int64)
    table = np.empty((len(answer), options), dtype=np.int64)
    is_answer = np.arange(options)[None, :] == position[:, None]
    table[is_answer] = answer
    table[~is_answer] = distractors.ravel()
    return table, position


# --- items -------------------------------------------------------------------------------

FAMILY = "mcq"
#: 4: the window is on text syllables when an item shows text and audio / video;
#: 3: items of tasks with audio / video views carry ``shown_ms`` (the length cut);
#: 2: duration windows hold the answer at a random place (1: centred on it).
FAMILY_VERSION = 4
CONTENT_VIEWS: tuple[str, ...] = ("text", "nonverbal")
#: Views that show time: an item shows each of them for its ``shown_ms`` only.
TIMED_VIEWS: tuple[str, ...] = ("audio_blur", "audio_raw", "video", "face_video")
#: The shown length is this fraction of the shortest option's duration.
SHOWN_FRACTION = (3, 4)


def shown_lengths(option_duration_ms: Codes) -> Codes:
    """Per item (a row of its options' durations, ms): the length its audio and video
    views show, ``max(1, shortest * 3 // 4)`` ms (see the module docstring)."""
    shortest = np.asarray(option_duration_ms, dtype=np.int64).min(axis=1)
    numerator, denominator = SHOWN_FRACTION
    shown: Codes = np.maximum(shortest * numerator // denominator, 1).astype(np.int64)
    return shown


def length_rule(views: tuple[str, ...]) -> dict[str, Any]:
    """The spec's ``length`` constraint of a task showing ``views``."""
    timed = [v for v in views if v in TIMED_VIEWS]
    if not timed:
        rule = (
            "no audio or video views: nothing is cut; text length is matched only through "
            "the duration window"
        )
    else:
        rule = (
            f"every audio / video view of an item ({'+'.join(timed)}), query and options, is "
            "shown from its start for the item's shown_ms = max(1, shortest option "
            "duration * 3 // 4) ms (answer included): a symmetric function of the options, "
            "so no shown length tells the answer, and no option ends where its sentence ends"
        )
        if "text" in views:
            rule += (
                "; the duration window is on text syllables (x "
                f"{SYLLABLE_MS}), so the rate the audio shows and the syllables the text "
                "shows do not tell the answer"
            )
    return {"rule": rule, "cut_views": timed, "items_dropped": 0}


def content_codes(cues: CueTable, answer: tuple[str, ...]) -> Codes:
    """Per cue-table row, a code of its answer text / tags (-1 when the answer has none)."""
    parts: list[pa.Array] = []
    if "text" in answer:
        text = pc.replace_substring_regex(cues.column("text"), r"\s+", " ")
        parts.append(pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(text, ""))))
    if "nonverbal" in answer:
        tags = pc.binary_join(cues.column("nonverbal"), ",")
        parts.append(pc.utf8_lower(pc.fill_null(tags, "")))
    if not parts:
        return np.full(cues.rows, -1, dtype=np.int64)
    key = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    return dictionary_codes(key)


#: Text syllables count as this many "ms" on the window scale when the window is on
#: syllables: the tolerance of max(250 ms, 25 %) becomes max(2.5 syllables, 25 %).
SYLLABLE_MS = 100


def shows_time(views: tuple[str, ...]) -> bool:
    """Whether a task showing ``views`` shows audio or video (its items are cut)."""
    return any(v in TIMED_VIEWS for v in views)


def window_on_syllables(views: tuple[str, ...]) -> bool:
    """Whether the duration window is on the text's syllables: when the item shows text
    and audio or video (see the module docstring: the cut hides durations, and the
    syllables a text shows against the rate an audio shows would tell the answer)."""
    return "text" in views and shows_time(views)


def window_lengths(cues: CueTable, views: tuple[str, ...]) -> Codes:
    """Per cue-table row, the length its duration window is on: the duration (ms), or
    the text's syllables x ``SYLLABLE_MS`` (``window_on_syllables``)."""
    if not window_on_syllables(views):
        return np.asarray(cues.duration_ms, dtype=np.int64)
    texts = cues.column("text").to_pylist()
    return np.asarray([text_syllables(t or "") * SYLLABLE_MS for t in texts], dtype=np.int64)


def mcq_pool(
    cues: CueTable,
    splits: SplitAssignment,
    rows: Codes,
    answer: tuple[str, ...],
    mode: str,
    views: tuple[str, ...],
) -> DistractorPool:
    """The distractor pool of cue-table ``rows`` (the labelled cue groups); ``views``: all
    the views the task shows (they decide what its duration window is on)."""
    return DistractorPool(
        split=splits.split_code[rows].astype(np.int64),
        gender=cues.gender_code[rows],
        age=cues.age_code[rows],
        identity=identity_codes(mode, cues.source_code, cues.speaker_code)[rows],
        exclusion=cues.group_code[rows],
        content=content_codes(cues, answer)[rows],
        duration_ms=window_lengths(cues, views)[rows],
    )


def _matching(known: int, unknown: int) -> str:
    if unknown == 0:
        return "matched"
    return "unmatched" if known == 0 else "partly matched"


def build_mcq_items(
    cues: CueTable,
    splits: SplitAssignment,
    query: tuple[str, ...],
    answer: tuple[str, ...],
    rules: McqRules,
    seed: int,
) -> FamilyItems:
    """Multiple-choice items of the labelled cue groups (see module docstring).

    Item columns besides the shared ones: ``option_cue_ids`` (N cue ids),
    ``option_<view>`` (per answer view, the N options' values) and ``answer_index``
    (0-based slot of the right option); with audio / video views, ``shown_ms`` (the
    length every audio / video view of the item shows, see the module docstring).
    """
    eligible = np.flatnonzero(cues.class_code >= 0).astype(np.int64)
    require_views(cues, query + answer, eligible)
    pool = mcq_pool(cues, splits, eligible, answer, rules.distractors, query + answer)
    rng = item_generator(seed)
    draw = sample_distractors(pool, rules, rng)
    answers = np.flatnonzero(draw.kept).astype(np.int64)
    options, position = place_answers(answers, draw.distractors[answers], rules.options, rng)
    order = order_by_split(splits.split_code, eligible[answers])
    answers, options, position = answers[order], options[order], position[order]
    rows = eligible[answers]
    option_rows = eligible[options]
    split_of_item = splits.split_code[rows].astype(np.int64)
    cut = shows_time(query + answer)
    shown = shown_lengths(cues.duration_ms[option_rows]) if cut else None

    def build(positions: Positions) -> dict[str, pa.Array]:
        chosen = option_rows[positions]
        columns = shared_columns(cues, split_of_item[positions], rows[positions], query)
        columns["option_cue_ids"] = option_lists(cues, "cue_id", chosen)
        columns.update(option_columns(cues, answer, chosen, "option"))
        columns["answer_index"] = pa.array(position[positions], pa.int32())
        if shown is not None:
            columns["shown_ms"] = pa.array(shown[positions], pa.int64())
        return columns

    positions = np.bincount(
        split_of_item * rules.options + position, minlength=len(SPLITS) * rules.options
    ).reshape(len(SPLITS), rules.options)
    gender_known = int((pool.gender[answers] >= 0).sum())
    age_known = int((pool.age[answers] >= 0).sum())
    content = [v for v in answer if v in CONTENT_VIEWS]
    spec: dict[str, Any] = {
        "views": {
            "query": list(query),
            "answer": list(answer),
            "leaks_words": leaking(query + answer),
        },
        "constraints": {
            "options": rules.options,
            "answer": "the query's own cue group",
            "answer_position": "uniform over the options, seeded",
            "same_split": True,
            "other_cue_groups": True,
            "different_class": True,
            "different_class_group": cues.taxonomy.grouped,
            "distinct_answer_content": content,
            "same_gender": {
                "rule": "equal to the answer's gender; unknown matches only unknown",
                "answers_known": gender_known,
                "answers_unknown": len(answers) - gender_known,
                "status": _matching(gender_known, len(answers) - gender_known),
            },
            "same_age_band": {
                "rule": "equal to the answer's age band; unknown matches only unknown",
                "answers_known": age_known,
                "answers_unknown": len(answers) - age_known,
                "status": _matching(age_known, len(answers) - age_known),
            },
            "duration": {
                "rule": "distractor duration d in the item's window: T(a) - u <= T(d) <= "
                "T(a) - u + 2, T the duration in tolerances (tol(d) = max(min_ms, d * pct // "
                "100) ms; linear below min_ms * 100 / pct, logarithmic above), u uniform in "
                "[0, 2] drawn from the seed: the window holds the answer a at a uniform place",
                "pct": rules.duration_tolerance_pct,
                "min_ms": rules.duration_tolerance_min_ms,
                "on": (
                    f"text syllables x {SYLLABLE_MS} (the item shows text and audio / video)"
                    if window_on_syllables(query + answer)
                    else "duration_ms"
                ),
            },
            "length": length_rule(query + answer),
            "distractors": {
                "mode": rules.distractors,
                "rule": {
                    "any": "any cue group meeting the other constraints; identity can solve "
                    "items (the answer is often the only option from the query's source / "
                    "speaker)",
                    "same-source": "from the answer's source",
                    "same-speaker": "from the answer's speaker when known, else its source",
                }[rules.distractors],
            },
        },
        "items_per_split": count_by_split(split_of_item),
        "answer_positions": {name: [int(v) for v in positions[s]] for s, name in enumerate(SPLITS)},
        "dropped": unlabelled_counts(cues) | draw.dropped(),
    }
    return FamilyItems(split_of_item, build, spec)
