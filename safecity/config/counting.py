"""Counting: the `[counting]` section (`CountingSettings`) and the geometry it holds per camera, counting
lines (`CountingLineConfig`), occupancy zones (`CountingZoneConfig`), a camera's lines and zones as
the registry stores them (`CountingGeometry`) and as TOML names them (`CameraCountingConfig`), with
the per-camera size bound `MAX_COUNTING_ITEMS`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from safecity.config.base import SectionModel

MAX_COUNTING_ITEMS = 100
"""Most lines or zones per camera, and corners per zone: stored with the camera and sent to every
worker, so a request body cannot make them megabytes (a street needs a handful)."""


class CountingLineConfig(SectionModel):
    """A counting line in one camera's image: two points (pixels) and the names of its two directions."""

    name: str = Field(min_length=1, max_length=100, description="Unique per camera; stored with crossings.")
    points: tuple[tuple[float, float], tuple[float, float]] = Field(
        description="Start and end (x, y) in full-frame pixels, y down."
    )
    in_direction: str = Field(
        "in",
        min_length=1,
        max_length=20,
        description="Name of crossing from the left to the right of the line, seen facing from start to end.",
    )
    out_direction: str = Field(
        "out", min_length=1, max_length=20, description="The opposite crossing's name."
    )

    @model_validator(mode="after")
    def _a_real_line(self) -> CountingLineConfig:
        (ax, ay), (bx, by) = self.points
        if not all(math.isfinite(v) for v in (ax, ay, bx, by)):
            raise ValueError(f"line {self.name!r}: points must be finite numbers")
        if math.hypot(bx - ax, by - ay) < 1.0:
            raise ValueError(f"line {self.name!r}: its two points are less than 1 pixel apart")
        if self.in_direction == self.out_direction:
            raise ValueError(f"line {self.name!r}: in_direction and out_direction must differ")
        return self


class CountingZoneConfig(SectionModel):
    """A polygon zone in one camera's image whose occupancy (tracks inside) is counted."""

    name: str = Field(min_length=1, max_length=100, description="Unique per camera.")
    polygon: tuple[tuple[float, float], ...] = Field(
        max_length=MAX_COUNTING_ITEMS, description="Corners (x, y) in full-frame pixels."
    )

    @model_validator(mode="after")
    def _a_real_polygon(self) -> CountingZoneConfig:
        pts = self.polygon
        if len(pts) < 3:
            raise ValueError(f"zone {self.name!r}: needs at least 3 corners, got {len(pts)}")
        if not all(math.isfinite(v) for p in pts for v in p):
            raise ValueError(f"zone {self.name!r}: corners must be finite numbers")
        area = 0.5 * abs(sum(pts[i - 1][0] * p[1] - p[0] * pts[i - 1][1] for i, p in enumerate(pts)))
        if area < 1.0:
            raise ValueError(f"zone {self.name!r}: its polygon has no area (corners repeated or on one line)")
        return self


class CountingGeometry(SectionModel):
    """A camera's counting lines and zones (its image pixels), how the lines count and which point of a
    track is tested: what the registry stores with the camera (`safecity:counting`)."""

    lines: tuple[CountingLineConfig, ...] = Field((), max_length=MAX_COUNTING_ITEMS)
    zones: tuple[CountingZoneConfig, ...] = Field((), max_length=MAX_COUNTING_ITEMS)
    anchor: Literal["bottom", "centre"] = Field(
        "bottom",
        description="Point of a track's box tested against lines and zones: bottom-centre (where a vehicle "
        "touches the road the line is drawn on) or the box centre.",
    )
    method: Literal["tracks", "loop"] = Field(
        "tracks",
        description="How lines count: 'tracks' (a track's path crosses the line; any analysis rate) or "
        "'loop' (a virtual loop: the foreground under the line, frame by frame; vehicles side by side "
        "or close behind each other stay apart; needs about 15 analysed frames per second or more).",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> CountingGeometry:
        for kind, names in (("line", [x.name for x in self.lines]), ("zone", [z.name for z in self.zones])):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{kind} names must be unique per camera, repeated: {', '.join(repeated)}")
        return self


class CameraCountingConfig(CountingGeometry):
    """The counting lines and zones of one camera, named by its id ([[counting.cameras]] in TOML)."""

    camera_id: str = Field(min_length=1, description="Registered camera these lines belong to.")


class CountingSettings(SectionModel):
    """Counting lines and zones per camera ([[counting.cameras]] in TOML; a camera's lines registered
    with it, `safecity:counting` in the register, take precedence) and how crossings are classed."""

    cameras: tuple[CameraCountingConfig, ...] = ()
    hysteresis_px: float = Field(
        2.0, ge=0, description="A track must get this far past a line to change side (ignores jitter)."
    )
    min_object_area_px: float = Field(
        150.0, ge=0, description="Tracks whose median box is smaller are class 'unknown'."
    )
    min_object_aspect: float = Field(
        0.25,
        ge=0,
        description="Tracks whose median box is flatter (height / width) are class 'unknown': a sliver of "
        "shadow or a fragment of another object's blob, not an object.",
    )
    person_min_aspect: float = Field(
        1.3, gt=0, description="Median box height / width from which a slow track is a 'person'."
    )
    person_max_speed_px_s: float = Field(
        60.0, gt=0, description="Tall tracks faster than this (pixels per second) are not people."
    )
    interval_s: float = Field(900.0, gt=0, description="Default counting interval (seconds).")
    fragment_window_s: float = Field(
        1.0,
        ge=0,
        description="A crossing this close in time to one counted already, by a track that was a fragment "
        "of the counted object at some instant, is not counted again (0 turns merging off).",
    )
    fragment_overlap: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Fragments share at least this part of the narrower box's extent along the line.",
    )
    fragment_gap_px: float = Field(
        0.0,
        ge=0,
        description="Fragments are at most this far apart across the line (pixels; 0: their boxes touch).",
    )
    queue_speed_px_s: float = Field(
        10.0,
        ge=0,
        description="A track inside a zone moving slower than this (box centre, pixels per second) stands.",
    )
    queue_min_s: float = Field(
        3.0, ge=0, description="A track standing this long in a row inside a zone queued there."
    )
    loop_offset_px: float = Field(
        3.0,
        gt=0,
        description="Virtual loops sample two lines this far either side of the counting line (full-frame "
        "pixels); which one a vehicle reaches first gives its direction. Keep it above half the distance a "
        "vehicle moves at the line between two analysed frames, or both are reached on the same frame.",
    )
    loop_min_area: int = Field(
        20, ge=1, description="Smallest streak (line pixels x frames) a virtual loop counts: less is noise."
    )
    loop_min_width_px: float = Field(
        6.0,
        ge=0,
        description="Streaks narrower than this along the line (full-frame pixels) are class unknown.",
    )
    loop_gap_frames: int = Field(
        3, ge=1, description="A streak is complete after this many frames without foreground next to it."
    )
    reversal_window_s: float = Field(
        1.0,
        ge=0,
        description="A track crossing a line and back within this time counts neither (jitter, hesitation).",
    )

    def for_camera(self, camera_id: str) -> CameraCountingConfig | None:
        """The camera's lines and zones; None when it has none."""
        for entry in self.cameras:
            if entry.camera_id == camera_id:
                return entry
        return None


# As the register's GeoJSON (`safecity:counting`), the `cameras.counting` column and the API store it.
def counting_to_json(counting: CountingGeometry | None) -> dict[str, Any] | None:
    """The camera's counting geometry as stored; None when it has none."""
    return None if counting is None else counting.model_dump(mode="json")


def counting_from_json(value: object) -> CountingGeometry | None:
    """Back from `counting_to_json`; ValueError (pydantic's ValidationError) when it is not valid."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"must be an object of lines and zones, got {type(value).__name__}")
    return CountingGeometry.model_validate(value)
