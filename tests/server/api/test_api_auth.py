"""Login, sessions, tokens and problem+json errors at the API's door."""

from __future__ import annotations

import pytest
from api_world import PASSWORD, bearer
from fastapi.testclient import TestClient

from safecity.governance.audit import AuditLog
from safecity.server.security import SESSION_COOKIE
from safecity.store.database import Database


def test_login_sets_an_httponly_strict_cookie_and_me_answers(
    client: TestClient, tokens: dict[str, str]
) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "operator-user", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/v1/auth/me").json()
    assert me["username"] == "operator-user" and "search_plate" in me["permissions"]
    assert "search_face" not in me["permissions"]


def test_a_wrong_password_is_a_401_problem(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "operator-user", "password": "wrong password!"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == "wrong username or password"


def test_repeated_failures_are_throttled(client: TestClient, tokens: dict[str, str]) -> None:
    codes = [
        client.post(
            "/api/v1/auth/login", json={"username": "viewer-user", "password": "nope nope nope"}
        ).status_code
        for _ in range(7)
    ]
    assert codes[-1] == 429 and 401 in codes


def test_logout_revokes_the_session(client: TestClient, tokens: dict[str, str]) -> None:
    token = client.post("/api/v1/auth/login", json={"username": "auditor-user", "password": PASSWORD}).json()[
        "token"
    ]
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    client.cookies.clear()
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["detail"] == "token revoked"


@pytest.mark.parametrize(
    "header", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}]
)
def test_no_or_a_bad_credential_is_a_401(
    client: TestClient, tokens: dict[str, str], header: dict[str, str]
) -> None:
    r = client.get("/api/v1/auth/me", headers=header)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_a_malformed_body_is_a_422_problem_naming_the_field(client: TestClient) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "password" in r.json()["detail"]


def test_logins_are_audited(client: TestClient, tokens: dict[str, str], api_db: Database) -> None:
    client.post("/api/v1/auth/login", json={"username": "admin-user", "password": PASSWORD})
    assert any(
        e.username == "admin-user" and e.details.get("result") == "ok" for e in AuditLog(api_db).entries()
    )
