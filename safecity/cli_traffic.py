"""Command line for traffic: `safecity traffic speeds` measures section speeds from stored plate reads.

The camera pairs are the `[[traffic.sections]]` of the configuration. Measuring stores a
speeding alert per violation; alert ids come from the section and the two reads, so measuring
the same period again adds no alert twice. Printing plates is recorded in the audit log.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from safecity.cli import _aware_time, _shown_time, app, fail, gated_read, open_db, out, settings

if TYPE_CHECKING:
    from safecity.analytics.traffic.section_speed import SpeedMeasurement

traffic_app = typer.Typer(help="Traffic: section speed control.", no_args_is_help=True)
app.add_typer(traffic_app, name="traffic")


def _measurement_json(m: SpeedMeasurement) -> dict[str, object]:
    s = m.section
    return {
        "section_id": s.id,
        "camera_a": s.camera_a,
        "camera_b": s.camera_b,
        "plate": m.plate,
        "plate_b": m.read_b.normalised,
        "match": m.match.value,
        "read_a_id": m.read_a_id,
        "read_b_id": m.read_b_id,
        "time_a": m.time_a.isoformat(),
        "time_b": m.time_b.isoformat(),
        "distance_m": round(s.distance_m, 3),
        "travel_s": round(m.travel_s, 3),
        "speed_kmh": round(m.speed_kmh, 3),
        "speed_limit_kmh": s.speed_limit_kmh,
        "threshold_kmh": round(s.threshold_kmh, 3),
        "violation": m.exceeds,
    }


@traffic_app.command("speeds")
def traffic_speeds(
    since: Annotated[str | None, typer.Option(help="Reads at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Reads before, ISO 8601 with offset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per measurement.")] = False,
) -> None:
    """Average speeds over the configured sections from stored plate reads; stores speeding alerts."""
    from safecity.analytics.traffic.section_speed import build_sections
    from safecity.governance.audit import AuditAction
    from safecity.governance.permissions import Permission
    from safecity.store.cameras import CameraStore
    from safecity.watch.speeding import measure_stored_speeds, save_speeding_alerts

    s = settings()
    start, end = _aware_time("--since", since), _aware_time("--until", until)
    if start is not None and end is not None and end <= start:
        fail(f"--until ({until}) must be after --since ({since})")
    if not s.traffic.sections:
        fail("no sections configured: add [[traffic.sections]] (id, camera_a, camera_b, speed_limit_kmh)")
    db = open_db(s)
    try:
        cameras = {c.id: c for c in CameraStore(db).all()}
        try:
            sections = build_sections(s.traffic, cameras)
        except ValueError as exc:
            fail(f"traffic.sections: {exc}")
        details = {
            "what": "traffic speeds",
            "since": since,
            "until": until,
            "sections": [x.id for x in sections],
        }
        # Speeds name plates: reading them is a read of personal data, through the gate like any other.
        with gated_read(
            db, s, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details=details
        ) as read:
            report = measure_stored_speeds(db, sections, start, end, s.traffic)
            read.record(
                [m.read_b_id for m in report.measurements],
                measurements=len(report.measurements),
                violations=len(report.violations),
            )
        new = save_speeding_alerts(db, report.violations)
    finally:
        db.close()
    if as_json:
        for m in report.measurements:
            print(json.dumps(_measurement_json(m)))
        return
    table = Table(title=f"Section speeds ({len(report.measurements)} measurements, {report.reads} reads)")
    for col in ("section", "plate", "at A", "at B", "s", "km/h", "limit", "match", ""):
        table.add_column(col, justify="right" if col in ("s", "km/h", "limit") else "left")
    for m in report.measurements:
        table.add_row(
            m.section.id,
            m.plate if m.read_b.normalised == m.plate else f"{m.plate} / {m.read_b.normalised}",
            _shown_time(m.time_a),
            _shown_time(m.time_b),
            f"{m.travel_s:.1f}",
            f"{m.speed_kmh:.1f}",
            f"{m.section.speed_limit_kmh:g}",
            m.match.value,
            "SPEEDING" if m.exceeds else "",
        )
    out.print(table)
    out.print(
        f"{len(report.violations)} violations; {len(new)} new speeding alerts stored "
        f"({len(report.violations) - len(new)} stored before)"
    )
