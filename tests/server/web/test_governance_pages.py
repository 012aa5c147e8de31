"""The authorisation and retention pages: recording and deciding an authorisation goes through the
function the CLI and the API call and writes the same audit entries; deadlines count down in words;
a decision the domain refuses is a 409 page in words; the retention page shows the CLI's dry run
and its sweep (after a confirmation step) deletes and records one `retention_deletion` entry; two
admins deciding one authorisation at once: one decision wins, the chain verifies."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alert_world import FAST_HASHER, AlertWorld, build

from safecity.governance import list_changes
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import Actor, UserStore
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.server.security import SESSION_COOKIE
from safecity.server.web.pages.lists import countdown
from safecity.store.authorisations import AuthorisationStore
from safecity.types import AuthorisationPurpose

NOW = datetime.now(UTC)
FORM = {
    "authority": "Higher Court in Belgrade",
    "reference": "Kpp 42/2026",
    "purpose": "victim_search",
    "use": "realtime",
    "valid_from": (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    "valid_until": (NOW + timedelta(days=3, hours=2)).strftime("%Y-%m-%dT%H:%M"),
    "note": "one missing child",
}


def with_admins(world: AlertWorld) -> AlertWorld:
    users = UserStore(world.db, hasher=FAST_HASHER)
    for name in ("admin-1", "admin-2"):
        users.add(name, Role.ADMIN, "a long enough password")
        world.tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    return world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AlertWorld]:
    w = with_admins(build(tmp_path / "var"))
    yield w
    w.db.close()


def record(world: AlertWorld, user: str = "admin-1", **form: str | list[str]) -> httpx.Response:
    data: dict[str, str | list[str]] = {**FORM, "cameras": ["cam-1", "cam-2"], **form}
    return world.client(user).post("/authorisations", data=data, follow_redirects=True)


def recorded(world: AlertWorld) -> str:
    return AuthorisationStore(world.db).find("Kpp 42/2026").id


@pytest.mark.parametrize(
    ("seconds", "words", "css"),
    [
        (3 * 86400 + 60, "in 3 days", ""),
        (2 * 3600 + 5, "in 2 hours", "deadline-soon"),
        (30, "in less than a minute", "deadline-soon"),
        (-86400 * 2, "2 days ago", "deadline-past"),
    ],
)
def test_a_deadline_reads_in_words(seconds: int, words: str, css: str) -> None:
    assert countdown(NOW + timedelta(seconds=seconds), NOW) == (words, css)


def test_recording_an_authorisation_is_audited_as_from_the_cli(world: AlertWorld) -> None:
    page = record(world)
    assert page.status_code == 200 and "Recorded Higher Court in Belgrade Kpp 42/2026 (approved)" in page.text
    assert "expires in 3 days" in page.text
    auth = AuthorisationStore(world.db).get(recorded(world))
    assert (auth.camera_ids, auth.created_by, auth.note) == (
        ("cam-1", "cam-2"),
        "admin-1",
        "one missing child",
    )
    (entry,) = AuditLog(world.db).entries(AuditAction.AUTHORISATION_CHANGE)
    assert (entry.username, entry.role, entry.justification) == (
        "admin-1",
        "admin",
        "Higher Court in Belgrade Kpp 42/2026",
    )
    assert entry.details == {"change": "created", "purpose": "victim_search", "cameras": ["cam-1", "cam-2"]}


def test_an_urgent_one_is_approved_by_a_second_admin_with_the_reference(world: AlertWorld) -> None:
    page = record(world, urgent="1")
    assert "pending until approved" in page.text and "approve in" in page.text
    approved = world.client("admin-2").post(
        f"/authorisations/{recorded(world)}/decide",
        data={"decision": "approve", "reason": "decision Kpp 42/2026-2"},
        follow_redirects=True,
    )
    assert approved.status_code == 200 and "Kpp 42/2026: approved." in approved.text
    assert AuthorisationStore(world.db).get(recorded(world)).decided_by == "admin-2"
    entry = AuditLog(world.db).entries(AuditAction.AUTHORISATION_CHANGE)[-1]
    assert (entry.username, entry.justification, entry.details) == (
        "admin-2",
        "approved by the authority: decision Kpp 42/2026-2",
        {"change": "approved", "reference": "Kpp 42/2026"},
    )


def test_a_decision_the_domain_refuses_is_a_409_in_words(world: AlertWorld) -> None:
    record(world)  # not urgent: approved when recorded, nothing to approve
    page = world.client("admin-2").post(
        f"/authorisations/{recorded(world)}/decide", data={"decision": "approve", "reason": "ref 1"}
    )
    assert page.status_code == 409 and "is approved, not pending" in page.text
    refused = world.client("admin-2").post(
        f"/authorisations/{recorded(world)}/decide",
        data={"decision": "refuse", "reason": "appeal upheld, ref 2"},
        follow_redirects=True,
    )
    assert "Kpp 42/2026: refused." in refused.text
    again = world.client("admin-1").post(
        f"/authorisations/{recorded(world)}/decide", data={"decision": "refuse", "reason": "ref 3"}
    )
    assert again.status_code == 409 and "already refused" in again.text


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"cameras": []}, 400, "tick at least one camera"),
        ({"reference": "x" * 500}, 400, "reference: at most"),
        ({"valid_from": "soon"}, 422, "not a date"),
        ({"valid_until": ""}, 422, "from and until"),
        ({"purpose": "curiosity"}, 422, "purpose"),
        ({"valid_until": (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")}, 422, ""),
    ],
)
def test_a_malformed_authorisation_is_refused_in_words(
    world: AlertWorld, form: dict[str, str | list[str]], status: int, words: str
) -> None:
    page = record(world, **form)
    assert page.status_code == status and 'id="form-error"' in page.text
    assert words in page.text
    assert AuditLog(world.db).entries(AuditAction.AUTHORISATION_CHANGE) == []


@pytest.mark.parametrize(
    ("data", "status"), [({"decision": "maybe", "reason": "r"}, 400), ({"decision": "refuse"}, 400)]
)
def test_a_malformed_decision_is_a_400(world: AlertWorld, data: dict[str, str], status: int) -> None:
    record(world)
    assert (
        world.client("admin-1").post(f"/authorisations/{recorded(world)}/decide", data=data).status_code
        == status
    )
    assert (
        world.client("admin-1")
        .post("/authorisations/nope/decide", data={"decision": "refuse", "reason": "r"})
        .status_code
        == 404
    )


def test_an_investigator_may_not_record_and_the_refusal_is_recorded(world: AlertWorld) -> None:
    assert record(world, user="investigator-1").status_code == 403
    assert world.client("investigator-1").get("/authorisations").status_code == 403
    assert [e.username for e in AuditLog(world.db).entries(AuditAction.ACCESS_DENIED)] == [
        "investigator-1"
    ] * 2
    assert AuditLog(world.db).entries(AuditAction.AUTHORISATION_CHANGE) == []


def test_a_cross_site_decision_changes_nothing(world: AlertWorld) -> None:
    record(world, urgent="1")
    page = world.client("admin-2").post(
        f"/authorisations/{recorded(world)}/decide",
        data={"decision": "approve", "reason": "r"},
        headers={"Origin": "https://evil.example"},
    )
    assert page.status_code == 403
    assert AuthorisationStore(world.db).get(recorded(world)).status == "pending"


# ---------------------------------------------------------------- retention


def test_retention_shows_the_dry_run_and_sweeps_after_confirmation(world: AlertWorld) -> None:
    client = world.client("admin-1")
    page = client.get("/admin/retention")
    assert page.status_code == 200 and 'id="preview-summary"' in page.text and "would delete" in page.text
    assert AuditLog(world.db).entries(AuditAction.RETENTION_DELETION) == []
    confirm = client.post("/admin/retention", data={})
    assert confirm.status_code == 200 and 'id="confirm-form"' in confirm.text
    assert AuditLog(world.db).entries(AuditAction.RETENTION_DELETION) == []
    later = world.settings.model_copy(
        update={
            "retention": world.settings.retention.model_copy(update={"alerts_days": 1, "plate_reads_days": 1})
        }
    )
    swept = world.client("admin-1", later).post("/admin/retention", data={"confirm": "yes"})
    assert swept.status_code == 200 and 'id="swept"' in swept.text and "deleted" in swept.text
    (entry,) = AuditLog(world.db).entries(AuditAction.RETENTION_DELETION)
    assert f"Recorded as audit entry {entry.seq}" in swept.text
    assert entry.details["deleted"], "the seeded reads and alerts are older than a day"
    assert (entry.username, entry.role) == ("admin-1", "admin")  # who pressed the button
    assert AuditLog(world.db).verify().first_bad is None


@pytest.mark.parametrize(
    ("method", "user", "status"), [("get", "investigator-1", 403), ("post", "operator-1", 403)]
)
def test_retention_is_for_administrators(world: AlertWorld, method: str, user: str, status: int) -> None:
    client = world.client(user)
    response = (
        client.get("/admin/retention")
        if method == "get"
        else client.post("/admin/retention", data={"confirm": "yes"})
    )
    assert response.status_code == status
    assert AuditLog(world.db).entries(AuditAction.ACCESS_DENIED)[-1].username == user
    assert AuditLog(world.db).entries(AuditAction.RETENTION_DELETION) == []


def test_a_cross_site_sweep_is_refused(world: AlertWorld) -> None:
    response = world.client("admin-1").post(
        "/admin/retention", data={"confirm": "yes"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert AuditLog(world.db).entries(AuditAction.RETENTION_DELETION) == []


# ---------------------------------------------------------------- two admins at once


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, AlertWorld]]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    world = with_admins(build(tmp_path / "var", url))
    server = ApiServer(create_app(world.settings, world.db), "127.0.0.1", 0).start()
    try:
        yield server.url, world
    finally:
        server.close()
        world.db.close()


def test_two_admins_deciding_one_authorisation_at_once(served: tuple[str, AlertWorld]) -> None:
    url, world = served
    auth = list_changes.record_authorisation(
        world.db,
        world.settings,
        Actor("admin-1", "admin"),
        authority="Court",
        reference="Kpp 7/2026",
        purpose=AuthorisationPurpose.VICTIM_SEARCH,
        cameras=["cam-1"],
        valid_from=NOW,
        valid_until=NOW + timedelta(days=5),
        urgent=True,
    )
    decisions = {"admin-1": "approve", "admin-2": "approve"}
    start, statuses = threading.Barrier(2), {}

    def one(name: str) -> None:
        with httpx.Client(base_url=url, headers={"Origin": url}, timeout=60) as client:
            client.cookies.set(SESSION_COOKIE, world.tokens[name])
            start.wait()
            data = {"decision": decisions[name], "reason": f"decision of {name}"}
            statuses[name] = client.post(f"/authorisations/{auth.id}/decide", data=data).status_code

    threads = [threading.Thread(target=one, args=(n,)) for n in decisions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = AuthorisationStore(world.db).get(auth.id)
    log = AuditLog(world.db)
    decided = [e for e in log.entries(AuditAction.AUTHORISATION_CHANGE) if e.details["change"] != "created"]
    # One approval wins; the other is told it is no longer pending (409), and only the winner is audited.
    assert sorted(statuses.values()) == [303, 409], statuses
    (winner,) = [name for name, status in statuses.items() if status == 303]
    assert final.status == "approved" and final.decided_by == winner
    assert [(e.username, e.details["change"]) for e in decided] == [(winner, "approved")]
    assert log.verify().first_bad is None
