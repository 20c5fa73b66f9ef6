"""The build blurs every accepted cue; ``empathynet blur`` re-blurs and verifies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from empathynet.cli.main import main
from empathynet.demo import DemoClip
from empathynet.errors import DatasetError
from empathynet.media.audio import read_wav
from empathynet.pipeline.build import read_manifest
from empathynet.store.layout import DatasetLayout


def test_accepted_cues_carry_blurred_audio_and_its_figures(
    demo: tuple[list[DemoClip], Path],
) -> None:
    _, dataset = demo
    layout = DatasetLayout(dataset)
    accepted = [r for r in read_manifest(dataset) if r.status == "accepted"]
    assert accepted
    for row in accepted:
        assert row.blur.method == "resynth"
        assert row.media.audio_path is not None and row.media.audio_blur_path is not None
        raw, rate = read_wav(layout.resolve(row.media.audio_path))
        blurred, blurred_rate = read_wav(layout.resolve(row.media.audio_blur_path))
        assert blurred_rate == rate and len(blurred) == len(raw)
        assert not np.array_equal(raw, blurred)
        assert row.blur.f0_correlation is not None and row.blur.f0_correlation >= 0.9
        assert (
            row.blur.speaking_rate_ratio is not None and 0.8 <= row.blur.speaking_rate_ratio <= 1.25
        )
        assert row.asr.wer_blur is None  # the speech recogniser runs in 'blur verify' only
    rejected = [r for r in read_manifest(dataset) if r.status != "accepted"]
    assert all(r.media.audio_blur_path is None for r in rejected)


def test_blur_command_reblurs_with_another_method(
    demo: tuple[list[DemoClip], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, dataset = demo
    copy = tmp_path / "d"
    shutil.copytree(dataset, copy)
    before = {r.cue_id: r for r in read_manifest(copy)}
    assert main(["blur", str(copy), "--method", "lowpass", "--no-progress", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    after = read_manifest(copy)
    assert {r.blur.method for r in after if r.status == "accepted"} == {"lowpass"}
    assert report["lowpass"]["cues"] == sum(r.status == "accepted" for r in after)
    layout = DatasetLayout(copy)
    for row in after:
        old = before[row.cue_id]
        if row.status != "accepted":
            assert row == old
            continue
        assert row.media.audio_blur_path == old.media.audio_blur_path
        new_audio, _ = read_wav(layout.resolve(row.media.audio_blur_path or ""))
        old_audio, _ = read_wav(dataset / (old.media.audio_blur_path or ""))
        assert not np.array_equal(new_audio, old_audio)
    assert json.loads((copy / "dataset.json").read_text())["blur_method"] == "lowpass"
    assert main(["blur", str(copy), "--method", "nonsense"]) == 2
    assert "unknown blur method 'nonsense'" in capsys.readouterr().err


def test_blur_verify_of_a_folder_that_is_not_a_dataset_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DatasetError, match="not an EmpathyNet dataset"):
        read_manifest(tmp_path)
    missing = tmp_path / "no" / "such"
    assert main(["blur", "verify", str(missing), "--no-asr", "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "not an EmpathyNet dataset" in captured.err
    assert "no accepted cue has blurred audio" not in captured.out


@pytest.mark.slow
def test_blur_verify_finds_the_words_gone(
    demo: tuple[list[DemoClip], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("faster_whisper", reason="the asr extra is not installed")
    _, dataset = demo
    copy = tmp_path / "d"
    shutil.copytree(dataset, copy)
    assert main(["blur", "verify", str(copy), "--no-progress", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["resynth"]
    assert report["recognised_raw"] >= 3  # the recogniser understands the raw demo voice
    assert report["median_wer_raw"] <= 0.5
    assert report["median_wer_blur"] >= 0.9
    assert report["possibly_intelligible"] == []
    rows = [r for r in read_manifest(copy) if r.status == "accepted"]
    assert all(r.asr.raw_transcript and r.asr.wer_blur is not None for r in rows)


def test_reblur_says_the_words_were_not_checked_and_counts_the_same_cues(
    demo: tuple[list[DemoClip], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, dataset = demo
    copy = tmp_path / "d"
    shutil.copytree(dataset, copy)
    accepted = sum(r.status == "accepted" for r in read_manifest(copy))
    assert accepted < len(read_manifest(copy))  # rejected and failed rows are not blurred
    assert main(["blur", str(copy), "--method", "lowpass"]) == 0
    captured = capsys.readouterr()
    progress = captured.err.strip().splitlines()[-1]
    assert progress.startswith(f"blurring (lowpass): {accepted}/{accepted} cues (100%)")
    out = captured.out.splitlines()
    assert out[0] == f"blur method lowpass: {accepted} cues"
    assert not any("may still be intelligible" in line or "_wer_" in line for line in out)
    assert (
        "  intelligibility: not checked (no speech recogniser has run on this blur); "
        f"run: empathynet blur verify {copy}"
    ) in out
    assert main(["blur", str(copy), "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)["resynth"]
    assert report["transcribed"] == 0 and report["possibly_intelligible"] is None


def test_blur_verify_takes_its_options_before_the_dataset(
    demo: tuple[list[DemoClip], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, dataset = demo
    assert main(["blur", "verify", "--json", "--no-asr", "--no-progress", str(dataset)]) == 0
    before = json.loads(capsys.readouterr().out)
    assert main(["blur", "verify", str(dataset), "--no-asr", "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out) == before
    assert before["resynth"]["cues"] == sum(r.status == "accepted" for r in read_manifest(dataset))
    # --method is for blurring, not verifying
    with pytest.raises(SystemExit) as exit_info:
        main(["blur", "verify", str(dataset), "--method", "lowpass"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --method lowpass" in capsys.readouterr().err
