"""The web UI in a real browser (Playwright driving Debian's chromium) over a seeded world.

Each test opens its own browser context (its own cookies), logs in through the login form (which
posts to `/api/v1/auth/login`), and checks what a person sees: search results with the audit
entry that records them, a live alert arriving over the WebSocket, the pages a role may not
open, and two-person confirmation by two operators. Every page is also checked to load nothing
from any host but the server and to log no console error (a CSP violation is one).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import Visit
from factories import stored_plate_alert
from rtsp import RtspServer, unavailable_reason
from services import need_service
from videos import coded_clip
from web_names import PASSWORD

from safecity.governance.audit import AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore


def nav_links(v: Visit) -> list[str]:
    return [str(a.get_attribute("href")) for a in v.page.query_selector_all("header nav a")]


def test_plate_search_shows_results_and_the_audit_entry(
    visit: Any, web_world: Any, screenshots: Path
) -> None:
    v = visit()
    v.login("operator-1")
    v.page.click("header nav >> text=Plate search")
    v.page.wait_for_url(v.base + "/search")
    v.page.fill("input[name=plate]", "BG123AB")
    v.page.click("#plate-search button[type=submit]")
    error = v.page.locator("#search-error")
    assert "reason is required" in error.inner_text().lower()
    assert v.page.locator("#results").count() == 0
    assert len(v.errors) == 1 and "status of 422" in v.errors[0]
    v.errors.clear()  # the refusal above is the one expected error

    v.page.fill("input[name=plate]", "bg 123-ab")
    v.page.fill("input[name=reason]", "case 2026/17: stolen vehicle")
    v.page.click("#plate-search button[type=submit]")
    v.page.wait_for_selector("#results")
    assert v.page.locator("tr.hit").count() == 1
    assert "BG 123-AB" in v.page.locator("tr.hit").inner_text()
    seq = int(v.page.locator("#audit-seq").inner_text().lstrip("#"))
    entry = next(e for e in AuditLog(web_world.db).entries() if e.seq == seq)
    assert (entry.action, entry.username) == ("search_plate", "operator-1")
    assert entry.justification == "case 2026/17: stolen vehicle"
    v.page.wait_for_load_state("networkidle")
    v.shot(screenshots, "search")
    v.clean()


def test_face_search_by_photo_upload_finds_the_sighting(
    visit: Any, web_world: Any, screenshots: Path
) -> None:
    v = visit()
    v.login("investigator-1")
    v.page.click("header nav >> text=Face search")
    v.page.wait_for_url(v.base + "/search/faces")
    v.page.set_input_files("input[name=photo]", str(web_world.portrait))
    v.page.fill("input[name=reason]", "case 2026/18: missing person")
    v.page.click("#face-search button[type=submit]")
    v.page.wait_for_selector("#results", timeout=60_000)  # the first search loads the face models
    first = v.page.locator("li.face-card").first
    assert first.get_attribute("data-sighting") == web_world.sighting
    assert "match" in first.get_attribute("class")
    seq = int(v.page.locator("#audit-seq").inner_text().lstrip("#"))
    entry = next(e for e in AuditLog(web_world.db).entries() if e.seq == seq)
    assert (entry.action, entry.username) == ("search_face", "investigator-1")
    assert web_world.sighting in entry.target
    v.shot(screenshots, "faces")
    v.clean()


def test_a_live_alert_arrives_on_the_dashboard(visit: Any, web_world: Any, screenshots: Path) -> None:
    v = visit()
    v.login("operator-1")
    v.page.wait_for_selector("body[data-live=open]")
    v.page.wait_for_selector("#camera-states tr[data-camera=cam-2]")
    alert_id = stored_plate_alert(web_world.db, web_world.media, reference_image("grace_hopper"), "cam-2")
    item = v.page.wait_for_selector(f"#live-alerts li[data-alert='{alert_id}']")
    assert "hotlisted plate BG123AB" in item.inner_text()
    assert v.page.locator("#live-alerts li").first.get_attribute("data-alert") == alert_id
    assert item.query_selector("a") is not None  # an operator may open it
    v.page.wait_for_timeout(300)
    v.shot(screenshots, "dashboard")
    v.clean()


def _playing(video: Any, seconds: float) -> None:
    """Wait until the video element has played `seconds` (its time advances)."""
    video.page.wait_for_function(
        "([el, s]) => el.currentTime >= s && !el.paused",
        arg=[video.element_handle(), seconds],
        timeout=20_000,
    )


def test_the_live_view_plays_near_the_live_edge(visit: Any, web_world: Any, screenshots: Path) -> None:
    if not web_world.live:
        need_service(str(unavailable_reason()))
    v = visit()
    v.login("operator-1")
    v.go("/cameras/cam-1")
    video = v.page.locator("#live-video")
    _playing(video, 1.0)
    lag = video.evaluate("el => el.buffered.end(el.buffered.length - 1) - el.currentTime")
    assert lag < 2.0
    assert v.page.locator("#live-video-status").inner_text() == "video playing"
    entries = [e for e in AuditLog(web_world.db).entries("view_video") if e.username == "operator-1"]
    assert entries and entries[-1].details["video"] == "live"
    v.shot(screenshots, "camera-live")
    v.clean()


@pytest.fixture
def wall_cameras(web_world: Any) -> Iterator[list[str]]:
    """Four more cameras on cam-1's stream: with cam-2 (unreachable) a 3x3 wall of six tiles, and a
    2x2 wall of two pages."""
    if not web_world.live:
        need_service(str(unavailable_reason()))
    store = CameraStore(web_world.db)
    cam1 = store.get("cam-1")
    site = next(s for s in store.sites() if s.id == cam1.site_id)
    extra = [dataclasses.replace(cam1, id=f"cam-{i}", name=f"Camera cam-{i} (wall)") for i in range(3, 7)]
    store.save([site], extra)
    yield ["cam-1", "cam-2", *(c.id for c in extra)]
    for c in extra:
        store.remove(c.id, purge=True)


def test_the_camera_wall_plays_every_camera_the_user_may_watch(
    visit: Any, web_world: Any, wall_cameras: list[str], screenshots: Path
) -> None:
    v = visit()
    v.login("operator-1")
    v.go("/?wall=3x3")
    tiles = v.page.locator("#wall figure.tile")
    assert [tiles.nth(i).get_attribute("data-tile") for i in range(tiles.count())] == wall_cameras
    streaming = [c for c in wall_cameras if c != "cam-2"]
    for camera_id in streaming:
        tile = v.page.locator(f"#wall figure[data-tile={camera_id}]")
        _playing(tile.locator("video"), 0.5)
        assert tile.locator(".note").inner_text() == "video playing"
    assert (
        v.page.locator("#wall figure[data-tile=cam-2] .note").inner_text() != "video playing"
    )  # unreachable
    watched = {e.target for e in AuditLog(web_world.db).entries("view_video") if e.username == "operator-1"}
    assert watched >= set(wall_cameras)  # one live view, and one audit entry, per tile
    v.page.wait_for_function("() => document.querySelector('[data-tile-state=cam-1]').textContent !== ''")
    v.shot(screenshots, "dashboard-wall")
    v.clean()


def test_the_camera_wall_pages_through_more_cameras_than_its_grid(
    visit: Any, web_world: Any, wall_cameras: list[str]
) -> None:
    v = visit()
    v.login("operator-1")
    v.go("/?wall=2x2")
    assert v.page.locator("#wall figure.tile").count() == 4
    assert v.page.locator("#wall-previous").count() == 0
    v.page.click("#wall-next")
    v.page.wait_for_selector("#wall-previous")
    assert [
        t.get_attribute("data-tile") for t in v.page.query_selector_all("#wall figure.tile")
    ] == wall_cameras[4:]
    assert v.page.locator("#wall-next").count() == 0
    v.clean()


def test_the_timeline_zooms_to_the_last_hours(visit: Any, web_world: Any) -> None:
    v = visit()
    v.login("investigator-1")
    v.go("/cameras/cam-1?hours=6")
    assert "last 6 hours" in v.page.locator("h2", has_text="Recordings").inner_text()
    assert v.page.locator("#timeline rect.tl-rec").count() == 1  # the recording of about an hour ago
    v.go("/cameras/cam-1?hours=1")
    assert "last 1 hour" in v.page.locator("h2", has_text="Recordings").inner_text()
    response = v.go("/cameras/cam-1?hours=7")
    assert response.status == 400 and "last 1, 6, 24 hours" in v.page.inner_text("main")
    v.errors.clear()  # the browser logs the 400 itself
    v.clean()


def test_a_bad_wall_layout_is_a_clear_400(visit: Any, web_world: Any) -> None:
    v = visit()
    v.login("operator-1")
    response = v.go("/?wall=10x10")
    assert response.status == 400 and "unknown wall layout" in v.page.inner_text("main")
    v.errors.clear()  # the browser logs the 400 itself


@pytest.fixture
def hevc_camera(web_world: Any, tmp_path: Path) -> Iterator[str]:
    """cam-7 sends H.265, which browsers' Media Source Extensions do not play."""
    if not web_world.live:
        need_service(str(unavailable_reason()))
    store = CameraStore(web_world.db)
    cam1 = store.get("cam-1")
    site = next(s for s in store.sites() if s.id == cam1.site_id)
    with RtspServer({"/cam": coded_clip(tmp_path / "h265.mp4", "libx265")}) as server:
        store.save(
            [site],
            [dataclasses.replace(cam1, id="cam-7", name="H.265 camera", stream_url=server.url("/cam"))],
        )
        yield "cam-7"
        store.remove("cam-7", purge=True)


def test_a_camera_that_does_not_send_h264_is_shown_as_live_images(
    visit: Any, web_world: Any, hevc_camera: str, screenshots: Path
) -> None:
    v = visit()
    v.login("operator-1")
    v.go(f"/cameras/{hevc_camera}")
    image = v.page.wait_for_selector("img.live-images")
    first = image.get_attribute("src")
    v.page.wait_for_function(
        "([img, first]) => img.complete && img.naturalWidth === 320 && img.src !== first",
        arg=[image, first],
    )
    assert v.page.locator("#live-video").is_hidden()
    assert v.page.locator("#live-video-status").inner_text() == "video playing"
    v.clean()


def test_a_click_on_the_timeline_plays_the_recording(visit: Any, web_world: Any, screenshots: Path) -> None:
    v = visit()
    v.login("investigator-1")
    v.go("/cameras/cam-1")
    assert v.page.locator("#timeline rect.tl-motion").count() == 1  # the seeded motion track
    span = v.page.locator("#timeline rect.tl-rec").first
    v.page.locator("#timeline").scroll_into_view_if_needed()
    box = span.bounding_box()
    assert box is not None
    v.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    player = v.page.locator("#playback")
    _playing(player, 0.5)
    player.evaluate("el => { el.pause(); el.currentTime = 0.1; }")  # seeking works (range requests)
    v.page.wait_for_function("el => el.readyState >= 2 && el.currentTime < 0.5", arg=player.element_handle())
    v.shot(screenshots, "camera-timeline")
    v.clean()


def test_an_alerts_clip_plays_beside_its_snapshot(visit: Any, web_world: Any, screenshots: Path) -> None:
    v = visit()
    v.login("operator-2")
    v.go(f"/alerts/{web_world.face_alert}")
    clip = v.page.locator("#alert-clip")
    clip.evaluate("el => { el.muted = true; return el.play(); }")  # as the operator presses play
    _playing(clip, 1.0)
    # The dashboard's wall after login left live-view entries too; their ends may come later.
    entries = [e for e in AuditLog(web_world.db).entries("view_video") if e.username == "operator-2"]
    assert [e.details.get("alert") for e in entries if e.details["video"] == "alert"] == [
        web_world.face_alert
    ]
    v.shot(screenshots, "alert-clip")
    v.clean()


def test_an_empty_traffic_chart_says_why_instead_of_drawing_nothing(visit: Any, web_world: Any) -> None:
    v = visit()
    v.login("operator-1")
    assert "no counting lines" in v.page.locator("#traffic-empty").inner_text()
    assert v.page.locator("#traffic svg").count() == 0
    assert v.page.locator("#reads-empty").count() == 0  # the world has plate reads: they are drawn
    v.clean()


def test_a_viewer_sees_no_face_search_and_is_refused_it(visit: Any, web_world: Any) -> None:
    v = visit()
    v.login("viewer-1")
    links = nav_links(v)
    assert "/search/faces" not in links and "/search" not in links and "/audit" not in links
    response = v.go("/search/faces")
    assert response.status == 403
    assert "Not allowed" in v.page.locator("h1").inner_text()
    said = v.page.locator("main").inner_text()
    assert "may not search faces by photo" in said and "search_face" not in said  # words, not codes
    assert v.page.locator("#face-search").count() == 0
    refused = AuditLog(web_world.db).entries("access_denied", username="viewer-1")
    assert refused and refused[-1].target == "search_face"


def test_a_user_limited_to_one_camera_cannot_watch_another(visit: Any, web_world: Any) -> None:
    UserStore(web_world.db).add("limited-1", Role.OPERATOR, PASSWORD, camera_ids=["cam-2"])
    v = visit()
    v.login("limited-1")
    assert v.page.locator("#wall figure.tile[data-tile=cam-1]").count() == 0  # not on the wall
    since, until = "2026-03-02T07:29:58Z", "2026-03-02T07:30:02Z"
    answers = v.page.evaluate(
        """async ([since, until]) => {
          const recorded = await fetch(`/api/v1/cameras/cam-1/video.mp4?since=${since}&until=${until}`);
          const live = await new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/api/v1/cameras/cam-1/live`);
            ws.onclose = (event) => resolve(event.code);
          });
          return [recorded.status, live];
        }""",
        [since, until],
    )
    assert answers == [403, 4403]
    refused = AuditLog(web_world.db).entries("access_denied", username="limited-1")
    assert [e.target for e in refused].count("view_video") == 2  # both refusals recorded
    watched = {e.target for e in AuditLog(web_world.db).entries("view_video", username="limited-1")}
    assert "cam-1" not in watched  # (cam-2, on the wall after login, is theirs to watch)
    v.errors.clear()  # the browser logs the refused fetch itself


def test_the_register_is_public(visit: Any, web_world: Any, screenshots: Path) -> None:
    v = visit()
    response = v.go("/")
    assert re.search(r"/login\?next=/$", v.page.url)
    response = v.go("/register")
    assert response.status == 200
    table = v.page.locator("#register-cameras").inner_text()
    assert "cam-1" in table and "Law on Internal Affairs, Art. 42" in table and "faces" in table
    assert v.page.locator("svg.map circle.cam").count() == 2
    href = v.page.locator("#geojson").get_attribute("href")
    assert href == "/api/v1/register.geojson"
    geojson = v.context.request.get(web_world.url + href)
    assert geojson.ok and len(geojson.json()["features"]) == 2
    v.shot(screenshots, "register")
    v.clean()


PAGES = {
    "investigator-1": ["/", "/map", "/cameras/cam-1", "/search", "/search/faces", "/watchlists", "/hotlists"],
    "auditor-1": ["/", "/audit", "/cameras/cam-2", "/register"],
    "admin-1": ["/", "/watchlists", "/audit", "/map"],
}


@pytest.mark.parametrize("username", list(PAGES))
def test_pages_load_nothing_from_elsewhere(
    visit: Any, web_world: Any, screenshots: Path, username: str
) -> None:
    v = visit()
    v.login(username)
    pages = [*PAGES[username]]
    if username != "admin-1":
        pages.append(f"/alerts/{web_world.plate_alert}")
    for path in pages:
        response = v.go(path)
        assert response.status == 200, path
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        if v.page.locator("video[data-live]").count() == 0:
            v.page.wait_for_load_state("networkidle")
        else:  # a live view's stream never idles: wait for the images instead
            v.page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")  # lazy images load
            v.page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        name = path.strip("/").replace("/", "-") or "dashboard"
        v.shot(screenshots, f"{username}-{name}")
        for img in v.page.query_selector_all("img"):
            assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("src")
    v.clean()


def test_the_auditor_verifies_the_chain(visit: Any, web_world: Any, screenshots: Path) -> None:
    v = visit()
    v.login("auditor-1")
    v.page.click("header nav >> text=Audit log")
    v.page.wait_for_url(v.base + "/audit")
    v.page.select_option("select[name=action]", "search_plate")
    v.page.click("#audit-filters button")
    actions = {t.strip() for t in v.page.locator("table.audit tbody td.action").all_inner_texts()}
    assert actions <= {"search plate"}
    v.page.click("#verify")
    result = v.page.locator("#verify-result").inner_text()
    assert result.startswith("Chain OK")
    v.shot(screenshots, "audit")
    v.clean()


def test_two_operators_confirm_a_face_match(visit: Any, web_world: Any, screenshots: Path) -> None:
    path = f"/alerts/{web_world.face_alert}"
    first = visit()
    first.login("operator-1")
    first.go(path)
    first.page.fill("#decide input[name=note]", "same person, checked against the photo")
    first.page.click("#confirm")
    first.page.wait_for_url(first.base + path)
    assert first.page.locator("#alert-status").inner_text() == "confirming"
    assert "1 of 2" in first.page.locator("#confirm-count").inner_text()
    assert first.page.locator("#confirm").count() == 0
    assert first.page.locator("#already-decided").count() == 1

    second = visit()
    second.login("operator-2")
    second.go(path)
    second.page.click("#confirm")
    second.page.wait_for_url(second.base + path)
    assert second.page.locator("#alert-status").inner_text() == "confirmed"
    decisions = second.page.locator("#decisions").inner_text()
    assert "operator-1" in decisions and "operator-2" in decisions
    assert second.page.locator("#decide").count() == 0
    entries = AuditLog(web_world.db).entries("confirm_match")
    assert [e.username for e in entries][-2:] == ["operator-1", "operator-2"]
    second.shot(screenshots, "alert")
    first.clean()
    second.clean()
