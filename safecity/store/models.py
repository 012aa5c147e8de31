"""SQLAlchemy 2 table models: sites, cameras, observations (one table per kind), face vectors, alerts,
authorisations, watch- and hotlists, users, audit.

One table per observation kind: each kind has its own columns and its own queries (plates are
searched by text, faces by vector, tracks by path), so a shared wide table would be mostly NULLs.
The shared columns (camera, time, box, confidence, track, snapshot) come from one mixin.
Times are stored as UTC; `UTCDateTime` gives back timezone-aware values on every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

ID_LEN = 64
OBS_ID_LEN = 32

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and returns them aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use timezone-aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")


class CameraRow(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    mount_height_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    operator: Mapped[str] = mapped_column(String(200), default="")
    capabilities: Mapped[str] = mapped_column(String(100))
    stream_url: Mapped[str] = mapped_column(Text, default="")
    retention_days: Mapped[int] = mapped_column(Integer)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    zone: Mapped[str] = mapped_column(String(40), default="town")
    camera_type: Mapped[str] = mapped_column(String(40), default="fixed")
    # Privacy by default: the embeddings of faces that match nothing are kept only where this is set.
    retain_face_vectors: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Counting lines and zones in the camera's pixels, method and anchor (CameraCountingConfig
    # without its camera id); NULL: none registered.
    counting: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Plate countries it expects, in order, ';'-separated ("RS;HR"); "": the deployment's default.
    plate_countries: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # RecordingMode: none, continuous, motion or events.
    recording: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class _ObservationColumns:
    """Columns every observation carries: who saw it, when, where in the frame, how sure.

    On PostgreSQL the observation tables are partitioned by month of `ts`, with `(id, ts)` as
    their primary key (migration 0010, `store/partitions.py`); SQLite keeps `id` alone.
    """

    id: Mapped[str] = mapped_column(String(OBS_ID_LEN), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    track_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    snapshot: Mapped[str] = mapped_column(String(300), default="")

    @declared_attr
    def camera_id(cls) -> Mapped[str]:
        return mapped_column(ForeignKey("cameras.id"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:
        name = cls.__tablename__  # type: ignore[attr-defined]
        return (Index(f"ix_{name}_camera_ts", "camera_id", "ts"), Index(f"ix_{name}_ts", "ts"))


class MotionTrackRow(_ObservationColumns, Base):
    __tablename__ = "motion_tracks"

    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    path: Mapped[list[list[float]]] = mapped_column(JSON)


class PlateReadRow(_ObservationColumns, Base):
    __tablename__ = "plate_reads"

    # Plate search (store/plate_index.py): (normalised, ts) answers an exact search newest first
    # without sorting a frequent plate's reads; (confusion_key, normalised) serves fuzzy search.
    __table_args__ = (
        Index("ix_plate_reads_camera_ts", "camera_id", "ts"),
        Index("ix_plate_reads_ts", "ts"),
        Index("ix_plate_reads_normalised_ts", "normalised", "ts"),
        Index("ix_plate_reads_confusion_key_normalised", "confusion_key", "normalised"),
    )

    text: Mapped[str] = mapped_column(String(32))
    normalised: Mapped[str] = mapped_column(String(32))
    # `normalised` with OCR-confusable characters folded together: fuzzy search and hotlist
    # matching look plates up by it. Filled by the writer.
    confusion_key: Mapped[str] = mapped_column(String(32), server_default="")
    country: Mapped[str] = mapped_column(String(8), default="")
    candidates: Mapped[list[list[Any]]] = mapped_column(JSON)


class FaceSightingRow(_ObservationColumns, Base):
    """A face seen by a camera; its embedding, when one is kept, is a `FaceVectorRow`."""

    __tablename__ = "face_sightings"

    quality: Mapped[float] = mapped_column(Float)


class FaceVectorRow(Base):
    """The embedding of a face sighting, kept only where the camera's policy retains vectors or it matched.

    A table of its own rather than a column of `face_sightings`: the retrospective search index
    (store/face_index.py) needs a monotonic integer key that is never reused (FAISS ids, and a
    watermark to add new rows from), and most sightings carry no vector at all. `camera_id` and
    `ts` are copied from the sighting so that a filtered search or a retention sweep needs no join.
    """

    __tablename__ = "face_vectors"
    __table_args__ = (
        Index("ix_face_vectors_camera_ts", "camera_id", "ts"),
        Index("ix_face_vectors_ts", "ts"),
        # AUTOINCREMENT: SQLite would otherwise reuse the key of a deleted last row, and the
        # index would then take a new face for an old one.
        {"sqlite_autoincrement": True},
    )

    key: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    sighting_id: Mapped[str] = mapped_column(ForeignKey("face_sightings.id", ondelete="CASCADE"), unique=True)
    camera_id: Mapped[str] = mapped_column(String(ID_LEN))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    """FACE_EMBEDDING_DIM float32 values, little-endian."""


class LineCrossingRow(_ObservationColumns, Base):
    __tablename__ = "line_crossings"

    line_name: Mapped[str] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(20))
    object_class: Mapped[str] = mapped_column(String(40), default="unknown")


class AlertRow(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(OBS_ID_LEN), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    message: Mapped[str] = mapped_column(Text)
    observation_id: Mapped[str | None] = mapped_column(String(OBS_ID_LEN), nullable=True)
    watchlist_id: Mapped[str | None] = mapped_column(ForeignKey("watchlists.id"), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="new")
    handled_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hotlist_entry_id: Mapped[str | None] = mapped_column(
        ForeignKey("hotlist_entries.id"), nullable=True, index=True
    )
    # What the operator needs to judge the alert without another query: the read's text,
    # snapshot and confidence, how it matched, and the entry's plate, reason and owner.
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True, default=utcnow)


class AlertConfirmationRow(Base):
    """One user's decision on a face-match alert; two confirmations from different users confirm it."""

    __tablename__ = "alert_confirmations"
    __table_args__ = (UniqueConstraint("alert_id", "username", name="uq_alert_confirmations_alert_user"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(10))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")


class AuthorisationRow(Base):
    """A legal authorisation for face matching (see `safecity.types.Authorisation`)."""

    __tablename__ = "authorisations"
    __table_args__ = (UniqueConstraint("authority", "reference"),)

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    authority: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(40))
    camera_ids: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="approved")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    use: Mapped[str] = mapped_column(String(20), default="realtime", server_default="realtime")
    approval_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WatchlistRow(Base):
    __tablename__ = "watchlists"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Nullable for plate watchlists; the face watchlist store refuses a face list without one.
    authorisation_id: Mapped[str | None] = mapped_column(ForeignKey("authorisations.id"), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WatchlistEntryRow(Base):
    __tablename__ = "watchlist_entries"

    id: Mapped[str] = mapped_column(String(OBS_ID_LEN), primary_key=True)
    watchlist_id: Mapped[str] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    plate_normalised: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Face entries: the mean of the photo embeddings (FACE_EMBEDDING_DIM float32, little-endian).
    template: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class WatchlistPhotoRow(Base):
    """One enrolled photo of a face watchlist entry: its stored image, face box and embedding."""

    __tablename__ = "watchlist_photos"

    id: Mapped[str] = mapped_column(String(OBS_ID_LEN), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("watchlist_entries.id", ondelete="CASCADE"), index=True)
    media_ref: Mapped[str] = mapped_column(String(300))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    quality: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HotlistEntryRow(Base):
    """A plate or pattern on the hotlist; removal only deactivates it, since alerts refer to it."""

    __tablename__ = "hotlist_entries"

    id: Mapped[str] = mapped_column(String(OBS_ID_LEN), primary_key=True)
    plate: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The cameras the user may act on; NULL: every camera (an empty list: none).
    camera_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class LoginFailureRow(Base):
    """One failed login, by the username tried (known or not), for throttling across processes."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(64), index=True, default="", server_default="")
    """The client's address ("" when unknown, e.g. the console)."""


class ApiTokenRow(Base):
    """An API token: only the SHA-256 of its secret is kept; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(OBS_ID_LEN), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    label: Mapped[str] = mapped_column(String(200), default="")


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(Text, default="")
    justification: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ProcessingRunRow(Base):
    """One pass of the pipeline over a source: the numbers an operator checks a camera by."""

    __tablename__ = "processing_runs"

    id: Mapped[str] = mapped_column(String(OBS_ID_LEN), primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), index=True)
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    frames_decoded: Mapped[int] = mapped_column(Integer)
    frames_analysed: Mapped[int] = mapped_column(Integer)
    frames_with_motion: Mapped[int] = mapped_column(Integer)
    observations: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")


class RecordingRow(Base):
    """One recorded video segment of a camera: a fragmented MP4 file remuxed from its stream.

    `path` is relative to the recordings folder (`recording.path`); `end` is the time of its last
    frame. A segment is indexed when it is closed, or adopted at start-up when a killed recorder
    left it behind (`store.recordings.reconcile`)."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_camera_start", "camera_id", "start"),)

    id: Mapped[str] = mapped_column(String(OBS_ID_LEN), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(ID_LEN))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(20))
    """The camera's recording mode when it was written (what its retention follows)."""


OBSERVATION_TABLES = (MotionTrackRow, PlateReadRow, FaceSightingRow, LineCrossingRow)
