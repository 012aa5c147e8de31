"""The traffic configuration a city would write for the synthetic corridor: counting lines and sections.

Owns two small derivations from the scenario's geometry (never from its ground truth):

* a counting line on each traffic camera's timing line (kerb to kerb across the road, the same
  line the truth times passages at), drawn left to right so that crossing it downwards (towards
  the camera) is the direction driving towards the camera ("westbound" for a camera facing east),
  and a zone around it (occupancy and queues at the line);
* section-speed pairs between plate cameras along each direction of travel, chained so that no
  vehicle is measured twice over one stretch, with the distance between the two timing lines.
"""

from __future__ import annotations

from safecity.config import CameraCountingConfig, CountingLineConfig, CountingZoneConfig, SectionConfig
from safecity.sim.scenario import CameraSpec, Scenario
from safecity.sim.scene import SceneProjector
from safecity.types import Capability

COUNTING_LINE = "timing"
"""Name of the counting line on each traffic camera."""
ZONE = "at-timing-line"
"""Name of the zone on each traffic camera: the road a band's height above and below the timing line."""
ZONE_HALF_HEIGHT = 0.15
"""Half the zone band's height, as a share of the frame height: near vehicles' box centres (what stored
tracks keep) pass through it for several frames."""
EASTBOUND, WESTBOUND = "eastbound", "westbound"
MIN_SECTION_M = 90.0
"""Shorter camera pairs are not configured as sections. A plate read is timed at the frame its plate
was read best, up to a few tenths of a second from the timing line; over 40 m (two cameras on
one pole) that is a tenth of the travel time, while real section control runs over kilometres."""


def _towards(spec: CameraSpec) -> str:
    """The direction of the traffic that drives towards the camera."""
    return WESTBOUND if spec.facing > 0 else EASTBOUND


def counting_cameras(scenario: Scenario) -> tuple[CameraCountingConfig, ...]:
    """A counting line on the timing line of every camera that sees traffic (in its pixels)."""
    out: list[CameraCountingConfig] = []
    for spec in scenario.cameras:
        if not spec.sees_traffic:
            continue
        line = SceneProjector(scenario, spec).reference_line_px()
        if line is None:
            continue
        a, b = sorted(line)
        towards = _towards(spec)
        away = EASTBOUND if towards == WESTBOUND else WESTBOUND
        half = ZONE_HALF_HEIGHT * scenario.height
        band = ((a[0], a[1] - half), (b[0], b[1] - half), (b[0], b[1] + half), (a[0], a[1] + half))
        out.append(
            CameraCountingConfig(
                camera_id=spec.id,
                lines=(
                    CountingLineConfig(
                        name=COUNTING_LINE, points=(a, b), in_direction=towards, out_direction=away
                    ),
                ),
                zones=(CountingZoneConfig(name=ZONE, polygon=band),),
            )
        )
    return tuple(out)


def sections(scenario: Scenario, min_length_m: float = MIN_SECTION_M) -> tuple[SectionConfig, ...]:
    """Chained sections per direction between plate cameras at least `min_length_m` apart.

    Eastbound the cameras are taken by increasing timing-line distance, westbound by decreasing;
    each section starts where the previous one ended, at the next camera far enough ahead.
    """
    if min_length_m <= 0:
        raise ValueError(f"min_length_m must be positive, got {min_length_m}")
    plates = sorted(
        (s for s in scenario.cameras if s.sees_traffic and Capability.PLATES in s.capabilities),
        key=lambda s: (s.reference_line_m, s.id),
    )
    out: list[SectionConfig] = []
    for name, ordered in ((EASTBOUND, plates), (WESTBOUND, plates[::-1])):
        if not ordered:
            continue
        start = ordered[0]
        for spec in ordered[1:]:
            length = abs(spec.reference_line_m - start.reference_line_m)
            if length < min_length_m:
                continue
            out.append(
                SectionConfig(
                    id=f"{name}:{start.id}>{spec.id}",
                    camera_a=start.id,
                    camera_b=spec.id,
                    speed_limit_kmh=scenario.speed_limit_kmh,
                    distance_m=round(length, 3),
                )
            )
            start = spec
    return tuple(out)
