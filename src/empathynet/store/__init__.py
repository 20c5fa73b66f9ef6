"""The dataset directory: layout, safe paths, atomic writes, manifest reading."""

from empathynet.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_table
from empathynet.store.layout import DatasetLayout, safe_join

__all__ = [
    "DatasetLayout",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_table",
    "safe_join",
]
