"""The audit log over the API: listing (itself recorded), verification, the head and the export file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_world import bearer
from fastapi.testclient import TestClient
from sqlalchemy import text

from safecity.governance.audit import AuditLog, verify_file
from safecity.store.database import Database

API = "/api/v1"


@pytest.mark.parametrize("path", ["/audit", "/audit/verify", "/audit/head", "/audit/export"])
@pytest.mark.parametrize(
    ("role", "status"), [("auditor", 200), ("admin", 200), ("investigator", 403), ("viewer", 403)]
)
def test_the_audit_log_is_for_auditors_and_admins(
    client: TestClient, tokens: dict[str, str], path: str, role: str, status: int
) -> None:
    assert client.get(API + path, headers=bearer(tokens[role])).status_code == status


@pytest.mark.parametrize("path", ["/audit", "/audit/verify", "/audit/head", "/audit/export"])
def test_the_audit_log_needs_a_login(client: TestClient, tokens: dict[str, str], path: str) -> None:
    assert client.get(API + path).status_code == 401


def test_listing_is_recorded_as_view_audit_with_the_filters(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    r = client.get(f"{API}/audit?action=user_change&user=system", headers=bearer(tokens["auditor"]))
    assert r.status_code == 200
    assert {(e["action"], e["user"]) for e in r.json()["items"]} == {("user_change", "system")}
    (read,) = AuditLog(api_db).entries("view_audit")
    assert (read.username, read.role, read.details["action"]) == ("auditor-user", "auditor", "user_change")


def test_listing_pages_through_the_entries(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    first = client.get(f"{API}/audit?limit=2", headers=bearer(tokens["auditor"])).json()
    total = len(AuditLog(api_db).entries())
    assert [e["seq"] for e in first["items"]] == [1, 2] and first["next_offset"] == 2
    last = client.get(f"{API}/audit?limit=2&offset={total - 1}", headers=bearer(tokens["auditor"])).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None


@pytest.mark.parametrize(
    ("query", "status"), [("since=2026-03-02T08:00:00", 400), ("until=yesterday", 422), ("limit=0", 422)]
)
def test_bad_filters_are_refused(client: TestClient, tokens: dict[str, str], query: str, status: int) -> None:
    assert client.get(f"{API}/audit?{query}", headers=bearer(tokens["auditor"])).status_code == status


def test_a_time_range_filters_the_entries(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get(f"{API}/audit?until=2000-01-01T00:00:00%2B00:00", headers=bearer(tokens["auditor"]))
    assert r.json()["items"] == []


def test_an_intact_chain_verifies(client: TestClient, tokens: dict[str, str], api_db: Database) -> None:
    body = client.get(f"{API}/audit/verify", headers=bearer(tokens["auditor"])).json()
    assert body["ok"] and body["first_bad"] is None and body["head"] == AuditLog(api_db).head()[1]


def test_an_edited_entry_is_named(client: TestClient, tokens: dict[str, str], api_db: Database) -> None:
    with api_db.session() as session:
        session.execute(text("UPDATE audit_entries SET username = 'nobody' WHERE seq = 2"))
    body = client.get(f"{API}/audit/verify", headers=bearer(tokens["auditor"])).json()
    assert not body["ok"] and body["first_bad"] == 2 and body["problem"]


def test_the_head_is_the_last_entry(client: TestClient, tokens: dict[str, str], api_db: Database) -> None:
    seq, digest = AuditLog(api_db).head()
    assert client.get(f"{API}/audit/head", headers=bearer(tokens["admin"])).json() == {
        "seq": seq,
        "hash": digest,
    }


def test_the_export_downloads_a_file_that_verifies_offline(
    client: TestClient, tokens: dict[str, str], api_db: Database, tmp_path: Path
) -> None:
    r = client.get(f"{API}/audit/export", headers=bearer(tokens["auditor"]))
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert r.headers["content-disposition"].startswith("attachment;")
    (tmp_path / "audit.jsonl").write_bytes(r.content)
    assert verify_file(tmp_path / "audit.jsonl").ok
    header = json.loads(r.content.splitlines()[0])
    assert header["entries"] == len(r.content.splitlines()) - 1
    (read,) = AuditLog(api_db).entries("view_audit")
    assert (read.username, read.details["what"]) == ("auditor-user", "audit export")
