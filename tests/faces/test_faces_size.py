"""Face size measures and the faces configuration."""

from __future__ import annotations

import pytest

from empathynet.config import EmpathyNetConfig, FaceConfig, from_mapping
from empathynet.data.models import FaceBox
from empathynet.errors import ConfigError
from empathynet.faces.size import SIZE_MEASURES, is_large, size_fraction


def box(width: float, height: float) -> FaceBox:
    return FaceBox(x=0.1, y=0.1, width=width, height=height, score=0.9)


def test_dims_needs_both_width_and_height() -> None:
    assert is_large(box(0.20, 0.20))
    assert is_large(box(0.25, 0.40))
    assert not is_large(box(0.19, 0.60))  # tall but narrow: width fails
    assert not is_large(box(0.60, 0.19))


def test_height_and_area_measures() -> None:
    narrow_tall = box(0.15, 0.40)
    assert is_large(narrow_tall, measure="height")
    assert not is_large(narrow_tall, measure="dims")
    assert not is_large(narrow_tall, measure="area")  # 0.06 of the area
    big = box(0.45, 0.45)  # 0.2025 of the area
    assert is_large(big, measure="area")
    assert not is_large(box(0.44, 0.44), measure="area")
    assert size_fraction(big, "area") == pytest.approx(0.2025)
    assert size_fraction(narrow_tall, "dims") == pytest.approx(0.15)
    assert size_fraction(narrow_tall, "height") == pytest.approx(0.40)


def test_fraction_option() -> None:
    assert is_large(box(0.12, 0.12), fraction=0.1)
    assert not is_large(box(0.12, 0.12), fraction=0.15)


def test_bad_measure_or_fraction() -> None:
    assert set(SIZE_MEASURES) == {"dims", "height", "area"}
    with pytest.raises(ConfigError, match="width"):
        is_large(box(0.3, 0.3), measure="width")
    with pytest.raises(ConfigError, match=r"\(0, 1\]"):
        is_large(box(0.3, 0.3), fraction=0.0)


def test_face_config_defaults_and_mapping() -> None:
    config = EmpathyNetConfig().faces
    assert config.detector == "mediapipe"
    assert config.sample_fps >= 5
    assert config.large_fraction == 0.2
    assert config.size_measure == "dims"
    built = from_mapping(EmpathyNetConfig, {"faces": {"size_measure": "area", "sample_fps": 10}})
    assert built.faces.size_measure == "area"
    assert built.faces.sample_fps == 10


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"sample_fps": 4}, "sample_fps"),
        ({"size_measure": "width"}, "size_measure"),
        ({"large_fraction": 1.5}, "large_fraction"),
        ({"iou_threshold": -0.1}, "iou_threshold"),
        ({"max_gap_frames": -1}, "max_gap_frames"),
        ({"voice_range_db": 0.0}, "voice_range_db"),
    ],
)
def test_face_config_rejects_bad_values(options: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        from_mapping(FaceConfig, options)
