"""Labels: taxonomy, vote import, majority aggregation with agreement.

``import_labels(dataset, "votes.csv")`` checks a ``cue_id, annotator, label[, gender,
age_band]`` CSV against the dataset's taxonomy and manifest, keeps every vote in
``labels/votes.parquet`` and writes the majority per cue group to
``labels/aggregate.parquet``.
"""

from empathynet.labels.aggregate import (
    AGGREGATE_SCHEMA,
    DEFAULT_TIE_RULE,
    TIE_RULES,
    aggregate_votes,
    read_aggregate,
)
from empathynet.labels.store import LabelsLayout, dataset_taxonomy
from empathynet.labels.taxonomy import (
    DEFAULT_AGE_BANDS,
    DEFAULT_CLASSES,
    DEFAULT_GENDERS,
    DEFAULT_TAXONOMY,
    Taxonomy,
    load_taxonomy,
    taxonomy_from_mapping,
    write_taxonomy,
)
from empathynet.labels.votes import (
    VOTE_SCHEMA,
    ImportResult,
    LabelFileError,
    LabelSummary,
    Vote,
    import_labels,
    read_label_csv,
    read_votes,
    reaggregate_labels,
    summarize_labels,
)

__all__ = [
    "AGGREGATE_SCHEMA",
    "DEFAULT_AGE_BANDS",
    "DEFAULT_CLASSES",
    "DEFAULT_GENDERS",
    "DEFAULT_TAXONOMY",
    "DEFAULT_TIE_RULE",
    "TIE_RULES",
    "VOTE_SCHEMA",
    "ImportResult",
    "LabelFileError",
    "LabelSummary",
    "LabelsLayout",
    "Taxonomy",
    "Vote",
    "aggregate_votes",
    "dataset_taxonomy",
    "import_labels",
    "load_taxonomy",
    "read_aggregate",
    "read_label_csv",
    "read_votes",
    "reaggregate_labels",
    "summarize_labels",
    "taxonomy_from_mapping",
    "write_taxonomy",
]
