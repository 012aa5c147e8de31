"""Users, roles, camera limits and API tokens over the API: the admin's, and every change recorded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_world import PASSWORD, bearer
from fastapi.testclient import TestClient

from safecity.governance.audit import AuditLog
from safecity.store.database import Database

API = "/api/v1"


def add_user(client: TestClient, token: str, **changes: Any) -> Any:
    body = {"username": "new.user", "role": "operator", "cameras": ["cam-1"], **changes}
    return client.post(f"{API}/users", json=body, headers=bearer(token))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users"),
        ("POST", "/users"),
        ("PATCH", "/users/viewer-user"),
        ("POST", "/users/viewer-user/tokens"),
        ("GET", "/users/viewer-user/tokens"),
        ("DELETE", "/tokens/x"),
    ],
)
@pytest.mark.parametrize(("role", "status"), [(None, 401), ("auditor", 403), ("investigator", 403)])
def test_users_are_managed_by_the_admin_only(
    client: TestClient, tokens: dict[str, str], method: str, path: str, role: str | None, status: int
) -> None:
    headers = bearer(tokens[role]) if role else {}
    body = {"username": "new.user", "role": "viewer"} if path == "/users" else {}
    assert client.request(method, API + path, json=body, headers=headers).status_code == status


def test_the_admin_lists_users(client: TestClient, tokens: dict[str, str]) -> None:
    users = client.get(f"{API}/users", headers=bearer(tokens["admin"])).json()
    assert {u["username"]: u["cameras"] for u in users}["limited-user"] == ["cam-1"]


def test_a_new_user_gets_a_password_once_and_can_log_in(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    r = add_user(client, tokens["admin"])
    assert r.status_code == 201 and r.json()["user"]["cameras"] == ["cam-1"]
    login = {"username": "new.user", "password": r.json()["password"]}
    assert client.post(f"{API}/auth/login", json=login).status_code == 200
    entry = next(e for e in AuditLog(api_db).entries("user_change") if e.target == "new.user")
    assert (entry.username, entry.role, entry.details["change"]) == ("admin-user", "admin", "add")


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"username": "viewer-user"}, 409),
        ({"username": "bad name!"}, 400),
        ({"cameras": ["cam-404"]}, 400),
        ({"role": "superuser"}, 422),
    ],
)
def test_a_bad_new_user_is_refused(
    client: TestClient, tokens: dict[str, str], changes: dict[str, Any], status: int
) -> None:
    assert add_user(client, tokens["admin"], **changes).status_code == status


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"role": "viewer"}, ("role", "viewer")),
        ({"cameras": ["cam-2"]}, ("cameras", ["cam-2"])),
        ({"cameras": None}, ("cameras", None)),
        ({"disabled": True}, ("disabled", True)),
    ],
)
def test_the_admin_changes_a_user_and_the_log_names_them(
    client: TestClient,
    tokens: dict[str, str],
    api_db: Database,
    change: dict[str, Any],
    expected: tuple[str, object],
) -> None:
    r = client.patch(f"{API}/users/limited-user", json=change, headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()[expected[0]] == expected[1]
    entry = AuditLog(api_db).entries("user_change")[-1]
    assert (entry.username, entry.target) == ("admin-user", "limited-user")


def test_a_disabled_user_loses_their_tokens(client: TestClient, tokens: dict[str, str]) -> None:
    client.patch(f"{API}/users/operator-user", json={"disabled": True}, headers=bearer(tokens["admin"]))
    assert client.get(f"{API}/auth/me", headers=bearer(tokens["operator"])).status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/users/nobody", {"role": "viewer"}, 404),
        ("/users/admin-user", {"disabled": True}, 409),
        ("/users/admin-user", {"role": "viewer"}, 409),
        ("/users/viewer-user", {"role": "god"}, 422),
    ],
)
def test_a_bad_change_is_refused(
    client: TestClient, tokens: dict[str, str], path: str, body: dict[str, Any], status: int
) -> None:
    assert client.patch(API + path, json=body, headers=bearer(tokens["admin"])).status_code == status


def test_an_issued_token_works_is_listed_without_its_secret_and_is_revoked(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    admin, viewer = bearer(tokens["admin"]), bearer(tokens["viewer"])
    body = {"ttl_days": 2, "label": "kiosk", "password": PASSWORD}
    r = client.post(f"{API}/auth/tokens", json=body, headers=viewer)
    assert r.status_code == 201
    secret, token_id = r.json()["secret"], r.json()["token"]["id"]
    assert client.get(f"{API}/auth/me", headers=bearer(secret)).json()["username"] == "viewer-user"
    listed = client.get(f"{API}/users/viewer-user/tokens", headers=admin).json()
    assert token_id in {t["id"] for t in listed} and secret not in json.dumps(listed)
    assert client.delete(f"{API}/tokens/{token_id}", headers=admin).status_code == 200
    assert client.get(f"{API}/auth/me", headers=bearer(secret)).status_code == 401
    changes = [(e.username, e.details["change"]) for e in AuditLog(api_db).entries("token_change")[-2:]]
    assert changes == [("viewer-user", "issue"), ("admin-user", "revoke")]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/users/nobody/tokens", {}, 403),
        ("GET", "/users/nobody/tokens", None, 404),
        ("DELETE", "/tokens/nope", None, 404),
        ("POST", "/users/viewer-user/tokens", {"ttl_days": 0}, 422),
        ("POST", "/users/viewer-user/tokens", {"ttl_days": 9999}, 422),
    ],
)
def test_bad_token_requests_are_refused(
    client: TestClient, tokens: dict[str, str], method: str, path: str, body: object, status: int
) -> None:
    assert (
        client.request(method, API + path, json=body, headers=bearer(tokens["admin"])).status_code == status
    )


def test_a_disabled_user_gets_no_token(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    client.patch(f"{API}/users/viewer-user", json={"disabled": True}, headers=admin)
    assert client.post(f"{API}/users/viewer-user/tokens", json={}, headers=admin).status_code == 403
