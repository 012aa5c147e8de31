"""The camera map's geometry, shared by the public register file and the web pages: cameras on an
equirectangular projection around their mean latitude, north up, scaled to fit a box.

Equirectangular is exact enough across a city (a few km): longitude is shrunk by the cosine of
the mean latitude so that distances look right, and nothing needs a tile server or a library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from safecity.types import Camera, Capability

MAP_WIDTH = 640
MAP_HEIGHT = 400
MAP_PAD = 24


@dataclass(frozen=True, slots=True)
class MapPoint:
    camera: Camera
    x: float
    y: float
    kind: str
    """faces, plates or other: the most intrusive analysis the camera runs (fill colour)."""
    state: str
    """The live state (running, stalled, ...), "disabled", or "unknown" (outline colour)."""


def capability_kind(camera: Camera) -> str:
    if Capability.FACES in camera.capabilities:
        return "faces"
    return "plates" if Capability.PLATES in camera.capabilities else "other"


def project(
    cameras: Sequence[Camera],
    states: Mapping[str, str] | None = None,
    *,
    width: int = MAP_WIDTH,
    height: int = MAP_HEIGHT,
    pad: int = MAP_PAD,
) -> list[MapPoint]:
    """The cameras on a `width` x `height` plane (pixels, y down), `pad` kept free at the edges."""
    if not cameras:
        return []
    states = states or {}
    mean_lat = sum(c.latitude for c in cameras) / len(cameras)
    x_scale = math.cos(math.radians(mean_lat))
    xs = [c.longitude * x_scale for c in cameras]
    ys = [c.latitude for c in cameras]
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    scale = min(width - 2 * pad, height - 2 * pad) / span if span > 0 else 0.0
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return [
        MapPoint(
            camera,
            round(width / 2 + (x - mid_x) * scale, 1),
            round(height / 2 - (y - mid_y) * scale, 1),  # north up: SVG's y grows downwards
            capability_kind(camera),
            states.get(camera.id, "unknown") if camera.enabled else "disabled",
        )
        for camera, x, y in zip(cameras, xs, ys, strict=True)
    ]
