"""`safecity audit`: a search is in the log with its reason, the chain verifies, exports verify offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("cli_data_dir")


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def db_here(tmp_path: Path) -> Database:
    return Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")


@pytest.fixture
def searched(tmp_path: Path) -> Database:
    """Three plate searches with reasons, as an investigator runs them."""
    db = db_here(tmp_path)
    CameraStore(db).save([site()], [camera("cam-1")])
    for plate in ("BG123AB", "NS456CD", "BG*AB"):
        assert cli("search", "plate", plate, "--reason", f"case K-1/2026 looking for {plate}")[0] == 0
    return db


def test_auditor_sees_the_search_and_its_reason(searched: Database) -> None:
    code, output = cli("audit", "list", "--json")
    assert code == 0
    entries = [json.loads(line) for line in output.splitlines()]
    assert [e["action"] for e in entries] == ["search_plate"] * 3
    assert entries[0]["justification"] == "case K-1/2026 looking for BG123AB"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--action", "view_audit"), []),
        (("--user", "nobody"), []),
        (("--since", "2999-01-01T00:00:00Z"), []),
        (("--until", "2000-01-01T00:00:00Z"), []),
    ],
)
def test_audit_list_filters(searched: Database, args: tuple[str, ...], expected: list[str]) -> None:
    code, output = cli("audit", "list", "--json", *args)
    assert code == 0
    assert [json.loads(line)["action"] for line in output.splitlines()] == expected


def test_reading_the_log_is_recorded(searched: Database) -> None:
    cli("audit", "list", "--action", "search_plate")
    _, output = cli("audit", "list", "--json", "--action", "view_audit")
    (entry,) = [json.loads(line) for line in output.splitlines()]
    assert entry["details"]["action"] == "search_plate" and entry["details"]["entries"] == 3


@pytest.mark.parametrize(("role", "code"), [("auditor", 0), ("admin", 0), ("investigator", 3), ("viewer", 3)])
def test_only_auditors_and_admins_read_the_log(
    searched: Database, monkeypatch: pytest.MonkeyPatch, role: str, code: int
) -> None:
    from datetime import timedelta

    from safecity.governance.users import UserStore

    users = UserStore(searched)
    users.add("someone", role, "a long enough password")
    monkeypatch.setenv("SAFECITY_TOKEN", users.issue_token("someone", timedelta(days=1)).secret)
    assert cli("audit", "list")[0] == code


def test_verify_passes_on_an_untouched_log(searched: Database) -> None:
    code, output = cli("audit", "verify")
    assert code == 0 and "3 entries, chain intact" in output


def test_verify_names_the_edited_entry(searched: Database) -> None:
    with searched.session() as session:
        row = session.get(AuditEntryRow, 2)
        assert row is not None
        row.justification = "nothing to see"
    code, output = cli("audit", "verify")
    assert code == 1 and "entry 2" in output


def test_export_verifies_offline(searched: Database, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    assert cli("audit", "export", str(out))[0] == 0
    searched.engine.dispose()
    (tmp_path / "var" / "safecity.db").unlink()  # offline: the database is gone
    code, output = cli("audit", "verify", "--file", str(out))
    assert code == 0 and "3 entries, chain intact" in output


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda lines: [*lines[:2], lines[2].replace("NS456CD", "XX000XX"), *lines[3:]], "entry 2"),
        (lambda lines: [lines[0], lines[1], lines[3]], "entries"),
        (lambda lines: [lines[0], lines[2], lines[1], lines[3]], "entry 2"),
        (lambda lines: [*lines, lines[3]], "entries"),
    ],
    ids=["edited", "deleted", "reordered", "inserted"],
)
def test_tampered_export_is_refused(searched: Database, tmp_path: Path, tamper, message: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "audit.jsonl"
    cli("audit", "export", str(out))
    lines = out.read_text().splitlines()
    out.write_text("\n".join(tamper(lines)) + "\n")
    code, output = cli("audit", "verify", "--file", str(out))
    assert code == 1 and message in output


def test_export_of_a_range_starts_from_its_first_entry(searched: Database, tmp_path: Path) -> None:
    with searched.session() as session:
        ts = [r.ts for r in session.query(AuditEntryRow).order_by(AuditEntryRow.seq)]
    out = tmp_path / "part.jsonl"
    assert cli("audit", "export", str(out), "--since", ts[1].isoformat())[0] == 0
    code, output = cli("audit", "verify", "--file", str(out))
    assert code == 0 and "2 entries" in output


def test_head_prints_the_anchor(searched: Database) -> None:
    code, output = cli("audit", "head")
    seq, digest = output.split()
    assert code == 0 and seq == "3" and len(digest) == 64


def test_verify_refuses_a_file_that_is_not_an_export(tmp_path: Path) -> None:
    bogus = tmp_path / "x.jsonl"
    bogus.write_text('{"hello": 1}\n')
    code, output = cli("audit", "verify", "--file", str(bogus))
    assert code == 2 and "not a safecity audit export" in output


def test_head_append_writes_the_anchor_file(searched: Database, tmp_path: Path) -> None:
    code, output = cli("audit", "head", "--append")
    assert code == 0
    seq, digest = output.split()
    (line,) = (tmp_path / "var" / "audit-anchors.jsonl").read_text().splitlines()
    anchor = json.loads(line)
    assert (anchor["seq"], anchor["hash"]) == (int(seq), digest) and anchor["time"]
