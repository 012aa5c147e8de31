"""The seeded scenario of the synthetic city: cameras, vehicles and pedestrians, nothing rendered.

Cameras stand along Bulevar kralja Aleksandra in blocks of six (two traffic cameras back to back
on one pole, a kerb camera that sees both plates and faces, another traffic camera, two cameras
in pedestrian areas). Vehicles drive the corridor both ways at constant speeds, each keeping
its lane with a safe gap to the others; pedestrians walk past the face cameras, some towards
the camera (face visible) and some away. Every random choice comes from
`numpy.random.default_rng(seed)`, so a seed fully determines the scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from safecity.sim.faces import IDENTITIES
from safecity.sim.plates import random_plate
from safecity.sim.projection import VIEWS, ViewKind
from safecity.sim.roads import CORRIDOR, CORRIDOR_STREET, NODES, Route, offset_point
from safecity.types import Capability

SCENARIO_EPOCH = datetime(2026, 3, 2, 7, 30, 0, tzinfo=UTC)
"""Wall-clock time of frame 0 of every clip: a Monday morning rush hour."""
SPEED_LIMIT_KMH = 50.0
"""Urban speed limit on the corridor (Serbian default inside settlements)."""

FIRST_SITE_M = 120.0
"""Distance along the corridor of the first camera pole."""
BLOCK_LENGTH_M = 700.0
"""Length of the corridor stretch that holds one block of six cameras."""
END_MARGIN_M = 150.0
"""Room kept free of cameras at the end of the corridor."""
METRES_PER_HOUSE_NUMBER = 15.0
"""Street numbers in names are approximated from distance (about 15 m a number), not looked up."""
PLAZA_SET_BACK_M = 22.0
"""How far a pedestrian-area camera stands from the road's centre line."""

_PMT = frozenset({Capability.PLATES, Capability.MOTION, Capability.TRAFFIC})
_PFMT = frozenset({Capability.PLATES, Capability.FACES, Capability.MOTION, Capability.TRAFFIC})
_FM = frozenset({Capability.FACES, Capability.MOTION})


@dataclass(frozen=True, slots=True)
class _Slot:
    offset_m: float
    facing: int
    view: ViewKind
    capabilities: frozenset[Capability]


BLOCK: tuple[_Slot, ...] = (
    _Slot(0.0, +1, ViewKind.TRAFFIC, _PMT),
    _Slot(0.0, -1, ViewKind.TRAFFIC, _PMT),  # same pole as the slot before, looking the other way
    _Slot(180.0, +1, ViewKind.KERB, _PFMT),
    _Slot(310.0, -1, ViewKind.TRAFFIC, _PMT),
    _Slot(420.0, -1, ViewKind.PLAZA, _FM),
    _Slot(540.0, +1, ViewKind.PLAZA, _FM),
)
"""The cameras of one block, by distance from the block's start."""

# Traffic.
VEHICLES_PER_SECOND = 0.4
"""Mean arrival rate per direction (1,440 vehicles an hour: rush hour on two lanes)."""
MIN_HEADWAY_S = 1.2
LANE_OFFSETS_M = (1.75, 5.0)
"""Centre of the inner and the outer lane, metres right of the road's centre line."""
ROAD_HALF_WIDTH_M = 6.75
"""Kerb line: two 3.25-m lanes each way plus a little shoulder."""
KERB_WIDTH_M = 0.2
SIDEWALK_OUTER_M = 11.0
"""Where the sidewalk meets the building line."""
MIN_GAP_M = 5.0
"""Smallest bumper-to-bumper gap between two vehicles in one lane."""
SEEN_AHEAD_M = 120.0
SEEN_BEHIND_M = 10.0
"""How far ahead of (and behind) its pole a traffic camera sees vehicles."""
TRAFFIC_MARGIN_M = 250.0
"""Vehicles are simulated this far beyond the first and the last camera."""
SPEED_RANGE_KMH = (30.0, 90.0)
"""Every vehicle keeps a constant speed in this range."""
TYPICAL_SPEED_KMH = (50.0, 9.0)
"""Mean and spread of most drivers' speed."""
FAST_SPEED_KMH = (60.0, 90.0)
FAST_SHARE = 0.2
"""Share of drivers who speed, uniformly over FAST_SPEED_KMH."""
FAST_LANE_ABOVE_KMH = 58.0
"""Drivers faster than this prefer the inner lane."""
FOLLOWING_SPEED_FACTOR = 0.97
"""A driver stuck behind a slower one in both lanes keeps to just below the leader's speed."""

# Pedestrians.
FRONTAL_WALK_EVERY_S = 7.0
"""About one person walking towards each face camera this often (both identities take turns)."""
PASSER_BY_EVERY_S = 9.0
"""About one anonymous person walking away from each face camera this often."""
NEAR_Z_M = {ViewKind.PLAZA: 2.0, ViewKind.KERB: 3.4}
"""Distance from the camera where a walker towards it is at the planned time (face largest)."""
WALK_START_Z_M = 40.0
WALK_SPEED_MPS = (1.1, 1.5)
PERSON_HEIGHT_M = (1.60, 1.82)
LIGHT_GAIN = (0.65, 1.2)
"""Brightness factor of a walker (cloud, shade, exposure)."""
SIDEWALK_OFFSET_M = {ViewKind.PLAZA: (-0.7, 0.7), ViewKind.KERB: (0.45, 0.75)}
"""Lateral offset of walkers towards the camera, metres right of the camera."""
PASSER_BY_OFFSET_M = (1.3, 2.4)

_VEHICLE_COLOURS_BGR: tuple[tuple[int, int, int], ...] = (
    (235, 235, 232),
    (236, 238, 240),
    (190, 190, 186),
    (150, 150, 148),
    (90, 88, 86),
    (35, 35, 38),
    (40, 40, 165),
    (130, 60, 25),
    (80, 50, 30),
    (60, 100, 50),
    (80, 160, 200),
)
_CLOTHES_BGR: tuple[tuple[int, int, int], ...] = (
    (40, 40, 45),
    (70, 50, 30),
    (120, 110, 100),
    (30, 30, 120),
    (100, 70, 40),
    (60, 90, 60),
    (160, 160, 165),
    (50, 60, 90),
    (30, 80, 150),
    (110, 40, 60),
)


@dataclass(frozen=True, slots=True)
class BodyShape:
    """The box model of a vehicle body (metres): lower body plus a sloped cabin."""

    kind: str
    length: float
    width: float
    body_bottom: float
    body_top: float
    cabin_top: float
    cabin_rear: float
    """Where the cabin starts, as a fraction of the length from the rear (at the body top)."""
    cabin_front: float
    rear_slope: float
    """How much shorter the roof is than the cabin's base at the rear (fraction of the length)."""
    front_slope: float
    """The same at the front (the windscreen's rake)."""


BODY_SHAPES: dict[str, BodyShape] = {
    "sedan": BodyShape("sedan", 4.6, 1.80, 0.30, 0.95, 1.45, 0.20, 0.72, 0.10, 0.14),
    "hatchback": BodyShape("hatchback", 4.1, 1.76, 0.30, 0.95, 1.48, 0.05, 0.70, 0.05, 0.14),
    "suv": BodyShape("suv", 4.6, 1.88, 0.40, 1.10, 1.72, 0.05, 0.74, 0.04, 0.12),
    "van": BodyShape("van", 5.0, 1.95, 0.35, 1.20, 2.15, 0.02, 0.80, 0.01, 0.08),
}
BODY_WEIGHTS: dict[str, float] = {"sedan": 0.42, "hatchback": 0.33, "suv": 0.17, "van": 0.08}


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """A camera of the scenario: where it stands, where it looks, what it analyses."""

    id: str
    name: str
    site_id: str
    site_name: str
    address: str
    distance_m: float
    """Position of the pole along the corridor."""
    facing: int
    """+1: looks towards increasing corridor distance (east); -1: back (west)."""
    view: ViewKind
    capabilities: frozenset[Capability]
    latitude: float
    longitude: float
    site_latitude: float
    site_longitude: float
    heading_deg: float
    mount_height_m: float

    @property
    def sees_traffic(self) -> bool:
        return self.view in (ViewKind.TRAFFIC, ViewKind.KERB)

    @property
    def reference_line_m(self) -> float:
        """Corridor distance of the line across the road where this camera times passages."""
        return self.distance_m + self.facing * VIEWS[self.view].reference_line_z_m


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """A vehicle driving the corridor at constant speed in one lane."""

    id: str
    plate: str
    direction: int
    """+1: east (increasing corridor distance); -1: west."""
    lane: int
    """0: inner lane, 1: outer lane."""
    speed_mps: float
    entry_time_s: float
    """When the vehicle enters the simulated stretch (may be before the clip starts)."""
    entry_m: float
    """Corridor distance where it enters."""
    exit_time_s: float
    body: BodyShape
    colour_bgr: tuple[int, int, int]

    @property
    def speed_kmh(self) -> float:
        return self.speed_mps * 3.6

    def position_m(self, t: float) -> float | None:
        """Corridor distance of the vehicle's centre at clip time `t`, None when off the stretch."""
        if t < self.entry_time_s or t > self.exit_time_s:
            return None
        return self.entry_m + self.direction * self.speed_mps * (t - self.entry_time_s)

    def time_at(self, distance_m: float) -> float:
        """Clip time when the vehicle's centre is at corridor distance `distance_m`."""
        return self.entry_time_s + (distance_m - self.entry_m) * self.direction / self.speed_mps


@dataclass(frozen=True, slots=True)
class PedestrianSpec:
    """A person walking straight along a camera's view axis at constant speed."""

    id: str
    camera_id: str
    identity: str | None
    """A known identity (face visible) or None for an anonymous passer-by seen from behind."""
    towards_camera: bool
    lateral_m: float
    """Metres right of the camera."""
    speed_mps: float
    ref_time_s: float
    ref_z_m: float
    """Distance in front of the camera at `ref_time_s`."""
    height_m: float
    light_gain: float
    top_bgr: tuple[int, int, int]
    legs_bgr: tuple[int, int, int]

    def z_at(self, t: float) -> float:
        sign = -1.0 if self.towards_camera else 1.0
        return self.ref_z_m + sign * self.speed_mps * (t - self.ref_time_s)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything that happens in the synthetic city, independent of rendering."""

    seed: int
    seconds: float
    fps: float
    width: int
    height: int
    start_time: datetime
    speed_limit_kmh: float
    corridor: tuple[str, ...]
    cameras: tuple[CameraSpec, ...]
    vehicles: tuple[VehicleSpec, ...]
    pedestrians: tuple[PedestrianSpec, ...]

    @property
    def frames(self) -> int:
        return round(self.seconds * self.fps)

    def camera(self, camera_id: str) -> CameraSpec:
        for c in self.cameras:
            if c.id == camera_id:
                return c
        raise KeyError(camera_id)


def max_cameras(route: Route | None = None) -> int:
    """How many cameras fit on the corridor."""
    route = route or Route(CORRIDOR)
    n = 0
    while True:
        block, slot = divmod(n, len(BLOCK))
        if FIRST_SITE_M + block * BLOCK_LENGTH_M + BLOCK[slot].offset_m > route.length_m - END_MARGIN_M:
            return n
        n += 1


def build_scenario(
    n_cameras: int, seconds: float, seed: int, *, fps: float = 10.0, width: int = 1280, height: int = 720
) -> Scenario:
    """The scenario for `n_cameras` cameras and clips of `seconds` seconds; pure and deterministic."""
    route = Route(CORRIDOR)
    limit = max_cameras(route)
    if n_cameras < 1:
        raise ValueError(f"cameras must be at least 1, got {n_cameras}")
    if n_cameras > limit:
        raise ValueError(f"the corridor holds at most {limit} cameras, got {n_cameras}")
    if not seconds > 0 or not math.isfinite(seconds):
        raise ValueError(f"seconds must be a positive number, got {seconds}")
    if not fps > 0 or not math.isfinite(fps):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if width < 16 or height < 16:
        raise ValueError(f"frame size must be at least 16x16, got {width}x{height}")
    rng = np.random.default_rng(seed)
    cameras = _cameras(route, n_cameras)
    vehicles = _vehicles(rng, cameras, seconds)
    pedestrians = _pedestrians(rng, cameras, seconds)
    return Scenario(
        seed=seed,
        seconds=float(seconds),
        fps=float(fps),
        width=width,
        height=height,
        start_time=SCENARIO_EPOCH,
        speed_limit_kmh=SPEED_LIMIT_KMH,
        corridor=CORRIDOR,
        cameras=cameras,
        vehicles=vehicles,
        pedestrians=pedestrians,
    )


def _cameras(route: Route, n: int) -> tuple[CameraSpec, ...]:
    cameras: list[CameraSpec] = []
    site_ids: dict[float, str] = {}
    for i in range(n):
        block, slot_index = divmod(i, len(BLOCK))
        slot = BLOCK[slot_index]
        distance = FIRST_SITE_M + block * BLOCK_LENGTH_M + slot.offset_m
        point = route.point_at(distance)
        geometry = VIEWS[slot.view]
        looking = (point.heading_deg + (0.0 if slot.facing > 0 else 180.0)) % 360.0
        number = 1 + 2 * round(distance / (2 * METRES_PER_HOUSE_NUMBER))
        landmark = NODES[point.nearest_node].name
        direction = "east" if slot.facing > 0 else "west"
        if slot.view is ViewKind.PLAZA:
            # A pedestrian area set back on the right of the road, path parallel to it.
            side = looking + 90.0
            pole_lat, pole_lon = offset_point(point.latitude, point.longitude, side, PLAZA_SET_BACK_M)
            cam_lat, cam_lon = pole_lat, pole_lon
            site_name = f"{CORRIDOR_STREET} {number}, pedestrian area near {landmark}"
            name = f"{CORRIDOR_STREET} {number} pedestrian area ({direction})"
        else:
            pole_lat, pole_lon = point.latitude, point.longitude
            cam_lat, cam_lon = offset_point(
                point.latitude, point.longitude, looking + 90.0, geometry.lateral_m
            )
            site_name = f"{CORRIDOR_STREET} {number} (near {landmark})"
            name = f"{CORRIDOR_STREET} {number} ({direction})"
        if distance not in site_ids:
            site_ids[distance] = f"site-{len(site_ids) + 1:02d}"
        cameras.append(
            CameraSpec(
                id=f"cam-{i + 1:02d}",
                name=name,
                site_id=site_ids[distance],
                site_name=site_name,
                address=f"{CORRIDOR_STREET} {number}, Beograd",
                distance_m=distance,
                facing=slot.facing,
                view=slot.view,
                capabilities=slot.capabilities,
                latitude=round(cam_lat, 6),
                longitude=round(cam_lon, 6),
                site_latitude=round(pole_lat, 6),
                site_longitude=round(pole_lon, 6),
                heading_deg=round((looking + geometry.yaw_deg) % 360.0, 1),
                mount_height_m=geometry.height_m,
            )
        )
    return tuple(cameras)


def _draw_speed(rng: np.random.Generator) -> float:
    """A driver's speed in m/s."""
    if rng.random() < FAST_SHARE:
        kmh = float(rng.uniform(*FAST_SPEED_KMH))
    else:
        kmh = float(rng.normal(*TYPICAL_SPEED_KMH))
    return float(np.clip(kmh, *SPEED_RANGE_KMH)) / 3.6


def _seen_stretches(cameras: tuple[CameraSpec, ...]) -> list[tuple[float, float]]:
    """Corridor intervals some traffic camera can see (merged)."""
    raw = sorted(
        (c.distance_m - SEEN_BEHIND_M, c.distance_m + SEEN_AHEAD_M)
        if c.facing > 0
        else (c.distance_m - SEEN_AHEAD_M, c.distance_m + SEEN_BEHIND_M)
        for c in cameras
        if c.sees_traffic
    )
    merged: list[tuple[float, float]] = []
    for lo, hi in raw:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _lane_conflict(
    a: VehicleSpec, b: VehicleSpec, seconds: float, stretches: list[tuple[float, float]]
) -> bool:
    """Whether two same-lane, same-direction vehicles come too close where and when a camera sees them.

    Out of sight (between cameras, before or after the clip) a faster car may have overtaken.
    """
    need = (a.body.length + b.body.length) / 2.0 + MIN_GAP_M
    for lo, hi in stretches:
        ta = sorted((a.time_at(lo), a.time_at(hi)))
        tb = sorted((b.time_at(lo), b.time_at(hi)))
        t0 = max(ta[0], tb[0], a.entry_time_s, b.entry_time_s, 0.0)
        t1 = min(ta[1], tb[1], a.exit_time_s, b.exit_time_s, seconds)
        if t0 > t1:
            continue
        pa0, pb0, pa1, pb1 = a.position_m(t0), b.position_m(t0), a.position_m(t1), b.position_m(t1)
        assert pa0 is not None and pb0 is not None and pa1 is not None and pb1 is not None
        d0, d1 = pa0 - pb0, pa1 - pb1
        if d0 * d1 <= 0 or min(abs(d0), abs(d1)) < need:
            return True
    return False


def _place(
    lanes: dict[int, list[VehicleSpec]],
    order: tuple[int, int],
    direction: int,
    speed: float,
    entry: float,
    lo: float,
    hi: float,
    seconds: float,
    stretches: list[tuple[float, float]],
    plate: str,
    body: BodyShape,
    colour: tuple[int, int, int],
) -> VehicleSpec | None:
    """The vehicle in the first lane where it fits, following a slower leader if it must; or None."""

    def make(lane: int, v: float) -> VehicleSpec:
        return VehicleSpec(
            id="",
            plate=plate,
            direction=direction,
            lane=lane,
            speed_mps=v,
            entry_time_s=entry,
            entry_m=lo if direction > 0 else hi,
            exit_time_s=entry + (hi - lo) / v,
            body=body,
            colour_bgr=colour,
        )

    for lane in order:  # overtake: any lane where the driver keeps their own speed
        candidate = make(lane, speed)
        if not any(_lane_conflict(candidate, o, seconds, stretches) for o in lanes[lane]):
            return candidate
    for lane in order:  # else follow the slower vehicle ahead
        blockers = [o for o in lanes[lane] if _lane_conflict(make(lane, speed), o, seconds, stretches)]
        following = min(o.speed_mps for o in blockers) * FOLLOWING_SPEED_FACTOR
        if following * 3.6 < SPEED_RANGE_KMH[0]:
            continue
        candidate = make(lane, following)
        if not any(_lane_conflict(candidate, o, seconds, stretches) for o in lanes[lane]):
            return candidate
    return None


def _vehicles(
    rng: np.random.Generator, cameras: tuple[CameraSpec, ...], seconds: float
) -> tuple[VehicleSpec, ...]:
    traffic = [c for c in cameras if c.sees_traffic]
    if not traffic:
        return ()
    lo = min(c.distance_m for c in traffic) - TRAFFIC_MARGIN_M
    hi = max(c.distance_m for c in traffic) + TRAFFIC_MARGIN_M
    span = hi - lo
    stretches = _seen_stretches(cameras)
    slowest = SPEED_RANGE_KMH[0] / 3.6
    kinds = list(BODY_WEIGHTS)
    kind_p = np.array([BODY_WEIGHTS[k] for k in kinds])
    kind_p = kind_p / kind_p.sum()
    vehicles: list[VehicleSpec] = []
    plates: set[str] = set()
    for direction in (+1, -1):
        lanes: dict[int, list[VehicleSpec]] = {0: [], 1: []}
        t = -span / slowest
        while True:
            t += max(MIN_HEADWAY_S, float(rng.exponential(1.0 / VEHICLES_PER_SECOND)))
            if t >= seconds:
                break
            speed = _draw_speed(rng)
            body = BODY_SHAPES[kinds[int(rng.choice(len(kinds), p=kind_p))]]
            colour = _VEHICLE_COLOURS_BGR[int(rng.integers(len(_VEHICLE_COLOURS_BGR)))]
            plate = random_plate(rng)
            while plate in plates:
                plate = random_plate(rng)
            exit_time = t + span / speed
            if exit_time < 0:
                continue  # gone before the clip starts
            preferred = 0 if speed * 3.6 > FAST_LANE_ABOVE_KMH else 1
            placed = _place(
                lanes,
                (preferred, 1 - preferred),
                direction,
                speed,
                t,
                lo,
                hi,
                seconds,
                stretches,
                plate,
                body,
                colour,
            )
            if placed is not None:
                lanes[placed.lane].append(placed)
                plates.add(plate)
        for lane_vehicles in lanes.values():
            vehicles.extend(lane_vehicles)
    vehicles.sort(key=lambda v: (v.entry_time_s, v.direction))
    return tuple(
        VehicleSpec(
            id=f"veh-{i + 1:03d}",
            plate=v.plate,
            direction=v.direction,
            lane=v.lane,
            speed_mps=v.speed_mps,
            entry_time_s=v.entry_time_s,
            entry_m=v.entry_m,
            exit_time_s=v.exit_time_s,
            body=v.body,
            colour_bgr=v.colour_bgr,
        )
        for i, v in enumerate(vehicles)
    )


def _pick(rng: np.random.Generator, palette: tuple[tuple[int, int, int], ...]) -> tuple[int, int, int]:
    return palette[int(rng.integers(len(palette)))]


def _pedestrians(
    rng: np.random.Generator, cameras: tuple[CameraSpec, ...], seconds: float
) -> tuple[PedestrianSpec, ...]:
    names = list(IDENTITIES)
    people: list[PedestrianSpec] = []
    for cam in cameras:
        if Capability.FACES not in cam.capabilities:
            continue
        near_z = NEAR_Z_M[cam.view]
        frontal = max(2, round(seconds / FRONTAL_WALK_EVERY_S))
        first = int(rng.integers(len(names)))
        slot = seconds / frontal
        for k in range(frontal):
            lo, hi = SIDEWALK_OFFSET_M[cam.view]
            people.append(
                PedestrianSpec(
                    id="",
                    camera_id=cam.id,
                    identity=names[(first + k) % len(names)],
                    towards_camera=True,
                    lateral_m=float(rng.uniform(lo, hi)),
                    speed_mps=float(rng.uniform(*WALK_SPEED_MPS)),
                    ref_time_s=slot * (k + 0.5) + float(rng.uniform(-0.2, 0.2)) * slot,
                    ref_z_m=near_z,
                    height_m=float(rng.uniform(*PERSON_HEIGHT_M)),
                    light_gain=float(rng.uniform(*LIGHT_GAIN)),
                    top_bgr=_pick(rng, _CLOTHES_BGR),
                    legs_bgr=_pick(rng, _CLOTHES_BGR),
                )
            )
        passers = round(seconds / PASSER_BY_EVERY_S) + 1
        for _ in range(passers):
            side = 1.0 if rng.random() < 0.5 else -1.0
            if cam.view is ViewKind.KERB:
                side = 1.0  # the road is on the left
            people.append(
                PedestrianSpec(
                    id="",
                    camera_id=cam.id,
                    identity=None,
                    towards_camera=False,
                    lateral_m=side * float(rng.uniform(*PASSER_BY_OFFSET_M)),
                    speed_mps=float(rng.uniform(*WALK_SPEED_MPS)),
                    ref_time_s=float(rng.uniform(-WALK_START_Z_M / WALK_SPEED_MPS[1], seconds)),
                    ref_z_m=1.0,
                    height_m=float(rng.uniform(*PERSON_HEIGHT_M)),
                    light_gain=float(rng.uniform(*LIGHT_GAIN)),
                    top_bgr=_pick(rng, _CLOTHES_BGR),
                    legs_bgr=_pick(rng, _CLOTHES_BGR),
                )
            )
    return tuple(
        PedestrianSpec(
            id=f"ped-{i + 1:03d}",
            camera_id=p.camera_id,
            identity=p.identity,
            towards_camera=p.towards_camera,
            lateral_m=p.lateral_m,
            speed_mps=p.speed_mps,
            ref_time_s=p.ref_time_s,
            ref_z_m=p.ref_z_m,
            height_m=p.height_m,
            light_gain=p.light_gain,
            top_bgr=p.top_bgr,
            legs_bgr=p.legs_bgr,
        )
        for i, p in enumerate(people)
    )
