"""The static background of each camera: a street or a pedestrian area, painted once per clip.

Every pixel's viewing ray is intersected with the ground and with the building fronts of the
camera's local street frame; the hit point picks a material (asphalt with lane markings and a
zebra crossing, kerb stones, paving, grass, facades with windows and shop fronts, sky) and a
texture sampled in world coordinates, so detail shrinks with distance like in a real picture.
Lamp posts and trees are drawn on top. All numpy, no per-pixel Python loop.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from safecity.sim.projection import FloatArray, PinholeCamera, ViewKind
from safecity.sim.scenario import KERB_WIDTH_M, LANE_OFFSETS_M, ROAD_HALF_WIDTH_M, SIDEWALK_OUTER_M
from safecity.types import BGRImage

TEXTURE_SIZE = 512
TEXELS_PER_M = 12.0
FAR_M = 400.0
HAZE_M = 350.0
SKY_TOP_BGR = np.array([205.0, 170.0, 135.0])
SKY_HORIZON_BGR = np.array([228.0, 222.0, 214.0])
HAZE_BGR = np.array([210.0, 205.0, 198.0])
ASPHALT_BGR = np.array([92.0, 90.0, 88.0])
MARKING_BGR = np.array([225.0, 228.0, 230.0])
KERB_BGR = np.array([165.0, 168.0, 170.0])
PAVING_BGR = np.array([150.0, 158.0, 168.0])
PLAZA_BGR = np.array([168.0, 176.0, 186.0])
GRASS_BGR = np.array([60.0, 115.0, 85.0])
GLASS_BGR = np.array([85.0, 72.0, 62.0])
SHOP_BGR = np.array([60.0, 55.0, 52.0])
FACADE_PALETTE = np.array(
    [
        [168, 190, 206],
        [120, 165, 205],
        [165, 165, 162],
        [150, 200, 222],
        [95, 110, 160],
        [190, 200, 205],
        [140, 150, 175],
    ],
    dtype=np.float64,
)
SEGMENT_M = 22.0
"""Length of one building along the street."""
FLOOR_M = 3.3
GROUND_FLOOR_M = 3.6
PLAZA_HALF_WIDTH_M = 5.0
PLAZA_SIDE_FACADE_M = 16.0
PLAZA_END_FACADE_M = 75.0
DASH_M, GAP_M = 3.0, 6.0
LINE_HALF_M = 0.07
VIGNETTE = 0.22
LAMP_POST_SETBACK_M = 0.35


def paint_background(view: ViewKind, camera: PinholeCamera, rng: np.random.Generator) -> BGRImage:
    """The background image of one camera (H, W, 3 uint8)."""
    h, w = camera.height, camera.width
    rays = camera.rays().reshape(-1, 3)
    texture = _texture(rng)
    facade_colours = FACADE_PALETTE[rng.integers(0, len(FACADE_PALETTE), 64)]
    facade_heights = rng.uniform(15.0, 26.0, 64)
    scene = _Canvas(camera, rays)
    if view is ViewKind.PLAZA:
        _paint_plaza(scene, texture, facade_colours, facade_heights, rng)
    else:
        _paint_street(scene, texture, facade_colours, facade_heights, rng)
    image = scene.finish().reshape(h, w, 3)
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    image *= (1.0 - VIGNETTE * r2 / 2.0)[..., None]
    out = np.clip(image, 0, 255).astype(np.uint8)
    if view is ViewKind.PLAZA:
        _draw_trees(out, camera, rng)
    else:
        _draw_lamp_posts(out, camera)
    return np.asarray(cv2.GaussianBlur(out, (0, 0), 0.6), dtype=np.uint8)


class _Canvas:
    """Flattened pixels being painted: colour and distance of the nearest surface hit so far."""

    def __init__(self, camera: PinholeCamera, rays: FloatArray) -> None:
        self.camera = camera
        self.rays = rays
        self.origin = camera.centre
        elevation = rays[:, 1] / np.linalg.norm(rays, axis=1)
        f = np.clip(elevation * 3.0, 0.0, 1.0)[:, None]
        self.image: FloatArray = SKY_HORIZON_BGR * (1 - f) + SKY_TOP_BGR * f
        self.dist: FloatArray = np.full(rays.shape[0], np.inf)

    def hit_plane(self, axis: int, value: float) -> tuple[npt.NDArray[np.intp], FloatArray, FloatArray]:
        """Pixels whose ray meets the plane coordinate[axis] == value in front of everything so far.

        Returns their indices, the ray parameter t and the hit points (n, 3).
        """
        d = self.rays[:, axis]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (value - self.origin[axis]) / d
        idx = np.nonzero((t > 0) & (t < self.dist) & np.isfinite(t))[0]
        tt = t[idx]
        points: FloatArray = self.origin + tt[:, None] * self.rays[idx]
        return idx, tt, points

    def paint(self, idx: npt.NDArray[np.intp], t: FloatArray, colour: FloatArray) -> None:
        self.image[idx] = colour
        self.dist[idx] = t

    def finish(self) -> FloatArray:
        finite = np.isfinite(self.dist)
        f = (1.0 - np.exp(-self.dist[finite] / HAZE_M))[:, None]
        self.image[finite] = self.image[finite] * (1 - f) + HAZE_BGR * f
        return self.image


def _texture(rng: np.random.Generator) -> FloatArray:
    """Tileable noise in -1..1 with fine grain and larger patches."""
    fine = rng.normal(0.0, 1.0, (TEXTURE_SIZE, TEXTURE_SIZE))
    pad = 48
    raw = np.pad(rng.normal(0.0, 1.0, (TEXTURE_SIZE, TEXTURE_SIZE)), pad, mode="wrap")
    coarse = np.asarray(cv2.GaussianBlur(raw, (0, 0), 12.0), dtype=np.float64)[pad:-pad, pad:-pad]
    coarse /= coarse.std() + 1e-9
    tex: FloatArray = np.clip(0.45 * cv2.GaussianBlur(fine, (0, 0), 0.8) / 0.35 + 0.55 * coarse, -3, 3) / 3.0
    return tex


def _sample(texture: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    ia = np.floor(a * TEXELS_PER_M).astype(np.int64) % TEXTURE_SIZE
    ib = np.floor(b * TEXELS_PER_M).astype(np.int64) % TEXTURE_SIZE
    result: FloatArray = texture[ia, ib]
    return result


def _facade(
    along: FloatArray,
    up: FloatArray,
    texture: FloatArray,
    colours: FloatArray,
    heights: FloatArray,
    seg_offset: float,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Colour of a building front at (distance along it, height); also where a building stands."""
    seg = np.floor((along + seg_offset) / SEGMENT_M).astype(np.int64) % len(colours)
    base = colours[seg]
    top = heights[seg]
    standing = (up >= 0) & (up <= top)
    colour = base * (1.0 + 0.06 * _sample(texture, along * 0.5, up * 0.5))[:, None]
    u = np.mod(along + seg_offset, 3.2)
    floor_v = np.mod(up - GROUND_FLOOR_M, FLOOR_M)
    window = (
        (u > 0.9) & (u < 2.3) & (floor_v > 0.9) & (floor_v < 2.6) & (up > GROUND_FLOOR_M) & (up < top - 1.0)
    )
    colour[window] = GLASS_BGR * (0.85 + 0.3 * (floor_v[window] - 0.9) / 1.7)[:, None]
    shop_u = np.mod(along + seg_offset, 6.0)
    shop = (up > 0.3) & (up < 2.8) & (shop_u > 0.6) & (shop_u < 5.2)
    colour[shop] = SHOP_BGR
    sign = (up >= 2.95) & (up < 3.45) & (shop_u > 0.3) & (shop_u < 5.5)
    colour[sign] = colours[(seg[sign] * 5 + 3) % len(colours)] * 0.55
    cornice = (np.abs(up - top) < 0.35) | (np.abs(up - GROUND_FLOOR_M) < 0.12)
    colour[cornice] = base[cornice] * 0.8
    return colour, standing


def _paint_facade(
    scene: _Canvas,
    axis: int,
    value: float,
    along_axis: int,
    texture: FloatArray,
    colours: FloatArray,
    heights: FloatArray,
    seg_offset: float,
    max_along: float = FAR_M,
) -> None:
    idx, t, pts = scene.hit_plane(axis, value)
    along = pts[:, along_axis]
    keep = (
        (along > -max_along) & (along < max_along) if along_axis == 0 else (along > 0) & (along < max_along)
    )
    idx, t, pts, along = idx[keep], t[keep], pts[keep], along[keep]
    colour, standing = _facade(along, pts[:, 1], texture, colours, heights, seg_offset)
    scene.paint(idx[standing], t[standing], colour[standing])


def _paint_street(
    scene: _Canvas, texture: FloatArray, colours: FloatArray, heights: FloatArray, rng: np.random.Generator
) -> None:
    for side, offset in ((1.0, 7.0), (-1.0, 0.0)):
        _paint_facade(scene, 0, side * SIDEWALK_OUTER_M, 2, texture, colours, heights, offset)
    idx, t, pts = scene.hit_plane(1, 0.0)
    keep = pts[:, 2] < FAR_M
    idx, t, pts = idx[keep], t[keep], pts[keep]
    gx, gz = pts[:, 0], pts[:, 2]
    ax = np.abs(gx)
    tex = _sample(texture, gx, gz)
    detail = np.clip(25.0 / np.maximum(t, 1.0), 0.15, 1.0)
    colour = ASPHALT_BGR * (1.0 + 0.12 * tex * detail)[:, None]
    for lane in LANE_OFFSETS_M:  # slightly darker wheel tracks
        track = (np.abs(ax - lane) > 0.55) & (np.abs(ax - lane) < 0.95)
        colour[track] *= 0.96
    centre = (ax > 0.05) & (ax < 0.05 + 2 * LINE_HALF_M)  # double solid line
    divider = np.abs(ax - (LANE_OFFSETS_M[0] + LANE_OFFSETS_M[1]) / 2) < LINE_HALF_M
    dashed = divider & (np.mod(gz + 2.0, DASH_M + GAP_M) < DASH_M)
    edge = np.abs(ax - (ROAD_HALF_WIDTH_M - 0.3)) < LINE_HALF_M
    zebra_z = float(rng.uniform(38.0, 70.0))
    zebra = (
        (gz > zebra_z)
        & (gz < zebra_z + 4.0)
        & (ax < ROAD_HALF_WIDTH_M - 0.4)
        & (np.mod(gx + 0.25, 1.0) < 0.5)
    )
    stop_line = (np.abs(gz - (zebra_z - 1.5)) < 0.2) & (ax < ROAD_HALF_WIDTH_M - 0.4) & (gx > 0)
    marking = centre | dashed | edge | zebra | stop_line
    colour[marking] = MARKING_BGR * (0.85 + 0.15 * tex[marking])[:, None]
    kerb = (ax >= ROAD_HALF_WIDTH_M) & (ax < ROAD_HALF_WIDTH_M + KERB_WIDTH_M)
    colour[kerb] = KERB_BGR * (1.0 + 0.05 * tex[kerb])[:, None]
    walk = ax >= ROAD_HALF_WIDTH_M + KERB_WIDTH_M
    joints = ((np.mod(gx, 0.4) < 0.03) | (np.mod(gz, 0.4) < 0.03)) & (detail > 0.3)
    paving = PAVING_BGR * (1.0 + 0.07 * tex * detail)[:, None]
    paving[joints] *= 0.85
    colour[walk] = paving[walk]
    scene.paint(idx, t, colour)


def _paint_plaza(
    scene: _Canvas, texture: FloatArray, colours: FloatArray, heights: FloatArray, rng: np.random.Generator
) -> None:
    # The building across the far end, then the ones along both sides.
    _paint_facade(scene, 2, PLAZA_END_FACADE_M, 0, texture, colours, heights + 6.0, 3.0, max_along=200.0)
    for side, offset in ((1.0, 11.0), (-1.0, 4.0)):
        _paint_facade(scene, 0, side * PLAZA_SIDE_FACADE_M, 2, texture, colours, heights, offset)
    idx, t, pts = scene.hit_plane(1, 0.0)
    gx, gz = pts[:, 0], pts[:, 2]
    ax = np.abs(gx)
    tex = _sample(texture, gx, gz)
    detail = np.clip(20.0 / np.maximum(t, 1.0), 0.15, 1.0)
    joints = ((np.mod(gx, 0.6) < 0.025) | (np.mod(gz, 0.6) < 0.025)) & (detail > 0.25)
    colour = PLAZA_BGR * (1.0 + 0.06 * tex * detail)[:, None]
    colour[joints] *= 0.82
    band = np.abs(ax - PLAZA_HALF_WIDTH_M + 0.4) < 0.2
    colour[band] = KERB_BGR * 0.9
    grass = ax >= PLAZA_HALF_WIDTH_M
    colour[grass] = GRASS_BGR * (1.0 + 0.25 * tex[grass])[:, None]
    shade_z = float(rng.uniform(0.0, 9.0))
    shadow = (np.mod(gz + shade_z, 9.0) < 3.5) & (ax < PLAZA_HALF_WIDTH_M + 3)
    colour[shadow] *= 0.8
    scene.paint(idx, t, colour)


def _project_point(camera: PinholeCamera, x: float, y: float, z: float) -> tuple[float, float, float]:
    uv, depth = camera.project(np.array([[x, y, z]]))
    return float(uv[0, 0]), float(uv[0, 1]), float(depth[0])


def _draw_lamp_posts(image: BGRImage, camera: PinholeCamera) -> None:
    """Street lights on both kerbs, far ones first."""
    posts = [
        (side * (ROAD_HALF_WIDTH_M + LAMP_POST_SETBACK_M), z)
        for z in np.arange(12.0, 200.0, 32.0)
        for side in (1.0, -1.0)
    ]
    posts.sort(key=lambda p: -p[1])
    for x, z in posts:
        u0, v0, d0 = _project_point(camera, x, 0.0, z)
        u1, v1, d1 = _project_point(camera, x, 8.0, z)
        if d0 < 1.0 or d1 < 1.0:
            continue
        thick = max(1, round(camera.focal * 0.14 / d0))
        colour = (70, 72, 75)
        cv2.line(image, (int(u0), int(v0)), (int(u1), int(v1)), colour, thick, cv2.LINE_AA)
        ua, va, da = _project_point(camera, x - np.sign(x) * 1.8, 8.3, z)
        if da > 1.0:
            cv2.line(image, (int(u1), int(v1)), (int(ua), int(va)), colour, max(1, thick - 1), cv2.LINE_AA)
            r = max(1, round(camera.focal * 0.18 / da))
            cv2.ellipse(image, (int(ua), int(va)), (r * 2, r), 0, 0, 360, (200, 205, 210), -1, cv2.LINE_AA)


def _draw_trees(image: BGRImage, camera: PinholeCamera, rng: np.random.Generator) -> None:
    """Trees along both edges of the plaza, far ones first."""
    trees = [
        (side * float(rng.uniform(PLAZA_HALF_WIDTH_M + 1.0, PLAZA_HALF_WIDTH_M + 4.0)), float(z))
        for z in np.arange(6.0, 70.0, 11.0)
        for side in (1.0, -1.0)
    ]
    trees.sort(key=lambda t: -t[1])
    for x, z in trees:
        u0, v0, d0 = _project_point(camera, x, 0.0, z)
        u1, v1, _d1 = _project_point(camera, x, 2.6, z)
        if d0 < 1.0:
            continue
        k = camera.focal / d0
        cv2.line(
            image, (int(u0), int(v0)), (int(u1), int(v1)), (40, 55, 70), max(1, int(0.25 * k)), cv2.LINE_AA
        )
        uc, vc, _ = _project_point(camera, x, 4.6, z)
        axes = (max(1, int(2.3 * k)), max(1, int(2.0 * k)))
        green = tuple(
            int(c) for c in (45 + rng.integers(0, 20), 85 + rng.integers(0, 30), 50 + rng.integers(0, 20))
        )
        cv2.ellipse(image, (int(uc), int(vc)), axes, 0, 0, 360, green, -1, cv2.LINE_AA)
        # A few lighter clumps for volume.
        for _ in range(5):
            ox, oy = rng.uniform(-1.4, 1.4), rng.uniform(-1.2, 0.8)
            r = max(1, int(rng.uniform(0.6, 1.1) * k))
            lighter = tuple(min(255, c + 18) for c in green)
            cv2.circle(image, (int(uc + ox * k), int(vc + oy * k)), r, lighter, -1, cv2.LINE_AA)
