"""Greedy IoU tracking on synthetic boxes."""

from __future__ import annotations

import pytest

from empathynet.data.models import FaceBox
from empathynet.errors import ConfigError
from empathynet.faces.tracking import FaceTrack, FrameFaces, iou, sample_times_ms, track_faces


def box(x: float, y: float = 0.3, size: float = 0.2, score: float = 0.9) -> FaceBox:
    return FaceBox(x=x, y=y, width=size, height=size, score=score)


def frames_of(*boxes_per_frame: list[FaceBox], step_ms: int = 200) -> list[FrameFaces]:
    return [FrameFaces(i * step_ms, tuple(boxes)) for i, boxes in enumerate(boxes_per_frame)]


def test_sample_times_are_exact_integers() -> None:
    assert sample_times_ms(1000, 2000, 5) == [1000, 1200, 1400, 1600, 1800]
    assert sample_times_ms(0, 1000, 3) == [0, 333, 666]
    times = sample_times_ms(0, 3_600_000, 7)  # no drift over an hour
    assert len(times) == 25_200 and times[-1] == 3_600_000 - 143
    assert sample_times_ms(500, 500, 5) == []
    with pytest.raises(ConfigError):
        sample_times_ms(0, 1000, 0)


def test_iou() -> None:
    assert iou(box(0.1), box(0.1)) == pytest.approx(1.0)
    assert iou(box(0.1), box(0.5)) == 0.0
    # half overlap in x: intersection 0.1*0.2, union 0.04+0.04-0.02
    assert iou(box(0.1), box(0.2)) == pytest.approx(0.02 / 0.06)


def test_one_steady_face_is_one_track_with_summary() -> None:
    sizes = [0.30, 0.32, 0.28, 0.30, 0.31]
    frames = frames_of(*[[box(0.3, size=s, score=0.8 + i / 100)] for i, s in enumerate(sizes)])
    (track,) = track_faces(frames)
    assert track.coverage == 1.0
    assert track.median_width == pytest.approx(0.30)
    assert track.median_area == pytest.approx(0.09)
    assert track.min_size("dims") == pytest.approx(0.28)
    assert track.mean_score == pytest.approx(0.82)
    assert track.times_ms == (0, 200, 400, 600, 800)


def test_gaps_up_to_the_limit_keep_one_track() -> None:
    steady = [box(0.3)]
    frames = frames_of(steady, steady, [], [], steady, steady, [], steady)
    (track,) = track_faces(frames, max_gap_frames=2)
    assert len(track.boxes) == 5
    assert track.coverage == pytest.approx(5 / 8)
    # a gap of three frames splits it
    frames = frames_of(steady, [], [], [], steady)
    assert len(track_faces(frames, max_gap_frames=2)) == 2
    assert len(track_faces(frames, max_gap_frames=3)) == 1


def test_two_faces_crossing_keep_their_identities() -> None:
    # A moves right, B moves left at the same height; at frame 4 they coincide.
    frames = []
    for i in range(9):
        a = box(0.1 + 0.05 * i, score=0.91)
        b = box(0.5 - 0.05 * i, score=0.92)
        frames.append(FrameFaces(i * 200, (b, a) if i % 2 else (a, b)))
    tracks = track_faces(frames, iou_threshold=0.3)
    assert len(tracks) == 2
    for track in tracks:
        xs = [b.x for b in track.boxes]
        assert len(xs) == 9
        assert xs == sorted(xs) or xs == sorted(xs, reverse=True), xs
    directions = sorted(track.boxes[-1].x - track.boxes[0].x for track in tracks)
    assert directions == pytest.approx([-0.4, 0.4])


def test_a_new_face_starts_a_new_track() -> None:
    frames = frames_of([box(0.1)], [box(0.1), box(0.6)], [box(0.1), box(0.6)])
    tracks = track_faces(frames)
    assert [len(t.boxes) for t in tracks] == [3, 2]
    assert tracks[1].start_ms == 200
    assert tracks[1].coverage == pytest.approx(2 / 3)


def test_box_at_interpolates_between_detections() -> None:
    track = FaceTrack(0, (0, 400), (box(0.1), box(0.3, size=0.4)), sampled_frames=3)
    mid = track.box_at(200)
    assert mid.x == pytest.approx(0.2)
    assert mid.width == pytest.approx(0.3)
    assert track.box_at(-50) == track.boxes[0]
    assert track.box_at(900) == track.boxes[1]


def test_frames_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="increasing"):
        track_faces([FrameFaces(200, ()), FrameFaces(200, ())])
    with pytest.raises(ConfigError):
        track_faces([], iou_threshold=0.0)
