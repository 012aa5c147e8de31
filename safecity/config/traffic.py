"""Traffic enforcement: the `[traffic]` section (`TrafficSettings`), section speed control between camera
pairs, and one configured camera pair (`SectionConfig`, `[[traffic.sections]]` in TOML).
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class SectionConfig(SectionModel):
    """One section-speed pair as a city configures it: a read at `camera_a`, then at `camera_b`.

    `distance_m` is the length driven between the two cameras' timing lines. When it is left
    out, it is the great-circle (haversine) distance between the two cameras' coordinates: a
    straight line, which underestimates a curved road (and so the speed); give the distance
    along the road wherever the road bends. Left-out tolerances and clock offset come from
    `[traffic]`.
    """

    id: str = Field(min_length=1, description="Section id, unique among the sections.")
    camera_a: str = Field(min_length=1, description="Camera at the entry of the section.")
    camera_b: str = Field(min_length=1, description="Camera at the exit of the section.")
    speed_limit_kmh: float = Field(gt=0, description="Speed limit on the section.")
    distance_m: float | None = Field(
        None, gt=0, description="Road distance between the cameras; default: straight line between them."
    )
    tolerance_kmh: float | None = Field(None, ge=0, description="Override of traffic.tolerance_kmh.")
    tolerance_percent: float | None = Field(
        None, ge=0, le=100, description="Override of traffic.tolerance_percent."
    )
    clock_offset_s: float | None = Field(
        None, description="How far camera B's clock runs ahead of camera A's; default traffic.clock_offset_s."
    )


class TrafficSettings(SectionModel):
    """Traffic: section speed control between camera pairs (average speed from plate re-identification)."""

    tolerance_kmh: float = Field(
        3.0, ge=0, description="Speeds up to limit + this (plus tolerance_percent) raise no violation."
    )
    tolerance_percent: float = Field(
        0.0, ge=0, le=100, description="Extra tolerance in percent of the limit (added to tolerance_kmh)."
    )
    min_plausible_speed_kmh: float = Field(
        5.0, gt=0, description="Slower passages are not paired: the read at B is another trip."
    )
    max_plausible_speed_kmh: float = Field(
        250.0, gt=0, description="Faster passages are not paired: the reads belong to different vehicles."
    )
    clock_offset_s: float = Field(
        0.0, description="Default offset of camera B's clock relative to camera A's (B minus A), seconds."
    )
    one_edit_min_length: int = Field(
        7, ge=2, description="Plates shorter than this pair only exactly or by OCR-confusable characters."
    )
    allowed_lateness_s: float = Field(
        5.0, ge=0, description="How late (out of time order) a read may arrive and still pair."
    )
    sections: list[SectionConfig] = Field(
        default_factory=list, description="The camera pairs measured ([[traffic.sections]] in TOML)."
    )
