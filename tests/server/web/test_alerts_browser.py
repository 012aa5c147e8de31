"""The operator's alert work in a real browser (Playwright, Debian chromium) at 1366x768: the alerts
page filtered and bulk acknowledged (the navigation's count drops, each acknowledgement is in the
audit log), a face match judged with the probe beside the enrolled photo, and the dashboard's live
list kept across a reload. Every page loads nothing from another host and logs no console error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alert_world import speeding_alert
from browsing import SMALL_SCREEN, Visit
from factories import stored_plate_alert

from safecity.governance.audit import AuditAction, AuditLog
from safecity.sim.faces import reference_image
from safecity.store.models import AlertRow


@pytest.fixture
def small(browser: Any, web_world: Any) -> Iterator[Visit]:
    """A visit on the smallest control-room screen the pages must stay usable on."""
    v = Visit(browser, web_world.url, viewport=SMALL_SCREEN)
    yield v
    v.close()


def nav_count(v: Visit) -> int:
    badge = v.page.locator("#nav-alert-count")
    return int(badge.get_attribute("data-count") or "0")


def test_operator_filters_and_bulk_acknowledges(small: Visit, web_world: Any, screenshots: Path) -> None:
    v = small
    v.login("operator-1")
    v.page.click("header nav a[href='/alerts']")
    v.page.wait_for_url(v.base + "/alerts")
    before = nav_count(v)
    assert before > 0
    v.page.select_option("#filter-kind", "camera_health")
    v.page.select_option("#filter-status", "new")
    v.page.click("#filter-apply")
    v.page.wait_for_url("**/alerts?kind=camera_health*")
    listed = v.page.locator("#alert-table tbody tr")
    assert listed.count() > 1
    assert all(t == "camera health" for t in listed.locator("td:nth-child(4)").all_inner_texts())
    v.shot(screenshots, "alerts-filtered")
    v.page.check("#pick-all")
    chosen = [str(b.get_attribute("value")) for b in v.page.locator("input[name=alert]:checked").all()]
    assert len(chosen) == listed.count()
    v.page.fill("#bulk-note", "cam-2 restarted by the night shift")
    v.page.click("#bulk-acknowledge")
    v.page.wait_for_selector("#bulk-done")
    assert f"{len(chosen)} alerts acknowledged" in v.page.locator("#bulk-done").inner_text()
    assert nav_count(v) == before - len(chosen)
    assert v.page.locator("#alert-table tbody tr").count() == 0  # the filter (new) still applies
    v.shot(screenshots, "alerts-acknowledged")
    entries = [e for e in AuditLog(web_world.db).entries(AuditAction.ACKNOWLEDGE_ALERT) if e.target in chosen]
    assert sorted(e.target for e in entries) == sorted(chosen)
    assert {(e.username, e.justification) for e in entries} == {
        ("operator-1", "cam-2 restarted by the night shift")
    }
    with web_world.db.session() as session:
        assert {session.get(AlertRow, a).status for a in chosen} == {"acknowledged"}  # type: ignore[union-attr]
    v.clean()


def test_face_match_shows_probe_and_reference_side_by_side(
    small: Visit, web_world: Any, screenshots: Path
) -> None:
    v = small
    v.login("operator-2")
    v.go("/alerts?kind=face_watchlist")
    assert "2 people" in v.page.locator("#alert-table").inner_text()  # no box to tick for a face match
    v.page.click(f"a[href='/alerts/{web_world.face_alert}']")
    v.page.wait_for_url(f"**/alerts/{web_world.face_alert}")
    for image in ("#probe", "#reference"):
        v.page.wait_for_function(f"document.querySelector('{image}').naturalWidth > 0")
    probe = v.page.locator("#probe").bounding_box()
    reference = v.page.locator("#reference").bounding_box()
    assert probe is not None and reference is not None
    assert reference["x"] > probe["x"] + probe["width"] - 1  # beside it, not below
    assert abs(reference["y"] - probe["y"]) < 2
    assert min(probe["width"], reference["width"]) >= 280  # large enough to judge a face
    assert "pairs of different people" in v.page.locator("#score-words").inner_text()
    v.shot(screenshots, "alert-face-match")
    seen = [
        e
        for e in AuditLog(web_world.db).entries(AuditAction.VIEW_SIGHTING, username="operator-2")
        if e.target == web_world.face_alert and e.details.get("what") == "enrolled reference photo"
    ]
    assert len(seen) == 1
    v.clean()


def test_dashboard_keeps_the_live_list_across_a_reload(
    small: Visit, web_world: Any, screenshots: Path
) -> None:
    v = small
    v.login("operator-1")
    v.page.wait_for_selector("body[data-live=open]")
    shown = v.page.locator("#live-alerts li").count()
    assert shown > 0  # the latest alerts are there before anything is pushed
    count = nav_count(v)
    alert_id = stored_plate_alert(web_world.db, web_world.media, reference_image("grace_hopper"), "cam-2")
    v.page.wait_for_selector(f"#live-alerts li[data-alert='{alert_id}']")
    v.page.wait_for_function(f"document.getElementById('nav-alert-count').dataset.count === '{count + 1}'")
    v.page.reload()
    v.page.wait_for_selector("body[data-live=open]")
    v.page.wait_for_selector("#live-alerts[data-backfilled]")
    ids = [li.get_attribute("data-alert") for li in v.page.locator("#live-alerts li").all()]
    assert alert_id in ids and len(ids) == len(set(ids))  # kept, and listed once
    assert v.page.locator("#alert-sound").is_checked() is False  # sound is off until asked for
    v.page.check("#alert-sound")
    v.page.reload()
    v.page.wait_for_selector("body[data-live=open]")
    assert v.page.locator("#alert-sound").is_checked()  # remembered in this browser
    v.shot(screenshots, "dashboard-live-list")
    v.clean()


def test_speeding_and_hotlist_evidence_is_shown_large(
    small: Visit, web_world: Any, screenshots: Path
) -> None:
    speeding = speeding_alert(web_world.db, web_world.media, reference_image("grace_hopper"))
    v = small
    v.login("operator-1")
    v.go(f"/alerts/{speeding}")
    assert "1.23 km between the two cameras in 60.0 s" in v.page.locator("#speed-words").inner_text()
    images = v.page.locator("#speed-evidence img[data-enlarge]")
    assert images.count() == 2
    v.page.wait_for_function(
        "Array.from(document.querySelectorAll('#speed-evidence img')).every(i => i.naturalWidth > 0)"
    )
    v.shot(screenshots, "alert-speeding")
    v.go(f"/alerts/{web_world.plate_alert}")
    v.page.wait_for_function("document.getElementById('plate-image').naturalWidth > 0")
    box = v.page.locator("#plate-image").bounding_box()
    assert box is not None and box["width"] >= 600  # large, not a thumbnail
    v.shot(screenshots, "alert-hotlist")
    viewed = [
        e.target
        for e in AuditLog(web_world.db).entries(AuditAction.VIEW_SIGHTING, username="operator-1")
        if e.details.get("what") == "alert"
    ]
    assert speeding in viewed and web_world.plate_alert in viewed
    v.clean()
