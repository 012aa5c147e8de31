"""Enrolling a person on a face watchlist from photos, and turning face matches into stored alerts.

Each photo must show exactly one usable face (`FaceAnalyser.single_face` says what is wrong with
one that does not). With several photos the template is their mean, so one photo must not be of
someone else: a photo further than `faces.enrol_consistency` from the mean of the others is
refused, naming it, before anything is stored. What is stored per photo is the face with some
context around it, not the whole picture: nobody else in the photo is enrolled by accident.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select

from safecity.analytics.faces.analyser import FaceAnalyser, FacePhotoError, read_photo
from safecity.analytics.image_header import DEFAULT_LIMITS, ImageLimits, ImageRefused, check_image_file
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.users import SYSTEM
from safecity.store.face_watchlists import FaceWatchlistStore, PhotoToEnrol, StoredFaceAlert, face_match_alert
from safecity.store.models import AlertRow
from safecity.types import Alert, AlertKind, BBox, RGBImage, WatchlistPerson, context_box
from safecity.watch.faces import FaceMatchEvent

PHOTO_CONTEXT = 0.6
"""Share of the face size kept around it in the stored enrolment photo."""


@dataclass(frozen=True, slots=True, eq=False)
class PreparedPhoto:
    name: str
    photo: PhotoToEnrol


def prepare_photo(analyser: FaceAnalyser, image: RGBImage, name: str) -> PreparedPhoto:
    """The face of one reference photo, embedded and cropped with context (FacePhotoError if unusable)."""
    ref = analyser.single_face(image, what=name)
    box = context_box(ref.face.bbox, ref.image.shape, PHOTO_CONTEXT)
    crop = ref.image[box.y : box.y + box.h, box.x : box.x + box.w]
    face = ref.face.bbox
    inside = BBox(face.x - box.x, face.y - box.y, face.w, face.h)
    assert ref.face.embedding is not None
    bgr = np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), dtype=np.uint8)
    return PreparedPhoto(name, PhotoToEnrol(bgr, inside, ref.face.embedding, ref.face.quality.score))


def check_consistency(photos: Sequence[PreparedPhoto], limit: float) -> None:
    """Refuse a set of photos in which one is far from the mean of the others (another person?)."""
    if len(photos) < 2:
        return
    vectors = np.stack([p.photo.embedding for p in photos])
    for i, p in enumerate(photos):
        others = np.delete(vectors, i, axis=0).mean(axis=0)
        distance = float(np.linalg.norm(vectors[i] - others))
        if distance > limit:
            raise FacePhotoError(
                f"{p.name}: the face is {distance:.2f} from the other photos' mean (limit {limit:g}); "
                "is it the same person?"
            )


def enrol_photos(
    analyser: FaceAnalyser,
    store: FaceWatchlistStore,
    watchlist: str,
    label: str,
    paths: Sequence[Path],
    *,
    note: str = "",
    limits: ImageLimits = DEFAULT_LIMITS,
) -> WatchlistPerson:
    """Enrol `label` on `watchlist` from photo files; nothing is stored unless every photo is usable.

    Every photo's header is checked against `limits` before any photo is decoded or analysed."""
    if not paths:
        raise FacePhotoError("give at least one photo")
    for p in paths:
        try:
            check_image_file(p, limits)
        except ImageRefused as exc:
            raise FacePhotoError(str(exc)) from None
    prepared = [prepare_photo(analyser, read_photo(p, limits), str(p)) for p in paths]
    check_consistency(prepared, analyser.settings.enrol_consistency)
    return store.enrol(watchlist, label, [p.photo for p in prepared], note=note)


class FaceAlerter:
    """Stores an alert, with its evidence, for each face match the pipeline reports.

    Each match is also the record of one use of real-time biometric identification (AI Act Art.
    12(3)): the audit entry, written in the alert's transaction, names the reference watchlist and
    its version, the authorisation and its window, and the input that matched (the sighting and the
    SHA-256 of its probe crop). The persons who verify it are recorded when they confirm.

    A person who stays in view, or walks past again and again, matches on every pass: a match of
    the same enrolled person on the same camera within `repeat_s` seconds of that person's last
    alert there raises no new alert (`faces.alert_repeat_s`), so operators see one alert to decide
    on, not one a minute. The window counts from the last alert raised, by sighting time, so a
    person who is still there after the window raises the next one.
    """

    def __init__(self, store: FaceWatchlistStore, repeat_s: float = 0.0) -> None:
        if repeat_s < 0:
            raise ValueError(f"repeat_s must be 0 or more seconds, got {repeat_s}")
        self.store = store
        self.audit = AuditLog(store.db)
        self.repeat = timedelta(seconds=repeat_s)

    def new_matches(self, events: Sequence[FaceMatchEvent]) -> list[FaceMatchEvent]:
        """The events that raise an alert: not within the repeat window of an earlier alert (stored,
        or raised by an earlier event in `events`) for the same person on the same camera."""
        if not self.repeat:
            return list(events)
        last: dict[tuple[str, str], datetime] = {}
        kept = []
        for event in sorted(events, key=lambda e: e.sighting.timestamp):
            template, at = event.match.template, event.sighting.timestamp
            key = (template.entry_id, event.sighting.camera_id)
            before = last.get(key) or self._last_alert(template.watchlist_id, *key, at)
            if before is not None and at - before < self.repeat:
                continue
            kept.append(event)
            last[key] = at
        return kept

    def _last_alert(self, watchlist_id: str, entry_id: str, camera_id: str, at: datetime) -> datetime | None:
        """When the newest stored alert for `entry_id` on `camera_id` within the window before `at` was."""
        query = (
            select(AlertRow.ts, AlertRow.evidence)
            .where(AlertRow.kind == AlertKind.FACE_WATCHLIST.value)
            .where(AlertRow.camera_id == camera_id)
            .where(AlertRow.watchlist_id == watchlist_id)
            .where(AlertRow.ts > at - self.repeat)
            .where(AlertRow.ts <= at)
            .order_by(AlertRow.ts.desc())
        )
        with self.store.db.read_session() as session:
            for ts, evidence in session.execute(query):
                if isinstance(evidence, dict) and evidence.get("entry_id") == entry_id:
                    found: datetime = ts
                    return found
        return None

    def save(self, events: Sequence[FaceMatchEvent]) -> list[Alert]:
        events = self.new_matches(events)
        alerts: list[StoredFaceAlert] = [
            face_match_alert(
                e.sighting,
                e.match.template,
                e.match.distance,
                e.match.threshold,
                e.probe_ref,
                score=e.match.score,
                method=e.match.method,
                target_fpir=e.match.target_fpir,
            )
            for e in events
        ]
        if not alerts:
            return []
        with self.store.db.session() as session:
            self.store.save_face_alerts(alerts, session=session)
            for event, stored in zip(events, alerts, strict=True):
                self.audit.record(
                    AuditAction.FACE_MATCH,
                    username=SYSTEM,
                    role=SYSTEM,
                    target=stored.alert.id,
                    details=self._use(event, stored),
                    session=session,
                )
        return [a.alert for a in alerts]

    def _use(self, event: FaceMatchEvent, stored: StoredFaceAlert) -> dict[str, object]:
        template = event.match.template
        auth = template.authorisation
        probe = self.store.media.path(event.probe_ref) if event.probe_ref else None
        return {
            "watchlist_id": template.watchlist_id,
            "watchlist_version": template.watchlist_version,
            "authorisation_id": auth.id,
            "authorisation_reference": auth.reference,
            "use_started": auth.valid_from.isoformat(),
            "use_ends": auth.valid_until.isoformat(),
            "camera_id": event.sighting.camera_id,
            "seen_at": event.sighting.timestamp.isoformat(),
            "input_sighting_id": event.sighting.id,
            "input_sha256": hashlib.sha256(probe.read_bytes()).hexdigest()
            if probe is not None and probe.is_file()
            else None,
            "distance": round(float(event.match.distance), 4),
            "threshold": float(event.match.threshold),
            "score": None if event.match.score is None else round(float(event.match.score), 4),
            "method": event.match.method,
            "target_fpir": event.match.target_fpir,
            "verified_by": [],
        }
