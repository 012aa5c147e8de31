"""`safecity traffic speeds | report`: `speeds` measures section speeds from stored plate reads;
`report` writes the hourly statistics as an HTML page and three CSV files.

The camera pairs are the `[[traffic.sections]]` of the configuration. Measuring stores a
speeding alert per violation; alert ids come from the section and the two reads, so measuring
the same period again adds no alert twice. Printing plates is recorded in the audit log; so is the
report, which shows aggregates only but reads plate reads to compute them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safecity.analytics.traffic.section_speed import Section, SpeedMeasurement
from safecity.analytics.traffic.statistics import lines_csv, sections_csv, zones_csv
from safecity.cli.common import (
    aware_time,
    command_group,
    fail,
    gated_read,
    open_db,
    out,
    settings,
    shown_time,
    write_text_atomic,
)
from safecity.config import Settings
from safecity.governance.access import GatedRead
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.store.database import Database
from safecity.watch.speeding import SpeedReport, measure_configured_speeds, save_speeding_alerts
from safecity.watch.traffic_period import PeriodTraffic, period_traffic

# The HTML report draws its charts with matplotlib, imported inside `traffic report`: `safecity
# --help` stays light.

traffic_app = command_group("Traffic: section speed control and statistics.")


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


def _measured(
    db: Database, s: Settings, start: datetime | None, end: datetime | None, read: GatedRead
) -> tuple[list[Section], SpeedReport]:
    """The configured sections inside the caller's cameras (`SAFECITY_TOKEN`'s limits) and their speeds
    from stored reads, read in the gated read's session; exits 2 naming a bad section."""
    try:
        return measure_configured_speeds(
            db, s.traffic, start, end, cameras=read.cameras, session=read.session
        )
    except ValueError as exc:
        fail(str(exc))


@traffic_app.command("speeds")
def traffic_speeds(
    since: Annotated[str | None, typer.Option(help="Reads at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Reads before, ISO 8601 with offset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per measurement.")] = False,
) -> None:
    """Average speeds over the configured sections from stored plate reads; stores speeding alerts."""
    s = settings()
    start, end = aware_time("--since", since), aware_time("--until", until)
    if start is not None and end is not None and end <= start:
        fail(f"--until ({until}) must be after --since ({since})")
    if not s.traffic.sections:
        fail("no sections configured: add [[traffic.sections]] (id, camera_a, camera_b, speed_limit_kmh)")
    db = open_db(s)
    try:
        # Speeds name plates: reading them is a read of personal data, through the gate like any other.
        details = {"what": "traffic speeds", "since": since, "until": until}
        with gated_read(
            db, s, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details=details
        ) as read:
            sections, report = _measured(db, s, start, end, read)
            read.record(
                [m.read_b_id for m in report.measurements],
                sections=[x.id for x in sections],
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
            shown_time(m.time_a),
            shown_time(m.time_b),
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


@traffic_app.command("report")
def traffic_report(
    since: Annotated[str, typer.Option(help="Period start, ISO 8601 with offset.")],
    until: Annotated[str, typer.Option(help="Period end (exclusive), ISO 8601 with offset.")],
    out_path: Annotated[Path, typer.Option("--out", help="HTML file to write.")],
    csv_prefix: Annotated[
        str | None,
        typer.Option(
            "--csv",
            help="CSV prefix: writes PREFIX-sections.csv, PREFIX-lines.csv and PREFIX-zones.csv "
            "(default: --out without .html).",
        ),
    ] = None,
) -> None:
    """Hourly counts per line, speeds per section (mean, 85th percentile) and zone occupancy and queues,
    as HTML and CSV."""
    from safecity.analytics.traffic.report import traffic_report_html

    s = settings()
    start, end = aware_time("--since", since), aware_time("--until", until)
    assert start is not None and end is not None
    if end <= start:
        fail(f"--until ({until}) must be after --since ({since})")
    prefix = Path(csv_prefix) if csv_prefix is not None else out_path.with_suffix("")
    csv_paths = {
        name: prefix.with_name(f"{prefix.name}-{name}.csv") for name in ("sections", "lines", "zones")
    }
    for path in (out_path, *csv_paths.values()):
        if not path.parent.is_dir():
            fail(f"{path.parent} is not a folder: cannot write {path}")
    db = open_db(s, reading=True)
    try:
        # Only aggregates leave, but speeds come from plate reads: a read of personal data, gated.
        details = {"what": "traffic report", "since": since, "until": until}
        with gated_read(
            db, s, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details=details
        ) as read:
            try:
                period: PeriodTraffic = period_traffic(db, read.session, s, start, end, read.cameras)
            except ValueError as exc:
                fail(str(exc))
            report = period.report
            read.record(
                [m.read_b_id for m in report.measurements],
                sections=[x.id for x in period.sections],
                measurements=len(report.measurements),
                crossings=period.crossings,
                zone_visits=period.visits,
            )
    finally:
        db.close()
    stats = period.statistics
    write_text_atomic(out_path, traffic_report_html(stats, start, end, datetime.now(UTC)))
    write_text_atomic(csv_paths["sections"], sections_csv(stats.sections))
    write_text_atomic(csv_paths["lines"], lines_csv(stats.lines))
    write_text_atomic(csv_paths["zones"], zones_csv(stats.zones))
    sections_path, lines_path, zones_path = csv_paths.values()
    out.print(
        f"{len(report.measurements)} speed measurements over {len(period.sections)} sections, "
        f"{period.crossings} line crossings, {period.visits} zone visits: "
        f"wrote {out_path}, {sections_path}, {lines_path}, {zones_path}"
    )
