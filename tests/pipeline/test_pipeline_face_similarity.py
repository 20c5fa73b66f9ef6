"""``face_similarity``, which decides whether the same face continues across a shot cut
(``faces.same_face_similarity``): on real photos of different people and of one face,
and on the generated face crops.

Measured here (detection frames 320 px wide, as the pipeline compares them): different
people -0.47..0.45 (17 pairs; 0.45 for two people side by side in one photo), the same
photo at two resolutions 0.60, re-encoded as JPEG 0.97, a box 2 % off 0.94 but 5 % off
0.53 and shifted 4 % 0.59. It compares how a face looks within one scene (light, colours,
framing), not who it is: Obama in two unrelated photos scores -0.12.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from conftest import shared_path
from empathynet.config import FaceConfig
from empathynet.data.models import FaceBox
from empathynet.demo import SceneName, SceneRenderer
from empathynet.faces.detectors import create_detector
from empathynet.pipeline.cues import face_similarity

Rgb = npt.NDArray[np.uint8]
THRESHOLD = FaceConfig().same_face_similarity


def downscaled(path: Path, width: int = FaceConfig().detection_width) -> Rgb:
    """A photo as the pipeline's detection frames are: RGB, ``width`` pixels wide."""
    image = Image.open(path).convert("RGB")
    height = round(image.height * width / image.width)
    return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS))


def patch(rgb: Rgb, box: FaceBox) -> Rgb:
    height, width = rgb.shape[:2]
    x0, y0 = max(0, int(box.x * width)), max(0, int(box.y * height))
    x1, y1 = int((box.x + box.width) * width), int((box.y + box.height) * height)
    return np.ascontiguousarray(rgb[y0:y1, x0:x1])


@pytest.fixture(scope="module")
def real_faces() -> dict[str, Rgb]:
    """Face patches of real photos, keyed ``person/photo``."""
    pytest.importorskip("mediapipe")
    root = shared_path("faces")
    detector = create_detector(FaceConfig())
    photos = {
        "obama/portrait": "face_recognition/fr_obama.jpg",
        "obama/portrait-480p": "face_recognition/fr_obama-480p.jpg",
        "biden/portrait": "face_recognition/fr_biden.jpg",
        "justin/photo": "fer/fer_justin.jpg",
        "cruise/photo": "dlib/Tom_Cruise_avp_2014_4.jpg",
    }
    faces: dict[str, Rgb] = {}
    for name, relative in photos.items():
        rgb = downscaled(root / relative)
        (box,) = detector.detect(rgb)
        faces[name] = patch(rgb, box)
    # Obama (left) and Biden (right) together, in another room and light.
    rgb = downscaled(root / "face_recognition" / "fr_two_people.jpg")
    left, right = sorted(detector.detect(rgb), key=lambda box: box.x)
    faces["obama/with-biden"] = patch(rgb, left)
    faces["biden/with-obama"] = patch(rgb, right)
    return faces


@pytest.mark.real
def test_different_people_are_not_the_same_face(real_faces: dict[str, Rgb]) -> None:
    pairs = [
        (a, b)
        for a, b in itertools.combinations(sorted(real_faces), 2)
        if a.split("/")[0] != b.split("/")[0]
    ]
    assert len(pairs) == 17
    scores = {pair: face_similarity(real_faces[pair[0]], real_faces[pair[1]]) for pair in pairs}
    assert all(score < THRESHOLD for score in scores.values()), scores
    # Two people side by side in one photo (same light and camera) still differ.
    assert scores["biden/with-obama", "obama/with-biden"] < THRESHOLD


@pytest.mark.real
def test_one_photo_of_a_face_is_the_same_face(real_faces: dict[str, Rgb]) -> None:
    portrait = real_faces["obama/portrait"]
    # The same photograph published at another size (letterboxed 480p).
    assert face_similarity(portrait, real_faces["obama/portrait-480p"]) >= THRESHOLD
    # Re-encoded as a lower-quality JPEG (another copy of the same frame).
    _, encoded = cv2.imencode(".jpg", portrait[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 50])
    copy = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1]
    assert face_similarity(portrait, copy) > 0.8
    # Framed 2 % tighter on each side (a box a pixel or two off across a cut).
    height, width = portrait.shape[:2]
    tighter = portrait[height // 50 : height - height // 50, width // 50 : width - width // 50]
    assert face_similarity(portrait, np.ascontiguousarray(tighter)) > 0.8


# --- generated crops ----------------------------------------------------------------------


def rendered(scene: SceneName, seconds: float, openness: float = 0.0) -> Rgb:
    renderer = SceneRenderer(scene, 640, 360)
    yuv = renderer.frame(seconds, [openness])
    rgb: Rgb = cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)
    return rgb


def crop(rgb: Rgb, scale: float = 1.0) -> Rgb:
    """The large-face scene's face box, in ``rgb`` zoomed by ``scale`` about its centre."""
    (box,) = SceneRenderer("large_face", 640, 360).face_boxes
    height, width = rgb.shape[:2]
    if scale != 1.0:
        zoomed = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        top, left = (zoomed.shape[0] - height) // 2, (zoomed.shape[1] - width) // 2
        rgb = zoomed[top : top + height, left : left + width]
        cx, cy = box.x + box.width / 2, box.y + box.height / 2
        side_x, side_y = box.width * scale, box.height * scale
        x0 = int((cx - width / 2) * scale + width / 2 - side_x / 2)
        y0 = int((cy - height / 2) * scale + height / 2 - side_y / 2)
        return np.ascontiguousarray(rgb[y0 : y0 + int(side_y), x0 : x0 + int(side_x)])
    return np.ascontiguousarray(rgb[box.y : box.y + box.height, box.x : box.x + box.width])


def test_the_generated_face_is_the_same_face_over_time_and_across_a_zoom() -> None:
    before = crop(rendered("large_face", 0.4, openness=0.0))
    speaking = rendered("large_face", 0.4, openness=0.5)  # the mouth half open
    assert face_similarity(before, crop(speaking)) > 0.8
    assert face_similarity(before, crop(speaking, scale=1.2)) > 0.8  # a zoom cut
    # Later: the camera jitter moved the face and the mouth is wide open (measured 0.73).
    later = rendered("large_face", 2.7, openness=0.8)
    assert face_similarity(before, crop(later)) >= THRESHOLD
    assert face_similarity(before, crop(later, scale=1.2)) >= THRESHOLD


@pytest.mark.parametrize("scene", ["coffee", "rocket"])
def test_the_face_box_over_another_picture_is_not_the_face(scene: SceneName) -> None:
    face = crop(rendered("large_face", 0.4))
    other = crop(rendered(scene, 0.4))
    assert face_similarity(face, other) < 0.2
