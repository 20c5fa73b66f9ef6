"""Pictures for demo and test media: a real face photo, framed large, small or twice.

The face is ``skimage.data.astronaut()``, a real photograph of a person (NASA, public
domain). Scenes without a face use ``skimage.data.coffee()`` and ``skimage.data.rocket()``.
Each scene is prepared once as a few YUV 4:2:0 canvases (one per zoom step) a little larger
than the frame; a frame is then a crop at a small, smoothly moving offset (camera jitter)
with a dark ellipse over each mouth whose height follows that face's voice energy, so a
detector sees a live face and a speaking score sees mouth motion. Rendering a frame is a
few array copies: long benchmark videos stay cheap to make.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import av
import numpy as np
import numpy.typing as npt

from empathynet.errors import ConfigError

SceneName = Literal["large_face", "small_face", "two_faces", "coffee", "rocket"]
SCENE_NAMES: tuple[SceneName, ...] = get_args(SceneName)

# Measured once on skimage.data.astronaut() (512 x 512) with mediapipe: the short-range face
# detector's box (x, y, width, height) and the face mesh's lip landmarks 13/14 (centre)
# and 61/291 (corners). Source pixels.
ASTRONAUT_FACE_BOX = (178.0, 83.0, 95.0, 95.0)
ASTRONAUT_MOUTH_CENTRE = (223.4, 146.2)
ASTRONAUT_MOUTH_HALF_WIDTH = 22.0

# How large each face scene frames the face: the face box width as a fraction of the frame
# width. 0.30 of a 16:9 frame is 0.53 of its height; 0.085 is well under the 20 % line.
LARGE_FACE_WIDTH = 0.30
SMALL_FACE_WIDTH = 0.085
TWO_FACES_WIDTH = (0.21, 0.23)

_ZOOM_STEPS = (1.0, 1.015, 1.03, 1.045)  # slow breathing zoom of the camera
_JITTER_FRACTION = 0.012  # pan amplitude as a fraction of the frame width
_MOUTH_DARKENING = 0.75  # how dark the open mouth gets at full voice energy (0-1)
_BLACK_LEVEL = 16  # Y of black in limited-range video
_MOUTH_U, _MOUTH_V = 120.0, 148.0  # the chroma of a dark red mouth inside

Rgb = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class FaceBox:
    """A face's box in frame pixels, as the short-range face detector drew it on the photo.

    The box is the scene at rest (no jitter, first zoom step); the camera moves it by at most
    a few pixels and a few percent.
    """

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class _Mouth:
    centre_x: float  # canvas pixels
    centre_y: float
    half_width: float
    max_half_height: float


@dataclass(frozen=True)
class _Canvas:
    y: npt.NDArray[np.uint8]
    u: npt.NDArray[np.uint8]
    v: npt.NDArray[np.uint8]
    mouths: tuple[_Mouth, ...]


@dataclass(frozen=True)
class _Placed:
    """A photo placed on a canvas: the picture and the affine map from photo to canvas."""

    rgb: Rgb
    scale_x: float
    scale_y: float
    offset_x: float  # canvas x of photo x = 0
    offset_y: float
    mirrored: bool = False

    def to_canvas(self, x: float, y: float) -> tuple[float, float]:
        canvas_x = self.offset_x + x * self.scale_x
        if self.mirrored:
            canvas_x = self.rgb.shape[1] - canvas_x
        return canvas_x, self.offset_y + y * self.scale_y


def _resize(rgb: Rgb, width: int, height: int) -> Rgb:
    """Resize an RGB picture with swscale (bicubic); width and height in pixels."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    resized = frame.reformat(width=width, height=height, interpolation="BICUBIC")
    return np.asarray(resized.to_ndarray(), dtype=np.uint8)


def _place(
    photo: Rgb,
    photo_point: tuple[float, float],
    scale: float,
    size: tuple[int, int],
    canvas_point: tuple[float, float],
) -> _Placed:
    """Scale ``photo`` by ``scale`` so that ``photo_point`` lands on ``canvas_point``.

    ``size`` is the canvas (width, height). Parts of the canvas outside the photo repeat
    its edge pixels; the scenes are framed so that this does not happen at normal sizes.
    """
    width, height = size
    x0 = math.floor(photo_point[0] - canvas_point[0] / scale)
    y0 = math.floor(photo_point[1] - canvas_point[1] / scale)
    x1 = math.ceil(photo_point[0] + (width - canvas_point[0]) / scale)
    y1 = math.ceil(photo_point[1] + (height - canvas_point[1]) / scale)
    pad = max(0, -x0, -y0, x1 - photo.shape[1], y1 - photo.shape[0])
    padded = np.pad(photo, ((pad, pad), (pad, pad), (0, 0)), mode="edge") if pad else photo
    crop = padded[y0 + pad : y1 + pad, x0 + pad : x1 + pad]
    scale_x = width / (x1 - x0)
    scale_y = height / (y1 - y0)
    return _Placed(_resize(crop, width, height), scale_x, scale_y, -x0 * scale_x, -y0 * scale_y)


def _paste(canvas: Rgb, picture: Rgb, left: int, top: int) -> None:
    """Copy ``picture`` onto ``canvas`` with its top-left corner at (left, top), clipped."""
    x0, y0 = max(0, left), max(0, top)
    x1 = min(canvas.shape[1], left + picture.shape[1])
    y1 = min(canvas.shape[0], top + picture.shape[0])
    if x0 < x1 and y0 < y1:
        canvas[y0:y1, x0:x1] = picture[y0 - top : y1 - top, x0 - left : x1 - left]


def _photo(name: Literal["astronaut", "coffee", "rocket"]) -> Rgb:
    """A photo shipped with scikit-image (RGB, uint8)."""
    from skimage import data

    # Bound first, then called: scikit-image's loaders carry no type annotations.
    loader: Callable[[], object] = {
        "astronaut": data.astronaut,
        "coffee": data.coffee,
        "rocket": data.rocket,
    }[name]
    return np.asarray(loader(), dtype=np.uint8)


def _face_centre() -> tuple[float, float]:
    x, y, width, height = ASTRONAUT_FACE_BOX
    return x + width / 2, y + height / 2


def _mouth_and_box(placed: _Placed, shift_x: float = 0.0) -> tuple[_Mouth, tuple[float, ...]]:
    """The mouth and face box of the astronaut photo in canvas pixels."""
    mouth_x, mouth_y = placed.to_canvas(*ASTRONAUT_MOUTH_CENTRE)
    mouth = _Mouth(
        centre_x=mouth_x + shift_x,
        centre_y=mouth_y,
        half_width=0.6 * ASTRONAUT_MOUTH_HALF_WIDTH * placed.scale_x,
        max_half_height=0.32 * ASTRONAUT_MOUTH_HALF_WIDTH * placed.scale_y,
    )
    box_x, box_y, box_w, box_h = ASTRONAUT_FACE_BOX
    left, top = placed.to_canvas(box_x, box_y)
    right, bottom = placed.to_canvas(box_x + box_w, box_y + box_h)
    left, right = min(left, right), max(left, right)
    return mouth, (left + shift_x, top, right - left, bottom - top)


def _compose(
    scene: SceneName, width: int, height: int, zoom: float
) -> tuple[Rgb, tuple[_Mouth, ...], tuple[tuple[float, ...], ...]]:
    """One canvas of ``scene`` at ``zoom``: RGB picture, mouths and face boxes (canvas px)."""
    size = (width, height)
    if scene == "coffee" or scene == "rocket":
        photo = _photo(scene)
        cover = max(width / photo.shape[1], height / photo.shape[0]) * zoom
        centre = (photo.shape[1] / 2, photo.shape[0] / 2)
        placed = _place(photo, centre, cover, size, (width / 2, height / 2))
        return placed.rgb, (), ()

    photo = _photo("astronaut")
    face_width = ASTRONAUT_FACE_BOX[2]
    if scene == "large_face":
        scale = LARGE_FACE_WIDTH * width / face_width * zoom
        placed = _place(photo, _face_centre(), scale, size, (0.55 * width, 0.45 * height))
        mouth, box = _mouth_and_box(placed)
        return placed.rgb, (mouth,), (box,)

    if scene == "small_face":
        scale = SMALL_FACE_WIDTH * width / face_width * zoom
        # The whole photo, small, over a blurred fill of itself (as phone videos are shown
        # in a wide frame): the blur keeps the fill free of faces.
        canvas = _resize(_resize(photo, 12, 12), width, height)
        canvas = (canvas.astype(np.float32) * 0.8).astype(np.uint8)
        side = round(photo.shape[0] * scale)
        small = _resize(photo, side, side)
        face_x, face_y = _face_centre()
        left = round(0.5 * width - face_x * side / photo.shape[1])
        top = round(0.42 * height - face_y * side / photo.shape[0])
        _paste(canvas, small, left, top)
        placed = _Placed(
            canvas, side / photo.shape[1], side / photo.shape[0], float(left), float(top)
        )
        mouth, box = _mouth_and_box(placed)
        return canvas, (mouth,), (box,)

    if scene == "two_faces":
        half = width // 2
        halves: list[Rgb] = []
        mouths: list[_Mouth] = []
        boxes: list[tuple[float, ...]] = []
        for index, fraction in enumerate(TWO_FACES_WIDTH):
            scale = fraction * width / face_width * zoom
            placed = _place(
                photo, _face_centre(), scale, (half, height), (0.5 * half, 0.45 * height)
            )
            picture = placed.rgb
            if index == 1:
                # The second person: the photo mirrored and a little warmer, so the two
                # faces are not pixel copies of each other.
                picture = picture[:, ::-1]
                warm = picture.astype(np.float32) * np.array([1.06, 1.0, 0.9], np.float32)
                picture = np.clip(warm, 0, 255).astype(np.uint8)
                placed = _Placed(
                    picture, placed.scale_x, placed.scale_y, placed.offset_x, placed.offset_y, True
                )
            mouth, box = _mouth_and_box(placed, shift_x=index * half)
            halves.append(picture)
            mouths.append(mouth)
            boxes.append(box)
        return np.ascontiguousarray(np.hstack(halves)), tuple(mouths), tuple(boxes)

    raise ConfigError(f"unknown scene {scene!r}; known: {', '.join(SCENE_NAMES)}")


def _to_yuv420(rgb: Rgb) -> tuple[npt.NDArray[np.uint8], ...]:
    """RGB -> the three planes of limited-range YUV 4:2:0, converted by swscale."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    yuv = frame.reformat(format="yuv420p")
    planes = []
    for plane in yuv.planes:
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
        planes.append(rows[: plane.height, : plane.width].copy())
    return tuple(planes)


class SceneRenderer:
    """Frames of one scene: camera jitter plus a mouth per face that opens with the voice.

    ``width`` and ``height`` are the frame size in pixels (width even, height a multiple
    of 4, as yuv420p frames built from one array need). ``seed`` sets the jitter's phases.
    """

    def __init__(self, scene: SceneName, width: int, height: int, seed: int = 0) -> None:
        check_frame_size(width, height)
        self.scene: SceneName = scene
        self.width = width
        self.height = height
        self.jitter_px = _JITTER_FRACTION * width
        # An even margin a little wider than the largest pan, so crops never leave the canvas
        # and chroma rows stay aligned.
        self.margin = 2 * math.ceil((self.jitter_px + 2) / 2)
        canvas_w = width + 2 * self.margin
        canvas_h = height + 2 * self.margin
        rng = np.random.default_rng(seed)
        self._phases = rng.uniform(0.0, 2 * math.pi, size=5)
        canvases: list[_Canvas] = []
        boxes: tuple[tuple[float, ...], ...] = ()
        for step, zoom in enumerate(_ZOOM_STEPS):
            rgb, mouths, step_boxes = _compose(scene, canvas_w, canvas_h, zoom)
            y, u, v = _to_yuv420(rgb)
            canvases.append(_Canvas(y, u, v, mouths))
            if step == 0:
                boxes = step_boxes
        self._canvases = tuple(canvases)
        self.face_boxes: tuple[FaceBox, ...] = tuple(
            FaceBox(
                x=round(x - self.margin), y=round(y - self.margin), width=round(w), height=round(h)
            )
            for x, y, w, h in boxes
        )

    @property
    def face_count(self) -> int:
        """How many faces the scene shows."""
        return len(self.face_boxes)

    def _pose(self, seconds: float) -> tuple[int, int, int]:
        """Zoom step and even pan offsets (pixels) at ``seconds`` into the clip."""
        p = self._phases
        two_pi = 2 * math.pi
        wave_x = 0.6 * math.sin(two_pi * 0.11 * seconds + p[0]) + 0.4 * math.sin(
            two_pi * 0.37 * seconds + p[1]
        )
        wave_y = 0.6 * math.sin(two_pi * 0.09 * seconds + p[2]) + 0.4 * math.sin(
            two_pi * 0.29 * seconds + p[3]
        )
        zoom_wave = 0.5 + 0.5 * math.sin(two_pi * 0.07 * seconds + p[4])
        step = min(len(_ZOOM_STEPS) - 1, int(zoom_wave * len(_ZOOM_STEPS)))
        dx = 2 * round(self.jitter_px * wave_x / 2)
        dy = 2 * round(0.6 * self.jitter_px * wave_y / 2)
        return step, dx, dy

    def frame(self, seconds: float, openness: Sequence[float] = ()) -> npt.NDArray[np.uint8]:
        """The yuv420p frame at ``seconds`` as one ``(height * 3 / 2, width)`` array.

        ``openness[i]`` (0-1) is how far face ``i``'s mouth is open; missing entries are 0.
        The float time only drives the smooth jitter; it is never compared.
        """
        step, dx, dy = self._pose(seconds)
        canvas = self._canvases[step]
        width, height = self.width, self.height
        left, top = self.margin + dx, self.margin + dy
        out = np.empty((height * 3 // 2, width), dtype=np.uint8)
        chroma_rows = height // 4
        half_h, half_w, c_top, c_left = height // 2, width // 2, top // 2, left // 2
        # Views into ``out``: the planes of a yuv420p frame, one after the other.
        luma = out[:height]
        chroma_u = out[height : height + chroma_rows].reshape(half_h, half_w)
        chroma_v = out[height + chroma_rows :].reshape(half_h, half_w)
        luma[:] = canvas.y[top : top + height, left : left + width]
        chroma_u[:] = canvas.u[c_top : c_top + half_h, c_left : c_left + half_w]
        chroma_v[:] = canvas.v[c_top : c_top + half_h, c_left : c_left + half_w]
        for mouth, amount in zip(canvas.mouths, openness, strict=False):
            _open_mouth((luma, chroma_u, chroma_v), mouth, float(amount), left, top)
        return out


def _ellipse(
    shape: tuple[int, int], centre: tuple[float, float], radii: tuple[float, float]
) -> tuple[slice, slice, npt.NDArray[np.float32]] | None:
    """A soft ellipse mask (1 at the centre, 0 at the rim) and where it sits in a plane."""
    (centre_x, centre_y), (radius_x, radius_y) = centre, radii
    x0 = max(0, math.floor(centre_x - radius_x))
    x1 = min(shape[1], math.ceil(centre_x + radius_x) + 1)
    y0 = max(0, math.floor(centre_y - radius_y))
    y1 = min(shape[0], math.ceil(centre_y + radius_y) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    ys = (np.arange(y0, y1, dtype=np.float32)[:, None] - centre_y) / radius_y
    xs = (np.arange(x0, x1, dtype=np.float32)[None, :] - centre_x) / radius_x
    mask = np.sqrt(np.clip(1.0 - xs * xs - ys * ys, 0.0, 1.0))
    return slice(y0, y1), slice(x0, x1), mask


def _blend(
    plane: npt.NDArray[np.uint8],
    area: tuple[slice, slice],
    weight: npt.NDArray[np.float32],
    target: float,
) -> None:
    """Move ``plane`` pixels in ``area`` towards ``target`` by ``weight`` (0-1)."""
    region = plane[area].astype(np.float32)
    plane[area] = np.clip(region + (target - region) * weight, 0, 255).astype(np.uint8)


def _open_mouth(
    planes: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]],
    mouth: _Mouth,
    amount: float,
    left: int,
    top: int,
) -> None:
    """Draw an open mouth: a dark red ellipse over the lips, taller as ``amount`` (0-1) grows.

    ``planes`` are the frame's Y, U and V planes (U, V at half resolution); ``left`` and
    ``top`` are the crop's offset in the canvas.
    """
    amount = min(1.0, max(0.0, amount))
    if amount < 0.02:
        return
    half_h = max(1.0, mouth.max_half_height * amount)
    centre_x = mouth.centre_x - left
    centre_y = mouth.centre_y - top + 0.15 * half_h  # the jaw drops as the mouth opens
    luma, chroma_u, chroma_v = planes
    found = _ellipse(luma.shape, (centre_x, centre_y), (mouth.half_width, half_h))
    if found is not None:
        rows, cols, mask = found
        _blend(luma, (rows, cols), _MOUTH_DARKENING * amount * mask, _BLACK_LEVEL)
    found = _ellipse(
        chroma_u.shape, (centre_x / 2, centre_y / 2), (mouth.half_width / 2, max(0.5, half_h / 2))
    )
    if found is not None:
        rows, cols, mask = found
        weight = _MOUTH_DARKENING * amount * mask
        _blend(chroma_u, (rows, cols), weight, _MOUTH_U)
        _blend(chroma_v, (rows, cols), weight, _MOUTH_V)


def check_frame_size(width: int, height: int) -> None:
    """Raise ``ConfigError`` unless ``width`` is even and ``height`` a multiple of 4 (>= 64)."""
    if width < 64 or height < 64 or width % 2 or height % 4:
        raise ConfigError(
            f"frame size {width}x{height} not supported: width must be even, height a "
            "multiple of 4, both at least 64 pixels"
        )
