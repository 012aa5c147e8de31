"""The traffic statistics of one period, from what is stored: section speeds, line counts, zone visits.

One function for every place that shows them (`safecity traffic report`, `GET
/api/v1/traffic/statistics`): it measures the configured sections
over the stored plate reads, reads the line crossings and the motion tracks of the cameras with
zones (registered with the camera, else in the settings), and aggregates all three per hour. The
caller runs it inside its access-gate read (speeds
come from plate reads), in that read's session and narrowed to the cameras the caller may see, and
records what it returns.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from safecity.analytics.traffic.lines import TrackPath, Zone, counting_for
from safecity.analytics.traffic.section_speed import Section
from safecity.analytics.traffic.statistics import TrafficStatistics, traffic_statistics, zone_visits
from safecity.config import Settings
from safecity.store.database import Database
from safecity.store.traffic import line_crossings_between, motion_tracks_between
from safecity.watch.speeding import SpeedReport, measure_configured_speeds, registered_cameras


@dataclass(frozen=True, slots=True)
class PeriodTraffic:
    sections: tuple[Section, ...]
    report: SpeedReport
    crossings: int
    visits: int
    statistics: TrafficStatistics


def period_traffic(
    db: Database,
    session: Session,
    settings: Settings,
    since: datetime,
    until: datetime,
    cameras: Collection[str] | None = None,
) -> PeriodTraffic:
    """The hourly statistics of [since, until); ValueError naming `traffic.sections` if one is bad.

    `cameras`: the cameras the caller may see (`GatedRead.cameras`; None: all). Lines and zones
    are of those cameras only, sections only those with both ends among them.
    """
    sections, report = measure_configured_speeds(
        db, settings.traffic, since, until, cameras=cameras, session=session
    )
    crossings = line_crossings_between(session, since, until, cameras)
    counting = settings.counting
    zones: dict[str, list[Zone]] = {}
    for camera in registered_cameras(db, session).values():
        if cameras is not None and camera.id not in cameras:
            continue
        config = counting_for(camera, counting)
        if config is not None and config.zones:
            zones[camera.id] = [Zone(z.name, z.polygon) for z in config.zones]
    tracks = motion_tracks_between(session, since, until, zones)
    visits = zone_visits(
        (TrackPath.of_motion_track(t) for t in tracks), zones, counting.queue_speed_px_s, counting.queue_min_s
    )
    stats = traffic_statistics(report.measurements, crossings, visits=visits)
    return PeriodTraffic(tuple(sections), report, len(crossings), len(visits), stats)
