"""The public transparency register: every camera, where, who runs it, what it analyses, on what basis.

This module owns the two published files, both generated from the live camera registry:

* ``register.geojson``: the public GeoJSON export of `safecity.registry.geojson` (OSM surveillance
  tags, no stream URLs) with two derived, plainly stated properties per camera,
  ``safecity:analyses_faces`` and ``safecity:analyses_plates``;
* ``index.html``: a static, self-contained page (inline CSS and SVG only; it makes no request to
  anywhere, so a reader's visit is not reported to a font, map or script host). Every value from
  the registry is HTML-escaped.

Disabled cameras stay in the register: the public has a right to know a camera exists.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from safecity.config import RecordingSettings
from safecity.governance.audit import AuditLog
from safecity.registry.geojson import cameras_to_geojson
from safecity.registry.map import MAP_HEIGHT, MAP_WIDTH, project
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.types import Camera, Capability, RecordingMode, Site

GEOJSON_NAME = "register.geojson"
HTML_NAME = "index.html"
ANALYSES_FACES = "safecity:analyses_faces"
ANALYSES_PLATES = "safecity:analyses_plates"
RECORDING_DAYS = "safecity:recording_days"
"""Days a recording camera's video is kept (with `safecity:recording`, the mode)."""


AUDIT_HEAD_MEMBER = "safecity:audit_head"
"""GeoJSON foreign member with the audit log's head: the public's copy of the anchor."""


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The audit log's newest entry as the public sees it: a count and a hash, no personal data.

    Whoever notes it down can later prove a rewrite: `safecity audit verify --anchor SEQ:HASH`
    fails if the log no longer passes through it.
    """

    seq: int
    hash: str
    at: datetime

    @staticmethod
    def of(db: Database) -> AuditHead:
        seq, digest = AuditLog(db).head()
        return AuditHead(seq, digest, datetime.now(UTC))

    def as_json(self) -> dict[str, object]:
        return {"entries": self.seq, "hash": self.hash, "as_of": self.at.astimezone(UTC).isoformat()}


def recording_text(camera: Camera, recording: RecordingSettings) -> str:
    """What the public is told of a camera's video recording: whether, which, and for how long."""
    if camera.recording is RecordingMode.NONE:
        return "not recorded"
    days = recording.kept_days(camera.recording.value, camera.retention_days)
    what = {
        RecordingMode.CONTINUOUS: "continuously",
        RecordingMode.MOTION: "where something moved",
        RecordingMode.EVENTS: "around plate reads, faces and alerts",
    }[camera.recording]
    return f"recorded {what}, kept {days} day{'s' if days != 1 else ''}"


def public_register(
    cameras: Sequence[Camera],
    sites: Sequence[Site],
    audit: AuditHead | None = None,
    recording: RecordingSettings | None = None,
) -> dict[str, object]:
    """The public GeoJSON FeatureCollection, with faces/plates analysis stated as booleans per camera.

    The capability list (``safecity:capabilities``) already holds this, but as a code the public
    has to decode; the two booleans say it plainly. Note that `cameras_from_geojson` does not
    import these derived keys: the public file is for reading, the full export for round trips.
    """
    collection = cameras_to_geojson(cameras, sites, public=True)
    by_id = {camera.id: camera for camera in cameras}
    features = collection["features"]
    assert isinstance(features, list)
    for feature in features:
        camera = by_id[feature["id"]]
        properties = feature["properties"]
        properties[ANALYSES_FACES] = Capability.FACES in camera.capabilities
        properties[ANALYSES_PLATES] = Capability.PLATES in camera.capabilities
        if recording is not None and camera.recording is not RecordingMode.NONE:
            properties[RECORDING_DAYS] = recording.kept_days(camera.recording.value, camera.retention_days)
    if audit is not None:
        collection[AUDIT_HEAD_MEMBER] = audit.as_json()
    return collection


def _analyses(camera: Camera) -> str:
    names = {
        Capability.FACES: "faces (biometric identification)",
        Capability.PLATES: "licence plates",
        Capability.TRAFFIC: "traffic counts",
        Capability.MOTION: "motion",
    }
    return ", ".join(names[c] for c in Capability if c in camera.capabilities) or "nothing"


def _coordinates(latitude: float, longitude: float) -> str:
    return f"{latitude:.6f}, {longitude:.6f}"


def _svg_map(cameras: Sequence[Camera]) -> str:
    """The cameras as SVG circles on the map (`registry.map`), coloured by what they analyse."""
    if not cameras:
        return "<p>No cameras are registered.</p>"
    points = []
    for p in project(cameras):
        camera, state = p.camera, "" if p.camera.enabled else " disabled"
        title = f"{camera.id}: {camera.name} ({_analyses(camera)})"
        points.append(
            f'<circle class="cam {p.kind}{state}" cx="{p.x:.1f}" cy="{p.y:.1f}" r="6">'
            f"<title>{html.escape(title)}</title></circle>"
        )
    return (
        f'<svg class="map" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" width="{MAP_WIDTH}" '
        f'height="{MAP_HEIGHT}" role="img" aria-label="Camera positions">'
        f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" class="ground"/>' + "".join(points) + "</svg>"
    )


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #bbb; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
.ground { fill: #f4f4ef; stroke: #999; }
.cam { fill: #4a7; stroke: #222; }
.cam.plates { fill: #e90; }
.cam.faces { fill: #d33; }
.cam.disabled { fill: #fff; }
.legend span { margin-right: 1rem; }
"""


def _audit_html(audit: AuditHead | None) -> str:
    if audit is None:
        return ""
    e = html.escape
    return f"""<h2>Audit log</h2>
<p>Every search for a person or a plate, every watchlist change and every export is written to a
hash-chained log. Its newest entry, as of {e(audit.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))}:</p>
<table><tr><th>Entries</th><td id="audit-entries">{audit.seq}</td></tr>
<tr><th>Head hash</th><td id="audit-head"><code>{e(audit.hash)}</code></td></tr></table>
<p>Note both down. If the log were later rewritten or shortened, it would no longer pass through
them: <code>safecity audit verify --anchor {audit.seq}:{e(audit.hash)}</code> would fail.</p>
"""


def register_html(
    cameras: Sequence[Camera],
    sites: Sequence[Site],
    generated_at: datetime,
    audit: AuditHead | None = None,
    recording: RecordingSettings | None = None,
) -> str:
    """The public page: camera table, inline SVG map, counts per capability, date, link to the GeoJSON."""
    e = html.escape
    site_by_id = {site.id: site for site in sites}
    rows = []
    for camera in cameras:
        site = site_by_id.get(camera.site_id)
        place = site.name if site is not None else camera.site_id
        if site is not None and site.address:
            place = f"{place}, {site.address}"
        cells = (
            camera.id,
            camera.name,
            place,
            _coordinates(camera.latitude, camera.longitude),
            camera.operator or "not stated",
            _analyses(camera),
            camera.legal_basis or "not stated",
            str(camera.retention_days),
            recording_text(camera, recording or RecordingSettings()),
            "yes" if camera.enabled else "no",
        )
        rows.append("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in cells) + "</tr>")
    headers = (
        "Id", "Name", "Site / address", "Latitude, longitude", "Operator", "Analyses",
        "Legal basis", "Retention (days)", "Video", "Enabled",
    )  # fmt: skip
    counts = "".join(
        f"<tr><td>{e(capability.value)}</td>"
        f"<td>{sum(capability in c.capabilities for c in cameras)}</td>"
        f"<td>{sum(capability in c.capabilities and c.enabled for c in cameras)}</td></tr>"
        for capability in Capability
    )
    stamp = generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    enabled = sum(c.enabled for c in cameras)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Camera transparency register</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Camera transparency register</h1>
<p>Every camera of this system: where it is, who runs it, what it analyses and under which legal
basis. Generated from the live registry on {e(stamp)}. {len(cameras)} cameras, {enabled} enabled.
Machine-readable (GeoJSON, OpenStreetMap surveillance tags): <a href="{GEOJSON_NAME}">{GEOJSON_NAME}</a>.</p>
<h2>Map</h2>
<p class="legend"><span>red: analyses faces</span><span>orange: reads licence plates</span>
<span>green: other analysis</span><span>white: disabled</span></p>
{_svg_map(cameras)}
<h2>What is analysed</h2>
<table>
<tr><th>Capability</th><th>Cameras</th><th>Enabled</th></tr>
{counts}
</table>
<h2>Cameras</h2>
<table>
<tr>{"".join(f"<th>{e(h)}</th>" for h in headers)}</tr>
{chr(10).join(rows)}
</table>
{_audit_html(audit)}</body>
</html>
"""


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_register(
    db: Database,
    out_dir: Path,
    *,
    generated_at: datetime | None = None,
    recording: RecordingSettings | None = None,
) -> tuple[Path, Path]:
    """Write ``register.geojson`` and ``index.html`` from the registry in `db` into `out_dir`.

    Creates `out_dir` if needed; raises `NotADirectoryError` if it is a file. Returns the two paths.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir} exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    store = CameraStore(db)
    cameras, sites = store.all(), store.sites()
    when = generated_at if generated_at is not None else datetime.now(UTC)
    geojson_path, html_path = out_dir / GEOJSON_NAME, out_dir / HTML_NAME
    audit = AuditHead.of(db)
    recording = recording or RecordingSettings()
    register = public_register(cameras, sites, audit, recording)
    _write_atomic(geojson_path, json.dumps(register, indent=2, ensure_ascii=False) + "\n")
    _write_atomic(html_path, register_html(cameras, sites, when, audit, recording))
    return geojson_path, html_path
