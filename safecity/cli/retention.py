"""`safecity retention show | sweep`: how long data is kept, and the sweep that deletes what is older.

`show` prints the policy in force per camera (each class's days, shortened by the camera's
published retention); `sweep` deletes what is older, for real, and records one `retention_deletion`
audit entry; `sweep --dry-run` only counts. `safecity serve` runs the same sweep by itself every
`retention.sweep_interval_s`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from safecity.cli.common import command_group, fail, host_actor, open_db, out, settings
from safecity.store.cameras import CameraStore

if TYPE_CHECKING:
    from safecity.governance.retention import SweepReport

# The retention rules delete snapshot files through the media store (cv2), so they are imported
# inside the commands: `safecity --help` stays light.

retention_app = command_group("How long data is kept, and the sweep that deletes what is older.")


@retention_app.command("show")
def retention_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The effective retention per camera: each class's days, never longer than the camera's own."""
    from safecity.governance.retention import CLASSES, SNAPSHOTS, RetentionPolicy

    shown = (*CLASSES, SNAPSHOTS)
    s = settings()
    policy = RetentionPolicy.from_settings(s.retention)
    cameras = CameraStore(open_db(s, reading=True)).all()
    if as_json:
        doc: dict[str, Any] = {
            "classes": {name: policy.class_days(name) for name in shown},
            "audit_days": policy.audit_days,
            "cameras": [
                {"id": c.id, "retention_days": c.retention_days, "days": policy.for_camera(c.retention_days)}
                for c in cameras
            ],
        }
        print(json.dumps(doc))
        return
    table = Table(title=f"retention in days (audit entries: {policy.audit_days})")
    table.add_column("camera")
    table.add_column("published")
    for name in shown:
        table.add_column(name)
    table.add_row("(configured)", "", *(str(policy.class_days(name)) for name in shown))
    for c in cameras:
        days = policy.for_camera(c.retention_days)
        table.add_row(c.id, str(c.retention_days), *(str(days[name]) for name in shown))
    out.print(table)


@retention_app.command("sweep")
def retention_sweep(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Delete rows, snapshot files, face vectors and audit entries past retention; log what went."""
    from safecity.governance.retention import sweep_configured

    s = settings()
    db = open_db(s)
    try:
        report = sweep_configured(s, db, dry_run=dry_run, by=host_actor())
    except (SQLAlchemyError, OSError) as exc:
        fail(f"retention sweep failed: {exc}", code=1)
    finally:
        db.close()
    if as_json:
        print(json.dumps(_report_json(report)))
        return
    out.print(report.summary())
    for name, per_camera in report.deleted.items():
        for camera_id, n in sorted(per_camera.items()):
            out.print(f"  {name} {camera_id}: {n}")
    if report.audit_seq is not None:
        out.print(f"recorded as audit entry {report.audit_seq} (retention_deletion)")
    elif not dry_run:
        out.print("nothing to delete; nothing recorded")


def _report_json(report: SweepReport) -> dict[str, Any]:
    return {"dry_run": report.dry_run, "audit_seq": report.audit_seq, **report.details()}
