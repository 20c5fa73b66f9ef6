"""Records (Source, Utterance, CueGroup and its parts) and the Parquet schemas they map to."""

from empathynet.data.models import (
    CUE_PARTS,
    CUE_STATUSES,
    AsrCheck,
    BlurCheck,
    CueGroup,
    CueMedia,
    FaceBox,
    FaceSummary,
    Source,
    SpeakerChecks,
    Utterance,
    make_cue_id,
)
from empathynet.data.schemas import CUE_SCHEMA, SOURCE_SCHEMA, UTTERANCE_SCHEMA

__all__ = [
    "CUE_PARTS",
    "CUE_SCHEMA",
    "CUE_STATUSES",
    "SOURCE_SCHEMA",
    "UTTERANCE_SCHEMA",
    "AsrCheck",
    "BlurCheck",
    "CueGroup",
    "CueMedia",
    "FaceBox",
    "FaceSummary",
    "Source",
    "SpeakerChecks",
    "Utterance",
    "make_cue_id",
]
