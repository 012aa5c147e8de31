"""Rendering of one camera's clip: background, vehicles with plates, people with faces, H.264.

Frames are the precomputed background plus the sprites of `scene.FrameLayout`: vehicles are
filled polygons with their plate warped in perspective (cv2.warpPerspective) and slightly
blurred; people are drawn figures whose head is a real face crop composited at the right scale
and brightness. Then sensor noise and the on-screen caption that CCTV cameras burn in (camera
id and time). Clips are encoded with libx264 through PyAV, yuv420p, frame i at pts i with time
base 1/fps, so a frame's time in the file is exactly index / fps.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from safecity.sim.background import paint_background
from safecity.sim.faces import face_sprite
from safecity.sim.plates import render_plate
from safecity.sim.scenario import CameraSpec, Scenario
from safecity.sim.scene import STRIDE_M, FrameLayout, PersonSprite, SceneProjector, VehicleSprite
from safecity.types import BGRImage

X264_PRESET = "ultrafast"
"""The fastest x264 preset: 3x cheaper than veryfast at the same CRF and PSNR, files 2x larger."""
X264_CRF = 23
KEYFRAME_INTERVAL_S = 2.0
PLATE_BLUR_SIGMA = 0.6
"""Optics and focus: plates are never razor sharp."""
NOISE_SIGMA = 2.0
NOISE_FRAMES = 4
"""Sensor noise is drawn once per clip for this many frames and then cycled (cheap, deterministic)."""
SHOW_CAPTION = True
"""Burn in camera id, date and time at the top left, as real CCTV cameras do."""
_SUBPIXEL_SHIFT = 4

Progress = Callable[[str, int, int], None]


@functools.lru_cache(maxsize=512)
def _plate_levels(text: str) -> tuple[BGRImage, ...]:
    """The plate image and successive halvings, to warp from a level close to the target size."""
    levels = [render_plate(text)]
    while levels[-1].shape[1] > 40:
        prev = levels[-1]
        half = cv2.resize(prev, (prev.shape[1] // 2, prev.shape[0] // 2), interpolation=cv2.INTER_AREA)
        levels.append(np.asarray(half, dtype=np.uint8))
    return tuple(levels)


def _fill(image: BGRImage, pts: np.ndarray, colour: tuple[int, int, int]) -> None:
    fixed = np.round(pts * (1 << _SUBPIXEL_SHIFT)).astype(np.int32)
    cv2.fillConvexPoly(image, fixed, colour, lineType=cv2.LINE_AA, shift=_SUBPIXEL_SHIFT)


def _blend(image: BGRImage, x: int, y: int, colours: np.ndarray, alpha: np.ndarray) -> None:
    """Alpha-blend a float patch (h, w, 3) with alpha (h, w, 1) at (x, y), clipped to the frame."""
    h, w = colours.shape[:2]
    H, W = image.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    c = colours[y0 - y : y1 - y, x0 - x : x1 - x]
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    roi = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = np.clip(roi + (c - roi) * a, 0, 255).astype(np.uint8)


def draw_vehicle(image: BGRImage, sprite: VehicleSprite) -> None:
    for pts, colour in sprite.polygons:
        _fill(image, pts, colour)
    quad = sprite.plate_quad
    if quad is None:
        return
    x0, y0 = np.floor(quad.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 2
    H, W = image.shape[:2]
    if x1 <= 0 or y1 <= 0 or x0 >= W or y0 >= H or x1 - x0 < 3:
        return
    target_w = float(np.linalg.norm(quad[1] - quad[0]))
    levels = _plate_levels(sprite.vehicle.plate)
    plate = levels[0]
    for level in levels:
        if level.shape[1] >= target_w:
            plate = level
    ph, pw = plate.shape[:2]
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    dst = (quad - (x0, y0)).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    size = (int(x1 - x0), int(y1 - y0))
    warped = cv2.warpPerspective(plate, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), matrix, size, flags=cv2.INTER_LINEAR)
    warped_f = cv2.GaussianBlur(warped.astype(np.float32), (0, 0), PLATE_BLUR_SIGMA) * sprite.plate_gain
    mask = cv2.GaussianBlur(mask, (0, 0), PLATE_BLUR_SIGMA * 0.5)
    _blend(image, int(x0), int(y0), warped_f, mask[..., None])


def _scaled(colour: tuple[int, int, int], gain: float) -> tuple[int, int, int]:
    return (min(255, int(colour[0] * gain)), min(255, int(colour[1] * gain)), min(255, int(colour[2] * gain)))


def draw_person(image: BGRImage, sprite: PersonSprite) -> None:
    p = sprite.person
    fu, fv = sprite.foot
    k = sprite.px_per_m
    hp = sprite.height_px
    gain = sprite.gain
    phase = 2 * math.pi * sprite.walked_m / STRIDE_M
    swing = 0.22 * math.sin(phase)
    hip_v = fv - 0.48 * hp
    shoulder_v = fv - 0.82 * hp
    neck_v = fv - 0.875 * hp
    legs = _scaled(p.legs_bgr, gain)
    top = _scaled(p.top_bgr, gain)
    skin = _scaled((120, 150, 190), gain)
    for side, s in ((-1.0, swing), (1.0, -swing)):
        hip_u = fu + side * 0.07 * k
        foot_u = hip_u + s * 0.15 * k
        foot_v = fv - max(0.0, s) * 0.05 * hp
        _fill(
            image,
            np.array(
                [
                    [hip_u - 0.065 * k, hip_v],
                    [hip_u + 0.065 * k, hip_v],
                    [foot_u + 0.045 * k, foot_v],
                    [foot_u - 0.045 * k, foot_v],
                ]
            ),
            legs,
        )
        _fill(
            image,
            np.array(
                [
                    [foot_u - 0.05 * k, foot_v - 0.025 * hp],
                    [foot_u + 0.06 * k, foot_v - 0.025 * hp],
                    [foot_u + 0.06 * k, foot_v],
                    [foot_u - 0.05 * k, foot_v],
                ]
            ),
            (30, 30, 32),
        )
    # Arms at the torso's sides, swinging against the legs.
    for side, s in ((-1.0, -swing), (1.0, swing)):
        sh_u = fu + side * 0.17 * k
        hand_u = sh_u + side * 0.03 * k + s * 0.2 * k
        hand_v = hip_v + 0.04 * hp
        _fill(
            image,
            np.array(
                [
                    [sh_u - 0.045 * k, shoulder_v + 0.02 * hp],
                    [sh_u + 0.045 * k, shoulder_v + 0.02 * hp],
                    [hand_u + 0.035 * k, hand_v],
                    [hand_u - 0.035 * k, hand_v],
                ]
            ),
            _scaled(top, 0.85),
        )
        _fill(
            image,
            np.array(
                [
                    [hand_u - 0.035 * k, hand_v],
                    [hand_u + 0.035 * k, hand_v],
                    [hand_u + 0.03 * k, hand_v + 0.04 * hp],
                    [hand_u - 0.03 * k, hand_v + 0.04 * hp],
                ]
            ),
            skin,
        )
    _fill(
        image,
        np.array(
            [
                [fu - 0.045 * k, neck_v],
                [fu + 0.045 * k, neck_v],
                [fu + 0.055 * k, shoulder_v + 0.01 * hp],
                [fu - 0.055 * k, shoulder_v + 0.01 * hp],
            ]
        ),
        skin,
    )
    _fill(
        image,
        np.array(
            [
                [fu - 0.07 * k, shoulder_v - 0.03 * hp],
                [fu + 0.07 * k, shoulder_v - 0.03 * hp],
                [fu + 0.19 * k, shoulder_v + 0.005 * hp],
                [fu + 0.2 * k, shoulder_v + 0.04 * hp],
                [fu + 0.16 * k, hip_v + 0.03 * hp],
                [fu - 0.16 * k, hip_v + 0.03 * hp],
                [fu - 0.2 * k, shoulder_v + 0.04 * hp],
                [fu - 0.19 * k, shoulder_v + 0.005 * hp],
            ]
        ),
        top,
    )
    hx, hy, hw, hh = sprite.head
    if sprite.face_box is not None and p.identity is not None:
        face = face_sprite(p.identity)
        w, h = max(2, round(hw)), max(2, round(hh))
        # A solid head behind the photo, so the feathered crop blends into hair, not into the street.
        head_axes = (max(1, round(hw * 0.42)), max(1, round(hh * 0.45)))
        head_centre = (round(hx + hw / 2), round(hy + hh * 0.48))
        cv2.ellipse(
            image, head_centre, head_axes, 0, 0, 360, _scaled(face.identity.hair_bgr, gain), -1, cv2.LINE_AA
        )
        shrink = w < face.image.shape[1]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        colours = cv2.resize(face.image, (w, h), interpolation=interp) * gain
        alpha = cv2.resize(face.alpha, (w, h), interpolation=interp)
        _blend(image, round(hx), round(hy), colours, alpha[..., None])
    else:
        hair = _scaled(_hair_colour(p.identity), gain)
        centre = (round(hx + hw / 2), round(hy + hh / 2))
        axes = (max(1, round(hw / 2)), max(1, round(hh / 2)))
        cv2.ellipse(image, centre, axes, 0, 0, 360, hair, -1, cv2.LINE_AA)


def _hair_colour(identity: str | None) -> tuple[int, int, int]:
    if identity is not None:
        return face_sprite(identity).identity.hair_bgr
    return (40, 45, 55)


class ClipRenderer:
    """Renders the frames of one camera of a scenario."""

    def __init__(self, scenario: Scenario, camera: CameraSpec) -> None:
        self.scenario = scenario
        self.spec = camera
        self.projector = SceneProjector(scenario, camera)
        index = next(i for i, c in enumerate(scenario.cameras) if c.id == camera.id)
        rng = np.random.default_rng([scenario.seed, index])
        self.background = paint_background(camera.view, self.projector.camera, rng)
        h, w = scenario.height, scenario.width
        noise = [rng.normal(0.0, NOISE_SIGMA, (h, w, 1)) for _ in range(NOISE_FRAMES)]
        self._noise_up = [np.repeat(np.clip(n, 0, 255).astype(np.uint8), 3, axis=2) for n in noise]
        self._noise_down = [np.repeat(np.clip(-n, 0, 255).astype(np.uint8), 3, axis=2) for n in noise]
        self._font_scale = 0.55 * w / 1280.0

    def frame(self, index: int) -> tuple[BGRImage, FrameLayout]:
        layout = self.projector.layout(index)
        image = self.background.copy()
        for sprite in layout.sprites:
            if isinstance(sprite, VehicleSprite):
                draw_vehicle(image, sprite)
            else:
                draw_person(image, sprite)
        n = index % NOISE_FRAMES
        cv2.add(image, self._noise_up[n], dst=image)
        cv2.subtract(image, self._noise_down[n], dst=image)
        if SHOW_CAPTION:
            self._caption(image, index)
        return image, layout

    def _caption(self, image: BGRImage, index: int) -> None:
        when = self.scenario.start_time + timedelta(seconds=math.floor(index / self.scenario.fps))
        text = f"{self.spec.id}  {when:%Y-%m-%d %H:%M:%S}"
        scale = self._font_scale
        org = (int(12 * scale / 0.55), int(26 * scale / 0.55))
        thick = max(1, round(scale * 2))
        cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
        cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), thick, cv2.LINE_AA)


def check_frame_size(width: int, height: int) -> None:
    """H.264 in yuv420p needs even frame sizes; ValueError otherwise."""
    if width % 2 or height % 2:
        raise ValueError(f"frame width and height must be even for H.264 (yuv420p), got {width}x{height}")


def render_clip(
    scenario: Scenario,
    camera: CameraSpec,
    path: Path,
    *,
    progress: Progress | None = None,
    on_layout: Callable[[FrameLayout], None] | None = None,
) -> Path:
    """Render one camera's clip to `path` (H.264 in MP4) and return the path.

    `on_layout` receives the layout of every frame drawn (to collect the ground truth).
    """
    check_frame_size(scenario.width, scenario.height)
    renderer = ClipRenderer(scenario, camera)
    fps = Fraction(scenario.fps).limit_denominator(1000)
    total = scenario.frames
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="mp4") as container:
        # Cameras stamp recordings with their start; `safecity process` reads it back.
        container.metadata["creation_time"] = scenario.start_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stream = container.add_stream("libx264", rate=fps)
        stream.width = scenario.width
        stream.height = scenario.height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = 1 / fps
        stream.codec_context.gop_size = max(1, round(KEYFRAME_INTERVAL_S * scenario.fps))
        stream.options = {"preset": X264_PRESET, "crf": str(X264_CRF)}
        for i in range(total):
            image, layout = renderer.frame(i)
            if on_layout is not None:
                on_layout(layout)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            frame.time_base = 1 / fps
            for packet in stream.encode(frame):
                container.mux(packet)
            if progress is not None and ((i + 1) % 10 == 0 or i + 1 == total):
                progress(camera.id, i + 1, total)
        for packet in stream.encode():
            container.mux(packet)
    return path
