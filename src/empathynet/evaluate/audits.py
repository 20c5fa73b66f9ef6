"""Audits: can a task be solved by a shortcut instead of the cues it is about?

For a multiple-choice task, four shortcut models are trained on the train split and
scored on the test split, each seeing one thing only:

* ``option-only``: the answer views of the options (default features of
  ``baselines.features``, reduced to 32 dimensions), never the query;
* ``position-only``: the answer slot: always picks the slot most often right in train
  (lowest slot on ties);
* ``duration-only``: the options' durations (log ms, centred in the item, its square,
  rank in the item);
* ``identity``: whether an option comes from the query's source and from its known
  speaker (a model that recognises a voice or a face could know this);
* ``length-match``: the query's lengths and the options' lengths, across modalities
  (``evaluate.lengths``: durations of audio and video, syllable nuclei of audio,
  syllables / characters / words of text). For each length the options show, a ridge
  regression fitted on the train answers predicts it from the query's log lengths (from
  their mean when the query shows none); an option's features are, per length, its log
  length's residual, the residual's square and absolute value, and the rank of the
  absolute residual in the item. So it learns, e.g., that an answer's blurred audio
  lasts as long as the query's video, or has as many syllables as the query's text. Not
  run when the answer views show no length.

The per-option models are a logistic regression on features centred within each item
(the answer = 1), picking the option with the highest score; ties are broken uniformly
at random (seeded). A shortcut **fails** the task when it beats chance significantly
(one-sided exact binomial test, p <= 0.01) or, when the scored split has at least
10,000 items (enough for a 2-point margin to be ~4.6 standard errors), when its
accuracy is more than 2 percentage points from chance either way.

Every task also gets a **split leakage** check: no item in two splits, and no source
or known speaker in two splits, counting the MCQ options too
(``empathynet.tasks.check_split_leakage``). The report is written to
``<dataset>/reports/audits/<task>.json``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from empathynet import __version__
from empathynet.errors import ConfigError
from empathynet.evaluate.baselines.base import TaskData
from empathynet.evaluate.baselines.features import SideFeatures
from empathynet.evaluate.baselines.learned import JOINT_DIMS, Reducer, option_vectors
from empathynet.evaluate.lengths import (
    DURATION,
    VIEW_LENGTHS,
    NucleiCounts,
    lengths_of,
    nuclei_counts,
    text_lengths,
)
from empathynet.store.atomic import atomic_write_json
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset
from empathynet.tasks.cuetable import CueTable, load_cue_table, speaker_keys
from empathynet.tasks.spec import TaskSpec, check_task_name, read_items, read_spec
from empathynet.tasks.splits import SPLITS, SplitLeakageError, check_split_leakage

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SHORTCUTS: dict[str, str] = {
    "option-only": "the options' answer views, not the query",
    "position-only": "the answer slot",
    "duration-only": "the options' durations",
    "identity": "whether an option shares the query's source / speaker",
    "length-match": "the query's and the options' lengths (durations, syllable counts)",
}
ALPHA = 0.01  #: a shortcut fails when the binomial test's p-value is at most this
TOLERANCE_PP = 2.0  #: on large tasks, a shortcut must sit within chance +- this (points)
LARGE_ITEMS = 10_000  #: scored items from which the tolerance applies


@dataclass(frozen=True)
class ShortcutResult:
    """One shortcut model's score on the test split and its verdict."""

    name: str
    sees: str
    items: int
    correct: int
    accuracy: float | None
    chance: float
    p_value: float | None  #: one-sided binomial test, accuracy > chance
    tolerance_applied: bool
    passed: bool | None  #: None: not run (see ``detail``)
    detail: str

    def line(self) -> str:
        if self.passed is None:
            return f"{self.name:<14} not run: {self.detail}"
        verdict = "pass" if self.passed else f"FAIL: {self.detail}"
        accuracy = 100.0 * (self.accuracy or 0.0)
        return (
            f"{self.name:<14} {accuracy:5.1f} % ({self.correct}/{self.items})  "
            f"p={self.p_value:.3g}  {verdict}"
        )


@dataclass
class AuditReport:
    """Every audit of one task."""

    task: str
    family: str
    split: str
    items: int
    options: int | None
    chance: float | None
    shortcuts: list[ShortcutResult]
    leakage_passed: bool
    leakage: str
    seed: int
    fingerprint: str | None
    path: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.leakage_passed and all(s.passed is not False for s in self.shortcuts)

    @property
    def failures(self) -> list[str]:
        """What leaks: the failing shortcuts' names, and ``split-leakage``."""
        out = [s.name for s in self.shortcuts if s.passed is False]
        return out + ([] if self.leakage_passed else ["split-leakage"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "family": self.family,
            "split": self.split,
            "items": self.items,
            "options": self.options,
            "chance": self.chance,
            "passed": self.passed,
            "failures": self.failures,
            "rules": {
                "alpha": ALPHA,
                "test": "one-sided exact binomial test, accuracy > chance",
                "tolerance_pp": TOLERANCE_PP,
                "tolerance_from_items": LARGE_ITEMS,
            },
            "shortcuts": [asdict(s) for s in self.shortcuts],
            "split_leakage": {"passed": self.leakage_passed, "detail": self.leakage},
            "notes": self.notes,
            "seed": self.seed,
            "dataset_fingerprint": self.fingerprint,
            "empathynet_version": __version__,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }

    def lines(self) -> list[str]:
        head = f"audit {self.task} ({self.family}), {self.split}: {self.items} items"
        if self.options is not None and self.chance is not None:
            head += f", {self.options} options, chance {100 * self.chance:.1f} %"
        out = [head]
        out += [f"  {s.line()}" for s in self.shortcuts]
        out.append(f"  split leakage: {'pass' if self.leakage_passed else 'FAIL'}: {self.leakage}")
        out += [f"  {note}" for note in self.notes]
        verdict = "PASS" if self.passed else f"FAIL (leaks: {', '.join(self.failures)})"
        out.append(f"  verdict: {verdict}")
        if self.path is not None:
            out.append(f"  report: {self.path}")
        return out


def audit_path(dataset: str | Path, task: str) -> Path:
    """Where ``audit_task`` writes its report."""
    return require_dataset(dataset).root / "reports" / "audits" / f"{check_task_name(task)}.json"


def judge(
    name: str, correct: int, items: int, chance: float, sees: str | None = None
) -> ShortcutResult:
    """The verdict on a shortcut that got ``correct`` of ``items`` right (chance: 0-1).

    ``sees``: what it saw on this task, when more precise than ``SHORTCUTS[name]``.
    """
    from scipy.stats import binomtest

    accuracy = correct / items
    p_value = float(binomtest(correct, items, chance, alternative="greater").pvalue)
    large = items >= LARGE_ITEMS
    off_pp = 100.0 * (accuracy - chance)
    problems = []
    if p_value <= ALPHA:
        problems.append(f"beats chance (p={p_value:.3g} <= {ALPHA})")
    if large and abs(off_pp) > TOLERANCE_PP:
        problems.append(f"{off_pp:+.1f} points from chance (more than {TOLERANCE_PP:g})")
    sees = sees or SHORTCUTS[name]
    detail = f"the task leaks through {sees}: " + "; ".join(problems) if problems else ""
    return ShortcutResult(
        name,
        sees,
        items,
        correct,
        accuracy,
        chance,
        p_value,
        large,
        not problems,
        detail,
    )


def not_run(name: str, chance: float, detail: str, sees: str | None = None) -> ShortcutResult:
    return ShortcutResult(
        name, sees or SHORTCUTS[name], 0, 0, None, chance, None, False, None, detail
    )


def pick(scores: FloatMatrix, rng: np.random.Generator) -> IntArray:
    """Per row the index of the highest score, ties broken uniformly at random."""
    top = scores >= scores.max(axis=1, keepdims=True) - 1e-12
    noise = rng.random(scores.shape)
    return np.asarray(np.argmax(np.where(top, noise, -1.0), axis=1), dtype=np.int64)


def learned_choice(
    train: FloatMatrix,
    train_answer: IntArray,
    test: FloatMatrix,
    rng: np.random.Generator,
    seed: int,
) -> IntArray:
    """Logistic regression on per-option features ``(items, options, features)``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def centred(features: FloatMatrix) -> FloatMatrix:
        flat = features - features.mean(axis=1, keepdims=True)
        return np.asarray(flat.reshape(-1, features.shape[2]))

    options = train.shape[1]
    target = (np.arange(options)[None, :] == train_answer[:, None]).ravel().astype(np.int64)
    train_rows = centred(train)
    scaler = StandardScaler().fit(train_rows)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    model.fit(scaler.transform(train_rows), target)
    scores = model.decision_function(scaler.transform(centred(test)))
    return pick(np.asarray(scores, dtype=np.float64).reshape(len(test), options), rng)


@dataclass(frozen=True)
class _OptionFacts:
    """Per item and option: cue-table rows; per item: the query's source and speaker."""

    rows: IntArray  #: (items, options)
    query_source: IntArray
    query_speaker: IntArray  #: -1 unknown


class _Codes:
    """Integer codes of sources and speaker keys shared by the cue table and the items.

    The cue table's own codes (``CueTable.source_code`` / ``speaker_code``) number its
    sources and speaker keys in order of first appearance, as ``sources`` and
    ``speakers`` list them.
    """

    def __init__(self, cues: CueTable) -> None:
        self.sources = pc.unique(cues.column("source_id").combine_chunks())
        self.speakers = pc.drop_null(pc.unique(speaker_keys(cues.column("speaker"))))

    def source(self, column: pa.ChunkedArray | pa.Array) -> IntArray:
        index = pc.index_in(column, value_set=self.sources)
        return np.asarray(pc.fill_null(index, -1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def speaker(self, column: pa.ChunkedArray | pa.Array) -> IntArray:
        index = pc.index_in(speaker_keys(column), value_set=self.speakers)
        return np.asarray(pc.fill_null(index, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


@dataclass(frozen=True)
class _Loaded:
    """What the audits of one task read, loaded once: spec, cue table, every split's
    items and (MCQ) their options' cue ids, flattened, with their cue-table rows."""

    root: Path
    task: str
    spec: TaskSpec
    cues: CueTable
    codes: _Codes
    items: dict[str, pa.Table]
    option_ids: dict[str, pa.Array]  #: MCQ only
    option_rows: dict[str, pa.Array]  #: MCQ only; null: not a cue group of the table

    @classmethod
    def read(cls, dataset: str | Path, task: str, spec: TaskSpec, cues: CueTable) -> _Loaded:
        items = {split: read_items(dataset, task, split) for split in SPLITS}
        option_ids: dict[str, pa.Array] = {}
        option_rows: dict[str, pa.Array] = {}
        if spec.family == "mcq":
            cue_ids = cues.cue_ids()
            for split, table in items.items():
                flat = pc.list_flatten(table.column("option_cue_ids").combine_chunks())
                option_ids[split] = flat
                option_rows[split] = pc.index_in(flat, value_set=cue_ids)
        return cls(Path(dataset), task, spec, cues, _Codes(cues), items, option_ids, option_rows)

    def split(self, split: str) -> TaskData:
        return TaskData(self.root, self.task, self.spec, split, self.items[split])


def option_facts(data: TaskData, loaded: _Loaded) -> _OptionFacts:
    where = loaded.option_rows[data.split]
    if where.null_count:
        raise ConfigError(
            f"task {data.name}: {where.null_count} options are not accepted cue groups of the "
            "dataset (run `empathynet tasks validate`)"
        )
    rows = np.asarray(where.to_numpy(zero_copy_only=False), dtype=np.int64)
    return _OptionFacts(
        rows.reshape(len(data), data.options),
        loaded.codes.source(data.items.column("source_id")),
        loaded.codes.speaker(data.items.column("speaker")),
    )


def _duration_features(cues: CueTable, facts: _OptionFacts) -> FloatMatrix:
    log_ms = np.log(np.maximum(cues.duration_ms[facts.rows], 1).astype(np.float64))
    centred = log_ms - log_ms.mean(axis=1, keepdims=True)
    rank = np.argsort(np.argsort(log_ms, axis=1, kind="stable"), axis=1, kind="stable")
    rank = rank / max(facts.rows.shape[1] - 1, 1)
    return np.stack([centred, centred**2, rank], axis=2)


def _identity_features(cues: CueTable, facts: _OptionFacts) -> FloatMatrix:
    source = cues.source_code[facts.rows] == facts.query_source[:, None]
    speaker = cues.speaker_code[facts.rows]
    same_speaker = (speaker >= 0) & (speaker == facts.query_speaker[:, None])
    return np.stack([source, same_speaker], axis=2).astype(np.float64)


def _side_lengths(
    data: TaskData, loaded: _Loaded, facts: _OptionFacts, side: str, nuclei: NucleiCounts
) -> tuple[list[str], FloatMatrix, list[str]]:
    """The lengths one side (``query`` or ``option``) of every item shows.

    Returns their names, ``log(1 + length)`` as ``(items, width, lengths)`` (width 1
    for the query, the option count for the options) and what could not be measured.
    Texts and audio paths are the items' own; durations come from the cue table.
    """
    views = data.query_views if side == "query" else data.answer_views
    if side == "query":
        where = pc.index_in(data.items.column("cue_id"), value_set=loaded.cues.cue_ids())
        if where.null_count:
            raise ConfigError(
                f"task {data.name}: {where.null_count} queries are not accepted cue groups of "
                "the dataset (run `empathynet tasks validate`)"
            )
        rows = np.asarray(where.to_numpy(zero_copy_only=False), dtype=np.int64)[:, None]
    else:
        rows = facts.rows
    width = rows.shape[1]

    def flat(view: str) -> list[Any]:
        values = data.column(f"{side}_{view}")
        return values if side == "query" else [v for item in values for v in item]

    # An item that shows its audio and video only for ``shown_ms`` (tasks/mcq.py: the cut
    # that hides the answer's length) is measured as shown.
    shown: IntArray | None = None
    if "shown_ms" in data.items.column_names:
        shown = np.asarray(data.items.column("shown_ms").to_pylist(), dtype=np.int64)
    found: dict[str, FloatMatrix] = {}
    missing: list[str] = []
    for name in views:
        kinds = [k for k in VIEW_LENGTHS.get(name, ()) if k not in found]
        if DURATION in kinds:
            durations = loaded.cues.duration_ms[rows].astype(np.float64)
            if shown is not None:
                durations = np.minimum(durations, shown[:, None].astype(np.float64))
            found[DURATION] = durations
        if name == "text":
            counts = np.asarray([text_lengths(t) for t in flat(name)], dtype=np.float64)
            for column, kind in enumerate(VIEW_LENGTHS[name]):
                found[kind] = counts.reshape(len(data), width, 3)[:, :, column]
        elif any(k != DURATION for k in kinds):
            nuclei_kind = next(k for k in kinds if k != DURATION)
            limits = None if shown is None else [int(v) for v in np.repeat(shown, width)]
            counted = nuclei_counts(nuclei, flat(name), limits)
            if counted is None:
                missing.append(f"{nuclei_kind} (audio files absent)")
            else:
                found[nuclei_kind] = counted.reshape(len(data), width)
    names = [k for k in lengths_of(views) if k in found]
    if not names:
        return [], np.zeros((len(data), width, 0)), missing
    values = np.stack([found[k] for k in names], axis=2)
    return names, np.log1p(np.maximum(values, 0.0)), missing


def _length_features(
    query: tuple[FloatMatrix, FloatMatrix],
    options: tuple[FloatMatrix, FloatMatrix],
    train_answer: IntArray,
) -> tuple[FloatMatrix, FloatMatrix]:
    """Per-option length-match features of train and test (see the module docstring).

    ``query``: (train, test) ``(items, 1, q)`` log lengths; ``options``: (train, test)
    ``(items, options, k)``.
    """
    from scipy.stats import rankdata
    from sklearn.linear_model import Ridge

    def design(lengths: FloatMatrix) -> FloatMatrix:
        return np.asarray(lengths[:, 0, :], dtype=np.float64)

    picked = options[0][np.arange(len(train_answer)), train_answer]  # (items, k)
    per_kind: tuple[list[FloatMatrix], list[FloatMatrix]] = ([], [])
    for kind in range(options[0].shape[2]):
        target = picked[:, kind]
        # One fit on train per length, predicting for train and test alike.
        model = Ridge(alpha=1e-3).fit(design(query[0]), target) if query[0].shape[2] else None
        for number in (0, 1):
            if model is not None:
                predicted = model.predict(design(query[number]))
            else:
                predicted = np.full(len(options[number]), float(target.mean()))
            residual = options[number][:, :, kind] - predicted[:, None]
            distance = np.abs(residual)
            rank = (rankdata(distance, axis=1) - 1.0) / max(distance.shape[1] - 1, 1)
            per_kind[number].append(np.stack([residual, residual**2, distance, rank], axis=2))
    return np.concatenate(per_kind[0], axis=2), np.concatenate(per_kind[1], axis=2)


def _length_match(
    train: TaskData,
    test: TaskData,
    loaded: _Loaded,
    facts: tuple[_OptionFacts, _OptionFacts],
    answer_train: IntArray,
    rng: np.random.Generator,
    seed: int,
) -> tuple[IntArray | str, str]:
    """The length-match shortcut's choices on test (or why it cannot run), and what it saw."""
    nuclei = NucleiCounts(loaded.root)
    sides = {}
    for side in ("query", "option"):
        found = [
            _side_lengths(d, loaded, f, side, nuclei)
            for d, f in zip((train, test), facts, strict=True)
        ]
        names = [n for n in found[0][0] if n in found[1][0]]
        keep = [[part[0].index(n) for n in names] for part in found]
        values = (found[0][1][:, :, keep[0]], found[1][1][:, :, keep[1]])
        sides[side] = (names, values, sorted(set(found[0][2] + found[1][2])))
    nuclei.save()
    (query_names, query_values, query_missing) = sides["query"]
    (option_names, option_values, option_missing) = sides["option"]

    def told(names: list[str], missing: list[str]) -> str:
        text = ", ".join(names) or "none"
        return text + (f"; not measured: {', '.join(missing)}" if missing else "")

    sees = (
        f"the query's lengths ({told(query_names, query_missing)}) and the options' "
        f"lengths ({told(option_names, option_missing)})"
    )
    if not option_names:
        return f"the answer views {'+'.join(test.answer_views)} show no length", sees
    train_features, test_features = _length_features(query_values, option_values, answer_train)
    return learned_choice(train_features, answer_train, test_features, rng, seed), sees


def _option_only_features(
    train: TaskData, test: TaskData, seed: int
) -> tuple[FloatMatrix, FloatMatrix] | str:
    side = SideFeatures(train.root, train.answer_views, None, defaults=True)
    if not side.parts:
        return f"no features for the answer views {'+'.join(side.skipped)}"
    reducer = Reducer(JOINT_DIMS, seed)
    out = []
    for number, data in enumerate((train, test)):
        vectors, index = option_vectors(data, side, reducer, fit=number == 0)
        out.append(vectors[np.asarray(index)])
    return out[0], out[1]


def mcq_shortcuts(
    loaded: _Loaded, seed: int, only: Collection[str] | None = None
) -> tuple[list[ShortcutResult], TaskData]:
    """The shortcut audits of an MCQ task (see the module docstring); only those named
    in ``only`` when given."""
    train = loaded.split("train")
    test = loaded.split("test")
    chance = 1.0 / test.options
    names = [n for n in SHORTCUTS if only is None or n in only]
    if len(test) == 0:
        return [not_run(n, chance, "the test split has no items") for n in names], test
    if len(train) == 0:
        reason = "the train split has no items to learn from"
        return [
            ShortcutResult(n, SHORTCUTS[n], len(test), 0, None, chance, None, False, False, reason)
            for n in names
        ], test
    rng = np.random.default_rng(seed)
    answer_train, answer_test = train.answer_index(), test.answer_index()

    def score(name: str, chosen: IntArray) -> ShortcutResult:
        return judge(name, int((chosen == answer_test).sum()), len(test), chance)

    results = []
    if "option-only" in names:
        features = _option_only_features(train, test, seed)
        if isinstance(features, str):
            results.append(not_run("option-only", chance, features))
        else:
            chosen = learned_choice(features[0], answer_train, features[1], rng, seed)
            results.append(score("option-only", chosen))

    if "position-only" in names:
        slot_counts = np.bincount(answer_train, minlength=test.options)
        best = int(np.argmax(slot_counts))  # lowest slot on ties
        results.append(score("position-only", np.full(len(test), best, dtype=np.int64)))

    cues = loaded.cues
    facts_train = option_facts(train, loaded)
    facts_test = option_facts(test, loaded)
    builders: list[tuple[str, Callable[[_OptionFacts], FloatMatrix]]] = [
        ("duration-only", lambda f: _duration_features(cues, f)),
        ("identity", lambda f: _identity_features(cues, f)),
    ]
    for name, build in builders:
        if name in names:
            chosen = learned_choice(build(facts_train), answer_train, build(facts_test), rng, seed)
            results.append(score(name, chosen))

    if "length-match" not in names:
        return results, test
    length_choice, sees = _length_match(
        train, test, loaded, (facts_train, facts_test), answer_train, rng, seed
    )
    if isinstance(length_choice, str):
        results.append(not_run("length-match", chance, length_choice, sees))
    else:
        correct = int((length_choice == answer_test).sum())
        results.append(judge("length-match", correct, len(test), chance, sees))
    return results, test


def split_leakage(loaded: _Loaded) -> str:
    """Raise ``SplitLeakageError`` when items, sources or known speakers (of the items and
    of their MCQ options) are in several splits; else a one-line summary."""
    codes, cues, spec = loaded.codes, loaded.cues, loaded.spec
    where = loaded.root / "tasks" / loaded.task
    split_code: list[IntArray] = []
    source: list[IntArray] = []
    speaker: list[IntArray] = []
    names: list[str] = []
    seen: dict[str, str] = {}
    for number, split in enumerate(SPLITS):
        items = loaded.items[split]
        for item_id in items.column("item_id").to_pylist():
            if item_id in seen:
                raise SplitLeakageError(
                    f"split leakage: item {item_id} is in both {seen[item_id]} and {split}",
                    str(where),
                )
            seen[item_id] = split
        split_code.append(np.full(items.num_rows, number, dtype=np.int64))
        source.append(codes.source(items.column("source_id")))
        speaker.append(codes.speaker(items.column("speaker")))
        names += [f"of item {i}" for i in items.column("item_id").to_pylist()]
        if spec.family == "mcq" and items.num_rows:
            flat = loaded.option_ids[split]
            rows = np.asarray(
                pc.fill_null(loaded.option_rows[split], -1).to_numpy(zero_copy_only=False),
                dtype=np.int64,
            )
            known = rows >= 0
            split_code.append(np.full(int(known.sum()), number, dtype=np.int64))
            source.append(cues.source_code[rows[known]])
            speaker.append(cues.speaker_code[rows[known]])
            names += [f"of option {c}" for c, k in zip(flat.to_pylist(), known, strict=True) if k]
    all_source = np.concatenate(source) if source else np.zeros(0, dtype=np.int64)
    all_speaker = np.concatenate(speaker) if speaker else np.zeros(0, dtype=np.int64)
    source_names = codes.sources.to_pylist()
    speaker_names = codes.speakers.to_pylist()

    def describe(row: int, kind: str) -> str:
        if kind == "source":
            return f"{source_names[int(all_source[row])]} ({names[row]})"
        return f"{speaker_names[int(all_speaker[row])]!r} ({names[row]})"

    check_split_leakage(
        np.concatenate(split_code) if split_code else np.zeros(0, dtype=np.int64),
        all_source,
        all_speaker,
        describe,
        where,
    )
    sources = len(np.unique(all_source[all_source >= 0]))
    speakers = len(np.unique(all_speaker[all_speaker >= 0]))
    return (
        f"{len(seen)} items; {sources} sources and {speakers} known speakers"
        + (" (items and options)" if spec.family == "mcq" else "")
        + ", each in one split"
    )


@writes_dataset
def audit_task(
    dataset: str | Path,
    task: str,
    *,
    seed: int = 0,
    write: bool = True,
    cues: CueTable | None = None,
    only: Collection[str] | None = None,
) -> AuditReport:
    """Run every audit of ``task`` (see the module docstring); write the JSON report.

    ``cues``: the dataset's cue table, when the caller has loaded it already.
    ``only``: the names of the shortcut audits to run (``SHORTCUTS``), e.g. to check
    one of them on a dataset whose media the others would read; a report of some
    audits only is never written (``write`` must be False).
    """
    if only is not None:
        unknown = sorted(set(only) - set(SHORTCUTS))
        if unknown:
            raise ConfigError(f"no shortcut audit {', '.join(unknown)}; known: {list(SHORTCUTS)}")
        if write:
            raise ConfigError("a report of some shortcut audits only is not written: write=False")
    spec = read_spec(dataset, task)
    loaded = _Loaded.read(
        dataset, task, spec, cues if cues is not None else load_cue_table(dataset)
    )
    try:
        leakage = split_leakage(loaded)
        leakage_passed = True
    except SplitLeakageError as error:
        leakage, leakage_passed = error.message, False
    notes: list[str] = []
    if spec.family == "mcq":
        shortcuts, test = mcq_shortcuts(loaded, seed, only)
        options: int | None = test.options
        chance: float | None = 1.0 / test.options
        items = len(test)
        if not items:
            dropped = ", ".join(f"{k} {v}" for k, v in spec.dropped.items() if v)
            notes.append(f"no test items (dropped: {dropped or 'none'}): nothing to audit")
    else:
        shortcuts, options, chance = [], None, None
        items = spec.items("test")
        notes.append(f"shortcut audits apply to MCQ tasks; {spec.family}: split leakage only")
    report = AuditReport(
        task,
        spec.family,
        "test",
        items,
        options,
        chance,
        shortcuts,
        leakage_passed,
        leakage,
        seed,
        spec.dataset_fingerprint,
        notes=notes,
    )
    if write:
        report.path = audit_path(dataset, task)
        report.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(report.path, report.to_dict())
    return report
