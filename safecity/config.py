"""The one typed settings tree: defaults here, overridden by `safecity.toml`, then `SAFECITY_*` env vars.

Nested fields are reached from the environment with a double underscore, for example
`SAFECITY_MOTION__VAR_THRESHOLD=24`. The TOML file is `./safecity.toml`, or the path in
`SAFECITY_CONFIG`, or the one passed with `safecity --config`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("safecity.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CameraDefaults(_Section):
    """Values a newly registered camera gets unless the registration says otherwise."""

    analysis_fps: float = Field(5.0, gt=0, description="Frames per second handed to analysers.")
    retention_days: int = Field(30, ge=1, le=3650, description="How long observations are kept.")
    operator: str = Field("", description="Organisation that runs the camera (public register).")
    legal_basis: str = Field("", description="Law or decision the camera operates under.")


class MotionSettings(_Section):
    """Background subtraction (OpenCV MOG2) that gates frames before the expensive analysers."""

    downscale_width: int = Field(640, ge=64, description="Width frames are shrunk to before subtraction.")
    history: int = Field(120, ge=2, description="Frames the background model remembers.")
    var_threshold: float = Field(32.0, gt=0, description="MOG2 variance threshold; higher = less sensitive.")
    detect_shadows: bool = Field(True, description="Mark shadows (then ignored) instead of foreground.")
    min_blob_area_fraction: float = Field(
        0.0015, gt=0, lt=1, description="Smallest moving blob kept, as a fraction of the frame area."
    )
    warmup_frames: int = Field(5, ge=0, description="Frames used only to learn the background.")
    close_kernel_px: int = Field(
        7, ge=1, description="Closing kernel (at the downscaled width) that joins one object's fragments."
    )
    merge_overlap: float = Field(
        0.5, gt=0, le=1, description="Blobs overlapping this share of the smaller one are merged."
    )


class TrackingSettings(_Section):
    """Greedy IoU tracker that turns per-frame blobs into motion tracks."""

    iou_threshold: float = Field(0.2, gt=0, lt=1, description="Minimum overlap to continue a track.")
    max_missed_frames: int = Field(3, ge=0, description="Analysed frames a track may go unseen.")
    min_track_frames: int = Field(3, ge=1, description="Tracks seen on fewer frames are discarded as noise.")


class PlateSettings(_Section):
    """Licence-plate reading: localisation, recognition, validation and per-track voting."""

    min_read_confidence: float = Field(
        0.5, ge=0, le=1, description="Recognition confidence below which a single read is discarded."
    )
    unknown_format_factor: float = Field(
        0.6, gt=0, le=1, description="Confidence multiplier for reads that match no known country format."
    )
    min_votes: int = Field(2, ge=1, description="Reads of one passage needed before a plate is stored.")
    snapshot_context: float = Field(
        1.0, ge=0, description="Context kept around a plate in its snapshot, as a share of the plate size."
    )
    group_gap_s: float = Field(
        3.0, gt=0, description="A passage's reads outside any motion track end after this long without one."
    )


class StoreSettings(_Section):
    """Database writing."""

    batch_size: int = Field(500, ge=1, description="Observations per write transaction.")
    flush_interval_s: float = Field(1.0, gt=0, description="Longest an observation waits for its batch.")
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0, description="How long SQLite waits for a lock.")
    snapshot_jpeg_quality: int = Field(85, ge=10, le=100, description="JPEG quality of stored snapshots.")
    snapshot_margin: float = Field(
        0.15, ge=0, le=2, description="Context around an object's box in its snapshot, as a share of the box."
    )
    pg_pool_size: int = Field(5, ge=1, description="PostgreSQL connections kept open per process.")
    pg_max_overflow: int = Field(5, ge=0, description="Extra PostgreSQL connections allowed under load.")


class SimSettings(_Section):
    """The synthetic city used by the demo and by tests."""

    width: int = Field(1280, ge=320, description="Rendered frame width.")
    height: int = Field(720, ge=240, description="Rendered frame height.")
    fps: float = Field(10.0, gt=0, description="Rendered frames per second.")
    cameras: int = Field(6, ge=1, description="Cameras in the demo scenario.")
    seconds: float = Field(30.0, gt=0, description="Length of each rendered clip.")
    seed: int = Field(1, description="Seed: the same seed renders the same city.")


class Settings(BaseSettings):
    """All of Open Safe City's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SAFECITY_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Field(Path("var"), description="Where the database, media and demo output live.")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite at <data_dir>/safecity.db (WAL mode)."
    )
    media_dir: Path | None = Field(None, description="Snapshots and clips; default <data_dir>/media.")
    camera_defaults: CameraDefaults = CameraDefaults()
    motion: MotionSettings = MotionSettings()
    tracking: TrackingSettings = TrackingSettings()
    plates: PlateSettings = PlateSettings()
    store: StoreSettings = StoreSettings()
    sim: SimSettings = SimSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _config_file_in_use
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'safecity.db').as_posix()}"

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.data_dir / "media"


_config_file_in_use: Path | None = None


def resolve_config_file(explicit: Path | None = None) -> Path | None:
    """The TOML file to read: the explicit one, else $SAFECITY_CONFIG, else ./safecity.toml if present."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get("SAFECITY_CONFIG")
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings tree; raises ValueError naming the file when it is missing or invalid."""
    global _config_file_in_use
    path = resolve_config_file(config_file)
    if path is not None and not path.is_file():
        raise ValueError(f"config file {path} does not exist")
    _config_file_in_use = path
    try:
        return Settings(**overrides)
    finally:
        _config_file_in_use = None


def redact_url(url: str) -> str:
    """Hide the password of a database or stream URL so it can be printed or logged."""
    scheme_sep = url.find("://")
    at = url.rfind("@")
    if scheme_sep < 0 or at < scheme_sep:
        return url
    credentials = url[scheme_sep + 3 : at]
    if ":" not in credentials:
        # A lone user part is often a token (rtsp://TOKEN@host), so it is hidden as well.
        return f"{url[: scheme_sep + 3]}***{url[at:]}"
    user = credentials.split(":", 1)[0]
    return f"{url[: scheme_sep + 3]}{user}:***{url[at:]}"
