"""More demo clips: one large speaking face saying sentences of known emotion.

``generate_demo_talks`` writes ``talk_01.mp4`` + ``.srt`` ... each with a few sentences,
one per line of ``TALK_SENTENCES`` in turn, so the demo dataset has enough labelled cue
groups over enough sources for splits and multiple-choice tasks. The intended class of
each sentence is in ``TALK_SENTENCES``; ``demo_labels`` turns it into annotator votes.
"""

from __future__ import annotations

from pathlib import Path

from empathynet.demo.media import DemoClip, ScriptLine, make_clip, plan_script
from empathynet.demo.voice import Phrase

#: (sentence, intended class): words that carry the class, for the text baselines.
TALK_SENTENCES: tuple[tuple[str, str], ...] = (
    ("I am so happy to see you again!", "joy"),
    ("This is the best day of my whole life.", "joy"),
    ("We won the prize, I can hardly believe it!", "joy"),
    ("What a wonderful surprise party.", "joy"),
    ("I cannot believe you lied to me again.", "anger"),
    ("Get out of my house right now!", "anger"),
    ("Stop shouting at me, I am furious.", "anger"),
    ("You broke my car and did not even call.", "anger"),
    ("I miss her every single day.", "sadness"),
    ("Nobody came to the funeral.", "sadness"),
    ("I lost my job and I do not know what to do.", "sadness"),
    ("It is so lonely here without you.", "sadness"),
    ("Did you hear that noise downstairs?", "fear"),
    ("Please do not leave me alone in the dark.", "fear"),
    ("Someone is following us, I am scared.", "fear"),
    ("What if the bridge collapses under us?", "fear"),
    ("Wait, you are getting married tomorrow?", "surprise"),
    ("Oh my, I never expected to see you here!", "surprise"),
    ("The whole town is gone, just like that?", "surprise"),
    ("No way, you built this all by yourself?", "surprise"),
    ("That smell from the fridge is disgusting.", "disgust"),
    ("There is a hair in my soup, how revolting.", "disgust"),
    ("I cannot eat this, it is rotten.", "disgust"),
    ("The floor is covered in slime, gross.", "disgust"),
    ("The train leaves at nine in the morning.", "neutral"),
    ("Please put the boxes on the second shelf.", "neutral"),
    ("The meeting is in room four today.", "neutral"),
    ("We need two more chairs for the table.", "neutral"),
)

#: Voice pitches (espeak-ng, 0-99) that tell the talks apart a little.
_PITCHES = (38, 46, 54, 62, 70)


def generate_demo_talks(
    out_dir: Path, *, count: int = 14, per_clip: int = 4, seed: int = 0
) -> list[DemoClip]:
    """Write ``count`` talk clips of ``per_clip`` sentences each into ``out_dir``.

    Sentences are taken in a fixed interleaved order, so each clip mixes classes and every
    class appears in many clips. The same arguments give the same files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # interleave: sentence k of class c comes before sentence k+1 of any class
    by_class: dict[str, list[str]] = {}
    for text, label in TALK_SENTENCES:
        by_class.setdefault(label, []).append(text)
    order = [texts[k] for k in range(4) for texts in by_class.values() if k < len(texts)]
    clips: list[DemoClip] = []
    for number in range(count):
        pitch = _PITCHES[number % len(_PITCHES)]
        texts = [order[(number * per_clip + i) % len(order)] for i in range(per_clip)]
        lines = [ScriptLine(text, (Phrase(text, pitch=pitch),)) for text in texts]
        clips.append(
            make_clip(
                out_dir / f"talk_{number + 1:02d}.mp4",
                script=plan_script(lines),
                name=f"talk_{number + 1:02d}",
                description="one large face saying sentences of known emotion",
                expected="accepted",
                preset="veryfast",
                seed=seed + number,
            )
        )
    return clips
