"""The audit chain against concurrent writers and against whoever can write the database.

Threat model: several people use one installation at once (the chain must not fork), and a
database administrator may delete or rewrite entries (the chain alone cannot show that, the
published anchors can). Each attack below passed `audit verify` before this file existed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.governance.audit import (
    GENESIS,
    Anchor,
    Anchorer,
    AuditAction,
    AuditLog,
    entry_hash,
    read_anchors,
)
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow

runner = CliRunner()


def record(log: AuditLog, i: int, action: AuditAction = AuditAction.SEARCH_PLATE) -> None:
    log.record(
        action,
        username=f"user{i % 3}",
        role="investigator",
        target=f"t{i}",
        justification=f"case K-{i}/2026: stolen vehicle",
        details={"i": i},
    )


def filled(db: Database, n: int) -> AuditLog:
    log = AuditLog(db)
    for i in range(n):
        record(log, i, AuditAction.SEARCH_FACE if i % 4 == 1 else AuditAction.SEARCH_PLATE)
    return log


def test_concurrent_appends_never_fork_the_chain(db: Database) -> None:
    log, errors = AuditLog(db), []

    def writer(start: int) -> None:
        try:
            for i in range(start, start + 25):
                record(log, i)
        except Exception as exc:  # collected: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 100,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = log.verify()
    assert result.ok, result.problem
    assert [e.seq for e in log.entries()] == list(range(1, 201))


def test_a_rolled_back_entry_leaves_no_gap_in_the_sequence(db: Database) -> None:
    log = filled(db, 2)
    with pytest.raises(RuntimeError), db.session() as session:
        log.record(AuditAction.SEARCH_PLATE, username="a", role="r", session=session)
        raise RuntimeError("the search failed")
    record(log, 9)
    assert [e.seq for e in log.entries()] == [1, 2, 3]
    assert log.verify().ok


def _rechain(db: Database) -> None:
    """What an attacker with database access does after deleting entries: recompute every hash."""
    with db.session() as session:
        prev = GENESIS
        for row in session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)):
            row.prev_hash = prev
            row.hash = entry_hash(
                prev, row.ts, row.username, row.role, row.action, row.target, row.justification,
                row.recipients, row.details,
            )  # fmt: skip
            prev = row.hash


def _renumber(db: Database) -> None:
    with db.session() as session:
        rows = list(session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)))
        for row in rows:  # away first, so the new numbers never collide with old ones
            row.seq += 1_000_000
        session.flush()
        for number, row in enumerate(rows, start=1):
            row.seq = number


def _delete_last(n: int) -> Callable[[Database], None]:
    def attack(db: Database) -> None:
        with db.session() as session:
            top = session.scalars(select(AuditEntryRow.seq).order_by(AuditEntryRow.seq.desc())).first()
            assert top is not None
            session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq > top - n))

    return attack


def _delete_all(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(AuditEntryRow))


def _delete_face_searches_and_rechain(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.action == AuditAction.SEARCH_FACE.value))
    _rechain(db)


def _delete_face_searches_rechain_and_renumber(db: Database) -> None:
    _delete_face_searches_and_rechain(db)
    _renumber(db)


def _seq_gap(db: Database) -> None:
    with db.session() as session:
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq >= 20).values(seq=AuditEntryRow.seq + 5)
        )


ATTACKS: list[tuple[str, Callable[[Database], None], bool]] = [
    # (attack, what it does, found without any anchor)
    ("last 10 entries deleted", _delete_last(10), False),
    ("every entry deleted", _delete_all, False),
    ("face searches deleted, hashes recomputed", _delete_face_searches_and_rechain, True),
    (
        "face searches deleted, hashes recomputed, renumbered",
        _delete_face_searches_rechain_and_renumber,
        False,
    ),
    ("gap in the sequence numbers", _seq_gap, True),
]


@pytest.mark.parametrize(("name", "attack", "found_by_chain"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_verify_finds_the_attack_with_the_published_anchors(
    db: Database, tmp_path: Path, name: str, attack: Callable[[Database], None], found_by_chain: bool
) -> None:
    log = filled(db, 24)
    anchors = tmp_path / "anchors.jsonl"
    anchorer = Anchorer(log, anchors, every_entries=8)
    anchorer.anchor(force=True)
    attack(db)
    assert not log.verify(read_anchors(anchors)).ok, name
    assert log.verify().ok is not found_by_chain


def test_an_untouched_log_passes_every_anchor(db: Database, tmp_path: Path) -> None:
    log, anchors = AuditLog(db), tmp_path / "anchors.jsonl"
    anchorer = Anchorer(log, anchors, every_entries=5)
    for i in range(23):
        record(log, i)
        anchorer.anchor()
    published = read_anchors(anchors)
    assert [a.seq for a in published] == [1, 6, 11, 16, 21]  # the first entry, then every 5th
    result = log.verify(published)
    assert result.ok and result.anchors_checked == 5 and result.head_seq == 23


def test_anchor_is_due_after_the_interval_even_with_few_entries(db: Database, tmp_path: Path) -> None:
    now = [1_000_000.0]
    log, anchors = filled(db, 1), tmp_path / "anchors.jsonl"
    anchorer = Anchorer(log, anchors, every_entries=100, interval_s=60, clock=lambda: now[0])
    anchorer.anchor()
    record(log, 1)
    assert not anchorer.due()
    now[0] += 61
    assert anchorer.due()
    anchorer.anchor()
    assert [a.seq for a in read_anchors(anchors)] == [1, 2]


def test_an_unchanged_head_is_not_anchored_twice(db: Database, tmp_path: Path) -> None:
    log, anchors = filled(db, 3), tmp_path / "anchors.jsonl"
    anchorer = Anchorer(log, anchors, every_entries=1)
    anchorer.anchor()
    anchorer.anchor()
    anchorer.anchor(force=True)
    assert len(read_anchors(anchors)) == 1


def test_anchor_goes_to_the_process_log(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = filled(db, 2)
    caplog.set_level("INFO", logger="safecity.governance.audit")
    seq, digest = Anchorer(log, tmp_path / "a.jsonl").anchor(force=True)
    assert f"audit anchor seq={seq} hash={digest}" in caplog.text


@pytest.mark.parametrize("text", ["12", "x:" + "a" * 64, "3:" + "g" * 64, "3:abc", ""])
def test_a_malformed_anchor_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="SEQ:HASH"):
        Anchor.parse(text)


# -- the command line, as an auditor runs it


@pytest.fixture
def cli_log(cli_data_dir: Path) -> tuple[Database, Path]:
    db = Database.open(f"sqlite:///{cli_data_dir / 'var' / 'safecity.db'}")
    filled(db, 12)
    return db, cli_data_dir / "var" / "audit-anchors.jsonl"


def test_cli_verify_checks_a_head_kept_elsewhere(cli_log: tuple[Database, Path]) -> None:
    db, _ = cli_log
    seq, digest = AuditLog(db).head()
    _delete_last(3)(db)
    result = runner.invoke(app, ["audit", "verify", "--anchor", f"{seq}:{digest}"])
    assert result.exit_code == 1
    assert "entries were deleted" in result.output


def test_cli_verify_checks_the_anchor_file(cli_log: tuple[Database, Path]) -> None:
    db, anchors = cli_log
    assert runner.invoke(app, ["audit", "head", "--append"]).exit_code == 0
    _delete_face_searches_rechain_and_renumber(db)
    filled(db, 5)  # the log grows past the anchor again, through other entries
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 12 has hash" in result.output and "the log was rewritten" in result.output
    assert str(anchors) in result.output


def test_cli_verify_of_an_untouched_log_names_the_anchors_checked(cli_log: tuple[Database, Path]) -> None:
    db, _ = cli_log
    seq, digest = AuditLog(db).head()
    assert runner.invoke(app, ["audit", "head", "--append"]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "--anchor", f"{seq} {digest}"])
    assert result.exit_code == 0, result.output
    assert "passes through 2 of 2 published anchors" in result.output


def test_cli_verify_refuses_a_malformed_anchor_with_exit_2(cli_log: tuple[Database, Path]) -> None:
    result = runner.invoke(app, ["audit", "verify", "--anchor", "twelve"])
    assert result.exit_code == 2 and "SEQ:HASH" in result.output


def test_cli_verify_reports_a_damaged_anchor_file(cli_log: tuple[Database, Path]) -> None:
    _, anchors = cli_log
    anchors.write_text('{"seq": 3, "hash": \n')
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "anchor file damaged" in result.output


def test_register_geojson_shows_the_head(cli_log: tuple[Database, Path]) -> None:
    from safecity.governance.register import AUDIT_HEAD_MEMBER, AuditHead, public_register

    db, _ = cli_log
    head = public_register([], [], AuditHead.of(db))[AUDIT_HEAD_MEMBER]
    assert isinstance(head, dict)
    assert (head["entries"], head["hash"]) == AuditLog(db).head()
    assert json.dumps(head)  # plain JSON: no personal data, nothing but count, hash and time


@pytest.mark.parametrize("path", ["/register", "/api/v1/register.html", "/api/v1/register.geojson"])
def test_every_public_register_shows_the_live_head(client: TestClient, api_db: Database, path: str) -> None:
    seq, digest = AuditLog(api_db).head()
    body = client.get(path).text
    assert digest in body and str(seq) in body
