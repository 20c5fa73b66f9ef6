"""The demo (extra ``demo``): generated media for the demo, tests and benchmarks (a real
face photo, a synthetic voice, subtitles) and ``run.run_demo``, the demo end to end.

``generate_demo_media`` writes the demo set (one clip per case the pipeline must handle),
``make_clip`` one short clip for a unit test, ``make_long_video`` a long video for speed
benchmarks. Each returns ``DemoClip`` ground truth (sentence times, shots, face boxes).
"""

from empathynet.demo.media import (
    DEFAULT_LINES,
    DEMO_CLIP_NAMES,
    DemoClip,
    DemoCue,
    DemoSentence,
    DemoShot,
    PlacedSpeech,
    ScriptLine,
    ScriptPlan,
    benchmark_sentences,
    corrupt_file,
    generate_demo_media,
    make_clip,
    make_long_video,
    plan_script,
    srt_time,
)
from empathynet.demo.scenes import SCENE_NAMES, FaceBox, SceneName, SceneRenderer
from empathynet.demo.voice import Phrase, Speech, synthesize

__all__ = [
    "DEFAULT_LINES",
    "DEMO_CLIP_NAMES",
    "SCENE_NAMES",
    "DemoClip",
    "DemoCue",
    "DemoSentence",
    "DemoShot",
    "FaceBox",
    "Phrase",
    "PlacedSpeech",
    "SceneName",
    "SceneRenderer",
    "ScriptLine",
    "ScriptPlan",
    "Speech",
    "benchmark_sentences",
    "corrupt_file",
    "generate_demo_media",
    "make_clip",
    "make_long_video",
    "plan_script",
    "srt_time",
    "synthesize",
]
