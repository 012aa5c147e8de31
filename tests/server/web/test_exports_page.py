"""Evidence export from the web UI: the form, the package the CLI's exporter writes (images, clip,
evidence.json) with a SHA-256 list that matches the files, exactly one audit entry with the reason
and recipients, refusals in words (no reason, cross-origin, wrong role, oversized input), the
guarded download, and two investigators exporting at once on each database."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alert_world import FAST_HASHER, AlertWorld, build

from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.server.security import SESSION_COOKIE
from safecity.store.field_limits import AUDIT_ENTRY

REASON = "case 2026/77: request of the public prosecutor"
RECIPIENTS = "Public prosecutor's office, Belgrade"
DOWNLOAD = re.compile(r'href="(/exports/[A-Za-z0-9_-]+/alert-[\w-]+\.zip)"')


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AlertWorld]:
    w = build(tmp_path / "var")
    yield w
    w.db.close()


def export(world: AlertWorld, username: str = "investigator-1", **form: str) -> httpx.Response:
    data = {"alert": world.plate_alert, "reason": REASON, "recipients": RECIPIENTS, **form}
    return world.client(username).post("/exports", data=data)


def package_of(world: AlertWorld, page: str, username: str = "investigator-1") -> zipfile.ZipFile:
    found = DOWNLOAD.search(page)
    assert found, "no download link"
    response = world.client(username).get(found.group(1))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def sums_match(package: zipfile.ZipFile) -> dict[str, str]:
    """The package's SHA256SUMS, checked against every file it names; {name: sha256}."""
    sums = dict(reversed(line.split("  ", 1)) for line in package.read("SHA256SUMS").decode().splitlines())
    assert set(sums) == set(package.namelist()) - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256(package.read(name)).hexdigest() == digest, name
    return sums


def test_form_asks_reason_and_recipients_and_says_faces_are_blurred(world: AlertWorld) -> None:
    page = world.client("investigator-1").get(f"/exports/new?alert={world.plate_alert}")
    assert page.status_code == 200
    assert 'name="reason"' in page.text and 'name="recipients"' in page.text
    assert 'id="faces-blurred"' in page.text and 'name="unblurred"' not in page.text
    assert "Krunska east" in page.text


def test_unconfirmed_face_match_cannot_be_exported(world: AlertWorld) -> None:
    page = world.client("investigator-1").get(f"/exports/new?alert={world.face_alert}")
    assert 'id="not-confirmed"' in page.text and 'id="export-form"' not in page.text
    refused = export(world, alert=world.face_alert)
    assert refused.status_code == 409
    assert "may not be exported" in refused.text
    assert AuditLog(world.db).entries(AuditAction.EXPORT) == []


def test_export_writes_package_whose_manifest_matches_and_one_audit_entry(world: AlertWorld) -> None:
    page = export(world)
    assert page.status_code == 200, page.text
    package = package_of(world, page.text)
    sums = sums_match(package)
    assert {"evidence.json", "snapshot.jpg"} <= set(sums)
    for name, digest in sums.items():  # the page shows the same manifest
        assert name in page.text and digest in page.text
    entries = AuditLog(world.db).entries(AuditAction.EXPORT)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.username, entry.justification, entry.recipients) == ("investigator-1", REASON, RECIPIENTS)
    assert entry.target == world.plate_alert
    assert f"#{entry.seq}" in page.text and entry.hash in page.text
    assert f'"seq": {entry.seq}' in package.read("evidence.json").decode()


def confirm(world: AlertWorld, alert_id: str) -> None:
    """Two operators confirm the face match, through the API as their screens do."""
    for name in ("operator-1", "operator-2"):
        response = world.client(name).post(f"/api/v1/alerts/{alert_id}/confirm", json={"note": ""})
        assert response.status_code == 200, response.text


def test_confirmed_face_match_exports_with_its_face_visible_on_request(world: AlertWorld) -> None:
    confirm(world, world.face_alert)
    form = world.client("investigator-1").get(f"/exports/new?alert={world.face_alert}")
    assert 'name="unblurred"' in form.text
    page = export(world, alert=world.face_alert, unblurred="1")
    assert page.status_code == 200, page.text
    package = package_of(world, page.text)
    assert "reference.jpg" in sums_match(package)
    assert AuditLog(world.db).entries(AuditAction.EXPORT)[-1].details["unblurred"] is True


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"reason": ""}, 400, "needs a reason of at least"),
        ({"reason": "short"}, 400, "needs a reason of at least"),
        ({"recipients": "  "}, 400, "the recipients"),
        ({"reason": "x" * (AUDIT_ENTRY["justification"] + 1)}, 413, "at most"),
        ({"recipients": "x" * (AUDIT_ENTRY["recipients"] + 1)}, 413, "at most"),
        ({"alert": "no-such-alert"}, 404, "no alert"),
        ({"alert": "x" * 5000}, 404, "no alert"),
    ],
)
def test_refused_forms_say_why_and_export_nothing(
    world: AlertWorld, form: dict[str, str], status: int, words: str
) -> None:
    page = export(world, **form)
    assert page.status_code == status
    assert words in page.text.replace("&#39;", "'")
    assert 'id="export-error"' in page.text
    assert AuditLog(world.db).entries(AuditAction.EXPORT) == []


def test_malformed_post_is_not_a_server_error(world: AlertWorld) -> None:
    client = world.client("investigator-1")
    response = client.post(
        "/exports", content=b"\xff\xfe not a form", headers={"Content-Type": "multipart/form-data"}
    )
    assert 400 <= response.status_code < 500


def test_cross_origin_post_is_refused(world: AlertWorld) -> None:
    client = world.client("investigator-1")
    data = {"alert": world.plate_alert, "reason": REASON, "recipients": RECIPIENTS}
    response = client.post("/exports", data=data, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert AuditLog(world.db).entries(AuditAction.EXPORT) == []


@pytest.mark.parametrize("username", ["operator-1", "viewer-1", "auditor-1"])
def test_other_roles_are_refused_and_recorded(world: AlertWorld, username: str) -> None:
    for response in (
        world.client(username).get(f"/exports/new?alert={world.plate_alert}"),
        export(world, username),
    ):
        assert response.status_code == 403
    denied = AuditLog(world.db).entries(AuditAction.ACCESS_DENIED)
    assert [e.username for e in denied[-2:]] == [username, username]
    assert AuditLog(world.db).entries(AuditAction.EXPORT) == []


def test_package_is_downloaded_only_by_its_maker(world: AlertWorld) -> None:
    UserStore(world.db, hasher=FAST_HASHER).add("investigator-2", Role.INVESTIGATOR, "a long enough password")
    token = UserStore(world.db, hasher=FAST_HASHER).issue_token("investigator-2", timedelta(hours=1)).secret
    page = export(world)
    link = DOWNLOAD.search(page.text)
    assert link
    other = world.client("investigator-1")
    other.cookies.set(SESSION_COOKIE, token)
    assert other.get(link.group(1)).status_code == 404
    assert world.client("operator-1").get(link.group(1)).status_code == 403
    assert world.client("investigator-1").get("/exports/..%2F..%2Fsafecity.db/alert-x.zip").status_code == 404


# ---------------------------------------------------------------- two investigators at once


@pytest.fixture(params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, AlertWorld, dict[str, str]]]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    world = build(tmp_path / "var", url)
    users, tokens = UserStore(world.db, hasher=FAST_HASHER), {}
    for name in ("inv-a", "inv-b"):
        users.add(name, Role.INVESTIGATOR, "a long enough password")
        tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    server = ApiServer(create_app(world.settings, world.db), "127.0.0.1", 0).start()
    try:
        yield server.url, world, tokens
    finally:
        server.close()
        world.db.close()


def test_two_investigators_export_at_once(served: tuple[str, AlertWorld, dict[str, str]]) -> None:
    url, world, tokens = served
    start, pages = threading.Barrier(len(tokens)), {}

    def one(name: str) -> None:
        with httpx.Client(base_url=url, headers={"Origin": url}, timeout=120) as client:
            client.cookies.set(SESSION_COOKIE, tokens[name])
            start.wait()
            data = {"alert": world.plate_alert, "reason": f"{REASON} ({name})", "recipients": RECIPIENTS}
            response = client.post("/exports", data=data)
            link = DOWNLOAD.search(response.text)
            assert link, response.text
            pages[name] = (response.status_code, client.get(link.group(1)).content)

    threads = [threading.Thread(target=one, args=(n,)) for n in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(pages) == sorted(tokens)
    for status, content in pages.values():
        assert status == 200
        sums_match(zipfile.ZipFile(io.BytesIO(content)))
    log = AuditLog(world.db)
    assert sorted(e.username for e in log.entries(AuditAction.EXPORT)) == ["inv-a", "inv-b"]
    assert log.verify().first_bad is None
