"""Retention: how long each kind of data is kept, and the sweeper that deletes what is older, for real.

Owns the policy (`RetentionPolicy`, from `retention.*` settings) and `sweep`. Each data class
(plate reads, face sightings, motion tracks, line crossings, alerts) has its own number of days,
and a camera's published `retention_days` (the public register) shortens every class for that
camera: nothing outlives the camera's published retention. The sweep deletes rows in batches of
`batch_size` (one transaction each), with the face vectors of deleted sightings (removed from
the face search index as well when one is given) and the snapshot files of deleted rows; snapshot
files older than `snapshots_days` go even where their row stays (its `snapshot` is cleared), and
a deleted alert takes the files its evidence names (never an enrolled watchlist photo).

Files that no row refers to at all (a process killed between writing a snapshot and committing
its row) are found by the orphan pass: it walks the media store's snapshot folders one day
folder at a time (`<camera>/<yyyy>/<mm>/<dd>/`, and `watchlists/<id>/<yyyy>/<mm>/<dd>/` for
enrolled photos) and deletes the files older than `orphan_grace_s` that no row names, with the
half-written `.jpg.tmp` files a crash leaves. A day folder's references are read from every
table that names a file: the observation tables (by camera and a window of days around the
folder's, on their camera/time index), alerts' evidence (any camera: a speeding alert shows
another camera's read) and watchlist photos. Only one folder's file names and references are
held at a time, so a media store of millions of files is walked in bounded memory.

Audit entries older than `audit_days` (at least six months, see config.py) are pruned from the
start of the chain only. Every sweep that deletes anything appends one `retention_deletion`
audit entry with the counts per class and camera and the cutoffs (no personal data); it records
`audit_pruned_head`, the hash of the last pruned entry, which is the only non-genesis start that
`AuditLog.verify` accepts. That entry and the pruning commit in one transaction, so the chain is
never left without its anchor. A sweep that deletes nothing writes nothing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from safecity.config import MIN_AUDIT_RETENTION_DAYS, RetentionSettings, Settings
from safecity.governance.audit import PRUNED_HEAD_KEY, PRUNED_THROUGH_KEY, AuditAction, AuditLog
from safecity.governance.recording_retention import RECORDINGS, RecordingRetention
from safecity.governance.users import Actor
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.models import (
    AlertRow,
    AuditEntryRow,
    CameraRow,
    FaceSightingRow,
    FaceVectorRow,
    LineCrossingRow,
    MotionTrackRow,
    PlateReadRow,
    WatchlistPhotoRow,
    utcnow,
)
from safecity.store.observations import ObservationTable
from safecity.store.recordings import RecordingStore

if TYPE_CHECKING:
    from safecity.store.face_index import FaceIndex

log = logging.getLogger(__name__)

OBSERVATION_CLASSES: Mapping[str, ObservationTable] = {
    "plate_reads": PlateReadRow,
    "face_sightings": FaceSightingRow,
    "motion_tracks": MotionTrackRow,
    "line_crossings": LineCrossingRow,
}
ALERTS = "alerts"
SNAPSHOTS = "snapshots"
CLASSES = (*OBSERVATION_CLASSES, ALERTS)
"""The data classes with rows of their own, each kept `<class>_days` (and no longer than its camera)."""
EVIDENCE_MEDIA_KEYS = ("snapshot", "probe_ref")
"""Keys of an alert's evidence that name files of the sighting or read (`photo_ref`, the enrolled
photo, belongs to the watchlist and goes with it)."""
WATCHLIST_MEDIA_PREFIX = "watchlists/"
SYSTEM_USER = "system"
ORPHAN_MEDIA_KEYS = frozenset({*EVIDENCE_MEDIA_KEYS, "photo_ref"})
"""Keys that name a media file anywhere in an alert's evidence (nested too: a speeding alert's
`read_a`/`read_b`): a file any of them names is not an orphan."""
ORPHAN_DAY_SLACK = timedelta(days=2)
"""How far from its folder's day a row referring to a file may be dated: a snapshot's folder is
its observation's date in the frame's clock, and a line crossing or an alert shares the file of
an observation that began earlier."""
SNAPSHOT_SUFFIXES = (".jpg", ".jpg.tmp")
_YEAR, _TWO_DIGITS = re.compile(r"\d{4}"), re.compile(r"\d{2}")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days each class is kept; `days` applies a camera's own, possibly shorter, retention."""

    plate_reads_days: int = 30
    face_sightings_days: int = 30
    motion_tracks_days: int = 30
    line_crossings_days: int = 30
    snapshots_days: int = 30
    alerts_days: int = 90
    audit_days: int = 365
    batch_size: int = 5000
    orphan_grace_s: float = 3600.0
    export_packages_days: int = 7

    def __post_init__(self) -> None:
        for name in (*CLASSES, SNAPSHOTS):
            if self.class_days(name) < 1:
                raise ValueError(f"{name}_days must be at least 1, got {self.class_days(name)}")
        if self.audit_days < MIN_AUDIT_RETENTION_DAYS:
            raise ValueError(
                f"audit_days {self.audit_days} is too short: audit entries are kept at least 6 months "
                f"({MIN_AUDIT_RETENTION_DAYS} days)"
            )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.orphan_grace_s < 0:
            raise ValueError(f"orphan_grace_s must not be negative, got {self.orphan_grace_s}")

    @classmethod
    def from_settings(cls, settings: RetentionSettings) -> RetentionPolicy:
        return cls(
            plate_reads_days=settings.plate_reads_days,
            face_sightings_days=settings.face_sightings_days,
            motion_tracks_days=settings.motion_tracks_days,
            line_crossings_days=settings.line_crossings_days,
            snapshots_days=settings.snapshots_days,
            alerts_days=settings.alerts_days,
            audit_days=settings.audit_days,
            batch_size=settings.batch_size,
            orphan_grace_s=settings.orphan_grace_s,
            export_packages_days=settings.export_packages_days,
        )

    def class_days(self, name: str) -> int:
        """The configured days of a class (`plate_reads`, ..., `alerts`, `snapshots`)."""
        days = {
            "plate_reads": self.plate_reads_days,
            "face_sightings": self.face_sightings_days,
            "motion_tracks": self.motion_tracks_days,
            "line_crossings": self.line_crossings_days,
            ALERTS: self.alerts_days,
            SNAPSHOTS: self.snapshots_days,
        }
        if name not in days:
            raise ValueError(f"unknown data class {name!r}; one of {', '.join(days)}")
        return days[name]

    def days(self, name: str, camera_retention_days: int) -> int:
        """Days a camera's rows of a class are kept: the class's days, shortened by the camera's."""
        return min(self.class_days(name), camera_retention_days)

    def for_camera(self, camera_retention_days: int) -> dict[str, int]:
        """Effective days per class (and snapshots) for a camera with this published retention."""
        return {name: self.days(name, camera_retention_days) for name in (*CLASSES, SNAPSHOTS)}


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What a sweep deleted (or, with `dry_run`, would delete) and the cutoffs it used."""

    now: datetime
    dry_run: bool
    cutoffs: Mapping[str, Mapping[str, datetime]]
    """Class (and `snapshots`) -> camera -> rows older than this go."""
    audit_cutoff: datetime
    deleted: Mapping[str, Mapping[str, int]]
    """Class -> camera -> rows deleted; only classes and cameras with something deleted."""
    snapshots_cleared: Mapping[str, int]
    """Camera -> rows kept whose snapshot file was older than `snapshots_days` and went."""
    media_files: int
    """Files deleted (dry run: file references that would be)."""
    face_vectors: int
    audit_entries: int
    audit_pruned_through_seq: int | None = None
    audit_pruned_head: str | None = None
    audit_seq: int | None = None
    """Sequence number of the sweep's own `retention_deletion` entry (None: nothing was written)."""
    face_vector_keys: tuple[int, ...] = field(default=(), repr=False)
    """Keys of the deleted face vectors (to drop from a face index opened later)."""
    orphan_files: int = 0
    """Files no row refers to, older than `orphan_grace_s`, deleted (dry run: found)."""
    export_packages: int = 0
    """Evidence packages made from the web UI older than `export_packages_days`, deleted (dry run:
    found); what was handed over lives on with its recipients, this copy only serves the download."""

    @property
    def rows(self) -> int:
        return sum(n for per_camera in self.deleted.values() for n in per_camera.values())

    @property
    def anything(self) -> bool:
        return bool(
            self.rows
            or self.media_files
            or self.orphan_files
            or self.export_packages
            or self.face_vectors
            or self.audit_entries
            or sum(self.snapshots_cleared.values())
        )

    def details(self) -> dict[str, Any]:
        """The audit entry's details: counts per class and camera, and the cutoffs that applied."""
        used_cutoffs: dict[str, dict[str, str]] = {}
        for name, per_camera in self.deleted.items():
            used_cutoffs[name] = {cam: self.cutoffs[name][cam].isoformat() for cam in per_camera}
        if self.snapshots_cleared:
            used_cutoffs[SNAPSHOTS] = {
                cam: self.cutoffs[SNAPSHOTS][cam].isoformat() for cam in self.snapshots_cleared
            }
        details: dict[str, Any] = {
            "now": self.now.isoformat(),
            "deleted": {name: dict(per_camera) for name, per_camera in self.deleted.items()},
            "snapshots_cleared": dict(self.snapshots_cleared),
            "cutoffs": used_cutoffs,
            "media_files": self.media_files,
            "orphan_files": self.orphan_files,
            "export_packages": self.export_packages,
            "face_vectors": self.face_vectors,
            "audit_entries": self.audit_entries,
            "audit_cutoff": self.audit_cutoff.isoformat(),
        }
        if self.audit_pruned_head is not None:
            details[PRUNED_THROUGH_KEY] = self.audit_pruned_through_seq
            details[PRUNED_HEAD_KEY] = self.audit_pruned_head
        return details

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        per_class = ", ".join(
            f"{sum(per_camera.values())} {name.replace('_', ' ')}"
            for name, per_camera in self.deleted.items()
        )
        return (
            f"retention {verb}: {per_class or 'no rows'}; {sum(self.snapshots_cleared.values())} snapshots "
            f"of kept rows, {self.media_files} media files, {self.orphan_files} orphan files, "
            f"{self.export_packages} evidence packages, "
            f"{self.face_vectors} face vectors, "
            f"{self.audit_entries} audit entries"
        )


class _Tally:
    """Counts as the sweep goes; frozen into a `SweepReport` at the end."""

    def __init__(self) -> None:
        self.deleted: dict[str, dict[str, int]] = {}
        self.snapshots_cleared: dict[str, int] = {}
        self.media_files = 0
        self.orphan_files = 0
        self.export_packages = 0
        self.face_vector_keys: list[int] = []
        self.face_vectors = 0

    def rows(self, name: str, camera_id: str, n: int) -> None:
        if n:
            per_camera = self.deleted.setdefault(name, {})
            per_camera[camera_id] = per_camera.get(camera_id, 0) + n


def sweep(
    db: Database,
    media: MediaStore,
    policy: RetentionPolicy,
    *,
    now: datetime,
    face_index: FaceIndex | None = None,
    audit: AuditLog | None = None,
    recordings: RecordingRetention | None = None,
    dry_run: bool = False,
    by: Actor | None = None,
    exports: Path | None = None,
) -> SweepReport:
    """Delete what `policy` no longer allows at `now` (aware); with `dry_run` only count it. The
    audit entry names `by`, who ran it (an administrator, the host's CLI user), else the system."""
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}; the sweep needs a timezone-aware time")
    audit = audit or AuditLog(db)
    with db.session() as session:
        cameras = {
            cid: int(days) for cid, days in session.execute(select(CameraRow.id, CameraRow.retention_days))
        }
    cutoffs = {
        name: {cid: now - timedelta(days=policy.days(name, days)) for cid, days in cameras.items()}
        for name in (*CLASSES, SNAPSHOTS)
    }
    audit_cutoff = now - timedelta(days=policy.audit_days)
    tally = _Tally()
    for name, table in OBSERVATION_CLASSES.items():
        for cid in sorted(cameras):
            if dry_run:
                _count_observations(db, tally, name, table, cid, cutoffs[name][cid], cutoffs[SNAPSHOTS][cid])
            else:
                _delete_observations(db, media, policy, tally, name, table, cid, cutoffs[name][cid])
                _clear_snapshots(db, media, policy, tally, table, cid, cutoffs[SNAPSHOTS][cid])
    for cid in sorted(cameras):
        _delete_alerts(db, media, policy, tally, cid, cutoffs[ALERTS][cid], dry_run=dry_run)
    if recordings is not None:
        _delete_recordings(db, recordings, cameras, now, policy, tally, cutoffs, dry_run=dry_run)
    _sweep_orphans(db, media, now - timedelta(seconds=policy.orphan_grace_s), tally, dry_run=dry_run)
    if exports is not None:
        cutoff = (now - timedelta(days=policy.export_packages_days)).timestamp()
        tally.export_packages = _sweep_export_packages(exports, cutoff, dry_run=dry_run)
    keys = tuple(tally.face_vector_keys)
    if keys and face_index is not None:
        face_index.remove(keys)
        face_index.save()

    with db.session() as session:
        pruned = _audit_prefix(session, audit_cutoff)
        report = SweepReport(
            now=now,
            dry_run=dry_run,
            cutoffs=cutoffs,
            audit_cutoff=audit_cutoff,
            deleted=tally.deleted,
            snapshots_cleared=tally.snapshots_cleared,
            media_files=tally.media_files,
            orphan_files=tally.orphan_files,
            export_packages=tally.export_packages,
            face_vectors=tally.face_vectors,
            audit_entries=pruned[0],
            audit_pruned_through_seq=pruned[1],
            audit_pruned_head=pruned[2],
            face_vector_keys=keys,
        )
        if dry_run or not report.anything:
            return report
        # The entry first (it follows the current head), then the prefix it records goes, in one
        # transaction: the chain is never without the anchor that `verify` starts from.
        who = by or Actor(SYSTEM_USER, SYSTEM_USER)
        entry = audit.record(
            AuditAction.RETENTION_DELETION,
            username=who.username,
            role=who.role,
            target="retention",
            justification="retention policy",
            details=report.details(),
            session=session,
        )
        if report.audit_pruned_through_seq is not None:
            session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq <= report.audit_pruned_through_seq))
    report = SweepReport(**{**_fields(report), "audit_seq": entry.seq})
    log.info("%s (audit entry %d)", report.summary(), entry.seq)
    return report


def sweep_configured(
    settings: Settings,
    db: Database,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    by: Actor | None = None,
) -> SweepReport:
    """`sweep` with the configured policy and media store; the face index file, when there is one and
    vectors were deleted, is opened afterwards, has them removed and is saved."""
    report = sweep(
        db,
        MediaStore(settings.effective_media_dir),
        RetentionPolicy.from_settings(settings.retention),
        now=now or utcnow(),
        recordings=RecordingRetention(
            RecordingStore(db, settings.effective_recordings_dir), settings.recording
        ),
        dry_run=dry_run,
        by=by,
        exports=settings.effective_exports_dir,
    )
    path = settings.effective_face_index_path
    if report.face_vector_keys and path.exists():
        from safecity.store.face_index import FaceIndex

        index = FaceIndex(
            db,
            path,
            ivf_min_vectors=settings.faces.ivf_min_vectors,
            nprobe=settings.faces.nprobe,
            oversample=settings.faces.search_oversample,
        )
        index.remove(report.face_vector_keys)
        index.save()
    return report


# ------------------------------------------------------------------ steps


def _delete_recordings(
    db: Database,
    recordings: RecordingRetention,
    cameras: Mapping[str, int],
    now: datetime,
    policy: RetentionPolicy,
    tally: _Tally,
    cutoffs: dict[str, dict[str, datetime]],
    *,
    dry_run: bool,
) -> None:
    """Recorded segments past their mode's days, or without what their mode keeps (see
    `recording_retention`); rows first, then files. Held evidence clips stay."""
    due = recordings.due(db, cameras, now, batch=policy.batch_size)
    for segment in due:
        tally.rows(RECORDINGS, segment.camera_id, 1)
        cutoffs.setdefault(RECORDINGS, {})[segment.camera_id] = recordings.cutoff(
            segment.mode, cameras.get(segment.camera_id, 1), now
        )
    if not dry_run:
        tally.media_files += recordings.store.delete(due)


def _fields(report: SweepReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in SweepReport.__dataclass_fields__}


def _delete_media(media: MediaStore, refs: Sequence[str]) -> int:
    deleted = 0
    for ref in refs:
        if not ref:
            continue
        try:
            deleted += media.delete(ref)
        except (OSError, ValueError) as exc:
            log.warning("retention: could not delete media file %r: %s", ref, exc)
    return deleted


def _delete_observations(
    db: Database,
    media: MediaStore,
    policy: RetentionPolicy,
    tally: _Tally,
    name: str,
    table: ObservationTable,
    camera_id: str,
    cutoff: datetime,
) -> None:
    while True:
        with db.session() as session:
            rows = session.execute(
                select(table.id, table.snapshot)
                .where(table.camera_id == camera_id, table.ts < cutoff)
                .limit(policy.batch_size)
            ).all()
            if not rows:
                return
            ids = [r.id for r in rows]
            if table is FaceSightingRow:
                # Explicitly, not by the cascade: the keys are needed for the face index.
                keys = list(
                    session.scalars(select(FaceVectorRow.key).where(FaceVectorRow.sighting_id.in_(ids)))
                )
                if keys:
                    session.execute(delete(FaceVectorRow).where(FaceVectorRow.key.in_(keys)))
                    tally.face_vector_keys.extend(keys)
                    tally.face_vectors += len(keys)
            session.execute(delete(table).where(table.id.in_(ids)))
            # Files go before the commit: a failed commit leaves rows whose files are gone (swept
            # again next time), never files that no row refers to any more.
            tally.media_files += _delete_media(media, [r.snapshot for r in rows])
        tally.rows(name, camera_id, len(rows))
        if len(rows) < policy.batch_size:
            return


def _clear_snapshots(
    db: Database,
    media: MediaStore,
    policy: RetentionPolicy,
    tally: _Tally,
    table: ObservationTable,
    camera_id: str,
    cutoff: datetime,
) -> None:
    while True:
        with db.session() as session:
            rows = session.execute(
                select(table.id, table.snapshot)
                .where(table.camera_id == camera_id, table.ts < cutoff, table.snapshot != "")
                .limit(policy.batch_size)
            ).all()
            if not rows:
                return
            session.execute(update(table).where(table.id.in_([r.id for r in rows])).values(snapshot=""))
            tally.media_files += _delete_media(media, [r.snapshot for r in rows])
        tally.snapshots_cleared[camera_id] = tally.snapshots_cleared.get(camera_id, 0) + len(rows)
        if len(rows) < policy.batch_size:
            return


def _count_observations(
    db: Database,
    tally: _Tally,
    name: str,
    table: ObservationTable,
    camera_id: str,
    cutoff: datetime,
    snapshot_cutoff: datetime,
) -> None:
    with db.session() as session:
        old = (table.camera_id == camera_id, table.ts < cutoff)
        tally.rows(
            name, camera_id, int(session.scalar(select(func.count()).select_from(table).where(*old)) or 0)
        )
        tally.media_files += int(
            session.scalar(select(func.count()).select_from(table).where(*old, table.snapshot != "")) or 0
        )
        kept_old_media = int(
            session.scalar(
                select(func.count())
                .select_from(table)
                .where(
                    table.camera_id == camera_id,
                    table.ts >= cutoff,
                    table.ts < snapshot_cutoff,
                    table.snapshot != "",
                )
            )
            or 0
        )
        if kept_old_media:
            tally.media_files += kept_old_media
            tally.snapshots_cleared[camera_id] = tally.snapshots_cleared.get(camera_id, 0) + kept_old_media
        if table is FaceSightingRow:
            doomed = select(table.id).where(*old)
            tally.face_vectors += int(
                session.scalar(
                    select(func.count())
                    .select_from(FaceVectorRow)
                    .where(FaceVectorRow.sighting_id.in_(doomed))
                )
                or 0
            )


def _evidence_refs(evidence: Mapping[str, Any] | None) -> list[str]:
    refs = []
    for key in EVIDENCE_MEDIA_KEYS:
        ref = (evidence or {}).get(key)
        if isinstance(ref, str) and ref and not ref.startswith(WATCHLIST_MEDIA_PREFIX):
            refs.append(ref)
    return refs


def _delete_alerts(
    db: Database,
    media: MediaStore,
    policy: RetentionPolicy,
    tally: _Tally,
    camera_id: str,
    cutoff: datetime,
    *,
    dry_run: bool,
) -> None:
    old = (AlertRow.camera_id == camera_id, AlertRow.ts < cutoff)
    if dry_run:
        with db.session() as session:
            evidence = list(session.scalars(select(AlertRow.evidence).where(*old)))
        tally.rows(ALERTS, camera_id, len(evidence))
        tally.media_files += sum(len(_evidence_refs(e)) for e in evidence)
        return
    while True:
        with db.session() as session:
            rows = session.execute(
                select(AlertRow.id, AlertRow.evidence).where(*old).limit(policy.batch_size)
            ).all()
            if not rows:
                return
            session.execute(delete(AlertRow).where(AlertRow.id.in_([r.id for r in rows])))
            tally.media_files += _delete_media(
                media, [ref for r in rows for ref in _evidence_refs(r.evidence)]
            )
        tally.rows(ALERTS, camera_id, len(rows))
        if len(rows) < policy.batch_size:
            return


@dataclass(frozen=True, slots=True)
class _DayFolder:
    """One day folder of snapshots: a camera's, or a face watchlist's enrolled photos."""

    path: Path
    ref: str
    """Its path relative to the media root, as references start."""
    day: datetime
    camera_id: str | None = None
    watchlist_id: str | None = None


def _subfolders(folder: Path, name: re.Pattern[str] | None = None) -> list[os.DirEntry[str]]:
    """Sub-folders (not links) of `folder`, names matching `name`; few per level, so a list."""
    try:
        with os.scandir(folder) as entries:
            found = [
                e
                for e in entries
                if e.is_dir(follow_symlinks=False) and (name is None or name.fullmatch(e.name))
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(found, key=lambda e: e.name)


def _day_folders(root: Path) -> Iterator[_DayFolder]:
    """The snapshot day folders under `root`, one at a time; anything else is not retention's."""

    def dated(base: Path, ref: str, **owner: str) -> Iterator[_DayFolder]:
        for year in _subfolders(base, _YEAR):
            for month in _subfolders(Path(year.path), _TWO_DIGITS):
                for day in _subfolders(Path(month.path), _TWO_DIGITS):
                    try:
                        date = datetime(int(year.name), int(month.name), int(day.name), tzinfo=UTC)
                    except ValueError:  # not a date: not a snapshot folder
                        continue
                    yield _DayFolder(
                        Path(day.path), f"{ref}/{year.name}/{month.name}/{day.name}", date, **owner
                    )

    for top in _subfolders(root):
        if top.name + "/" == WATCHLIST_MEDIA_PREFIX:
            for watchlist in _subfolders(Path(top.path)):
                yield from dated(
                    Path(watchlist.path), f"{top.name}/{watchlist.name}", watchlist_id=watchlist.name
                )
        else:
            yield from dated(Path(top.path), top.name, camera_id=top.name)


def _old_files(folder: Path, cutoff: float) -> list[str]:
    """Names of the snapshot files in `folder` last written before `cutoff` (a POSIX time)."""
    names = []
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if not e.name.endswith(SNAPSHOT_SUFFIXES) or not e.is_file(follow_symlinks=False):
                    continue
                try:
                    if e.stat(follow_symlinks=False).st_mtime < cutoff:
                        names.append(e.name)
                except FileNotFoundError:  # deleted meanwhile (a watchlist removed, a sweep elsewhere)
                    continue
    except FileNotFoundError:
        return []
    return names


def _media_refs(evidence: Any) -> Iterator[str]:
    """Every file an alert's evidence names, at any depth."""
    if isinstance(evidence, Mapping):
        for key, value in evidence.items():
            if key in ORPHAN_MEDIA_KEYS and isinstance(value, str) and value:
                yield value
            else:
                yield from _media_refs(value)
    elif isinstance(evidence, list):
        for value in evidence:
            yield from _media_refs(value)


def _referenced(db: Database, folder: _DayFolder) -> set[str]:
    """The references into `folder` that some row holds."""
    prefix = folder.ref + "/"
    with db.session() as session:
        if folder.watchlist_id is not None:
            return set(
                session.scalars(
                    select(WatchlistPhotoRow.media_ref).where(
                        WatchlistPhotoRow.media_ref.startswith(prefix, autoescape=True)
                    )
                )
            )
        since, until = folder.day - ORPHAN_DAY_SLACK, folder.day + timedelta(days=1) + ORPHAN_DAY_SLACK
        refs: set[str] = set()
        for table in OBSERVATION_CLASSES.values():
            refs.update(
                session.scalars(
                    select(table.snapshot).where(
                        table.camera_id == folder.camera_id,
                        table.ts >= since,
                        table.ts < until,
                        table.snapshot.startswith(prefix, autoescape=True),
                    )
                )
            )
        for evidence in session.scalars(
            select(AlertRow.evidence).where(AlertRow.ts >= since, AlertRow.ts < until)
        ):
            refs.update(ref for ref in _media_refs(evidence) if ref.startswith(prefix))
    return refs


def _sweep_orphans(
    db: Database, media: MediaStore, older_than: datetime, tally: _Tally, *, dry_run: bool
) -> None:
    """Delete (dry run: count) the snapshot files last written before `older_than` that no row names."""
    cutoff = older_than.timestamp()
    for folder in _day_folders(media.root):
        names = _old_files(folder.path, cutoff)
        if not names:
            continue
        referenced = _referenced(db, folder)
        # A half-written file (`.jpg.tmp`) never is a reference: a crash interrupted its write.
        orphans = [f"{folder.ref}/{name}" for name in names if f"{folder.ref}/{name}" not in referenced]
        if dry_run:
            tally.orphan_files += len(orphans)
        else:
            tally.orphan_files += _delete_media(media, orphans)
        if orphans:
            log.info("retention: %d orphan file(s) in %s", len(orphans), folder.ref)


def _sweep_export_packages(root: Path, cutoff: float, *, dry_run: bool) -> int:
    """Delete the export folders (`root/<user>/<token>/`) last written before `cutoff` (epoch s)."""
    count = 0
    for user in _subfolders(root):
        for package in _subfolders(Path(user.path)):
            if package.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            count += 1
            if not dry_run:
                shutil.rmtree(package.path, ignore_errors=True)
    return count


def _audit_prefix(session: Session, cutoff: datetime) -> tuple[int, int | None, str | None]:
    """(entries, last seq, its hash) of the longest run of entries from the start older than `cutoff`."""
    first_young = session.scalar(select(func.min(AuditEntryRow.seq)).where(AuditEntryRow.ts >= cutoff))
    last = select(AuditEntryRow.seq, AuditEntryRow.hash).order_by(AuditEntryRow.seq.desc()).limit(1)
    if first_young is not None:
        last = last.where(AuditEntryRow.seq < first_young)
    row = session.execute(last).first()
    if row is None:
        return 0, None, None
    count = int(
        session.scalar(select(func.count()).select_from(AuditEntryRow).where(AuditEntryRow.seq <= row.seq))
        or 0
    )
    return count, int(row.seq), str(row.hash)
