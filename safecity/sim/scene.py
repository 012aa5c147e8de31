"""What one camera sees at one instant: vehicles and people projected into its frame.

`SceneProjector.layout(frame_index)` places every vehicle (a box model: body, sloped cabin,
lights, wheels and the plate quad) and every pedestrian (a walking figure with a head or a
real face) in pixels, ordered far to near, and decides which plates and faces are visible:
inside the frame, large enough and not hidden behind something nearer. The renderer draws
these layouts and the ground truth reports them, so both always agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from safecity.sim.faces import FACE_WIDTH_M, face_sprite
from safecity.sim.plates import PLATE_HEIGHT_M, PLATE_WIDTH_M
from safecity.sim.projection import VIEWS, FloatArray, PinholeCamera
from safecity.sim.scenario import (
    LANE_OFFSETS_M,
    ROAD_HALF_WIDTH_M,
    CameraSpec,
    PedestrianSpec,
    Scenario,
    VehicleSpec,
)
from safecity.types import BBox

Colour = tuple[int, int, int]

MIN_PLATE_WIDTH_PX = 40
"""Plates narrower than this are not reported: their characters are a few pixels wide."""
MIN_FACE_WIDTH_PX = 24
"""Faces narrower than this are not reported."""
MAX_OCCLUDED_FRACTION = 0.02
"""A plate or face more hidden than this behind nearer objects is not reported."""
MIN_DEPTH_M = 0.3
"""Objects with any point closer to the camera than this are out of view and skipped."""
MAX_VEHICLE_DISTANCE_M = 220.0
MAX_PERSON_DISTANCE_M = 60.0
HAZE_DISTANCE_M = 500.0
"""Colours fade towards the haze colour over this distance (aerial perspective)."""
HAZE_BGR = np.array([200.0, 196.0, 190.0])
SHADE_PERIOD_M = 9.0
SHADE_DEPTH = 0.25
"""Walkers pass through tree and building shade: brightness varies by this much along the path."""

# Vehicle details, as fractions of the body's height (from the bottom) and width (from the side).
_REAR_PLATE_HEIGHT = 0.45
_FRONT_PLATE_HEIGHT = 0.22
_WHEEL_RADIUS_M = 0.31
_WHEEL_POSITIONS = (0.17, 0.83)
_GLASS_BGR: Colour = (70, 62, 58)
_WINDSCREEN_BGR: Colour = (110, 100, 92)
_TAIL_LIGHT_BGR: Colour = (35, 30, 185)
_HEAD_LIGHT_BGR: Colour = (215, 228, 235)
_TRIM_BGR: Colour = (48, 48, 50)
_TYRE_BGR: Colour = (28, 28, 30)
_SHADOW_BGR: Colour = (38, 38, 40)

# Pedestrian figure, metres.
FACE_CENTRE_BELOW_TOP_M = 0.14
HEAD_HALF_WIDTH_M = 0.085
HEAD_HALF_HEIGHT_M = 0.115
STRIDE_M = 1.5


@dataclass(frozen=True, slots=True, eq=False)
class VehicleSprite:
    """A vehicle in the frame: polygons in drawing order and the quad of its visible plate."""

    vehicle: VehicleSpec
    depth: float
    polygons: tuple[tuple[FloatArray, Colour], ...]
    plate_quad: FloatArray | None
    """Pixel corners (4, 2): top-left, top-right, bottom-right, bottom-left; None when turned away."""
    plate_gain: float
    silhouette: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class PersonSprite:
    """A walking person in the frame."""

    person: PedestrianSpec
    depth: float
    foot: tuple[float, float]
    px_per_m: float
    """Horizontal scale at the person's distance."""
    height_px: float
    walked_m: float
    gain: float
    head: tuple[float, float, float, float]
    """Frontal: where the head crop goes (x, y, w, h); from behind: the head ellipse's box."""
    face_box: tuple[float, float, float, float] | None
    silhouette: FloatArray


Sprite = VehicleSprite | PersonSprite


@dataclass(frozen=True, slots=True, eq=False)
class FrameLayout:
    """Everything drawn in one frame, far to near, and the plates and faces that are visible."""

    camera: CameraSpec
    index: int
    time_s: float
    sprites: tuple[Sprite, ...]
    plates: tuple[tuple[VehicleSpec, BBox], ...]
    faces: tuple[tuple[PedestrianSpec, BBox], ...]


def _shade(colour: Colour, factor: float, lift: float = 0.0) -> Colour:
    b, g, r = (min(255.0, max(0.0, c * factor + lift)) for c in colour)
    return (int(b), int(g), int(r))


def _bbox_of(points: FloatArray) -> BBox:
    x0, y0 = np.floor(points.min(axis=0))
    x1, y1 = np.ceil(points.max(axis=0))
    return BBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def _inside(box: BBox, width: int, height: int) -> bool:
    return box.x >= 0 and box.y >= 0 and box.x + box.w <= width and box.y + box.h <= height


def clip_segment(
    p0: tuple[float, float], p1: tuple[float, float], width: int, height: int
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The part of a segment inside the frame (Liang-Barsky), or None."""
    x0, y0 = p0
    dx, dy = p1[0] - x0, p1[1] - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0), (dx, width - x0), (-dy, y0), (dy, height - y0)):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return None
    return (x0 + t0 * dx, y0 + t0 * dy), (x0 + t1 * dx, y0 + t1 * dy)


class SceneProjector:
    """Lays out the frames of one camera of a scenario."""

    def __init__(self, scenario: Scenario, camera: CameraSpec) -> None:
        self.scenario = scenario
        self.spec = camera
        self.camera = PinholeCamera(VIEWS[camera.view], scenario.width, scenario.height)
        self.vehicles = scenario.vehicles if camera.sees_traffic else ()
        self.people = tuple(p for p in scenario.pedestrians if p.camera_id == camera.id)
        self._shade_phase = (camera.distance_m * 0.37) % (2 * math.pi)

    # ----------------------------------------------------------------- reference line
    def reference_line_px(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The timing line across the road (kerb to kerb), clipped to the frame."""
        if not self.spec.sees_traffic:
            return None
        z = VIEWS[self.spec.view].reference_line_z_m
        uv, depth = self.camera.project(np.array([[-ROAD_HALF_WIDTH_M, 0.0, z], [ROAD_HALF_WIDTH_M, 0.0, z]]))
        if np.any(depth <= 0):
            return None
        return clip_segment(
            (float(uv[0, 0]), float(uv[0, 1])),
            (float(uv[1, 0]), float(uv[1, 1])),
            self.scenario.width,
            self.scenario.height,
        )

    def vehicle_visible_at(self, vehicle: VehicleSpec, corridor_m: float) -> bool:
        """Whether the vehicle's centre would be inside the frame at corridor distance `corridor_m`."""
        z = self.spec.facing * (corridor_m - self.spec.distance_m)
        x = self.spec.facing * vehicle.direction * LANE_OFFSETS_M[vehicle.lane]
        uv, depth = self.camera.project(np.array([[x, vehicle.body.body_top / 2.0, z]]))
        return bool(depth[0] > MIN_DEPTH_M and self.camera.in_frame(uv))

    # ----------------------------------------------------------------- layout
    def layout(self, index: int) -> FrameLayout:
        t = index / self.scenario.fps
        sprites: list[Sprite] = []
        for v in self.vehicles:
            vs = self._vehicle(v, t)
            if vs is not None:
                sprites.append(vs)
        for p in self.people:
            ps = self._person(p, t)
            if ps is not None:
                sprites.append(ps)
        sprites.sort(key=lambda s: -s.depth)
        plates: list[tuple[VehicleSpec, BBox]] = []
        faces: list[tuple[PedestrianSpec, BBox]] = []
        w, h = self.scenario.width, self.scenario.height
        for i, s in enumerate(sprites):
            if isinstance(s, VehicleSprite) and s.plate_quad is not None:
                box = _bbox_of(s.plate_quad)
                if (
                    box.w >= MIN_PLATE_WIDTH_PX
                    and _inside(box, w, h)
                    and not self._occluded(box, sprites[i + 1 :])
                ):
                    plates.append((s.vehicle, box))
            elif isinstance(s, PersonSprite) and s.face_box is not None:
                fx, fy, fw, fh = s.face_box
                box = _bbox_of(np.array([[fx, fy], [fx + fw, fy + fh]]))
                if (
                    box.w >= MIN_FACE_WIDTH_PX
                    and _inside(box, w, h)
                    and not self._occluded(box, sprites[i + 1 :])
                ):
                    faces.append((s.person, box))
        return FrameLayout(self.spec, index, t, tuple(sprites), tuple(plates), tuple(faces))

    @staticmethod
    def _occluded(box: BBox, nearer: list[Sprite]) -> bool:
        if box.area == 0:
            return True
        mask: np.ndarray | None = None
        for s in nearer:
            sil = s.silhouette
            if (
                sil[:, 0].max() < box.x
                or sil[:, 0].min() > box.x + box.w
                or sil[:, 1].max() < box.y
                or sil[:, 1].min() > box.y + box.h
            ):
                continue
            if mask is None:
                mask = np.zeros((box.h, box.w), np.uint8)
            pts = np.round((sil - (box.x, box.y)) * 16).astype(np.int32)
            cv2.fillConvexPoly(mask, pts, 1, lineType=cv2.LINE_8, shift=4)
        if mask is None:
            return False
        return float(mask.mean()) > MAX_OCCLUDED_FRACTION

    # ----------------------------------------------------------------- vehicles
    def _vehicle(self, v: VehicleSpec, t: float) -> VehicleSprite | None:
        s = v.position_m(t)
        if s is None:
            return None
        spec = self.spec
        zc = spec.facing * (s - spec.distance_m)
        body = v.body
        if zc - body.length / 2 < MIN_DEPTH_M or zc > MAX_VEHICLE_DISTANCE_M:
            return None
        xc = spec.facing * v.direction * LANE_OFFSETS_M[v.lane]
        away = v.direction == spec.facing
        m = 1.0 if away else -1.0
        half_len = body.length / 2

        def z_of(ell: float) -> float:
            return zc + m * (ell - half_len)

        x0, x1 = xc - body.width / 2, xc + body.width / 2
        bb, bt, ct = body.body_bottom, body.body_top, body.cabin_top
        inset = body.width * 0.06
        L = body.length

        polys3d: list[tuple[FloatArray, Colour]] = []
        cam_centre = self.camera.centre

        # Shadow under the car and the tyres seen under the near bumper.
        pad = 0.15
        shadow = np.array(
            [
                [x0 - pad, 0.0, zc - half_len - pad],
                [x1 + pad, 0.0, zc - half_len - pad],
                [x1 + pad, 0.0, zc + half_len + pad],
                [x0 - pad, 0.0, zc + half_len + pad],
            ]
        )
        polys3d.append((shadow, _SHADOW_BGR))
        near_z = zc - half_len  # the end facing the camera
        axle_z = near_z + L * _WHEEL_POSITIONS[0]
        for xa, xb in ((x0, x0 + 0.24), (x1 - 0.24, x1)):
            polys3d.append(
                (
                    np.array(
                        [
                            [xa, 0.0, axle_z],
                            [xb, 0.0, axle_z],
                            [xb, bb + 0.05, axle_z],
                            [xa, bb + 0.05, axle_z],
                        ]
                    ),
                    _TYRE_BGR,
                )
            )

        colour = v.colour_bgr
        body_box = _hexahedron(x0, x1, x0, x1, bb, bt, z_of(0.0), z_of(L), z_of(0.0), z_of(L))
        c_rear, c_front = body.cabin_rear * L, body.cabin_front * L
        r_top, f_top = c_rear + body.rear_slope * L, c_front - body.front_slope * L
        cabin_box = _hexahedron(
            x0 + inset * 0.5,
            x1 - inset * 0.5,
            x0 + inset * 1.5,
            x1 - inset * 1.5,
            bt,
            ct,
            z_of(c_rear),
            z_of(c_front),
            z_of(r_top),
            z_of(f_top),
        )
        # Lower body.
        visible_sides: list[int] = []
        for face_idx, quad, normal in _visible_faces(body_box, cam_centre):
            polys3d.append((quad, _face_colour(colour, normal)))
            if abs(normal[0]) > 0.7:
                visible_sides.append(face_idx)
        near_end_z = near_z - 0.004
        h = bt - bb
        # Bumper, lights, grille on the near end.
        polys3d.append((_rect_z(x0, x1, bb, bb + 0.2 * h, near_end_z), _TRIM_BGR))
        if away:
            for xa, xb in ((x0 + 0.04, x0 + 0.32), (x1 - 0.32, x1 - 0.04)):
                polys3d.append((_rect_z(xa, xb, bb + 0.62 * h, bb + 0.9 * h, near_end_z), _TAIL_LIGHT_BGR))
            plate_y = bb + _REAR_PLATE_HEIGHT * h
        else:
            for xa, xb in ((x0 + 0.06, x0 + 0.34), (x1 - 0.34, x1 - 0.06)):
                polys3d.append((_rect_z(xa, xb, bb + 0.55 * h, bb + 0.8 * h, near_end_z), _HEAD_LIGHT_BGR))
            polys3d.append(
                (_rect_z(xc - 0.36, xc + 0.36, bb + 0.48 * h, bb + 0.78 * h, near_end_z), _TRIM_BGR)
            )
            plate_y = bb + _FRONT_PLATE_HEIGHT * h
        # Wheels on a visible side.
        for face_idx in visible_sides:
            side_x = (x1 + 0.005) if face_idx == _FACE_XB else (x0 - 0.005)
            for frac in _WHEEL_POSITIONS:
                ez = z_of(frac * L)
                r = _WHEEL_RADIUS_M
                polys3d.append(
                    (
                        np.array(
                            [
                                [side_x, 0.0, ez - r],
                                [side_x, 0.0, ez + r],
                                [side_x, 2 * r, ez + r],
                                [side_x, 2 * r, ez - r],
                            ]
                        ),
                        _TYRE_BGR,
                    )
                )
        # Cabin with windows.
        for _face_idx, quad, normal in _visible_faces(cabin_box, cam_centre):
            polys3d.append((quad, _face_colour(colour, normal)))
            if normal[1] < 0.9:  # not the roof: glass inset
                glass = _WINDSCREEN_BGR if (not away and abs(normal[2]) > 0.5) else _GLASS_BGR
                polys3d.append((_inset(quad, 0.07, 0.93, 0.1, 0.88), glass))

        plate3d = np.array(
            [
                [xc - PLATE_WIDTH_M / 2, plate_y + PLATE_HEIGHT_M / 2, near_z - 0.008],
                [xc + PLATE_WIDTH_M / 2, plate_y + PLATE_HEIGHT_M / 2, near_z - 0.008],
                [xc + PLATE_WIDTH_M / 2, plate_y - PLATE_HEIGHT_M / 2, near_z - 0.008],
                [xc - PLATE_WIDTH_M / 2, plate_y - PLATE_HEIGHT_M / 2, near_z - 0.008],
            ]
        )
        counts = [len(p) for p, _ in polys3d]
        all_pts = np.concatenate([p for p, _ in polys3d] + [plate3d, body_box, cabin_box])
        uv, depth = self.camera.project(all_pts)
        if np.any(depth < MIN_DEPTH_M):
            return None
        n_poly = sum(counts)
        hull_pts = uv[n_poly + 4 :]
        hull_pts = np.concatenate([hull_pts, uv[:4]])  # include the shadow
        w, hgt = self.scenario.width, self.scenario.height
        if (
            hull_pts[:, 0].max() < 0
            or hull_pts[:, 0].min() > w
            or hull_pts[:, 1].max() < 0
            or hull_pts[:, 1].min() > hgt
        ):
            return None
        centre_depth = float(self.camera.to_camera(np.array([[xc, bt / 2, zc]]))[0, 2])
        haze = 1.0 - math.exp(-centre_depth / HAZE_DISTANCE_M)
        hazed = (np.array([col for _, col in polys3d], np.float64) * (1.0 - haze) + HAZE_BGR * haze).astype(
            int
        )
        polygons: list[tuple[FloatArray, Colour]] = []
        start = 0
        for (c0, c1, c2), n in zip(hazed.tolist(), counts, strict=True):
            polygons.append((uv[start : start + n], (c0, c1, c2)))
            start += n
        silhouette = cv2.convexHull(hull_pts.astype(np.float32)).reshape(-1, 2).astype(np.float64)
        plate_quad = uv[n_poly : n_poly + 4]
        plate_gain = 1.0 - (1.0 - math.exp(-centre_depth / HAZE_DISTANCE_M)) * 0.3
        return VehicleSprite(v, centre_depth, tuple(polygons), plate_quad, plate_gain, silhouette)

    # ----------------------------------------------------------------- people
    def _person(self, p: PedestrianSpec, t: float) -> PersonSprite | None:
        z = p.z_at(t)
        if z < MIN_DEPTH_M + 0.3 or z > MAX_PERSON_DISTANCE_M:
            return None
        x = self.camera.geometry.lateral_m + p.lateral_m
        top_y = p.height_m
        face_y = top_y - FACE_CENTRE_BELOW_TOP_M
        pts = np.array([[x, 0.0, z], [x, top_y, z], [x, face_y, z]])
        uv, depth = self.camera.project(pts)
        if np.any(depth < MIN_DEPTH_M):
            return None
        foot = (float(uv[0, 0]), float(uv[0, 1]))
        height_px = float(uv[0, 1] - uv[1, 1])
        k = self.camera.focal / float(depth[2])
        shade = 0.5 + 0.5 * math.sin(2 * math.pi * z / SHADE_PERIOD_M + self._shade_phase)
        gain = p.light_gain * (1.0 - SHADE_DEPTH * shade)
        walked = abs(z - p.ref_z_m)
        face_box: tuple[float, float, float, float] | None = None
        fu, fv = float(uv[2, 0]), float(uv[2, 1])
        if p.towards_camera and p.identity is not None:
            sprite = face_sprite(p.identity)
            fbx, fby, fbw, fbh = sprite.face_box
            s = k * FACE_WIDTH_M / fbw
            crop_h, crop_w = sprite.image.shape[:2]
            cx0 = fu - s * (fbx + fbw / 2)
            cy0 = fv - s * (fby + fbh / 2)
            head = (cx0, cy0, s * crop_w, s * crop_h)
            face_box = (cx0 + s * fbx, cy0 + s * fby, s * fbw, s * fbh)
        else:
            hw, hh = HEAD_HALF_WIDTH_M * k, HEAD_HALF_HEIGHT_M * k
            cy = float(uv[1, 1]) + HEAD_HALF_HEIGHT_M * k
            head = (fu - hw, cy - hh, 2 * hw, 2 * hh)
        half = 0.3 * k
        x_lo = min(foot[0] - half, head[0] + head[2] * 0.1)
        x_hi = max(foot[0] + half, head[0] + head[2] * 0.9)
        y_lo = min(float(uv[1, 1]), head[1] + head[3] * 0.1)
        y_hi = foot[1]
        silhouette = np.array([[x_lo, y_lo], [x_hi, y_lo], [x_hi, y_hi], [x_lo, y_hi]])
        w, hgt = self.scenario.width, self.scenario.height
        if x_hi < 0 or x_lo > w or y_hi < 0 or y_lo > hgt:
            return None
        return PersonSprite(p, float(depth[0]), foot, k, height_px, walked, gain, head, face_box, silhouette)


# ------------------------------------------------------------------------- geometry helpers
_FACES = ((0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7))
_FACE_XB = 3


def _hexahedron(
    xa: float,
    xb: float,
    xat: float,
    xbt: float,
    y0: float,
    y1: float,
    za: float,
    zb: float,
    zat: float,
    zbt: float,
) -> FloatArray:
    """Eight corners: bottom (xa|xb, y0, za|zb), then top (xat|xbt, y1, zat|zbt)."""
    return np.array(
        [
            [xa, y0, za],
            [xb, y0, za],
            [xb, y0, zb],
            [xa, y0, zb],
            [xat, y1, zat],
            [xbt, y1, zat],
            [xbt, y1, zbt],
            [xat, y1, zbt],
        ]
    )


_FACE_INDEX = np.array(_FACES)


def _visible_faces(corners: FloatArray, eye: FloatArray) -> list[tuple[int, FloatArray, FloatArray]]:
    """(face index, quad (4, 3) as bottom-left, bottom-right, top-right, top-left, outward normal)."""
    quads = corners[_FACE_INDEX]  # (6, 4, 3)
    centres = quads.mean(axis=1)
    a = quads[:, 1] - quads[:, 0]
    b = quads[:, 3] - quads[:, 0]
    normals = np.stack(
        [
            a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
            a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
            a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0],
        ],
        axis=1,
    )
    norms = np.sqrt((normals**2).sum(axis=1))
    normals = normals / np.where(norms > 0, norms, 1.0)[:, None]
    outward = np.sign(((centres - corners.mean(axis=0)) * normals).sum(axis=1))
    normals *= np.where(outward == 0, 1.0, outward)[:, None]
    facing = ((eye - centres) * normals).sum(axis=1) > 0
    return [(int(i), quads[i], normals[i]) for i in np.nonzero(facing & (norms > 0))[0]]


def _face_colour(colour: Colour, normal: FloatArray) -> Colour:
    if normal[1] > 0.6:
        return _shade(colour, 1.02, 12.0)
    if abs(normal[2]) >= abs(normal[0]):
        return _shade(colour, 0.9)
    return _shade(colour, 0.74)


def _rect_z(xa: float, xb: float, ya: float, yb: float, z: float) -> FloatArray:
    return np.array([[xa, ya, z], [xb, ya, z], [xb, yb, z], [xa, yb, z]])


def _inset(quad: FloatArray, u0: float, u1: float, v0: float, v1: float) -> FloatArray:
    """A sub-quad of a planar quad given as (p0, p1, p2, p3) with p0->p1 = u and p0->p3 = v."""
    weights = np.array(
        [
            [(1 - u) * (1 - v), u * (1 - v), u * v, (1 - u) * v]
            for u, v in ((u0, v0), (u1, v0), (u1, v1), (u0, v1))
        ]
    )
    result: FloatArray = weights @ quad
    return result


def layouts(scenario: Scenario, camera: CameraSpec) -> list[FrameLayout]:
    """The layout of every frame of one camera."""
    projector = SceneProjector(scenario, camera)
    return [projector.layout(i) for i in range(scenario.frames)]


__all__ = [
    "FrameLayout",
    "PersonSprite",
    "SceneProjector",
    "Sprite",
    "VehicleSprite",
    "clip_segment",
    "layouts",
]
