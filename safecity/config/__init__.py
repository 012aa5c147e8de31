"""The one typed settings tree: defaults here, overridden by `safecity.toml`, then `SAFECITY_*` env vars.

Nested fields are reached from the environment with a double underscore, for example
`SAFECITY_MOTION__VAR_THRESHOLD=24`. The TOML file is `./safecity.toml`, or the path in
`SAFECITY_CONFIG`, or the one passed with `safecity --config`. Each section lives in its own
module on the shared `SectionModel` base (safecity.config.base); the root `Settings` and its
loading live in safecity.config.settings. This package re-exports all of them, so importers
write `from safecity.config import ...` whatever module a name is defined in.
"""

from __future__ import annotations

from safecity.config.api import ApiSettings
from safecity.config.base import SectionModel
from safecity.config.cameras import CameraDefaults
from safecity.config.citymap import MapSettings
from safecity.config.cluster import ActorResources, ClusterSettings
from safecity.config.counting import (
    MAX_COUNTING_ITEMS,
    CameraCountingConfig,
    CountingGeometry,
    CountingLineConfig,
    CountingSettings,
    CountingZoneConfig,
    counting_from_json,
    counting_to_json,
)
from safecity.config.faces import FaceSettings
from safecity.config.governance import GovernanceSettings
from safecity.config.hotlists import HotlistSettings
from safecity.config.motion import MotionSettings
from safecity.config.plates import DEFAULT_SECOND_LOOKS, DETECTOR_SIDE_STEP, PlateSettings, SecondLook
from safecity.config.recording import RecordingSettings
from safecity.config.retention import MIN_AUDIT_RETENTION_DAYS, RetentionSettings
from safecity.config.search import SearchSettings
from safecity.config.settings import (
    DEFAULT_CONFIG_FILE,
    Settings,
    load_settings,
    redact_url,
    resolve_config_file,
)
from safecity.config.sim import SimSettings
from safecity.config.store import StoreSettings
from safecity.config.streams import StreamSettings
from safecity.config.tracking import TrackingSettings
from safecity.config.traffic import SectionConfig, TrafficSettings

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_SECOND_LOOKS",
    "DETECTOR_SIDE_STEP",
    "MAX_COUNTING_ITEMS",
    "MIN_AUDIT_RETENTION_DAYS",
    "ActorResources",
    "ApiSettings",
    "CameraCountingConfig",
    "CameraDefaults",
    "ClusterSettings",
    "CountingGeometry",
    "CountingLineConfig",
    "CountingSettings",
    "CountingZoneConfig",
    "FaceSettings",
    "GovernanceSettings",
    "HotlistSettings",
    "MapSettings",
    "MotionSettings",
    "PlateSettings",
    "RecordingSettings",
    "RetentionSettings",
    "SearchSettings",
    "SecondLook",
    "SectionConfig",
    "SectionModel",
    "Settings",
    "SimSettings",
    "StoreSettings",
    "StreamSettings",
    "TrackingSettings",
    "TrafficSettings",
    "counting_from_json",
    "counting_to_json",
    "load_settings",
    "redact_url",
    "resolve_config_file",
]
