"""Traffic statistics: hour buckets, mean and 85th percentile on known values, counts per direction/class."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from safecity.analytics.traffic.lines import TrackPath, Zone
from safecity.analytics.traffic.section_speed import Section, SpeedMeasurement
from safecity.analytics.traffic.statistics import (
    LINE_COLUMNS,
    SECTION_COLUMNS,
    ZONE_COLUMNS,
    LineHourCount,
    ZoneVisit,
    line_hour_counts,
    lines_csv,
    mean_and_p85,
    section_hour_stats,
    sections_csv,
    traffic_statistics,
    zone_hour_stats,
    zone_visits,
    zones_csv,
)
from safecity.types import BBox, LineCrossing, PlateMatchKind, PlateRead, new_id

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
SECTION = Section("s1", "cam-1", "cam-2", distance_m=1000.0, speed_limit_kmh=50.0, tolerance_kmh=3.0)


def _read(camera_id: str, at: datetime) -> PlateRead:
    return PlateRead(new_id(), camera_id, at, BBox(1, 2, 120, 30), 0.9, "BG123AB", "BG123AB", "RS")


def measurement(speed_kmh: float, at_b: datetime, section: Section = SECTION) -> SpeedMeasurement:
    travel = section.distance_m / (speed_kmh / 3.6)
    read_a = _read(section.camera_a, at_b - timedelta(seconds=travel))
    return SpeedMeasurement(
        section, read_a, _read(section.camera_b, at_b), travel, speed_kmh, PlateMatchKind.EXACT
    )


def crossing(at: datetime, direction: str = "in", cls: str = "vehicle", line: str = "L1") -> LineCrossing:
    return LineCrossing(new_id(), "cam-1", at, BBox(0, 0, 1, 1), 1.0, line, direction, cls)


@pytest.mark.parametrize(
    ("speeds", "mean", "p85"),
    [
        ([50.0], 50.0, 50.0),
        ([10.0, 20.0, 30.0, 40.0], 25.0, 35.5),  # rank 0.85 * 3 = 2.55: 30 + 0.55 * 10
        ([40.0, 60.0], 50.0, 57.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0], 6.0, 9.5),
    ],
)
def test_mean_and_p85_on_known_values(speeds: list[float], mean: float, p85: float) -> None:
    assert mean_and_p85(speeds) == pytest.approx((mean, p85))


def test_mean_and_p85_refuse_no_values() -> None:
    with pytest.raises(ValueError, match="no speeds"):
        mean_and_p85([])


@pytest.mark.parametrize(
    ("offsets_min", "hours"),
    [
        ([0, 59], [(0, 2)]),
        ([59, 60], [(0, 1), (1, 1)]),
        ([5, 65, 125, 130], [(0, 1), (1, 1), (2, 2)]),
    ],
)
def test_measurements_fall_in_the_hour_of_their_read_at_b(
    offsets_min: list[int], hours: list[tuple[int, int]]
) -> None:
    rows = section_hour_stats(measurement(60.0, T0 + timedelta(minutes=m)) for m in offsets_min)
    assert [(r.hour_start, r.measurements) for r in rows] == [(T0 + timedelta(hours=h), n) for h, n in hours]


def test_section_hour_stats_values_and_violations() -> None:
    other = Section("s0", "cam-3", "cam-4", distance_m=500.0, speed_limit_kmh=80.0)
    ms = [measurement(v, T0 + timedelta(minutes=i)) for i, v in enumerate((40.0, 50.0, 54.0, 80.0))]
    rows = section_hour_stats([*ms, measurement(70.0, T0, other)])
    assert [r.section_id for r in rows] == ["s0", "s1"]
    s1 = rows[1]
    assert (s1.camera_a, s1.camera_b, s1.measurements, s1.violations) == ("cam-1", "cam-2", 4, 2)
    assert s1.mean_speed_kmh == pytest.approx(56.0)
    assert s1.p85_speed_kmh == pytest.approx(54.0 + 0.55 * 26.0)
    assert s1.speed_limit_kmh == 50.0 and rows[0].violations == 0


def test_empty_input_gives_empty_tables() -> None:
    stats = traffic_statistics([], [])
    assert stats.sections == () and stats.lines == ()
    assert sections_csv(stats.sections) == ",".join(SECTION_COLUMNS) + "\n"
    assert lines_csv(stats.lines) == ",".join(LINE_COLUMNS) + "\n"


@pytest.mark.parametrize(
    ("crossings", "expected"),
    [
        (
            [("in", "vehicle"), ("in", "vehicle"), ("out", "vehicle"), ("in", "person")],
            [("in", "person", 1), ("in", "vehicle", 2), ("out", "vehicle", 1)],
        ),
        ([("out", "unknown")], [("out", "unknown", 1)]),
    ],
)
def test_counts_per_direction_and_class(
    crossings: list[tuple[str, str]], expected: list[tuple[str, str, int]]
) -> None:
    rows = line_hour_counts(crossing(T0 + timedelta(minutes=i), d, c) for i, (d, c) in enumerate(crossings))
    assert [(r.direction, r.object_class, r.count) for r in rows] == expected
    assert {r.hour_start for r in rows} == {T0}


def test_counts_split_by_line_and_hour() -> None:
    rows = line_hour_counts([crossing(T0), crossing(T0 + timedelta(minutes=61)), crossing(T0, line="L2")])
    assert rows == [
        LineHourCount("cam-1", "L1", T0, "in", "vehicle", 1),
        LineHourCount("cam-1", "L1", T0 + timedelta(hours=1), "in", "vehicle", 1),
        LineHourCount("cam-1", "L2", T0, "in", "vehicle", 1),
    ]


def test_csv_rows() -> None:
    stats = traffic_statistics(
        [measurement(v, T0 + timedelta(minutes=1)) for v in (10.0, 20.0, 30.0, 40.0)], [crossing(T0)]
    )
    sections = list(csv.DictReader(io.StringIO(sections_csv(stats.sections))))
    assert sections == [
        {
            "section_id": "s1",
            "camera_a": "cam-1",
            "camera_b": "cam-2",
            "hour_start": "2026-03-02T07:00:00+00:00",
            "measurements": "4",
            "mean_speed_kmh": "25.000",
            "p85_speed_kmh": "35.500",
            "speed_limit_kmh": "50",
            "violations": "0",
        }
    ]
    lines = list(csv.DictReader(io.StringIO(lines_csv(stats.lines))))
    assert lines == [
        {
            "camera_id": "cam-1",
            "line_name": "L1",
            "hour_start": "2026-03-02T07:00:00+00:00",
            "direction": "in",
            "object_class": "vehicle",
            "count": "1",
        }
    ]


# ----------------------------------------------------------------------------------- zones
BOX = Zone("box", ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)))


def _path(track_id: int, start: datetime, points: list[tuple[float, float, float]]) -> TrackPath:
    return TrackPath("cam-1", track_id, start, tuple(points))


def _visits(*paths: TrackPath) -> list[ZoneVisit]:
    return zone_visits(paths, {"cam-1": [BOX]}, queue_speed_px_s=10.0, queue_min_s=3.0)


@pytest.mark.parametrize(
    ("points", "queued_s"),
    [
        ([(0.0, -10, 50), (1.0, 50, 50), (2.0, 110, 50)], []),  # drives through
        ([(0.0, 50, 50), (2.0, 52, 50), (4.0, 53, 50), (6.0, 90, 50)], [(0.0, 4.0)]),  # stands 4 s
        ([(0.0, 50, 50), (2.0, 52, 50), (2.5, 90, 50)], []),  # stands 2 s: too short to queue
        ([(0.0, 50, 50), (2.0, 51, 50), (4.0, 51, 50)], [(0.0, 4.0)]),  # still standing at its end
    ],
)
def test_a_visit_queued_when_it_stood_long_enough(
    points: list[tuple[float, float, float]], queued_s: list[tuple[float, float]]
) -> None:
    (visit,) = _visits(_path(1, T0, points))
    assert [((a - T0).total_seconds(), (b - T0).total_seconds()) for a, b in visit.queued] == queued_s


def test_tracks_that_never_enter_make_no_visit() -> None:
    assert _visits(_path(1, T0, [(0.0, 150, 50), (1.0, 160, 50)])) == []


def test_zone_hour_stats_count_dwell_peaks_and_queues() -> None:
    standing = [(0.0, 50, 50), (5.0, 51, 50), (10.0, 52, 50)]  # inside 10 s, standing all the time
    passing = [(0.0, 20, 50), (1.0, 80, 50)]  # inside 1 s
    visits = _visits(
        _path(1, T0 + timedelta(minutes=10), standing),
        _path(2, T0 + timedelta(minutes=10, seconds=5), standing),  # overlaps the first
        _path(3, T0 + timedelta(minutes=30), passing),
        _path(4, T0 + timedelta(hours=1, minutes=1), passing),  # the next hour
    )
    first, second = zone_hour_stats(visits)
    assert (first.hour_start, first.tracks, first.peak_occupancy, first.queued, first.peak_queue) == (
        T0,
        3,
        2,
        2,
        2,
    )
    assert first.mean_dwell_s == pytest.approx((10 + 10 + 1) / 3)
    assert (second.hour_start, second.tracks, second.queued, second.peak_queue) == (
        T0 + timedelta(hours=1),
        1,
        0,
        0,
    )


def test_zone_csv_has_a_header_and_a_row_per_zone_hour() -> None:
    rows = zone_hour_stats(_visits(_path(1, T0, [(0.0, 50, 50), (4.0, 51, 50)])))
    table = list(csv.reader(io.StringIO(zones_csv(rows))))
    assert tuple(table[0]) == ZONE_COLUMNS
    assert table[1][:4] == ["cam-1", "box", T0.isoformat(), "1"]


def test_negative_queue_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="queue_speed_px_s and queue_min_s must be >= 0"):
        zone_visits([], {}, queue_speed_px_s=-1.0, queue_min_s=0.0)
