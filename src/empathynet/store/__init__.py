"""The dataset directory: layout, safe paths, atomic writes, the writers' lock."""

from empathynet.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_table
from empathynet.store.layout import DatasetLayout, read_dataset_json, require_dataset, safe_join
from empathynet.store.lock import dataset_lock, writes_dataset

__all__ = [
    "DatasetLayout",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_table",
    "dataset_lock",
    "read_dataset_json",
    "require_dataset",
    "safe_join",
    "writes_dataset",
]
