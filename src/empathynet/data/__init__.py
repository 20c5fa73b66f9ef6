"""Records (Source, Utterance, CueGroup) and the Parquet schemas they map to."""

from empathynet.data.models import (
    CUE_STATUSES,
    CueGroup,
    FaceBox,
    Source,
    Utterance,
    make_cue_id,
)
from empathynet.data.schemas import CUE_SCHEMA, SOURCE_SCHEMA, UTTERANCE_SCHEMA

__all__ = [
    "CUE_SCHEMA",
    "CUE_STATUSES",
    "SOURCE_SCHEMA",
    "UTTERANCE_SCHEMA",
    "CueGroup",
    "FaceBox",
    "Source",
    "Utterance",
    "make_cue_id",
]
