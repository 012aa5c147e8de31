"""Hotlist matching: exact, confusable and one-edit matches, patterns, expiry, scores, stored alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import camera, motion_track, site

from safecity.config import HotlistSettings
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.hotlists import HotlistStore
from safecity.types import AlertKind, BBox, HotlistEntry, PlateMatchKind, PlateRead, new_id
from safecity.watch.hotlists import HotlistAlerter, HotlistMatcher

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EXACT, CONFUSABLE, ONE_EDIT = PlateMatchKind.EXACT, PlateMatchKind.CONFUSABLE, PlateMatchKind.ONE_EDIT


def entry(plate: str, **changes: object) -> HotlistEntry:
    values: dict[str, object] = {
        "id": new_id(),
        "plate": plate,
        "reason": "stolen car",
        "owner": "duty officer",
        "created_at": NOW - timedelta(days=1),
    }
    values.update(changes)
    return HotlistEntry(**values)  # type: ignore[arg-type]


def read(plate: str, confidence: float = 0.9) -> PlateRead:
    return PlateRead(
        id=new_id(),
        camera_id="cam-1",
        timestamp=NOW,
        bbox=BBox(1, 2, 120, 30),
        confidence=confidence,
        text=plate,
        normalised=plate,
        snapshot="cam-1/x.jpg",
    )


def kinds(matcher: HotlistMatcher, plate: str, now: datetime = NOW) -> list[PlateMatchKind]:
    return [hit.kind for hit in matcher.hits(read(plate), now)]


@pytest.mark.parametrize(
    ("listed", "seen", "expected"),
    [
        ("BG123AB", "BG123AB", [EXACT]),
        ("BG12OAB", "BG120AB", [CONFUSABLE]),
        ("BG123AB", "8G123AB", [CONFUSABLE]),
        ("BG123AB", "BG12JAB", [ONE_EDIT]),
        ("BG123AB", "XG123AB", [ONE_EDIT]),
        ("BG123AB", "BG1234AB", [ONE_EDIT]),
        ("BG123AB", "BG12AB", [ONE_EDIT]),
        ("BG123AB", "BG12OAB", [ONE_EDIT]),
        ("BG123AB", "BG125AC", []),
        ("BG123AB", "NS123AB", []),
        ("BG*AB", "BG777AB", [EXACT]),
        ("BG*AB", "8G777AB", [CONFUSABLE]),
        ("BG*AB", "BG777AC", []),
        ("?G12?AB", "KG123AB", [EXACT]),
        ("?G12?AB", "KG12AB", []),
        ("A12", "412", [CONFUSABLE]),
        ("A12", "A13", []),
    ],
)
def test_match_kinds(listed: str, seen: str, expected: list[PlateMatchKind]) -> None:
    assert kinds(HotlistMatcher([entry(listed)]), seen) == expected


def test_expired_entry_stops_matching() -> None:
    matcher = HotlistMatcher([entry("BG123AB", expires_at=NOW + timedelta(hours=1))])
    assert kinds(matcher, "BG123AB", NOW + timedelta(hours=1)) == []


def test_entry_matches_until_it_expires() -> None:
    matcher = HotlistMatcher([entry("BG123AB", expires_at=NOW + timedelta(hours=1))])
    assert kinds(matcher, "BG123AB", NOW + timedelta(minutes=59)) == [EXACT]


def test_removed_entry_does_not_match() -> None:
    assert kinds(HotlistMatcher([entry("BG123AB", active=False)]), "BG123AB") == []


def test_one_edit_can_be_switched_off() -> None:
    matcher = HotlistMatcher([entry("BG123AB")], HotlistSettings(one_edit=False))
    assert (kinds(matcher, "BG1234AB"), kinds(matcher, "8G123AB")) == ([], [CONFUSABLE])


def test_every_matching_entry_raises_its_own_alert() -> None:
    matcher = HotlistMatcher([entry("BG123AB"), entry("BG*AB"), entry("NS555XY")])
    hits = matcher.hits(read("BG123AB"), NOW)
    assert sorted(h.entry.plate for h in hits) == ["BG*AB", "BG123AB"]


def test_an_entry_matched_two_ways_keeps_the_best() -> None:
    # BG123AB is the entry itself (exact) and also within one edit of its key: one alert, exact.
    assert kinds(HotlistMatcher([entry("BG123AB")]), "BG123AB") == [EXACT]


@pytest.mark.parametrize(("seen", "score"), [("BG123AB", 0.8), ("8G123AB", 0.72), ("BG1234AB", 0.56)])
def test_score_is_read_confidence_times_match_factor(seen: str, score: float) -> None:
    [hit] = HotlistMatcher([entry("BG123AB")]).hits(read(seen, confidence=0.8), NOW)
    assert hit.alert.score == pytest.approx(score)


def test_matches_below_min_score_raise_nothing() -> None:
    matcher = HotlistMatcher([entry("BG123AB")], HotlistSettings(min_score=0.7))
    assert (kinds(matcher, "BG123AB"), kinds(matcher, "BG1234AB")) == ([EXACT], [])


def test_alert_names_read_entry_and_reason() -> None:
    listed = entry("BG123AB")
    seen = read("8G123AB")
    [alert] = HotlistMatcher([listed]).match(seen, NOW)
    assert (alert.kind, alert.camera_id, alert.timestamp, alert.observation_id) == (
        AlertKind.PLATE_HOTLIST,
        "cam-1",
        NOW,
        seen.id,
    )
    assert "8G123AB" in alert.message and "BG123AB" in alert.message and "stolen car" in alert.message


def test_empty_read_matches_nothing() -> None:
    assert kinds(HotlistMatcher([entry("BG*AB")]), "") == []


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW
        self.mono = 0.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
def hotlist(db: Database) -> HotlistStore:
    CameraStore(db).save([site()], [camera("cam-1")])
    return HotlistStore(db, HotlistSettings(reload_interval_s=30))


def test_alerter_stores_alerts_with_evidence(hotlist: HotlistStore) -> None:
    listed = hotlist.add("BG123AB", reason="stolen car", owner="duty", expires_at=None, now=NOW)
    clock = FakeClock()
    alerter = HotlistAlerter(hotlist, clock.wall, clock.monotonic)
    seen = read("8G123AB")
    alerts = alerter.check([motion_track(), seen])
    [stored] = hotlist.alerts(listed.id)
    assert (stored.alert, stored.evidence.snapshot, stored.evidence.match) == (
        alerts[0],
        "cam-1/x.jpg",
        CONFUSABLE,
    )


def test_alerter_picks_up_new_entries_after_the_reload_interval(hotlist: HotlistStore) -> None:
    clock = FakeClock()
    alerter = HotlistAlerter(hotlist, clock.wall, clock.monotonic)
    hotlist.add("BG123AB", reason="stolen car", owner="duty", expires_at=None, now=NOW)
    before = alerter.check([read("BG123AB")])
    clock.mono = 30.0
    after = alerter.check([read("BG123AB")])
    assert (len(before), len(after)) == (0, 1)


def test_alerter_stops_matching_an_entry_that_expired(hotlist: HotlistStore) -> None:
    hotlist.add("BG123AB", reason="stolen car", owner="duty", expires_at=NOW + timedelta(hours=1), now=NOW)
    clock = FakeClock()
    alerter = HotlistAlerter(hotlist, clock.wall, clock.monotonic)
    clock.now = NOW + timedelta(hours=2)
    assert alerter.check([read("BG123AB")]) == []
