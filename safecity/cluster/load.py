"""Load simulation of the data path: a city's observation stream into the sink, without video.

Owns `safecity sim load`: N synthetic cameras (plate cameras and face cameras, 7 : 3) produce
plate reads and face sightings as Poisson arrivals at a mean rate per camera, with rush-hour
bursts (the rate follows a smooth profile between `rush_low` and `rush_high` times the mean
over each `rush_period_s`). A small share of the reads are of hotlisted plates. The stream goes
through the same path as `safecity serve`'s main process: the single `ObservationWriter`
(batches), a flush before the hotlist check, alerts stored. Measured:

* stored observations/s against what was offered (a run that falls behind is saturated);
* end-to-end alert latency: from the moment a read is handed to the sink to its alert being
  committed, p50 / p95 / p99;
* plate-search latency while loading: a second thread searches exact plates every
  `search_interval_s` through `store.plate_search`, p50 / p95.

Paced runs hand observations over in real time (ticks of `tick_s`); `paced=False` hands them
over as fast as the path takes them, to find the ceiling. The database should be a scratch one:
the run registers its own cameras (`load-NNNN`) and a hotlist.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from safecity.config import Settings
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.hotlists import HotlistStore
from safecity.store.plate_search import PlateQuery, search_plates
from safecity.store.writer import ObservationWriter
from safecity.types import BBox, Camera, Capability, FaceSighting, Observation, PlateRead, Site, new_id
from safecity.watch.hotlists import HotlistAlerter

PLATE_CAMERA_SHARE = 0.7
"""Share of the simulated cameras that read plates; the others see faces."""
_LETTERS = "ABCDEFGHIJKLMNOPRSTUVZ"


@dataclass(frozen=True, slots=True)
class LoadProfile:
    """What one run offers."""

    cameras: int
    rate: float
    """Mean observations per camera per second (before the rush-hour profile)."""
    seconds: float
    hotlist_share: float = 0.005
    """Share of plate reads that are of a hotlisted plate (each raises one alert)."""
    rush_low: float = 0.4
    rush_high: float = 1.6
    rush_period_s: float = 20.0
    tick_s: float = 0.1
    search_interval_s: float = 0.5
    seed: int = 1

    def __post_init__(self) -> None:
        if self.cameras < 1:
            raise ValueError(f"cameras must be at least 1, got {self.cameras}")
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(
                f"rate must be a positive number of observations per camera per second, got {self.rate}"
            )
        if not self.seconds > 0:
            raise ValueError(f"seconds must be positive, got {self.seconds}")
        if not 0 <= self.hotlist_share <= 1:
            raise ValueError(f"hotlist_share must be between 0 and 1, got {self.hotlist_share}")
        if not 0 <= self.rush_low <= self.rush_high:
            raise ValueError(f"need 0 <= rush_low <= rush_high, got {self.rush_low} and {self.rush_high}")
        if not (self.tick_s > 0 and self.rush_period_s > 0 and self.search_interval_s > 0):
            raise ValueError("tick_s, rush_period_s and search_interval_s must be positive")

    def factor(self, t: float) -> float:
        """The rush-hour multiplier at `t` seconds: a raised cosine from `rush_low` up to `rush_high`
        mid-period and back; with low + high = 2 (the defaults) its mean is 1, so `rate` is the mean."""
        phase = (1 - math.cos(2 * math.pi * t / self.rush_period_s)) / 2
        return self.rush_low + (self.rush_high - self.rush_low) * phase


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One run's figures (latencies in milliseconds)."""

    profile: LoadProfile
    paced: bool
    offered: int
    stored: int
    wall_s: float
    alerts: int
    expected_alerts: int
    alert_ms: tuple[float, float, float]
    """p50, p95, p99 of hand-over to alert committed."""
    searches: int
    search_ms: tuple[float, float]
    """p50, p95 of plate searches run while loading."""
    behind_s: float = 0.0
    """How far the hand-over ended behind the clock (paced runs; 0 when it kept up)."""

    @property
    def stored_per_s(self) -> float:
        return self.stored / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def kept_up(self) -> bool:
        return self.stored == self.offered and self.behind_s <= max(1.0, 0.05 * self.profile.seconds)


def _percentiles(values: Sequence[float], qs: Sequence[float]) -> tuple[float, ...]:
    if not values:
        return tuple(float("nan") for _ in qs)
    ordered = sorted(values)
    return tuple(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] for q in qs)


def _plate(rng: random.Random) -> str:
    return (
        rng.choice(("BG", "NS", "NI", "KG", "SU"))
        + "".join(rng.choice("0123456789") for _ in range(rng.choice((3, 4))))
        + "".join(rng.choice(_LETTERS) for _ in range(2))
    )


@dataclass
class LoadWorld:
    """A run's registered cameras, its hotlisted plates, the plates the city's traffic carries, the
    seeded generator, and recent reads (what the concurrent searches look for)."""

    cameras: list[Camera]
    hot: list[str]
    plates: list[str]
    rng: random.Random
    seen: list[str] = field(default_factory=list)


def register(db: Database, profile: LoadProfile, settings: Settings) -> LoadWorld:
    """The run's cameras (one site each ten) and hotlist, in a database that has no other cameras."""
    store = CameraStore(db)
    others = [c.id for c in store.all() if not c.id.startswith("load-")]
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise ValueError(
            f"the load simulation writes into a scratch database; this one has cameras ({shown})"
        )
    rng = random.Random(profile.seed)
    n_plate = max(1, round(profile.cameras * PLATE_CAMERA_SHARE)) if profile.cameras > 1 else 1
    sites: list[Site] = []
    cameras: list[Camera] = []
    for i in range(profile.cameras):
        if i % 10 == 0:
            sites.append(Site(f"load-site-{i // 10:04d}", f"Load site {i // 10}", 44.8 + i * 1e-5, 20.45))
        caps = (
            frozenset({Capability.PLATES, Capability.MOTION})
            if i < n_plate
            else frozenset({Capability.FACES, Capability.MOTION})
        )
        cameras.append(
            Camera(
                id=f"load-{i:04d}",
                name=f"Load camera {i}",
                site_id=sites[-1].id,
                latitude=44.8 + i * 1e-5,
                longitude=20.45,
                capabilities=caps,
                retention_days=settings.camera_defaults.retention_days,
            )
        )
    store.save(sites, cameras, replace=True)
    hotlists = HotlistStore(db, settings.hotlists)
    hot = [_plate(rng) for _ in range(20)]
    for plate in hot:
        hotlists.add(plate, reason="load simulation", owner="load", expires_at=None)
    plates = [_plate(rng) for _ in range(50_000)]
    return LoadWorld(cameras, hot, plates, rng)


def tick(world: LoadWorld, profile: LoadProfile, t: float, now: datetime) -> list[Observation]:
    """Observations of all cameras over one tick: Poisson counts at the profile's rate."""
    rng = world.rng
    mean = profile.rate * profile.factor(t) * profile.tick_s
    out: list[Observation] = []
    for camera in world.cameras:
        # Poisson by inversion: small means, exact enough and dependency-free.
        n, p, limit = 0, rng.random(), math.exp(-mean)
        while p > limit:
            n += 1
            p *= rng.random()
        for _ in range(n):
            at = now + timedelta(seconds=rng.random() * profile.tick_s)
            if Capability.PLATES in camera.capabilities:
                plate = (
                    rng.choice(world.hot)
                    if rng.random() < profile.hotlist_share
                    else rng.choice(world.plates)
                )
                out.append(
                    PlateRead(new_id(), camera.id, at, BBox(100, 200, 120, 30), 0.9, plate, plate, "RS")
                )
                if len(world.seen) < 1000:
                    world.seen.append(plate)
            else:
                out.append(FaceSighting(new_id(), camera.id, at, BBox(300, 100, 80, 80), 0.9, 0.8))
    return out


def run_load(db: Database, settings: Settings, profile: LoadProfile, *, paced: bool = True) -> LoadResult:
    """Offer the profile's stream to the sink and measure it (see the module docstring)."""
    world = register(db, profile, settings)
    hotlists = HotlistAlerter(HotlistStore(db, settings.hotlists))
    hot = set(world.hot)
    alert_ms: list[float] = []
    search_ms: list[float] = []
    stop = threading.Event()
    pick = random.Random(profile.seed + 1)  # the searcher's own: the generator's stays reproducible

    def searcher() -> None:
        while not stop.wait(profile.search_interval_s):
            if not world.seen:
                continue
            query = PlateQuery.parse(pick.choice(world.seen[-200:]), limit=20)
            t0 = time.perf_counter()
            search_plates(db, query)
            search_ms.append(1000 * (time.perf_counter() - t0))

    thread = threading.Thread(target=searcher, name="load-search", daemon=True)
    offered = expected = 0
    start_wall = datetime.now(UTC)
    ticks = max(1, round(profile.seconds / profile.tick_s))
    behind = 0.0
    t_start = time.perf_counter()
    thread.start()
    try:
        with ObservationWriter(db, settings.store) as writer:
            for k in range(ticks):
                t = k * profile.tick_s
                if paced:
                    wait = t_start + t - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)  # pacing a real-time stream, not waiting for an event
                batch = tick(world, profile, t, start_wall + timedelta(seconds=t))
                handed = time.perf_counter()
                writer.submit_many(batch)
                offered += len(batch)
                plates = [o for o in batch if isinstance(o, PlateRead)]
                expected += sum(1 for p in plates if p.normalised in hot)
                if plates:
                    writer.flush()  # alerts point at stored reads, as in serve
                    raised = hotlists.check(plates)
                    done = time.perf_counter()
                    alert_ms.extend(1000 * (done - handed) for _ in raised)
            if paced:
                behind = max(0.0, time.perf_counter() - t_start - ticks * profile.tick_s)
        stored = writer.stats.written
    finally:
        stop.set()
        thread.join()
    wall = time.perf_counter() - t_start
    p50, p95, p99 = _percentiles(alert_ms, (0.50, 0.95, 0.99))
    s50, s95 = _percentiles(search_ms, (0.50, 0.95))
    return LoadResult(
        profile=profile,
        paced=paced,
        offered=offered,
        stored=stored,
        wall_s=wall,
        alerts=len(alert_ms),
        expected_alerts=expected,
        alert_ms=(p50, p95, p99),
        searches=len(search_ms),
        search_ms=(s50, s95),
        behind_s=behind,
    )


def table(results: Sequence[LoadResult]) -> str:
    """The scaling table as text (one row per run)."""
    head = (
        f"{'cameras':>8}{'mode':>8}{'offered/s':>11}{'stored/s':>10}{'kept up':>9}"
        f"{'alerts':>8}{'alert p50':>10}{'p95':>8}{'p99':>8}{'search p50':>11}{'p95':>8}"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        offered_s = r.offered / (r.profile.seconds if r.paced else r.wall_s)
        mode = "paced" if r.paced else "max"
        rows.append(
            f"{r.profile.cameras:>8}{mode:>8}{offered_s:>11,.0f}{r.stored_per_s:>10,.0f}"
            f"{('yes' if r.kept_up else 'NO') if r.paced else '-':>9}{r.alerts:>8}"
            f"{r.alert_ms[0]:>10.1f}{r.alert_ms[1]:>8.1f}{r.alert_ms[2]:>8.1f}"
            f"{r.search_ms[0]:>11.1f}{r.search_ms[1]:>8.1f}"
        )
    rows.append("(latencies in ms, percentiles of each run; alert: read handed to the sink -> alert stored)")
    return "\n".join(rows)


def scaling_png(results: Sequence[LoadResult], path: str) -> None:
    """Stored observations/s and alert latency p95 against cameras (log scale), one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paced = sorted((r for r in results if r.paced), key=lambda r: r.profile.cameras)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    xs = [r.profile.cameras for r in paced]
    left.plot(xs, [r.stored_per_s for r in paced], marker="o", label="stored")
    left.plot(xs, [r.offered / r.profile.seconds for r in paced], linestyle="--", label="offered")
    left.set(
        xscale="log", yscale="log", xlabel="cameras", ylabel="observations/s", title="Sustained throughput"
    )
    left.legend()
    right.plot(xs, [r.alert_ms[1] for r in paced], marker="o", label="alert p95")
    right.plot(xs, [r.search_ms[1] for r in paced], marker="s", label="search p95")
    right.set(xscale="log", xlabel="cameras", ylabel="ms", title="Latency while loading")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
