"""The demo / test media generator: files probe right, subtitles parse, faces and voice are real."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pysubs2
import pytest

from empathynet.data.models import FaceBox as BoxFraction
from empathynet.demo import (
    DEMO_CLIP_NAMES,
    DemoClip,
    FaceBox,
    Phrase,
    ScriptLine,
    make_clip,
    make_long_video,
    plan_script,
)
from empathynet.errors import ConfigError
from empathynet.faces.speaking import MouthMeter
from empathynet.timeline import ms_to_frame_index, ms_to_samples, pts_to_ms

Frames = list[npt.NDArray[np.uint8]]


@pytest.fixture(scope="module")
def demo(demo_media: list[DemoClip]) -> dict[str, DemoClip]:
    return {clip.name: clip for clip in demo_media}


def _video_frames(path: Path, fmt: str = "rgb24") -> Frames:
    with av.open(str(path)) as container:
        return [
            np.asarray(frame.to_ndarray(format=fmt), dtype=np.uint8)
            for frame in container.decode(video=0)
        ]


def _audio(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """Decoded mono audio (float, -1..1) and its rate; the first sample is at t = 0."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = list(container.decode(stream))
        assert frames[0].pts == 0
        samples = np.concatenate([frame.to_ndarray()[0] for frame in frames])
        return samples.astype(np.float32), stream.rate


def _rms_dbfs(samples: npt.NDArray[np.float32]) -> float:
    return 20 * math.log10(max(1e-9, float(np.sqrt(np.mean(samples * samples)))))


def test_demo_set_has_every_case(demo: dict[str, DemoClip]) -> None:
    assert tuple(demo) == DEMO_CLIP_NAMES
    expected = {name: clip.expected for name, clip in demo.items()}
    assert expected == {
        "large_face": "accepted",
        "small_face": "face_too_small",
        "two_faces": "several_faces",
        "no_face": "no_face",
        "shot_cut": "shot_cut",
        "dialogue": "dialogue",
        "no_audio": "no_audio",
        "corrupt": "corrupt",
    }
    for clip in demo.values():
        assert clip.video_path.is_file()
        assert clip.subtitle_path == clip.video_path.with_suffix(".srt")
        assert clip.subtitle_path.is_file()
        assert 6_000 <= clip.duration_ms <= 12_000, clip.name
        assert clip.description


def test_streams_probe_as_h264_and_aac(demo: dict[str, DemoClip]) -> None:
    for clip in demo.values():
        if clip.corrupt:
            continue
        with av.open(str(clip.video_path)) as container:
            video = container.streams.video[0]
            assert video.codec_context.name == "h264"
            assert video.codec_context.pix_fmt == "yuv420p"
            assert (video.codec_context.width, video.codec_context.height) == (640, 360)
            assert video.average_rate == Fraction(25)
            assert video.frames == ms_to_frame_index(clip.duration_ms, Fraction(25))
            assert video.duration is not None and video.time_base is not None
            assert pts_to_ms(video.duration, video.time_base) == clip.duration_ms
            audio = container.streams.audio
            if clip.name == "no_audio":
                assert len(audio) == 0
                assert not clip.has_audio
            else:
                assert len(audio) == 1
                assert audio[0].codec_context.name == "aac"
                assert audio[0].rate == clip.audio_sample_rate == 48_000
                assert audio[0].channels == 1


def test_corrupt_clip_fails_to_open(demo: dict[str, DemoClip]) -> None:
    clip = demo["corrupt"]
    assert clip.corrupt
    intact = demo["no_audio"].video_path.stat().st_size  # a similar clip, for scale
    assert 0 < clip.video_path.stat().st_size < intact
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(clip.video_path))


def test_subtitles_parse_with_pysubs2_and_match_the_truth(demo: dict[str, DemoClip]) -> None:
    for clip in demo.values():
        subs = pysubs2.load(str(clip.subtitle_path))
        got = [(event.start, event.end, event.plaintext) for event in subs]
        assert got == [(cue.start_ms, cue.end_ms, cue.text) for cue in clip.cues], clip.name
        for sentence in clip.sentences:
            assert sentence.start_ms < sentence.speech_start_ms
            assert sentence.speech_start_ms < sentence.speech_end_ms < sentence.end_ms
            assert sentence.end_ms <= clip.duration_ms


def test_large_face_subtitles_have_a_split_sentence_and_a_sound_tag(
    demo: dict[str, DemoClip],
) -> None:
    clip = demo["large_face"]
    texts = [cue.text for cue in clip.cues]
    continued = [
        index
        for index, text in enumerate(texts[:-1])
        if text[-1] not in ".!?" and texts[index + 1][0].islower()
    ]
    assert len(continued) == 1
    split = continued[0]
    spanning = [
        sentence
        for sentence in clip.sentences
        if sentence.start_ms == clip.cues[split].start_ms
        and sentence.end_ms == clip.cues[split + 1].end_ms
    ]
    assert len(spanning) == 1
    assert spanning[0].text == f"{texts[split]} {texts[split + 1]}"
    assert any(text.startswith("[laughs] ") for text in texts)
    assert [sentence.nonverbal for sentence in clip.sentences].count(("laughs",)) == 1
    assert len(clip.sentences) == 3


def test_dialogue_subtitles_have_dashes_and_a_speaker_label(demo: dict[str, DemoClip]) -> None:
    clip = demo["dialogue"]
    first = clip.cues[0].text.split("\n")
    assert len(first) == 2
    assert all(line.startswith("- ") for line in first)
    assert any(cue.text.startswith("JOHN: ") for cue in clip.cues)
    turns = [s for s in clip.sentences if (s.start_ms, s.end_ms) == clip.sentence_times_ms[0]]
    assert [turn.text for turn in turns] == [line[2:] for line in first]
    assert turns[0].speech_end_ms < turns[1].speech_start_ms
    assert [s.speaker for s in clip.sentences].count("JOHN") == 1


def test_voice_during_sentences_and_near_silence_between(demo: dict[str, DemoClip]) -> None:
    for clip in demo.values():
        if clip.corrupt or not clip.has_audio:
            continue
        samples, rate = _audio(clip.video_path)
        # The AAC encoder pads its last 1024-sample frame; the video sets the length.
        assert 0 <= samples.size - ms_to_samples(clip.duration_ms, rate) < 1024
        margin = 30
        for sentence in clip.sentences:
            lo = ms_to_samples(sentence.speech_start_ms + margin, rate)
            hi = ms_to_samples(sentence.speech_end_ms - margin, rate)
            assert _rms_dbfs(samples[lo:hi]) > -30, (clip.name, sentence.text)
        for before, after in itertools.pairwise(clip.cues):
            if after.start_ms - before.end_ms < 4 * margin:
                continue  # the short pause inside a split sentence
            lo = ms_to_samples(before.end_ms + margin, rate)
            hi = ms_to_samples(after.start_ms - margin, rate)
            assert _rms_dbfs(samples[lo:hi]) < -60, (clip.name, before.text)


def _f0_hz(samples: npt.NDArray[np.float32], rate: int) -> list[float]:
    """F0 of the voiced 40 ms windows, by autocorrelation (70-400 Hz)."""
    window = ms_to_samples(40, rate)
    values = []
    for start in range(0, samples.size - window, window // 2):
        part = samples[start : start + window] - samples[start : start + window].mean()
        if _rms_dbfs(part) < -30:
            continue
        corr = np.correlate(part, part, "full")[window - 1 :]
        lo, hi = rate // 400, rate // 70
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] > 0.5 * corr[0]:
            values.append(rate / lag)
    return values


def test_voice_has_a_speech_like_pitch(demo: dict[str, DemoClip]) -> None:
    samples, rate = _audio(demo["large_face"].video_path)
    f0 = _f0_hz(samples, rate)
    assert len(f0) > 50
    low, median, high = np.percentile(f0, [10, 50, 90])
    assert 120 < median < 240
    assert high - low > 25  # intonation, not a steady tone
    narrator, rate = _audio(demo["no_face"].video_path)
    assert 85 < float(np.median(_f0_hz(narrator, rate))) < 150  # the male voice off screen


def test_shot_cut_falls_inside_a_sentence(demo: dict[str, DemoClip]) -> None:
    clip = demo["shot_cut"]
    assert [shot.scene for shot in clip.shots] == ["large_face", "rocket", "large_face"]
    cut, back = clip.cuts_ms
    inside = [s for s in clip.sentences if s.speech_start_ms < cut < s.speech_end_ms]
    assert len(inside) == 1
    assert not any(s.start_ms < back < s.end_ms for s in clip.sentences)
    frames = _video_frames(clip.video_path, "gray")
    change = [
        float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))
        for a, b in itertools.pairwise(frames)
    ]
    cut_frames = {ms_to_frame_index(ms, Fraction(25)) for ms in clip.cuts_ms}
    jumps = {index + 1 for index, value in enumerate(change) if value > 20}
    assert jumps == cut_frames
    assert max(value for index, value in enumerate(change) if index + 1 not in jumps) < 8


def test_face_is_not_frozen_and_mouth_follows_the_voice(demo: dict[str, DemoClip]) -> None:
    clip = demo["large_face"]
    frames = _video_frames(clip.video_path, "gray")
    # The camera drifts in whole pixels, so a few neighbouring frames may repeat.
    assert len({frame.tobytes() for frame in frames}) > 0.8 * len(frames)
    box = clip.shots[0].face_boxes[0]
    # The mouth: the lower middle of the face box.
    top, bottom = box.y + box.height * 6 // 10, box.y + box.height * 9 // 10
    left, right = box.x + box.width // 4, box.x + box.width * 3 // 4
    brightness = np.array([float(f[top:bottom, left:right].mean()) for f in frames])
    times = [index * 40 for index in range(len(frames))]
    speaking = [
        any(s.speech_start_ms <= t < s.speech_end_ms for s in clip.sentences) for t in times
    ]
    silent = [all(t + 40 < c.start_ms or t > c.end_ms for c in clip.cues) for t in times]
    spoken = brightness[np.array(speaking)]
    quiet = brightness[np.array(silent)]
    assert spoken.mean() < quiet.mean() - 5
    assert spoken.std() > 2 * quiet.std()  # the mouth opens and closes with syllables


def _mouth_openings(clip: DemoClip) -> list[tuple[int, float]]:
    """``(time_ms, opening)`` of every frame of the clip's first shot, measured with FaceMesh
    (inner-lip gap / face height) in the scene's face box."""
    shot = clip.shots[0]
    box = shot.face_boxes[0]
    fraction = BoxFraction(
        box.x / clip.width,
        box.y / clip.height,
        box.width / clip.width,
        box.height / clip.height,
        1.0,
    )
    found: list[tuple[int, float]] = []
    with MouthMeter() as meter:
        for index, frame in enumerate(_video_frames(clip.video_path)):
            time_ms = index * 1000 // clip.fps
            if not shot.start_ms <= time_ms < shot.end_ms:
                continue
            opening = meter.measure(frame, fraction).opening
            assert opening is not None, (clip.name, time_ms)
            found.append((time_ms, opening))
    return found


@pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")
def test_face_mesh_sees_the_lips_part_with_the_voice(demo: dict[str, DemoClip]) -> None:
    pytest.importorskip("mediapipe")
    clip = demo["large_face"]
    openings = _mouth_openings(clip)
    voiced = [
        value
        for time_ms, value in openings
        if any(s.speech_start_ms + 40 <= time_ms < s.speech_end_ms - 40 for s in clip.sentences)
    ]
    silent = [
        value
        for time_ms, value in openings
        if all(time_ms + 40 < c.start_ms or time_ms > c.end_ms for c in clip.cues)
    ]
    assert len(voiced) > 100 and len(silent) > 30
    closed = float(np.median(silent))
    low, high = np.percentile(voiced, [10, 90])
    # Open on the loud syllables by at least 2 % of the face height, shut again between
    # syllables, and at rest between sentences.
    assert high - closed >= 0.02
    assert high - low >= 0.02
    assert np.percentile(silent, 90) - np.percentile(silent, 10) < 0.01
    # The on-screen face stays still while a voice off screen speaks.
    dialogue = demo["dialogue"]
    off_screen = [s for s in dialogue.sentences if s.face is None]
    assert off_screen
    still = [
        value
        for time_ms, value in _mouth_openings(dialogue)
        if any(s.speech_start_ms <= time_ms < s.speech_end_ms for s in off_screen)
    ]
    assert len(still) > 20
    assert np.percentile(still, 90) - np.percentile(still, 10) < 0.01


def _mediapipe_boxes(frame: npt.NDArray[np.uint8], model: int) -> list[tuple[float, ...]]:
    mp = pytest.importorskip("mediapipe")
    detector = mp.solutions.face_detection.FaceDetection(
        model_selection=model, min_detection_confidence=0.5
    )
    with detector:
        result = detector.process(frame)
    boxes: list[tuple[float, ...]] = []
    for detection in result.detections or []:
        box = detection.location_data.relative_bounding_box
        boxes.append((box.xmin, box.ymin, box.width, box.height))
    return boxes


def _stills(clip: DemoClip, count: int = 3) -> Frames:
    frames = _video_frames(clip.video_path)
    picks = np.linspace(0, len(frames) - 1, count + 2)[1:-1].astype(int)
    return [frames[index] for index in picks]


def _overlap(box: tuple[float, ...], truth: FaceBox, width: int, height: int) -> float:
    """Intersection over union of a relative box and a pixel box."""
    x0, y0 = box[0] * width, box[1] * height
    x1, y1 = x0 + box[2] * width, y0 + box[3] * height
    ix = max(0.0, min(x1, truth.x + truth.width) - max(x0, truth.x))
    iy = max(0.0, min(y1, truth.y + truth.height) - max(y0, truth.y))
    inter = ix * iy
    return inter / ((x1 - x0) * (y1 - y0) + truth.width * truth.height - inter)


@pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")
def test_mediapipe_sees_large_small_two_and_no_faces(demo: dict[str, DemoClip]) -> None:
    pytest.importorskip("mediapipe")
    for still in _stills(demo["large_face"]):
        boxes = _mediapipe_boxes(still, model=0)
        assert len(boxes) == 1
        assert boxes[0][2] >= 0.2 and boxes[0][3] >= 0.2
        assert _overlap(boxes[0], demo["large_face"].shots[0].face_boxes[0], 640, 360) > 0.6
    for still in _stills(demo["small_face"]):
        # The short-range model cannot see a face this small; the full-range one can.
        assert _mediapipe_boxes(still, model=0) == []
        boxes = _mediapipe_boxes(still, model=1)
        assert len(boxes) == 1
        assert boxes[0][2] < 0.2 and boxes[0][3] < 0.2
    for still in _stills(demo["two_faces"]):
        boxes = sorted(_mediapipe_boxes(still, model=0))
        assert len(boxes) == 2
        assert all(box[2] >= 0.2 and box[3] >= 0.2 for box in boxes)
        for box, truth in zip(boxes, demo["two_faces"].shots[0].face_boxes, strict=True):
            assert _overlap(box, truth, 640, 360) > 0.5
    for still in _stills(demo["no_face"]):
        assert _mediapipe_boxes(still, model=0) == []
        assert _mediapipe_boxes(still, model=1) == []


def test_haar_cascade_sees_the_large_face(demo: dict[str, DemoClip]) -> None:
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "CascadeClassifier"):
        pytest.skip("this OpenCV build has no CascadeClassifier (OpenCV 5 wheels dropped it)")
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    for still in _stills(demo["large_face"], count=2):
        gray = cv2.cvtColor(still, cv2.COLOR_RGB2GRAY)
        faces = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5)
        assert len(faces) == 1
        _, _, width, height = faces[0]
        assert width >= 0.2 * 640 and height >= 0.2 * 360


def test_make_clip_default_is_short_and_repeatable(tmp_path: Path) -> None:
    first = make_clip(tmp_path / "a.mp4", seed=3)
    second = make_clip(tmp_path / "b.mp4", seed=3)
    assert 2_000 <= first.duration_ms <= 5_000
    assert not first.video_path.with_name(".a.mp4.partial").exists()
    assert first.video_path.read_bytes() == second.video_path.read_bytes()
    assert first.sentences == second.sentences
    third = make_clip(tmp_path / "c.mp4", seed=4, audio=False)
    assert third.subtitle_path.read_bytes() == first.subtitle_path.read_bytes()
    assert third.sentences == first.sentences  # the seed moves the camera, not the words
    assert third.video_path.read_bytes() != first.video_path.read_bytes()


def test_plan_script_truth_for_split_sentences_and_tags() -> None:
    plan = plan_script(
        [
            ScriptLine("We walked", (Phrase("We walked"),), continues=True),
            ScriptLine("[sighs] all day.", (Phrase("hmm", nonverbal="sighs"), Phrase("all day."))),
            ScriptLine("ANNA: Done.", (Phrase("Done.", speaker="ANNA", face=None),)),
        ],
        lead_in_ms=500,
    )
    assert [cue.text for cue in plan.cues] == ["We walked", "[sighs] all day.", "ANNA: Done."]
    assert plan.cues[0].start_ms == 500
    walked, done = plan.sentences
    assert walked.text == "We walked all day."
    assert (walked.start_ms, walked.end_ms) == (plan.cues[0].start_ms, plan.cues[1].end_ms)
    assert walked.nonverbal == ("sighs",)
    assert (done.speaker, done.face) == ("ANNA", None)
    assert plan.duration_ms == plan.cues[-1].end_ms + 600


def test_bad_requests_raise_config_errors(tmp_path: Path) -> None:
    unknown = "unknown scene 'beach'; known: large_face, small_face, two_faces, coffee, rocket"
    with pytest.raises(ConfigError, match=unknown):
        make_clip(tmp_path / "x.mp4", scene="beach")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=unknown):
        make_clip(tmp_path / "x.mp4", shots=[(0, "large_face"), (1000, "beach")])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="frame size"):
        make_clip(tmp_path / "x.mp4", width=641)
    with pytest.raises(ConfigError, match="first shot"):
        make_clip(tmp_path / "x.mp4", shots=[(500, "large_face")])
    with pytest.raises(ConfigError, match="non-verbal"):
        plan_script([ScriptLine("[laughs]", (Phrase("ha", nonverbal="laughs"),))])
    with pytest.raises(ConfigError, match="fewer sentences"):
        make_long_video(tmp_path / "long.mp4", minutes=Fraction(1, 6), sentences=20)
    assert not list(tmp_path.iterdir())


def test_long_video_has_many_sentences_and_mostly_a_large_face(tmp_path: Path) -> None:
    clip = make_long_video(tmp_path / "long.mp4", minutes=0.5)
    assert clip.duration_ms == 30_000
    assert len(clip.sentences) == 8  # 15 a minute
    with av.open(str(clip.video_path)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (1280, 720)
        assert video.frames == 750
        assert container.streams.audio[0].codec_context.name == "aac"
    assert len(pysubs2.load(str(clip.subtitle_path))) == 8
    face_ms = sum(s.end_ms - s.start_ms for s in clip.shots if s.scene == "large_face")
    assert face_ms > 0.7 * clip.duration_ms
    for cut in clip.cuts_ms:
        assert not any(s.start_ms <= cut < s.end_ms for s in clip.sentences)
