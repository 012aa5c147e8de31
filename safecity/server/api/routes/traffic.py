"""`/api/v1/traffic`: the numbers of `safecity traffic report` — speeds per section and hour, counts
per line and hour, zone occupancy and queues per hour — for a period. Aggregates only leave, but
speeds are computed from plate reads, so the request passes the access gate (`view_observations`)
and is recorded like any read. A caller limited to some cameras gets only theirs (a section only
when both its cameras are theirs); naming another camera is refused and recorded.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from safecity.analytics.traffic.statistics import LineHourCount, SectionHourStats, ZoneHourStats
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.server.api.routes.observations import Cameras, Since, Until, aware
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut
from safecity.server.problems import BadRequest
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.watch.traffic_period import period_traffic

router = APIRouter(
    prefix="/traffic",
    tags=["traffic"],
    responses=PROBLEM_RESPONSES,
    dependencies=[require_permission(Permission.VIEW_OBSERVATIONS)],
)


class TrafficStatisticsOut(DomainOut):
    since: datetime
    until: datetime
    # The statistics' own records: the API shows exactly what the report and the CSVs hold.
    sections: list[SectionHourStats]
    lines: list[LineHourCount]
    zones: list[ZoneHourStats]


@router.get("/statistics", response_model=TrafficStatisticsOut)
def statistics(
    ctx: Context, caller: CurrentCaller, since: Since, until: Until, camera: Cameras = None
) -> TrafficStatisticsOut:
    """Speeds per section and hour (mean, 85th percentile, violations), counts per line and hour, and
    zone occupancy and queues per hour; of the cameras named (default: all the caller may see; a
    section counts when both its cameras do). A camera outside the caller's limits is refused (403)."""
    start, end = aware("since", since), aware("until", until)
    if start is None or end is None:
        raise BadRequest("give both since and until (ISO 8601 with UTC offset)")
    if end <= start:
        raise BadRequest(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
    details = {"what": "traffic statistics", "since": start.isoformat(), "until": end.isoformat()}
    gate = ctx.gate.read(
        caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, cameras=camera or (), details=details
    )
    with gate as read:
        try:
            period = period_traffic(ctx.db, read.session, ctx.settings, start, end, read.cameras)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        read.record(
            [m.read_b_id for m in period.report.measurements],
            crossings=period.crossings,
            zone_visits=period.visits,
        )
    return TrafficStatisticsOut.of(period.statistics, since=start, until=end)
