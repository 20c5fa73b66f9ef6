"""Faces on real talking-head clips (../shared/data/video/talking_head): detection,
tracking, face size and the speaking score. Frames are decoded here with PyAV at
320 px width; audio is resampled to 16 kHz mono float32.

The clips have no subtitles of their own except GRID's; the speech spans below
come from ../shared/data/README.md (ffmpeg silencedetect).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np
import pytest

from conftest import shared_path
from empathynet.config import FaceConfig
from empathynet.faces import (
    FaceDetector,
    FaceTrack,
    MouthMeter,
    MouthSample,
    create_detector,
    detect_frames,
    pick_speaker,
    sample_times_ms,
    score_track,
    speaking_score,
    track_faces,
)

pytestmark = [
    pytest.mark.real,
    pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning"),
]

CLIPS = {
    "videoretalking_face1.mp4": [(0, 2350), (3530, 4490)],
    "videoretalking_face2.mp4": [(0, 1970), (2670, 3830)],
    "videoretalking_face4.mp4": [],
    "videoretalking_face5.mp4": [(0, 2600), (3700, 4900)],
    "lipnet_grid_bbaf2n.mpg": [(400, 2500)],
    "lipnet_grid_lbbc2a.mpg": [(450, 2000)],
    "lipnet_grid_swiz3n.mpg": [(550, 2750)],
}
#: Haar box area / frame area per clip, as listed in ../shared/data/README.md
README_HAAR_AREA = {
    "videoretalking_face1.mp4": (0.12, 0.14),
    "videoretalking_face2.mp4": (0.19, 0.20),
    "videoretalking_face4.mp4": (0.12, 0.14),
    "videoretalking_face5.mp4": (0.34, 0.40),
    "lipnet_grid_bbaf2n.mpg": (0.19, 0.23),
    "lipnet_grid_lbbc2a.mpg": (0.19, 0.23),
    "lipnet_grid_swiz3n.mpg": (0.19, 0.23),
}


@dataclass
class Clip:
    frames: dict[int, np.ndarray]  #: sampled time (ms) -> RGB frame shown at that time
    audio: np.ndarray  #: 16 kHz mono float32
    audio_start_ms: int
    end_ms: int


def decode(name: str, sample_fps: int = 5, width: int = 320) -> Clip:
    path = shared_path("video", "talking_head", name)
    decoded: list[tuple[int, np.ndarray]] = []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            time_ms = round(frame.pts * frame.time_base * 1000)
            height = round(frame.height * width / frame.width)
            decoded.append((time_ms, frame.to_ndarray(width=width, height=height, format="rgb24")))
    times = [t for t, _ in decoded]
    sampled = {}
    for t in sample_times_ms(times[0], times[-1] + 1, sample_fps):
        index = int(np.searchsorted(times, t, side="right")) - 1
        sampled[t] = decoded[index][1]
    chunks = []
    audio_start_ms = None
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
        for frame in container.decode(container.streams.audio[0]):
            if audio_start_ms is None:
                audio_start_ms = round(frame.pts * frame.time_base * 1000)
            chunks.extend(o.to_ndarray().reshape(-1) for o in resampler.resample(frame))
        chunks.extend(o.to_ndarray().reshape(-1) for o in resampler.resample(None))
    return Clip(sampled, np.concatenate(chunks), audio_start_ms or 0, times[-1])


@pytest.fixture(scope="module")
def clips() -> dict[str, Clip]:
    return {name: decode(name) for name in CLIPS}


@pytest.fixture(scope="module")
def mediapipe() -> Iterator[FaceDetector]:
    detector = create_detector(FaceConfig())
    yield detector
    detector.close()


@pytest.fixture(scope="module")
def meter() -> Iterator[MouthMeter]:
    with MouthMeter() as made:
        yield made


def only_track(detector: FaceDetector, clip: Clip) -> FaceTrack:
    tracks = track_faces(detect_frames(detector, clip.frames.items()))
    full = [t for t in tracks if t.coverage >= 0.9]
    assert len(full) == 1, [(t.coverage, t.median_area) for t in tracks]
    return full[0]


def test_one_face_track_per_clip_and_size_classes(
    clips: dict[str, Clip], mediapipe: FaceDetector
) -> None:
    large = {"dims": set(), "height": set(), "area": set()}
    for name, clip in clips.items():
        track = only_track(mediapipe, clip)
        assert track.coverage == 1.0, name
        for measure, names in large.items():
            if track.median_size(measure) >= 0.2:
                names.add(name)
    # measured with mediapipe short range at 320 px: widths 0.31-0.49, areas 0.10-0.24
    assert large["dims"] == set(CLIPS)
    assert large["height"] == set(CLIPS)
    assert large["area"] == {"videoretalking_face5.mp4"}


def test_haar_area_fractions_match_the_readme(clips: dict[str, Clip]) -> None:
    with create_detector(FaceConfig(detector="haar")) as haar:
        for name, (low, high) in README_HAAR_AREA.items():
            clip = clips[name]
            every_other = list(clip.frames.items())[::2]  # Haar is 20x slower
            tracks = track_faces(detect_frames(haar, every_other))
            main = max(tracks, key=lambda t: t.coverage)
            assert main.coverage >= 0.9, name
            assert low - 0.03 <= main.median_area <= high + 0.03, (name, main.median_area)


def shifted_scores(
    times: list[int], samples: list[MouthSample], clip: Clip, config: FaceConfig
) -> list[float]:
    """Scores of the same mouth with the clip's audio rotated by 0.5 s .. end - 0.5 s."""
    duration_ms = len(clip.audio) * 1000 // 16_000
    return [
        speaking_score(
            times, samples, np.roll(clip.audio, -shift_ms * 16), clip.audio_start_ms, 16_000, config
        ).score
        for shift_ms in range(500, duration_ms - 500, 100)
    ]


def test_speaking_score_beats_audio_from_other_times(
    clips: dict[str, Clip], mediapipe: FaceDetector, meter: MouthMeter
) -> None:
    """Over a whole clip (speech and pauses) the mouth moves with its own voice.

    Measured (landmarks + pixels, 5 fps): true r 0.31-0.72, the median over
    shifted audio -0.27..+0.02, and each true score beat 92-100 % of the shifts.
    Inside a single speech span the same comparison is not reliable (see the
    report): syllables are faster than 5 frames per second.
    """
    config = FaceConfig()
    for name, clip in clips.items():
        track = only_track(mediapipe, clip)
        times = sorted(clip.frames)
        samples = [meter.measure(clip.frames[t], track.box_at(t)) for t in times]
        true = speaking_score(times, samples, clip.audio, clip.audio_start_ms, 16_000, config)
        assert true.method == "landmarks" and true.landmark_frames == len(times), name
        assert not true.clear_non_speaker, name
        others = shifted_scores(times, samples, clip, config)
        assert true.score >= float(np.median(others)) + 0.15, (name, true.score)
        assert float(np.mean(np.array(others) < true.score)) >= 0.75, name
        # the fallback alone (no landmarks): measured r 0.30-0.82, beat 95-100 %
        pixels_only = [MouthSample(None, s.patch) for s in samples]
        fallback = speaking_score(times, pixels_only, clip.audio, clip.audio_start_ms, 16_000)
        assert fallback.method == "pixels"
        others = shifted_scores(times, pixels_only, clip, config)
        assert fallback.score >= float(np.median(others)) + 0.15, (name, fallback.score)
        assert float(np.mean(np.array(others) < fallback.score)) >= 0.75, name


def test_speech_spans_score_higher_than_shifted_audio_on_average(
    clips: dict[str, Clip], mediapipe: FaceDetector, meter: MouthMeter
) -> None:
    """Inside single speech spans the score is weak (measured: r > the shifted
    median in 7 of 9 spans; one span beat only 30 % of the shifts), so only the
    average over the 9 spans is asserted (measured: 0.20 against -0.08)."""
    config = FaceConfig()
    true_scores, shifted_medians = [], []
    for name, spans in CLIPS.items():
        clip = clips[name]
        track = only_track(mediapipe, clip)
        for start_ms, end_ms in spans:
            times = [t for t in sorted(clip.frames) if start_ms <= t < end_ms]
            samples = [meter.measure(clip.frames[t], track.box_at(t)) for t in times]
            true = speaking_score(times, samples, clip.audio, clip.audio_start_ms, 16_000, config)
            true_scores.append(true.score)
            shifted_medians.append(float(np.median(shifted_scores(times, samples, clip, config))))
    assert len(true_scores) == 9
    assert np.mean(true_scores) >= np.mean(shifted_medians) + 0.15


def test_speakers_in_speech_spans_are_never_rejected(
    clips: dict[str, Clip], mediapipe: FaceDetector, meter: MouthMeter
) -> None:
    stills = 0
    for name, spans in CLIPS.items():
        clip = clips[name]
        track = only_track(mediapipe, clip)
        for start_ms, end_ms in spans:
            frames = {t: f for t, f in clip.frames.items() if start_ms <= t < end_ms}
            result = score_track(meter, track, frames, clip.audio, clip.audio_start_ms)
            assert result.voiced_fraction >= 0.5, (name, start_ms)
            assert not result.clear_non_speaker, (name, start_ms, result)
            # measured (landmark tracking): ≥ 0.0050; a frozen face (FaceMesh jitter) ≤ 0.0022
            assert result.mouth_activity > 1.5 * FaceConfig().speaking_still_threshold
            # the same face frozen on its first frame: FaceMesh jitter only, far less motion;
            # it is a clear non-speaker whenever that jitter is under the still threshold
            # (measured 0.00003-0.0022; the threshold, 0.003, stays below real speakers)
            frozen = dict.fromkeys(frames, frames[min(frames)])
            still = score_track(meter, track, frozen, clip.audio, clip.audio_start_ms)
            assert still.mouth_activity < 0.6 * result.mouth_activity, (name, start_ms, still)
            threshold = FaceConfig().speaking_still_threshold
            assert still.clear_non_speaker == (still.mouth_activity < threshold)
            stills += still.clear_non_speaker
    assert stills >= 5  # most frozen faces are caught


@pytest.mark.parametrize("name", ["videoretalking_face2.mp4", "lipnet_grid_bbaf2n.mpg"])
def test_two_faces_the_speaker_is_the_one_moving_with_the_voice(
    clips: dict[str, Clip], meter: MouthMeter, name: str
) -> None:
    """Left: the real clip. Right: the same person frozen on one frame (a silent
    listener) during the first speech span, or the same clip 2 s later (a mouth
    that moves, but not with this voice) over the whole clip."""
    clip = clips[name]
    times = sorted(clip.frames)
    start_ms, end_ms = CLIPS[name][0]
    in_span = [t for t in times if start_ms <= t < end_ms]
    frozen = {t: clip.frames[in_span[0]] for t in in_span}
    later = {t: clip.frames[times[(i + 10) % len(times)]] for i, t in enumerate(times)}
    config = FaceConfig(detection_width=640)
    with create_detector(config) as detector:
        for right in (frozen, later):
            frames = {t: np.concatenate([clip.frames[t], right[t]], axis=1) for t in right}
            tracks = track_faces(detect_frames(detector, frames.items()))
            assert len(tracks) == 2
            tracks.sort(key=lambda t: t.boxes[0].x)  # left, right
            scores = [
                score_track(meter, t, frames, clip.audio, clip.audio_start_ms, config=config)
                for t in tracks
            ]
            assert pick_speaker(scores) == 0, scores
            assert not scores[0].clear_non_speaker
            assert scores[1].clear_non_speaker == (right is frozen), scores[1]
