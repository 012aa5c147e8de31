"""Command line for faces: authorisations, face watchlists (create, enrol, list, remove), face search.

Registered on the main `safecity` app by `safecity.cli`; shares its settings, database and
error conventions (bad input exits 2 with a message naming what was wrong, nothing written).
"""

from __future__ import annotations

import getpass
import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from safecity.cli import (
    EXIT_DENIED,
    _audit,
    _aware_time,
    _shown_time,
    access_gate,
    app,
    cli_caller,
    fail,
    gated_read,
    open_db,
    out,
    search_app,
    settings,
)
from safecity.types import AuthorisationPurpose

if TYPE_CHECKING:
    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.analytics.image_header import ImageLimits
    from safecity.config import Settings
    from safecity.store.authorisations import AuthorisationStore
    from safecity.store.database import Database
    from safecity.types import Authorisation

authorisation_app = typer.Typer(
    help="Legal authorisations that face watchlists run under.", no_args_is_help=True
)
watchlist_app = typer.Typer(
    help="Face watchlists: enrolled persons under an authorisation.", no_args_is_help=True
)
faces_app = typer.Typer(
    help="Face recognition measured on a city's own photos (watchlist decision calibration).",
    no_args_is_help=True,
)
app.add_typer(authorisation_app, name="authorisation")
app.add_typer(watchlist_app, name="watchlist")
app.add_typer(faces_app, name="faces")

_PURPOSES = ", ".join(p.value for p in AuthorisationPurpose)


def _user(value: str | None) -> str:
    return value or getpass.getuser()


def _analyser(s: Settings) -> FaceAnalyser:
    from safecity.analytics.faces.analyser import FaceAnalyser

    return FaceAnalyser(s.faces, s.effective_model_cache_dir)


def _checked_photos(s: Settings, paths: list[Path]) -> ImageLimits:
    """`api.max_image_pixels` and `.max_image_side`, once every photo's header is within them: a
    photo that declares a huge image (an image bomb) exits 2 before anything decodes it."""
    from safecity.analytics.image_header import ImageLimits, ImageRefused, check_image_file

    limits = ImageLimits.of(s.api)
    for path in paths:
        try:
            check_image_file(path, limits)
        except ImageRefused as exc:
            fail(str(exc))
    return limits


def _authorisation(store: AuthorisationStore, ref: str, option: str = "") -> Authorisation:
    """An authorisation by id, else by reference; exits 2 naming what was not found."""
    from safecity.store.authorisations import AuthorisationError

    try:
        return store.get(ref)
    except AuthorisationError:
        try:
            return store.find(ref)
        except AuthorisationError as exc:
            fail(f"{option} {ref!r}: {exc}" if option else str(exc))


def _watchlist_store(s: Settings, db: Database):  # type: ignore[no-untyped-def]
    from safecity.store.face_watchlists import FaceWatchlistStore
    from safecity.store.media import MediaStore

    return FaceWatchlistStore(db, MediaStore(s.effective_media_dir, s.store.snapshot_jpeg_quality))


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
    from safecity.governance.audit import AuditAction
    from safecity.store.authorisations import AuthorisationError, AuthorisationStore

    start = _aware_time("--from", valid_from)
    end = _aware_time("--until", valid_until)
    lapse = _aware_time("--expires", expires) if expires is not None else end
    assert start is not None and end is not None and lapse is not None
    s = settings()
    db = open_db(s)
    hours = (
        s.governance.urgent_deadline_realtime_h
        if use == "realtime"
        else s.governance.urgent_deadline_retrospective_h
    )
    try:
        auth = AuthorisationStore(db).create(
            authority,
            reference,
            purpose,
            camera,
            start,
            end,
            lapse,
            created_by=_user(user),
            note=note,
            urgent=urgent,
            use=use,
            approval_window=timedelta(hours=hours) if urgent else None,
        )
    except AuthorisationError as exc:
        fail(str(exc))
    _audit(
        db,
        AuditAction.AUTHORISATION_CHANGE,
        user=_user(user),
        target=auth.id,
        justification=f"{auth.authority} {auth.reference}",
        details={"change": "created", "purpose": auth.purpose.value, "cameras": list(auth.camera_ids)},
    )
    out.print(f"authorisation {auth.id} recorded: {auth.authority} {auth.reference} ({auth.purpose.value})")
    if auth.approval_deadline is not None:
        out.print(
            f"[yellow]urgent use: pending; unless approved by {_shown_time(auth.approval_deadline)} UTC, "
            "matching stops and everything collected under it is deleted[/]"
        )


def _decide(authorisation: str, state: str, reason: str, user: str | None) -> None:
    from safecity.governance.audit import AuditAction
    from safecity.governance.authorisations import enforce_configured
    from safecity.store.authorisations import AuthorisationError, AuthorisationStore

    s = settings()
    db = open_db(s)
    store = AuthorisationStore(db)
    auth = _authorisation(store, authorisation)
    try:
        decided = store.decide(auth.id, state, _user(user))
    except AuthorisationError as exc:
        fail(str(exc))
    _audit(
        db,
        AuditAction.AUTHORISATION_CHANGE,
        user=_user(user),
        target=decided.id,
        justification=reason,
        details={"change": state, "reference": decided.reference},
    )
    out.print(f"authorisation {decided.reference}: {state}")
    for done in enforce_configured(s, db, by=_user(user)):
        out.print(
            f"deleted under {done.reference} ({done.status}): {done.watchlists} watchlists, "
            f"{done.removal.persons} persons, {done.removal.alerts} alerts, {done.removal.vectors} vectors"
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
    done = enforce_configured(s, open_db(s), by=_user(user))
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
    from safecity.store.authorisations import AuthorisationStore
    from safecity.store.models import utcnow

    now = utcnow()
    auths = [a.as_of(now) for a in AuthorisationStore(open_db()).list()]
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
    for col in ("id", "authority", "reference", "purpose", "cameras", "window (UTC)", "expires", "status"):
        table.add_column(col)
    for a in auths:
        table.add_row(
            a.id,
            a.authority,
            a.reference,
            a.purpose.value,
            ", ".join(a.camera_ids),
            f"{_shown_time(a.valid_from)} .. {_shown_time(a.valid_until)}",
            _shown_time(a.expires_at),
            a.status,
        )
    out.print(table)


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
    from safecity.governance.audit import AuditAction
    from safecity.store.authorisations import AuthorisationStore
    from safecity.store.face_watchlists import FaceWatchlistError

    s = settings()
    db = open_db(s)
    auth = _authorisation(AuthorisationStore(db), authorisation, "--authorisation")
    try:
        wl = _watchlist_store(s, db).create(name, auth.id, description=description, created_by=_user(user))
    except FaceWatchlistError as exc:
        fail(str(exc))
    _audit(
        db,
        AuditAction.WATCHLIST_CHANGE,
        user=_user(user),
        target=wl.id,
        justification=f"under {auth.authority} {auth.reference}",
        details={"change": "created", "name": wl.name, "version": wl.version},
    )
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
    from safecity.governance.audit import AuditAction
    from safecity.store.face_watchlists import FaceWatchlistError
    from safecity.watch.face_enrolment import enrol_photos

    s = settings()
    limits = _checked_photos(s, photo)
    db = open_db(s)
    store = _watchlist_store(s, db)
    try:
        wl = store.get(watchlist)
        person = enrol_photos(_analyser(s), store, wl.id, label, photo, note=note, limits=limits)
    except (FacePhotoError, FaceWatchlistError) as exc:
        fail(str(exc))
    _audit(
        db,
        AuditAction.WATCHLIST_CHANGE,
        user=_user(user),
        target=f"{wl.id}/{person.id}",
        details={"change": "enrolled", "label": person.label, "photos": len(photo)},
    )
    out.print(f"enrolled {person.label!r} ({len(person.photos)} photos) on {wl.name!r} as {person.id}")


@watchlist_app.command("list")
def watchlist_list(
    watchlist: Annotated[str | None, typer.Argument(help="Show the persons of this watchlist.")] = None,
) -> None:
    """List face watchlists, or the persons enrolled on one."""
    from safecity.governance.audit import AuditAction
    from safecity.governance.permissions import Permission
    from safecity.store.face_watchlists import FaceWatchlistError

    s = settings()
    db = open_db(s)
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
            table.add_row(p.id, p.label, str(len(p.photos)), _shown_time(p.created_at), p.note)
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
    from safecity.governance.audit import AuditAction
    from safecity.store.face_watchlists import FaceWatchlistError

    s = settings()
    db = open_db(s)
    store = _watchlist_store(s, db)
    try:
        wl = store.get(watchlist)
        if person is not None:
            if person not in {p.id for p in store.persons(wl.id)}:
                fail(f"--person {person!r} is not enrolled on {wl.name!r}")
            removed = store.remove_person(person)
        else:
            removed = store.remove(wl.id)
    except FaceWatchlistError as exc:
        fail(str(exc))
    _audit(
        db,
        AuditAction.WATCHLIST_CHANGE,
        user=_user(user),
        target=wl.id if person is None else f"{wl.id}/{person}",
        details={
            "change": "removed",
            "persons": removed.persons,
            "photos": removed.photos,
            "alerts": removed.alerts,
            "vectors": removed.vectors,
        },
    )
    what = f"person {person} of" if person is not None else "watchlist"
    out.print(
        f"removed {what} {wl.name!r}: {removed.persons} persons, {removed.photos} photos, "
        f"{removed.alerts} alerts and {removed.vectors} face vectors kept for them deleted"
    )


@search_app.command("face")
def search_face_command(
    photo: Annotated[Path, typer.Argument(help="Photo of the person sought (one face).")],
    reason: Annotated[str, typer.Option(help="Why: case number and purpose. Recorded in the audit log.")],
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Only this camera (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Sightings at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Sightings before, ISO 8601 with offset.")] = None,
    k: Annotated[int | None, typer.Option("--top", help="Results (default faces.search_default_k).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Find the stored face sightings nearest to a photo (only sightings whose vectors were kept).

    Runs as the user of SAFECITY_TOKEN (else the console); refused without `search_face` or a reason.
    """
    from safecity.analytics.faces.analyser import FacePhotoError
    from safecity.governance.access import AccessDenied
    from safecity.search.faces import FaceSearchError, search_face
    from safecity.store.face_index import FaceIndex

    s = settings()
    top = k if k is not None else s.faces.search_default_k
    if not 1 <= top <= s.search.max_limit:
        fail(f"--top must be between 1 and {s.search.max_limit}, got {top}")
    start, end = _aware_time("--since", since), _aware_time("--until", until)
    limits = _checked_photos(s, [photo])
    db = open_db(s)
    index = FaceIndex(
        db,
        s.effective_face_index_path,
        ivf_min_vectors=s.faces.ivf_min_vectors,
        nprobe=s.faces.nprobe,
        oversample=s.faces.search_oversample,
    )
    try:
        result = search_face(
            photo,
            reason,
            analyser=_analyser(s),
            index=index,
            gate=access_gate(db, s),
            caller=cli_caller(db),
            k=top,
            camera_ids=camera or (),
            since=start,
            until=end,
            limits=limits,
        )
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    except (FacePhotoError, FaceSearchError) as exc:
        fail(str(exc))
    index.save()
    if as_json:
        for h in result.hits:
            print(
                json.dumps(
                    {
                        "sighting_id": h.sighting_id,
                        "camera_id": h.camera_id,
                        "time": h.timestamp.isoformat(),
                        "distance": round(h.distance, 4),
                        "match": h.distance <= s.faces.match_threshold,
                        "snapshot": h.snapshot,
                    }
                )
            )
        return
    table = Table(
        title=f"{len(result.hits)} nearest of {result.searched_vectors} stored face vectors "
        f"(audit entry {result.audit_seq}; match threshold {s.faces.match_threshold:g})"
    )
    for col in ("time (UTC)", "camera", "distance", "match", "sighting", "snapshot"):
        table.add_column(col)
    for h in result.hits:
        table.add_row(
            _shown_time(h.timestamp),
            h.camera_id,
            f"{h.distance:.3f}",
            "yes" if h.distance <= s.faces.match_threshold else "",
            h.sighting_id,
            h.snapshot,
        )
    out.print(table)


@faces_app.command("calibrate")
def faces_calibrate(
    directory: Annotated[
        Path, typer.Argument(help="Labelled photos: one sub-folder per person (at least 20 people).")
    ],
    method: Annotated[
        str, typer.Option(help="Score: cohort (distance less the margin to other faces) or distance.")
    ] = "cohort",
    user: Annotated[str | None, typer.Option(help="Who calibrates (default: the OS user).")] = None,
    justification: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Measure the watchlist decision on a city's own photos and make it the rule in force.

    Every person is enrolled from up to `faces.calibration_enrol` photos and every photo of every
    other person is compared with them; the impostor scores give the table that turns
    `faces.target_fpir` into a threshold for any number of enrolled people. The photos'
    embeddings (no names, no images) are kept as the cohort. Audited as a configuration change.
    """
    import numpy as np

    from safecity.analytics.faces.analyser import FacePhotoError, read_photo
    from safecity.eval.face_recogniser import EvalRecogniser
    from safecity.governance.audit import AuditAction
    from safecity.watch.face_calibration import calibrate, person_folders
    from safecity.watch.face_decision import METHODS, OpenSetRule

    if method not in METHODS:
        fail(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    s = settings()
    try:
        folders = person_folders(directory)
    except ValueError as exc:
        fail(str(exc))
    limits = _checked_photos(s, [p for photos in folders for p in photos])
    recogniser = EvalRecogniser(_analyser(s))
    people = []
    skipped = 0
    for photos in folders:
        vectors = []
        for path in photos:
            try:
                vector = recogniser.embed(read_photo(path, limits))
            except FacePhotoError as exc:
                fail(str(exc))
            if vector is None:
                skipped += 1
            else:
                vectors.append(vector)
        if vectors:
            people.append(np.stack(vectors))
    f = s.faces
    try:
        result = calibrate(
            people,
            method="cohort" if method == "cohort" else "distance",
            enrol=f.calibration_enrol,
            cohort_k=f.cohort_k,
            cohort_weight=f.cohort_weight,
            source=f"{directory.name}: {len(people)} people",
        )
    except ValueError as exc:
        fail(str(exc))
    path = s.effective_face_calibration_path
    result.save(path)
    rule = OpenSetRule(result, f.target_fpir)
    db = open_db(s)
    _audit(
        db,
        AuditAction.CONFIG_CHANGE,
        user=_user(user),
        target="faces.calibration",
        justification=justification,
        details={
            "change": "face calibration written",
            "path": str(path),
            "method": result.method,
            "persons": result.persons,
            "images": result.images,
            "photos_without_face": skipped,
            "comparisons": result.table.comparisons,
            "target_fpir": f.target_fpir,
        },
    )
    table = Table(title=f"Watchlist thresholds at FPIR {f.target_fpir:g} ({result.method} score)")
    table.add_column("people enrolled", justify="right")
    table.add_column("threshold", justify="right")
    for n in (1, 10, 100, 1000, 10000):
        table.add_row(f"{n:,}", f"{rule.threshold(n):.3f}")
    out.print(table)
    out.print(
        f"calibration written to {path}: {result.persons} people, {result.images} photos "
        f"({skipped} without a usable face), {result.table.comparisons:,} impostor comparisons"
    )
