"""Names shared by the API tests and their fixtures (conftest.py holds the fixtures themselves)."""

from __future__ import annotations

from dataclasses import dataclass

from safecity.types import BBox

PASSWORD = "a long enough password"
FACE = BBox(160, 137, 216, 216)  # Grace Hopper's face in her portrait


@dataclass(frozen=True)
class World:
    face_alert: str
    plate_alert: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
