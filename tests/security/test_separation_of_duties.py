"""Threat model: an administrator who wants to search faces or confirm a match without a second person.

The admin manages accounts, cameras and authorisations, and may list and revoke tokens, but
never holds another person's credentials: with a token minted for an investigator and one for
an operator an admin once ran a face search and completed a two-person confirmation alone.
Every route an admin could try is refused (403, recorded), and the confirmations of a face
match name distinct people.
"""

from __future__ import annotations

import io
from typing import Any

import cv2
import pytest
from api_world import PASSWORD, World, bearer
from fastapi.testclient import TestClient

from safecity.governance.audit import AuditAction, AuditLog
from safecity.sim.faces import reference_image
from safecity.store.database import Database

API = "/api/v1"
REASON = "case 2026/17: missing person"


def _photo() -> dict[str, Any]:
    ok, jpeg = cv2.imencode(".jpg", reference_image("grace_hopper"))
    assert ok
    return {
        "files": {"photo": ("p.jpg", io.BytesIO(jpeg.tobytes()), "image/jpeg")},
        "data": {"reason": REASON},
    }


@pytest.mark.parametrize("victim", ["investigator-user", "operator-user", "operator-2", "admin-user-2"])
def test_an_admin_cannot_mint_a_token_for_anyone_else(
    client: TestClient, tokens: dict[str, str], api_db: Database, victim: str
) -> None:
    r = client.post(f"{API}/users/{victim}/tokens", json={"ttl_days": 1}, headers=bearer(tokens["admin"]))
    assert r.status_code == 403
    assert "only to the user it belongs to" in r.json()["detail"]
    denied = AuditLog(api_db).entries(AuditAction.ACCESS_DENIED)[-1]
    assert denied.username == "admin-user"


def test_an_admin_cannot_mint_a_token_for_anyone_by_the_own_token_route(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """`POST /auth/tokens` mints for the caller only, and with the caller's own password."""
    body = {"ttl_days": 1, "password": PASSWORD}
    r = client.post(f"{API}/auth/tokens", json=body, headers=bearer(tokens["admin"]))
    assert r.status_code == 201 and r.json()["token"]["username"] == "admin-user"


def test_a_stolen_session_cannot_mint_a_token_without_the_password(
    client: TestClient, tokens: dict[str, str]
) -> None:
    r = client.post(
        f"{API}/auth/tokens", json={"password": "not the password"}, headers=bearer(tokens["investigator"])
    )
    assert r.status_code == 401


def test_an_admin_cannot_search_faces(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post(f"{API}/search/faces", headers=bearer(tokens["admin"]), **_photo())
    assert r.status_code == 403


@pytest.mark.parametrize("decision", ["confirm", "reject"])
def test_an_admin_cannot_decide_on_a_face_match(
    client: TestClient, tokens: dict[str, str], world: World, decision: str
) -> None:
    r = client.post(
        f"{API}/alerts/{world.face_alert}/{decision}",
        json={"note": "looks like her"},
        headers=bearer(tokens["admin"]),
    )
    assert r.status_code == 403


def test_an_admin_cannot_give_their_own_account_another_role(
    client: TestClient, tokens: dict[str, str]
) -> None:
    r = client.patch(
        f"{API}/users/admin-user", json={"role": "investigator"}, headers=bearer(tokens["admin"])
    )
    assert r.status_code == 409


def test_one_person_cannot_confirm_a_match_twice(
    client: TestClient, tokens: dict[str, str], world: World
) -> None:
    operator = bearer(tokens["operator"])
    url = f"{API}/alerts/{world.face_alert}/confirm"
    assert client.post(url, json={"note": "same face"}, headers=operator).status_code == 200
    again = client.post(url, json={"note": "same face, again"}, headers=operator)
    assert again.status_code == 409
    assert client.get(f"{API}/alerts/{world.face_alert}", headers=operator).json()["status"] != "confirmed"


def test_a_confirmation_names_two_distinct_people(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    url = f"{API}/alerts/{world.face_alert}/confirm"
    for who in ("operator", "operator-2"):
        assert client.post(url, json={"note": "same face"}, headers=bearer(tokens[who])).status_code == 200
    entry = AuditLog(api_db).entries(AuditAction.CONFIRM_MATCH)[-1]
    assert sorted({e.username for e in AuditLog(api_db).entries(AuditAction.CONFIRM_MATCH)}) == [
        "operator-2",
        "operator-user",
    ]
    assert AuditLog(api_db).verify().ok and entry.details
