"""The shared records that flow between stages: cameras, frames, observations, alerts.

Every record is a frozen dataclass; stages hand these to each other and never mutate them.
Times are timezone-aware UTC datetimes; boxes are pixel coordinates in the full frame.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

BGRImage = npt.NDArray[np.uint8]


class Capability(enum.StrEnum):
    """What a camera is allowed and able to analyse."""

    FACES = "faces"
    PLATES = "plates"
    TRAFFIC = "traffic"
    MOTION = "motion"


def new_id() -> str:
    """A fresh observation or entity id (32 hex characters, globally unique)."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Site:
    """A physical location (pole, building, junction) that holds one or more cameras."""

    id: str
    name: str
    latitude: float
    longitude: float
    address: str = ""


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
