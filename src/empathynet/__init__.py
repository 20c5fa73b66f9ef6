"""EmpathyNet: videos with subtitles -> a multimodal benchmark of empathy cues.

import empathynet
dataset = empathynet.open_dataset("my-dataset")   # see empathynet.store.dataset
for cue in dataset.cues():
    samples, rate = cue.load_audio()               # blurred audio
"""

__version__ = "0.1.0"

# after __version__: the modules below read it
from empathynet import evaluate
from empathynet.errors import EmpathyNetError
from empathynet.evaluate.api import evaluate_model
from empathynet.store.dataset import Cue, Dataset, open_dataset

__all__ = [
    "Cue",
    "Dataset",
    "EmpathyNetError",
    "__version__",
    "evaluate",
    "evaluate_model",
    "open_dataset",
]
