"""Every API endpoint × every role (and no login): allowed, or refused with 401/403 before anything runs.

The table is the specification, written out by hand from the role table in
`governance/permissions.py`; `test_the_table_covers_every_operation` fails when an endpoint is
added without a row here. "Allowed" means the door opened (any answer but 401 and 403: the
minimal requests below may well be 404 or 422 further in); "refused" means 403 for a logged-in
role and 401 without a login, and a refusal of a logged-in role is recorded in the audit chain.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_world import World, bearer
from fastapi.testclient import TestClient

from safecity.governance.audit import AuditAction, AuditLog
from safecity.store.database import Database

ALL = frozenset({"viewer", "operator", "investigator", "auditor", "admin"})
PUBLIC = ALL | {None}
OBSERVERS = frozenset({"operator", "investigator", "auditor"})
LIVE = frozenset({"viewer", "operator", "investigator"})
HANDLERS = frozenset({"operator", "investigator"})
INVESTIGATOR = frozenset({"investigator"})
AUDITORS = frozenset({"auditor", "admin"})
ADMIN = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()

# (method, path, who may, what the request sends: "json" {} | "form" an empty multipart | None)
TABLE: list[tuple[str, str, frozenset[str | None] | frozenset[str], str | None]] = [
    ("GET", "/health", PUBLIC, None),
    ("GET", "/register.geojson", PUBLIC, None),
    ("GET", "/register.html", PUBLIC, None),
    ("POST", "/auth/login", PUBLIC, "json"),
    ("POST", "/auth/logout", ALL, None),
    ("GET", "/auth/me", ALL, None),
    ("POST", "/auth/tokens", ALL, "json"),
    ("GET", "/cameras", ALL, None),
    ("POST", "/cameras", ADMIN, "json"),
    ("GET", "/sites", ALL, None),
    ("GET", "/cameras/health", LIVE, None),
    ("GET", "/cameras/{camera_id}/live.mp4", LIVE, None),
    ("GET", "/cameras/{camera_id}/recordings", OBSERVERS, None),
    ("GET", "/cameras/{camera_id}/video.mp4", OBSERVERS, None),
    ("GET", "/alerts/{alert_id}/clip.mp4", OBSERVERS, None),
    ("GET", "/cameras/{camera_id}", ALL, None),
    ("PUT", "/cameras/{camera_id}", ADMIN, "json"),
    ("DELETE", "/cameras/{camera_id}", ADMIN, None),
    ("POST", "/cameras/import", ADMIN, "form"),
    ("GET", "/observations/plates", OBSERVERS, None),
    ("GET", "/observations/faces", OBSERVERS, None),
    ("GET", "/observations/{kind}/{observation_id}/snapshot", OBSERVERS, None),
    ("GET", "/alerts", OBSERVERS, None),
    ("GET", "/alerts/{alert_id}", OBSERVERS, None),
    ("GET", "/alerts/{alert_id}/snapshot", OBSERVERS, None),
    ("POST", "/alerts/{alert_id}/ack", HANDLERS, "json"),
    ("POST", "/alerts/{alert_id}/confirm", HANDLERS, "json"),
    ("POST", "/alerts/{alert_id}/reject", HANDLERS, "json"),
    ("POST", "/alerts/{alert_id}/export", INVESTIGATOR, "json"),
    ("POST", "/search/plates", HANDLERS, "json"),
    ("POST", "/search/faces", INVESTIGATOR, "form"),
    ("GET", "/watchlists", INVESTIGATOR, None),
    ("POST", "/watchlists", INVESTIGATOR, "json"),
    ("GET", "/watchlists/{watchlist}/persons", INVESTIGATOR, None),
    ("POST", "/watchlists/{watchlist}/persons", INVESTIGATOR, "form"),
    ("DELETE", "/watchlists/{watchlist}", INVESTIGATOR, None),
    ("DELETE", "/watchlists/{watchlist}/persons/{person_id}", INVESTIGATOR, None),
    ("GET", "/hotlists", OBSERVERS, None),
    ("POST", "/hotlists", HANDLERS, "json"),
    ("DELETE", "/hotlists/{entry_id}", HANDLERS, None),
    ("GET", "/authorisations", INVESTIGATOR | ADMIN, None),
    ("POST", "/authorisations", ADMIN, "json"),
    ("POST", "/authorisations/{authorisation_id}/approve", ADMIN, "json"),
    ("POST", "/authorisations/{authorisation_id}/refuse", ADMIN, "json"),
    ("GET", "/audit", AUDITORS, None),
    ("GET", "/audit/verify", AUDITORS, None),
    ("GET", "/audit/head", AUDITORS, None),
    ("GET", "/audit/export", AUDITORS, None),
    ("GET", "/users", ADMIN, None),
    ("POST", "/users", ADMIN, "json"),
    ("PATCH", "/users/{username}", ADMIN, "json"),
    ("POST", "/users/{username}/tokens", NOBODY, "json"),  # another's: never, not even an admin
    ("POST", "/users/{username}/unlock", ADMIN, None),
    ("GET", "/users/{username}/tokens", ADMIN, None),
    ("DELETE", "/tokens/{token_id}", ADMIN, None),
    ("GET", "/traffic/statistics", OBSERVERS, None),
]


def concrete(path: str, world: World) -> str:
    alert = world.face_alert if path.endswith(("confirm", "reject", "export")) else world.plate_alert
    values = {
        "camera_id": "cam-1",
        "kind": "plates",
        "observation_id": "none",
        "alert_id": alert,
        "watchlist": "none",
        "person_id": "none",
        "entry_id": "none",
        "authorisation_id": "none",
        "username": "viewer-user",
        "token_id": "none",
    }
    return "/api/v1" + path.format(**values)


def call(client: TestClient, method: str, url: str, body: str | None, token: str | None) -> int:
    kwargs: dict[str, Any] = {"headers": bearer(token) if token else {}}
    if body == "json":
        kwargs["json"] = {}
    elif body == "form":
        kwargs["files"] = {"unused": ("empty.txt", b"", "text/plain")}
    return client.request(method, url, **kwargs).status_code


def test_the_table_covers_every_operation(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    served = {(m.upper(), p.removeprefix("/api/v1")) for p, ops in schema["paths"].items() for m in ops}
    assert served == {(m, p) for m, p, _, _ in TABLE}


@pytest.mark.parametrize(
    ("method", "path", "allowed", "body"), TABLE, ids=[f"{m} {p}" for m, p, _, _ in TABLE]
)
def test_each_role_is_allowed_or_refused_as_the_table_says(
    client: TestClient,
    tokens: dict[str, str],
    world: World,
    api_db: Database,
    method: str,
    path: str,
    allowed: frozenset[str | None],
    body: str | None,
) -> None:
    url = concrete(path, world)
    answers: dict[str | None, int] = {}
    for role in ("viewer", "operator", "investigator", "auditor", "admin", None):
        answers[role] = call(client, method, url, body, tokens[role] if role else None)
    expected = {role: ("allowed" if role in allowed else (401 if role is None else 403)) for role in answers}
    got = {role: ("allowed" if code not in (401, 403) else code) for role, code in answers.items()}
    assert got == expected, answers
    refused = {e.role for e in AuditLog(api_db).entries(AuditAction.ACCESS_DENIED)}
    assert refused == {r for r in ALL if r not in allowed}


def test_a_camera_limited_user_is_refused_another_cameras_alert(
    client: TestClient, tokens: dict[str, str], world: World
) -> None:
    own = client.get(f"/api/v1/alerts/{world.face_alert}", headers=bearer(tokens["limited"]))
    other = client.get(f"/api/v1/alerts/{world.plate_alert}", headers=bearer(tokens["limited"]))
    assert (own.status_code, other.status_code) == (200, 403)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/observations/plates/..%2F..%2F..%2Fetc%2Fpasswd/snapshot",
        "/api/v1/observations/faces/%2e%2e/snapshot",
        "/static/..%2F..%2Fconfig.py",
        "/api/v1/cameras/..%2F..%2Fetc",
    ],
)
def test_path_traversal_reaches_nothing(client: TestClient, tokens: dict[str, str], url: str) -> None:
    r = client.get(url, headers=bearer(tokens["investigator"]))
    assert r.status_code in (400, 404, 422) and "root:" not in r.text
