"""The dashboard's camera wall: who sees which tiles, and how the cameras are paged."""

from __future__ import annotations

import dataclasses

import pytest
from factories import camera

from safecity.governance.access import Caller
from safecity.governance.permissions import Role
from safecity.server.web.wall import build, parse_first, watchable
from safecity.types import Camera

STREAM = "rtsp://127.0.0.1:8554/cam"


def cameras(n: int) -> list[Camera]:
    return [camera(f"cam-{i:02d}", stream_url=STREAM) for i in range(n)]


def test_a_camera_without_a_stream_or_disabled_is_no_tile() -> None:
    cams = [
        camera("a", stream_url=STREAM),
        camera("b", stream_url=""),
        dataclasses.replace(camera("c", stream_url=STREAM), enabled=False),
    ]
    assert [c.id for c in watchable(Caller("op", Role.OPERATOR.value), cams)] == ["a"]


def test_a_user_limited_to_cameras_sees_only_those() -> None:
    limited = Caller("op", Role.OPERATOR.value, frozenset({"cam-02"}))
    assert [c.id for c in watchable(limited, cameras(4))] == ["cam-02"]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_a_role_without_view_live_has_no_tiles(role: Role) -> None:
    assert watchable(Caller("x", role.value), cameras(3)) == []


@pytest.mark.parametrize(
    ("layout", "n", "first", "shown", "previous", "next_"),
    [
        ("2x2", 3, 0, 3, None, None),
        ("2x2", 5, 0, 4, None, 4),
        ("2x2", 5, 4, 1, 0, None),
        ("2x2", 5, 6, 1, 0, None),  # past the end: the last page
        ("2x2", 9, 5, 4, 0, 8),  # rounded down to the page's start
        ("3x3", 5, 0, 5, None, None),
        ("3x3", 20, 9, 9, 0, 18),
        ("3x3", 0, 0, 0, None, None),
    ],
)
def test_pages(layout: str, n: int, first: int, shown: int, previous: int | None, next_: int | None) -> None:
    wall = build(cameras(n), {}, layout, first)
    assert (len(wall.tiles), wall.previous, wall.next) == (shown, previous, next_)


def test_a_tile_carries_the_cameras_state() -> None:
    wall = build(cameras(2), {"cam-01": "running"}, "2x2", 0)
    assert [state for _, state in wall.tiles] == ["unknown", "running"]


@pytest.mark.parametrize("layout", ["4x4", "", "2X2"])
def test_an_unknown_layout_is_refused(layout: str) -> None:
    with pytest.raises(ValueError, match="unknown wall layout"):
        build(cameras(1), {}, layout, 0)


@pytest.mark.parametrize("text", ["-1", "x", "1e3", "9999999999"])
def test_a_bad_first_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="whole number"):
        parse_first(text)
