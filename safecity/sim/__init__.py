"""Synthetic city: a seeded scenario on Belgrade roads rendered to H.264 clips with ground truth.

`render_city` builds the scenario (`scenario.py`), renders one clip per camera (`render.py`)
and writes the ground truth (`truth.py`); `SimCity` says where everything is and carries the
cameras and sites ready for the registry.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from safecity.config import SimSettings
from safecity.sim.render import check_frame_size, render_clip
from safecity.sim.scenario import CameraSpec, Scenario, build_scenario
from safecity.sim.truth import AppearanceLog, GroundTruth, build_truth, load_truth, write_truth
from safecity.types import Camera, Capability, Site

OPERATOR = "City of Belgrade (sim)"
LEGAL_BASIS_TRAFFIC = (
    "Synthetic test camera, nothing real is recorded. A real traffic camera would cite the Law on "
    "Road Traffic Safety and the city's decision on traffic monitoring here."
)
LEGAL_BASIS_FACES = (
    "Synthetic test camera, nothing real is recorded. Biometric processing in public space needs a "
    "specific legal basis under the Law on Personal Data Protection; a real camera would cite it here."
)
RETENTION_DAYS_TRAFFIC = 30
RETENTION_DAYS_FACES = 7
TRUTH_FILE = "truth.json"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class SimCity:
    """A rendered synthetic city: its cameras and sites, one clip per camera and the ground truth."""

    out_dir: Path
    sites: tuple[Site, ...]
    cameras: tuple[Camera, ...]
    clips: dict[str, Path] = field(hash=False)
    """Camera id -> its H.264 clip."""
    truth_path: Path
    start_time: datetime
    """Wall-clock time of frame 0 of every clip (UTC); frame i is at start_time + i / fps."""
    scenario: Scenario = field(hash=False, repr=False)

    def truth(self) -> GroundTruth:
        return load_truth(self.truth_path)


PLATE_COUNTRIES = ("RS",)
"""The synthetic city is Serbian: its plate cameras expect Serbian plates."""


def _camera(spec: CameraSpec, clip: Path) -> Camera:
    faces = Capability.FACES in spec.capabilities
    return Camera(
        id=spec.id,
        name=spec.name,
        site_id=spec.site_id,
        latitude=spec.latitude,
        longitude=spec.longitude,
        heading_deg=spec.heading_deg,
        mount_height_m=spec.mount_height_m,
        operator=OPERATOR,
        capabilities=spec.capabilities,
        plate_countries=PLATE_COUNTRIES if Capability.PLATES in spec.capabilities else (),
        stream_url=clip.resolve().as_uri(),
        retention_days=RETENTION_DAYS_FACES if faces else RETENTION_DAYS_TRAFFIC,
        legal_basis=LEGAL_BASIS_FACES if faces else LEGAL_BASIS_TRAFFIC,
    )


def _sites(specs: tuple[CameraSpec, ...]) -> tuple[Site, ...]:
    seen: dict[str, Site] = {}
    for s in specs:
        if s.site_id not in seen:
            seen[s.site_id] = Site(s.site_id, s.site_name, s.site_latitude, s.site_longitude, s.address)
    return tuple(seen.values())


def render_city(
    out_dir: Path,
    settings: SimSettings,
    *,
    cameras: int | None = None,
    seconds: float | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> SimCity:
    """Render the synthetic city into `out_dir`: `cam-NN.mp4` per camera and `truth.json`.

    Arguments left as None come from `settings`. `progress(camera_id, frames_done, frames_total)`
    is called while rendering (never concurrently, possibly from a worker thread). `workers`
    clips are rendered at once (default: one per CPU core, at most one per camera).
    """
    n_cameras = settings.cameras if cameras is None else cameras
    clip_seconds = settings.seconds if seconds is None else seconds
    scenario_seed = settings.seed if seed is None else seed
    if n_cameras < 1:
        raise ValueError(f"cameras must be at least 1, got {n_cameras}")
    if clip_seconds <= 0:
        raise ValueError(f"seconds must be positive, got {clip_seconds}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    check_frame_size(settings.width, settings.height)
    scenario = build_scenario(
        n_cameras, clip_seconds, scenario_seed, fps=settings.fps, width=settings.width, height=settings.height
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clips = {c.id: out / f"{c.id}.mp4" for c in scenario.cameras}

    lock = threading.Lock()

    def report(camera_id: str, done: int, total: int) -> None:
        if progress is not None:
            with lock:
                progress(camera_id, done, total)

    logs = {c.id: AppearanceLog([], []) for c in scenario.cameras}

    def one(spec: CameraSpec) -> Path:
        log = logs[spec.id]
        return render_clip(
            scenario,
            spec,
            clips[spec.id],
            progress=report,
            on_layout=lambda layout: log.add(layout, scenario.fps),
        )

    n_workers = workers if workers is not None else min(len(scenario.cameras), os.cpu_count() or 1)
    if n_workers <= 1:
        for spec in scenario.cameras:
            one(spec)
    else:
        with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="sim-render") as pool:
            for _ in pool.map(one, scenario.cameras):
                pass
    truth_path = write_truth(build_truth(scenario, appearances=logs), out / TRUTH_FILE)
    return SimCity(
        out_dir=out,
        sites=_sites(scenario.cameras),
        cameras=tuple(_camera(s, clips[s.id]) for s in scenario.cameras),
        clips=clips,
        truth_path=truth_path,
        start_time=scenario.start_time,
        scenario=scenario,
    )


__all__ = ["SimCity", "build_scenario", "build_truth", "load_truth", "render_city"]
