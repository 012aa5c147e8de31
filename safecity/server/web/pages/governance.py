"""Administrator screens for authorisations (record, approve, refuse, deadlines counting down) and
retention (what a sweep would delete now, and the sweep).

An authorisation is recorded and decided through `governance.list_changes` (what `safecity
authorisation add|approve|refuse` and the API call); the retention preview is the CLI's
`safecity retention sweep --dry-run` and the sweep its `safecity retention sweep`
(`governance.retention.sweep_configured`), which records its own `retention_deletion` entry.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from safecity.governance import list_changes
from safecity.governance.access import Caller
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.server.web.common import context_of, guard, guard_post, parse_time, render
from safecity.server.web.pages.lists import countdown, done_redirect
from safecity.store.authorisations import USES, AuthorisationError, AuthorisationStore
from safecity.store.cameras import CameraStore
from safecity.store.field_limits import AUDIT_ENTRY, AUTHORISATION
from safecity.types import AuthorisationPurpose

router = APIRouter(include_in_schema=False)

DECISIONS = {"approve": "approved", "refuse": "refused"}
"""The buttons of the decision form, and the state each records."""


# ------------------------------------------------------------------ authorisations


def _authorisations_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> Response:
    ctx = context_of(request)
    now = ctx.gate.clock()  # past its expiry an authorisation reads expired, swept or not
    auths = [a.as_of(now) for a in AuthorisationStore(ctx.db).list()]
    # Pending first (their deadline runs), then those in force, then the ended record.
    order = {"pending": 0, "approved": 1}
    auths.sort(key=lambda a: (order.get(a.status, 2), a.expires_at))
    values.setdefault("form", {})
    return render(
        request,
        "authorisations.html",
        caller,
        status=status,
        authorisations=auths,
        now=now,
        countdown=countdown,
        cameras=CameraStore(ctx.db).all(),
        purposes=[p.value for p in AuthorisationPurpose],
        uses=USES,
        limits=AUTHORISATION,
        max_reason=AUDIT_ENTRY["justification"],
        **values,
    )


@router.get("/authorisations")
def authorisations(request: Request) -> Response:
    caller = guard(request, Permission.MANAGE_AUTHORISATIONS)
    if isinstance(caller, Response):
        return caller
    return _authorisations_page(request, caller, done=request.query_params.get("done", "")[:200])


@router.post("/authorisations")
async def authorisation_record(request: Request) -> Response:
    """Record an authorisation through `list_changes.record_authorisation` (manage_authorisations)."""
    caller = guard_post(request, Permission.MANAGE_AUTHORISATIONS, action="record an authorisation")
    if isinstance(caller, Response):
        return caller
    data = await request.form()
    form = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    cameras = [str(c) for c in data.getlist("cameras") if isinstance(c, str)]
    ctx = context_of(request)
    error = None
    for name in ("authority", "reference", "note", "use"):
        if len(form.get(name, "")) > AUTHORISATION[name]:
            error = f"{name}: at most {AUTHORISATION[name]} characters"
    if error is None and not cameras:
        error = "cameras: tick at least one camera the authorisation allows"
    if error is None and len(cameras) > ctx.settings.api.max_list_items:
        error = f"cameras: at most {ctx.settings.api.max_list_items}"
    if error is not None:
        return _authorisations_page(request, caller, 400, form=form, chosen=cameras, error=error)
    try:
        start = parse_time("valid from", form.get("valid_from", ""))
        end = parse_time("valid until", form.get("valid_until", ""))
        lapse = parse_time("expires", form.get("expires", ""))
        if start is None or end is None:
            raise ValueError("give the window the authorisation is valid in: from and until")
        auth = list_changes.record_authorisation(
            ctx.db,
            ctx.settings,
            Actor.of(caller),
            authority=form.get("authority", ""),
            reference=form.get("reference", ""),
            purpose=form.get("purpose", ""),
            cameras=cameras,
            valid_from=start,
            valid_until=end,
            expires_at=lapse,
            note=form.get("note", ""),
            urgent=form.get("urgent") == "1",
            use=form.get("use", "realtime"),
        )
    except ValueError as exc:  # AuthorisationError, a time that is none
        return _authorisations_page(request, caller, 422, form=form, chosen=cameras, error=str(exc))
    state = "pending until approved" if auth.status == "pending" else auth.status
    return done_redirect("/authorisations", f"Recorded {auth.authority} {auth.reference} ({state}).")


@router.post("/authorisations/{authorisation_id}/decide")
def authorisation_decide(
    authorisation_id: str,
    request: Request,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Approve or refuse with the reference of the authority's decision, through
    `list_changes.decide_authorisation` (a refusal deletes what was collected under it)."""
    caller = guard_post(request, Permission.MANAGE_AUTHORISATIONS, action="decide an authorisation")
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    if decision not in DECISIONS:
        return _authorisations_page(request, caller, 400, error="decision: approve or refuse")
    if not reason.strip() or len(reason) > AUDIT_ENTRY["justification"]:
        error = "Give the reference of the authority's decision (and grounds for a refusal)."
        return _authorisations_page(request, caller, 400, error=error)
    state = DECISIONS[decision]
    # The CLI's and API's approval reads "approved by the authority"; the page adds the reference.
    justification = f"approved by the authority: {reason.strip()}" if state == "approved" else reason.strip()
    try:
        decided, done = list_changes.decide_authorisation(
            ctx.db,
            ctx.settings,
            Actor.of(caller),
            authorisation_id[:100],
            state,
            justification,
        )
    except AuthorisationError as exc:
        status = 404 if str(exc).startswith("no authorisation") else 409
        return _authorisations_page(request, caller, status, error=str(exc))
    deleted = "".join(
        f" Deleted under {d.reference}: {d.watchlists} watchlists, {d.removal.persons} persons, "
        f"{d.removal.alerts} alerts."
        for d in done
    )
    return done_redirect("/authorisations", f"{decided.reference}: {state}.{deleted}")


# ------------------------------------------------------------------ retention


def _retention_page(
    request: Request, caller: Caller, template: str = "retention.html", **values: Any
) -> Response:
    from safecity.governance.retention import CLASSES, SNAPSHOTS, RetentionPolicy

    ctx = context_of(request)
    policy = RetentionPolicy.from_settings(ctx.settings.retention)
    shown = (*CLASSES, SNAPSHOTS)
    cameras = CameraStore(ctx.db).all()
    return render(
        request,
        template,
        caller,
        classes=shown,
        configured={name: policy.class_days(name) for name in shown},
        audit_days=policy.audit_days,
        export_days=policy.export_packages_days,
        sweep_every=_every(ctx.settings.retention.sweep_interval_s),
        per_camera=[(c, policy.for_camera(c.retention_days)) for c in cameras],
        **values,
    )


def _preview(request: Request) -> Any:
    from safecity.governance.retention import sweep_configured

    ctx = context_of(request)
    return sweep_configured(ctx.settings, ctx.db, dry_run=True)


@router.get("/admin/retention")
def retention(request: Request) -> Response:
    """What `safecity retention sweep --dry-run` reports now, with the policy per camera."""
    # The CLI's sweep needs the console; here the administrator's camera management covers it
    # (the navigation shows Retention to manage_cameras).
    caller = guard(request, Permission.MANAGE_CAMERAS)
    if isinstance(caller, Response):
        return caller
    try:
        report = _preview(request)
    except (SQLAlchemyError, OSError) as exc:
        return _retention_page(request, caller, error=f"The preview failed: {exc}")
    return _retention_page(request, caller, report=report)


@router.post("/admin/retention")
def retention_sweep(request: Request, confirm: Annotated[str, Form()] = "") -> Response:
    """First post: the confirmation step (what will go); the second, with confirm=yes, the sweep."""
    caller = guard_post(request, Permission.MANAGE_CAMERAS, action="run the retention sweep")
    if isinstance(caller, Response):
        return caller
    from safecity.governance.retention import sweep_configured

    if confirm != "yes":
        return _retention_page(request, caller, "retention_confirm.html", report=_preview(request))
    ctx = context_of(request)
    try:
        report = sweep_configured(ctx.settings, ctx.db, by=Actor.of(caller))
    except (SQLAlchemyError, OSError) as exc:
        return _retention_page(
            request, caller, error=f"The sweep failed: {exc}. Some data may be deleted; run it again."
        )
    return _retention_page(request, caller, report=report, swept=True)


def _every(seconds: float) -> str:
    """A sweep interval in words: "hour", "6 hours", "30 minutes"."""
    if seconds >= 3600:
        hours = seconds / 3600
        return "hour" if hours == 1 else f"{hours:g} hours"
    minutes = seconds / 60
    return "minute" if minutes == 1 else f"{minutes:g} minutes"
