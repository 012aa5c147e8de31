"""The shared records that flow between stages: cameras, frames, observations, alerts.

Every record is a frozen dataclass; stages hand these to each other and never mutate them.
Times are timezone-aware UTC datetimes; boxes are pixel coordinates in the full frame.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from safecity.config import CountingGeometry

BGRImage = npt.NDArray[np.uint8]
RGBImage = npt.NDArray[np.uint8]
"""Frames handed to dlib: channels in red, green, blue order (OpenCV decodes to BGR)."""


class Capability(enum.StrEnum):
    """What a camera is allowed and able to analyse."""

    FACES = "faces"
    PLATES = "plates"
    TRAFFIC = "traffic"
    MOTION = "motion"


def new_id() -> str:
    """A fresh entity id (32 hex characters, globally unique)."""
    return uuid.uuid4().hex


OBSERVATION_NAMESPACE = uuid.UUID("5f0c8a3e-2d41-4b7e-9a6f-1c3d5e7f9b20")
"""Namespace of the uuid5 ids of observations (see `observation_id`)."""


def observation_id(camera_id: str, kind: str, timestamp: datetime, *parts: object) -> str:
    """The id of an observation, derived from what it is: camera, kind, time and what tells it apart.

    Deterministic on purpose: the same frames analysed twice (a cluster actor restarted on a
    recording, a file processed again) give the same ids, and the writer's insert-or-ignore keeps
    one copy, so a retry never doubles an observation. 32 hex characters, like `new_id`.
    """
    if timestamp.tzinfo is None:
        raise ValueError(f"observation time must be timezone-aware, got {timestamp!r}")
    name = "|".join([camera_id, kind, timestamp.astimezone(UTC).isoformat(), *map(str, parts)])
    return uuid.uuid5(OBSERVATION_NAMESPACE, name).hex


@dataclass(frozen=True, slots=True)
class Site:
    """A physical location (pole, building, junction) that holds one or more cameras."""

    id: str
    name: str
    latitude: float
    longitude: float
    address: str = ""


class RecordingMode(enum.StrEnum):
    """What of a camera's video is kept: nothing, all of it, or only the spans around motion or
    events (plate reads, face sightings, alerts); each with its own retention (`recording.*_days`)."""

    NONE = "none"
    CONTINUOUS = "continuous"
    MOTION = "motion"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Camera:
    """One camera as registered: where it is, who runs it, what it may analyse."""

    id: str
    name: str
    site_id: str
    latitude: float
    longitude: float
    heading_deg: float | None = None
    mount_height_m: float | None = None
    operator: str = ""
    capabilities: frozenset[Capability] = frozenset({Capability.MOTION})
    stream_url: str = ""
    retention_days: int = 30
    legal_basis: str = ""
    enabled: bool = True
    zone: str = "town"
    camera_type: str = "fixed"
    retain_face_vectors: bool = False
    """Keep the face embeddings of passers-by who match no watchlist (searchable later); off by default."""
    counting: CountingGeometry | None = None
    """Its counting lines and zones in image pixels, as registered (None: those of the settings, if any)."""
    plate_countries: tuple[str, ...] = ()
    """Countries whose plates it expects, most frequent first (ISO 3166-1 alpha-2 codes of the plate
    formats); empty: the deployment's `plates.countries`."""
    recording: RecordingMode = RecordingMode.NONE
    """What of its video is recorded (published in the register with how long it is kept)."""


@dataclass(frozen=True, slots=True)
class BBox:
    """An axis-aligned box in pixels: top-left corner plus width and height."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self) -> None:
        if self.w < 0 or self.h < 0:
            raise ValueError(f"BBox width and height must be >= 0, got w={self.w} h={self.h}")

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    def iou(self, other: BBox) -> float:
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def union(self, other: BBox) -> BBox:
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1 = max(self.x + self.w, other.x + other.w)
        y1 = max(self.y + self.h, other.y + other.h)
        return BBox(x0, y0, x1 - x0, y1 - y0)


def context_box(box: BBox, shape: tuple[int, ...], margin: float) -> BBox:
    """`box` grown by `margin` of its size on every side, clipped to an image of this `shape`."""
    dx, dy = int(box.w * margin), int(box.h * margin)
    x0, y0 = max(0, box.x - dx), max(0, box.y - dy)
    x1, y1 = min(shape[1], box.x + box.w + dx), min(shape[0], box.y + box.h + dy)
    return BBox(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """A decoded frame: which camera, its position in the stream and its wall-clock time."""

    camera_id: str
    index: int
    pts_s: float
    timestamp: datetime
    image: BGRImage = field(repr=False)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


@dataclass(frozen=True, slots=True)
class MotionTrack:
    """A moving object followed across frames: when it entered, left, and the path it took."""

    id: str
    camera_id: str
    timestamp: datetime
    ended_at: datetime
    bbox: BBox
    confidence: float
    track_id: int
    path: tuple[tuple[float, float, float], ...]
    """(seconds since `timestamp`, centre x, centre y) per analysed frame."""
    snapshot: str = ""


@dataclass(frozen=True, slots=True)
class PlateRead:
    """One licence plate decided for one vehicle passage."""

    id: str
    camera_id: str
    timestamp: datetime
    bbox: BBox
    confidence: float
    text: str
    normalised: str
    country: str = ""
    track_id: int | None = None
    candidates: tuple[tuple[str, float], ...] = ()
    snapshot: str = ""


@dataclass(frozen=True, slots=True)
class FaceSighting:
    """One face decided for one passage of a person; the embedding is optional by policy."""

    id: str
    camera_id: str
    timestamp: datetime
    bbox: BBox
    confidence: float
    quality: float
    track_id: int | None = None
    embedding: tuple[float, ...] | None = None
    snapshot: str = ""


@dataclass(frozen=True, slots=True)
class LineCrossing:
    """A track crossing a named counting line in a given direction."""

    id: str
    camera_id: str
    timestamp: datetime
    bbox: BBox
    confidence: float
    line_name: str
    direction: str
    object_class: str = "unknown"
    track_id: int | None = None
    snapshot: str = ""


Observation = MotionTrack | PlateRead | FaceSighting | LineCrossing


class AlertKind(enum.StrEnum):
    PLATE_HOTLIST = "plate_hotlist"
    FACE_WATCHLIST = "face_watchlist"
    CAMERA_HEALTH = "camera_health"
    SPEEDING = "speeding"


@dataclass(frozen=True, slots=True)
class Alert:
    """Something an operator must look at, with the observation that caused it."""

    id: str
    kind: AlertKind
    camera_id: str
    timestamp: datetime
    message: str
    observation_id: str | None = None
    watchlist_id: str | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class RunStats:
    """What one pass over a source did; stored as a processing run and shown in the demo summary."""

    id: str
    camera_id: str
    source: str
    started_at: datetime
    finished_at: datetime
    frames_decoded: int
    frames_analysed: int
    frames_with_motion: int
    observations: int
    error: str = ""


class PlateMatchKind(enum.StrEnum):
    """How a plate read matched a query or a hotlist entry, best first."""

    EXACT = "exact"
    """The normalised text equals the plate, or fits the pattern, character for character."""
    CONFUSABLE = "confusable"
    """Equal once OCR-confusable characters (O/0, I/1, B/8, ...) are treated as the same."""
    ONE_EDIT = "one_edit"
    """Within one substitution, insertion or deletion of that, e.g. one character misread or lost."""


@dataclass(frozen=True, slots=True)
class HotlistEntry:
    """A plate (or a pattern with `*` and `?`) that raises an alert whenever a camera reads it."""

    id: str
    plate: str
    """Normalised plate ("BG123AB") or pattern ("BG*AB", "?G12?AB")."""
    reason: str
    owner: str
    created_at: datetime
    expires_at: datetime | None = None
    active: bool = True
    """False once removed; removed entries are kept because alerts refer to them."""
    removed_at: datetime | None = None

    @property
    def is_pattern(self) -> bool:
        return "*" in self.plate or "?" in self.plate

    def in_force(self, now: datetime) -> bool:
        """Active and not yet expired at `now`: only such entries match reads."""
        return self.active and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class HotlistHit:
    """A plate read that matched a hotlist entry: the alert to raise and the evidence behind it."""

    alert: Alert
    entry: HotlistEntry
    read: PlateRead
    kind: PlateMatchKind


FACE_EMBEDDING_DIM = 128
"""Length of a face embedding (dlib's ResNet); stored as float32, compared by Euclidean distance."""


class AuthorisationPurpose(enum.StrEnum):
    """Why remote biometric identification may be used: the cases of EU AI Act Art. 5(1)(h).

    Real-time remote biometric identification in public spaces for law enforcement is prohibited
    except for these purposes, each under a prior authorisation by a judicial or independent
    administrative authority. Anything else is not a purpose the store will record.
    """

    VICTIM_SEARCH = "victim_search"
    """Targeted search for specific victims of abduction, trafficking or sexual exploitation."""
    MISSING_PERSON = "missing_person"
    """Search for a missing person."""
    IMMINENT_THREAT = "imminent_threat"
    """Prevention of a specific, substantial and imminent threat to life or of a terrorist attack."""
    SERIOUS_CRIME_SUSPECT = "serious_crime_suspect"
    """Locating or identifying a person suspected of a serious criminal offence (Annex II)."""


@dataclass(frozen=True, slots=True)
class Authorisation:
    """A legal authorisation for face matching: who granted it, why, where and when it applies.

    Matching is allowed only on its cameras, for sightings inside [valid_from, valid_until], and
    only while it has not expired: after `expires_at` nothing matches, whatever the window says.
    """

    id: str
    authority: str
    reference: str
    purpose: AuthorisationPurpose
    camera_ids: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    expires_at: datetime
    created_by: str
    created_at: datetime
    status: str = "approved"
    """approved; pending (urgent use before approval); refused, lapsed (not approved in time) or
    expired: the last three match nothing and their watchlists are deleted."""
    note: str = ""
    urgent: bool = False
    """Urgent use: matching may start before approval, until `approval_deadline`."""
    use: str = "realtime"
    """realtime or retrospective: sets the approval deadline of urgent use (24 h / 48 h by default)."""
    approval_deadline: datetime | None = None
    decided_by: str = ""
    decided_at: datetime | None = None

    def status_at(self, now: datetime) -> str:
        """The status at `now`, from the clock: past its expiry an authorisation is expired, and an
        urgent one past its approval deadline lapsed, before any sweep has recorded it (`status`
        is what was last stored; `governance.authorisations.enforce` stores the end)."""
        if self.status in ("refused", "lapsed", "expired"):
            return self.status
        if now >= self.expires_at:
            return "expired"
        if self.status == "pending" and self.approval_deadline is not None and now >= self.approval_deadline:
            return "lapsed"
        return self.status

    def as_of(self, now: datetime) -> Authorisation:
        """This authorisation with its status at `now` (`status_at`): what every listing shows."""
        status = self.status_at(now)
        return self if status == self.status else dataclasses.replace(self, status=status)

    def in_force(self, now: datetime) -> bool:
        """Approved, or urgent and still inside its approval deadline; and not expired."""
        if now >= self.expires_at:
            return False
        if self.status == "approved":
            return True
        return (
            self.status == "pending"
            and self.urgent
            and self.approval_deadline is not None
            and now < self.approval_deadline
        )

    def covers(self, camera_id: str, ts: datetime, now: datetime) -> bool:
        """Whether a sighting on `camera_id` at `ts` may be matched at `now` under this authorisation."""
        return (
            self.in_force(now)
            and camera_id in self.camera_ids
            and self.valid_from <= ts <= self.valid_until
            and ts < self.expires_at
        )


@dataclass(frozen=True, slots=True)
class FaceWatchlist:
    """A named face watchlist under one authorisation; `version` grows with every change to it."""

    id: str
    name: str
    authorisation_id: str
    description: str
    version: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EnrolledPhoto:
    """One photo of an enrolled person: where the image is stored and where the face is in it."""

    id: str
    entry_id: str
    media_ref: str
    bbox: BBox
    quality: float


@dataclass(frozen=True, slots=True)
class WatchlistPerson:
    """A person enrolled on a face watchlist, with the photos their template was made from."""

    id: str
    watchlist_id: str
    label: str
    note: str
    created_at: datetime
    photos: tuple[EnrolledPhoto, ...] = ()


@dataclass(frozen=True, slots=True)
class FaceTemplate:
    """What the matcher compares a sighting with: one enrolled person, their list and its authorisation."""

    entry_id: str
    watchlist_id: str
    watchlist_name: str
    watchlist_version: int
    label: str
    vector: tuple[float, ...]
    """The template: the mean of the person's photo embeddings (FACE_EMBEDDING_DIM values)."""
    photo_ref: str
    """Media reference of the person's best enrolled photo, shown beside the probe in an alert."""
    authorisation: Authorisation
    photos: tuple[tuple[float, ...], ...] = ()
    """Each enrolled photo's embedding: the cohort the other people's faces are judged against."""


@dataclass(frozen=True, slots=True)
class FaceSearchHit:
    """A stored face sighting found by a retrospective search, nearest first."""

    sighting_id: str
    camera_id: str
    timestamp: datetime
    distance: float
    """Euclidean distance between the query and the sighting's embedding."""
    snapshot: str
    bbox: BBox
    track_id: int | None = None


PROBE_EXTRA_MARGIN = 0.5
"""A face snapshot keeps this much more context than `store.snapshot_margin`: head, shoulders."""


def probe_face_box(face: BBox, snapshot_margin: float) -> BBox:
    """Where the face of a sighting lies inside its stored snapshot (the crop taken around it).

    The crop is clipped only at the frame's edges; clipping on the right or bottom does not move
    the face, and the left and top clip follow from the face's own position.
    """
    crop = context_box(face, (1 << 30, 1 << 30), snapshot_margin + PROBE_EXTRA_MARGIN)
    return BBox(face.x - crop.x, face.y - crop.y, face.w, face.h)
