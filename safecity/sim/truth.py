"""Ground truth of the synthetic city: typed records, computed from a scenario, stored as JSON.

The truth lists every plate and face visible in every frame (camera, frame, time, box,
identity), every time a vehicle crosses a traffic camera's reference line, and every vehicle's
speed between consecutive such cameras, whose numbers are exactly distance_m / (t_to - t_from)
* 3.6 after rounding. Times are seconds from the scenario's start time. JSON is written with
sorted keys and fixed rounding, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from safecity.sim.scenario import Scenario
from safecity.sim.scene import FrameLayout, SceneProjector
from safecity.types import BBox

TIME_DECIMALS = 3
DISTANCE_DECIMALS = 3
SPEED_DECIMALS = 3
COORD_DECIMALS = 6
PIXEL_DECIMALS = 1
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    seed: int
    cameras: int
    seconds: float
    fps: float
    width: int
    height: int
    frames: int
    start_time: datetime
    speed_limit_kmh: float
    corridor: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CameraTruth:
    id: str
    name: str
    site_id: str
    latitude: float
    longitude: float
    heading_deg: float
    capabilities: tuple[str, ...]
    view: str
    distance_m: float
    """Position of the camera's pole along the corridor."""
    reference_line_m: float | None
    """Corridor distance of the line where passages are timed; None for cameras without traffic."""
    reference_line_px: tuple[tuple[float, float], tuple[float, float]] | None
    """That line in the camera's pixels (kerb to kerb), clipped to the frame."""


@dataclass(frozen=True, slots=True)
class VehicleTruth:
    id: str
    plate: str
    direction: str
    """"east" (increasing corridor distance) or "west"."""
    lane: int
    speed_kmh: float
    kind: str


@dataclass(frozen=True, slots=True)
class PedestrianTruth:
    id: str
    camera: str
    identity: str | None
    towards_camera: bool


@dataclass(frozen=True, slots=True)
class PlateAppearance:
    camera: str
    frame: int
    time: float
    box: BBox
    plate: str
    vehicle: str


@dataclass(frozen=True, slots=True)
class FaceAppearance:
    camera: str
    frame: int
    time: float
    box: BBox
    identity: str
    pedestrian: str


@dataclass(frozen=True, slots=True)
class Passage:
    vehicle: str
    plate: str
    camera: str
    time: float


@dataclass(frozen=True, slots=True)
class SpeedSegment:
    vehicle: str
    plate: str
    from_camera: str
    to_camera: str
    distance_m: float
    t_from: float
    t_to: float
    speed_kmh: float


@dataclass(frozen=True, slots=True)
class GroundTruth:
    scenario: ScenarioInfo
    cameras: tuple[CameraTruth, ...]
    vehicles: tuple[VehicleTruth, ...]
    pedestrians: tuple[PedestrianTruth, ...]
    plates: tuple[PlateAppearance, ...]
    faces: tuple[FaceAppearance, ...]
    passages: tuple[Passage, ...]
    speeds: tuple[SpeedSegment, ...]

    def timestamp(self, time_s: float) -> datetime:
        """Wall-clock time of a time in seconds from the start of the clips."""
        return self.scenario.start_time + timedelta(seconds=time_s)


def speed_kmh(distance_m: float, t_from: float, t_to: float) -> float:
    """Average speed in km/h, rounded as the truth stores it."""
    if t_to <= t_from:
        raise ValueError(f"t_to ({t_to}) must be after t_from ({t_from})")
    return round(distance_m / (t_to - t_from) * 3.6, SPEED_DECIMALS)


@dataclass(slots=True)
class AppearanceLog:
    """Plates and faces of one camera, collected frame by frame (e.g. while rendering)."""

    plates: list[PlateAppearance]
    faces: list[FaceAppearance]

    def add(self, layout: FrameLayout, fps: float) -> None:
        cam, i = layout.camera.id, layout.index
        t = round(i / fps, TIME_DECIMALS)
        for vehicle, box in layout.plates:
            self.plates.append(PlateAppearance(cam, i, t, box, vehicle.plate, vehicle.id))
        for person, box in layout.faces:
            if person.identity is not None:
                self.faces.append(FaceAppearance(cam, i, t, box, person.identity, person.id))


def build_truth(scenario: Scenario, *, appearances: Mapping[str, AppearanceLog] | None = None) -> GroundTruth:
    """The ground truth of a scenario (pure: no rendering, same scenario -> same truth).

    `appearances` are the per-camera logs a renderer collected from the very layouts it drew,
    which saves laying out every frame a second time; without them the frames are laid out here.
    """
    fps = scenario.fps
    cameras: list[CameraTruth] = []
    plates: list[PlateAppearance] = []
    faces: list[FaceAppearance] = []
    projectors = {c.id: SceneProjector(scenario, c) for c in scenario.cameras}
    for cam in scenario.cameras:
        projector = projectors[cam.id]
        line = projector.reference_line_px()
        cameras.append(
            CameraTruth(
                id=cam.id,
                name=cam.name,
                site_id=cam.site_id,
                latitude=cam.latitude,
                longitude=cam.longitude,
                heading_deg=cam.heading_deg,
                capabilities=tuple(sorted(c.value for c in cam.capabilities)),
                view=cam.view.value,
                distance_m=round(cam.distance_m, DISTANCE_DECIMALS),
                reference_line_m=round(cam.reference_line_m, DISTANCE_DECIMALS) if cam.sees_traffic else None,
                reference_line_px=(
                    None
                    if line is None
                    else (
                        (round(line[0][0], PIXEL_DECIMALS), round(line[0][1], PIXEL_DECIMALS)),
                        (round(line[1][0], PIXEL_DECIMALS), round(line[1][1], PIXEL_DECIMALS)),
                    )
                ),
            )
        )
        log = appearances.get(cam.id) if appearances is not None else None
        if log is None:
            log = AppearanceLog([], [])
            for i in range(scenario.frames):
                log.add(projector.layout(i), fps)
        plates.extend(log.plates)
        faces.extend(log.faces)

    passages: list[Passage] = []
    speeds: list[SpeedSegment] = []
    traffic = [c for c in scenario.cameras if c.sees_traffic]
    for v in scenario.vehicles:
        crossings: list[tuple[float, float, str]] = []
        for cam in traffic:
            line_m = cam.reference_line_m
            t = v.time_at(line_m)
            if not (0.0 <= t < scenario.seconds) or v.position_m(t) is None:
                continue
            if not projectors[cam.id].vehicle_visible_at(v, line_m):
                continue
            crossings.append((round(t, TIME_DECIMALS), line_m, cam.id))
        crossings.sort()
        for t, _, cam_id in crossings:
            passages.append(Passage(v.id, v.plate, cam_id, t))
        for (t0, m0, c0), (t1, m1, c1) in itertools.pairwise(crossings):
            if t1 <= t0:
                continue
            distance = round(abs(m1 - m0), DISTANCE_DECIMALS)
            speeds.append(SpeedSegment(v.id, v.plate, c0, c1, distance, t0, t1, speed_kmh(distance, t0, t1)))
    passages.sort(key=lambda p: (p.time, p.camera, p.vehicle))

    return GroundTruth(
        scenario=ScenarioInfo(
            seed=scenario.seed,
            cameras=len(scenario.cameras),
            seconds=scenario.seconds,
            fps=scenario.fps,
            width=scenario.width,
            height=scenario.height,
            frames=scenario.frames,
            start_time=scenario.start_time,
            speed_limit_kmh=scenario.speed_limit_kmh,
            corridor=scenario.corridor,
        ),
        cameras=tuple(cameras),
        vehicles=tuple(
            VehicleTruth(
                id=v.id,
                plate=v.plate,
                direction="east" if v.direction > 0 else "west",
                lane=v.lane,
                speed_kmh=round(v.speed_kmh, SPEED_DECIMALS),
                kind=v.body.kind,
            )
            for v in scenario.vehicles
        ),
        pedestrians=tuple(
            PedestrianTruth(p.id, p.camera_id, p.identity, p.towards_camera) for p in scenario.pedestrians
        ),
        plates=tuple(plates),
        faces=tuple(faces),
        passages=tuple(passages),
        speeds=tuple(speeds),
    )


# ----------------------------------------------------------------------------- JSON
def _box(b: BBox) -> list[int]:
    return [b.x, b.y, b.w, b.h]


def truth_to_dict(truth: GroundTruth) -> dict[str, Any]:
    s = truth.scenario
    return {
        "format_version": FORMAT_VERSION,
        "scenario": {
            "seed": s.seed,
            "cameras": s.cameras,
            "seconds": s.seconds,
            "fps": s.fps,
            "width": s.width,
            "height": s.height,
            "frames": s.frames,
            "start_time": s.start_time.isoformat().replace("+00:00", "Z"),
            "speed_limit_kmh": s.speed_limit_kmh,
            "corridor": list(s.corridor),
        },
        "cameras": [
            {
                "id": c.id,
                "name": c.name,
                "site_id": c.site_id,
                "latitude": round(c.latitude, COORD_DECIMALS),
                "longitude": round(c.longitude, COORD_DECIMALS),
                "heading_deg": c.heading_deg,
                "capabilities": list(c.capabilities),
                "view": c.view,
                "distance_m": c.distance_m,
                "reference_line_m": c.reference_line_m,
                "reference_line_px": None
                if c.reference_line_px is None
                else [list(p) for p in c.reference_line_px],
            }
            for c in truth.cameras
        ],
        "vehicles": [
            {
                "id": v.id,
                "plate": v.plate,
                "direction": v.direction,
                "lane": v.lane,
                "speed_kmh": v.speed_kmh,
                "kind": v.kind,
            }
            for v in truth.vehicles
        ],
        "pedestrians": [
            {"id": p.id, "camera": p.camera, "identity": p.identity, "towards_camera": p.towards_camera}
            for p in truth.pedestrians
        ],
        "plates": [
            {
                "camera": a.camera,
                "frame": a.frame,
                "time": a.time,
                "box": _box(a.box),
                "plate": a.plate,
                "vehicle": a.vehicle,
            }
            for a in truth.plates
        ],
        "faces": [
            {
                "camera": a.camera,
                "frame": a.frame,
                "time": a.time,
                "box": _box(a.box),
                "identity": a.identity,
                "pedestrian": a.pedestrian,
            }
            for a in truth.faces
        ],
        "passages": [
            {"vehicle": p.vehicle, "plate": p.plate, "camera": p.camera, "time": p.time}
            for p in truth.passages
        ],
        "speeds": [
            {
                "vehicle": s.vehicle,
                "plate": s.plate,
                "from": s.from_camera,
                "to": s.to_camera,
                "distance_m": s.distance_m,
                "t_from": s.t_from,
                "t_to": s.t_to,
                "speed_kmh": s.speed_kmh,
            }
            for s in truth.speeds
        ],
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def truth_to_json(truth: GroundTruth) -> str:
    """Canonical JSON text: sorted keys, one list item per line, a trailing newline."""
    data = truth_to_dict(truth)
    parts: list[str] = []
    for key in sorted(data):
        value = data[key]
        if isinstance(value, list) and value:
            items = ",\n".join("  " + _dumps(item) for item in value)
            parts.append(f"{_dumps(key)}: [\n{items}\n]")
        else:
            parts.append(f"{_dumps(key)}: {_dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_truth(truth: GroundTruth, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(truth_to_json(truth), encoding="utf-8")
    return path


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def truth_from_dict(data: dict[str, Any]) -> GroundTruth:
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported ground-truth format version {version!r} (expected {FORMAT_VERSION})")
    s = data["scenario"]
    return GroundTruth(
        scenario=ScenarioInfo(
            seed=int(s["seed"]),
            cameras=int(s["cameras"]),
            seconds=float(s["seconds"]),
            fps=float(s["fps"]),
            width=int(s["width"]),
            height=int(s["height"]),
            frames=int(s["frames"]),
            start_time=_parse_time(s["start_time"]),
            speed_limit_kmh=float(s["speed_limit_kmh"]),
            corridor=tuple(s["corridor"]),
        ),
        cameras=tuple(
            CameraTruth(
                id=c["id"],
                name=c["name"],
                site_id=c["site_id"],
                latitude=float(c["latitude"]),
                longitude=float(c["longitude"]),
                heading_deg=float(c["heading_deg"]),
                capabilities=tuple(c["capabilities"]),
                view=c["view"],
                distance_m=float(c["distance_m"]),
                reference_line_m=None if c["reference_line_m"] is None else float(c["reference_line_m"]),
                reference_line_px=(
                    None
                    if c["reference_line_px"] is None
                    else (
                        (float(c["reference_line_px"][0][0]), float(c["reference_line_px"][0][1])),
                        (float(c["reference_line_px"][1][0]), float(c["reference_line_px"][1][1])),
                    )
                ),
            )
            for c in data["cameras"]
        ),
        vehicles=tuple(
            VehicleTruth(
                v["id"], v["plate"], v["direction"], int(v["lane"]), float(v["speed_kmh"]), v["kind"]
            )
            for v in data["vehicles"]
        ),
        pedestrians=tuple(
            PedestrianTruth(p["id"], p["camera"], p["identity"], bool(p["towards_camera"]))
            for p in data["pedestrians"]
        ),
        plates=tuple(
            PlateAppearance(
                a["camera"], int(a["frame"]), float(a["time"]), BBox(*a["box"]), a["plate"], a["vehicle"]
            )
            for a in data["plates"]
        ),
        faces=tuple(
            FaceAppearance(
                a["camera"],
                int(a["frame"]),
                float(a["time"]),
                BBox(*a["box"]),
                a["identity"],
                a["pedestrian"],
            )
            for a in data["faces"]
        ),
        passages=tuple(
            Passage(p["vehicle"], p["plate"], p["camera"], float(p["time"])) for p in data["passages"]
        ),
        speeds=tuple(
            SpeedSegment(
                s["vehicle"],
                s["plate"],
                s["from"],
                s["to"],
                float(s["distance_m"]),
                float(s["t_from"]),
                float(s["t_to"]),
                float(s["speed_kmh"]),
            )
            for s in data["speeds"]
        ),
    )


def load_truth(path: Path) -> GroundTruth:
    """Read a ground-truth file written by `write_truth`."""
    return truth_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


__all__ = [
    "AppearanceLog",
    "CameraTruth",
    "FaceAppearance",
    "GroundTruth",
    "Passage",
    "PedestrianTruth",
    "PlateAppearance",
    "ScenarioInfo",
    "SpeedSegment",
    "VehicleTruth",
    "build_truth",
    "load_truth",
    "speed_kmh",
    "truth_from_dict",
    "truth_to_dict",
    "truth_to_json",
    "write_truth",
]
