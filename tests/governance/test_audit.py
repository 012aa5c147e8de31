"""The hash-chained audit log: entries chain, and any edit, deletion, insertion or reordering is found."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from safecity.governance.audit import GENESIS, AuditAction, AuditLog
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow


def filled(db: Database, n: int = 4) -> AuditLog:
    log = AuditLog(db)
    for i in range(n):
        log.record(
            AuditAction.SEARCH_FACE,
            username=f"inv{i}",
            role="investigator",
            target=f"s{i}",
            justification=f"case K-{i}/2026: missing person",
            details={"k": 10, "cameras": ["cam-1"], "i": i},
        )
    return log


def test_first_entry_follows_the_genesis_hash(db: Database) -> None:
    entry = filled(db, 1).entries()[0]
    assert entry.prev_hash == GENESIS
    assert len(entry.hash) == 64


def test_entries_chain(db: Database) -> None:
    entries = filled(db).entries()
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_untouched_chain_verifies(db: Database) -> None:
    log = filled(db)
    result = log.verify()
    assert result.ok and result.entries == 4
    assert result.head == log.entries()[-1].hash


def test_entry_in_the_callers_transaction_rolls_back_with_it(db: Database) -> None:
    log = AuditLog(db)
    with pytest.raises(RuntimeError), db.session() as session:
        log.record(AuditAction.SEARCH_PLATE, username="a", role="r", session=session)
        raise RuntimeError("the action failed")
    assert log.entries() == []


def _tamper(db: Database, statement: object) -> None:
    with db.session() as session:
        session.execute(statement)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        (lambda: update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(justification="nothing"), 2),
        (lambda: update(AuditEntryRow).where(AuditEntryRow.seq == 3).values(username="someone else"), 3),
        (lambda: delete(AuditEntryRow).where(AuditEntryRow.seq == 2), 3),
        (lambda: update(AuditEntryRow).where(AuditEntryRow.seq == 1).values(details={"k": 1}), 1),
    ],
    ids=["edited reason", "edited user", "deleted entry", "edited details"],
)
def test_tampering_names_the_first_bad_entry(db: Database, tamper, first_bad: int) -> None:  # type: ignore[no-untyped-def]
    log = filled(db)
    _tamper(db, tamper())
    result = log.verify()
    assert not result.ok
    assert result.first_bad == first_bad


def test_reordered_entries_are_found(db: Database) -> None:
    log = filled(db)
    second = log.entries()[1]
    with db.session() as session:
        row = session.get(AuditEntryRow, 2)
        assert row is not None
        session.delete(row)
    with db.session() as session:  # the same entry, moved to the end of the log
        session.add(
            AuditEntryRow(
                seq=99,
                ts=second.ts,
                username=second.username,
                role=second.role,
                action=second.action,
                target=second.target,
                justification=second.justification,
                recipients=second.recipients,
                details=dict(second.details),
                prev_hash=second.prev_hash,
                hash=second.hash,
            )
        )
    assert log.verify().first_bad == 3
