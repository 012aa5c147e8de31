"""The access gate: permission, camera limits and reason checked; the audit entry commits with the read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safecity.governance.access import AccessDenied, AccessGate, Caller, ReasonRequired
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Permission, Role
from safecity.governance.users import UserStore
from safecity.store.database import Database

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
REASON = "case K-7/2026 stolen vehicle"


def gate(db: Database) -> AccessGate:
    return AccessGate(db, min_reason_len=10, clock=lambda: NOW)


def caller(db: Database, role: Role) -> Caller:
    return Caller.of(UserStore(db).add(f"u-{role}", role, "a long enough password"))


def limited(*cameras: str) -> Caller:
    return Caller("limited", str(Role.OPERATOR), frozenset(cameras), user_id=99)


def test_a_read_commits_its_audit_entry_with_targets_and_times(sqlite_db: Database) -> None:
    investigator = caller(sqlite_db, Role.INVESTIGATOR)
    with gate(sqlite_db).read(
        investigator,
        AuditAction.SEARCH_PLATE,
        Permission.SEARCH_PLATE,
        justification=REASON,
        reason_required=True,
    ) as read:
        read.record(["r1", "r2"], query="BG*")
    (entry,) = AuditLog(sqlite_db).entries(AuditAction.SEARCH_PLATE)
    assert read.entry == entry
    assert (entry.username, entry.role, entry.target, entry.justification) == (
        "u-investigator",
        "investigator",
        "r1,r2",
        REASON,
    )
    assert entry.details["started_at"] == NOW.isoformat() and entry.details["results"] == 2
    assert entry.details["query"] == "BG*"


def test_a_failed_read_leaves_no_entry(sqlite_db: Database) -> None:
    investigator = caller(sqlite_db, Role.INVESTIGATOR)
    with (
        pytest.raises(RuntimeError),
        gate(sqlite_db).read(investigator, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read,
    ):
        read.record(["r1"])
        raise RuntimeError("the read failed")
    assert AuditLog(sqlite_db).entries(AuditAction.VIEW_SIGHTING) == []


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        (Role.VIEWER, Permission.SEARCH_PLATE),
        (Role.OPERATOR, Permission.SEARCH_FACE),
        (Role.AUDITOR, Permission.SEARCH_PLATE),
        (Role.ADMIN, Permission.VIEW_OBSERVATIONS),
        (Role.OPERATOR, Permission.EXPORT),
    ],
)
def test_a_role_without_the_permission_is_refused_and_the_refusal_recorded(
    sqlite_db: Database, role: Role, permission: Permission
) -> None:
    who = caller(sqlite_db, role)
    opened = gate(sqlite_db).read(who, AuditAction.SEARCH_PLATE, permission, justification=REASON)
    with pytest.raises(AccessDenied, match=str(permission)), opened:
        pytest.fail("the block must not run")
    (denied,) = AuditLog(sqlite_db).entries(AuditAction.ACCESS_DENIED)
    assert denied.username == who.username and denied.target == "search_plate"


@pytest.mark.parametrize("reason", ["", "   ", "too short"])
def test_a_search_without_a_reason_is_refused(sqlite_db: Database, reason: str) -> None:
    who = caller(sqlite_db, Role.INVESTIGATOR)
    with (
        pytest.raises(ReasonRequired, match="at least 10 characters"),
        gate(sqlite_db).read(
            who, AuditAction.SEARCH_PLATE, Permission.SEARCH_PLATE, justification=reason, reason_required=True
        ),
    ):
        pytest.fail("the block must not run")
    assert AuditLog(sqlite_db).entries(AuditAction.SEARCH_PLATE) == []


def test_an_export_without_recipients_is_refused(sqlite_db: Database) -> None:
    who = caller(sqlite_db, Role.INVESTIGATOR)
    with (
        pytest.raises(ReasonRequired, match="recipients"),
        gate(sqlite_db).read(
            who, AuditAction.EXPORT, Permission.EXPORT, justification=REASON, recipients_required=True
        ),
    ):
        pytest.fail("the block must not run")


def test_a_camera_limited_caller_reads_only_its_cameras(sqlite_db: Database) -> None:
    who = limited("cam-2", "cam-1")
    with gate(sqlite_db).read(who, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
        assert read.cameras == ("cam-1", "cam-2")
        assert read.visible("cam-1") and not read.visible("cam-3")
    assert read.entry is not None and read.entry.details["cameras"] == ["cam-1", "cam-2"]


def test_a_camera_limited_caller_naming_another_camera_is_refused(sqlite_db: Database) -> None:
    who = limited("cam-1")
    with (
        pytest.raises(AccessDenied, match="cam-3"),
        gate(sqlite_db).read(who, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, cameras=["cam-3"]),
    ):
        pytest.fail("the block must not run")


def test_an_unlimited_caller_reads_what_it_names_or_everything(sqlite_db: Database) -> None:
    who = caller(sqlite_db, Role.OPERATOR)
    with gate(sqlite_db).read(who, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as everything:
        assert everything.cameras is None and everything.visible("cam-9")
    with gate(sqlite_db).read(
        who, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, cameras=["c"]
    ) as one:
        assert one.cameras == ("c",)


def test_the_console_may_search_but_not_confirm() -> None:
    console = Caller.console("ops")
    assert console.role == "cli" and not console.is_person
    assert console.can(Permission.SEARCH_FACE) and console.can(Permission.EXPORT)
    assert not console.can(Permission.CONFIRM_MATCH)


def test_the_chain_verifies_after_reads_and_refusals(sqlite_db: Database) -> None:
    who = caller(sqlite_db, Role.VIEWER)
    with (
        pytest.raises(AccessDenied),
        gate(sqlite_db).read(who, AuditAction.SEARCH_FACE, Permission.SEARCH_FACE),
    ):
        pass
    with gate(sqlite_db).read(Caller.console("ops"), AuditAction.SEARCH_FACE, Permission.SEARCH_FACE) as read:
        read.record(["s1"])
    assert AuditLog(sqlite_db).verify().ok
