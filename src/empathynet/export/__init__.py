"""Exports of a dataset for others to use: WebDataset shards, a Hugging Face ``datasets``
folder, Croissant JSON-LD with its Responsible-AI fields, and the dataset card.

``export_dataset(dataset, format, out)`` is what ``empathynet export`` runs; each format's
function is in its own module (``webdataset``, ``hf``, ``croissant``; ``card`` writes the
card). An export never replaces a user's files in ``out`` (``store.outputs``). Every cue
group keeps its source id and time range, so it traces back to its video.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from empathynet.errors import ConfigError, MissingDependencyError

#: Export formats: name -> (module, function).
FORMATS: dict[str, tuple[str, str]] = {
    "webdataset": ("empathynet.export.webdataset", "export_webdataset"),
    "hf": ("empathynet.export.hf", "export_hf"),
    "croissant": ("empathynet.export.croissant", "export_croissant"),
}
EXPORT_INSTALL = "pip install 'empathynet[export]'"


def export_dataset(dataset: str | Path, format: str, out: str | Path, **options: Any) -> Any:
    """Export ``dataset`` as ``format`` into the folder ``out`` (see the module docstring);
    ``options`` go to the format's function. Returns its ``ExportSummary``."""
    import importlib

    if format not in FORMATS:
        raise ConfigError(f"unknown export format {format!r}; formats: {sorted(FORMATS)}")
    module_name, function = FORMATS[format]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise MissingDependencyError(
            f"the {format} export needs {error.name or 'a package'}: {EXPORT_INSTALL}"
        ) from None
    return getattr(module, function)(dataset, out, **options)


__all__ = ["EXPORT_INSTALL", "FORMATS", "export_dataset"]
