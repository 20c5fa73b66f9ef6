"""Face detectors behind one interface and one registry.

Every detector takes an RGB frame (H × W × 3, ``uint8``, the displayed
orientation) and returns boxes as fractions of that frame. Frames wider than
``FaceConfig.detection_width`` are downscaled first (boxes are fractions, so
they do not change scale). A detector loads its model once in ``setup()``, per
worker, never per frame.

Registered detectors, all working offline from files inside their pip package:

* ``mediapipe`` (default): MediaPipe's BlazeFace short-range model, shipped in
  the ``mediapipe`` wheel (``face_detection_short_range.tflite``). Made for
  faces within about 2 m of the camera, which is exactly the large faces this
  project keeps. About 1 ms per 320-pixel frame here.
* ``mediapipe_full``: the full-range model from the same wheel. It finds small
  faces that short-range misses (all 43 ground-truth faces of dlib's test
  photos at 320 px, against 10 for short-range) but missed a large face in
  5 of 25 frames of a talking-head clip where short-range found all.
* ``haar``: OpenCV's Haar frontal-face cascade (``cv2.data.haarcascades``), the
  classical fallback: no neural network, frontal faces only, about 20 ms per
  320-pixel frame here; its box is ≈ 10 % larger linearly than mediapipe's.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
import warnings
from abc import abstractmethod
from collections.abc import Iterator
from types import ModuleType
from typing import IO, Any, ClassVar

import numpy as np

from empathynet.config import FaceConfig
from empathynet.data.models import FaceBox
from empathynet.errors import MediaError, MissingDependencyError
from empathynet.registry import Registry
from empathynet.resources import Closing

MEDIAPIPE_PIN = "mediapipe==0.10.14"
OPENCV_PIN = "opencv-contrib-python==5.1.0.95"


def import_mediapipe() -> ModuleType:
    """``mediapipe`` with its bundled legacy solutions, or a ``MissingDependencyError``.

    Releases from 0.10.30 ship no models inside the wheel (their Tasks API
    downloads them), so they are refused rather than half-working offline.
    """
    # MediaPipe's C++ and TensorFlow Lite log to stderr at start-up (XNNPACK delegate,
    # feedback tensors): quiet them unless the user asked for their logs.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype\(\) is deprecated")
    try:
        with quiet_native_logs():
            mp = importlib.import_module("mediapipe")
    except ImportError as error:
        raise MissingDependencyError(
            f"face detection and the speaking score need mediapipe ({error}); "
            f"install it with: pip install '{MEDIAPIPE_PIN}'"
        ) from None
    if not hasattr(mp, "solutions"):
        raise MissingDependencyError(
            f"mediapipe {getattr(mp, '__version__', '?')} has no bundled models "
            f"(mp.solutions); install it with: pip install '{MEDIAPIPE_PIN}'"
        )
    return mp


class _Sink:
    """The file that held-back native output goes to: one per process, emptied after use."""

    file: IO[bytes] | None = None
    pid: int = 0

    @classmethod
    def get(cls) -> IO[bytes]:
        if cls.file is None or cls.pid != os.getpid():  # a forked child needs its own
            cls.file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
            cls.pid = os.getpid()
        return cls.file


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Hold back what native code writes to stderr (file descriptor 2) inside the block.

    MediaPipe's graphs log start-up chatter (``Created TensorFlow Lite XNNPACK
    delegate``, ``Feedback manager requires ...``) on their first run at each frame size,
    before any log level applies. The output is dropped when the block succeeds and
    written back to stderr when it raises, so nothing that explains a failure is lost.
    Cheap enough (a few microseconds) to wrap every model call.
    """
    sys.stderr.flush()
    sink = _Sink.get()
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    try:
        yield
    except BaseException:
        os.dup2(saved, 2)
        sink.seek(0)
        sys.stderr.write(sink.read().decode("utf-8", "replace"))
        raise
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        sink.seek(0)
        sink.truncate()


def import_cv2() -> ModuleType:
    """OpenCV, or a ``MissingDependencyError`` with the install command."""
    try:
        return importlib.import_module("cv2")
    except ImportError as error:
        raise MissingDependencyError(
            f"face detection needs OpenCV ({error}); install it with: pip install '{OPENCV_PIN}'"
        ) from None


def check_frame(rgb: Any) -> np.ndarray:
    """``rgb`` if it is an H × W × 3 ``uint8`` array with at least one pixel."""
    if (
        not isinstance(rgb, np.ndarray)
        or rgb.dtype != np.uint8
        or rgb.ndim != 3
        or rgb.shape[2] != 3
        or rgb.shape[0] == 0
        or rgb.shape[1] == 0
    ):
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise MediaError(f"a frame must be an H×W×3 uint8 RGB array, got shape {shape} {dtype}")
    return rgb


def clip_box(x: float, y: float, width: float, height: float, score: float) -> FaceBox | None:
    """A box in frame fractions clipped to the frame; ``None`` if nothing is left."""
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(1.0, x + width), min(1.0, y + height)
    if x1 <= x0 or y1 <= y0:
        return None
    return FaceBox(x=x0, y=y0, width=x1 - x0, height=y1 - y0, score=score)


class FaceDetector(Closing):
    """Finds faces in RGB frames; created and set up once per worker."""

    #: The registry name, set by ``DETECTORS.register``-ed subclasses.
    name: ClassVar[str] = ""

    def __init__(self, config: FaceConfig | None = None) -> None:
        self.config = config if config is not None else FaceConfig()
        self._ready = False

    def setup(self) -> None:
        """Load the model (idempotent). Raises ``MissingDependencyError``."""
        if not self._ready:
            self._load()
            self._ready = True

    def close(self) -> None:
        """Release the model; ``setup()`` may load it again."""
        if self._ready:
            self._unload()
            self._ready = False

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """Faces in ``rgb`` (H × W × 3 uint8), boxes as fractions of the frame,
        best score first. Loads the model on first use if ``setup()`` was not called."""
        frame = check_frame(rgb)
        self.setup()
        small = self._downscale(frame)
        boxes = [b for b in self._detect(small) if b.score >= self.config.min_score]
        return sorted(boxes, key=lambda b: -b.score)

    def _downscale(self, rgb: np.ndarray) -> np.ndarray:
        height, width = rgb.shape[:2]
        target = self.config.detection_width
        if width <= target:
            return np.ascontiguousarray(rgb)
        cv2 = import_cv2()
        new_height = max(1, round(height * target / width))
        resized: np.ndarray = cv2.resize(rgb, (target, new_height), interpolation=cv2.INTER_AREA)
        return resized

    @abstractmethod
    def _load(self) -> None:
        """Load the model."""

    @abstractmethod
    def _unload(self) -> None:
        """Release the model."""

    @abstractmethod
    def _detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """Boxes in a contiguous RGB frame no wider than ``detection_width``."""


DETECTORS: Registry[type[FaceDetector]] = Registry("face detector", "empathynet.detectors")


def create_detector(config: FaceConfig | None = None) -> FaceDetector:
    """The detector ``config.detector`` names, set up and ready.

    Unknown names raise ``ConfigError`` listing the known ones; a missing
    package raises ``MissingDependencyError`` with the install command.
    """
    config = config if config is not None else FaceConfig()
    detector = DETECTORS.get(config.detector)(config)
    detector.setup()
    return detector


@DETECTORS.register("mediapipe")
class MediapipeDetector(FaceDetector):
    """MediaPipe BlazeFace short-range (faces within about 2 m), bundled in the wheel."""

    name = "mediapipe"
    model_selection: ClassVar[int] = 0  # 0 = short range, 1 = full range

    def _load(self) -> None:
        mp = import_mediapipe()
        # The graph keeps a low confidence so min_score is applied in one place (detect).
        with quiet_native_logs():
            self._model: Any = mp.solutions.face_detection.FaceDetection(
                model_selection=self.model_selection,
                min_detection_confidence=min(self.config.min_score, 0.5),
            )
            # The first run sets up the graph (and logs): do it here, quietly.
            self._model.process(np.zeros((64, 64, 3), dtype=np.uint8))

    def _unload(self) -> None:
        self._model.close()
        del self._model

    def _detect(self, rgb: np.ndarray) -> list[FaceBox]:
        # Graphs log on the first run at each new frame size: keep that off the terminal.
        with quiet_native_logs():
            result = self._model.process(rgb)
        boxes = []
        for detection in result.detections or ():
            box = detection.location_data.relative_bounding_box
            clipped = clip_box(
                float(box.xmin),
                float(box.ymin),
                float(box.width),
                float(box.height),
                float(detection.score[0]),
            )
            if clipped is not None:
                boxes.append(clipped)
        return boxes


@DETECTORS.register("mediapipe_full")
class MediapipeFullRangeDetector(MediapipeDetector):
    """MediaPipe BlazeFace full-range (small, distant faces), bundled in the wheel."""

    name = "mediapipe_full"
    model_selection: ClassVar[int] = 1


@DETECTORS.register("haar")
class HaarDetector(FaceDetector):
    """OpenCV's Haar frontal-face cascade: fast, classical, frontal faces only.

    Haar gives no probability. Its score is ``n / (n + min_neighbors)`` where
    ``n`` is the number of overlapping raw detections merged into the box (the
    cascade's own measure of support), so every box the cascade accepts
    (``n ≥ min_neighbors``) scores at least 0.5.
    """

    name = "haar"
    cascade_file: ClassVar[str] = "haarcascade_frontalface_default.xml"
    scale_factor: ClassVar[float] = 1.1
    min_neighbors: ClassVar[int] = 5
    #: Smallest face searched for, pixels of the (downscaled) frame.
    min_face_pixels: ClassVar[int] = 20

    def _load(self) -> None:
        cv2 = import_cv2()
        cascade_class = getattr(cv2, "CascadeClassifier", None)
        cascade_dir = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if cascade_class is None or cascade_dir is None:
            raise MissingDependencyError(
                f"OpenCV {cv2.__version__} has no Haar cascades (CascadeClassifier); "
                f"install it with: pip install '{OPENCV_PIN}'"
            )
        cascade = cascade_class(str(cascade_dir) + self.cascade_file)
        if cascade.empty():
            raise MissingDependencyError(
                f"OpenCV cannot load {self.cascade_file} from {cascade_dir}; "
                f"reinstall it with: pip install '{OPENCV_PIN}'"
            )
        self._cv2 = cv2
        self._cascade: Any = cascade

    def _unload(self) -> None:
        del self._cascade

    def _detect(self, rgb: np.ndarray) -> list[FaceBox]:
        cv2 = self._cv2
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        rects, neighbours = self._cascade.detectMultiScale2(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_face_pixels, self.min_face_pixels),
        )
        height, width = gray.shape
        boxes = []
        for (x, y, w, h), n in zip(rects, np.ravel(neighbours), strict=True):
            clipped = clip_box(
                float(x) / width,
                float(y) / height,
                float(w) / width,
                float(h) / height,
                float(n) / (float(n) + self.min_neighbors),
            )
            if clipped is not None:
                boxes.append(clipped)
        return boxes
