"""Parquet schemas (pyarrow) of the records, and record <-> table conversion.

The schemas are the on-disk contract: DuckDB, pandas and polars read the
manifest directly. A test keeps them in step with the dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import pyarrow as pa

from empathynet.data.models import CueGroup, Source, Utterance

_FACE_BOX = pa.struct(
    [
        ("x", pa.float32()),
        ("y", pa.float32()),
        ("width", pa.float32()),
        ("height", pa.float32()),
        ("score", pa.float32()),
    ]
)

SOURCE_SCHEMA = pa.schema(
    [
        ("source_id", pa.string(), False),
        ("path", pa.string(), False),
        ("duration_ms", pa.int64()),
        ("fps_num", pa.int64()),
        ("fps_den", pa.int64()),
        ("variable_frame_rate", pa.bool_()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("rotation", pa.int32()),
        ("audio_sample_rate", pa.int32()),
        ("audio_streams", pa.int32()),
        ("seek_mode", pa.string()),
        ("video_start_ms", pa.int64()),
        ("audio_start_ms", pa.int64()),
        ("sync_offset_ms", pa.int32()),
        ("sync_peak", pa.float32()),
        ("sync_cues", pa.int32()),
        ("subtitle_origin", pa.string()),
        ("subtitle_path", pa.string()),
        ("timing_offset_ms", pa.int64()),
        ("timing_drift_ms_per_min", pa.float64()),
        ("timing_peak", pa.float64()),
        ("timing_corrected", pa.bool_()),
        ("sha256", pa.string()),
        ("size_bytes", pa.int64()),
        ("provenance", pa.string()),
        ("speaker", pa.string()),
        ("licence", pa.string()),
        ("attribution", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("year", pa.int32()),
        ("language", pa.string()),
        ("status", pa.string(), False),
        ("reason", pa.string()),
    ]
)

UTTERANCE_SCHEMA = pa.schema(
    [
        ("start_ms", pa.int64(), False),
        ("end_ms", pa.int64(), False),
        ("text", pa.string(), False),
        ("nonverbal", pa.list_(pa.string())),
        ("speaker", pa.string()),
        ("event_ids", pa.list_(pa.int64())),
        ("dialogue", pa.bool_()),
        ("source_id", pa.string()),
        ("overlap", pa.bool_()),
        ("transcript_source", pa.string()),
        ("transcript_model", pa.string()),
        ("transcript_confidence", pa.float32()),
        ("low_confidence", pa.bool_()),
    ]
)

CUE_SCHEMA = pa.schema(
    [
        ("cue_id", pa.string(), False),
        ("source_id", pa.string(), False),
        ("start_ms", pa.int64(), False),
        ("end_ms", pa.int64(), False),
        ("text", pa.string(), False),
        ("status", pa.string(), False),
        ("reason", pa.string()),
        ("error", pa.string()),
        ("nonverbal", pa.list_(pa.string())),
        ("speaker", pa.string()),
        ("event_ids", pa.list_(pa.int64())),
        ("transcript_source", pa.string()),
        ("transcript_model", pa.string()),
        ("transcript_confidence", pa.float32()),
        ("face_boxes", pa.list_(_FACE_BOX)),
        ("face_area_fractions", pa.list_(pa.float32())),
        ("face_width_fraction", pa.float32()),
        ("face_height_fraction", pa.float32()),
        ("face_area_fraction", pa.float32()),
        ("face_fraction_min", pa.float32()),
        ("face_detector", pa.string()),
        ("face_coverage", pa.float32()),
        ("face_size_fraction", pa.float32()),
        ("thumb_face_boxes", pa.list_(_FACE_BOX)),
        ("shot_cuts", pa.int32()),
        ("shot_cut_ms", pa.int64()),
        ("speaking_score", pa.float32()),
        ("mouth_activity", pa.float32()),
        ("voiced_fraction", pa.float32()),
        ("speaking_method", pa.string()),
        ("sync_offset_ms", pa.int32()),
        ("sync_score", pa.float32()),
        ("sync_curve", pa.list_(pa.float32())),
        ("clip_path", pa.string()),
        ("face_clip_path", pa.string()),
        ("still_paths", pa.list_(pa.string())),
        ("face_crop_paths", pa.list_(pa.string())),
        ("audio_path", pa.string()),
        ("audio_blur_path", pa.string()),
        ("thumb_path", pa.string()),
        ("thumb_ms", pa.int64()),
        ("media_files", pa.list_(pa.string())),
        ("media_bytes", pa.list_(pa.int64())),
        ("blur_method", pa.string()),
        ("f0_correlation", pa.float32()),
        ("f0_rmse_semitones", pa.float32()),
        ("intensity_correlation", pa.float32()),
        ("speaking_rate_ratio", pa.float32()),
        ("raw_transcript", pa.string()),
        ("blur_transcript", pa.string()),
        ("wer_raw", pa.float32()),
        ("wer_blur", pa.float32()),
        ("wer_blur_vs_raw", pa.float32()),
        ("may_be_intelligible", pa.bool_()),
        ("gender", pa.string()),
        ("age_band", pa.string()),
        ("attribute_origin", pa.string()),
        ("label", pa.string()),
        ("split", pa.string()),
        ("stage_versions", pa.string()),
    ]
)

R = TypeVar("R", Source, Utterance, CueGroup)


def records_to_table(
    records: Iterable[Source | Utterance | CueGroup], schema: pa.Schema
) -> pa.Table:
    """Records -> a table with exactly ``schema`` (missing fields become nulls)."""
    rows = [r.to_dict() for r in records]
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


def table_to_records(table: pa.Table, record_type: type[R]) -> list[R]:
    """A table -> records (columns the record does not know are ignored)."""
    rows: Sequence[dict[str, Any]] = table.to_pylist()
    return [record_type.from_dict(row) for row in rows]
