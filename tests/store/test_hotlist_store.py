"""Hotlist entries and their alerts in the store, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import camera, site

from safecity.config import HotlistSettings
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.hotlists import HotlistError, HotlistStore, default_expiry
from safecity.types import Alert, AlertKind, BBox, HotlistHit, PlateMatchKind, PlateRead, new_id

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(db: Database) -> HotlistStore:
    CameraStore(db).save([site()], [camera("cam-1")])
    return HotlistStore(db)


def add(store: HotlistStore, plate: str = "BG 123-AB", **changes: object) -> str:
    values: dict[str, object] = {"reason": "stolen", "owner": "duty officer", "expires_at": None, "now": NOW}
    values.update(changes)
    return store.add(plate, **values).id  # type: ignore[arg-type]


def test_add_stores_the_normalised_plate(store: HotlistStore) -> None:
    entry = store.get(add(store, "bg 123-ab"))
    assert (entry.plate, entry.reason, entry.owner, entry.created_at, entry.active) == (
        "BG123AB",
        "stolen",
        "duty officer",
        NOW,
        True,
    )


def test_add_keeps_a_pattern(store: HotlistStore) -> None:
    assert store.get(add(store, "bg*ab")).is_pattern


@pytest.mark.parametrize(
    ("plate", "changes", "message"),
    [
        ("", {}, "empty"),
        ("BG*", {}, "needs at least 3"),
        ("*", {}, "needs at least 3"),
        ("BG123AB", {"reason": "  "}, "needs a reason"),
        ("BG123AB", {"owner": ""}, "needs an owner"),
        ("BG123AB", {"expires_at": NOW - timedelta(seconds=1)}, "not in the future"),
        ("BG123AB", {"expires_at": datetime(2026, 4, 1)}, "no UTC offset"),
    ],
)
def test_add_refuses_bad_entries(
    store: HotlistStore, plate: str, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(HotlistError, match=message):
        add(store, plate, **changes)


def test_in_force_leaves_out_expired_entries(store: HotlistStore) -> None:
    lasting = add(store, "BG123AB")
    add(store, "NS555XY", expires_at=NOW + timedelta(hours=1))
    assert [e.id for e in store.in_force(NOW + timedelta(hours=1))] == [lasting]


def test_in_force_keeps_entries_until_they_expire(store: HotlistStore) -> None:
    entry = add(store, "NS555XY", expires_at=NOW + timedelta(hours=1))
    assert [e.id for e in store.in_force(NOW + timedelta(minutes=59))] == [entry]


def test_remove_deactivates_but_keeps_the_entry(store: HotlistStore) -> None:
    entry = add(store)
    store.remove(entry, now=NOW + timedelta(minutes=1))
    kept = store.get(entry)
    assert (store.in_force(NOW), kept.active, kept.removed_at) == ([], False, NOW + timedelta(minutes=1))


def test_remove_twice_is_refused(store: HotlistStore) -> None:
    entry = add(store)
    store.remove(entry)
    with pytest.raises(HotlistError, match="already removed"):
        store.remove(entry)


def test_remove_unknown_is_refused(store: HotlistStore) -> None:
    with pytest.raises(HotlistError, match="no hotlist entry"):
        store.remove("nope")


def test_all_lists_removed_entries_too(store: HotlistStore) -> None:
    first, second = add(store, "BG123AB"), add(store, "NS555XY", now=NOW + timedelta(seconds=1))
    store.remove(first)
    assert [e.id for e in store.all()] == [first, second]


@pytest.mark.parametrize(("days", "expected"), [(30, NOW + timedelta(days=30)), (0, None)])
def test_default_expiry_follows_settings(days: int, expected: datetime | None) -> None:
    assert default_expiry(NOW, HotlistSettings(default_expiry_days=days)) == expected


def test_save_alerts_keeps_the_evidence(store: HotlistStore) -> None:
    entry = store.get(add(store))
    read = PlateRead(
        id=new_id(),
        camera_id="cam-1",
        timestamp=NOW,
        bbox=BBox(1, 2, 120, 30),
        confidence=0.8,
        text="BG 12O-AB",
        normalised="BG12OAB",
        snapshot="cam-1/2026/x.jpg",
    )
    alert = Alert(new_id(), AlertKind.PLATE_HOTLIST, "cam-1", NOW, "hit", observation_id=read.id, score=0.72)
    store.save_alerts([HotlistHit(alert=alert, entry=entry, read=read, kind=PlateMatchKind.CONFUSABLE)])
    [stored] = store.alerts(entry.id)
    ev = stored.evidence
    assert (stored.alert, stored.hotlist_entry_id) == (alert, entry.id)
    assert (ev.plate_text, ev.snapshot, ev.read_confidence, ev.match, ev.reason, ev.entry_plate) == (
        "BG 12O-AB",
        "cam-1/2026/x.jpg",
        0.8,
        PlateMatchKind.CONFUSABLE,
        "stolen",
        "BG123AB",
    )
