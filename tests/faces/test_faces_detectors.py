"""Face detectors: generated images from a real photo (skimage) and the real photos
in ../shared/data/faces (dlib's ground-truth boxes)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import skimage.data

from conftest import shared_path
from empathynet.config import FaceConfig
from empathynet.data.models import FaceBox
from empathynet.errors import ConfigError, MediaError, MissingDependencyError
from empathynet.faces import DETECTORS, FaceDetector, create_detector, is_large
from empathynet.faces.tracking import iou

DETECTOR_NAMES = ("mediapipe", "haar")

pytestmark = pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")


@pytest.fixture(scope="module")
def detectors() -> Iterator[dict[str, FaceDetector]]:
    made = {
        name: create_detector(FaceConfig(detector=name))
        for name in (*DETECTOR_NAMES, "mediapipe_full")
    }
    yield made
    for detector in made.values():
        detector.close()


def astronaut_face_crop() -> np.ndarray:
    """A 256 × 256 crop of skimage's astronaut photo with her face in the middle."""
    return np.ascontiguousarray(skimage.data.astronaut()[30:286, 100:356])


def load_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))  # applies the EXIF orientation: the displayed frame
    assert bgr is not None, path
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def test_registry_names() -> None:
    assert {"mediapipe", "mediapipe_full", "haar"} <= set(DETECTORS.names())
    with pytest.raises(ConfigError, match="known: haar, mediapipe"):
        create_detector(FaceConfig(detector="yolo"))


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_large_face_crop(detectors: dict[str, FaceDetector], name: str) -> None:
    (face,) = detectors[name].detect(astronaut_face_crop())
    assert 0.3 < face.width < 0.5 and 0.3 < face.height < 0.5
    assert is_large(face, 0.2, "dims")
    assert is_large(face, 0.2, "height")
    assert not is_large(face, 0.2, "area")  # ≈ 0.16 of the area
    assert face.score >= 0.5


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_small_face_padded_into_a_big_frame(detectors: dict[str, FaceDetector], name: str) -> None:
    frame = np.full((480, 640, 3), 128, np.uint8)
    frame[100:356, 300:556] = astronaut_face_crop()
    (face,) = detectors[name].detect(frame)
    assert 0.1 < face.width < 0.2 and 0.15 < face.height < 0.25
    assert not is_large(face, 0.2, "dims")
    # the box lies where the face was pasted
    assert 300 / 640 < face.x + face.width / 2 < 556 / 640
    assert 100 / 480 < face.y + face.height / 2 < 356 / 480


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_two_faces_side_by_side(detectors: dict[str, FaceDetector], name: str) -> None:
    crop = astronaut_face_crop()
    frame = np.full((256, 640, 3), 128, np.uint8)
    frame[:, :256] = crop
    frame[:, 384:] = crop[:, ::-1]
    faces = detectors[name].detect(frame)
    assert len(faces) == 2
    assert sorted(f.x + f.width / 2 < 0.5 for f in faces) == [False, True]
    for face in faces:
        # narrow (≈ 0.15 of the width) but tall (≈ 0.4 of the height)
        assert not is_large(face, 0.2, "dims")
        assert is_large(face, 0.2, "height")


@pytest.mark.parametrize("name", (*DETECTOR_NAMES, "mediapipe_full"))
def test_no_face_images(detectors: dict[str, FaceDetector], name: str) -> None:
    gradient = np.tile(np.linspace(0, 255, 320).astype(np.uint8)[None, :, None], (240, 1, 3))
    assert detectors[name].detect(gradient) == []
    assert detectors[name].detect(skimage.data.coffee()) == []
    assert detectors[name].detect(skimage.data.chelsea()) == []  # a cat is not a face


def test_full_range_finds_a_small_face_short_range_misses(
    detectors: dict[str, FaceDetector],
) -> None:
    frame = np.full((480, 640, 3), 128, np.uint8)
    frame[100:260, 300:460] = cv2.resize(astronaut_face_crop(), (160, 160))
    assert detectors["mediapipe"].detect(frame) == []
    (face,) = detectors["mediapipe_full"].detect(frame)
    assert face.width < 0.1


def test_detection_width_only_changes_speed(detectors: dict[str, FaceDetector]) -> None:
    big = cv2.resize(astronaut_face_crop(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    (at_320,) = detectors["mediapipe"].detect(big)
    (at_crop,) = detectors["mediapipe"].detect(astronaut_face_crop())
    assert iou(at_320, at_crop) > 0.9


def test_boxes_are_clipped_to_the_frame(detectors: dict[str, FaceDetector]) -> None:
    crop = astronaut_face_crop()
    (face,) = detectors["mediapipe"].detect(crop[:, 90:])  # cut through the face's left side
    assert face.x == 0.0
    assert 0.0 < face.width <= 1.0 and face.x + face.width <= 1.0


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((0, 10, 3), np.uint8),
        [[0, 0, 0]],
    ],
)
def test_bad_frames_are_refused(detectors: dict[str, FaceDetector], frame: Any) -> None:
    with pytest.raises(MediaError, match="H×W×3 uint8"):
        detectors["haar"].detect(frame)


def test_missing_mediapipe_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # makes `import mediapipe` fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'mediapipe==0\.10\.14'"):
        create_detector(FaceConfig(detector="mediapipe"))


def test_mediapipe_without_bundled_models_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks_only = types.ModuleType("mediapipe")
    tasks_only.__version__ = "0.10.30"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mediapipe", tasks_only)
    with pytest.raises(MissingDependencyError, match="no bundled models"):
        create_detector(FaceConfig(detector="mediapipe_full"))


def test_opencv_without_haar_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(cv2, "CascadeClassifier")
    detector = DETECTORS.get("haar")(FaceConfig(detector="haar"))
    with pytest.raises(MissingDependencyError, match="pip install 'opencv-contrib-python=="):
        detector.setup()


def test_models_load_without_network() -> None:
    """The bundled models load and run in a process with no network at all."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rn", "true"]).returncode != 0:
        pytest.skip("unshare -rn (a network-less namespace) is not available here")
    code = (
        "import skimage.data\n"
        "from empathynet.config import FaceConfig\n"
        "from empathynet.faces import create_detector, MouthMeter\n"
        "img = skimage.data.astronaut()\n"
        "for name in ('mediapipe', 'mediapipe_full', 'haar'):\n"
        "    assert len(create_detector(FaceConfig(detector=name)).detect(img)) == 1, name\n"
        "box = create_detector().detect(img)[0]\n"
        "assert MouthMeter().measure(img, box).opening is not None\n"
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('192.0.2.1', 80), timeout=1)\n"
        "except OSError:\n"
        "    print('offline-ok')\n"
    )
    run = subprocess.run(
        [unshare, "-rn", sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "offline-ok" in run.stdout


# --- real photos --------------------------------------------------------------------


def dlib_ground_truth() -> dict[str, list[FaceBox]]:
    """Image name -> ground-truth face boxes (fractions) from dlib's XML files."""
    folder = shared_path("faces", "dlib")
    truth: dict[str, list[FaceBox]] = {}
    for xml in sorted(folder.glob("*_with_face_landmarks.xml")):
        for image in ET.parse(xml).getroot().iter("image"):
            width, height = int(image.get("width", "0")), int(image.get("height", "0"))
            truth[image.get("file", "")] = [
                FaceBox(
                    x=int(b.get("left", "0")) / width,
                    y=int(b.get("top", "0")) / height,
                    width=int(b.get("width", "0")) / width,
                    height=int(b.get("height", "0")) / height,
                    score=1.0,
                )
                for b in image.iter("box")
            ]
    assert len(truth) == 9
    return truth


def best_iou(face: FaceBox, found: list[FaceBox]) -> float:
    return max((iou(face, other) for other in found), default=0.0)


@pytest.mark.real
def test_mediapipe_matches_dlib_ground_truth(detectors: dict[str, FaceDetector]) -> None:
    folder = shared_path("faces", "dlib")
    matched_large, total_large, matched_all, total_all = 0, 0, 0, 0
    for name, faces in dlib_ground_truth().items():
        rgb = load_rgb(folder / name)
        short = detectors["mediapipe"].detect(rgb)
        full = detectors["mediapipe_full"].detect(rgb)
        for face in faces:
            if face.width >= 0.12:  # short range is for near (large) faces
                total_large += 1
                matched_large += best_iou(face, short) >= 0.5
            total_all += 1
            matched_all += best_iou(face, full) >= 0.5
    # measured: short range 10/10 faces ≥ 0.12 wide; full range 43/43 faces of any size
    assert total_large == 10 and matched_large == total_large
    assert total_all == 43 and matched_all >= 0.95 * total_all


@pytest.mark.real
@pytest.mark.parametrize(
    ("photo", "count"),
    [
        ("fer/fer_no-faces.jpg", 0),
        ("fer/fer_justin.jpg", 1),
        ("face_recognition/fr_obama.jpg", 1),
        ("face_recognition/fr_two_people.jpg", 2),
    ],
)
@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_face_counts_on_real_photos(
    detectors: dict[str, FaceDetector], name: str, photo: str, count: int
) -> None:
    rgb = load_rgb(shared_path("faces", *photo.split("/")))
    assert len(detectors[name].detect(rgb)) == count


@pytest.mark.real
def test_large_face_photo_is_large(detectors: dict[str, FaceDetector]) -> None:
    rgb = load_rgb(shared_path("faces", "fer", "fer_justin.jpg"))
    for name in DETECTOR_NAMES:
        (face,) = detectors[name].detect(rgb)
        assert is_large(face, 0.2, "dims") and is_large(face, 0.2, "area"), name
