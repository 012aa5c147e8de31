"""/api/v1/search: plate search and face search by photo; reasons, permissions, uploads, audit entries."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from api_world import World, bearer
from fastapi.testclient import TestClient

from safecity.governance.audit import AuditLog
from safecity.sim.faces import reference_image
from safecity.store.database import Database

REASON = "case 2026-17: stolen vehicle"


@pytest.fixture(scope="module")
def hopper_jpeg() -> bytes:
    ok, buf = cv2.imencode(".jpg", reference_image("grace_hopper"))
    assert ok
    return buf.tobytes()


@pytest.fixture
def small_upload_client(client_with: Callable[..., TestClient]) -> TestClient:
    return client_with(max_upload_bytes=1024)


# ---------------------------------------------------------------- plates


@pytest.mark.parametrize(("query", "mode"), [("bg 123-ab", "exact"), ("BG*AB", "wildcard")])
def test_plate_search_finds_the_read_and_is_recorded(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database, query: str, mode: str
) -> None:
    r = client.post(
        "/api/v1/search/plates", json={"query": query, "reason": REASON}, headers=bearer(tokens["operator"])
    )
    assert r.status_code == 200
    body = r.json()
    [hit] = body["hits"]
    assert body["mode"] == mode and (hit["camera_id"], hit["normalised"]) == ("cam-2", "BG123AB")
    entry = AuditLog(api_db).entries("search_plate")[-1]
    assert entry.seq == body["audit_seq"] and entry.justification == REASON
    assert entry.target == hit["id"] and entry.username == "operator-user"


def test_a_limited_callers_search_covers_only_its_cameras(
    client: TestClient, tokens: dict[str, str], world: World
) -> None:
    r = client.post(
        "/api/v1/search/plates",
        json={"query": "BG123AB", "reason": REASON},
        headers=bearer(tokens["limited"]),
    )
    assert r.status_code == 200 and r.json()["hits"] == []


@pytest.mark.parametrize(
    ("token", "body", "status"),
    [
        (None, {}, 401),
        ("viewer", {}, 403),
        ("auditor", {}, 403),
        ("admin", {}, 403),
        ("limited", {"cameras": ["cam-2"]}, 403),
        ("operator", {"reason": ""}, 422),
        ("operator", {"reason": "too short"}, 422),
        ("operator", {"mode": "sideways"}, 422),
        ("operator", {"cameras": ["cam-9"]}, 400),
        ("operator", {"site": "nowhere"}, 400),
        ("operator", {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 400),
    ],
)
def test_plate_search_refusals(
    client: TestClient,
    tokens: dict[str, str],
    world: World,
    token: str | None,
    body: dict[str, object],
    status: int,
) -> None:
    headers = bearer(tokens[token]) if token else {}
    payload = {"query": "BG123AB", "reason": REASON, **body}
    r = client.post("/api/v1/search/plates", json=payload, headers=headers)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")


# ---------------------------------------------------------------- faces


def test_face_search_by_photo_is_recorded_with_the_photos_hash(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database, hopper_jpeg: bytes
) -> None:
    r = client.post(
        "/api/v1/search/faces",
        files={"photo": ("hopper.jpg", hopper_jpeg, "image/jpeg")},
        data={"reason": REASON, "cameras": ["cam-1"]},
        headers=bearer(tokens["investigator"]),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hits"] == []  # the world's sighting kept no vector
    digest = hashlib.sha256(hopper_jpeg).hexdigest()
    assert body["photo_sha256"] == digest
    entry = AuditLog(api_db).entries("search_face")[-1]
    assert entry.seq == body["audit_seq"] and entry.justification == REASON
    assert entry.details["input_sha256"] == digest and entry.details["cameras"] == ["cam-1"]


def test_a_photo_without_a_face_is_a_422(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    ok, blank = cv2.imencode(".png", np.full((120, 120, 3), 200, dtype=np.uint8))
    assert ok
    r = client.post(
        "/api/v1/search/faces",
        files={"photo": ("blank.png", blank.tobytes(), "image/png")},
        data={"reason": REASON},
        headers=bearer(tokens["investigator"]),
    )
    assert r.status_code == 422 and r.json()["detail"] == "body.photo: the photo: no face found"
    assert not AuditLog(api_db).entries("search_face")


@pytest.mark.parametrize(
    ("token", "photo", "data", "status"),
    [
        (None, ("p.jpg", b"x", "image/jpeg"), {}, 401),
        ("operator", ("p.jpg", b"x", "image/jpeg"), {}, 403),
        ("auditor", ("p.jpg", b"x", "image/jpeg"), {}, 403),
        ("limited", ("p.jpg", b"\xff\xd8 not really", "image/jpeg"), {"cameras": "cam-2"}, 415),
        ("investigator", ("p.jpg", b"x", "image/jpeg"), {"reason": ""}, 422),
        ("investigator", ("p.txt", b"hello", "text/plain"), {}, 415),
        ("investigator", ("p.jpg", b"\xff\xd8 not really a jpeg", "image/jpeg"), {}, 415),
        ("investigator", ("p.jpg", b"x", "image/jpeg"), {"since": "2026-01-01T00:00:00"}, 400),
    ],
)
def test_face_search_refusals(
    client: TestClient,
    tokens: dict[str, str],
    world: World,
    api_db: Database,
    token: str | None,
    photo: tuple[str, bytes, str],
    data: dict[str, str],
    status: int,
) -> None:
    headers = bearer(tokens[token]) if token else {}
    r = client.post(
        "/api/v1/search/faces", files={"photo": photo}, data={"reason": REASON, **data}, headers=headers
    )
    assert r.status_code == status
    if status == 403:
        assert AuditLog(api_db).entries("access_denied", username=f"{token}-user")


def test_an_oversize_upload_is_a_413(
    small_upload_client: TestClient, tokens: dict[str, str], world: World, hopper_jpeg: bytes
) -> None:
    r = small_upload_client.post(
        "/api/v1/search/faces",
        files={"photo": ("hopper.jpg", hopper_jpeg, "image/jpeg")},
        data={"reason": REASON},
        headers=bearer(tokens["investigator"]),
    )
    assert r.status_code == 413 and "api.max_upload_bytes" in r.json()["detail"]
