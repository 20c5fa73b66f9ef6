"""Benchmark tasks: classification, multiple choice and generation, with leak-free splits.

``make_task(dataset, TaskRequest(family="mcq", query="stills", answer="audio_blur"))``
writes ``tasks/<name>/spec.yaml`` and one Parquet file of items per split;
``validate_task(dataset, name)`` re-checks every constraint against the dataset;
``make_suite(dataset, "standard")`` makes the standard suite.
"""

from empathynet.tasks.cuetable import CueTable, load_cue_table
from empathynet.tasks.generation import TARGET_VIEWS, load_target
from empathynet.tasks.make import (
    STANDARD_SUITE,
    MadeTask,
    SuiteResult,
    TaskRequest,
    build_task,
    make_suite,
    make_task,
    remake_tasks,
)
from empathynet.tasks.mcq import DISTRACTOR_MODES, DROP_REASONS, McqRules
from empathynet.tasks.spec import (
    FAMILIES,
    TaskLayout,
    TaskSummary,
    list_tasks,
    read_items,
    read_spec,
    read_spec_values,
)
from empathynet.tasks.splits import SPLITS, SplitLeakageError, assign_splits, check_split_leakage
from empathynet.tasks.validate import TaskValidationError, ValidationReport, validate_task
from empathynet.tasks.views import VIEW_NAMES, MissingViewError, TaskInputError, parse_views

__all__ = [
    "DISTRACTOR_MODES",
    "DROP_REASONS",
    "FAMILIES",
    "SPLITS",
    "STANDARD_SUITE",
    "TARGET_VIEWS",
    "VIEW_NAMES",
    "CueTable",
    "MadeTask",
    "McqRules",
    "MissingViewError",
    "SplitLeakageError",
    "SuiteResult",
    "TaskInputError",
    "TaskLayout",
    "TaskRequest",
    "TaskSummary",
    "TaskValidationError",
    "ValidationReport",
    "assign_splits",
    "build_task",
    "check_split_leakage",
    "list_tasks",
    "load_cue_table",
    "load_target",
    "make_suite",
    "make_task",
    "parse_views",
    "read_items",
    "read_spec",
    "read_spec_values",
    "remake_tasks",
    "validate_task",
]
