"""`safecity watchlist create | enrol | list | remove`: face watchlists, each bound to an
authorisation, and the persons enrolled on them from photos. Every change is audited; reading the
persons on a list goes through the access gate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from safecity.cli.common import (
    checked_photos,
    command_group,
    face_analyser,
    fail,
    find_authorisation,
    gated_read,
    open_db,
    out,
    settings,
    shown_time,
    user_or_os_user,
)
from safecity.config import Settings
from safecity.governance import list_changes
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.store.authorisations import AuthorisationStore
from safecity.store.database import Database

if TYPE_CHECKING:
    from safecity.store.face_watchlists import FaceWatchlistStore

# The watchlist and media stores (cv2) and enrolment (onnxruntime, dlib) are imported inside the
# functions: `safecity --help` stays light.


def _actor(user: str | None) -> Actor:
    return Actor(user_or_os_user(user), "cli")  # as `cli.common.audit` names the console


watchlist_app = command_group("Face watchlists: enrolled persons under an authorisation.")


def _watchlist_store(s: Settings, db: Database) -> FaceWatchlistStore:
    from safecity.store.face_watchlists import FaceWatchlistStore
    from safecity.store.media import MediaStore

    return FaceWatchlistStore(db, MediaStore(s.effective_media_dir, s.store.snapshot_jpeg_quality))


@watchlist_app.command("create")
def watchlist_create(
    name: Annotated[str, typer.Argument(help="Unique name of the watchlist.")],
    authorisation: Annotated[
        str, typer.Option(help="Authorisation id or reference it runs under (`safecity authorisation list`).")
    ],
    description: Annotated[str, typer.Option(help="What the list is for.")] = "",
    user: Annotated[str | None, typer.Option(help="Who creates it (default: the OS user).")] = None,
) -> None:
    """Create an empty face watchlist bound to an authorisation."""
    from safecity.store.face_watchlists import FaceWatchlistError

    s = settings()
    db = open_db(s)
    auth = find_authorisation(AuthorisationStore(db), authorisation, "--authorisation")
    try:
        wl = list_changes.create_watchlist(
            _watchlist_store(s, db), _actor(user), name, auth, description=description
        )
    except FaceWatchlistError as exc:
        fail(str(exc))
    out.print(f"watchlist {wl.id} {wl.name!r} created under {auth.reference}")


@watchlist_app.command("enrol")
def watchlist_enrol(
    watchlist: Annotated[str, typer.Argument(help="Watchlist id or name.")],
    label: Annotated[str, typer.Option(help="Who the person is (name or case label).")],
    photo: Annotated[list[Path], typer.Option("--photo", help="Photo of the person alone (repeatable).")],
    note: Annotated[str, typer.Option(help="Free text kept with the person.")] = "",
    user: Annotated[str | None, typer.Option(help="Who enrols (default: the OS user).")] = None,
) -> None:
    """Enrol a person from one or more photos (each must show exactly one usable face)."""
    from safecity.analytics.faces.analyser import FacePhotoError
    from safecity.store.face_watchlists import FaceWatchlistError
    from safecity.watch.face_enrolment import enrol_photos

    s = settings()
    limits = checked_photos(s, photo)
    db = open_db(s)
    store = _watchlist_store(s, db)
    try:
        wl = store.get(watchlist)
        person = enrol_photos(face_analyser(s), store, wl.id, label, photo, note=note, limits=limits)
    except (FacePhotoError, FaceWatchlistError) as exc:
        fail(str(exc))
    list_changes.record_enrolment(store, _actor(user), wl, person.id, person.label, len(photo))
    out.print(f"enrolled {person.label!r} ({len(person.photos)} photos) on {wl.name!r} as {person.id}")


@watchlist_app.command("list")
def watchlist_list(
    watchlist: Annotated[str | None, typer.Argument(help="Show the persons of this watchlist.")] = None,
) -> None:
    """List face watchlists, or the persons enrolled on one."""
    from safecity.store.face_watchlists import FaceWatchlistError

    s = settings()
    db = open_db(s, reading=True)
    store = _watchlist_store(s, db)
    if watchlist is not None:
        # The persons on a list are personal data (who is sought): reading them is recorded.
        with gated_read(db, s, AuditAction.VIEW_SIGHTING, Permission.MANAGE_WATCHLISTS) as read:
            try:
                wl = store.get(watchlist)
                persons = store.persons(wl.id)
            except FaceWatchlistError as exc:
                fail(str(exc))
            read.record([p.id for p in persons], what="watchlist persons", watchlist_id=wl.id)
        table = Table(title=f"{wl.name} (version {wl.version}): {len(persons)} persons")
        for col in ("id", "label", "photos", "enrolled (UTC)", "note"):
            table.add_column(col)
        for p in persons:
            table.add_row(p.id, p.label, str(len(p.photos)), shown_time(p.created_at), p.note)
        out.print(table)
        return
    lists = store.list_watchlists()
    table = Table(title=f"{len(lists)} face watchlists")
    for col in ("id", "name", "version", "authorisation", "persons", "created by"):
        table.add_column(col)
    for wl in lists:
        table.add_row(
            wl.id,
            wl.name,
            str(wl.version),
            wl.authorisation_id,
            str(len(store.persons(wl.id))),
            wl.created_by,
        )
    out.print(table)


@watchlist_app.command("remove")
def watchlist_remove(
    watchlist: Annotated[str, typer.Argument(help="Watchlist id or name.")],
    person: Annotated[
        str | None, typer.Option(help="Remove only this enrolled person (id from `watchlist list NAME`).")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Who removes (default: the OS user).")] = None,
) -> None:
    """Delete a watchlist (persons, photos, templates, its alerts) or one person from it."""
    from safecity.store.face_watchlists import FaceWatchlistError

    s = settings()
    db = open_db(s)
    store = _watchlist_store(s, db)
    try:
        wl = store.get(watchlist)
        if person is not None:
            if person not in {p.id for p in store.persons(wl.id)}:
                fail(f"--person {person!r} is not enrolled on {wl.name!r}")
            removed = list_changes.remove_person(store, _actor(user), wl, person)
        else:
            removed = list_changes.remove_watchlist(store, _actor(user), wl)
    except FaceWatchlistError as exc:
        fail(str(exc))
    what = f"person {person} of" if person is not None else "watchlist"
    out.print(
        f"removed {what} {wl.name!r}: {removed.persons} persons, {removed.photos} photos, "
        f"{removed.alerts} alerts and {removed.vectors} face vectors kept for them deleted"
    )
