"""An alert's page and its decisions (acknowledge, confirm, reject), and the enrolled reference
photo a face match is judged against.

The page puts the evidence in words: who did what and when (the system raising it, each
confirmation or rejection, each acknowledgement with its note), the face-match score as a share of
strangers (read off the watchlist decision rule's impostor table), a speeding alert's two reads
with their images, times, distance and speed, and a hotlist alert's plate. Raw ids, Python
structures and unrounded numbers stay in the API (`GET /api/v1/alerts/{id}`) and the export.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.config import Settings
from safecity.governance.access import AccessDenied, Caller, ReasonRequired
from safecity.governance.audit import AuditAction
from safecity.governance.confirmation import (
    AlertStatus,
    ConfirmationError,
    ConfirmationState,
    Decision,
    MatchConfirmations,
    acknowledge,
)
from safecity.governance.permissions import Permission
from safecity.server.context import ApiContext
from safecity.server.web.common import (
    SECURITY_HEADERS,
    camera_states,
    context_of,
    error_page,
    forbidden,
    guard,
    guard_post,
    render,
    web_caller,
)
from safecity.server.web.pages.alert_list import KIND_WORDS
from safecity.store.alerts import StoredAlert, stored_alert
from safecity.store.cameras import CameraStore
from safecity.store.models import AlertRow, AuditEntryRow, PlateReadRow
from safecity.types import AlertKind, Camera, Capability, PlateMatchKind
from safecity.watch.face_decision import FaceCalibrationError, FarTable
from safecity.watch.faces import load_rule

router = APIRouter(include_in_schema=False)

MATCH_WORDS = {
    PlateMatchKind.EXACT.value: "exactly",
    PlateMatchKind.CONFUSABLE.value: "once look-alike characters (O/0, I/1, B/8 …) are taken as the same",
    PlateMatchKind.ONE_EDIT.value: "with one character different (misread, missing or extra)",
}


@dataclass(frozen=True, slots=True)
class Event:
    """One line of an alert's history: who did what, when, and the note they gave."""

    who: str
    role: str
    what: str
    when: datetime | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class SpeedRead:
    """One of the two plate reads a speeding alert was measured between."""

    label: str
    camera_id: str
    camera_name: str
    time: datetime | None
    plate: str
    read_id: str
    has_image: bool


def _confirmations(ctx: ApiContext) -> MatchConfirmations:
    return MatchConfirmations(ctx.gate, required=ctx.settings.governance.confirmations_required)


# ---------------------------------------------------------------- numbers in words


def one_in(rate: float) -> str:
    """`rate` as "1 in N", N rounded to two significant figures ("1 in 1,000", "1 in 45,000")."""
    n = 1.0 / rate
    digits = max(0, math.floor(math.log10(n)) - 1)
    rounded = round(n / 10**digits) * 10**digits
    return f"1 in {rounded:,.0f}"


def share_closer(rate: float) -> str:
    """The share of strangers a face is closer than, with as many decimals as it takes to stay
    below 100 % ("99 %", "99.9 %", "99.98 %")."""
    decimals = max(0, math.ceil(-math.log10(rate)) - 2)
    value = math.floor((1.0 - rate) * 100 * 10**decimals) / 10**decimals
    return f"{value:.{decimals}f} %"


def _stranger_rate(table: FarTable, score: float) -> float | None:
    """The share of pairs of different people scoring `score` or closer (None: closer than any
    pair the table measured)."""
    if score <= table.thresholds[-1]:
        return None
    if score >= table.thresholds[0]:
        return table.rates[0]
    xs = np.asarray(table.thresholds[::-1], dtype=np.float64)
    ys = np.log10(np.asarray(table.rates[::-1], dtype=np.float64))
    return float(10 ** np.interp(score, xs, ys))


def face_verdict(settings: Settings, evidence: dict[str, Any]) -> tuple[str, str]:
    """(the score as a share of strangers, how the alert threshold was chosen), in words."""
    distance = _number(evidence.get("distance"))
    score = _number(evidence.get("score"))
    score = distance if score is None else score
    threshold = _number(evidence.get("threshold"))
    method = str(evidence.get("method") or "distance")
    fpir = _number(evidence.get("target_fpir"))
    if score is None:
        return "This alert was stored without its score.", ""
    scored = "distance" if method == "distance" else "score"
    rule_words = f"An alert needs a {scored} of {threshold:.2f} or less" if threshold is not None else ""
    if rule_words and fpir is not None:
        rule_words += (
            f", chosen so that at most {fpir * 100:g} % of passers-by who are on no list raise an alert"
        )
    if rule_words:
        rule_words += f"; this face scored {score:.2f} (0 would be identical)."
    try:
        rule = load_rule(settings.faces, settings.effective_face_calibration_path)
    except (FaceCalibrationError, ValueError):
        return (
            "The face calibration cannot be read, so the score cannot be put as a share of strangers.",
            rule_words,
        )
    if rule.method != method:
        return (
            "The calibration now in force measures a different score than this match was judged by, "
            "so the score cannot be put as a share of strangers.",
            rule_words,
        )
    table = rule.calibration.table
    rate = _stranger_rate(table, score)
    if rate is None:
        measured = f"{table.comparisons:,} " if table.comparisons else ""
        return (
            f"The two faces are closer than any of the {measured}pairs of different people the "
            "calibration measured.",
            rule_words,
        )
    return (
        f"The two faces are closer than {share_closer(rate)} of pairs of different people "
        f"(about {one_in(rate)} pairs of strangers look this alike).",
        rule_words,
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(float(value)) else float(value)


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def distance_words(metres: float) -> str:
    return f"{metres / 1000:.2f} km" if metres >= 1000 else f"{metres:.0f} m"


# ---------------------------------------------------------------- history


def history(session: Session, alert: StoredAlert, state: ConfirmationState) -> list[Event]:
    """Who did what and when: raised, each decision, each acknowledgement (with its note)."""
    events = [Event("the system", "", "raised the alert", alert.raised_at or alert.alert.timestamp)]
    words = {
        Decision.CONFIRM: "confirmed: it is the person",
        Decision.REJECT: "rejected: it is not the person",
    }
    events += [Event(d.username, d.role, words[d.decision], d.ts, d.note) for d in state.decisions]
    # The note of an acknowledgement is the reason of its audit entry (the alert row keeps who and when).
    acks = session.scalars(
        select(AuditEntryRow)
        .where(
            AuditEntryRow.action == AuditAction.ACKNOWLEDGE_ALERT.value,
            AuditEntryRow.target == alert.alert.id,
        )
        .order_by(AuditEntryRow.seq)
    ).all()
    events += [Event(e.username, e.role, "acknowledged", e.ts, e.justification) for e in acks]
    if not acks and alert.status == AlertStatus.ACKNOWLEDGED.value and alert.handled_by:
        events.append(Event(alert.handled_by, "", "acknowledged", alert.handled_at))
    return events


# ---------------------------------------------------------------- evidence by kind


def _camera(cameras: dict[str, Camera], camera_id: str) -> str:
    camera = cameras.get(camera_id)
    return camera.name if camera is not None else ""


def _speed_reads(evidence: dict[str, Any], cameras: dict[str, Camera]) -> list[SpeedRead]:
    out = []
    for key, label in (("read_a", "First read (section start)"), ("read_b", "Second read (section end)")):
        read = evidence.get(key)
        if not isinstance(read, dict):
            continue
        camera_id = str(read.get("camera_id", ""))
        out.append(
            SpeedRead(
                label,
                camera_id,
                _camera(cameras, camera_id),
                _when(read.get("time")),
                str(read.get("text") or read.get("normalised") or ""),
                str(read.get("id", "")),
                bool(read.get("snapshot")),
            )
        )
    return out


def _map_points(ctx: ApiContext, cameras: dict[str, Camera], camera_ids: list[str]) -> str:
    """The section's cameras as the shared city map reads them (`data-points` of div.citymap)."""
    states = camera_states(ctx)
    points = []
    for camera_id in camera_ids:
        camera = cameras.get(camera_id)
        if camera is None:
            continue
        points.append(
            {
                "id": camera.id,
                "name": camera.name,
                "lat": camera.latitude,
                "lon": camera.longitude,
                "heading": camera.heading_deg,
                "capabilities": sorted(c.value for c in Capability if c in camera.capabilities),
                "state": states.get(camera.id, "unknown") if camera.enabled else "disabled",
                "href": f"/cameras/{camera.id}",
            }
        )
    return json.dumps(points)


def _speeding(ctx: ApiContext, evidence: dict[str, Any], cameras: dict[str, Camera]) -> dict[str, Any]:
    metres = _number(evidence.get("distance_m"))
    seconds = _number(evidence.get("travel_s"))
    speed = _number(evidence.get("speed_kmh"))
    limit = _number(evidence.get("speed_limit_kmh"))
    threshold = _number(evidence.get("threshold_kmh"))
    excess = _number(evidence.get("excess_kmh"))
    words = []
    if metres is not None and seconds is not None:
        words.append(f"It covered the {distance_words(metres)} between the two cameras in {seconds:.1f} s")
    if speed is not None:
        over = f", {excess:.0f} km/h over what is allowed" if excess is not None else ""
        limit_words = f" on a section limited to {limit:g} km/h" if limit is not None else ""
        words.append(f"an average of {speed:.0f} km/h{limit_words}{over}")
    tolerance = ""
    if threshold is not None and limit is not None and threshold > limit:
        tolerance = f"Alerts are raised above {threshold:.0f} km/h (the limit plus the tolerance)."
    match = str(evidence.get("match", ""))
    match_words = ""
    if match and match != PlateMatchKind.EXACT.value:
        match_words = f"The two reads were taken as one plate {MATCH_WORDS.get(match, match)}."
    offset = _number(evidence.get("clock_offset_s"))
    clock = f"The second camera's clock is corrected by {offset:+.1f} s." if offset else ""
    ids = [str(evidence.get("camera_a", "")), str(evidence.get("camera_b", ""))]
    return {
        "speed_sentence": ", ".join(words) + "." if words else "",
        "tolerance": tolerance,
        "match_words": match_words,
        "clock": clock,
        "reads": _speed_reads(evidence, cameras),
        "map_points": _map_points(ctx, cameras, [i for i in ids if i]),
    }


def _hotlist(evidence: dict[str, Any], read: PlateReadRow | None) -> dict[str, Any]:
    """A hotlist alert's plate and entry; the plate read itself where the evidence lacks them."""
    match = str(evidence.get("match", ""))
    confidence = _number(evidence.get("read_confidence"))
    if confidence is None and read is not None:
        confidence = read.confidence
    return {
        "plate": str(evidence.get("plate_text") or evidence.get("normalised") or (read.text if read else "")),
        "entry_plate": str(evidence.get("entry_plate", "")),
        "match_words": MATCH_WORDS.get(match, match),
        "reason": str(evidence.get("reason", "")),
        "owner": str(evidence.get("owner", "")),
        "confidence": f"{confidence * 100:.0f} %" if confidence is not None else "",
    }


def _face(ctx: ApiContext, evidence: dict[str, Any]) -> dict[str, Any]:
    share, rule = face_verdict(ctx.settings, evidence)
    version = evidence.get("watchlist_version")
    return {
        "label": str(evidence.get("label", "")),
        "version": version if isinstance(version, int) else None,
        "authorisation": str(evidence.get("authorisation_reference", "")),
        "share": share,
        "rule": rule,
        "has_reference": bool(evidence.get("photo_ref")),
    }


# ---------------------------------------------------------------- routes


def _alert_page(
    request: Request, caller: Caller, alert_id: str, status: int = 200, **values: Any
) -> Response:
    ctx = context_of(request)
    try:
        with ctx.gate.read(
            caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": "alert"}
        ) as read:
            row = read.session.get(AlertRow, alert_id)
            if row is None:
                raise LookupError(f"There is no alert {alert_id[:60]!r}.")
            if not read.visible(row.camera_id):
                raise ctx.gate.deny(caller, AuditAction.VIEW_SIGHTING, f"camera {row.camera_id} is outside")
            alert = stored_alert(row)
            state = _confirmations(ctx).state(read.session, alert_id)
            events = history(read.session, alert, state)
            plate_read = (
                read.session.get(PlateReadRow, row.observation_id)
                if row.kind == AlertKind.PLATE_HOTLIST.value and row.observation_id
                else None
            )
            read.record([alert_id], kind=row.kind)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    except LookupError as exc:
        return error_page(request, caller, 404, "Not found", str(exc))
    kind = alert.alert.kind
    face = kind is AlertKind.FACE_WATCHLIST
    decided = any(d.username == caller.username for d in state.decisions)
    final = state.status in (AlertStatus.CONFIRMED, AlertStatus.REJECTED, AlertStatus.ACKNOWLEDGED)
    cameras = {c.id: c for c in CameraStore(ctx.db).all()}
    evidence = dict(alert.evidence)
    may_see_face = caller.can(Permission.CONFIRM_MATCH)
    return render(
        request,
        "alert.html",
        caller,
        status=status,
        alert=alert,
        state=state,
        face=face,
        kind_words=KIND_WORDS.get(kind, kind.value),
        camera_name=_camera(cameras, alert.alert.camera_id),
        events=events,
        face_evidence=_face(ctx, evidence) if face else None,
        speeding=_speeding(ctx, evidence, cameras) if kind is AlertKind.SPEEDING else None,
        hotlist=_hotlist(evidence, plate_read) if kind is AlertKind.PLATE_HOTLIST else None,
        may_decide=may_see_face and face and not final and not decided,
        may_acknowledge=may_see_face and not face and alert.status == AlertStatus.NEW.value,
        may_see_face=may_see_face,
        show_snapshot=bool(alert.alert.observation_id) and (not face or may_see_face),
        has_clip=_has_clip(ctx, caller, alert),
        pre_s=ctx.settings.recording.pre_s,
        post_s=ctx.settings.recording.post_s,
        **values,
    )


def _has_clip(ctx: ApiContext, caller: Caller, alert: StoredAlert) -> bool:
    """Whether recorded video covers the alert's clip span (and the caller may watch it)."""
    if not caller.can(Permission.VIEW_OBSERVATIONS, alert.alert.camera_id):
        return False
    span = ctx.settings.recording.alert_span(alert.alert.timestamp)
    return bool(ctx.recordings.segments(alert.alert.camera_id, *span, limit=1))


@router.get("/alerts/{alert_id}")
def alert_view(alert_id: str, request: Request) -> Response:
    caller = guard(request, Permission.VIEW_OBSERVATIONS)
    if isinstance(caller, Response):
        return caller
    return _alert_page(request, caller, alert_id)


@router.get("/alerts/{alert_id}/reference")
def reference_photo(alert_id: str, request: Request) -> Response:
    """The enrolled photo a face match was judged against: only to those who confirm matches
    (`confirm_match`), on the alert's camera; each view is recorded."""
    caller = web_caller(request)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if caller is None:
        return Response("log in first", status_code=401, headers=headers)
    ctx = context_of(request)
    try:
        with ctx.gate.read(
            caller,
            AuditAction.VIEW_SIGHTING,
            Permission.CONFIRM_MATCH,
            details={"what": "enrolled reference photo"},
        ) as read:
            row = read.session.get(AlertRow, alert_id)
            if row is None or row.kind != AlertKind.FACE_WATCHLIST.value:
                raise LookupError(f"no face-match alert {alert_id[:60]!r}")
            if not read.visible(row.camera_id):
                raise ctx.gate.deny(caller, AuditAction.VIEW_SIGHTING, f"camera {row.camera_id} is outside")
            evidence = row.evidence or {}
            ref = str(evidence.get("photo_ref") or "")
            path = ctx.media.path(ref) if ref else None
            if path is None or not path.is_file():
                raise LookupError(
                    f"the enrolled photo of alert {alert_id} is not stored (removed from the list?)"
                )
            data = path.read_bytes()
            read.record(
                [row.id],
                what="enrolled reference photo",
                entry_id=evidence.get("entry_id"),
                watchlist_version=evidence.get("watchlist_version"),
            )
    except AccessDenied as exc:
        return Response(str(exc), status_code=403, headers=headers)
    except (LookupError, ValueError) as exc:
        return Response(str(exc), status_code=404, headers=headers)
    return Response(data, media_type="image/jpeg", headers=headers)


@router.post("/alerts/{alert_id}/decision")
def alert_decision(
    alert_id: str,
    request: Request,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    caller = guard_post(request, Permission.CONFIRM_MATCH, action=AuditAction.CONFIRM_MATCH)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    try:
        if decision == "acknowledge":
            acknowledge(ctx.gate, caller, alert_id, note)
        else:
            _confirmations(ctx).decide(caller, alert_id, Decision(decision), note)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    except ValueError as exc:  # ConfirmationError, a note too long, or a decision that is none of the three
        known = isinstance(exc, ConfirmationError | ReasonRequired)
        message = str(exc) if known else f"unknown decision {decision[:40]!r}"
        return _alert_page(request, caller, alert_id, status=409, error=message)
    return RedirectResponse(f"/alerts/{quote(alert_id)}", status_code=303, headers=SECURITY_HEADERS)
