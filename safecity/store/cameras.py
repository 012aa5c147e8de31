"""Camera and site persistence: the registry's records to rows and back, imports as one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update

from safecity.config import counting_from_json, counting_to_json
from safecity.store.database import Database
from safecity.store.models import OBSERVATION_TABLES, CameraRow, ProcessingRunRow, SiteRow, utcnow
from safecity.types import Camera, Capability, RecordingMode, Site


class CameraStoreError(ValueError):
    """A registry write that would break the store's invariants (unknown id, duplicate, data in use)."""


def _caps_to_text(caps: frozenset[Capability]) -> str:
    return ";".join(sorted(c.value for c in caps))


def _caps_from_text(text: str) -> frozenset[Capability]:
    return frozenset(Capability(c) for c in text.split(";") if c)


def camera_from_row(row: CameraRow) -> Camera:
    return Camera(
        id=row.id,
        name=row.name,
        site_id=row.site_id,
        latitude=row.latitude,
        longitude=row.longitude,
        heading_deg=row.heading_deg,
        mount_height_m=row.mount_height_m,
        operator=row.operator,
        capabilities=_caps_from_text(row.capabilities),
        stream_url=row.stream_url,
        retention_days=row.retention_days,
        legal_basis=row.legal_basis,
        enabled=row.enabled,
        zone=row.zone,
        camera_type=row.camera_type,
        retain_face_vectors=row.retain_face_vectors,
        counting=counting_from_json(row.counting),
        plate_countries=tuple(c for c in row.plate_countries.split(";") if c),
        recording=RecordingMode(row.recording),
    )


def _camera_values(camera: Camera) -> dict[str, object]:
    now = utcnow()
    return {
        "id": camera.id,
        "name": camera.name,
        "site_id": camera.site_id,
        "latitude": camera.latitude,
        "longitude": camera.longitude,
        "heading_deg": camera.heading_deg,
        "mount_height_m": camera.mount_height_m,
        "operator": camera.operator,
        "capabilities": _caps_to_text(camera.capabilities),
        "stream_url": camera.stream_url,
        "retention_days": camera.retention_days,
        "legal_basis": camera.legal_basis,
        "enabled": camera.enabled,
        "zone": camera.zone,
        "camera_type": camera.camera_type,
        "retain_face_vectors": camera.retain_face_vectors,
        "counting": counting_to_json(camera.counting),
        # In the registered order (most frequent first), which the reader may use to break ties.
        "plate_countries": ";".join(camera.plate_countries),
        "recording": str(camera.recording),
        "created_at": now,
        "updated_at": now,
    }


def _site_values(site: Site) -> dict[str, object]:
    return {
        "id": site.id,
        "name": site.name,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "address": site.address,
    }


def site_from_row(row: SiteRow) -> Site:
    return Site(id=row.id, name=row.name, latitude=row.latitude, longitude=row.longitude, address=row.address)


class CameraStore:
    """Reads and writes the camera register."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, sites: Sequence[Site], cameras: Sequence[Camera], *, replace: bool = False) -> None:
        """Write sites and cameras in one transaction: all of them land, or none.

        A site id already in the store is a place other cameras may share: it is kept as stored
        unless `replace` is set. An existing camera id is an error unless `replace` is set; a
        replaced camera is updated in place, so its observations and runs stay attached to it.
        """
        site_ids = [s.id for s in sites]
        cam_ids = [c.id for c in cameras]
        with self.db.session() as session:
            existing_sites = set(session.scalars(select(SiteRow.id).where(SiteRow.id.in_(site_ids))))
            existing_cams = set(session.scalars(select(CameraRow.id).where(CameraRow.id.in_(cam_ids))))
            if existing_cams and not replace:
                shown = ", ".join(sorted(existing_cams)[:5])
                raise CameraStoreError(f"{len(existing_cams)} camera id(s) already registered: {shown}")
            new_sites = [s for s in sites if s.id not in existing_sites]
            if new_sites:
                session.execute(insert(SiteRow), [_site_values(s) for s in new_sites])
            if replace:
                for s in sites:
                    if s.id in existing_sites:
                        values = _site_values(s)
                        del values["id"]
                        session.execute(update(SiteRow).where(SiteRow.id == s.id).values(**values))
            missing = sorted({c.site_id for c in cameras} - existing_sites - set(site_ids))
            if missing:
                in_db = set(session.scalars(select(SiteRow.id).where(SiteRow.id.in_(missing))))
                unknown = [m for m in missing if m not in in_db]
                if unknown:
                    raise CameraStoreError(f"camera refers to unknown site(s): {', '.join(unknown[:5])}")
            for c in cameras:
                if c.id in existing_cams:
                    values = _camera_values(c)
                    del values["id"], values["created_at"]
                    session.execute(update(CameraRow).where(CameraRow.id == c.id).values(**values))
            fresh = [_camera_values(c) for c in cameras if c.id not in existing_cams]
            if fresh:
                session.execute(insert(CameraRow), fresh)

    def all(self, *, enabled_only: bool = False, limit: int | None = None, offset: int = 0) -> list[Camera]:
        """The cameras by id; `limit` and `offset` give one page of them."""
        with self.db.session() as session:
            query = select(CameraRow).order_by(CameraRow.id).offset(offset).limit(limit)
            if enabled_only:
                query = query.where(CameraRow.enabled.is_(True))
            return [camera_from_row(r) for r in session.scalars(query)]

    def known(self, camera_ids: Sequence[str]) -> set[str]:
        """Which of `camera_ids` are registered: a query per thousand ids, not one per id."""
        wanted = sorted(set(camera_ids))
        found: set[str] = set()
        with self.db.session() as session:
            # In chunks: PostgreSQL takes at most 65,535 parameters in one statement.
            for start in range(0, len(wanted), 1000):
                chunk = wanted[start : start + 1000]
                found.update(session.scalars(select(CameraRow.id).where(CameraRow.id.in_(chunk))))
        return found

    def get(self, camera_id: str) -> Camera:
        with self.db.session() as session:
            row = session.get(CameraRow, camera_id)
            if row is None:
                raise CameraStoreError(f"no camera with id {camera_id!r}")
            return camera_from_row(row)

    def sites(self, *, limit: int | None = None, offset: int = 0) -> list[Site]:
        """The sites by id; `limit` and `offset` give one page of them."""
        query = select(SiteRow).order_by(SiteRow.id).offset(offset).limit(limit)
        with self.db.session() as session:
            return [site_from_row(r) for r in session.scalars(query)]

    def observation_counts(self, camera_id: str) -> dict[str, int]:
        with self.db.session() as session:
            return {
                table.__tablename__: int(
                    session.scalar(
                        select(func.count()).select_from(table).where(table.camera_id == camera_id)
                    )
                    or 0
                )
                for table in OBSERVATION_TABLES
            }

    def remove(self, camera_id: str, *, purge: bool = False) -> list[str]:
        """Delete a camera; with `purge` its observations and runs go too. Returns snapshot refs freed.

        Without `purge` a camera that still has observations is kept: deleting evidence must be
        a deliberate act, not a side effect of tidying the register.
        """
        with self.db.session() as session:
            row = session.get(CameraRow, camera_id)
            if row is None:
                raise CameraStoreError(f"no camera with id {camera_id!r}")
            snapshots: list[str] = []
            total = 0
            for table in OBSERVATION_TABLES:
                refs = list(session.scalars(select(table.snapshot).where(table.camera_id == camera_id)))
                total += len(refs)
                snapshots.extend(r for r in refs if r)
            if total and not purge:
                raise CameraStoreError(
                    f"camera {camera_id!r} has {total} stored observation(s); use --purge to delete them too"
                )
            for table in OBSERVATION_TABLES:
                session.execute(delete(table).where(table.camera_id == camera_id))
            session.execute(delete(ProcessingRunRow).where(ProcessingRunRow.camera_id == camera_id))
            site_id = row.site_id
            session.delete(row)
            session.flush()
            others = session.scalar(
                select(func.count()).select_from(CameraRow).where(CameraRow.site_id == site_id)
            )
            if not others:
                session.execute(delete(SiteRow).where(SiteRow.id == site_id))
            return snapshots
