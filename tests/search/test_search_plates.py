"""The gated plate search every front end calls: recorded with its hits, narrowed, refused cleanly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from factories import camera, plate_read, site

from safecity.governance.access import AccessDenied, AccessGate, Caller, ReasonRequired
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.search.plates import search_plates_gated
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.plate_search import PlateQuery
from safecity.store.writer import write_batch

REASON = "case K-7/2026 stolen vehicle"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def stocked(db: Database) -> tuple[AccessGate, list[str]]:
    CameraStore(db).save([site("site-1")], [camera("cam-1"), camera("cam-2")])
    reads = [plate_read("cam-1"), plate_read("cam-2")]
    write_batch(db, reads)
    return AccessGate(db, min_reason_len=10, clock=lambda: NOW), [r.id for r in reads]


def person(db: Database, role: Role) -> Caller:
    return Caller.of(UserStore(db).add(f"u-{role}", role, "a long enough password"))


def test_a_search_returns_its_hits_and_the_entry_that_records_them(db: Database) -> None:
    gate, ids = stocked(db)
    result = search_plates_gated(gate, person(db, Role.INVESTIGATOR), PlateQuery.parse("BG123AB"), REASON, {})
    assert sorted(h.id for h in result.hits) == sorted(ids)
    entry = AuditLog(db).entries()[-1]
    assert (entry.seq, entry.action, entry.justification) == (
        result.audit_seq,
        AuditAction.SEARCH_PLATE,
        REASON,
    )
    assert sorted(entry.target.split(",")) == sorted(ids)


def test_a_camera_limited_caller_finds_only_its_cameras(db: Database) -> None:
    gate, _ = stocked(db)
    limited = Caller("limited", str(Role.INVESTIGATOR), frozenset({"cam-2"}), user_id=99)
    result = search_plates_gated(gate, limited, PlateQuery.parse("BG123AB"), REASON, {})
    assert {h.camera_id for h in result.hits} == {"cam-2"}


@pytest.mark.parametrize(
    ("role", "reason", "error"),
    [
        (Role.INVESTIGATOR, "", ReasonRequired),
        (Role.VIEWER, REASON, AccessDenied),
        (Role.ADMIN, REASON, AccessDenied),
    ],
)
def test_a_refused_search_returns_nothing(
    db: Database, role: Role, reason: str, error: type[Exception]
) -> None:
    gate, ids = stocked(db)
    with pytest.raises(error):
        search_plates_gated(gate, person(db, role), PlateQuery.parse("BG123AB"), reason, {})
    assert not any(i in e.target for e in AuditLog(db).entries() for i in ids)


def test_searches_at_once_each_leave_an_entry_and_the_chain_verifies(db: Database) -> None:
    gate, _ = stocked(db)
    investigator = person(db, Role.INVESTIGATOR)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(
                lambda i: search_plates_gated(
                    gate, investigator, PlateQuery.parse("BG123AB"), f"{REASON} #{i}", {}
                ),
                range(12),
            )
        )
    assert len({r.audit_seq for r in results}) == 12
    assert AuditLog(db).verify().ok
