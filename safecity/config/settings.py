"""The root of the settings tree and how it is loaded: `Settings` (pydantic-settings; `SAFECITY_` env prefix,
`__` between nested names, then the TOML file), the TOML file lookup (`DEFAULT_CONFIG_FILE`,
`resolve_config_file`), `load_settings`, and `redact_url` for printing the URLs it holds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from safecity.config.api import ApiSettings
from safecity.config.cameras import CameraDefaults
from safecity.config.citymap import MapSettings
from safecity.config.cluster import ClusterSettings
from safecity.config.counting import CountingSettings
from safecity.config.faces import FaceSettings
from safecity.config.governance import GovernanceSettings
from safecity.config.hotlists import HotlistSettings
from safecity.config.motion import MotionSettings
from safecity.config.plates import PlateSettings
from safecity.config.recording import RecordingSettings
from safecity.config.retention import RetentionSettings
from safecity.config.search import SearchSettings
from safecity.config.sim import SimSettings
from safecity.config.store import StoreSettings
from safecity.config.streams import StreamSettings
from safecity.config.tracking import TrackingSettings
from safecity.config.traffic import TrafficSettings

DEFAULT_CONFIG_FILE = Path("safecity.toml")


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
    hotlists: HotlistSettings = HotlistSettings()
    search: SearchSettings = SearchSettings()
    faces: FaceSettings = FaceSettings()
    streams: StreamSettings = StreamSettings()
    governance: GovernanceSettings = GovernanceSettings()
    retention: RetentionSettings = RetentionSettings()
    recording: RecordingSettings = RecordingSettings()
    api: ApiSettings = ApiSettings()
    sim: SimSettings = SimSettings()
    traffic: TrafficSettings = TrafficSettings()
    counting: CountingSettings = CountingSettings()
    cluster: ClusterSettings = ClusterSettings()
    map: MapSettings = MapSettings()

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

    @property
    def effective_recordings_dir(self) -> Path:
        path = self.recording.path
        return path if path is not None else self.data_dir / "recordings"

    @property
    def effective_exports_dir(self) -> Path:
        """Evidence packages made from the web UI, one folder per user and export."""
        return self.data_dir / "exports"

    @property
    def effective_model_cache_dir(self) -> Path:
        cache = self.faces.model_cache_dir
        return cache if cache is not None else self.data_dir / "models"

    @property
    def effective_face_calibration_path(self) -> Path:
        path = self.faces.calibration_path
        return path if path is not None else self.data_dir / "face_calibration.npz"

    @property
    def effective_anchor_path(self) -> Path:
        path = self.governance.anchor_path
        return path if path is not None else self.data_dir / "audit-anchors.jsonl"

    @property
    def effective_face_index_path(self) -> Path:
        path = self.faces.index_path
        return path if path is not None else self.data_dir / "face_index.npz"


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
