"""The web UI's forms and query pages under hostile input (issue 22).

Every form post and query-taking page is sent what a hostile or careless user would send: missing
fields, wrong types, huge values (1 MB strings, 10^30, NaN, thousands of digits, superscript
digits, far-off dates), NUL and control characters, repeated fields, oversized and non-image
uploads, malformed and deeply nested JSON, path traversal in ids and tokens, ids that do not
exist, another user's export token, the wrong role, no session, and a post from another origin.
Each must be answered with a 4xx page (or a 303 to the login page), never a 5xx or a traceback;
nothing may be stored (every table but the audit log, and the export and media folders, compared
before and after); and the audit chain must still verify.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server" / "web"))  # alert_world
from alert_world import FAST_HASHER, ORIGIN, build

from safecity.config import Settings
from safecity.governance import list_changes
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import Actor, UserStore
from safecity.server.app import create_app
from safecity.server.security import SESSION_COOKIE
from safecity.sim.faces import reference_image
from safecity.store.database import Database
from safecity.store.face_watchlists import FaceWatchlistStore
from safecity.store.media import MediaStore
from safecity.store.models import Base
from safecity.types import AuthorisationPurpose

EVIL = "https://evil.example"
UPLOAD_LIMIT = 200_000
MB = "A" * 1_000_000
BIG = str(10**30)
DIGITS = "9" * 5000  # past Python's 4300-digit int() limit
SUPERSCRIPT = "²"  # str.isdigit() is True, int() refuses it
FAR_PAST = "0001-01-01T00:00+14:00"  # valid ISO times that cannot be converted to UTC
FAR_FUTURE = "9999-12-31T23:59-14:00"
NESTED = "[" * 100_000 + "]" * 100_000
NOT_STORED = {"audit_entries", "api_tokens", "login_failures", "processing_runs"}
"""Tables a refused request may legitimately write to (its refusal, the session's last use)."""
EXTRA_USERS = {
    "investigator-2": Role.INVESTIGATOR,
    "admin-1": Role.ADMIN,
    "admin-2": Role.ADMIN,
}
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


def _jpeg(image: np.ndarray) -> bytes:  # type: ignore[type-arg]
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data.tobytes())


HOPPER = _jpeg(reference_image("grace_hopper"))


@dataclass
class World:
    settings: Settings
    db: Database
    tokens: dict[str, str]
    ids: dict[str, str]
    clients: dict[tuple[str, str], TestClient] = field(default_factory=dict)

    def client(self, username: str | None, origin: str = ORIGIN) -> TestClient:
        """A browser-like client (session cookie and Origin); `username` None: no session."""
        key = (username or "", origin)
        if key not in self.clients:
            client = TestClient(
                create_app(self.settings, self.db), headers={"Origin": origin}, raise_server_exceptions=False
            )
            if username is not None:
                client.cookies.set(SESSION_COOKIE, self.tokens[username])
            self.clients[key] = client
        return self.clients[key]

    def stored(self) -> dict[str, Any]:
        """Everything a change would touch: each table's rows (the audit log apart) and the files kept."""
        out: dict[str, Any] = {}
        with self.db.read_session() as session:
            for table in Base.metadata.sorted_tables:
                if table.name not in NOT_STORED:
                    out[table.name] = sorted(repr(tuple(row)) for row in session.execute(select(table)))
        for folder in ("exports", "media"):
            root = self.settings.data_dir / folder
            out[folder] = sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []
        return out


def _export(world: World, username: str) -> str:
    """The token of an evidence package `username` exports of the plate alert."""
    page = world.client(username).post(
        "/exports",
        data={
            "alert": world.ids["plate_alert"],
            "reason": "case 12/2026, stolen vehicle",
            "recipients": "Public prosecutor, Belgrade",
        },
    )
    assert page.status_code == 200, page.text[-2000:]
    found = re.search(r"/exports/([A-Za-z0-9_-]{16,64})/(alert-[\w-]+\.zip)", page.text)
    assert found is not None, page.text[-2000:]
    return f"{found.group(1)}/{found.group(2)}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("hostile") / "var"
    alerts = build(root)
    settings = Settings(data_dir=root, api={"max_upload_bytes": UPLOAD_LIMIT})
    users, tokens = UserStore(alerts.db, hasher=FAST_HASHER), dict(alerts.tokens)
    for name, role in EXTRA_USERS.items():
        users.add(name, role, "a long enough password")
        tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    admin = Actor("admin-1", "admin")
    now = datetime.now(UTC)
    auth = list_changes.record_authorisation(
        alerts.db,
        settings,
        admin,
        authority="Higher Court in Belgrade",
        reference="Kpp 1/2026",
        purpose=AuthorisationPurpose.VICTIM_SEARCH,
        cameras=["cam-1"],
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
    )
    store = FaceWatchlistStore(alerts.db, MediaStore(settings.effective_media_dir))
    wl = list_changes.create_watchlist(store, Actor("investigator-1", "investigator"), "missing-child", auth)
    entry = list_changes.add_hotlist_entry(
        alerts.db, settings, Actor("operator-1", "operator"), "BG 777-XY", reason="stolen vehicle, 2026/1234",
        owner="Traffic police", expires_at=None, days=3,
    )  # fmt: skip
    ids = {
        "face_alert": alerts.face_alert,
        "plate_alert": alerts.plate_alert,
        "auth": auth.id,
        "watchlist": wl.id,
        "hotlist": entry.id,
    }
    w = World(settings, alerts.db, tokens, ids)
    w.ids["package"] = _export(w, "investigator-1")
    try:
        yield w
    finally:
        for client in w.clients.values():
            client.close()
        alerts.db.close()


@dataclass(frozen=True)
class Case:
    """One hostile request: who sends it, from where, to what, with what."""

    method: str
    path: str
    user: str | None = "admin-1"
    origin: str = ORIGIN
    data: Any = None
    files: Any = None
    may_show: bool = False
    """A GET page that may answer 200 (showing the page unfiltered or clamped) rather than refuse."""


def _ids(world: World, text: str) -> str:
    """`text` with each `{name}` of the world's ids filled in (JSON braces left alone)."""
    for name, value in world.ids.items():
        text = text.replace(f"{{{name}}}", value)
    return text


def _send(world: World, case: Case) -> httpx.Response:
    client = world.client(case.user, case.origin)
    path = _ids(world, case.path)
    data = case.data
    if isinstance(data, dict):
        data = {k: _ids(world, v) if isinstance(v, str) else v for k, v in data.items()}
    if case.method == "GET":
        return client.get(path, follow_redirects=False)
    return client.post(path, data=data, files=case.files, follow_redirects=False)


def _check(world: World, case: Case) -> None:
    """Send `case`; every way it went wrong is reported at once (status, trace, echo, stored change)."""
    before = world.stored()
    r = _send(world, case)
    body = r.text[:200_000] if "text" in r.headers.get("content-type", "") else ""
    problems = []
    if r.status_code >= 500:
        problems.append("a server error")
    elif r.status_code == 303:
        if not r.headers["location"].startswith("/login"):
            problems.append(f"a redirect to {r.headers['location']!r}, not to the login page")
    elif not (400 <= r.status_code < 500 or (case.may_show and r.status_code == 200)):
        problems.append("neither a refusal nor the page")
    if TRACEBACK.search(body):
        problems.append("a traceback in the body")
    if "<script>alert(1)" in body:
        problems.append("the script sent echoed unescaped")
    if world.stored() != before:
        problems.append("a change was stored")
    if AuditLog(world.db).verify().first_bad is not None:
        problems.append("the audit chain no longer verifies")
    assert not problems, (
        f"{case.method} {case.path} -> {r.status_code} {r.text[:300]!r}: {'; '.join(problems)}"
    )


def _table(cases: dict[str, Case]) -> Any:
    return pytest.mark.parametrize("case", list(cases.values()), ids=list(cases))


# ---------------------------------------------------------------- form posts

ACK = "/alerts/acknowledge"
DECIDE = "/alerts/{face_alert}/decision"
ALERT_POSTS = {
    "ack-nothing": Case("POST", ACK, "operator-1", data={}),
    "ack-unknown-id": Case("POST", ACK, "operator-1", data={"alert": "no-such-alert"}),
    "ack-traversal-id": Case("POST", ACK, "operator-1", data={"alert": "../../etc/passwd"}),
    "ack-nul-id": Case("POST", ACK, "operator-1", data={"alert": "a\x00b"}),
    "ack-face-alert": Case("POST", ACK, "operator-1", data={"alert": "{face_alert}"}),
    "ack-too-many": Case("POST", ACK, "operator-1", data={"alert": [f"id-{i}" for i in range(600)]}),
    "ack-huge-note": Case("POST", ACK, "operator-1", data={"alert": "{plate_alert}", "note": MB}),
    "ack-repeated-unknown": Case("POST", ACK, "operator-1", data={"alert": ["nope", "nope", "nope"]}),
    "ack-back-page-digits": Case("POST", ACK, "operator-1", data={"alert": "nope", "back": f"page={DIGITS}"}),
    "ack-back-page-superscript": Case(
        "POST", ACK, "operator-1", data={"alert": "nope", "back": f"page={SUPERSCRIPT}"}
    ),
    "ack-back-far-past": Case("POST", ACK, "operator-1", data={"alert": "nope", "back": f"since={FAR_PAST}"}),
    "ack-viewer": Case("POST", ACK, "viewer-1", data={"alert": "{plate_alert}"}),
    "ack-auditor": Case("POST", ACK, "auditor-1", data={"alert": "{plate_alert}"}),
    "ack-no-session": Case("POST", ACK, None, data={"alert": "{plate_alert}"}),
    "ack-cross-origin": Case("POST", ACK, "operator-1", EVIL, data={"alert": "{plate_alert}"}),
    "decide-unknown-alert": Case(
        "POST", "/alerts/no-such/decision", "operator-1", data={"decision": "confirm"}
    ),
    "decide-unknown-ack": Case(
        "POST", "/alerts/no-such/decision", "operator-1", data={"decision": "acknowledge"}
    ),
    "decide-nul-alert": Case("POST", "/alerts/a%00b/decision", "operator-1", data={"decision": "confirm"}),
    "decide-missing": Case("POST", DECIDE, "operator-1", data={}),
    "decide-script": Case("POST", DECIDE, "operator-1", data={"decision": "<script>alert(1)</script>"}),
    "decide-huge-note": Case("POST", DECIDE, "operator-1", data={"decision": "confirm", "note": MB}),
    "decide-ack-face": Case("POST", DECIDE, "operator-1", data={"decision": "acknowledge"}),
    "decide-viewer": Case("POST", DECIDE, "viewer-1", data={"decision": "confirm"}),
    "decide-no-session": Case("POST", DECIDE, None, data={"decision": "confirm"}),
    "decide-cross-origin": Case("POST", DECIDE, "operator-1", EVIL, data={"decision": "confirm"}),
}

GOOD_EXPORT = {"alert": "{plate_alert}", "reason": "case 12/2026, stolen car", "recipients": "Prosecutor"}
EXPORT_POSTS = {
    "export-missing": Case("POST", "/exports", "investigator-1", data={}),
    "export-unknown-alert": Case("POST", "/exports", "investigator-1", data={**GOOD_EXPORT, "alert": "nope"}),
    "export-traversal-alert": Case(
        "POST", "/exports", "investigator-1", data={**GOOD_EXPORT, "alert": "../../../etc/passwd"}
    ),
    "export-huge-alert": Case("POST", "/exports", "investigator-1", data={**GOOD_EXPORT, "alert": MB}),
    "export-huge-reason": Case("POST", "/exports", "investigator-1", data={**GOOD_EXPORT, "reason": MB}),
    "export-huge-recipients": Case(
        "POST", "/exports", "investigator-1", data={**GOOD_EXPORT, "recipients": MB}
    ),
    "export-no-recipients": Case(
        "POST", "/exports", "investigator-1", data={**GOOD_EXPORT, "recipients": " "}
    ),
    "export-short-reason": Case("POST", "/exports", "investigator-1", data={**GOOD_EXPORT, "reason": "x"}),
    "export-unconfirmed-face": Case(
        "POST", "/exports", "investigator-1", data={**GOOD_EXPORT, "alert": "{face_alert}"}
    ),
    "export-operator": Case("POST", "/exports", "operator-1", data=GOOD_EXPORT),
    "export-no-session": Case("POST", "/exports", None, data=GOOD_EXPORT),
    "export-cross-origin": Case("POST", "/exports", "investigator-1", EVIL, data=GOOD_EXPORT),
}

HOTLIST = {"plate": "BG 888-ZZ", "reason": "stolen vehicle, 2026/99", "owner": "Traffic police"}
REMOVE_HOT = "/hotlists/{hotlist}/remove"
LIST_POSTS = {
    "hotlist-missing": Case("POST", "/hotlists", "operator-1", data={}),
    "hotlist-huge-plate": Case("POST", "/hotlists", "operator-1", data={**HOTLIST, "plate": MB}),
    "hotlist-huge-reason": Case("POST", "/hotlists", "operator-1", data={**HOTLIST, "reason": MB}),
    "hotlist-days-1e30": Case("POST", "/hotlists", "operator-1", data={**HOTLIST, "days": BIG}),
    "hotlist-days-3e6": Case("POST", "/hotlists", "operator-1", data={**HOTLIST, "days": "3000000"}),
    "hotlist-days-digits": Case("POST", "/hotlists", "operator-1", data={**HOTLIST, "days": DIGITS}),
    "hotlist-days-negative": Case("POST", "/hotlists", "operator-1", data={**HOTLIST, "days": "-5"}),
    "hotlist-days-nan": Case("POST", "/hotlists", "operator-1", data={**HOTLIST, "days": "NaN"}),
    "hotlist-days-superscript": Case(
        "POST", "/hotlists", "operator-1", data={**HOTLIST, "days": SUPERSCRIPT}
    ),
    "hotlist-expires-garbage": Case("POST", "/hotlists", "operator-1", data={**HOTLIST, "expires": "soon"}),
    "hotlist-expires-far-past": Case(
        "POST", "/hotlists", "operator-1", data={**HOTLIST, "expires": FAR_PAST}
    ),
    "hotlist-expires-far-future": Case(
        "POST", "/hotlists", "operator-1", data={**HOTLIST, "expires": FAR_FUTURE}
    ),
    "hotlist-viewer": Case("POST", "/hotlists", "viewer-1", data=HOTLIST),
    "hotlist-no-session": Case("POST", "/hotlists", None, data=HOTLIST),
    "hotlist-cross-origin": Case("POST", "/hotlists", "operator-1", EVIL, data=HOTLIST),
    "unhot-unknown": Case("POST", "/hotlists/nope/remove", "operator-1", data={"reason": "found it"}),
    "unhot-traversal": Case(
        "POST", "/hotlists/..%2F..%2Fetc/remove", "operator-1", data={"reason": "found it"}
    ),
    "unhot-no-reason": Case("POST", REMOVE_HOT, "operator-1", data={}),
    "unhot-huge-reason": Case("POST", REMOVE_HOT, "operator-1", data={"reason": MB}),
    "unhot-viewer": Case("POST", REMOVE_HOT, "viewer-1", data={"reason": "found it"}),
    "unhot-cross-origin": Case("POST", REMOVE_HOT, "operator-1", EVIL, data={"reason": "found it"}),
    "watchlist-missing": Case("POST", "/watchlists", "investigator-1", data={}),
    "watchlist-huge-name": Case(
        "POST", "/watchlists", "investigator-1", data={"name": MB, "authorisation": "{auth}"}
    ),
    "watchlist-unknown-auth": Case(
        "POST", "/watchlists", "investigator-1", data={"name": "x", "authorisation": "nope"}
    ),
    "watchlist-traversal-auth": Case(
        "POST", "/watchlists", "investigator-1", data={"name": "x", "authorisation": "../../etc/passwd"}
    ),
    "watchlist-taken-name": Case(
        "POST", "/watchlists", "investigator-1", data={"name": "missing-child", "authorisation": "{auth}"}
    ),
    "watchlist-operator": Case(
        "POST", "/watchlists", "operator-1", data={"name": "x", "authorisation": "{auth}"}
    ),
    "watchlist-cross-origin": Case(
        "POST", "/watchlists", "investigator-1", EVIL, data={"name": "x", "authorisation": "{auth}"}
    ),
}

ENROL = "/watchlists/{watchlist}/persons"
REMOVE_PERSON = "/watchlists/{watchlist}/persons/nope/remove"
PERSON = {"label": "Grace", "note": "case 7"}
UPLOAD_POSTS = {
    "enrol-unknown-list": Case(
        "POST",
        "/watchlists/nope/persons",
        "investigator-1",
        data=PERSON,
        files=[("photos", ("a.jpg", HOPPER))],
    ),
    "enrol-traversal-list": Case(
        "POST",
        "/watchlists/..%2F..%2Fetc/persons",
        "investigator-1",
        data=PERSON,
        files=[("photos", ("a.jpg", HOPPER))],
    ),
    "enrol-no-photo": Case("POST", ENROL, "investigator-1", data=PERSON),
    "enrol-no-label": Case("POST", ENROL, "investigator-1", data={}, files=[("photos", ("a.jpg", HOPPER))]),
    "enrol-long-label": Case(
        "POST", ENROL, "investigator-1", data={"label": "L" * 100_000}, files=[("photos", ("a.jpg", HOPPER))]
    ),
    "enrol-text-file": Case(
        "POST",
        ENROL,
        "investigator-1",
        data=PERSON,
        files=[("photos", ("a.jpg", b"not an image", "image/jpeg"))],
    ),
    "enrol-nul-bytes": Case(
        "POST",
        ENROL,
        "investigator-1",
        data=PERSON,
        files=[("photos", ("a.jpg", b"\x00" * 5000, "image/jpeg"))],
    ),
    "enrol-oversized": Case(
        "POST",
        ENROL,
        "investigator-1",
        data=PERSON,
        files=[("photos", ("a.jpg", HOPPER + b"\x00" * UPLOAD_LIMIT, "image/jpeg"))],
    ),
    "enrol-one-bad-of-two": Case(
        "POST",
        ENROL,
        "investigator-1",
        data=PERSON,
        files=[("photos", ("a.jpg", HOPPER, "image/jpeg")), ("photos", ("b.jpg", b"GIF89a", "image/gif"))],
    ),
    "enrol-operator": Case("POST", ENROL, "operator-1", data=PERSON, files=[("photos", ("a.jpg", HOPPER))]),
    "enrol-cross-origin": Case(
        "POST", ENROL, "investigator-1", EVIL, data=PERSON, files=[("photos", ("a.jpg", HOPPER))]
    ),
    "unperson-unknown": Case("POST", REMOVE_PERSON, "investigator-1", data={"reason": "case closed"}),
    "unperson-traversal": Case(
        "POST",
        "/watchlists/{watchlist}/persons/..%2F..%2Fetc/remove",
        "investigator-1",
        data={"reason": "case closed"},
    ),
    "unperson-unknown-list": Case(
        "POST", "/watchlists/nope/persons/nope/remove", "investigator-1", data={"reason": "closed"}
    ),
    "unperson-no-reason": Case("POST", REMOVE_PERSON, "investigator-1", data={}),
    "unperson-cross-origin": Case("POST", REMOVE_PERSON, "investigator-1", EVIL, data={"reason": "closed"}),
}

AUTH = {
    "authority": "Higher Court",
    "reference": "Kpp 2/2026",
    "purpose": "victim_search",
    "cameras": "cam-1",
    "valid_from": "2026-01-01T00:00",
    "valid_until": "2026-02-01T00:00",
}
DECIDE_AUTH = "/authorisations/{auth}/decide"
GOVERNANCE_POSTS = {
    "auth-missing": Case("POST", "/authorisations", data={}),
    "auth-no-window": Case("POST", "/authorisations", data={**AUTH, "valid_from": ""}),
    "auth-garbage-time": Case("POST", "/authorisations", data={**AUTH, "valid_from": "garbage"}),
    "auth-far-past": Case("POST", "/authorisations", data={**AUTH, "valid_from": FAR_PAST}),
    "auth-far-future": Case("POST", "/authorisations", data={**AUTH, "valid_until": FAR_FUTURE}),
    "auth-backwards": Case(
        "POST",
        "/authorisations",
        data={**AUTH, "valid_from": "2026-03-01T00:00", "valid_until": "2026-01-01"},
    ),
    "auth-huge-authority": Case("POST", "/authorisations", data={**AUTH, "authority": MB}),
    "auth-unknown-camera": Case("POST", "/authorisations", data={**AUTH, "cameras": "../../etc"}),
    "auth-bad-purpose": Case(
        "POST", "/authorisations", data={**AUTH, "purpose": "<script>alert(1)</script>"}
    ),
    "auth-operator": Case("POST", "/authorisations", "operator-1", data=AUTH),
    "auth-no-session": Case("POST", "/authorisations", None, data=AUTH),
    "auth-cross-origin": Case("POST", "/authorisations", "admin-1", EVIL, data=AUTH),
    "decide-auth-unknown": Case(
        "POST", "/authorisations/nope/decide", data={"decision": "refuse", "reason": "no grounds"}
    ),
    "decide-auth-huge-id": Case(
        "POST", f"/authorisations/{'x' * 5000}/decide", data={"decision": "refuse", "reason": "no grounds"}
    ),
    "decide-auth-bad-decision": Case("POST", DECIDE_AUTH, data={"decision": "maybe", "reason": "x"}),
    "decide-auth-no-reason": Case("POST", DECIDE_AUTH, data={"decision": "refuse"}),
    "decide-auth-huge-reason": Case("POST", DECIDE_AUTH, data={"decision": "refuse", "reason": MB}),
    "decide-auth-operator": Case(
        "POST", DECIDE_AUTH, "operator-1", data={"decision": "refuse", "reason": "no"}
    ),
    "decide-auth-cross-origin": Case(
        "POST", DECIDE_AUTH, "admin-1", EVIL, data={"decision": "refuse", "reason": "no grounds"}
    ),
    "retention-operator": Case("POST", "/admin/retention", "operator-1", data={"confirm": "yes"}),
    "retention-no-session": Case("POST", "/admin/retention", None, data={"confirm": "yes"}),
    "retention-cross-origin": Case("POST", "/admin/retention", "admin-1", EVIL, data={"confirm": "yes"}),
    "verify-operator": Case("POST", "/audit/verify", "operator-1"),
    "verify-no-session": Case("POST", "/audit/verify", None),
    "verify-cross-origin": Case("POST", "/audit/verify", "auditor-1", EVIL),
}

CAMERA = {
    "id": "cam-9",
    "name": "Knez Mihailova 9",
    "latitude": "44.8170",
    "longitude": "20.4570",
    "capabilities": ["plates", "motion"],
    "retention_days": "14",
}


def _camera(**changes: str) -> dict[str, Any]:
    return {**CAMERA, **changes}


def _geojson(text: str | bytes, name: str = "cams.geojson") -> list[tuple[str, tuple[str, bytes, str]]]:
    raw = text.encode() if isinstance(text, str) else text
    return [("file", (name, raw, "application/geo+json"))]


NAN_FEATURE = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point",'
    '"coordinates":[NaN, 44.8]},"properties":{"id":"cam-8","name":"x","capabilities":"motion"}}]}'
)
CAMERA_POSTS = {
    "camera-missing": Case("POST", "/admin/cameras", data={}),
    "camera-nul-id": Case("POST", "/admin/cameras", data=_camera(id="cam\x009")),
    "camera-control-id": Case("POST", "/admin/cameras", data=_camera(id="cam\x1b[2J9")),
    "camera-traversal-id": Case("POST", "/admin/cameras", data=_camera(id="../../etc/passwd")),
    "camera-huge-id": Case("POST", "/admin/cameras", data=_camera(id=MB)),
    "camera-huge-name": Case("POST", "/admin/cameras", data=_camera(name=MB)),
    "camera-existing-id": Case("POST", "/admin/cameras", data=_camera(id="cam-1")),
    "camera-lat-nan": Case("POST", "/admin/cameras", data=_camera(latitude="nan")),
    "camera-lat-inf": Case("POST", "/admin/cameras", data=_camera(latitude="inf")),
    "camera-lat-1e30": Case("POST", "/admin/cameras", data=_camera(latitude=BIG)),
    "camera-lon-negative": Case("POST", "/admin/cameras", data=_camera(longitude="-1e30")),
    "camera-heading-nan": Case("POST", "/admin/cameras", data=_camera(heading_deg="nan")),
    "camera-height-inf": Case("POST", "/admin/cameras", data=_camera(mount_height_m="-inf")),
    "camera-retention-1e30": Case("POST", "/admin/cameras", data=_camera(retention_days=BIG)),
    "camera-retention-digits": Case("POST", "/admin/cameras", data=_camera(retention_days=DIGITS)),
    "camera-retention-negative": Case("POST", "/admin/cameras", data=_camera(retention_days="-5")),
    "camera-retention-float": Case("POST", "/admin/cameras", data=_camera(retention_days="1.5")),
    "camera-bad-capability": Case("POST", "/admin/cameras", data=_camera(capabilities=["x-ray"])),
    "camera-bad-recording": Case(
        "POST", "/admin/cameras", data=_camera(recording="<script>alert(1)</script>")
    ),
    "camera-operator": Case("POST", "/admin/cameras", "operator-1", data=CAMERA),
    "camera-no-session": Case("POST", "/admin/cameras", None, data=CAMERA),
    "camera-cross-origin": Case("POST", "/admin/cameras", "admin-1", EVIL, data=CAMERA),
    "edit-unknown": Case("POST", "/admin/cameras/cam-404", data=_camera()),
    "edit-traversal": Case("POST", "/admin/cameras/..%2F..%2Fetc", data=_camera()),
    "edit-lat-nan": Case("POST", "/admin/cameras/cam-1", data=_camera(latitude="nan")),
    "edit-retention-1e30": Case("POST", "/admin/cameras/cam-1", data=_camera(retention_days=BIG)),
    "edit-missing": Case("POST", "/admin/cameras/cam-1", data={}),
    "edit-cross-origin": Case("POST", "/admin/cameras/cam-1", "admin-1", EVIL, data=_camera(name="Evil")),
    "enabled-unknown": Case("POST", "/admin/cameras/cam-404/enabled", data={"enabled": "no"}),
    "enabled-operator": Case("POST", "/admin/cameras/cam-1/enabled", "operator-1", data={"enabled": "no"}),
    "enabled-cross-origin": Case(
        "POST", "/admin/cameras/cam-1/enabled", "admin-1", EVIL, data={"enabled": "no"}
    ),
    "counting-not-json": Case("POST", "/admin/cameras/cam-1/counting", data={"counting": "{lines"}),
    "counting-wrong-shape": Case("POST", "/admin/cameras/cam-1/counting", data={"counting": '{"lines": 5}'}),
    "counting-infinity": Case("POST", "/admin/cameras/cam-1/counting", data={"counting": "1e999"}),
    "counting-nested": Case("POST", "/admin/cameras/cam-1/counting", data={"counting": NESTED}),
    "counting-unknown-camera": Case("POST", "/admin/cameras/cam-404/counting", data={"counting": "{}"}),
    "counting-cross-origin": Case(
        "POST", "/admin/cameras/cam-1/counting", "admin-1", EVIL, data={"counting": '{"lines": []}'}
    ),
    "import-no-file": Case("POST", "/admin/cameras/import", data={"replace": "yes"}),
    "import-not-json": Case("POST", "/admin/cameras/import", files=_geojson("not json at all")),
    "import-not-utf8": Case("POST", "/admin/cameras/import", files=_geojson(b"\xff\xfe\x00\x00{")),
    "import-nested": Case("POST", "/admin/cameras/import", files=_geojson(NESTED)),
    "import-nan": Case("POST", "/admin/cameras/import", files=_geojson(NAN_FEATURE)),
    "import-not-a-collection": Case("POST", "/admin/cameras/import", files=_geojson('{"type": "Point"}')),
    "import-oversized": Case(
        "POST",
        "/admin/cameras/import",
        files=_geojson('{"type":"FeatureCollection","features":[]}' + " " * UPLOAD_LIMIT),
    ),
    "import-operator": Case("POST", "/admin/cameras/import", "operator-1", files=_geojson(NAN_FEATURE)),
    "import-cross-origin": Case(
        "POST",
        "/admin/cameras/import",
        "admin-1",
        EVIL,
        files=_geojson('{"type":"FeatureCollection","features":[]}'),
    ),
}

NEW_USER = {"username": "mallory", "role": "admin", "password": "a long enough password"}
USER_POSTS = {
    "user-missing": Case("POST", "/admin/users", data={}),
    "user-nul-name": Case("POST", "/admin/users", data={**NEW_USER, "username": "mal\x00lory"}),
    "user-control-name": Case("POST", "/admin/users", data={**NEW_USER, "username": "mal\x1b[2Jlory"}),
    "user-traversal-name": Case("POST", "/admin/users", data={**NEW_USER, "username": "../../etc/passwd"}),
    "user-huge-name": Case("POST", "/admin/users", data={**NEW_USER, "username": MB}),
    "user-bad-role": Case("POST", "/admin/users", data={**NEW_USER, "role": "god"}),
    "user-existing": Case("POST", "/admin/users", data={**NEW_USER, "username": "operator-1"}),
    "user-short-password": Case("POST", "/admin/users", data={**NEW_USER, "password": "x"}),
    "user-operator": Case("POST", "/admin/users", "operator-1", data=NEW_USER),
    "user-no-session": Case("POST", "/admin/users", None, data=NEW_USER),
    "user-cross-origin": Case("POST", "/admin/users", "admin-1", EVIL, data=NEW_USER),
    "role-unknown-user": Case("POST", "/admin/users/nobody/role", data={"role": "admin"}),
    "role-bad-role": Case("POST", "/admin/users/operator-2/role", data={"role": "god"}),
    "role-own-account": Case("POST", "/admin/users/admin-1/role", data={"role": "viewer"}),
    "role-operator": Case("POST", "/admin/users/operator-2/role", "operator-1", data={"role": "admin"}),
    "role-cross-origin": Case(
        "POST", "/admin/users/operator-2/role", "admin-1", EVIL, data={"role": "admin"}
    ),
    "cameras-unknown-user": Case(
        "POST", "/admin/users/nobody/cameras", data={"limit": "yes", "cameras": "cam-1"}
    ),
    "cameras-cross-origin": Case(
        "POST", "/admin/users/operator-2/cameras", "admin-1", EVIL, data={"limit": "yes", "cameras": "cam-1"}
    ),
    "disable-own-account": Case("POST", "/admin/users/admin-1/disabled", data={"disabled": "yes"}),
    "disable-unknown-user": Case("POST", "/admin/users/nobody/disabled", data={"disabled": "yes"}),
    "disable-cross-origin": Case(
        "POST", "/admin/users/operator-2/disabled", "admin-1", EVIL, data={"disabled": "yes"}
    ),
    "revoke-unknown-user": Case("POST", "/admin/users/nobody/revoke"),
    "revoke-operator": Case("POST", "/admin/users/operator-2/revoke", "operator-1"),
    "revoke-cross-origin": Case("POST", "/admin/users/operator-2/revoke", "admin-1", EVIL),
}


@_table(ALERT_POSTS)
def test_an_alert_form_refuses_hostile_input(world: World, case: Case) -> None:
    _check(world, case)


@_table(EXPORT_POSTS)
def test_the_export_form_refuses_hostile_input(world: World, case: Case) -> None:
    _check(world, case)


@_table(LIST_POSTS)
def test_a_list_form_refuses_hostile_input(world: World, case: Case) -> None:
    _check(world, case)


@_table(UPLOAD_POSTS)
def test_an_enrolment_upload_or_removal_refuses_hostile_input(world: World, case: Case) -> None:
    _check(world, case)


@_table(GOVERNANCE_POSTS)
def test_a_governance_form_refuses_hostile_input(world: World, case: Case) -> None:
    _check(world, case)


@_table(CAMERA_POSTS)
def test_a_camera_form_refuses_hostile_input(world: World, case: Case) -> None:
    _check(world, case)


@_table(USER_POSTS)
def test_a_user_form_refuses_hostile_input(world: World, case: Case) -> None:
    _check(world, case)


# ---------------------------------------------------------------- pages with query values


def _get(path: str, user: str | None = "admin-1", *, may_show: bool = True) -> Case:
    return Case("GET", path, user, may_show=may_show)


SCRIPT = "%3Cscript%3Ealert(1)%3C/script%3E"
GET_PAGES = {
    "alerts-page-negative": _get("/alerts?page=-1", "operator-1"),
    "alerts-page-1e20": _get(f"/alerts?page={10**20}", "operator-1"),
    "alerts-page-digits": _get(f"/alerts?page={DIGITS}", "operator-1"),
    "alerts-page-superscript": _get(f"/alerts?page={SUPERSCRIPT}", "operator-1"),
    "alerts-since-garbage": _get("/alerts?since=garbage", "operator-1"),
    "alerts-since-far-past": _get("/alerts?since=0001-01-01T00:00%2B14:00", "operator-1"),
    "alerts-until-far-future": _get("/alerts?until=9999-12-31T23:59-14:00", "operator-1"),
    "alerts-camera-traversal": _get("/alerts?camera=../../etc", "operator-1"),
    "alerts-camera-nul": _get("/alerts?camera=cam%00-1", "operator-1"),
    "alerts-kind-script": _get(f"/alerts?kind={SCRIPT}", "operator-1"),
    "alerts-status-script": _get(f"/alerts?status={SCRIPT}", "operator-1"),
    "alerts-no-session": _get("/alerts?page=2", None),
    "alert-unknown": _get("/alerts/no-such-alert", "operator-1"),
    "alert-script-id": _get(f"/alerts/{SCRIPT}", "operator-1"),
    "alert-reference-unknown": _get("/alerts/nope/reference", "operator-1"),
    "audit-page-negative": _get("/audit?page=-1", "auditor-1"),
    "audit-page-1e20": _get(f"/audit?page={10**20}", "auditor-1"),
    "audit-page-digits": _get(f"/audit?page={DIGITS}", "auditor-1"),
    "audit-page-superscript": _get(f"/audit?page={SUPERSCRIPT}", "auditor-1"),
    "audit-since-garbage": _get("/audit?since=garbage", "auditor-1"),
    "audit-since-far-past": _get("/audit?since=0001-01-01T00:00%2B14:00", "auditor-1"),
    "audit-action-script": _get(f"/audit?action={SCRIPT}", "auditor-1"),
    "audit-user-script": _get(f"/audit?user={SCRIPT}", "auditor-1"),
    "audit-user-nul": _get("/audit?user=a%00b", "auditor-1"),
    "audit-operator": _get("/audit", "operator-1"),
    "audit-no-session": _get("/audit?page=2", None),
    "audit-export-garbage": _get("/audit/export?since=garbage", "auditor-1"),
    "audit-export-far-past": _get("/audit/export?until=0001-01-01T00:00%2B14:00", "auditor-1"),
    "audit-export-operator": _get("/audit/export", "operator-1"),
    "export-form-missing": _get("/exports/new", "investigator-1"),
    "export-form-traversal": _get("/exports/new?alert=../../etc/passwd", "investigator-1"),
    "export-form-script": _get(f"/exports/new?alert={SCRIPT}", "investigator-1"),
    "export-form-huge": _get(f"/exports/new?alert={'x' * 10_000}", "investigator-1"),
    "export-form-operator": _get("/exports/new?alert=x", "operator-1"),
    "download-traversal-token": _get("/exports/..%2F..%2F..%2Fetc/passwd", "investigator-1"),
    "download-traversal-name": _get("/exports/{package}/..%2F..%2Fsafecity.db", "investigator-1"),
    "download-dot-dot-token": _get("/exports/%2E%2E/alert-x.zip", "investigator-1"),
    "download-unknown-token": _get(f"/exports/{'A' * 24}/alert-x.zip", "investigator-1"),
    "download-other-user": _get("/exports/{package}", "investigator-2"),
    "download-operator": _get("/exports/{package}", "operator-1"),
    "download-no-session": _get("/exports/{package}", None),
    "hotlists-done-script": _get(f"/hotlists?done={SCRIPT}", "operator-1"),
    "watchlist-traversal": _get("/watchlists/..%2F..%2Fetc", "investigator-1"),
    "watchlist-nul": _get("/watchlists/a%00b", "investigator-1"),
    "watchlist-photo-unknown": _get("/watchlists/{watchlist}/photos/..%2F..%2Fetc", "investigator-1"),
    "watchlist-operator": _get("/watchlists/{watchlist}", "operator-1"),
    "authorisations-done-script": _get(f"/authorisations?done={SCRIPT}"),
    "authorisations-operator": _get("/authorisations", "operator-1"),
    "retention-operator": _get("/admin/retention", "operator-1"),
    "cameras-done-script": _get(f"/admin/cameras?done={SCRIPT}"),
    "camera-unknown": _get("/admin/cameras/cam-404"),
    "camera-nul": _get("/admin/cameras/cam%00-1"),
    "camera-still-traversal": _get("/admin/cameras/..%2F..%2Fetc/still.jpg"),
    "users-done-script": _get(f"/admin/users?done={SCRIPT}"),
    "users-operator": _get("/admin/users", "operator-1"),
    "map-no-session": _get("/map", None),
    "register-public": _get("/register?x=%00", None),
    "streets-public": _get("/map/streets.geojson?x=..", None),
    "tile-superscript-zoom": _get(f"/tiles/{SUPERSCRIPT}/0/0.png", None),
    "tile-digits-zoom": _get(f"/tiles/{DIGITS}/0/0.png", None),
    "tile-digits-row": _get(f"/tiles/0/0/{'0' * 11}.png", None),
    "tile-negative": _get("/tiles/-1/0/0.png", None),
    "tile-zoom-99": _get("/tiles/99/0/0.png", None),
    "tile-outside": _get("/tiles/1/5/5.png", None),
    "tile-traversal": _get("/tiles/0/0/..%2F..%2Fetc%2Fpasswd", None),
    "vendor-traversal": _get("/static/vendor/..%2F..%2Fapp.py", None),
    "vendor-dot-dot": _get("/static/vendor/%2E%2E/app.py", None),
    "vendor-deep": _get("/static/vendor/a/b/c/d.js", None),
    "vendor-hidden": _get("/static/vendor/.git/config", None),
    "static-traversal": _get("/static/..%2F..%2Fapp.py", None),
}


@_table(GET_PAGES)
def test_a_page_shows_or_refuses_hostile_query_values(world: World, case: Case) -> None:
    _check(world, case)


def test_another_investigators_package_is_not_served(world: World) -> None:
    own = world.client("investigator-1").get(f"/exports/{world.ids['package']}")
    assert own.status_code == 200 and own.content.startswith(b"PK")
    other = world.client("investigator-2").get(f"/exports/{world.ids['package']}")
    assert other.status_code == 404 and not other.content.startswith(b"PK")


def test_the_check_sees_a_stored_change_and_its_audit_entry(world: World) -> None:
    """The control: a same-origin post that may change something shows in `stored()` and the log."""
    before, entries = world.stored(), len(AuditLog(world.db).entries(AuditAction.HOTLIST_CHANGE))
    r = world.client("operator-1").post("/hotlists", data=HOTLIST, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/hotlists?done=")
    assert world.stored() != before
    assert len(AuditLog(world.db).entries(AuditAction.HOTLIST_CHANGE)) == entries + 1
    assert AuditLog(world.db).verify().first_bad is None
