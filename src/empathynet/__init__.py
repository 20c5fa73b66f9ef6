"""EmpathyNet: videos with subtitles -> a multimodal benchmark of empathy cues.

    import empathynet
    dataset = empathynet.open_dataset("my-dataset")   # see empathynet.store.dataset
    for cue in dataset.cues():
        samples, rate = cue.load_audio()               # blurred audio
    results = empathynet.evaluate(dataset, ["mcq-stills-to-audio"], model)  # or a baseline name

The names below load on first use, so ``import empathynet`` (and the command line) stays
quick.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_LAZY: dict[str, str] = {
    "Cue": "empathynet.store.dataset",
    "Dataset": "empathynet.store.dataset",
    "open_dataset": "empathynet.store.dataset",
    "evaluate_model": "empathynet.evaluate.api",
    "EmpathyNetError": "empathynet.errors",
}

__all__ = [
    "Cue",
    "Dataset",
    "EmpathyNetError",
    "__version__",
    "evaluate",
    "evaluate_model",
    "open_dataset",
]


def __getattr__(name: str) -> Any:
    if name == "evaluate":  # the subpackage, callable as evaluate_model
        return importlib.import_module("empathynet.evaluate")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'empathynet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
