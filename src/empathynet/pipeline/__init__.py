"""The build: discover sources, cut cue groups in chunks, write a resumable dataset."""

from empathynet.pipeline.build import BuildSummary, build_dataset
from empathynet.pipeline.discover import SourceInput, discover_inputs

__all__ = ["BuildSummary", "SourceInput", "build_dataset", "discover_inputs"]
