"""`safecity authorisation add | approve | refuse | enforce | list`: the legal authorisations that
face watchlists run under (authority, reference, purpose, cameras, time window).

An urgent authorisation is pending until the authority approves it; refusing it, or letting it
lapse, deletes every watchlist under it with what was collected. Every change is audited.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from safecity.cli.common import (
    aware_time,
    command_group,
    fail,
    find_authorisation,
    open_db,
    out,
    settings,
    shown_time,
    user_or_os_user,
)
from safecity.governance import list_changes
from safecity.governance.users import Actor
from safecity.store.authorisations import AuthorisationError, AuthorisationStore
from safecity.store.models import utcnow
from safecity.types import AuthorisationPurpose

# Enforcement (`governance.authorisations`, which deletes watchlist photos: cv2) is imported inside
# the functions: `safecity --help` stays light.

authorisation_app = command_group("Legal authorisations that face watchlists run under.")

_PURPOSES = ", ".join(p.value for p in AuthorisationPurpose)


@authorisation_app.command("add")
def authorisation_add(
    authority: Annotated[str, typer.Option(help="Court or independent authority that granted it.")],
    reference: Annotated[str, typer.Option(help="The authority's reference number.")],
    purpose: Annotated[str, typer.Option(help=f"One of: {_PURPOSES}.")],
    camera: Annotated[list[str], typer.Option("--camera", help="Camera it allows (repeatable).")],
    valid_from: Annotated[str, typer.Option("--from", help="Start of the window, ISO 8601 with offset.")],
    valid_until: Annotated[str, typer.Option("--until", help="End of the window, ISO 8601 with offset.")],
    expires: Annotated[
        str | None,
        typer.Option(help="When it lapses (default: end of the window), ISO 8601 with offset."),
    ] = None,
    note: Annotated[str, typer.Option(help="Free text: scope, persons, conditions.")] = "",
    user: Annotated[str | None, typer.Option(help="Who records it (default: the OS user).")] = None,
    urgent: Annotated[
        bool, typer.Option("--urgent", help="Urgent use before approval: pending until approved in time.")
    ] = False,
    use: Annotated[
        str, typer.Option(help="realtime or retrospective (sets the urgent deadline).")
    ] = "realtime",
) -> None:
    """Record an authorisation for face matching (authority, reference, purpose, cameras, window)."""
    start = aware_time("--from", valid_from)
    end = aware_time("--until", valid_until)
    lapse = aware_time("--expires", expires) if expires is not None else end
    assert start is not None and end is not None and lapse is not None
    s = settings()
    db = open_db(s)
    try:
        auth = list_changes.record_authorisation(
            db,
            s,
            Actor(user_or_os_user(user), "cli"),
            authority=authority,
            reference=reference,
            purpose=purpose,
            cameras=camera,
            valid_from=start,
            valid_until=end,
            expires_at=lapse,
            note=note,
            urgent=urgent,
            use=use,
        )
    except AuthorisationError as exc:
        fail(str(exc))
    out.print(f"authorisation {auth.id} recorded: {auth.authority} {auth.reference} ({auth.purpose.value})")
    if auth.approval_deadline is not None:
        out.print(
            f"[yellow]urgent use: pending; unless approved by {shown_time(auth.approval_deadline)} UTC, "
            "matching stops and everything collected under it is deleted[/]"
        )


def _decide(authorisation: str, state: str, reason: str, user: str | None) -> None:
    s = settings()
    db = open_db(s)
    auth = find_authorisation(AuthorisationStore(db), authorisation)
    try:
        decided, done = list_changes.decide_authorisation(
            db, s, Actor(user_or_os_user(user), "cli"), auth.id, state, reason
        )
    except AuthorisationError as exc:
        fail(str(exc))
    out.print(f"authorisation {decided.reference}: {state}")
    for d in done:
        out.print(
            f"deleted under {d.reference} ({d.status}): {d.watchlists} watchlists, "
            f"{d.removal.persons} persons, {d.removal.alerts} alerts, {d.removal.vectors} vectors"
        )


@authorisation_app.command("approve")
def authorisation_approve(
    authorisation: Annotated[str, typer.Argument(help="Authorisation id or reference.")],
    user: Annotated[str | None, typer.Option(help="Who records the approval (default: the OS user).")] = None,
) -> None:
    """Record the authority's approval of a pending (urgent) authorisation, before its deadline."""
    _decide(authorisation, "approved", "approved by the authority", user)


@authorisation_app.command("refuse")
def authorisation_refuse(
    authorisation: Annotated[str, typer.Argument(help="Authorisation id or reference.")],
    reason: Annotated[str, typer.Option(help="The authority's decision (reference, grounds).")],
    user: Annotated[str | None, typer.Option(help="Who records the refusal (default: the OS user).")] = None,
) -> None:
    """Record a refusal: matching stops and every watchlist under it, with its matches, is deleted."""
    _decide(authorisation, "refused", reason, user)


@authorisation_app.command("enforce")
def authorisation_enforce(
    user: Annotated[str | None, typer.Option(help="Who runs it (default: the OS user).")] = None,
) -> None:
    """End lapsed and expired authorisations and delete what was collected under them (for cron)."""
    from safecity.governance.authorisations import enforce_configured

    s = settings()
    done = enforce_configured(s, open_db(s), by=user_or_os_user(user))
    for d in done:
        out.print(
            f"{d.reference}: {d.status}; deleted {d.watchlists} watchlists, {d.removal.persons} persons, "
            f"{d.removal.alerts} alerts, {d.removal.vectors} vectors"
        )
    out.print(f"{len(done)} authorisations enforced")


@authorisation_app.command("list")
def authorisation_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List authorisations with their scope, expiry and status (expired once past the expiry, even
    before `authorisation enforce` has run)."""
    now = utcnow()
    auths = [a.as_of(now) for a in AuthorisationStore(open_db(reading=True)).list()]
    if as_json:
        for a in auths:
            print(
                json.dumps(
                    {
                        "id": a.id,
                        "authority": a.authority,
                        "reference": a.reference,
                        "purpose": a.purpose.value,
                        "cameras": list(a.camera_ids),
                        "valid_from": a.valid_from.isoformat(),
                        "valid_until": a.valid_until.isoformat(),
                        "expires_at": a.expires_at.isoformat(),
                        "status": a.status,
                    }
                )
            )
        return
    table = Table(title=f"{len(auths)} authorisations")
    # `authorisation approve` and `watchlist create` take the id or the reference: both stay whole on
    # one line (at 120 columns too), the other columns wrap or fold but lose nothing.
    for col in ("id", "authority", "reference", "purpose", "cameras", "window (UTC)", "expires", "status"):
        table.add_column(col, no_wrap=col in ("id", "reference"), overflow="fold")
    for a in auths:
        table.add_row(
            a.id,
            a.authority,
            a.reference,
            a.purpose.value,
            ", ".join(a.camera_ids),
            f"{shown_time(a.valid_from)} .. {shown_time(a.valid_until)}",
            shown_time(a.expires_at),
            a.status,
        )
    out.print(table)
