"""The alerts page (`/alerts`): filters, paging, camera limits, the navigation's count of new alerts,
and bulk acknowledgement, each acknowledgement audited as the CLI's and the API's are (one function
behind all three), also when two operators acknowledge at once on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alert_world import HEALTH, HEALTH_CAM1, AlertWorld, build

from safecity.cli import alerts as cli_alerts
from safecity.governance import confirmation
from safecity.governance.audit import AuditAction, AuditLog
from safecity.server.api.routes import alerts as api_alerts
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.server.security import SESSION_COOKIE
from safecity.server.web.pages import alert_list, alerts
from safecity.store.models import AlertRow

ALL = 3 + HEALTH + HEALTH_CAM1  # face, hotlist, speeding and the camera-health alerts


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AlertWorld]:
    w = build(tmp_path / "var")
    yield w
    w.db.close()


def rows(html: str) -> list[str]:
    """The alert ids listed on a page, in order."""
    return re.findall(r'<tr data-alert="([0-9a-f]+)"', html)


def status_of(world: AlertWorld, alert_id: str) -> str:
    with world.db.session() as session:
        row = session.get(AlertRow, alert_id)
        assert row is not None
        return row.status


def nav_count(html: str) -> int | None:
    found = re.search(r'id="nav-alert-count" data-count="(\d+)"', html)
    return int(found.group(1)) if found else None


def test_lists_every_alert_newest_first(world: AlertWorld) -> None:
    page = world.client("operator-1").get("/alerts")
    assert page.status_code == 200
    listed = rows(page.text)
    assert len(listed) == ALL
    assert listed[0] == world.health_cam1[-1]  # the latest
    assert "Face matches cannot be acknowledged here" in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=speeding", lambda w: [w.speeding_alert]),
        ("kind=face_watchlist", lambda w: [w.face_alert]),
        ("camera=cam-1", lambda w: [*reversed(w.health_cam1), w.face_alert]),
        ("kind=camera_health&camera=cam-2", lambda w: list(reversed(w.health))),
        ("since=2026-03-02T08:30&until=2026-03-02T08:32", lambda w: list(reversed(w.health[:2]))),
        ("status=acknowledged", lambda w: []),
    ],
)
def test_filters(world: AlertWorld, query: str, expected: object) -> None:
    page = world.client("operator-1").get(f"/alerts?{query}")
    assert page.status_code == 200
    assert rows(page.text) == expected(world)  # type: ignore[operator]


def test_status_filter_finds_the_acknowledged(world: AlertWorld) -> None:
    client = world.client("operator-1")
    client.post("/alerts/acknowledge", data={"alert": [world.health[0]], "back": ""})
    assert rows(client.get("/alerts?status=acknowledged").text) == [world.health[0]]
    assert world.health[0] not in rows(client.get("/alerts?status=new").text)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("kind=lasers", "kind: &#39;lasers&#39; is not one of"),
        ("status=forgotten", "status: &#39;forgotten&#39; is not one of"),
        ("camera=cam-99", "there is no camera &#39;cam-99&#39;"),
        ("since=yesterday", "from: &#39;yesterday&#39; is not a date and time"),
        ("until=2026-13-45T10:00", "to: &#39;2026-13-45T10:00&#39; is not a date and time"),
        ("since=2026-03-02T10:00&until=2026-03-02T09:00", "must be before to"),
        ("page=0", "is not a page number"),
        ("page=two", "is not a page number"),
        ("page=-1", "is not a page number"),
    ],
)
def test_malformed_filters_are_a_400_page_in_words(world: AlertWorld, query: str, words: str) -> None:
    page = world.client("operator-1").get(f"/alerts?{query}")
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "The alerts cannot be filtered that way" in page.text
    assert words in page.text


def test_pages_by_the_configured_size(world: AlertWorld) -> None:
    small = world.settings.model_copy(
        update={"api": world.settings.api.model_copy(update={"alerts_page_size": 5})}
    )
    client = world.client("operator-1", small)
    first = client.get("/alerts")
    assert len(rows(first.text)) == 5 and 'id="page-next"' in first.text
    assert 'id="page-previous"' not in first.text
    seen = rows(first.text)
    page = 2
    while True:
        html = client.get(f"/alerts?page={page}").text
        seen += rows(html)
        if 'id="page-next"' not in html:
            break
        page += 1
    assert page == 3 and len(seen) == ALL and len(set(seen)) == ALL
    assert 'href="/alerts?kind=camera_health&amp;page=2"' in client.get("/alerts?kind=camera_health").text


def test_listing_is_recorded(world: AlertWorld) -> None:
    world.client("operator-1").get("/alerts?kind=speeding")
    entry = AuditLog(world.db).entries(AuditAction.VIEW_SIGHTING)[-1]
    assert entry.username == "operator-1"
    assert entry.target == world.speeding_alert
    assert entry.details["what"] == "alert list" and entry.details["kinds"] == ["speeding"]


def test_a_limited_operator_sees_only_its_cameras(world: AlertWorld) -> None:
    client = world.client("limited-op")
    listed = rows(client.get("/alerts").text)
    assert world.face_alert not in listed and world.health_cam1[0] not in listed
    assert set(listed) == {world.plate_alert, world.speeding_alert, *world.health}
    outside = client.get("/alerts?camera=cam-1")
    assert outside.status_code == 400 and "among the cameras you may see" in outside.text


def test_a_viewer_may_not_open_the_alerts(world: AlertWorld) -> None:
    page = world.client("viewer-1").get("/alerts")
    assert page.status_code == 403 and "may not" in page.text
    assert 'id="nav-alert-count"' not in page.text


def test_the_navigation_counts_new_alerts_within_the_camera_limits(world: AlertWorld) -> None:
    operator = world.client("operator-1")
    assert nav_count(operator.get("/").text) == ALL
    limited = world.client("limited-op")
    assert nav_count(limited.get("/").text) == 2 + HEALTH  # hotlist, speeding (both on cam-2)
    operator.post("/alerts/acknowledge", data={"alert": list(world.health[:3]), "back": ""})
    assert nav_count(operator.get("/alerts").text) == ALL - 3
    assert nav_count(limited.get("/search").text) == 2 + HEALTH - 3


def test_bulk_acknowledge_audits_each_alert(world: AlertWorld) -> None:
    chosen = list(world.health[:4])
    page = world.client("operator-1").post(
        "/alerts/acknowledge",
        data={"alert": chosen, "note": "camera restarted", "back": "kind=camera_health&camera=cam-2"},
    )
    assert page.status_code == 200
    assert "4 alerts acknowledged" in page.text
    assert all(status_of(world, a) == "acknowledged" for a in chosen)
    entries = AuditLog(world.db).entries(AuditAction.ACKNOWLEDGE_ALERT)
    assert sorted(e.target for e in entries) == sorted(chosen)
    assert {(e.username, e.justification) for e in entries} == {("operator-1", "camera restarted")}
    assert AuditLog(world.db).verify().first_bad is None
    assert set(rows(page.text)) == set(world.health)  # back on the filtered list


def test_a_face_match_in_the_bulk_is_refused_in_words(world: AlertWorld) -> None:
    page = world.client("operator-1").post(
        "/alerts/acknowledge", data={"alert": [world.face_alert, world.plate_alert], "back": ""}
    )
    assert page.status_code == 200
    assert "1 alert acknowledged" in page.text
    assert "two different people must confirm or reject it" in page.text
    assert status_of(world, world.face_alert) == "new"
    assert status_of(world, world.plate_alert) == "acknowledged"


def test_a_face_match_alone_is_a_409(world: AlertWorld) -> None:
    page = world.client("operator-1").post(
        "/alerts/acknowledge", data={"alert": [world.face_alert], "back": ""}
    )
    assert page.status_code == 409 and "two different people" in page.text


def test_an_alert_handled_already_is_named(world: AlertWorld) -> None:
    client = world.client("operator-1")
    client.post("/alerts/acknowledge", data={"alert": [world.health[0]], "back": ""})
    again = client.post("/alerts/acknowledge", data={"alert": [world.health[0]], "back": ""})
    assert again.status_code == 409 and "is acknowledged already" in again.text


def test_a_mangled_return_filter_still_acknowledges_and_shows_the_whole_list(world: AlertWorld) -> None:
    page = world.client("operator-1").post(
        "/alerts/acknowledge", data={"alert": [world.health[0]], "back": "kind=lasers"}
    )
    assert page.status_code == 200 and "1 alert acknowledged" in page.text
    assert len(rows(page.text)) == ALL


def test_nothing_selected_is_a_400(world: AlertWorld) -> None:
    page = world.client("operator-1").post("/alerts/acknowledge", data={"back": ""})
    assert page.status_code == 400 and "no alert was selected" in page.text


def test_a_cross_site_post_is_refused(world: AlertWorld) -> None:
    client = world.client("operator-1")
    page = client.post(
        "/alerts/acknowledge",
        data={"alert": [world.health[0]], "back": ""},
        headers={"Origin": "http://evil.example"},
    )
    assert page.status_code == 403 and "cross-origin request refused" in page.text
    assert status_of(world, world.health[0]) == "new"
    assert AuditLog(world.db).entries(AuditAction.ACKNOWLEDGE_ALERT) == []


def test_an_auditor_sees_alerts_but_may_not_acknowledge(world: AlertWorld) -> None:
    client = world.client("auditor-1")
    listed = client.get("/alerts")
    assert len(rows(listed.text)) == ALL and 'name="alert"' not in listed.text
    page = client.post("/alerts/acknowledge", data={"alert": [world.health[0]], "back": ""})
    assert page.status_code == 403 and "may not" in page.text
    assert status_of(world, world.health[0]) == "new"


def test_a_limited_operator_cannot_acknowledge_outside_its_cameras(world: AlertWorld) -> None:
    page = world.client("limited-op").post(
        "/alerts/acknowledge", data={"alert": [world.health_cam1[0], world.health[0]], "back": ""}
    )
    assert "1 alert acknowledged" in page.text and "outside its limits" in page.text
    assert status_of(world, world.health_cam1[0]) == "new"


def test_cli_api_and_web_acknowledge_through_one_function() -> None:
    one = confirmation.acknowledge
    assert cli_alerts.acknowledge is one and api_alerts.acknowledge is one
    assert alert_list.acknowledge is one and alerts.acknowledge is one


# ---------------------------------------------------------------- two operators at once


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AlertWorld, str, str]]:
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    w = build(tmp_path / "var", url)
    server = ApiServer(create_app(w.settings, w.db), "127.0.0.1", 0).start()
    try:
        yield w, server.url, request.param
    finally:
        server.close()
        w.db.close()


def test_two_operators_acknowledging_at_once_lose_nothing(served: tuple[AlertWorld, str, str]) -> None:
    world, url, _ = served
    # Both select every camera alert (overlapping sets), and post at the same moment.
    chosen = [*world.health, *world.health_cam1, world.plate_alert, world.speeding_alert]
    start = threading.Barrier(2)
    answers: dict[str, httpx.Response] = {}

    def post(username: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            client.cookies.set(SESSION_COOKIE, world.tokens[username])
            origin = url.rstrip("/")
            start.wait()
            answers[username] = client.post(
                "/alerts/acknowledge",
                data={"alert": chosen, "note": f"seen by {username}", "back": ""},
                headers={"Origin": origin},
            )

    threads = [threading.Thread(target=post, args=(u,)) for u in ("operator-1", "operator-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a.status_code in (200, 409) for a in answers.values()), answers
    with world.db.session() as session:
        handled = {a: session.get(AlertRow, a) for a in chosen}
        assert all(r is not None and r.status == "acknowledged" for r in handled.values())
        by = {a: r.handled_by for a, r in handled.items() if r is not None}
    entries = AuditLog(world.db).entries(AuditAction.ACKNOWLEDGE_ALERT)
    # Every alert has an acknowledgement entry, by the user the alert says handled it.
    audited: dict[str, set[str]] = {}
    for e in entries:
        audited.setdefault(e.target, set()).add(e.username)
    assert set(audited) == set(chosen)
    assert all(by[a] in audited[a] for a in chosen)
    # Each alert acknowledged once: the second operator is told it was handled already.
    assert len(entries) == len(chosen), sorted(len(u) for u in audited.values())
    assert AuditLog(world.db).verify().first_bad is None
