"""Acceptance on real labelled material (../shared/data/emotion), and the missing extra."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import shared_path
from empathynet.classes import label_agreement, suggest_classes
from empathynet.errors import MissingDependencyError
from empathynet.testing.realdata import (
    write_face_video_dataset,
    write_meld_dataset,
    write_speech_dataset,
)


@pytest.mark.real
@pytest.mark.slow
def test_meld_text_clusters_are_purer_than_the_majority_class(tmp_path: Path) -> None:
    csv_path = shared_path("emotion", "meld", "meld_dev_sent_emo.csv")
    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("the embed extra is not installed: pip install 'empathynet[embed]'")
    meld = write_meld_dataset(tmp_path / "meld", csv_path)
    assert len(meld.cue_ids) == 1109
    suggestion = suggest_classes(meld.root, "8", ["text"], seed=0)
    result = suggestion.result(8)
    assert result.agreement is not None  # the manifest carries MELD's labels
    agreement = label_agreement(result.assignment, list(meld.labels["label"]))
    assert agreement == result.agreement
    # modest: emotion is not topic; but above putting everything in one cluster
    assert agreement.purity > agreement.majority_share + 0.01
    assert agreement.adjusted_rand > 0.0


@pytest.mark.real
def test_blurred_speech_prosody_clusters_follow_arousal(tmp_path: Path) -> None:
    folder = shared_path("emotion", "pyaudioanalysis_speechEmotion")
    speech = write_speech_dataset(tmp_path / "speech", folder)
    suggestion = suggest_classes(speech.root, "2-4", ["audio_blur"], seed=0)
    for result in suggestion.results:
        agreement = label_agreement(result.assignment, list(speech.labels["label"]))
        assert agreement.purity > agreement.majority_share + 0.15


def test_text_view_without_the_embed_extra_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empathynet.classes import features
    from empathynet.testing.synthetic import write_synthetic_dataset

    def missing() -> None:
        raise MissingDependencyError("no sentence_transformers")

    monkeypatch.setattr(features, "load_sentence_model", missing)
    root = tmp_path / "d"
    write_synthetic_dataset(root, cue_groups=10, sources=2)
    with pytest.raises(
        MissingDependencyError, match=r"pip install 'empathynet\[embed\]'"
    ) as caught:
        suggest_classes(root, 3, ["text"])
    assert "views without text" in str(caught.value)


@pytest.mark.real
def test_mead_faces_cluster_by_person_unless_centred_by_speaker(tmp_path: Path) -> None:
    folder = shared_path("emotion", "mead_face_video")
    mead = write_face_video_dataset(tmp_path / "mead", folder)
    assert len(mead.cue_ids) == 24
    plain = suggest_classes(mead.root, 3, ["stills"], seed=0).result(3)
    centred = suggest_classes(mead.root, 4, ["stills"], seed=0, centre_by="speaker").result(4)
    speakers, emotions = list(mead.labels["speaker"]), list(mead.labels["label"])
    assert label_agreement(plain.assignment, speakers).adjusted_rand > 0.9  # who, not how
    assert label_agreement(centred.assignment, speakers).adjusted_rand < 0.2
    assert label_agreement(centred.assignment, emotions).adjusted_rand > (
        label_agreement(plain.assignment, emotions).adjusted_rand + 0.1
    )
