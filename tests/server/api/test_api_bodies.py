"""Response bodies read from domain records (`DomainOut.of`): renamed fields, extras, nothing leaked."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from pydantic import Field, ValidationError

from safecity.server.api.routes.alerts import AlertOut
from safecity.server.api.routes.cameras import CameraOut
from safecity.server.api.schemas import DomainOut
from safecity.store.alerts import StoredAlert
from safecity.types import Alert, AlertKind, Camera, Capability

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class _Record:
    name: str
    ts: datetime


class _Body(DomainOut):
    name: str
    time: datetime = Field(validation_alias="ts")
    count: int


def test_of_reads_renamed_fields_and_takes_extras() -> None:
    body = _Body.of(_Record("a", T0), count=3)
    assert (body.name, body.time, body.count) == ("a", T0, 3)


def test_an_extra_overrides_the_records_value() -> None:
    assert _Body.of(_Record("a", T0), name="b", count=1).name == "b"


def test_a_missing_value_is_a_validation_error_not_a_silent_default() -> None:
    with pytest.raises(ValidationError, match="count"):
        _Body.of(_Record("a", T0))


def test_an_alert_body_reads_the_nested_alert() -> None:
    alert = Alert(
        id="al1",
        kind=AlertKind.PLATE_HOTLIST,
        camera_id="cam-1",
        timestamp=T0,
        message="BG 123 AB",
        observation_id="ob1",
        watchlist_id=None,
        score=0.9,
    )
    body = AlertOut.of(StoredAlert(alert=alert, status="new", handled_by=None, handled_at=None, evidence={}))
    assert body.model_dump() == {
        "id": "al1",
        "kind": AlertKind.PLATE_HOTLIST,
        "camera_id": "cam-1",
        "time": T0,
        "message": "BG 123 AB",
        "observation_id": "ob1",
        "watchlist_id": None,
        "score": 0.9,
        "status": "new",
        "handled_by": None,
        "handled_at": None,
    }


def _camera() -> Camera:
    return Camera(
        id="cam-1",
        name="Gate",
        site_id="s1",
        latitude=42.7,
        longitude=23.3,
        capabilities=frozenset({Capability.PLATES, Capability.FACES}),
        stream_url="rtsp://user:hunter2@10.0.0.1/stream1",
    )


def test_a_camera_body_never_copies_the_stream_url_by_itself() -> None:
    assert CameraOut.of(_camera()).stream_url is None


def test_a_camera_body_lists_capabilities_sorted_by_name() -> None:
    assert CameraOut.of(_camera()).capabilities == ["faces", "plates"]
