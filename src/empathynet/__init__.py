"""EmpathyNet: videos with subtitles -> a multimodal benchmark of empathy cues."""

from empathynet.errors import EmpathyNetError

__version__ = "0.1.0"

__all__ = ["EmpathyNetError", "__version__"]
