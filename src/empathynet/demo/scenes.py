"""Pictures for demo and test media: a real face photo, framed large, small or twice.

The face is ``skimage.data.astronaut()``, a real photograph of a person (NASA, public
domain). Scenes without a face use ``skimage.data.coffee()`` and ``skimage.data.rocket()``.
Each scene is prepared once as a few YUV 4:2:0 canvases (one per zoom step) a little larger
than the frame; a frame is then a crop at a small, smoothly moving offset (camera jitter)
in which each speaking face's jaw drops with its voice: a vertical displacement field,
prepared once per canvas, moves the lower lip and chin down (up to ``JAW_DROP`` of the face
height) and a dark mouth inside shows in the gap under the upper teeth, so a landmark
detector sees the lips part and close with the syllables. Rendering a frame is a few array
copies plus a small remap around each open mouth: long benchmark videos stay cheap to make.
"""

from __future__ import annotations

import functools
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

# Measured once on skimage.data.astronaut() (512 x 512) with mediapipe, in source pixels:
# the short-range face detector's box (x, y, width, height); with FaceMesh, the face height
# (landmarks 10-152), the inner edge of the lower lip from corner to corner (landmarks 78,
# 95, 88, 178, 87, 14, 317, 402, 318, 324, 308), which is where the upper teeth end in this
# smiling photo, and the jaw line (landmarks 132 ... 152 ... 361).
ASTRONAUT_FACE_BOX = (178.0, 83.0, 95.0, 95.0)
ASTRONAUT_FACE_HEIGHT = 103.2
_LOWER_INNER_LIP = (
    (204.7, 140.2),
    (207.3, 143.4),
    (209.6, 145.2),
    (213.2, 147.2),
    (217.7, 148.8),
    (223.1, 149.6),
    (228.6, 149.5),
    (233.3, 148.5),
    (237.2, 147.0),
    (239.8, 145.5),
    (243.0, 142.6),
)
_JAW_LINE = (
    (179.4, 129.5),
    (181.5, 139.8),
    (185.2, 148.4),
    (189.6, 155.1),
    (195.5, 161.4),
    (200.6, 166.2),
    (205.9, 170.6),
    (212.6, 173.9),
    (221.3, 175.5),
    (230.3, 175.0),
    (237.3, 172.4),
    (243.2, 168.6),
    (248.8, 164.4),
    (255.3, 158.7),
    (260.3, 152.6),
    (264.9, 144.4),
    (268.2, 134.5),
)

#: How far the lower lip and chin drop at full openness, as a fraction of the face height.
JAW_DROP = 0.07

# How large each face scene frames the face: the face box width as a fraction of the frame
# width. 0.30 of a 16:9 frame is 0.53 of its height; 0.085 is well under the 20 % line.
LARGE_FACE_WIDTH = 0.30
SMALL_FACE_WIDTH = 0.085
TWO_FACES_WIDTH = (0.21, 0.23)

_ZOOM_STEPS = (1.0, 1.015, 1.03, 1.045)  # slow breathing zoom of the camera
_JITTER_FRACTION = 0.012  # pan amplitude as a fraction of the frame width
# The jaw moves as a whole out to this many inner-mouth half widths from the mouth centre
# (about the jaw line's width) and fades to still cheeks beyond; below the chin the drop
# fades out over this fraction of the face height (the neck stays put).
_JAW_HALF_WIDTHS = 2.3
_NECK_FADE = 0.14
# YUV of the mouth's inside: near black with a trace of red. FaceMesh follows a dark gap
# best: a lighter, redder inside (Y 34-62) is partly taken for lip and cut the measured
# opening at full drop from +0.064 to +0.028-0.044 of the face height.
_MOUTH_INSIDE = (16.0, 126.0, 134.0)
_MIN_OPENNESS = 0.01  # below this a mouth counts as closed: the frame is a plain crop
# Scenes whose mouths stay shut. MediaPipe's short-range detector misses the small face
# only while its mouth is closed: a dropping jaw (even without the dark gap) lifts its
# score over 0.5 on 10-25 % of the frames, with a box about 2.2 times too wide (0.19-0.21
# of the frame width), which the build then takes for a large face seen part of the time.
_STILL_MOUTH_SCENES: tuple[SceneName, ...] = ("small_face",)

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
    """A mouth in canvas pixels: the seam where it opens and the jaw below it.

    ``seam`` and ``jaw`` are ``(x, y)`` polylines sorted by x: the inner edge of the lower
    lip and the jaw line. ``half_width`` is half the inner mouth width; ``drop`` is the
    lower lip's drop at full openness and ``neck`` the fade-out length below the chin.
    """

    centre_x: float
    half_width: float
    seam: tuple[tuple[float, float], ...]
    jaw: tuple[tuple[float, float], ...]
    drop: float
    neck: float


@dataclass(frozen=True)
class _Warp:
    """A mouth's displacement field over one plane, prepared once per canvas.

    The region is ``rows`` x ``cols`` of the plane (plane pixels). A pixel at row ``y``
    of the open mouth shows the canvas at row ``y - openness * drop`` (``drop`` is the
    field at full openness, ``(h, w)``; zero above the seam). ``seam`` is the seam's row
    in each column and ``gap`` the mouth's opening there at full openness (both ``(w,)``):
    the rows from the seam down to the dropped lower lip show the mouth's inside.
    ``source_top`` is the first canvas row the remap may read.
    """

    rows: slice
    cols: slice
    drop: npt.NDArray[np.float32]
    seam: npt.NDArray[np.float32]
    gap: npt.NDArray[np.float32]
    source_top: int


@dataclass(frozen=True)
class _Canvas:
    y: npt.NDArray[np.uint8]
    u: npt.NDArray[np.uint8]
    v: npt.NDArray[np.uint8]
    # One (luma warp, chroma warp) per face; None when the mouth stays shut (a still-mouth
    # scene, or a mouth too small to move by half a pixel).
    warps: tuple[tuple[_Warp, _Warp] | None, ...]


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


@functools.cache
def _photo(name: Literal["astronaut", "coffee", "rocket"]) -> Rgb:
    """A photo shipped with scikit-image (RGB, uint8), loaded once and read-only (shared)."""
    from skimage import data

    # Bound first, then called: scikit-image's loaders carry no type annotations.
    loader: Callable[[], object] = {
        "astronaut": data.astronaut,
        "coffee": data.coffee,
        "rocket": data.rocket,
    }[name]
    photo = np.array(loader(), dtype=np.uint8)
    photo.setflags(write=False)
    return photo


def _face_centre() -> tuple[float, float]:
    x, y, width, height = ASTRONAUT_FACE_BOX
    return x + width / 2, y + height / 2


def _mouth_and_box(placed: _Placed, shift_x: float = 0.0) -> tuple[_Mouth, tuple[float, ...]]:
    """The mouth and face box of the astronaut photo in canvas pixels."""

    def line(points: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
        moved = [placed.to_canvas(x, y) for x, y in points]
        return tuple(sorted((x + shift_x, y) for x, y in moved))

    seam = line(_LOWER_INNER_LIP)
    mouth = _Mouth(
        centre_x=(seam[0][0] + seam[-1][0]) / 2,
        half_width=(seam[-1][0] - seam[0][0]) / 2,
        seam=seam,
        jaw=line(_JAW_LINE),
        drop=JAW_DROP * ASTRONAUT_FACE_HEIGHT * placed.scale_y,
        neck=_NECK_FADE * ASTRONAUT_FACE_HEIGHT * placed.scale_y,
    )
    box_x, box_y, box_w, box_h = ASTRONAUT_FACE_BOX
    left, top = placed.to_canvas(box_x, box_y)
    right, bottom = placed.to_canvas(box_x + box_w, box_y + box_h)
    left, right = min(left, right), max(left, right)
    return mouth, (left + shift_x, top, right - left, bottom - top)


def _smoothstep(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """0 at ``t <= 0``, 1 at ``t >= 1``, with zero slope at both ends."""
    t = np.clip(t, 0.0, 1.0)
    smooth: npt.NDArray[np.float64] = t * t * (3.0 - 2.0 * t)
    return smooth


def _prepare_warp(mouth: _Mouth, shape: tuple[int, int], scale: float) -> _Warp | None:
    """The displacement field of ``mouth`` on a plane of ``shape`` (rows, cols).

    ``scale`` maps canvas pixels to plane pixels (1 for luma, 0.5 for 4:2:0 chroma). The
    lower lip drops by ``drop`` times a lens profile across the mouth (most at the centre,
    none at the corners); deeper down the whole jaw drops by ``drop``, fading out towards
    the cheeks and below the chin. Below the seam the field grows by less than a pixel
    per pixel downwards (0.44 at most on the demo scenes), so the skin between the
    corners and the jaw stretches without folding.
    Returns ``None`` when the drop is under half a pixel.
    """
    drop = mouth.drop * scale
    if drop < 0.5:
        return None
    centre = mouth.centre_x * scale
    half = mouth.half_width * scale
    reach = _JAW_HALF_WIDTHS * half
    neck = mouth.neck * scale
    seam_x = np.array([x for x, _ in mouth.seam]) * scale
    seam_y = np.array([y for _, y in mouth.seam]) * scale
    jaw_x = np.array([x for x, _ in mouth.jaw]) * scale
    jaw_y = np.array([y for _, y in mouth.jaw]) * scale
    x0 = max(0, math.floor(centre - reach))
    x1 = min(shape[1], math.ceil(centre + reach) + 1)
    y0 = max(0, math.floor(float(seam_y.min())) - 1)
    y1 = min(shape[0], math.ceil(float(jaw_y.max()) + neck) + 2)
    if x0 >= x1 or y0 >= y1:
        return None
    xs = np.arange(x0, x1, dtype=np.float64)
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    seam = np.interp(xs, seam_x, seam_y)
    # Beside the mouth the jaw line rises to the seam's height; a ramp at least ``drop``
    # deep keeps the stretch there gentle.
    chin = np.maximum(np.interp(xs, jaw_x, jaw_y), seam + drop)
    across = np.abs(xs - centre) / half
    lips = np.sqrt(np.clip(1.0 - across * across, 0.0, 1.0))  # the gap's lens shape
    jaw = 1.0 - _smoothstep((across - 1.0) / (_JAW_HALF_WIDTHS - 1.0))
    depth = _smoothstep((ys - seam) / (chin - seam))
    fade = 1.0 - _smoothstep((ys - chin) / neck)
    field = drop * (lips + (jaw - lips) * depth) * fade
    field[ys < seam] = 0.0
    return _Warp(
        rows=slice(y0, y1),
        cols=slice(x0, x1),
        drop=field.astype(np.float32),
        seam=seam.astype(np.float32),
        gap=(drop * lips).astype(np.float32),
        source_top=max(0, y0 - math.ceil(drop) - 2),
    )


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
            warps = tuple(
                None if scene in _STILL_MOUTH_SCENES else _mouth_warps(mouth, y.shape, u.shape)
                for mouth in mouths
            )
            canvases.append(_Canvas(y, u, v, warps))
            if step == 0:
                boxes = step_boxes
        self._canvases = tuple(canvases)
        self.face_boxes: tuple[FaceBox, ...] = tuple(
            FaceBox(
                x=round(x - self.margin), y=round(y - self.margin), width=round(w), height=round(h)
            )
            for x, y, w, h in boxes
        )

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

        ``openness[i]`` (0-1) is how far face ``i``'s mouth is open (its jaw drops by
        ``openness * JAW_DROP`` of the face height); missing entries are 0. The float time
        only drives the smooth jitter; it is never compared.
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
        for warps, amount in zip(canvas.warps, openness, strict=False):
            if warps is None or amount < _MIN_OPENNESS:
                continue
            luma_warp, chroma_warp = warps
            amount = min(1.0, float(amount))
            for plane, source, warp, channel, at in (
                (luma, canvas.y, luma_warp, 0, (top, left)),
                (chroma_u, canvas.u, chroma_warp, 1, (c_top, c_left)),
                (chroma_v, canvas.v, chroma_warp, 2, (c_top, c_left)),
            ):
                _open_mouth(plane, source, warp, amount, _MOUTH_INSIDE[channel], at)
        return out


def _mouth_warps(
    mouth: _Mouth, luma_shape: tuple[int, ...], chroma_shape: tuple[int, ...]
) -> tuple[_Warp, _Warp] | None:
    """The luma and chroma warps of one mouth, or ``None`` when it is too small to open."""
    luma = _prepare_warp(mouth, (luma_shape[0], luma_shape[1]), 1.0)
    chroma = _prepare_warp(mouth, (chroma_shape[0], chroma_shape[1]), 0.5)
    if luma is None or chroma is None:
        return None
    return luma, chroma


def _open_mouth(
    plane: npt.NDArray[np.uint8],
    canvas: npt.NDArray[np.uint8],
    warp: _Warp,
    amount: float,
    inside: float,
    offset: tuple[int, int],
) -> None:
    """Drop the jaw in one plane of a frame by ``amount`` (0-1) of its full drop.

    ``plane`` is the frame's plane, cut from ``canvas`` at ``offset`` (row, column, in
    plane pixels). Each pixel of the warp region is read from the canvas ``amount *
    drop`` rows higher (linear interpolation between rows). Pixels between the seam and
    the dropped lower lip are inside the open mouth, in proportion to how much of the
    pixel the gap covers: they become ``inside`` (the plane's value for the mouth's dark
    inside).
    """
    rows = np.arange(warp.rows.start, warp.rows.stop, dtype=np.float32)[:, None]
    source = rows - np.float32(amount) * warp.drop
    # Pixel ``y`` covers rows y - 0.5 .. y + 0.5; the gap covers seam .. seam + opening.
    gap_end = warp.seam + np.float32(amount) * warp.gap
    gap = np.clip(np.minimum(rows + 0.5, gap_end) - np.maximum(rows - 0.5, warp.seam), 0.0, 1.0)
    first = np.floor(source)
    weight = source - first
    top = warp.source_top
    block = canvas[top : warp.rows.stop, warp.cols].astype(np.float32)
    index = np.clip(first.astype(np.intp) - top, 0, block.shape[0] - 2)
    upper = np.take_along_axis(block, index, axis=0)
    lower = np.take_along_axis(block, index + 1, axis=0)
    values = upper + (lower - upper) * weight
    values += (inside - values) * gap
    # Paste the region where it falls inside the frame.
    row0, col0 = offset
    y0 = max(0, warp.rows.start - row0)
    y1 = min(plane.shape[0], warp.rows.stop - row0)
    x0 = max(0, warp.cols.start - col0)
    x1 = min(plane.shape[1], warp.cols.stop - col0)
    if y0 >= y1 or x0 >= x1:
        return
    sy, sx = y0 + row0 - warp.rows.start, x0 + col0 - warp.cols.start
    part = values[sy : sy + y1 - y0, sx : sx + x1 - x0]
    plane[y0:y1, x0:x1] = np.clip(part + 0.5, 0.0, 255.0).astype(np.uint8)


def check_frame_size(width: int, height: int) -> None:
    """Raise ``ConfigError`` unless ``width`` is even and ``height`` a multiple of 4 (>= 64)."""
    if width < 64 or height < 64 or width % 2 or height % 4:
        raise ConfigError(
            f"frame size {width}x{height} not supported: width must be even, height a "
            "multiple of 4, both at least 64 pixels"
        )
