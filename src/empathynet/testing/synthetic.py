"""Synthetic datasets for label and task tests and benchmarks: a manifest without a build.

``write_synthetic_dataset`` writes ``dataset.json``, ``sources.parquet`` and
``cues/part-*.parquet`` (the build's own schemas) for N accepted cue groups spread over
M sources and their speakers, with known classes, genders and age bands (returned as
ground truth). The manifest is built with numpy / pyarrow directly, so a million rows
take seconds. ``media=True`` also writes small real media files (JPEG stills and face
crops, 16 kHz WAVs, tiny H.264 clips) for the cue groups — meant for a few dozen.
``write_votes_csv`` turns the ground truth into an annotation CSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from empathynet.data.schemas import CUE_SCHEMA, SOURCE_SCHEMA
from empathynet.errors import ConfigError
from empathynet.labels.taxonomy import DEFAULT_CLASSES
from empathynet.media.audio import write_wav
from empathynet.media.encode import write_jpeg
from empathynet.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_table
from empathynet.store.layout import DatasetLayout

#: Sample rate of the synthetic audio files, Hz (the build's audio rate).
AUDIO_RATE = 16_000
_GAP_MS = 400  # silence between two cue groups of one source


@dataclass(frozen=True)
class SyntheticDataset:
    """A written synthetic dataset and its ground truth."""

    root: Path
    #: Accepted cue groups sorted by cue id: cue_id, source_id, speaker, start_ms,
    #: end_ms, label, gender, age_band (the truth, whether or not the manifest has it).
    truth: pa.Table
    rejected_ids: tuple[str, ...]


def _source_ids(count: int, seed: int) -> list[str]:
    return [hashlib.sha256(f"synthetic-{seed}-{i}".encode()).hexdigest()[:16] for i in range(count)]


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _empty(rows: int, kind: pa.DataType) -> pa.Array:
    """Empty lists for list columns (as the build writes them), nulls otherwise."""
    if pa.types.is_list(kind):
        offsets = pa.array(np.zeros(rows + 1, dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, pa.array([], kind.value_type))
    return pa.nulls(rows, kind)


def _file_lists(prefix: pa.Array, name: str, count: int) -> pa.ListArray:
    """Per row ``[prefix + name.format(0), ..., prefix + name.format(count - 1)]``."""
    rows = len(prefix)
    columns = pa.concat_arrays([_join(prefix, name.format(k)) for k in range(count)])
    order = (np.arange(count)[None, :] * rows + np.arange(rows)[:, None]).ravel()
    offsets = pa.array(np.arange(0, rows * count + 1, count, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, columns.take(pa.array(order)))


#: Syllables of ``speech_text``: one vowel each, so a vowel-group count finds them.
_SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")


def speech_text(
    duration_ms: npt.NDArray[np.int64], person: npt.NDArray[np.int64], seed: int
) -> pa.Array:
    """Per cue group a text of nonsense words (1-3 syllables of one consonant and one
    vowel) with ``max(1, round(duration_s * rate))`` syllables: each person speaks at
    their own rate (uniform in 3.5-5.5 syllables/s), each sentence within +-10 % of it,
    so text length follows duration and speaking rate as in speech."""
    rng = np.random.default_rng((seed, 7))  # its own stream: other columns stay as they were
    people = int(person.max()) + 1 if len(person) else 0
    rate = rng.uniform(3.5, 5.5, people)[person] * rng.uniform(0.9, 1.1, len(person))
    count = np.maximum(1, np.rint(duration_ms / 1000 * rate)).astype(np.int64)
    total = int(count.sum())
    syllables = pa.array(_SYLLABLES, pa.string()).take(
        pa.array(rng.integers(0, len(_SYLLABLES), total))
    )
    last = np.zeros(total, dtype=bool)
    last[np.cumsum(count) - 1] = True
    # A word ends after a syllable with probability 1/2 (and at the sentence's end).
    space = (rng.random(total) < 0.5) & ~last
    tokens = pc.binary_join_element_wise(
        syllables, pc.if_else(pa.array(space), " ", ""), pc.if_else(pa.array(last), ".", ""), ""
    )
    offsets = pa.array(np.concatenate([[0], np.cumsum(count)]).astype(np.int64))
    return pc.binary_join(pa.LargeListArray.from_arrays(offsets, tokens), "").cast(pa.string())


def write_synthetic_dataset(
    root: str | Path,
    *,
    cue_groups: int,
    sources: int,
    speakers_per_source: int = 3,
    unknown_speaker_share: float = 0.25,
    shared_speaker_sources: int = 0,
    seed: int = 0,
    classes: Sequence[str] = DEFAULT_CLASSES,
    class_weights: Sequence[float] | None = None,
    genders: Sequence[str] = ("female", "male"),
    age_bands: Sequence[str] = ("young_adult", "adult", "senior"),
    unknown_attribute_share: float = 0.0,
    labels_in_manifest: bool = False,
    attributes_in_manifest: bool = False,
    rejected: int = 0,
    min_ms: int = 800,
    max_ms: int = 6000,
    stills: int = 5,
    audio_blur: bool = True,
    full_clips: bool = False,
    media: bool = False,
    part_rows: int = 100_000,
    speech_like_text: bool = False,
) -> SyntheticDataset:
    """Write a synthetic dataset at ``root``; returns it with its ground truth.

    ``cue_groups`` accepted rows over ``sources`` sources (each gets at least one), each
    source with ``speakers_per_source`` named speakers (``unknown_speaker_share`` of the
    rows have none); the first ``shared_speaker_sources`` sources share a speaker named
    ``NARRATOR``. A speaker keeps one gender and age band. Durations are uniform in
    ``[min_ms, max_ms]`` (integer ms). Labels and attributes go into the manifest only
    when asked (``labels_in_manifest`` / ``attributes_in_manifest``); else they are only
    the truth, to be imported as votes. ``audio_blur=False`` leaves ``audio_blur_path``
    empty, as in a dataset built before blurring; ``full_clips`` fills ``clip_path``.
    ``speech_like_text``: texts of nonsense words whose syllable count follows the
    duration as speech does (``speech_text``), instead of ``synthetic sentence N.``.
    """
    if not 1 <= sources <= cue_groups:
        raise ConfigError(f"need 1 <= sources <= cue_groups, got {sources} and {cue_groups}")
    if not 0 < min_ms <= max_ms:
        raise ConfigError(f"need 0 < min_ms <= max_ms, got {min_ms} and {max_ms}")
    rng = np.random.default_rng(seed)
    root = Path(root)
    layout = DatasetLayout(root)
    n = cue_groups
    source_index = np.sort(
        np.concatenate([np.arange(sources), rng.integers(0, sources, n - sources)])
    )
    source_names = _source_ids(sources, seed)
    source_id = pa.array(source_names, pa.string()).take(pa.array(source_index))
    duration = rng.integers(min_ms, max_ms + 1, n).astype(np.int64)
    step = np.cumsum(duration + _GAP_MS)
    first_of_source = np.searchsorted(source_index, source_index, side="left")
    start = step - (duration + _GAP_MS) - np.concatenate([[0], step])[first_of_source] + 200
    cue_id = _join(source_id, "-", pc.utf8_lpad(pc.cast(pa.array(start), pa.string()), 9, "0"))

    speaker_slot = rng.integers(0, max(speakers_per_source, 1), n)
    person = source_index * max(speakers_per_source, 1) + speaker_slot
    speaker_text = _join(
        "SPK",
        pc.utf8_lpad(pc.cast(pa.array(source_index), pa.string()), 6, "0"),
        "_",
        pc.cast(pa.array(speaker_slot), pa.string()),
    )
    shared = (source_index < shared_speaker_sources) & (speaker_slot == 0)
    known_speaker = (rng.random(n) >= unknown_speaker_share) & (speakers_per_source > 0)
    known_speaker |= shared
    person = np.where(shared, 0, person)  # the shared narrator is one person
    speaker = pc.if_else(
        pa.array(known_speaker),
        pc.if_else(pa.array(shared), "NARRATOR", speaker_text),
        pa.scalar(None, pa.string()),
    )

    people = sources * max(speakers_per_source, 1)
    person_gender = rng.integers(0, len(genders), people)
    person_age = rng.integers(0, len(age_bands), people)
    gender_code = np.where(known_speaker, person_gender[person], rng.integers(0, len(genders), n))
    age_code = np.where(known_speaker, person_age[person], rng.integers(0, len(age_bands), n))
    gender = np.array(genders, dtype=object)[gender_code]
    age_band = np.array(age_bands, dtype=object)[age_code]
    gender[rng.random(n) < unknown_attribute_share] = None
    age_band[rng.random(n) < unknown_attribute_share] = None
    weights = np.asarray(class_weights if class_weights is not None else [1.0] * len(classes))
    label = np.array(classes, dtype=object)[
        rng.choice(len(classes), size=n, p=weights / weights.sum())
    ]

    prefix = _join("media/", source_id, "/", cue_id, "/")
    if speech_like_text:
        texts = speech_text(duration, person, seed)
    else:
        texts = _join("synthetic sentence ", pc.cast(pa.array(np.arange(n)), pa.string()), ".")
    tagged = np.arange(n) % 7 == 0  # every 7th cue group has a [laughs] tag
    nonverbal = pa.ListArray.from_arrays(
        pa.array(np.concatenate([[0], np.cumsum(tagged)]).astype(np.int32)),
        pa.array(["laughs"] * int(tagged.sum()), pa.string()),
    )
    none = pa.nulls(n, pa.string())
    columns: dict[str, pa.Array] = {
        "cue_id": cue_id,
        "source_id": source_id,
        "start_ms": pa.array(start, pa.int64()),
        "end_ms": pa.array(start + duration, pa.int64()),
        "text": texts,
        "status": pa.array(["accepted"] * n, pa.string()),
        "nonverbal": nonverbal,
        "speaker": speaker,
        "clip_path": _join(prefix, "clip.mp4") if full_clips else none,
        "face_clip_path": _join(prefix, "face.mp4"),
        "still_paths": _file_lists(prefix, "still_{}.jpg", stills),
        "face_crop_paths": _file_lists(prefix, "face_{}.jpg", stills),
        "audio_path": _join(prefix, "audio.wav"),
        "audio_blur_path": _join(prefix, "audio_blur.wav") if audio_blur else none,
        "label": pa.array(label, pa.string()) if labels_in_manifest else none,
        "gender": pa.array(gender, pa.string()) if attributes_in_manifest else none,
        "age_band": pa.array(age_band, pa.string()) if attributes_in_manifest else none,
    }
    accepted = pa.Table.from_arrays(
        [columns.get(f.name, _empty(n, f.type)) for f in CUE_SCHEMA],
        schema=CUE_SCHEMA,
    )
    rejected_ids = [f"{source_names[i % sources]}-9{i:08d}" for i in range(rejected)]
    rejected_table = pa.Table.from_pydict(
        {
            "cue_id": rejected_ids,
            "source_id": [source_names[i % sources] for i in range(rejected)],
            "start_ms": [900_000_000 + i for i in range(rejected)],
            "end_ms": [900_001_000 + i for i in range(rejected)],
            "text": ["rejected"] * rejected,
            "status": ["rejected"] * rejected,
        }
        | {f.name: _empty(rejected, f.type) for f in CUE_SCHEMA if f.nullable}
        | {"reason": ["no_face"] * rejected},
        schema=CUE_SCHEMA,
    )
    # Cue id order, as a build writes it (parts named by source id, rows by start time).
    accepted = accepted.take(pc.sort_indices(accepted, sort_keys=[("cue_id", "ascending")]))
    manifest = pa.concat_tables([accepted, rejected_table])
    # One source's rows per part, as readers check (store/parts.py): grouped by source.
    by_source = manifest.take(
        pc.sort_indices(manifest, sort_keys=[("source_id", "ascending"), ("cue_id", "ascending")])
    )
    ids = np.asarray(by_source.column("source_id").to_numpy(zero_copy_only=False), dtype=object)
    bounds = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist(), len(ids)]
    for first, end in itertools.pairwise(bounds):
        for chunk, begin in enumerate(range(first, end, part_rows)):
            rows = by_source.slice(begin, min(part_rows, end - begin))
            atomic_write_table(layout.cue_part(str(ids[first]), chunk), rows)
    atomic_write_table(
        layout.sources_parquet,
        pa.Table.from_arrays(
            [
                pa.array(source_names, pa.string())
                if f.name == "source_id"
                else pa.array([f"synthetic/{s}.mp4" for s in source_names], pa.string())
                if f.name == "path"
                else pa.array(["ok"] * sources, pa.string())
                if f.name == "status"
                else pa.nulls(sources, f.type)
                for f in SOURCE_SCHEMA
            ],
            schema=SOURCE_SCHEMA,
        ),
    )
    atomic_write_json(
        layout.dataset_json,
        {
            "name": root.name,
            "format": "empathynet-dataset",
            "format_version": 1,
            "synthetic": {"seed": seed, "cue_groups": n, "sources": sources},
            "counts": {"sources": sources, "accepted": n, "rejected": rejected, "failed": 0},
        },
    )
    truth = pa.table(
        {
            "cue_id": cue_id,
            "source_id": source_id,
            "speaker": speaker,
            "start_ms": pa.array(start, pa.int64()),
            "end_ms": pa.array(start + duration, pa.int64()),
            "label": pa.array(label, pa.string()),
            "gender": pa.array(gender, pa.string()),
            "age_band": pa.array(age_band, pa.string()),
        }
    )
    truth = truth.take(pc.sort_indices(truth, sort_keys=[("cue_id", "ascending")]))
    if media:
        _write_media(layout, accepted, rng)
    return SyntheticDataset(root, truth, tuple(rejected_ids))


def write_speech_nuclei(root: str | Path, seed: int = 0) -> int:
    """Stand in for the blurred audio of every accepted cue group of a synthetic dataset
    at a scale where writing real audio would not fit a test: an empty file at each
    ``audio_blur_path`` and, in the syllable-nuclei cache the length audits read
    (``evaluate.lengths.NUCLEI_CACHE``), nucleus times as speech gives them. Each person
    has a detection ratio (uniform in 0.7-0.95: the detector misses some syllables);
    a sentence's nuclei are a binomial draw of its text's syllables at that ratio,
    evenly spread over its duration with jitter. So the nuclei count follows the text
    length and the duration, as on real speech. Returns the number of files.

    The files are not audio: a count not found in the cache raises when its file is
    read, so nothing is counted from them silently.
    """
    from empathynet.evaluate.lengths import NUCLEI_CACHE
    from empathynet.labels.store import read_manifest_columns
    from empathynet.tasks.views import text_syllables

    root = Path(root)
    layout = DatasetLayout(root)
    columns = ["status", "speaker", "source_id", "start_ms", "end_ms", "text", "audio_blur_path"]
    manifest = read_manifest_columns(root, columns).to_pylist()
    rng = np.random.default_rng((seed, 11))
    ratio: dict[str, float] = {}
    paths, sizes, mtimes, times = [], [], [], []
    for row in manifest:
        relative = row["audio_blur_path"]
        if row["status"] != "accepted" or not relative:
            continue
        person = f"{row['source_id']}/{row['speaker'] or ''}"
        if person not in ratio:
            ratio[person] = float(rng.uniform(0.7, 0.95))
        count = int(rng.binomial(text_syllables(row["text"] or ""), ratio[person]))
        seconds = (row["end_ms"] - row["start_ms"]) / 1000
        step = seconds / max(count, 1)
        spread = (np.arange(count) + 0.5) * step + rng.normal(0, 0.15 * step, count)
        path = layout.resolve(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        status = path.stat()
        paths.append(relative)
        sizes.append(status.st_size)
        mtimes.append(status.st_mtime_ns)
        times.append(sorted(float(t) for t in np.clip(spread, 0.0, seconds)))
    order = sorted(range(len(paths)), key=paths.__getitem__)
    (root / NUCLEI_CACHE).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_table(
        root / NUCLEI_CACHE,
        pa.table(
            {
                "path": pa.array([paths[i] for i in order], pa.string()),
                "bytes": pa.array([sizes[i] for i in order], pa.int64()),
                "mtime_ns": pa.array([mtimes[i] for i in order], pa.int64()),
                "nuclei_s": pa.array([times[i] for i in order], pa.list_(pa.float32())),
            }
        ),
    )
    return len(paths)


def _write_media(layout: DatasetLayout, table: pa.Table, rng: np.random.Generator) -> None:
    """Small real files for every path of every row (JPEG, WAV, MP4)."""
    for row in table.to_pylist():
        colour = rng.integers(0, 256, 3)
        for number, relative in enumerate(row["still_paths"]):
            _write_jpeg(layout.resolve(relative), 48, 32, colour, number)
        for number, relative in enumerate(row["face_crop_paths"]):
            _write_jpeg(layout.resolve(relative), 32, 32, colour, number)
        duration_ms = row["end_ms"] - row["start_ms"]
        samples = duration_ms * AUDIO_RATE // 1000
        t = np.arange(samples) / AUDIO_RATE
        tone = 0.3 * np.sin(2 * np.pi * (150 + 10 * (colour[0] % 20)) * t)
        write_wav(layout.resolve(row["audio_path"]), tone, AUDIO_RATE)
        if row["audio_blur_path"]:
            write_wav(layout.resolve(row["audio_blur_path"]), 0.5 * tone, AUDIO_RATE)
        for relative in (row["face_clip_path"], row["clip_path"]):
            if relative:
                _write_clip(layout.resolve(relative), colour)


def _write_jpeg(
    path: Path, width: int, height: int, colour: npt.NDArray[np.int64], number: int
) -> None:
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[:] = colour.astype(np.uint8)
    pixels[: height // 2, : width // 2] = (colour + 40 * (number + 1)) % 256  # a quadrant
    write_jpeg(path, pixels, quality=90)


def _write_clip(path: Path, colour: npt.NDArray[np.int64]) -> None:
    """A 3-frame 32x32 H.264 MP4 (the face clip's container and codec)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(25))
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for _ in range(3):
            rgb = np.empty((32, 32, 3), dtype=np.uint8)
            rgb[:] = colour.astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    atomic_write_bytes(path, buffer.getvalue())  # makes the folder


def write_votes_csv(
    path: str | Path,
    truth: pa.Table,
    *,
    annotators: int = 3,
    agreement: float = 0.8,
    classes: Sequence[str] = DEFAULT_CLASSES,
    attributes: bool = True,
    seed: int = 0,
) -> Path:
    """An annotation CSV for ``truth`` rows: each annotator gives the true label with
    probability ``agreement``, else another class at random; attributes from the truth."""
    rng = np.random.default_rng(seed)
    path = Path(path)
    rows = truth.to_pylist()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["cue_id", "annotator", "label"] + (["gender", "age_band"] if attributes else [])
    writer.writerow(header)
    for row in rows:
        for number in range(annotators):
            label = row["label"]
            if rng.random() >= agreement:
                others = [c for c in classes if c != label]
                label = others[int(rng.integers(len(others)))]
            values = [row["cue_id"], f"annotator{number + 1}", label]
            if attributes:
                values += [row["gender"] or "", row["age_band"] or ""]
            writer.writerow(values)
    atomic_write_bytes(path, out.getvalue().encode("utf-8"))
    return path
