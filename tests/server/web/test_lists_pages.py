"""The hotlist and face watchlist pages: each change goes through the function the CLI and the API
call and writes the same audit entry; refusals are pages in words (400/404/409/413/415/422); a
cross-site post and a role that may not are 403s (the latter recorded); two operators adding
hotlist entries at once lose nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from alert_world import FAST_HASHER, AlertWorld, build

from safecity.governance import list_changes
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import Actor, UserStore
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.server.security import SESSION_COOKIE
from safecity.sim.faces import reference_image
from safecity.store.face_watchlists import FaceWatchlistStore
from safecity.store.hotlists import HotlistStore
from safecity.store.media import MediaStore
from safecity.types import AuthorisationPurpose

REASON = "stolen vehicle, report 2026/1234"
T = datetime(2026, 1, 1, tzinfo=UTC)


def jpeg(image: np.ndarray) -> bytes:  # type: ignore[type-arg]
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data.tobytes())


HOPPER = jpeg(reference_image("grace_hopper"))
HOPPER_MIRRORED = jpeg(cv2.flip(reference_image("grace_hopper"), 1))
GREY = jpeg(np.full((300, 300, 3), 90, np.uint8))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AlertWorld]:
    w = build(tmp_path / "var")
    yield w
    w.db.close()


def add(world: AlertWorld, user: str = "operator-1", **form: str) -> httpx.Response:
    data = {"plate": "BG 777-XY", "reason": REASON, "owner": "Traffic police", **form}
    return world.client(user).post("/hotlists", data=data, follow_redirects=True)


def changes(world: AlertWorld, action: AuditAction) -> list[tuple[str, str, object]]:
    return [(e.username, e.role, (e.details or {}).get("change")) for e in AuditLog(world.db).entries(action)]


# ---------------------------------------------------------------- hotlist


def test_adding_an_entry_is_audited_as_from_the_api(world: AlertWorld) -> None:
    page = add(world, days="3")
    assert page.status_code == 200 and "Hotlisted plate BG777XY" in page.text
    (entry,) = [e for e in HotlistStore(world.db).all() if e.plate == "BG777XY"]
    assert entry.owner == "Traffic police" and entry.expires_at is not None
    (audit,) = AuditLog(world.db).entries(AuditAction.HOTLIST_CHANGE)
    assert (audit.username, audit.role, audit.target, audit.justification) == (
        "operator-1",
        "operator",
        entry.id,
        REASON,
    )
    assert audit.details == {"change": "added", "plate": "BG777XY", "owner": "Traffic police"}


def test_removing_an_entry_records_the_reason(world: AlertWorld) -> None:
    add(world)
    (entry,) = [e for e in HotlistStore(world.db).all() if e.plate == "BG777XY"]
    page = world.client("operator-2").post(
        f"/hotlists/{entry.id}/remove", data={"reason": "vehicle found"}, follow_redirects=True
    )
    assert page.status_code == 200 and "Removed BG777XY" in page.text
    assert not HotlistStore(world.db).get(entry.id).active
    removed = AuditLog(world.db).entries(AuditAction.HOTLIST_CHANGE)[-1]
    assert (removed.username, removed.justification, removed.details) == (
        "operator-2",
        "vehicle found",
        {"change": "removed", "plate": "BG777XY"},
    )
    again = world.client("operator-2").post(f"/hotlists/{entry.id}/remove", data={"reason": "twice"})
    assert again.status_code == 409 and "already removed" in again.text


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"reason": "x"}, 422, "reason"),
        ({"plate": ""}, 400, "give a plate"),
        ({"owner": " "}, 400, "who answers"),
        ({"plate": "B" * 60}, 400, "at most 50"),
        ({"days": "two"}, 422, "not a whole number"),
        ({"days": "0"}, 422, "at least 1"),
        ({"days": "2", "expires": "2099-01-01T00:00"}, 422, "not both"),
        ({"expires": "tomorrow"}, 422, "not a date"),
    ],
)
def test_a_malformed_entry_is_refused_in_words(
    world: AlertWorld, form: dict[str, str], status: int, words: str
) -> None:
    page = add(world, **form)
    assert page.status_code == status
    assert words in page.text and 'id="form-error"' in page.text
    assert AuditLog(world.db).entries(AuditAction.HOTLIST_CHANGE) == []


def test_a_removal_without_a_reason_is_a_400(world: AlertWorld) -> None:
    add(world)
    (entry,) = [e for e in HotlistStore(world.db).all() if e.plate == "BG777XY"]
    assert world.client("operator-1").post(f"/hotlists/{entry.id}/remove", data={}).status_code == 400
    assert HotlistStore(world.db).get(entry.id).active


def test_a_cross_site_post_changes_nothing(world: AlertWorld) -> None:
    client = world.client("operator-1")
    page = client.post(
        "/hotlists",
        data={"plate": "BG 1", "reason": REASON, "owner": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert page.status_code == 403 and "Cross-origin request refused" in page.text
    assert AuditLog(world.db).entries(AuditAction.HOTLIST_CHANGE) == []


def test_a_viewer_may_not_change_the_hotlist_and_the_refusal_is_recorded(world: AlertWorld) -> None:
    page = add(world, user="viewer-1")
    assert page.status_code == 403 and "may not" in page.text
    assert [e.username for e in AuditLog(world.db).entries(AuditAction.ACCESS_DENIED)] == ["viewer-1"]
    assert AuditLog(world.db).entries(AuditAction.HOTLIST_CHANGE) == []


# ---------------------------------------------------------------- watchlists


def authorise(world: AlertWorld, *, urgent: bool = False) -> str:
    auth = list_changes.record_authorisation(
        world.db,
        world.settings,
        Actor("admin-1", "admin"),
        authority="Higher Court in Belgrade",
        reference=f"Kpp {'9' if urgent else '1'}/2026",
        purpose=AuthorisationPurpose.VICTIM_SEARCH,
        cameras=["cam-1"],
        valid_from=datetime.now(UTC) - timedelta(days=1),
        valid_until=datetime.now(UTC) + timedelta(days=30),
        urgent=urgent,
    )
    return auth.id


def watchlist(world: AlertWorld) -> str:
    page = world.client("investigator-1").post(
        "/watchlists",
        data={"name": "missing-child", "authorisation": authorise(world)},
        follow_redirects=True,
    )
    assert page.status_code == 200, page.text
    (wl,) = FaceWatchlistStore(world.db, MediaStore(world.settings.effective_media_dir)).list_watchlists()
    return wl.id


def enrol(
    world: AlertWorld, wl: str, *photos: tuple[str, bytes, str], user: str = "investigator-1"
) -> httpx.Response:
    files = [("photos", p) for p in photos]
    return world.client(user).post(
        f"/watchlists/{wl}/persons",
        data={"label": "Grace", "note": "case 7"},
        files=files,
        follow_redirects=True,
    )


def test_creating_a_watchlist_under_an_approved_authorisation_is_audited(world: AlertWorld) -> None:
    wl = watchlist(world)
    (created,) = AuditLog(world.db).entries(AuditAction.WATCHLIST_CHANGE)
    assert (created.username, created.target, created.details["change"]) == ("investigator-1", wl, "created")
    assert created.justification == "under Higher Court in Belgrade Kpp 1/2026"


def test_a_refused_authorisation_is_not_offered_and_is_refused_with_the_reason(world: AlertWorld) -> None:
    refused = authorise(world, urgent=True)
    list_changes.decide_authorisation(
        world.db, world.settings, Actor("admin-1", "admin"), refused, "refused", "no"
    )
    client = world.client("investigator-1")
    assert f'<option value="{refused}"' not in client.get("/watchlists").text
    page = client.post("/watchlists", data={"name": "x", "authorisation": refused})
    assert page.status_code == 409 and "refused" in page.text
    assert client.post("/watchlists", data={"name": "x", "authorisation": "nope"}).status_code == 400


def test_a_person_is_enrolled_from_two_photos_and_shown_with_them(world: AlertWorld) -> None:
    wl = watchlist(world)
    page = enrol(world, wl, ("a.jpg", HOPPER, "image/jpeg"), ("b.jpg", HOPPER_MIRRORED, "image/jpeg"))
    assert page.status_code == 200 and "Enrolled Grace from 2 photos" in page.text, page.text
    photos = re.findall(rf'src="(/watchlists/{wl}/photos/[^"]+)"', page.text)
    assert len(photos) == 2
    image = world.client("investigator-1").get(photos[0])
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
    assert world.client("operator-1").get(photos[0]).status_code == 403
    enrolled = AuditLog(world.db).entries(AuditAction.WATCHLIST_CHANGE)[-1]
    assert enrolled.details == {"change": "enrolled", "label": "Grace", "photos": 2}


@pytest.mark.parametrize(
    ("photo", "status", "words"),
    [
        (("grey.jpg", GREY, "image/jpeg"), 422, "photo 2-grey.jpg"),
        (("notes.txt", b"not a photo", "text/plain"), 415, "notes.txt: not an image"),
    ],
)
def test_one_bad_photo_enrols_nobody_and_is_named(
    world: AlertWorld, photo: tuple[str, bytes, str], status: int, words: str
) -> None:
    wl = watchlist(world)
    page = enrol(world, wl, ("a.jpg", HOPPER, "image/jpeg"), photo)
    assert page.status_code == status
    assert words in page.text and "Nothing was enrolled." in page.text
    assert FaceWatchlistStore(world.db, MediaStore(world.settings.effective_media_dir)).persons(wl) == []


def test_an_oversized_photo_is_a_413_page(world: AlertWorld) -> None:
    wl = watchlist(world)
    small = world.settings.model_copy(
        update={"api": world.settings.api.model_copy(update={"max_upload_bytes": 2048})}
    )
    page = world.client("investigator-1", small).post(
        f"/watchlists/{wl}/persons",
        data={"label": "Grace"},
        files=[("photos", ("a.jpg", HOPPER, "image/jpeg"))],
    )
    assert page.status_code == 413 and "Nothing was enrolled." in page.text
    assert "<html" in page.text.lower()


def test_enrolling_without_a_label_or_photo_is_a_400(world: AlertWorld) -> None:
    wl = watchlist(world)
    client = world.client("investigator-1")
    assert client.post(f"/watchlists/{wl}/persons", data={"label": "Grace"}).status_code == 400
    assert (
        client.post(
            f"/watchlists/{wl}/persons",
            data={"label": ""},
            files=[("photos", ("a.jpg", HOPPER, "image/jpeg"))],
        ).status_code
        == 400
    )
    assert client.get("/watchlists/nope").status_code == 404


def test_removing_a_person_needs_a_reason_and_is_audited(world: AlertWorld) -> None:
    wl = watchlist(world)
    enrol(world, wl, ("a.jpg", HOPPER, "image/jpeg"))
    store = FaceWatchlistStore(world.db, MediaStore(world.settings.effective_media_dir))
    (person,) = store.persons(wl)
    client = world.client("investigator-1")
    assert client.post(f"/watchlists/{wl}/persons/{person.id}/remove", data={}).status_code == 400
    page = client.post(
        f"/watchlists/{wl}/persons/{person.id}/remove", data={"reason": "found safe"}, follow_redirects=True
    )
    assert page.status_code == 200 and "Removed the person" in page.text
    assert store.persons(wl) == []
    removed = AuditLog(world.db).entries(AuditAction.WATCHLIST_CHANGE)[-1]
    assert (removed.target, removed.justification, removed.details["change"]) == (
        f"{wl}/{person.id}",
        "found safe",
        "removed",
    )
    gone = client.post(f"/watchlists/{wl}/persons/{person.id}/remove", data={"reason": "again"})
    assert gone.status_code == 404


def test_an_operator_may_not_open_or_change_watchlists(world: AlertWorld) -> None:
    client = world.client("operator-1")
    assert client.get("/watchlists").status_code == 403
    assert client.post("/watchlists", data={"name": "x", "authorisation": "y"}).status_code == 403
    assert len(AuditLog(world.db).entries(AuditAction.ACCESS_DENIED)) == 2


# ---------------------------------------------------------------- two operators at once


@pytest.fixture(params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, AlertWorld, dict[str, str]]]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    world = build(tmp_path / "var", url)
    users, tokens = UserStore(world.db, hasher=FAST_HASHER), {}
    for name in ("op-a", "op-b", "op-c"):
        users.add(name, Role.OPERATOR, "a long enough password")
        tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    server = ApiServer(create_app(world.settings, world.db), "127.0.0.1", 0).start()
    try:
        yield server.url, world, tokens
    finally:
        server.close()
        world.db.close()


def test_operators_adding_entries_at_once_lose_nothing(
    served: tuple[str, AlertWorld, dict[str, str]],
) -> None:
    url, world, tokens = served
    start, statuses = threading.Barrier(len(tokens)), {}

    def one(name: str) -> None:
        with httpx.Client(base_url=url, headers={"Origin": url}, timeout=60) as client:
            client.cookies.set(SESSION_COOKIE, tokens[name])
            start.wait()
            data = {"plate": f"BG 1{len(name)}{name[-1]}-AA", "reason": REASON, "owner": name}
            statuses[name] = client.post("/hotlists", data=data).status_code

    threads = [threading.Thread(target=one, args=(n,)) for n in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses.values()) == {303}
    assert sorted(e.owner for e in HotlistStore(world.db).all() if e.owner in tokens) == sorted(tokens)
    log = AuditLog(world.db)
    assert sorted(e.username for e in log.entries(AuditAction.HOTLIST_CHANGE)) == sorted(tokens)
    assert log.verify().first_bad is None
