"""The audit page (`/audit`): pages newest first with the filters kept, each entry in words (what was
asked, why, how many results), the last chain check kept on the page, the export that the CLI's
`audit verify --file` checks offline, and refusals for other roles and malformed filters."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import cv2
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safecity.cli.app import app as cli_app
from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog, verify_file
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.security import SESSION_COOKIE
from safecity.server.web.pages.audit import describe
from safecity.sim.faces import reference_image
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ORIGIN = "http://testserver"
PAGE_SIZE = 10
REASON = "case K-7/2026: stolen van seen near the market"
USERS = {"auditor-1": Role.AUDITOR, "investigator-1": Role.INVESTIGATOR, "operator-1": Role.OPERATOR}


@dataclass(frozen=True)
class World:
    settings: Settings
    db: Database
    tokens: dict[str, str]
    root: Path
    base: int
    """Entries before the test's own (the users' creation and logins)."""

    def client(self, username: str) -> TestClient:
        client = TestClient(create_app(self.settings, self.db), headers={"Origin": ORIGIN})
        client.cookies.set(SESSION_COOKIE, self.tokens[username])
        return client

    def entries(self, action: AuditAction) -> list[AuditEntryRow]:
        with self.db.session() as session:
            rows = session.query(AuditEntryRow).filter(AuditEntryRow.action == action.value)
            return list(rows.order_by(AuditEntryRow.seq))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = Settings(data_dir=tmp_path / "var", api={"audit_page_size": PAGE_SIZE})
    db = Database.open(settings.effective_database_url, settings.store)
    users, tokens = UserStore(db, hasher=FAST_HASHER), {}
    for name, role in USERS.items():
        users.add(name, role, "a long enough password")
        tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    yield World(settings, db, tokens, tmp_path, AuditLog(db).head()[0])
    db.close()


def hotlist_changes(world: World, count: int) -> None:
    """`count` hotlist entries recorded as the CLI records them (plates NS000CD, NS001CD, ...)."""
    log = AuditLog(world.db)
    for i in range(count):
        plate = f"NS{i:03d}CD"
        log.record(
            AuditAction.HOTLIST_CHANGE, username="clerk", role="cli", target=f"h{i}",
            justification=f"stolen car report {i}",
            details={"change": "added", "plate": plate, "owner": "police"},
        )  # fmt: skip


def seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr class="action-[a-z_]+" data-seq="(\d+)"', html)]


def link(html: str, name: str) -> str | None:
    found = re.search(rf'href="([^"]+)" id="{name}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_one_page_holds_the_page_size_newest_first(world: World) -> None:
    hotlist_changes(world, 34)
    page = world.client("auditor-1").get("/audit")
    assert page.status_code == 200
    assert seqs(page.text) == list(range(world.base + 34, world.base + 24, -1))
    assert f"Entries 1–10 of {world.base + 34} matching" in page.text
    assert link(page.text, "page-previous") is None


def test_the_last_page_holds_the_oldest(world: World) -> None:
    hotlist_changes(world, 34)
    page = world.client("auditor-1").get("/audit?page=4&action=hotlist_change")
    assert seqs(page.text) == [world.base + n for n in (4, 3, 2, 1)]
    assert link(page.text, "page-next") is None


def test_a_page_past_the_last_shows_the_last(world: World) -> None:
    hotlist_changes(world, 12)
    page = world.client("auditor-1").get("/audit?page=99&action=hotlist_change")
    assert seqs(page.text) == [world.base + 2, world.base + 1]
    assert "page 2 of 2" in page.text


def test_paging_keeps_the_filters(world: World) -> None:
    hotlist_changes(world, 25)
    client = world.client("auditor-1")
    first = client.get("/audit?action=hotlist_change&user=clerk")
    following = link(first.text, "page-next")
    assert following is not None
    assert "action=hotlist_change" in following and "user=clerk" in following and "page=2" in following
    second = client.get(following)
    assert seqs(second.text) == list(range(world.base + 15, world.base + 5, -1))
    back = link(second.text, "page-previous")
    assert back is not None and "action=hotlist_change" in back and "page=" not in back


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=yesterday", "since: 'yesterday' is not a date and time"),
        ("until=2026-13-01T00:00", "until: '2026-13-01T00:00' is not a date and time"),
        ("page=0", "page: '0' is not a page number"),
        ("page=two", "page: 'two' is not a page number"),
        ("action=delete_everything", "action: 'delete_everything' is not an audit action"),
    ],
)
def test_malformed_filters_are_a_400_page_in_words(world: World, query: str, message: str) -> None:
    page = world.client("auditor-1").get(f"/audit?{query}")
    assert page.status_code == 400
    assert message in page.text.replace("&#39;", "'")
    assert "<table" not in page.text


def test_a_plate_search_shows_the_pattern_reason_and_count(world: World) -> None:
    searched = world.client("investigator-1").post("/search", data={"plate": "BG*AB", "reason": REASON})
    assert searched.status_code == 200
    page = world.client("auditor-1").get("/audit?action=search_plate")
    row = page.text.split('data-seq="', 2)[1]
    assert "Plate search for “BG*AB”" in row
    assert "on every camera the user may see" in row
    assert REASON in row
    assert "0 plate reads" in row


def test_a_face_search_shows_the_photo_hash_not_the_photo(world: World) -> None:
    photo = world.root / "probe.jpg"
    cv2.imwrite(str(photo), reference_image("grace_hopper"))
    data = photo.read_bytes()
    searched = world.client("investigator-1").post(
        "/search/faces", data={"reason": REASON}, files={"photo": ("probe.jpg", data, "image/jpeg")}
    )
    assert searched.status_code == 200, searched.text
    digest = hashlib.sha256(data).hexdigest()
    page = world.client("auditor-1").get("/audit?action=search_face")
    row = page.text.split('data-seq="', 2)[1]
    assert "Face search with a photo, the " in row
    assert f'photo SHA-256 <code title="{digest}">{digest[:16]}…</code>' in row
    assert REASON in row and "sightings" in row


def test_result_ids_are_counted_and_listed_only_on_demand(world: World) -> None:
    hotlist_changes(world, 3)
    client = world.client("auditor-1")
    client.get("/audit?action=hotlist_change")  # this reading (3 entries shown) is an entry itself
    page = client.get("/audit?action=view_audit")
    row = page.text.split('data-seq="', 2)[1]
    assert "Read the audit log filtered by action hotlist_change" in row
    assert "3 entrys shown" not in row and "3 entries shown" in row
    assert "<details><summary>ids</summary>" in row


def test_an_export_is_recorded_and_shown_in_words(world: World) -> None:
    hotlist_changes(world, 2)
    client = world.client("auditor-1")
    download = client.get("/audit/export")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith('attachment; filename="safecity-audit-')
    [entry] = [e for e in world.entries(AuditAction.VIEW_AUDIT) if e.details.get("what") == "audit export"]
    assert entry.username == "auditor-1" and entry.details["entries"] == world.base + 2
    page = client.get("/audit?action=view_audit")
    assert "Exported the log for offline verification (every entry)" in page.text
    assert "safecity audit verify --file safecity-audit-&lt;time&gt;.jsonl" in page.text


def test_the_exported_file_verifies_offline_with_the_cli(world: World) -> None:
    hotlist_changes(world, 5)
    out = world.root / "audit.jsonl"
    out.write_bytes(world.client("auditor-1").get("/audit/export").content)
    assert verify_file(out).ok
    result = CliRunner().invoke(cli_app, ["audit", "verify", "--file", str(out)])
    assert result.exit_code == 0 and f"{world.base + 5} entries, chain intact" in result.output


def test_one_edited_line_of_the_export_is_found(world: World) -> None:
    hotlist_changes(world, 5)
    out = world.root / "audit.jsonl"
    lines = world.client("auditor-1").get("/audit/export").text.splitlines()
    line = world.base + 3  # the header, then entry n on line n
    lines[line] = lines[line].replace("NS002CD", "XX999XX")
    out.write_text("\n".join(lines) + "\n")
    assert verify_file(out).first_bad == world.base + 3
    result = CliRunner().invoke(cli_app, ["audit", "verify", "--file", str(out)])
    assert result.exit_code == 1 and f"entry {world.base + 3}" in result.output


def test_the_verify_result_stays_while_filtering_and_paging(world: World) -> None:
    hotlist_changes(world, 25)
    client = world.client("auditor-1")
    verified = client.post("/audit/verify?action=hotlist_change")
    assert verified.status_code == 200
    assert str(verified.url).endswith("/audit?action=hotlist_change#last-check")
    everything = world.base + 25
    assert "Chain OK: verified" in verified.text
    assert f"by auditor-1, {everything} entries through #{everything} intact" in verified.text
    for query in ("action=hotlist_change&page=2", "user=clerk", "action=view_audit"):
        page = client.get(f"/audit?{query}")
        assert "Chain OK: verified" in page.text, query
        assert f"by auditor-1, {everything} entries through #{everything} intact" in page.text
        assert "entries written since are not covered yet" in page.text


def test_the_check_is_an_audit_entry_with_its_outcome(world: World) -> None:
    hotlist_changes(world, 3)
    world.client("auditor-1").post("/audit/verify")
    [check] = [e for e in world.entries(AuditAction.VIEW_AUDIT) if e.details.get("what") == "verify chain"]
    assert check.username == "auditor-1"
    assert (
        check.details["verification"]["intact"] is True
        and check.details["verification"]["entries"] == world.base + 3
    )


def test_a_broken_chain_is_shown_broken_until_the_next_check(world: World) -> None:
    hotlist_changes(world, 4)
    with world.db.session() as session:
        row = session.get(AuditEntryRow, world.base + 2)
        assert row is not None
        row.justification = "nothing to see"
    client = world.client("auditor-1")
    page = client.post("/audit/verify")
    assert "Chain BROKEN" in page.text
    assert f"entry #{world.base + 2} its fields do not match its hash" in page.text
    assert "Chain BROKEN" in client.get("/audit?action=hotlist_change&page=1").text


def test_no_check_yet_is_said(world: World) -> None:
    page = world.client("auditor-1").get("/audit")
    assert "The chain has not been verified from this page yet." in page.text


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/audit"), ("GET", "/audit/export"), ("POST", "/audit/verify")]
)
def test_another_role_is_refused_and_the_refusal_recorded(world: World, method: str, path: str) -> None:
    response = world.client("operator-1").request(method, path)
    assert response.status_code == 403
    assert "Not allowed" in response.text
    [denied] = world.entries(AuditAction.ACCESS_DENIED)
    assert denied.username == "operator-1" and denied.target == "view_audit"
    assert not [e for e in world.entries(AuditAction.VIEW_AUDIT)]


@pytest.mark.parametrize(
    ("action", "details", "target", "words"),
    [
        (AuditAction.HOTLIST_CHANGE, {"change": "added", "plate": "BG123AB", "owner": "police"}, "h1",
         "Hotlist: added BG123AB (owner police)"),
        (AuditAction.WATCHLIST_CHANGE, {"change": "enrolled", "label": "Grace Hopper", "photos": 2}, "w/p",
         "Enrolled “Grace Hopper” from 2 photo(s)"),
        (AuditAction.AUTHORISATION_CHANGE,
         {"change": "created", "purpose": "missing_person", "cameras": ["cam-1"]},
         "a1", "Authorisation recorded: missing_person on cam-1"),
        (AuditAction.EXPORT, {"unblurred": False}, "alert-9",
         "Exported the evidence of alert alert-9 (faces blurred)"),
        (AuditAction.ACCESS_DENIED, {"why": "the role viewer lacks search_plate"}, "search_plate",
         "Refused: search_plate"),
    ],
)  # fmt: skip
def test_entries_in_words(
    world: World, action: AuditAction, details: dict[str, object], target: str, words: str
) -> None:
    entry = AuditLog(world.db).record(action, username="u", role="cli", target=target, details=details)
    assert describe(entry).asked == words
