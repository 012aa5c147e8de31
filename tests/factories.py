"""Small builders for records used across tests (not fixtures: plain functions, explicit arguments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.types import (
    BBox,
    BGRImage,
    Camera,
    Capability,
    FaceSighting,
    LineCrossing,
    MotionTrack,
    PlateRead,
    Site,
    context_box,
    new_id,
)

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def site(site_id: str = "site-1", lat: float = 44.8026, lon: float = 20.4664) -> Site:
    return Site(id=site_id, name=f"Site {site_id}", latitude=lat, longitude=lon, address="Slavija")


def camera(camera_id: str = "cam-1", site_id: str = "site-1", **changes: object) -> Camera:
    values: dict[str, object] = {
        "id": camera_id,
        "name": f"Camera {camera_id}",
        "site_id": site_id,
        "latitude": 44.8026,
        "longitude": 20.4664,
        "heading_deg": 90.0,
        "mount_height_m": 6.0,
        "operator": "City of Belgrade",
        "capabilities": frozenset({Capability.PLATES, Capability.MOTION}),
        "stream_url": "rtsp://user:secret@10.0.0.1/stream1",
        "retention_days": 30,
        "legal_basis": "Law on Internal Affairs, Art. 42",
    }
    values.update(changes)
    return Camera(**values)  # type: ignore[arg-type]


def motion_track(camera_id: str = "cam-1", offset_s: float = 0.0) -> MotionTrack:
    start = T0 + timedelta(seconds=offset_s)
    return MotionTrack(
        id=new_id(),
        camera_id=camera_id,
        timestamp=start,
        ended_at=start + timedelta(seconds=2),
        bbox=BBox(10, 20, 100, 50),
        confidence=0.9,
        track_id=7,
        path=((0.0, 60.0, 45.0), (1.0, 80.0, 45.0), (2.0, 100.0, 46.0)),
    )


def plate_read(camera_id: str = "cam-1") -> PlateRead:
    return PlateRead(
        id=new_id(),
        camera_id=camera_id,
        timestamp=T0,
        bbox=BBox(300, 400, 120, 30),
        confidence=0.95,
        text="BG 123-AB",
        normalised="BG123AB",
        country="RS",
        track_id=3,
        candidates=(("BG123AB", 0.95), ("BG128AB", 0.4)),
    )


def face_sighting(camera_id: str = "cam-1") -> FaceSighting:
    return FaceSighting(
        id=new_id(),
        camera_id=camera_id,
        timestamp=T0,
        bbox=BBox(50, 60, 80, 80),
        confidence=0.8,
        quality=0.7,
        track_id=4,
        embedding=tuple(float(i) / 128 for i in range(128)),
    )


def line_crossing(camera_id: str = "cam-1") -> LineCrossing:
    return LineCrossing(
        id=new_id(),
        camera_id=camera_id,
        timestamp=T0,
        bbox=BBox(5, 5, 50, 50),
        confidence=1.0,
        line_name="stop-line",
        direction="in",
        object_class="vehicle",
        track_id=9,
    )


def stored_face_alert(
    db: Database, media: MediaStore, frame: BGRImage, face: BBox, camera_id: str = "cam-1"
) -> str:
    """A face-match alert as the pipeline stores it: the sighting, its snapshot file, the evidence.

    `frame` is the camera image with the matched `face` in it; the snapshot is the crop the
    pipeline keeps around a face (`store.snapshot_margin` plus the probe's extra context).
    Returns the alert id.
    """
    from safecity.config import StoreSettings
    from safecity.store.models import AlertRow, FaceSightingRow
    from safecity.types import PROBE_EXTRA_MARGIN

    sighting_id, alert_id = new_id(), new_id()
    margin = StoreSettings().snapshot_margin + PROBE_EXTRA_MARGIN
    probe = media.save_snapshot(camera_id, T0, sighting_id, frame, context_box(face, frame.shape, margin))
    photo = media.save_snapshot(
        "watchlists", T0, f"photo-{alert_id}", frame, context_box(face, frame.shape, 0.6)
    )
    evidence = {
        "sighting_id": sighting_id,
        "entry_id": "person-1",
        "probe_ref": probe,
        "photo_ref": photo,
        "label": "Person of interest",
        "distance": 0.21,
        "threshold": 0.4,
        "watchlist_version": 3,
        "authorisation_id": "auth-1",
        "authorisation_reference": "K-7/2026",
        "camera_id": camera_id,
        "seen_at": T0.isoformat(),
    }
    with db.session() as session:
        session.add(
            FaceSightingRow(
                id=sighting_id,
                camera_id=camera_id,
                ts=T0,
                x=face.x,
                y=face.y,
                w=face.w,
                h=face.h,
                confidence=0.9,
                quality=0.8,
                track_id=1,
                snapshot=probe,
            )
        )
        session.add(
            AlertRow(
                id=alert_id,
                kind="face_watchlist",
                camera_id=camera_id,
                ts=T0,
                message="face watchlist match: Person of interest",
                observation_id=sighting_id,
                watchlist_id=None,
                score=0.21,
                status="new",
                evidence=evidence,
            )
        )
    return alert_id


def stored_plate_alert(db: Database, media: MediaStore, frame: BGRImage, camera_id: str = "cam-1") -> str:
    """A plate-hotlist alert with its plate read and snapshot; returns the alert id."""
    from safecity.store.models import AlertRow, PlateReadRow

    read_id, alert_id = new_id(), new_id()
    snapshot = media.save_snapshot(camera_id, T0, read_id, frame)
    with db.session() as session:
        session.add(
            PlateReadRow(
                id=read_id,
                camera_id=camera_id,
                ts=T0,
                x=0,
                y=0,
                w=10,
                h=10,
                confidence=0.9,
                track_id=1,
                snapshot=snapshot,
                text="BG 123-AB",
                normalised="BG123AB",
                confusion_key="",
                country="RS",
                candidates=[],
            )
        )
        session.add(
            AlertRow(
                id=alert_id,
                kind="plate_hotlist",
                camera_id=camera_id,
                ts=T0,
                message="hotlisted plate BG123AB",
                observation_id=read_id,
                status="new",
            )
        )
    return alert_id
