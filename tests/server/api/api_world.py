"""Names shared by the API tests and their fixtures (conftest.py holds the fixtures themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safecity.types import BBox

PASSWORD = "a long enough password"
FACE = BBox(160, 137, 216, 216)  # Grace Hopper's face in her portrait


@dataclass(frozen=True)
class World:
    face_alert: str
    plate_alert: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Template:
    """The world and tokens built once per test module, copied for each test (see conftest)."""

    root: Path
    tokens: dict[str, str]
    world: World
