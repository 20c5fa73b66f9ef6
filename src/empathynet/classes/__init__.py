"""Class discovery: cluster a dataset's cue groups so a person can choose its classes.

``suggest_classes(dataset, k, views, seed)`` clusters the accepted cue groups on their
text (sentence embeddings), blurred-audio prosody and still images for a range of k and
writes ``reports/classes/index.html`` and ``suggestion.json``; ``apply_classes`` turns
named clusters into ``labels/taxonomy.yaml``; ``write_prelabels`` writes machine
pre-labels (VADER sentiment, cluster ids) to ``labels/prelabels.parquet``, apart from
the human votes. ``cluster_purity`` / ``label_agreement`` measure clusters against
known labels.
"""

from empathynet.classes.apply import (
    ApplyResult,
    apply_classes,
    parse_names,
    read_applied,
    read_names_file,
)
from empathynet.classes.cluster import (
    LabelAgreement,
    cluster_purity,
    cluster_range,
    label_agreement,
    parse_k,
)
from empathynet.classes.features import CLUSTER_VIEWS, DEFAULT_VIEWS, check_views, cue_features
from empathynet.classes.prelabels import (
    PRELABEL_METHODS,
    PRELABEL_SCHEMA,
    PrelabelResult,
    prelabels_path,
    read_prelabels,
    write_prelabels,
)
from empathynet.classes.suggest import (
    ClusterSummary,
    KResult,
    Suggestion,
    read_suggestion,
    suggest_classes,
)

__all__ = [
    "CLUSTER_VIEWS",
    "DEFAULT_VIEWS",
    "PRELABEL_METHODS",
    "PRELABEL_SCHEMA",
    "ApplyResult",
    "ClusterSummary",
    "KResult",
    "LabelAgreement",
    "PrelabelResult",
    "Suggestion",
    "apply_classes",
    "check_views",
    "cluster_purity",
    "cluster_range",
    "cue_features",
    "label_agreement",
    "parse_k",
    "parse_names",
    "prelabels_path",
    "read_applied",
    "read_names_file",
    "read_prelabels",
    "read_suggestion",
    "suggest_classes",
    "write_prelabels",
]
