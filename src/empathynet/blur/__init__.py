"""Audio blurring: words made unintelligible, pitch, loudness and speaking rate kept.

``create_blur_method(BlurConfig(method=...))`` gives a registered ``BlurMethod``
(``resynth``: prosody resynthesis, the default; ``lowpass``: steep low-pass filter;
``splice``: random splicing of the cue's own speech);
``verify_blur`` measures per cue what survived (F0, loudness, speaking rate) and, with
a ``Recognizer`` (the optional ``asr`` extra), whether the words did;
``summarize_blur`` sums up many cues and names those that may still be intelligible.
"""

from empathynet.blur.asr import Recognizer, asr_available
from empathynet.blur.methods import (
    BLUR_METHODS,
    BlurMethod,
    LowpassBlur,
    ResynthBlur,
    blur_pitch,
    create_blur_method,
)
from empathynet.blur.splice import SpliceBlur
from empathynet.blur.verify import (
    BlurFigures,
    BlurSummary,
    may_be_intelligible,
    summarize_blur,
    verify_blur,
)
from empathynet.blur.wer import normalize_words, word_error_rate

__all__ = [
    "BLUR_METHODS",
    "BlurFigures",
    "BlurMethod",
    "BlurSummary",
    "LowpassBlur",
    "Recognizer",
    "ResynthBlur",
    "SpliceBlur",
    "asr_available",
    "blur_pitch",
    "create_blur_method",
    "may_be_intelligible",
    "normalize_words",
    "summarize_blur",
    "verify_blur",
    "word_error_rate",
]
