"""A camera's counting lines and zones as the registry stores them (`CountingGeometry` as JSON).

The same object is the `safecity:counting` property of the register's GeoJSON, the
`cameras.counting` column and the `counting` of the API's camera; `CountingGeometry` (in
`config`) validates it, so a line whose points coincide or a zone without area is refused
wherever it comes in.
"""

from __future__ import annotations

from typing import Any

from safecity.config import CountingGeometry


def counting_to_json(counting: CountingGeometry | None) -> dict[str, Any] | None:
    """The camera's counting geometry as stored; None when it has none."""
    return None if counting is None else counting.model_dump(mode="json")


def counting_from_json(value: object) -> CountingGeometry | None:
    """Back from `counting_to_json`; ValueError (pydantic's ValidationError) when it is not valid."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"must be an object of lines and zones, got {type(value).__name__}")
    return CountingGeometry.model_validate(value)
