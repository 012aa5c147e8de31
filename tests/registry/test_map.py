"""The camera map's geometry shared by the public register and the web pages."""

from __future__ import annotations

import pytest
from factories import camera

from safecity.registry.map import MAP_HEIGHT, MAP_PAD, MAP_WIDTH, project
from safecity.types import Capability


def test_north_is_up_and_east_is_right() -> None:
    south_west = camera("sw", latitude=44.80, longitude=20.40)
    north_east = camera("ne", latitude=44.82, longitude=20.44)
    sw, ne = project([south_west, north_east])
    assert ne.x > sw.x
    assert ne.y < sw.y


def test_the_cameras_fit_inside_the_padding() -> None:
    points = project([camera(f"c{i}", latitude=44.8 + i / 100, longitude=20.4 + i / 50) for i in range(5)])
    assert all(MAP_PAD - 0.1 <= p.x <= MAP_WIDTH - MAP_PAD + 0.1 for p in points)
    assert all(MAP_PAD - 0.1 <= p.y <= MAP_HEIGHT - MAP_PAD + 0.1 for p in points)


def test_one_camera_sits_in_the_middle() -> None:
    (point,) = project([camera("only")])
    assert (point.x, point.y) == (MAP_WIDTH / 2, MAP_HEIGHT / 2)


def test_no_cameras_no_points() -> None:
    assert project([]) == []


@pytest.mark.parametrize(
    ("capabilities", "kind"),
    [
        (frozenset({Capability.FACES, Capability.PLATES}), "faces"),
        (frozenset({Capability.PLATES}), "plates"),
        (frozenset({Capability.MOTION}), "other"),
    ],
)
def test_the_kind_is_the_most_intrusive_analysis(capabilities: frozenset[Capability], kind: str) -> None:
    assert project([camera("c", capabilities=capabilities)])[0].kind == kind


@pytest.mark.parametrize(
    ("enabled", "states", "state"),
    [(True, {"c": "running"}, "running"), (True, {}, "unknown"), (False, {"c": "running"}, "disabled")],
)
def test_the_state_is_live_unknown_or_disabled(enabled: bool, states: dict[str, str], state: str) -> None:
    assert project([camera("c", enabled=enabled)], states)[0].state == state
