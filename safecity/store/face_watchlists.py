"""Face watchlists: enrolled persons and photos under an authorisation, their templates, match alerts.

A face watchlist is a `watchlists` row of kind "face" that must name an authorisation: the
authorisation decides where, when and until when its persons may be matched. Each person is a
`watchlist_entries` row with a template; each enrolled photo a `watchlist_photos` row with its
embedding, face box and image (JPEG in the media store under `watchlists/<watchlist id>/`).

The template is the mean of the person's photo embeddings. That is how dlib's face recognition
is usually given several photos of one person (its embeddings are trained so that one person's
faces cluster round a centre), and averaging damps a single bad photo (blur, angle, glasses)
instead of letting it decide alone. Adding photos recomputes the mean from every stored photo.

Every change (enrolment, more photos, removal of a person) increments the watchlist's version:
the AI Act log of a match must name the reference watchlist and its version, and an alert's
evidence keeps the version it matched against.

Deletion is real: removing a person or a list deletes their rows, their photo files and the
face-match alerts that refer to them (alerts of a person are found through their evidence).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from safecity.store.alerts import alert_from_row, alert_row
from safecity.store.authorisations import authorisation_from_row
from safecity.store.database import Database
from safecity.store.field_limits import WATCHLIST, WATCHLIST_ENTRY
from safecity.store.media import MediaStore
from safecity.store.models import (
    AlertRow,
    AuthorisationRow,
    CameraRow,
    FaceVectorRow,
    WatchlistEntryRow,
    WatchlistPhotoRow,
    WatchlistRow,
    utcnow,
)
from safecity.store.observations import vector_from_bytes, vector_to_bytes
from safecity.types import (
    Alert,
    AlertKind,
    BBox,
    BGRImage,
    EnrolledPhoto,
    FaceSighting,
    FaceTemplate,
    FaceWatchlist,
    WatchlistPerson,
    new_id,
)

FACE_KIND = "face"
MAX_NAME_LEN = WATCHLIST["name"]
MAX_LABEL_LEN = WATCHLIST_ENTRY["label"]
MAX_DESCRIPTION_LEN = WATCHLIST["description"]
MAX_NOTE_LEN = WATCHLIST_ENTRY["note"]


class FaceWatchlistError(ValueError):
    """A face watchlist change that cannot be made; the message says why."""


@dataclass(frozen=True, slots=True, eq=False)
class PhotoToEnrol:
    """A photo to enrol: the image to keep, where the face is in it, its embedding and quality."""

    image: BGRImage = field(repr=False)
    """BGR uint8 image (a face crop or the whole photo), stored as a JPEG."""
    bbox: BBox
    """The face in `image`, in its pixel coordinates."""
    embedding: npt.NDArray[np.float32] = field(repr=False)
    """FACE_EMBEDDING_DIM values from the same model that embeds camera sightings."""
    quality: float


@dataclass(frozen=True, slots=True)
class FaceEvidence:
    """What a face-match alert stores beside the alert, so it can be judged (and audited) without a join."""

    sighting_id: str
    entry_id: str
    probe_ref: str
    """Media reference of the sighting's face crop."""
    photo_ref: str
    """Media reference of the enrolled photo it was matched with."""
    label: str
    distance: float
    threshold: float
    watchlist_version: int
    authorisation_id: str
    authorisation_reference: str
    camera_id: str
    seen_at: str
    """ISO time of the sighting."""
    score: float | None = None
    """What the threshold judged: the distance, or with the cohort score the distance less the
    probe's margin to other people's faces (None on alerts stored before scores existed)."""
    method: str = "distance"
    target_fpir: float | None = None
    """The false-positive identification rate the threshold was chosen for."""


@dataclass(frozen=True, slots=True)
class StoredFaceAlert:
    alert: Alert
    evidence: FaceEvidence


@dataclass(frozen=True, slots=True)
class Removal:
    """What a removal deleted."""

    persons: int = 0
    photos: int = 0
    media_files: int = 0
    alerts: int = 0
    vectors: int = 0
    """Face vectors that were kept only because they matched the removed list or person."""
    vector_keys: tuple[int, ...] = ()
    """Their `face_vectors` keys: the face search index drops them too."""


def face_match_alert(
    sighting: FaceSighting,
    template: FaceTemplate,
    distance: float,
    threshold: float,
    probe_ref: str | None = None,
    alert_id: str | None = None,
    *,
    score: float | None = None,
    method: str = "distance",
    target_fpir: float | None = None,
) -> StoredFaceAlert:
    """The alert and evidence for `sighting` matching `template` at `distance`, its `score`
    (the distance itself unless given) at or below `threshold`."""
    judged = float(distance) if score is None else float(score)
    evidence = FaceEvidence(
        sighting_id=sighting.id,
        entry_id=template.entry_id,
        probe_ref=sighting.snapshot if probe_ref is None else probe_ref,
        photo_ref=template.photo_ref,
        label=template.label,
        distance=float(distance),
        threshold=float(threshold),
        watchlist_version=template.watchlist_version,
        authorisation_id=template.authorisation.id,
        authorisation_reference=template.authorisation.reference,
        camera_id=sighting.camera_id,
        seen_at=sighting.timestamp.isoformat(),
        score=judged,
        method=method,
        target_fpir=None if target_fpir is None else float(target_fpir),
    )
    verdict = (
        f"at distance {distance:.3f} <= {threshold:.3f}"
        if method == "distance"
        else f"at distance {distance:.3f} ({method} score {judged:.3f} <= {threshold:.3f})"
    )
    alert = Alert(
        id=alert_id or new_id(),
        kind=AlertKind.FACE_WATCHLIST,
        camera_id=sighting.camera_id,
        timestamp=sighting.timestamp,
        message=(f"{template.label} ({template.watchlist_name} v{template.watchlist_version}) {verdict}"),
        observation_id=sighting.id,
        watchlist_id=template.watchlist_id,
        score=float(distance),
    )
    return StoredFaceAlert(alert=alert, evidence=evidence)


def watchlist_from_row(row: WatchlistRow) -> FaceWatchlist:
    return FaceWatchlist(
        id=row.id,
        name=row.name,
        authorisation_id=row.authorisation_id or "",
        description=row.description,
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _photo_from_row(row: WatchlistPhotoRow) -> EnrolledPhoto:
    return EnrolledPhoto(
        id=row.id,
        entry_id=row.entry_id,
        media_ref=row.media_ref,
        bbox=BBox(row.x, row.y, row.w, row.h),
        quality=row.quality,
    )


def _person_from_rows(entry: WatchlistEntryRow, photos: Sequence[WatchlistPhotoRow]) -> WatchlistPerson:
    return WatchlistPerson(
        id=entry.id,
        watchlist_id=entry.watchlist_id,
        label=entry.label,
        note=entry.note,
        created_at=entry.created_at,
        photos=tuple(_photo_from_row(p) for p in photos),
    )


def _check_photo(index: int, photo: PhotoToEnrol) -> bytes:
    """The photo's embedding in stored form; FaceWatchlistError naming the photo if it is unusable."""
    image = photo.image
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise FaceWatchlistError(f"photo {index + 1}: the image must be a BGR uint8 array (height, width, 3)")
    if image.size == 0:
        raise FaceWatchlistError(f"photo {index + 1}: the image is empty")
    if photo.bbox.w <= 0 or photo.bbox.h <= 0:
        raise FaceWatchlistError(f"photo {index + 1}: the face box is empty")
    if not math.isfinite(photo.quality):
        raise FaceWatchlistError(f"photo {index + 1}: quality must be a finite number")
    try:
        return vector_to_bytes(photo.embedding)
    except ValueError as exc:
        raise FaceWatchlistError(f"photo {index + 1}: {exc}") from exc


def _template(embeddings: Sequence[bytes]) -> bytes:
    """The mean of the photo embeddings (see the module docstring for why the mean)."""
    stacked = np.stack([vector_from_bytes(e).astype(np.float64) for e in embeddings])
    return vector_to_bytes(stacked.mean(axis=0).astype(np.float32))


class FaceWatchlistStore:
    """Creates face watchlists, enrols persons, serves templates to the matcher, stores its alerts."""

    def __init__(self, db: Database, media: MediaStore) -> None:
        self.db = db
        self.media = media

    # ------------------------------------------------------------ lists

    def create(
        self,
        name: str,
        authorisation_id: str,
        description: str = "",
        created_by: str = "",
        now: datetime | None = None,
    ) -> FaceWatchlist:
        """A new, empty face watchlist (version 1) under an approved, unexpired authorisation."""
        now = now or utcnow()
        name = name.strip()
        if not name:
            raise FaceWatchlistError("a watchlist needs a name")
        if len(name) > MAX_NAME_LEN:
            raise FaceWatchlistError(f"watchlist name is longer than {MAX_NAME_LEN} characters")
        if len(description) > MAX_DESCRIPTION_LEN:
            raise FaceWatchlistError(
                f"watchlist description is longer than {MAX_DESCRIPTION_LEN} characters ({len(description)})"
            )
        with self.db.session() as session:
            auth = session.get(AuthorisationRow, authorisation_id)
            if auth is None:
                raise FaceWatchlistError(f"no authorisation with id {authorisation_id!r}")
            if not authorisation_from_row(auth).in_force(now) and auth.expires_at > now:
                raise FaceWatchlistError(
                    f"authorisation {auth.reference} is {auth.status}, not approved (nor urgent use in time)"
                )
            if auth.expires_at <= now:
                raise FaceWatchlistError(
                    f"authorisation {auth.reference} expired at {auth.expires_at.isoformat()}"
                )
            if session.scalar(select(WatchlistRow.id).where(WatchlistRow.name == name)) is not None:
                raise FaceWatchlistError(f"a watchlist named {name!r} already exists")
            row = WatchlistRow(
                id=new_id(),
                name=name,
                kind=FACE_KIND,
                authorisation_id=auth.id,
                description=description.strip(),
                version=1,
                created_by=created_by.strip(),
                created_at=now,
            )
            session.add(row)
            session.flush()
            return watchlist_from_row(row)

    def list_watchlists(self) -> list[FaceWatchlist]:
        query = select(WatchlistRow).where(WatchlistRow.kind == FACE_KIND)
        with self.db.session() as session:
            rows = session.scalars(query.order_by(WatchlistRow.created_at, WatchlistRow.id))
            return [watchlist_from_row(r) for r in rows]

    def get(self, watchlist: str) -> FaceWatchlist:
        """A face watchlist by id or, failing that, by name."""
        with self.db.session() as session:
            return watchlist_from_row(self._watchlist(session, watchlist))

    def remove(self, watchlist_id: str) -> Removal:
        """Delete a watchlist with its persons, photos (rows and files) and face-match alerts."""
        with self.db.session() as session:
            wl = self._watchlist(session, watchlist_id)
            entry_ids = list(
                session.scalars(select(WatchlistEntryRow.id).where(WatchlistEntryRow.watchlist_id == wl.id))
            )
            refs = self._photo_refs(session, entry_ids)
            of_list = (AlertRow.watchlist_id == wl.id, AlertRow.kind == AlertKind.FACE_WATCHLIST.value)
            alert_ids = list(session.scalars(select(AlertRow.id).where(*of_list)))
            keys = self._forget_match_vectors(session, alert_ids)
            session.execute(delete(AlertRow).where(*of_list))
            self._delete_entries(session, entry_ids)
            session.delete(wl)
        # Files go once the rows are gone for good: a failed transaction leaves both in place.
        files = sum(self.media.delete(ref) for ref in refs)
        return Removal(
            persons=len(entry_ids),
            photos=len(refs),
            media_files=files,
            alerts=len(alert_ids),
            vectors=len(keys),
            vector_keys=keys,
        )

    # ------------------------------------------------------------ persons

    def enrol(
        self,
        watchlist_id: str,
        label: str,
        photos: Sequence[PhotoToEnrol],
        note: str = "",
        now: datetime | None = None,
    ) -> WatchlistPerson:
        """Enrol a person from photos, or add photos to the person with this label; version + 1."""
        now = now or utcnow()
        label = label.strip()
        if not label:
            raise FaceWatchlistError("an enrolled person needs a label")
        if len(label) > MAX_LABEL_LEN:
            raise FaceWatchlistError(f"label is longer than {MAX_LABEL_LEN} characters")
        if len(note) > MAX_NOTE_LEN:
            raise FaceWatchlistError(f"note is longer than {MAX_NOTE_LEN} characters ({len(note)})")
        if not photos:
            raise FaceWatchlistError("enrolment needs at least one photo")
        embeddings = [_check_photo(i, p) for i, p in enumerate(photos)]
        wl = self.get(watchlist_id)
        photo_ids = [new_id() for _ in photos]
        refs: list[str] = []
        try:
            for photo_id, photo in zip(photo_ids, photos, strict=True):
                refs.append(self.media.save_snapshot(f"watchlists/{wl.id}", now, photo_id, photo.image))
            return self._enrol_rows(wl.id, label, note.strip(), photos, photo_ids, refs, embeddings, now)
        except BaseException:
            for ref in refs:  # nothing of a failed enrolment stays behind
                self.media.delete(ref)
            raise

    def persons(self, watchlist_id: str) -> list[WatchlistPerson]:
        with self.db.session() as session:
            wl = self._watchlist(session, watchlist_id)
            entries = list(
                session.scalars(
                    select(WatchlistEntryRow)
                    .where(WatchlistEntryRow.watchlist_id == wl.id)
                    .order_by(WatchlistEntryRow.created_at, WatchlistEntryRow.id)
                )
            )
            photos = self._photos_by_entry(session, [e.id for e in entries])
            return [_person_from_rows(e, photos.get(e.id, [])) for e in entries]

    def remove_person(self, entry_id: str) -> Removal:
        """Delete one person with their photos (rows and files) and their face-match alerts; version + 1."""
        with self.db.session() as session:
            entry = session.get(WatchlistEntryRow, entry_id)
            if entry is None:
                raise FaceWatchlistError(f"no enrolled person with id {entry_id!r}")
            wl = self._watchlist(session, entry.watchlist_id)
            refs = self._photo_refs(session, [entry.id])
            # A person's alerts are known by the entry id in their evidence; a list's alerts are few
            # enough to read, and JSON queries differ between SQLite and PostgreSQL.
            alert_rows = session.execute(
                select(AlertRow.id, AlertRow.evidence).where(
                    AlertRow.watchlist_id == wl.id, AlertRow.kind == AlertKind.FACE_WATCHLIST.value
                )
            ).all()
            alert_ids = [a for a, ev in alert_rows if (ev or {}).get("entry_id") == entry.id]
            keys = self._forget_match_vectors(session, alert_ids)
            if alert_ids:
                session.execute(delete(AlertRow).where(AlertRow.id.in_(alert_ids)))
            self._delete_entries(session, [entry.id])
            self._bump_version(session, wl.id)
        files = sum(self.media.delete(ref) for ref in refs)
        return Removal(
            persons=1,
            photos=len(refs),
            media_files=files,
            alerts=len(alert_ids),
            vectors=len(keys),
            vector_keys=keys,
        )

    @staticmethod
    def _forget_match_vectors(session: Session, alert_ids: Sequence[str]) -> tuple[int, ...]:
        """Delete the vectors of sightings that were kept only because of these (removed) matches;
        returns their keys.

        A sighting's vector is kept when it matched or when its camera's policy retains vectors;
        once the match is gone, and no other alert points at the sighting, the first reason is
        gone too. The sighting itself (time, place, blurred crop) stays, as for any passer-by.
        """
        keys = _match_only_vector_keys(session, alert_ids)
        if keys:
            session.execute(delete(FaceVectorRow).where(FaceVectorRow.key.in_(keys)))
        return keys

    # ------------------------------------------------------------ matching

    def templates_in_force(self, now: datetime | None = None) -> list[FaceTemplate]:
        """Templates of watchlists whose authorisation is in force at `now` (`Authorisation.in_force`).

        Camera and time scope are left to the matcher: it checks `Authorisation.covers` per sighting.
        """
        now = now or utcnow()
        query = (
            select(WatchlistEntryRow, WatchlistRow, AuthorisationRow)
            .join(WatchlistRow, WatchlistRow.id == WatchlistEntryRow.watchlist_id)
            .join(AuthorisationRow, AuthorisationRow.id == WatchlistRow.authorisation_id)
            .where(
                WatchlistRow.kind == FACE_KIND,
                WatchlistEntryRow.template.is_not(None),
                # Approved, or urgent use still inside its approval deadline (Authorisation.in_force).
                or_(
                    AuthorisationRow.status == "approved",
                    and_(
                        AuthorisationRow.status == "pending",
                        AuthorisationRow.urgent.is_(True),
                        AuthorisationRow.approval_deadline > now,
                    ),
                ),
                AuthorisationRow.expires_at > now,
            )
            .order_by(WatchlistRow.name, WatchlistEntryRow.created_at, WatchlistEntryRow.id)
        )
        with self.db.session() as session:
            rows = session.execute(query).all()
            photos = self._photos_by_entry(session, [entry.id for entry, _, _ in rows])
            templates = []
            for entry, wl, auth in rows:
                assert entry.template is not None  # filtered in the query
                best = max(photos.get(entry.id, []), key=lambda p: p.quality, default=None)
                templates.append(
                    FaceTemplate(
                        entry_id=entry.id,
                        watchlist_id=wl.id,
                        watchlist_name=wl.name,
                        watchlist_version=wl.version,
                        label=entry.label,
                        vector=tuple(float(v) for v in vector_from_bytes(entry.template)),
                        photos=tuple(
                            tuple(float(v) for v in vector_from_bytes(p.embedding))
                            for p in photos.get(entry.id, [])
                        ),
                        photo_ref=best.media_ref if best is not None else "",
                        authorisation=authorisation_from_row(auth),
                    )
                )
            return templates

    def save_face_alerts(self, alerts: Sequence[StoredFaceAlert], session: Session | None = None) -> None:
        """Store face-match alerts with their evidence, in one transaction (`session`'s when given)."""
        if not alerts:
            return
        for stored in alerts:
            if stored.alert.kind is not AlertKind.FACE_WATCHLIST:
                kind = stored.alert.kind
                raise FaceWatchlistError(f"alert {stored.alert.id} is a {kind} alert, not a face match")
            if stored.alert.watchlist_id is None:
                raise FaceWatchlistError(f"face alert {stored.alert.id} names no watchlist")
        rows = [alert_row(s.alert, evidence=asdict(s.evidence)) for s in alerts]
        if session is not None:
            session.execute(insert(AlertRow), rows)
            return
        with self.db.session() as own:
            own.execute(insert(AlertRow), rows)

    def face_alerts(self, watchlist_id: str | None = None) -> list[StoredFaceAlert]:
        """Stored face-match alerts (of one watchlist, or all), oldest first."""
        query = select(AlertRow).where(AlertRow.kind == AlertKind.FACE_WATCHLIST.value)
        if watchlist_id is not None:
            query = query.where(AlertRow.watchlist_id == watchlist_id)
        with self.db.session() as session:
            return [_stored_alert(r) for r in session.scalars(query.order_by(AlertRow.ts, AlertRow.id))]

    # ------------------------------------------------------------ helpers

    def _enrol_rows(
        self,
        watchlist_id: str,
        label: str,
        note: str,
        photos: Sequence[PhotoToEnrol],
        photo_ids: Sequence[str],
        refs: Sequence[str],
        embeddings: Sequence[bytes],
        now: datetime,
    ) -> WatchlistPerson:
        with self.db.session() as session:
            entry = session.scalar(
                select(WatchlistEntryRow).where(
                    WatchlistEntryRow.watchlist_id == watchlist_id, WatchlistEntryRow.label == label
                )
            )
            if entry is None:
                entry = WatchlistEntryRow(
                    id=new_id(), watchlist_id=watchlist_id, label=label, note=note, created_at=now
                )
                session.add(entry)
                session.flush()
            elif note:
                entry.note = note
            session.execute(
                insert(WatchlistPhotoRow),
                [
                    {
                        "id": photo_id,
                        "entry_id": entry.id,
                        "media_ref": ref,
                        "embedding": emb,
                        "x": photo.bbox.x,
                        "y": photo.bbox.y,
                        "w": photo.bbox.w,
                        "h": photo.bbox.h,
                        "quality": float(photo.quality),
                        "created_at": now,
                    }
                    for photo_id, ref, emb, photo in zip(photo_ids, refs, embeddings, photos, strict=True)
                ],
            )
            stored = self._photos_by_entry(session, [entry.id]).get(entry.id, [])
            entry.template = _template([p.embedding for p in stored])
            self._bump_version(session, watchlist_id)
            session.flush()
            return _person_from_rows(entry, stored)

    @staticmethod
    def _watchlist(session: Session, ref: str) -> WatchlistRow:
        row = session.get(WatchlistRow, ref)
        if row is None:
            row = session.scalar(select(WatchlistRow).where(WatchlistRow.name == ref.strip()))
        if row is None or row.kind != FACE_KIND:
            raise FaceWatchlistError(f"no face watchlist with id or name {ref!r}")
        return row

    @staticmethod
    def _photos_by_entry(session: Session, entry_ids: Sequence[str]) -> dict[str, list[WatchlistPhotoRow]]:
        out: dict[str, list[WatchlistPhotoRow]] = {}
        if not entry_ids:
            return out
        query = (
            select(WatchlistPhotoRow)
            .where(WatchlistPhotoRow.entry_id.in_(entry_ids))
            .order_by(WatchlistPhotoRow.created_at, WatchlistPhotoRow.id)
        )
        for photo in session.scalars(query):
            out.setdefault(photo.entry_id, []).append(photo)
        return out

    @staticmethod
    def _photo_refs(session: Session, entry_ids: Sequence[str]) -> list[str]:
        if not entry_ids:
            return []
        query = select(WatchlistPhotoRow.media_ref).where(WatchlistPhotoRow.entry_id.in_(entry_ids))
        return list(session.scalars(query))

    @staticmethod
    def _delete_entries(session: Session, entry_ids: Sequence[str]) -> None:
        if not entry_ids:
            return
        # Photos explicitly, not by cascade alone: the ORM session must not keep stale rows.
        session.execute(delete(WatchlistPhotoRow).where(WatchlistPhotoRow.entry_id.in_(entry_ids)))
        session.execute(delete(WatchlistEntryRow).where(WatchlistEntryRow.id.in_(entry_ids)))

    @staticmethod
    def _bump_version(session: Session, watchlist_id: str) -> None:
        session.execute(
            update(WatchlistRow)
            .where(WatchlistRow.id == watchlist_id)
            .values(version=WatchlistRow.version + 1)
            .execution_options(synchronize_session=False)
        )


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _stored_alert(row: AlertRow) -> StoredFaceAlert:
    data: dict[str, Any] = dict(row.evidence or {})
    evidence = FaceEvidence(
        sighting_id=str(data.get("sighting_id", "")),
        entry_id=str(data.get("entry_id", "")),
        probe_ref=str(data.get("probe_ref", "")),
        photo_ref=str(data.get("photo_ref", "")),
        label=str(data.get("label", "")),
        distance=float(data.get("distance", math.nan)),
        threshold=float(data.get("threshold", math.nan)),
        watchlist_version=int(data.get("watchlist_version", 0)),
        authorisation_id=str(data.get("authorisation_id", "")),
        authorisation_reference=str(data.get("authorisation_reference", "")),
        camera_id=str(data.get("camera_id", "")),
        seen_at=str(data.get("seen_at", "")),
        score=_optional_float(data.get("score")),
        method=str(data.get("method", "distance")),
        target_fpir=_optional_float(data.get("target_fpir")),
    )
    alert = alert_from_row(row)
    return StoredFaceAlert(alert=alert, evidence=evidence)


def _match_only_vector_keys(session: Session, alert_ids: Sequence[str]) -> tuple[int, ...]:
    """Keys of the vectors kept only because of these matches: of their sightings, those that no
    other alert points at and whose camera's policy does not retain vectors."""
    if not alert_ids:
        return ()
    sightings = set(
        session.scalars(
            select(AlertRow.observation_id).where(
                AlertRow.id.in_(alert_ids), AlertRow.observation_id.is_not(None)
            )
        )
    )
    if not sightings:
        return ()
    still_matched = set(
        session.scalars(
            select(AlertRow.observation_id).where(
                AlertRow.observation_id.in_(sightings), AlertRow.id.not_in(alert_ids)
            )
        )
    )
    drop = sightings - still_matched
    if not drop:
        return ()
    query = (
        select(FaceVectorRow.key)
        .outerjoin(CameraRow, CameraRow.id == FaceVectorRow.camera_id)
        .where(FaceVectorRow.sighting_id.in_(drop), CameraRow.retain_face_vectors.is_not(True))
        .order_by(FaceVectorRow.key)
    )
    return tuple(int(k) for k in session.scalars(query))


def ended_authorisations(now: datetime) -> ColumnElement[bool]:
    """The condition on `authorisations` rows that have ended at `now`, whether or not the sweep has
    stored it yet: refused, lapsed or expired, past their expiry, or urgent and past their approval
    deadline (`Authorisation.status_at`)."""
    return or_(
        AuthorisationRow.status.in_(("refused", "lapsed", "expired")),
        AuthorisationRow.expires_at <= now,
        and_(AuthorisationRow.status == "pending", AuthorisationRow.approval_deadline <= now),
    )


def vectors_of_ended_matches(session: Session, now: datetime) -> tuple[int, ...]:
    """Keys of the face vectors kept only for matches under authorisations ended at `now`.

    The sweep (`governance.authorisations.enforce`) deletes them, but it runs now and then; until it
    has, a face search leaves these out, so that an authorisation's end stops its use at once.
    """
    ended = select(AuthorisationRow.id).where(ended_authorisations(now))
    lists = select(WatchlistRow.id).where(WatchlistRow.authorisation_id.in_(ended))
    alert_ids = list(
        session.scalars(
            select(AlertRow.id).where(
                AlertRow.kind == AlertKind.FACE_WATCHLIST.value, AlertRow.watchlist_id.in_(lists)
            )
        )
    )
    return _match_only_vector_keys(session, alert_ids)
