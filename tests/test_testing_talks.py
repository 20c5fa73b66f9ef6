from __future__ import annotations

from collections import Counter
from pathlib import Path

import av

from empathynet.demo.labels import demo_label_rows
from empathynet.demo.talks import TALK_SENTENCES, generate_demo_talks


def test_talks_say_sentences_of_known_class_and_labels_agree(tmp_path: Path) -> None:
    clips = generate_demo_talks(tmp_path, count=2, per_clip=3)
    assert [c.name for c in clips] == ["talk_01", "talk_02"]
    intended = dict(TALK_SENTENCES)
    texts = [s.text for c in clips for s in c.sentences]
    assert len(texts) == 6 and len(set(texts)) == 6 and all(t in intended for t in texts)
    assert len({intended[t] for t in texts}) >= 5  # the clips mix classes
    for clip in clips:
        with av.open(str(clip.video_path)) as container:
            assert container.streams.audio and container.streams.video
    rows = demo_label_rows([(f"cue-{i}", text) for i, text in enumerate(texts)])
    by_cue: dict[str, Counter[str]] = {}
    for cue_id, _, label, gender, age_band in rows:
        by_cue.setdefault(cue_id, Counter())[label] += 1
        assert (gender, age_band) == ("female", "adult")
    for i, text in enumerate(texts):
        label, votes = by_cue[f"cue-{i}"].most_common(1)[0]
        assert label == intended[text] and votes >= 2
