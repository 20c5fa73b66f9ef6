from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from empathynet import timeline

ms_values = st.integers(min_value=0, max_value=48 * 3_600_000)
rates = st.sampled_from([8000, 16000, 22050, 44100, 48000])
time_bases = st.sampled_from(
    [
        Fraction(1, 90000),
        Fraction(1, 1000),
        Fraction(1, 25),
        Fraction(1001, 30000),
        Fraction(1, 12800),
    ]
)
frame_rates = st.sampled_from(
    [Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001), Fraction(60)]
)


@given(ms_values, rates)
def test_ms_samples_round_trip(ms: int, rate: int) -> None:
    # a sample rate >= 1000 Hz resolves every millisecond
    assert timeline.samples_to_ms(timeline.ms_to_samples(ms, rate), rate) == ms


@given(ms_values, time_bases)
def test_ms_pts_round_trip_when_time_base_finer_than_ms(ms: int, time_base: Fraction) -> None:
    pts = timeline.ms_to_pts(ms, time_base)
    back = timeline.pts_to_ms(pts, time_base)
    if time_base <= Fraction(1, 1000):
        assert back == ms  # a tick of at most 1 ms: every ms comes back exactly
    else:
        # A coarser tick cannot hold every ms: half a tick lost on the way in, and the way
        # back rounds to whole ms (half a ms more): 16,333 ms at 1001/30000 comes back 16,350.
        assert abs(Fraction(back - ms, 1000)) <= time_base / 2 + Fraction(1, 2000)


@given(ms_values, frame_rates)
def test_frame_on_screen_contains_the_instant(ms: int, fps: Fraction) -> None:
    index = timeline.ms_to_frame_index(ms, fps)
    start = Fraction(index) / fps
    assert start <= Fraction(ms, 1000) < start + 1 / fps


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_floor_ceil_nearest_order(value: int) -> None:
    tb = Fraction(1, 3)
    lo = timeline.ms_to_pts(value, tb, "floor")
    hi = timeline.ms_to_pts(value, tb, "ceil")
    mid = timeline.ms_to_pts(value, tb, "nearest")
    assert lo <= mid <= hi
    assert hi - lo <= 1


def test_known_values() -> None:
    assert timeline.ms_to_samples(1000, 16000) == 16000
    assert timeline.ms_to_samples(1, 44100) == 44  # 44.1 -> 44
    assert timeline.ms_to_samples(1, 44100, "ceil") == 45
    assert timeline.pts_to_ms(3003, Fraction(1, 30000)) == 100  # 100.1 ms
    assert timeline.ms_to_frame_index(40, Fraction(25)) == 1
    assert timeline.ms_to_frame_index(39, Fraction(25)) == 0
    assert timeline.frame_index_to_ms(1, Fraction(30000, 1001)) == 33  # 33.37 ms
    assert timeline.format_ms(3_723_004) == "01:02:03.004"
    assert timeline.format_ms(-1500) == "-00:00:01.500"


@pytest.mark.parametrize(
    "call",
    [
        lambda: timeline.ms_to_samples(1, 0),
        lambda: timeline.samples_to_ms(1, -1),
        lambda: timeline.ms_to_frame_index(1, Fraction(0)),
        lambda: timeline.frame_index_to_ms(1, Fraction(0)),
    ],
)
def test_non_positive_rates_are_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]
