"""Camera geometry of the synthetic city: mounting presets and the pinhole projection.

Each camera has a local street frame: X to the right of the direction it faces (metres from the
road's centre line), Y up from the ground, Z forward along the road from the camera's pole. A
`PinholeCamera` projects such points to pixels and gives the viewing ray of every pixel (used
to paint the background). Focal lengths scale with the frame width, so a scene looks the same
at 640x360 and at 1280x720.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class ViewKind(enum.StrEnum):
    """How a camera is mounted and what it looks at."""

    TRAFFIC = "traffic"
    """On a mast arm over the centre line, looking down the road: both carriageways, plates."""
    KERB = "kerb"
    """On a pole at the kerb: the near carriageway on its left, the sidewalk on its right."""
    PLAZA = "plaza"
    """At head height in a pedestrian area, looking along a path: faces."""


@dataclass(frozen=True, slots=True)
class ViewGeometry:
    """Mounting of one kind of camera, in the camera's local street frame."""

    lateral_m: float
    """X of the camera: metres right of the road centre line (of the path's centre on a plaza)."""
    height_m: float
    pitch_deg: float
    """Downward tilt of the optical axis."""
    yaw_deg: float
    """Turn of the optical axis to the right (negative: to the left)."""
    focal_per_width: float
    """Focal length in pixels divided by the frame width."""
    reference_line_z_m: float
    """Distance ahead of the pole of the line across the road where passages are timed."""


VIEWS: dict[ViewKind, ViewGeometry] = {
    # Over the outer carriageway's lane divider, 4 m up: plates of both its lanes 140-150 px wide
    # at the bottom of a 1280-px frame, readable (>= 40 px) up to about 30 m.
    ViewKind.TRAFFIC: ViewGeometry(
        lateral_m=3.4,
        height_m=4.0,
        pitch_deg=10.0,
        yaw_deg=-2.0,
        focal_per_width=2.2,
        reference_line_z_m=20.0,
    ),
    # At the right kerb, 3 m up, turned left towards the road: plates up to ~150 px in the
    # outer lane, faces up to ~85 px on the sidewalk.
    ViewKind.KERB: ViewGeometry(
        lateral_m=7.1,
        height_m=3.0,
        pitch_deg=13.0,
        yaw_deg=-9.0,
        focal_per_width=1.5,
        reference_line_z_m=14.0,
    ),
    # Just above head height on a pedestrian path: faces grow from 24 px to ~100-160 px.
    ViewKind.PLAZA: ViewGeometry(
        lateral_m=0.0, height_m=2.1, pitch_deg=3.0, yaw_deg=0.0, focal_per_width=1.45, reference_line_z_m=5.0
    ),
}


class PinholeCamera:
    """An ideal pinhole camera at a pole in the local street frame."""

    def __init__(self, geometry: ViewGeometry, width: int, height: int) -> None:
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        self.geometry = geometry
        self.width = width
        self.height = height
        self.focal = geometry.focal_per_width * width
        self.cx = width / 2.0
        self.cy = height / 2.0
        self.centre = np.array([geometry.lateral_m, geometry.height_m, 0.0])
        pitch = math.radians(geometry.pitch_deg)
        yaw = math.radians(geometry.yaw_deg)
        forward = np.array(
            [math.sin(yaw) * math.cos(pitch), -math.sin(pitch), math.cos(yaw) * math.cos(pitch)]
        )
        right = np.array([math.cos(yaw), 0.0, -math.sin(yaw)])
        down = np.cross(right, forward)
        # Rows: the camera axes (x right, y down, z forward) expressed in the street frame.
        self.rotation: FloatArray = np.stack([right, down, forward])

    def to_camera(self, points: FloatArray) -> FloatArray:
        """Street-frame points (N, 3) in camera coordinates (N, 3): x right, y down, z depth."""
        result: FloatArray = (np.asarray(points, dtype=np.float64) - self.centre) @ self.rotation.T
        return result

    def project(self, points: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Pixel coordinates (N, 2) and depths (N,) of street-frame points (N, 3).

        Points behind the camera get a depth <= 0 and meaningless pixels; callers check depth.
        """
        cam = self.to_camera(points)
        depth = cam[:, 2]
        safe = np.where(depth > 1e-6, depth, 1e-6)
        uv = np.empty((cam.shape[0], 2))
        uv[:, 0] = self.cx + self.focal * cam[:, 0] / safe
        uv[:, 1] = self.cy + self.focal * cam[:, 1] / safe
        return uv, depth

    def rays(self) -> FloatArray:
        """The street-frame direction (not normalised) of every pixel centre, shape (H, W, 3)."""
        u = (np.arange(self.width) + 0.5 - self.cx) / self.focal
        v = (np.arange(self.height) + 0.5 - self.cy) / self.focal
        uu, vv = np.meshgrid(u, v)
        right, down, forward = self.rotation
        rays: FloatArray = forward + uu[..., None] * right + vv[..., None] * down
        return rays

    def in_frame(self, uv: FloatArray) -> bool:
        """Whether all pixel points lie inside the frame."""
        return bool(
            np.all(uv[:, 0] >= 0)
            and np.all(uv[:, 0] <= self.width)
            and np.all(uv[:, 1] >= 0)
            and np.all(uv[:, 1] <= self.height)
        )
