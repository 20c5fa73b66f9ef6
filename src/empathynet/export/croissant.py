"""Croissant JSON-LD export: ``croissant.json`` with its Responsible-AI fields, and the
files it describes.

``export_croissant(dataset, out)`` writes into the folder ``out``:

- ``cue_groups.parquet``: one row per accepted cue group: ``cue_id``, ``source_id``,
  ``start_ms``, ``end_ms`` (the source and time range it comes from), ``text``,
  ``label`` (majority vote, empty when unlabelled), ``gender``, ``age_band`` and the
  paths of its media relative to ``out`` (``still_paths`` and ``face_crop_paths`` joined
  by ``;``, ``audio_blur_path``, ``face_clip_path``);
- ``sources.parquet``: each source's id, title, url, licence, attribution, year, language,
  SHA-256;
- ``media_files.parquet``: every media file's path, size and SHA-256;
- ``media/...``: the stills, face crops, blurred audio and face clips of the accepted cue
  groups, at the same paths as in the dataset (hard links when the folder is on the same
  file system, else copies). The raw audio is never exported.
- ``croissant.json``: FileObjects (with SHA-256) for the three tables, FileSets for the
  media, the RecordSets ``cue_groups``, ``sources`` and ``media_files``, the
  Responsible-AI fields (``rai:``) and the dataset card as its description;
- ``card.md``: the dataset card (``export.card``).

``mlcroissant.Dataset(jsonld="out/croissant.json").records("cue_groups")`` yields one
record per accepted cue group (text fields come back as bytes). Nothing in ``out`` that an
earlier export did not write is replaced unless ``overwrite`` (``store.outputs``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa

from empathynet import __version__
from empathynet.errors import DatasetError, PathEscapeError
from empathynet.export.card import (
    INTENDED_USE,
    LIMITATIONS,
    PERSONAL_DATA,
    card_facts,
    render_card,
)
from empathynet.export.summary import ExportSummary
from empathynet.labels.agreement import Agreement
from empathynet.store.atomic import (
    atomic_write_bytes,
    atomic_write_table,
    commit,
    temporary_beside,
)
from empathynet.store.dataset import Cue, Dataset, open_dataset
from empathynet.store.hashing import file_sha256
from empathynet.store.outputs import exporting

FORMAT = "croissant"
JSONLD_NAME = "croissant.json"
CARD_NAME = "card.md"
CUE_TABLE = "cue_groups.parquet"
SOURCE_TABLE = "sources.parquet"
MEDIA_TABLE = "media_files.parquet"
#: Croissant 1.0 with the Responsible-AI vocabulary 1.0.
CONFORMS_TO = ["http://mlcommons.org/croissant/1.0", "http://mlcommons.org/croissant/RAI/1.0"]
PATH_SEPARATOR = ";"

#: The JSON-LD context of Croissant 1.0, with the two terms mlcroissant 1.1 warns about.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

#: Media kinds exported: FileSet id -> (glob under out, encoding format, description).
MEDIA_SETS: dict[str, tuple[str, str, str]] = {
    "stills": ("media/**/still_*.jpg", "image/jpeg", "Frames sampled over each cue group."),
    "face-crops": (
        "media/**/face_*.jpg",
        "image/jpeg",
        "The speaker's face cropped from the stills.",
    ),
    "blurred-audio": (
        "media/**/audio_blur.wav",
        "audio/wav",
        "The cue group's audio with the words blurred and the prosody kept.",
    ),
    "face-clips": ("media/**/face.mp4", "video/mp4", "The speaker's face over the cue group."),
}

#: cue_groups fields: name -> (data type, description).
CUE_FIELDS: dict[str, tuple[str, str]] = {
    "cue_id": ("sc:Text", "The cue group's id (source id and start time)."),
    "source_id": ("sc:Text", "The id (content hash) of the source video it comes from."),
    "start_ms": ("sc:Integer", "Start in the source, in milliseconds."),
    "end_ms": ("sc:Integer", "End in the source, in milliseconds."),
    "text": ("sc:Text", "The subtitle sentence."),
    "label": ("sc:Text", "The class: the annotators' majority vote (empty: unlabelled)."),
    "gender": ("sc:Text", "Perceived gender of the speaker (empty: unknown)."),
    "age_band": ("sc:Text", "Perceived age band of the speaker (empty: unknown)."),
    "still_paths": ("sc:Text", "Paths of the stills, relative to this file, joined by ';'."),
    "face_crop_paths": ("sc:Text", "Paths of the face crops, joined by ';'."),
    "audio_blur_path": ("sc:Text", "Path of the blurred audio (WAV)."),
    "face_clip_path": ("sc:Text", "Path of the face clip (MP4)."),
}
SOURCE_FIELDS: dict[str, tuple[str, str]] = {
    "source_id": ("sc:Text", "The source's id (content hash)."),
    "title": ("sc:Text", "Title (empty: not recorded)."),
    "url": ("sc:Text", "Where the source was published (empty: not recorded)."),
    "licence": ("sc:Text", "The source's licence (empty: unknown)."),
    "attribution": ("sc:Text", "Attribution the licence asks for (empty: none recorded)."),
    "year": ("sc:Integer", "Year of publication (0: not recorded)."),
    "language": ("sc:Text", "Language of the subtitles (empty: not recorded)."),
    "sha256": ("sc:Text", "SHA-256 of the source video's bytes (empty: not recorded)."),
}
MEDIA_FIELDS: dict[str, tuple[str, str]] = {
    "path": ("sc:Text", "Path of the media file, relative to this file."),
    "bytes": ("sc:Integer", "Size in bytes."),
    "sha256": ("sc:Text", "SHA-256 of the file's bytes (hex)."),
}


def _inside(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise PathEscapeError(f"media path {relative!r} leaves the dataset", root)
    if not path.is_file():
        raise DatasetError(f"media file {relative} is missing: rebuild the dataset", root)
    return path


def _place(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` atomically: a hard link when possible, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(target)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    commit(tmp, target)


def _media(cue: Cue) -> list[str]:
    media = cue.media
    found = [*media.still_paths, *media.face_crop_paths]
    found += [p for p in (media.audio_blur_path, media.face_clip_path) if p]
    return found


def _record_set(
    set_id: str, description: str, file_id: str, fields: dict[str, tuple[str, str]], key: str
) -> dict[str, Any]:
    return {
        "@type": "cr:RecordSet",
        "@id": set_id,
        "name": set_id,
        "description": description,
        "key": {"@id": f"{set_id}/{key}"},
        "field": [
            {
                "@type": "cr:Field",
                "@id": f"{set_id}/{name}",
                "name": name,
                "description": text,
                "dataType": kind,
                "source": {"fileObject": {"@id": file_id}, "extract": {"column": name}},
            }
            for name, (kind, text) in fields.items()
        ],
    }


def _file_object(out: Path, name: str, description: str) -> dict[str, Any]:
    return {
        "@type": "cr:FileObject",
        "@id": name,
        "name": name,
        "description": description,
        "contentUrl": name,
        "encodingFormat": "application/x-parquet",
        "contentSize": f"{(out / name).stat().st_size} B",
        "sha256": file_sha256(out / name),
    }


def _agreement_text(agreement: Agreement | None) -> str:
    if agreement is None:
        return "No votes were imported: agreement is not known."
    if agreement.cue_groups == 0:
        return "No cue group has two votes: agreement is not known."
    return (
        f"Krippendorff's alpha (nominal) {agreement.alpha.text()}, Fleiss' kappa "
        f"{agreement.kappa.text()} over {agreement.cue_groups} cue groups, {agreement.votes} "
        f"votes, {agreement.annotators} annotators ({agreement.confidence_level:.0%} bootstrap "
        "intervals)."
    )


def _blur_text(blur: dict[str, Any]) -> str:
    if not blur:
        return "No blur figures were measured."
    parts = []
    for method, figures in blur.items():
        wer = (
            f"median WER of the blurred audio {figures['median_wer_blur']} against "
            f"{figures['median_wer_raw']} for the raw audio ({figures['transcribed']} cue "
            "groups transcribed)"
            if figures["transcribed"]
            else "words not verified with a speech recogniser"
        )
        parts.append(
            f"{method}: {figures['cues']} cue groups, median F0 correlation raw vs blurred "
            f"{figures['median_f0_correlation']}, median speaking-rate ratio "
            f"{figures['median_speaking_rate_ratio']}, {wer}"
        )
    return "; ".join(parts) + "."


def _rai(facts: dict[str, Any], accepted: int) -> dict[str, Any]:
    sources = facts["sources"]
    licences = sorted({s.licence or "unknown" for s in sources})
    reasons = ", ".join(
        f"{status} {reason}: {count}"
        for (status, reason), count in sorted(facts["reasons"].items())
    )
    return {
        "rai:dataCollection": (
            f"{len(sources)} source videos with subtitles (licences: {', '.join(licences) or '-'}) "
            "were cut into subtitle sentences. A sentence became a cue group when one speaking "
            "face was visible and large enough; its stills, face crops, face clip and audio were "
            f"extracted. {accepted} cue groups were accepted; rejected and failed rows: "
            f"{reasons or 'none'}."
        ),
        "rai:dataCollectionType": "Secondary data: published videos and their subtitles.",
        "rai:dataPreprocessingProtocol": (
            "Face gating: cue groups without a detected face, with a face below the minimum "
            "size, with shot cuts or whose face does not move with the voice are rejected. "
            "Audio blurring: the words are made unintelligible while pitch, loudness and "
            "rhythm are kept. Measured blur figures: " + _blur_text(facts["blur"])
        ),
        "rai:dataAnnotationProtocol": (
            "Annotators chose one class per cue group (and perceived gender and age band); "
            "the label is the majority vote. Agreement: " + _agreement_text(facts["agreement"])
        ),
        "rai:annotationsPerItem": _votes_per_item(facts["agreement"]),
        "rai:dataBiases": " ".join(
            line.removeprefix("- ") for line in LIMITATIONS[1:2] + LIMITATIONS[4:]
        ),
        "rai:dataLimitations": " ".join(line.removeprefix("- ") for line in LIMITATIONS),
        "rai:personalSensitiveInformation": PERSONAL_DATA,
        "rai:dataUseCases": INTENDED_USE,
        "rai:dataSocialImpact": (
            "Empathy recognition can support research on supportive dialogue; misuse for "
            "surveillance or emotional profiling of individuals is out of scope."
        ),
    }


def _votes_per_item(agreement: Agreement | None) -> str:
    if agreement is None:
        return "0"
    counts = agreement.votes_per_cue_group
    return ", ".join(
        f"{votes} votes: {groups} cue groups" for votes, groups in sorted(counts.items())
    )


def _cue_rows(dataset: Dataset, labels: dict[str, str]) -> tuple[dict[str, list[Any]], list[str]]:
    columns: dict[str, list[Any]] = {name: [] for name in CUE_FIELDS}
    media: list[str] = []
    for cue in dataset.cues():
        columns["cue_id"].append(cue.cue_id)
        columns["source_id"].append(cue.source_id)
        columns["start_ms"].append(cue.start_ms)
        columns["end_ms"].append(cue.end_ms)
        columns["text"].append(cue.text)
        columns["label"].append(labels.get(cue.cue_id) or cue.label or "")
        columns["gender"].append(cue.gender or "")
        columns["age_band"].append(cue.age_band or "")
        columns["still_paths"].append(PATH_SEPARATOR.join(cue.media.still_paths))
        columns["face_crop_paths"].append(PATH_SEPARATOR.join(cue.media.face_crop_paths))
        columns["audio_blur_path"].append(cue.media.audio_blur_path or "")
        columns["face_clip_path"].append(cue.media.face_clip_path or "")
        media += _media(cue)
    return columns, media


def _attributes(dataset: Dataset) -> dict[str, tuple[str | None, str | None]]:
    table = dataset.labels
    if table is None:
        return {}
    return {
        row["cue_id"]: (row.get("gender"), row.get("age_band"))
        for row in table.select(["cue_id", "gender", "age_band"]).to_pylist()
    }


def _source_table(facts: dict[str, Any]) -> pa.Table:
    sources = facts["sources"]
    return pa.table(
        {
            "source_id": [s.source_id for s in sources],
            "title": [s.title or "" for s in sources],
            "url": [s.url or "" for s in sources],
            "licence": [s.licence or "" for s in sources],
            "attribution": [s.attribution or "" for s in sources],
            "year": pa.array([s.year or 0 for s in sources], pa.int64()),
            "language": [s.language or "" for s in sources],
            "sha256": [s.sha256 or "" for s in sources],
        }
    )


def _cite_key(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name) or "empathynet"


def _jsonld(
    out: Path, facts: dict[str, Any], card: str, accepted: int, media_sets: Sequence[str]
) -> dict[str, Any]:
    sources = facts["sources"]
    licences = sorted({s.licence for s in sources if s.licence})
    distribution: list[dict[str, Any]] = [
        _file_object(out, CUE_TABLE, "One row per accepted cue group."),
        _file_object(out, SOURCE_TABLE, "One row per source video."),
        _file_object(out, MEDIA_TABLE, "Every media file with its size and SHA-256."),
    ]
    for set_id in media_sets:
        pattern, encoding, text = MEDIA_SETS[set_id]
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": set_id,
                "name": set_id,
                "description": text + f" SHA-256 of each file in {MEDIA_TABLE}.",
                "encodingFormat": encoding,
                "includes": pattern,
            }
        )
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": facts["name"],
        "description": card,
        "url": str(facts.get("url") or ""),
        "license": licences or ["unknown"],
        "version": "1.0.0",
        "datePublished": facts["date"],
        "citeAs": (
            f"@misc{{{_cite_key(facts['name'])}, title = {{{facts['name']}: an EmpathyNet "
            f"dataset}}, year = {{{facts['date'][:4]}}}, note = {{made with EmpathyNet}}}}"
        ),
        "creator": {"@type": "sc:Organization", "name": f"EmpathyNet {__version__}"},
        "keywords": ["empathy", "multimodal", "faces", "prosody", "subtitles"],
        "isAccessibleForFree": True,
        **_rai(facts, accepted),
        "distribution": distribution,
        "recordSet": [
            _record_set(
                "cue_groups",
                "Accepted cue groups, each traced to its source and time range.",
                CUE_TABLE,
                CUE_FIELDS,
                "cue_id",
            ),
            _record_set("sources", "The source videos.", SOURCE_TABLE, SOURCE_FIELDS, "source_id"),
            _record_set(
                "media_files", "Every media file with its hash.", MEDIA_TABLE, MEDIA_FIELDS, "path"
            ),
        ],
    }


def export_croissant(
    dataset: str | Path, out: str | Path, *, overwrite: bool = False
) -> ExportSummary:
    """Export ``dataset``'s accepted cue groups as Croissant JSON-LD into the folder ``out``
    (see the module docstring). ``ConfigError`` when ``out`` holds files no export wrote
    (unless ``overwrite``); ``DatasetError`` when a media file is missing."""
    opened = open_dataset(dataset)
    out = Path(out)
    facts = card_facts(opened.root)
    # the day the dataset was last built or labelled, so a re-export gives the same JSON
    stamp = max(
        p.stat().st_mtime
        for p in (opened.layout.dataset_json, opened.layout.sources_parquet)
        if p.exists()
    )
    facts["date"] = datetime.fromtimestamp(stamp, UTC).date().isoformat()
    columns, media = _cue_rows(opened, _labels_of(opened))
    attributes = _attributes(opened)
    for index, cue_id in enumerate(columns["cue_id"]):
        gender, age_band = attributes.get(cue_id, (None, None))
        columns["gender"][index] = columns["gender"][index] or gender or ""
        columns["age_band"][index] = columns["age_band"][index] or age_band or ""
    media = sorted(set(media))
    tables = [CUE_TABLE, SOURCE_TABLE, MEDIA_TABLE]
    names = [JSONLD_NAME, CARD_NAME, *tables, *media]
    with exporting(out, names, FORMAT, overwrite=overwrite):
        sizes: list[int] = []
        hashes: list[str] = []
        for relative in media:
            source = _inside(opened.root, relative)
            target = out / relative
            if not target.resolve().is_relative_to(out.resolve()):
                raise PathEscapeError(f"media path {relative!r} leaves the export folder", out)
            _place(source, target)
            sizes.append(target.stat().st_size)
            hashes.append(file_sha256(target))
        schema = pa.schema(
            [
                (name, pa.int64() if kind == "sc:Integer" else pa.string())
                for name, (kind, _) in CUE_FIELDS.items()
            ]
        )
        atomic_write_table(out / CUE_TABLE, pa.table(columns, schema=schema))
        atomic_write_table(out / SOURCE_TABLE, _source_table(facts))
        atomic_write_table(
            out / MEDIA_TABLE,
            pa.table({"path": media, "bytes": pa.array(sizes, pa.int64()), "sha256": hashes}),
        )
        card = render_card(facts)
        atomic_write_bytes(out / CARD_NAME, card.encode("utf-8"))
        used_sets = [
            set_id
            for set_id, (pattern, _, _) in MEDIA_SETS.items()
            if any(fnmatch(PurePosixPath(p).name, PurePosixPath(pattern).name) for p in media)
        ]
        document = _jsonld(out, facts, card, len(columns["cue_id"]), used_sets)
        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        atomic_write_bytes(out / JSONLD_NAME, text.encode("utf-8"))
    return ExportSummary(FORMAT, out, tuple(sorted(names)), len(columns["cue_id"]))


def _labels_of(dataset: Dataset) -> dict[str, str]:
    table = dataset.labels
    if table is None:
        return {}
    return {
        row["cue_id"]: row["label"]
        for row in table.select(["cue_id", "label"]).to_pylist()
        if row["label"] is not None
    }


__all__ = ["CONTEXT", "JSONLD_NAME", "export_croissant"]
