"""Section speed: pairing rules (exact, confusable, one edit), clock offset, plausible window,
nearest read wins, no double pairing, violation threshold, configuration and bad sections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safecity.analytics.traffic.section_speed import (
    Section,
    SectionSpeedMatcher,
    build_sections,
    haversine_m,
    measure,
    violation_of,
)
from safecity.config import SectionConfig, TrafficSettings
from safecity.types import BBox, Camera, PlateMatchKind, PlateRead, new_id

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
EXACT, CONFUSABLE, ONE_EDIT = PlateMatchKind.EXACT, PlateMatchKind.CONFUSABLE, PlateMatchKind.ONE_EDIT
# 1000 m: 36 s at 100 km/h, 72 s at 50 km/h; plausible 5-250 km/h = 14.4 s to 720 s.
SECTION = Section("s1", "cam-a", "cam-b", distance_m=1000.0, speed_limit_kmh=50.0, tolerance_kmh=3.0)


def read(camera: str, plate: str, at_s: float, read_id: str | None = None) -> PlateRead:
    return PlateRead(
        id=read_id or new_id(),
        camera_id=camera,
        timestamp=T0 + timedelta(seconds=at_s),
        bbox=BBox(1, 2, 120, 30),
        confidence=0.9,
        text=plate,
        normalised=plate,
    )


def run(
    reads: list[PlateRead], section: Section = SECTION, **kw: object
) -> list[tuple[str, str, float, str]]:
    """(A id, B id, km/h rounded, match kind) of every measurement."""
    matcher = SectionSpeedMatcher([section], **kw)  # type: ignore[arg-type]
    ordered = sorted(reads, key=lambda r: r.timestamp)
    return [(m.read_a_id, m.read_b_id, round(m.speed_kmh, 3), m.match.value) for m in matcher.run(ordered)]


@pytest.mark.parametrize(
    ("at_a", "at_b", "kind"),
    [
        ("BG123AB", "BG123AB", EXACT),
        ("BG12OAB", "BG120AB", CONFUSABLE),
        ("BG123AB", "8G123AB", CONFUSABLE),
        ("BG123AB", "BG123A8", CONFUSABLE),
        ("BG123AB", "BG12JAB", ONE_EDIT),  # substitution beyond the confusion classes
        ("BG123AB", "BG1234AB", ONE_EDIT),  # a character more at B
        ("BG1234AB", "BG123AB", ONE_EDIT),  # a character lost at B
        ("BG123AB", "XG12JAB", None),  # two edits
        ("NS55XY", "NS56XY", None),  # short plate: no one-edit pairing
        ("NS55XY", "N555XY", CONFUSABLE),
        ("BG123AB", "NS999XY", None),
    ],
)
def test_pairing_kinds(at_a: str, at_b: str, kind: PlateMatchKind | None) -> None:
    a, b = read("cam-a", at_a, 0, "a"), read("cam-b", at_b, 60, "b")
    got = run([a, b])
    if kind is None:
        assert got == []
    else:
        assert got == [("a", "b", 60.0, kind.value)]


def test_better_kind_wins_over_nearer_read() -> None:
    reads = [
        read("cam-a", "BG123AB", 0, "exact"),
        read("cam-a", "BG12JAB", 30, "near"),
        read("cam-b", "BG123AB", 60),
    ]
    assert [g[0] for g in run(reads)] == ["exact"]


@pytest.mark.parametrize(
    ("offset_s", "stamp_b", "speed"),
    [
        (0.0, 72.0, 50.0),
        (10.0, 82.0, 50.0),  # B's clock 10 s ahead: 82 s on B's clock is 72 s on A's
        (-10.0, 62.0, 50.0),  # B's clock 10 s behind
        (5.0, 41.0, 100.0),
    ],
)
def test_clock_offset(offset_s: float, stamp_b: float, speed: float) -> None:
    section = Section("s1", "cam-a", "cam-b", 1000.0, 50.0, clock_offset_s=offset_s)
    got = run([read("cam-a", "BG123AB", 0), read("cam-b", "BG123AB", stamp_b)], section)
    assert [g[2] for g in got] == [speed]


@pytest.mark.parametrize(
    ("stamp_b", "pairs"),
    [
        (14.0, False),  # 257 km/h: faster than plausible
        (14.5, True),
        (719.0, True),
        (721.0, False),  # 4.99 km/h: another trip
        (-5.0, False),  # read at B before A
    ],
)
def test_outside_plausible_window_never_pairs(stamp_b: float, pairs: bool) -> None:
    got = run([read("cam-a", "BG123AB", 0), read("cam-b", "BG123AB", stamp_b)])
    assert bool(got) is pairs


def test_clock_offset_moves_the_window() -> None:
    # Without the offset, 10 s stamped travel would be 360 km/h and refused; B runs 50 s behind.
    section = Section("s1", "cam-a", "cam-b", 1000.0, 50.0, clock_offset_s=-50.0)
    got = run([read("cam-a", "BG123AB", 0), read("cam-b", "BG123AB", 10)], section)
    assert [g[2] for g in got] == [60.0]


def test_nearest_read_at_a_wins() -> None:
    reads = [
        read("cam-a", "BG123AB", 0, "early"),
        read("cam-a", "BG123AB", 20, "late"),
        read("cam-b", "BG123AB", 80, "b"),
    ]
    assert run(reads) == [("late", "b", 60.0, "exact")]


def test_nearest_plausible_read_wins_not_an_implausible_nearer_one() -> None:
    reads = [
        read("cam-a", "BG123AB", 0, "plausible"),
        read("cam-a", "BG123AB", 70, "too-close"),  # 10 s before B: 360 km/h
        read("cam-b", "BG123AB", 80, "b"),
    ]
    assert [g[0] for g in run(reads)] == ["plausible"]


def test_a_read_never_pairs_twice() -> None:
    reads = [
        read("cam-a", "BG123AB", 0, "a"),
        read("cam-b", "BG123AB", 60, "b1"),
        read("cam-b", "BG123AB", 90, "b2"),
    ]
    assert run(reads) == [("a", "b1", 60.0, "exact")]


def test_two_vehicles_each_pair_once() -> None:
    reads = [
        read("cam-a", "BG123AB", 0, "a1"),
        read("cam-a", "BG12OAB", 5, "a2"),
        read("cam-b", "BG12OAB", 65, "b2"),
        read("cam-b", "BG123AB", 72, "b1"),
    ]
    assert sorted(run(reads)) == [("a1", "b1", 50.0, "exact"), ("a2", "b2", 60.0, "exact")]


def test_direction_matters_and_other_cameras_are_ignored() -> None:
    reads = [read("cam-b", "BG123AB", 0), read("cam-x", "BG123AB", 30), read("cam-a", "BG123AB", 60)]
    assert run(reads) == []


def test_chained_sections_and_late_reads() -> None:
    ab = SECTION
    bc = Section("s2", "cam-b", "cam-c", 500.0, 50.0)
    reads = [read("cam-a", "BG123AB", 0), read("cam-b", "BG123AB", 72), read("cam-c", "BG123AB", 108)]
    # Out of order within the allowed lateness: still paired as if in order.
    shuffled = [reads[1], reads[0], reads[2]]
    matcher = SectionSpeedMatcher([ab, bc], allowed_lateness_s=100.0)
    got = sorted((m.section.id, round(m.speed_kmh, 3)) for m in matcher.run(shuffled))
    assert got == [("s1", 50.0), ("s2", 50.0)]
    assert matcher.late == 0


def test_memory_is_bounded_by_the_window() -> None:
    section = Section("s1", "cam-a", "cam-b", 100.0, 50.0, min_speed_kmh=10.0)  # max travel 36 s
    matcher = SectionSpeedMatcher([section], allowed_lateness_s=0.0)
    for i in range(5000):
        matcher.push(read("cam-a", f"BG{i:04d}AB", i))
    assert matcher.pending <= 40
    assert measure([section], [read("cam-a", "BG1AB", 0), read("cam-b", "BG1AB", 7.2)]) != []


@pytest.mark.parametrize(
    ("speed_kmh", "tolerance_kmh", "tolerance_percent", "violates"),
    [
        (52.99, 3.0, 0.0, False),  # within limit + tolerance
        (53.1, 3.0, 0.0, True),
        (50.1, 0.0, 0.0, True),
        (54.99, 0.0, 10.0, False),
        (55.2, 0.0, 10.0, True),
        (57.9, 3.0, 10.0, False),
        (58.1, 3.0, 10.0, True),
    ],
)
def test_violation_threshold(
    speed_kmh: float, tolerance_kmh: float, tolerance_percent: float, violates: bool
) -> None:
    section = Section("s1", "cam-a", "cam-b", 1000.0, 50.0, tolerance_kmh, tolerance_percent)
    travel = 1000.0 / (speed_kmh / 3.6)
    [m] = measure([section], [read("cam-a", "BG123AB", 0), read("cam-b", "BG123AB", travel)])
    assert m.speed_kmh == pytest.approx(speed_kmh, abs=1e-6)
    v = violation_of(m)
    assert (v is not None) is violates
    if v is not None:
        assert v.excess_kmh == pytest.approx(speed_kmh - 50.0, abs=1e-6)
        assert v.threshold_kmh == pytest.approx(50.0 + tolerance_kmh + 50.0 * tolerance_percent / 100)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"distance_m": 0.0}, "distance_m"),
        ({"distance_m": -5.0}, "distance_m"),
        ({"distance_m": float("nan")}, "distance_m"),
        ({"camera_b": "cam-a"}, "camera_b"),
        ({"camera_a": ""}, "camera_a"),
        ({"id": " "}, "id"),
        ({"speed_limit_kmh": 0.0}, "speed_limit_kmh"),
        ({"tolerance_kmh": -1.0}, "tolerance_kmh"),
        ({"tolerance_percent": 150.0}, "tolerance_percent"),
        ({"clock_offset_s": float("inf")}, "clock_offset_s"),
        ({"min_speed_kmh": 0.0}, "min_speed_kmh"),
        ({"max_speed_kmh": 4.0}, "max_speed_kmh"),
    ],
)
def test_bad_sections_raise_naming_the_field(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "id": "s1",
        "camera_a": "cam-a",
        "camera_b": "cam-b",
        "distance_m": 1000.0,
        "speed_limit_kmh": 50.0,
    }
    values.update(changes)
    with pytest.raises(ValueError, match=field):
        Section(**values)  # type: ignore[arg-type]


def test_duplicate_section_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="s1"):
        SectionSpeedMatcher([SECTION, SECTION])


def _camera(camera_id: str, lat: float, lon: float) -> Camera:
    return Camera(id=camera_id, name=camera_id, site_id="site", latitude=lat, longitude=lon)


def test_sections_from_settings() -> None:
    cams = {c.id: c for c in (_camera("cam-a", 44.80, 20.46), _camera("cam-b", 44.80, 20.47))}
    settings = TrafficSettings(
        tolerance_kmh=4.0,
        clock_offset_s=1.5,
        sections=[
            SectionConfig(id="given", camera_a="cam-a", camera_b="cam-b", speed_limit_kmh=50, distance_m=900),
            SectionConfig(
                id="straight", camera_a="cam-b", camera_b="cam-a", speed_limit_kmh=60, tolerance_kmh=2
            ),
        ],
    )
    given, straight = build_sections(settings, cams)
    assert given.distance_m == 900 and given.tolerance_kmh == 4.0 and given.clock_offset_s == 1.5
    assert straight.distance_m == pytest.approx(haversine_m(44.80, 20.47, 44.80, 20.46))
    assert 780 < straight.distance_m < 800  # 0.01 degree of longitude at 44.8 N
    assert straight.tolerance_kmh == 2 and straight.max_speed_kmh == 250.0


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ([{"id": "x", "camera_a": "cam-a", "camera_b": "nope", "speed_limit_kmh": 50}], "camera_b 'nope'"),
        (
            [
                {"id": "x", "camera_a": "cam-a", "camera_b": "cam-b", "speed_limit_kmh": 50},
                {"id": "x", "camera_a": "cam-b", "camera_b": "cam-a", "speed_limit_kmh": 50},
            ],
            "id is used",
        ),
        ([{"id": "x", "camera_a": "cam-a", "camera_b": "cam-a", "speed_limit_kmh": 50}], "camera_b"),
    ],
)
def test_bad_configured_sections(sections: list[dict[str, object]], message: str) -> None:
    cams = {c.id: c for c in (_camera("cam-a", 44.80, 20.46), _camera("cam-b", 44.80, 20.47))}
    settings = TrafficSettings(sections=[SectionConfig(**s) for s in sections])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        build_sections(settings, cams)
