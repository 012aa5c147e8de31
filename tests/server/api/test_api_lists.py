"""Hotlists, face watchlists and authorisations over the API: who may read and change them, and the record."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from api_world import Template, bearer
from fastapi.testclient import TestClient

from safecity.analytics.faces.analyser import FaceAnalyser
from safecity.config import Settings
from safecity.governance.audit import AuditLog
from safecity.server.context import ApiContext
from safecity.sim.faces import reference_image
from safecity.store.database import Database
from safecity.store.hotlists import HotlistStore

API = "/api/v1"
FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat()
AUTHORISATION: dict[str, Any] = {
    "authority": "Higher Court Belgrade",
    "reference": "Kpp 12/2026",
    "purpose": "missing_person",
    "cameras": ["cam-1"],
    "valid_from": "2026-03-01T00:00:00+00:00",
    "valid_until": "2099-01-01T00:00:00+00:00",
}


def jpeg(image: np.ndarray) -> bytes:  # type: ignore[type-arg]
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data.tobytes())


HOPPER = jpeg(reference_image("grace_hopper"))


@pytest.fixture(scope="module")
def analyser(models: Path) -> FaceAnalyser:
    return FaceAnalyser(Settings().faces, models)


@pytest.fixture(autouse=True)
def one_analyser(monkeypatch: pytest.MonkeyPatch, analyser: FaceAnalyser) -> None:
    """The face models are loaded once for the module, not once per application."""
    monkeypatch.setattr(ApiContext, "analyser", lambda self: analyser)


@pytest.fixture
def api_settings(tmp_path: Path, template: Template, models: Path) -> Settings:
    shutil.copytree(template.root, tmp_path / "var")
    return Settings(data_dir=tmp_path / "var", faces={"model_cache_dir": models})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One face-model cache for the module: the network is converted once, not for every test."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def small_client(client_with: Callable[..., TestClient]) -> TestClient:
    return client_with(max_upload_bytes=2048)


def add_authorisation(client: TestClient, token: str, **changes: Any) -> dict[str, Any]:
    r = client.post(f"{API}/authorisations", json={**AUTHORISATION, **changes}, headers=bearer(token))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def authorised(client: TestClient, tokens: dict[str, str]) -> dict[str, Any]:
    """An approved authorisation for cam-1."""
    return add_authorisation(client, tokens["admin"])


@pytest.fixture
def watchlist(client: TestClient, tokens: dict[str, str], authorised: dict[str, Any]) -> dict[str, Any]:
    body = {"name": "missing 12", "authorisation": authorised["reference"]}
    r = client.post(f"{API}/watchlists", json=body, headers=bearer(tokens["investigator"]))
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def enrol(client: TestClient, token: str, watchlist_id: str, *photos: tuple[str, bytes, str]) -> Any:
    return client.post(
        f"{API}/watchlists/{watchlist_id}/persons",
        data={"label": "Grace Hopper", "note": "case 12"},
        files=[("photos", p) for p in photos],
        headers=bearer(token),
    )


# ---------------------------------------------------------------- hotlists


def add_plate(client: TestClient, token: str, **changes: Any) -> Any:
    body = {"plate": "BG 123-AB", "reason": "stolen, case 44/26", "owner": "traffic police", **changes}
    return client.post(f"{API}/hotlists", json=body, headers=bearer(token))


@pytest.mark.parametrize("role", ["operator", "investigator"])
def test_plate_searchers_hotlist_a_plate_and_the_log_names_them(
    client: TestClient, tokens: dict[str, str], api_db: Database, role: str
) -> None:
    r = add_plate(client, tokens[role], days=7)
    assert r.status_code == 201 and r.json()["plate"] == "BG123AB" and r.json()["status"] == "active"
    (entry,) = AuditLog(api_db).entries("hotlist_change")
    assert (entry.username, entry.role, entry.target) == (f"{role}-user", role, r.json()["id"])
    assert entry.details["change"] == "added" and entry.justification == "stolen, case 44/26"


@pytest.mark.parametrize("role", ["viewer", "auditor", "admin"])
def test_others_may_not_change_the_hotlist(
    client: TestClient, tokens: dict[str, str], api_db: Database, role: str
) -> None:
    assert add_plate(client, tokens[role]).status_code == 403
    assert HotlistStore(api_db).all() == []


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"plate": "B*"}, 400),
        ({"days": 3, "expires_at": FUTURE}, 400),
        ({"expires_at": "2020-01-01T00:00:00+00:00"}, 400),
        ({"days": 0}, 422),
        ({"reason": ""}, 422),
        ({"reason": "stolen"}, 422),
    ],
)
def test_a_bad_hotlist_entry_is_refused(
    client: TestClient, tokens: dict[str, str], api_db: Database, changes: dict[str, Any], status: int
) -> None:
    assert add_plate(client, tokens["operator"], **changes).status_code == status
    assert HotlistStore(api_db).all() == []


@pytest.mark.parametrize("role", ["operator", "investigator", "auditor"])
def test_reading_the_hotlist_is_recorded(
    client: TestClient, tokens: dict[str, str], api_db: Database, role: str
) -> None:
    entry_id = add_plate(client, tokens["operator"]).json()["id"]
    r = client.get(f"{API}/hotlists", headers=bearer(tokens[role]))
    assert [e["id"] for e in r.json()] == [entry_id]
    (read,) = AuditLog(api_db).entries("view_sighting")
    assert (read.username, read.target, read.details["what"]) == (f"{role}-user", entry_id, "hotlist")


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_reading_the_hotlist_needs_view_observations(
    client: TestClient, tokens: dict[str, str], role: str
) -> None:
    assert client.get(f"{API}/hotlists", headers=bearer(tokens[role])).status_code == 403


def test_a_removed_entry_stays_on_record_and_is_listed_with_all(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    entry_id = add_plate(client, tokens["operator"]).json()["id"]
    r = client.delete(f"{API}/hotlists/{entry_id}", headers=bearer(tokens["operator-2"]))
    assert r.status_code == 200 and r.json()["status"] == "removed"
    assert client.get(f"{API}/hotlists", headers=bearer(tokens["operator"])).json() == []
    listed = client.get(f"{API}/hotlists?all=true", headers=bearer(tokens["operator"])).json()
    assert [e["status"] for e in listed] == ["removed"]
    removal = AuditLog(api_db).entries("hotlist_change")[-1]
    assert (removal.username, removal.details["change"]) == ("operator-2", "removed")


@pytest.mark.parametrize(("twice", "status"), [(True, 409), (False, 404)])
def test_removing_a_removed_or_unknown_entry_is_refused(
    client: TestClient, tokens: dict[str, str], twice: bool, status: int
) -> None:
    entry_id = add_plate(client, tokens["operator"]).json()["id"] if twice else "nope"
    if twice:
        client.delete(f"{API}/hotlists/{entry_id}", headers=bearer(tokens["operator"]))
    assert (
        client.delete(f"{API}/hotlists/{entry_id}", headers=bearer(tokens["operator"])).status_code == status
    )


# ---------------------------------------------------------------- authorisations


def test_the_admin_records_an_authorisation_in_their_name(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    created = add_authorisation(client, tokens["admin"])
    assert created["status"] == "approved" and created["created_by"] == "admin-user"
    (entry,) = AuditLog(api_db).entries("authorisation_change")
    assert (entry.username, entry.role, entry.details["change"]) == ("admin-user", "admin", "created")


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"cameras": ["cam-404"]}, 400),
        ({"valid_until": "2026-02-01T00:00:00+00:00"}, 400),
        ({"purpose": "mass_surveillance"}, 422),
        ({"cameras": []}, 422),
    ],
)
def test_an_invalid_authorisation_is_refused(
    client: TestClient, tokens: dict[str, str], changes: dict[str, Any], status: int
) -> None:
    r = client.post(
        f"{API}/authorisations", json={**AUTHORISATION, **changes}, headers=bearer(tokens["admin"])
    )
    assert r.status_code == status
    assert client.get(f"{API}/authorisations", headers=bearer(tokens["admin"])).json() == []


@pytest.mark.parametrize(
    ("role", "status"), [("admin", 200), ("investigator", 200), ("operator", 403), ("auditor", 403)]
)
def test_admins_and_investigators_read_authorisations(
    client: TestClient, tokens: dict[str, str], role: str, status: int
) -> None:
    assert client.get(f"{API}/authorisations", headers=bearer(tokens[role])).status_code == status


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/authorisations"),
        ("POST", "/authorisations/x/approve"),
        ("POST", "/authorisations/x/refuse"),
    ],
)
def test_only_the_admin_records_and_decides(
    client: TestClient, tokens: dict[str, str], method: str, path: str
) -> None:
    body = {**AUTHORISATION, "reason": "refused by the court"}
    assert (
        client.request(method, API + path, json=body, headers=bearer(tokens["investigator"])).status_code
        == 403
    )


def test_an_urgent_authorisation_is_approved_within_its_deadline(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    pending = add_authorisation(client, tokens["admin"], urgent=True)
    assert pending["status"] == "pending" and pending["approval_deadline"] is not None
    r = client.post(f"{API}/authorisations/{pending['id']}/approve", headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()["authorisation"]["status"] == "approved"
    assert r.json()["authorisation"]["decided_by"] == "admin-user"
    assert AuditLog(api_db).entries("authorisation_change")[-1].details["change"] == "approved"


@pytest.mark.parametrize(("known", "status"), [(True, 409), (False, 404)])
def test_approving_a_decided_or_unknown_authorisation_is_refused(
    client: TestClient, tokens: dict[str, str], authorised: dict[str, Any], known: bool, status: int
) -> None:
    ref = authorised["id"] if known else "unknown"
    r = client.post(f"{API}/authorisations/{ref}/approve", headers=bearer(tokens["admin"]))
    assert r.status_code == status


def test_a_refusal_deletes_the_watchlists_under_it(
    client: TestClient, tokens: dict[str, str], api_db: Database, watchlist: dict[str, Any]
) -> None:
    r = client.post(
        f"{API}/authorisations/{watchlist['authorisation_id']}/refuse",
        json={"reason": "refused by the court, Kpp 13/2026"},
        headers=bearer(tokens["admin"]),
    )
    assert r.status_code == 200 and r.json()["authorisation"]["status"] == "refused"
    assert [e["watchlists"] for e in r.json()["enforced"]] == [1]
    assert client.get(f"{API}/watchlists", headers=bearer(tokens["investigator"])).json() == []
    refusal = AuditLog(api_db).entries("authorisation_change")[-2]
    assert (refusal.username, refusal.justification) == ("admin-user", "refused by the court, Kpp 13/2026")


def test_a_refusal_needs_the_decision(
    client: TestClient, tokens: dict[str, str], authorised: dict[str, Any]
) -> None:
    r = client.post(
        f"{API}/authorisations/{authorised['id']}/refuse", json={}, headers=bearer(tokens["admin"])
    )
    assert r.status_code == 422


# ---------------------------------------------------------------- watchlists


def test_an_investigator_creates_a_watchlist_in_their_name(
    api_db: Database, watchlist: dict[str, Any], client: TestClient, tokens: dict[str, str]
) -> None:
    assert watchlist["created_by"] == "investigator-user" and watchlist["persons"] == 0
    entry = AuditLog(api_db).entries("watchlist_change")[-1]
    assert (entry.username, entry.role, entry.target) == (
        "investigator-user",
        "investigator",
        watchlist["id"],
    )
    listed = client.get(f"{API}/watchlists", headers=bearer(tokens["investigator"])).json()
    assert [w["name"] for w in listed] == ["missing 12"]


@pytest.mark.parametrize(
    ("name", "authorisation", "status"),
    [("missing 12", "Kpp 12/2026", 409), ("other", "Kpp 99/2099", 400), ("", "Kpp 12/2026", 422)],
)
def test_a_taken_name_or_an_unknown_authorisation_is_refused(
    client: TestClient,
    tokens: dict[str, str],
    watchlist: dict[str, Any],
    name: str,
    authorisation: str,
    status: int,
) -> None:
    body = {"name": name, "authorisation": authorisation}
    assert (
        client.post(f"{API}/watchlists", json=body, headers=bearer(tokens["investigator"])).status_code
        == status
    )


def test_a_watchlist_needs_an_authorisation_in_force(client: TestClient, tokens: dict[str, str]) -> None:
    auth = add_authorisation(client, tokens["admin"])
    client.post(
        f"{API}/authorisations/{auth['id']}/refuse",
        json={"reason": "refused"},
        headers=bearer(tokens["admin"]),
    )
    body = {"name": "late", "authorisation": auth["id"]}
    r = client.post(f"{API}/watchlists", json=body, headers=bearer(tokens["investigator"]))
    assert r.status_code == 409 and "refused" in r.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/watchlists"),
        ("GET", "/watchlists/x/persons"),
        ("POST", "/watchlists"),
        ("POST", "/watchlists/x/persons"),
        ("DELETE", "/watchlists/x"),
        ("DELETE", "/watchlists/x/persons/y"),
    ],
)
def test_watchlists_need_manage_watchlists(
    client: TestClient, tokens: dict[str, str], method: str, path: str
) -> None:
    body = {"name": "x", "authorisation": "x"} if path == "/watchlists" else None
    files = (
        {"photos": ("a.jpg", HOPPER, "image/jpeg")} if path.endswith("persons") and method == "POST" else None
    )
    data = {"label": "x"} if files else None
    r = client.request(
        method, API + path, json=body, files=files, data=data, headers=bearer(tokens["operator"])
    )
    assert r.status_code == 403


def test_grace_hopper_is_enrolled_and_her_listing_is_recorded(
    client: TestClient, tokens: dict[str, str], api_db: Database, watchlist: dict[str, Any]
) -> None:
    r = enrol(client, tokens["investigator"], watchlist["id"], ("hopper.jpg", HOPPER, "image/jpeg"))
    assert r.status_code == 201, r.text
    person = r.json()
    assert person["label"] == "Grace Hopper" and len(person["photos"]) == 1
    enrolled = AuditLog(api_db).entries("watchlist_change")[-1]
    assert (enrolled.username, enrolled.target) == ("investigator-user", f"{watchlist['id']}/{person['id']}")
    persons = client.get(
        f"{API}/watchlists/{watchlist['name']}/persons", headers=bearer(tokens["investigator"])
    )
    assert [p["id"] for p in persons.json()] == [person["id"]]
    (read,) = AuditLog(api_db).entries("view_sighting")
    assert (read.username, read.target) == ("investigator-user", person["id"])
    removed = client.delete(
        f"{API}/watchlists/{watchlist['id']}/persons/{person['id']}", headers=bearer(tokens["investigator"])
    )
    assert removed.status_code == 200 and removed.json()["persons"] == 1


@pytest.mark.parametrize(
    ("photo", "status"),
    [
        (("notes.txt", b"not a photo at all", "text/plain"), 415),
        (("fake.jpg", b"GIF89a nonsense", "image/jpeg"), 415),
        (("grey.jpg", jpeg(np.full((300, 300, 3), 90, np.uint8)), "image/jpeg"), 422),
    ],
)
def test_a_photo_that_is_no_image_or_has_no_face_is_refused(
    client: TestClient,
    tokens: dict[str, str],
    watchlist: dict[str, Any],
    photo: tuple[str, bytes, str],
    status: int,
) -> None:
    r = enrol(client, tokens["investigator"], watchlist["id"], photo)
    assert r.status_code == status
    persons = client.get(
        f"{API}/watchlists/{watchlist['id']}/persons", headers=bearer(tokens["investigator"])
    )
    assert persons.json() == []


def test_an_oversize_photo_is_a_413(
    small_client: TestClient, tokens: dict[str, str], watchlist: dict[str, Any]
) -> None:
    assert len(HOPPER) > 2048
    r = enrol(small_client, tokens["investigator"], watchlist["id"], ("hopper.jpg", HOPPER, "image/jpeg"))
    assert r.status_code == 413


def test_an_enrolment_without_photos_is_a_422(
    client: TestClient, tokens: dict[str, str], watchlist: dict[str, Any]
) -> None:
    r = client.post(
        f"{API}/watchlists/{watchlist['id']}/persons",
        data={"label": "x"},
        headers=bearer(tokens["investigator"]),
    )
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/watchlists/nope/persons"),
        ("DELETE", "/watchlists/nope"),
        ("DELETE", "/watchlists/missing 12/persons/nope"),
    ],
)
def test_an_unknown_watchlist_or_person_is_a_404(
    client: TestClient, tokens: dict[str, str], watchlist: dict[str, Any], method: str, path: str
) -> None:
    assert client.request(method, API + path, headers=bearer(tokens["investigator"])).status_code == 404


def test_enrolling_on_an_unknown_watchlist_is_a_404(client: TestClient, tokens: dict[str, str]) -> None:
    r = enrol(client, tokens["investigator"], "nope", ("hopper.jpg", HOPPER, "image/jpeg"))
    assert r.status_code == 404


def test_a_watchlist_is_removed_and_the_log_names_who(
    client: TestClient, tokens: dict[str, str], api_db: Database, watchlist: dict[str, Any]
) -> None:
    r = client.delete(f"{API}/watchlists/{watchlist['id']}", headers=bearer(tokens["investigator"]))
    assert r.status_code == 200
    assert client.get(f"{API}/watchlists", headers=bearer(tokens["investigator"])).json() == []
    entry = AuditLog(api_db).entries("watchlist_change")[-1]
    assert (entry.username, entry.details["change"]) == ("investigator-user", "removed")
