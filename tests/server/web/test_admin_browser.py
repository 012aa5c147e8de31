"""The administrator's tasks in a real browser at 1366x768: add a camera (a refusal beside its field
first) and see it in the list; draw a counting line on a camera's still with the mouse and save
it; add a user limited to one camera, disable them, and see their login refused. Each change's
audit entry checked; nothing requested from another host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from browsing import SMALL_SCREEN, Visit
from web_names import PASSWORD

from safecity.governance.camera_changes import CAMERA_CHANGE
from safecity.governance.users import UserAuditAction
from safecity.store.cameras import CameraStore
from safecity.store.models import AuditEntryRow


def _entries(web_world: Any, action: str, target: str) -> list[AuditEntryRow]:
    with web_world.db.session() as session:
        rows = session.query(AuditEntryRow).filter(
            AuditEntryRow.action == action, AuditEntryRow.target == target
        )
        return list(rows.order_by(AuditEntryRow.seq))


def test_the_admin_adds_a_camera(browser: Any, web_world: Any, screenshots: Path) -> None:
    v = Visit(browser, web_world.url, SMALL_SCREEN)
    try:
        v.login("admin-1")
        v.go("/admin/cameras")
        page = v.page
        page.fill("#f-id", "cam-7")
        page.fill("#f-name", "Terazije 7")
        page.fill("#f-latitude", "123")
        page.fill("#f-longitude", "20.4601")
        page.check("input[name=capabilities][value=plates]")
        page.select_option("#f-recording", "events")
        page.fill("#f-stream_url", "rtsp://viewer:pa55-word-x@10.0.0.7/live")
        page.click("#camera-form button[type=submit]")
        assert "must be in [-90, 90]" in page.locator("#err-latitude").inner_text()
        assert page.input_value("#f-name") == "Terazije 7"
        assert "pa55-word-x" not in page.content()
        v.shot(screenshots, "admin-cameras-refused")
        # The refusal is a 422 page on purpose: the browser logs its status as an error.
        v.errors = [e for e in v.errors if "422" not in e]
        page.fill("#f-latitude", "44.8131")
        page.fill("#f-stream_url", "rtsp://viewer:pa55-word-x@10.0.0.7/live")
        page.click("#camera-form button[type=submit]")
        page.wait_for_selector("#done")
        assert page.locator('tr[data-camera="cam-7"]').count() == 1
        v.shot(screenshots, "admin-cameras")
        stored = CameraStore(web_world.db).get("cam-7")
        assert stored.latitude == 44.8131 and stored.recording.value == "events"
        (entry,) = _entries(web_world, CAMERA_CHANGE, "cam-7")
        assert (entry.username, entry.details["change"]) == ("admin-1", "added")
        bad = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [20.46, 44.81]},
                    "properties": {
                        "man_made": "surveillance",
                        "ref": "cam-30",
                        "name": "Bad 30",
                        "camera:direction": "up",
                    },
                }
            ],
        }
        page.set_input_files(
            "#import-form input[type=file]",
            files=[
                {
                    "name": "cams.geojson",
                    "mimeType": "application/geo+json",
                    "buffer": json.dumps(bad).encode(),
                }
            ],
        )
        page.click("#import-form button[type=submit]")
        problem = page.locator("#import-problems").inner_text()
        assert "feature #0" in problem and "camera:direction" in problem
        v.shot(screenshots, "admin-cameras-import-refused")
        v.errors = [e for e in v.errors if "422" not in e]
        v.clean()
    finally:
        v.close()


def test_the_admin_draws_a_counting_line_on_the_still(
    browser: Any, web_world: Any, screenshots: Path
) -> None:
    v = Visit(browser, web_world.url, SMALL_SCREEN)
    try:
        v.login("admin-1")
        v.go("/admin/cameras/cam-1")
        page = v.page
        page.wait_for_function("document.getElementById('still').naturalWidth > 0")
        box = page.locator("#still-canvas").bounding_box()
        assert box is not None and box["width"] > 100
        page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.7)
        page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.75)
        row = page.locator("#counting-lines tbody tr")
        assert row.count() == 1
        row.locator("[name=line-name]").fill("stop line")
        row.locator("[name=in]").fill("northbound")
        row.locator("[name=out]").fill("southbound")
        v.shot(screenshots, "admin-camera-counting")
        page.click("#save-counting")
        page.wait_for_selector("#done")
        counting = CameraStore(web_world.db).get("cam-1").counting
        assert counting is not None
        (line,) = counting.lines
        assert (line.name, line.in_direction, line.out_direction) == ("stop line", "northbound", "southbound")
        (x1, y1), (x2, y2) = line.points
        assert x2 - x1 > 100 and y2 > y1
        entry = _entries(web_world, CAMERA_CHANGE, "cam-1")[-1]
        assert entry.details == {"change": "updated", "fields": ["counting"]}
        page.wait_for_selector("#counting-lines tbody tr")
        assert page.locator("#counting-lines tbody tr").count() == 1
        v.shot(screenshots, "admin-camera")
        v.clean()
    finally:
        v.close()


def test_the_admin_adds_limits_and_disables_a_user(browser: Any, web_world: Any, screenshots: Path) -> None:
    v = Visit(browser, web_world.url, SMALL_SCREEN)
    try:
        v.login("admin-1")
        v.go("/admin/users")
        page = v.page
        page.fill("#f-username", "clerk-7")
        page.select_option("#f-role", "operator")
        page.fill("#f-password", PASSWORD)
        page.click("#user-form button[type=submit]")
        page.wait_for_selector("#done")
        user_row = page.locator('tr[data-user="clerk-7"]')
        assert user_row.count() == 1
        user_row.locator("summary").click()
        user_row.locator("input[name=limit][value=yes]").check()
        user_row.locator("input[name=cameras][value=cam-2]").check()
        user_row.locator("form[action$='/cameras'] button").click()
        page.wait_for_selector("#done")
        assert web_world.db is not None
        v.shot(screenshots, "admin-users")
        page.locator('tr[data-user="clerk-7"] form[action$="/disabled"] button').click()
        page.wait_for_selector("#done")
        assert "disabled" in page.locator('tr[data-user="clerk-7"]').inner_text()
        changes = [
            e.details["change"] for e in _entries(web_world, UserAuditAction.USER_CHANGE.value, "clerk-7")
        ]
        assert changes == ["add", "cameras", "disable"]
        v.clean()
    finally:
        v.close()
    clerk = Visit(browser, web_world.url, SMALL_SCREEN)
    try:
        clerk.go("/login")
        clerk.page.fill("input[name=username]", "clerk-7")
        clerk.page.fill("input[name=password]", PASSWORD)
        clerk.page.click("button[type=submit]")
        clerk.page.wait_for_selector("#login-error:not([hidden])")
        assert clerk.page.url.startswith(web_world.url + "/login")
        with web_world.db.session() as session:
            logins = session.query(AuditEntryRow).filter(
                AuditEntryRow.action == UserAuditAction.LOGIN.value, AuditEntryRow.username == "clerk-7"
            )
            assert [e.details["result"] for e in logins] == ["disabled"]
        clerk.shot(screenshots, "admin-users-disabled-login")
    finally:
        clerk.close()
