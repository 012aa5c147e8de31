"""`safecity hotlist` and `safecity search plate` as a user drives them: output, filters, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.writer import write_batch
from safecity.types import BBox, PlateRead, new_id

runner = CliRunner()
T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("cli_data_dir")


@pytest.fixture
def reads(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    CameraStore(db).save(
        [site("site-1"), site("site-2")], [camera("cam-1"), camera("cam-2", site_id="site-2")]
    )
    plates = [
        ("BG123AB", "cam-1", 0),
        ("BG12OAB", "cam-2", 10),
        ("NS555XY", "cam-1", 20),
        ("BG123AB", "cam-2", 30),
    ]
    write_batch(
        db,
        [
            PlateRead(new_id(), cam, T0 + timedelta(minutes=m), BBox(1, 2, 120, 30), 0.9, p, p, "RS")
            for p, cam, m in plates
        ],
    )
    db.close()


REASON = "case K-1/2026 stolen vehicle"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def hotlist_add(plate: str, *extra: str) -> tuple[int, str]:
    return run("hotlist", "add", plate, "--reason", "stolen car", "--owner", "duty officer", *extra)


# ---------------------------------------------------------------- hotlist


def test_hotlist_add_then_list() -> None:
    assert hotlist_add("bg 123-ab")[0] == 0
    code, output = run("hotlist", "list", "--json")
    [entry] = json_lines(output)
    assert code == 0
    assert (entry["plate"], entry["reason"], entry["owner"], entry["status"]) == (
        "BG123AB",
        "stolen car",
        "duty officer",
        "active",
    )


def test_hotlist_add_expires_by_default_after_the_configured_days() -> None:
    hotlist_add("BG123AB")
    [entry] = json_lines(run("hotlist", "list", "--json")[1])
    expires = datetime.fromisoformat(str(entry["expires_at"]))
    assert abs(expires - datetime.now(UTC) - timedelta(days=30)) < timedelta(minutes=1)


def test_hotlist_add_with_days() -> None:
    hotlist_add("BG123AB", "--days", "2")
    [entry] = json_lines(run("hotlist", "list", "--json")[1])
    expires = datetime.fromisoformat(str(entry["expires_at"]))
    assert abs(expires - datetime.now(UTC) - timedelta(days=2)) < timedelta(minutes=1)


def test_hotlist_add_with_expiry_time() -> None:
    hotlist_add("BG123AB", "--expires", "2099-01-01T00:00:00+01:00")
    [entry] = json_lines(run("hotlist", "list", "--json")[1])
    assert entry["expires_at"] == "2098-12-31T23:00:00+00:00"


def test_hotlist_add_pattern() -> None:
    code, output = hotlist_add("BG*AB")
    assert code == 0 and "pattern BG*AB" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("BG123AB", "--expires", "2099-01-01T00:00:00"), "no UTC offset"),
        (("BG123AB", "--expires", "next week"), "not an ISO 8601 time"),
        (("BG123AB", "--expires", "2001-01-01T00:00:00+00:00"), "not in the future"),
        (("BG123AB", "--days", "0"), "--days must be at least 1"),
        (("BG123AB", "--days", "2", "--expires", "2099-01-01T00:00:00+00:00"), "not both"),
        (("*",), "needs at least 3"),
        (("BG/123",), "contains '/'"),
        (("BG123AB", "--reason", " "), "needs a reason"),
        # A search needs a reason of governance.min_reason_len (10) characters; so does an entry,
        # which makes every camera search for the plate.
        (("BG123AB", "--reason", "stolen"), "needs a reason of at least 10 characters"),
    ],
)
def test_hotlist_add_bad_input_exits_2_and_stores_nothing(args: tuple[str, ...], message: str) -> None:
    code, output = hotlist_add(*args)
    assert code == 2 and message in output
    assert json_lines(run("hotlist", "list", "--all", "--json")[1]) == []


def test_hotlist_remove_takes_the_entry_out_of_force() -> None:
    hotlist_add("BG123AB")
    [entry] = json_lines(run("hotlist", "list", "--json")[1])
    code, _ = run("hotlist", "remove", str(entry["id"]))
    assert (code, json_lines(run("hotlist", "list", "--json")[1])) == (0, [])


def test_hotlist_list_all_shows_removed_entries() -> None:
    hotlist_add("BG123AB")
    [entry] = json_lines(run("hotlist", "list", "--json")[1])
    run("hotlist", "remove", str(entry["id"]))
    [shown] = json_lines(run("hotlist", "list", "--all", "--json")[1])
    assert shown["status"] == "removed"


def test_hotlist_list_table() -> None:
    hotlist_add("BG123AB")
    code, output = run("hotlist", "list")
    assert code == 0 and "1 hotlist entry" in output and "BG123AB" in output


def test_hotlist_remove_unknown_exits_2() -> None:
    code, output = run("hotlist", "remove", "nope")
    assert code == 2 and "no hotlist entry with id 'nope'" in output


# ---------------------------------------------------------------- search


@pytest.mark.usefixtures("reads")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("BG 123-AB",), ["BG123AB", "BG123AB"]),
        (("BG*AB",), ["BG123AB", "BG12OAB", "BG123AB"]),
        (("?S5*",), ["NS555XY"]),
        (("BG123AB", "--mode", "fuzzy"), ["BG123AB", "BG123AB", "BG12OAB"]),
        (("BG123AB", "--camera", "cam-2"), ["BG123AB"]),
        (("BG*AB", "--site", "site-1"), ["BG123AB"]),
        (("BG*AB", "--since", "2026-03-02T08:35:00+01:00"), ["BG123AB", "BG12OAB"]),
        (("BG*AB", "--until", "2026-03-02T07:40:00Z"), ["BG123AB"]),
        (("BG*AB", "--limit", "1"), ["BG123AB"]),
    ],
)
def test_search_plate_json(args: tuple[str, ...], expected: list[str]) -> None:
    code, output = run("search", "plate", *args, "--json", "--reason", REASON)
    assert code == 0
    assert [row["normalised"] for row in json_lines(output)] == expected


@pytest.mark.usefixtures("reads")
def test_search_plate_json_carries_the_evidence() -> None:
    [row] = json_lines(run("search", "plate", "BG12OAB", "--json", "--reason", REASON)[1])
    assert (row["camera_id"], row["site_id"], row["timestamp"], row["match"]) == (
        "cam-2",
        "site-2",
        "2026-03-02T07:40:00+00:00",
        "exact",
    )


@pytest.mark.usefixtures("reads")
def test_search_plate_table() -> None:
    code, output = run("search", "plate", "BG123AB", "--mode", "fuzzy", "--reason", REASON)
    assert code == 0 and "3 read(s) for BG123AB (fuzzy)" in output and "one_edit" in output


@pytest.mark.usefixtures("reads")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("BG*AB", "--mode", "exact"), "only the wildcard mode"),
        (("BG123AB", "--mode", "soundex"), "--mode 'soundex'"),
        (("BG123AB", "--camera", "cam-9"), "--camera: no camera with id 'cam-9'"),
        (("BG123AB", "--site", "site-9"), "--site: no site with id 'site-9'"),
        (("BG123AB", "--since", "2026-03-02T08:00:00"), "--since 2026-03-02T08:00:00 has no UTC offset"),
        (("BG123AB", "--until", "yesterday"), "--until 'yesterday' is not an ISO 8601 time"),
        (("BG123AB", "--since", "2026-03-03T00:00Z", "--until", "2026-03-02T00:00Z"), "is not before"),
        (("BG123AB", "--limit", "0"), "--limit must be between 1 and 10000"),
        (("  ",), "empty"),
    ],
)
def test_search_plate_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    code, output = run("search", "plate", *args, "--reason", REASON)
    assert code == 2 and message in output


@pytest.mark.parametrize("reason", ["", "   ", "case 1"])
def test_search_plate_without_a_reason_exits_2_and_records_nothing(
    reads: None, tmp_path: Path, reason: str
) -> None:
    from safecity.governance.audit import AuditAction, AuditLog

    code, output = run("search", "plate", "BG123AB", "--reason", reason)
    assert code == 2 and "--reason" in output and "BG123AB" not in output
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    assert AuditLog(db).entries(AuditAction.SEARCH_PLATE) == []


def test_plate_search_is_recorded_in_the_audit_chain(reads: None, tmp_path: Path) -> None:
    from safecity.governance.audit import AuditAction, AuditLog

    code, _ = run("search", "plate", "BG123AB", "--reason", "case K-9/2026")
    assert code == 0
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    (entry,) = AuditLog(db).entries(AuditAction.SEARCH_PLATE)
    assert entry.justification == "case K-9/2026" and entry.details["query"] == "BG123AB"
    assert AuditLog(db).verify().ok


def test_hotlist_changes_are_recorded_in_the_audit_chain(tmp_path: Path) -> None:
    from safecity.governance.audit import AuditAction, AuditLog

    run("hotlist", "add", "BG123AB", "--reason", "stolen car", "--owner", "traffic police")
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    (entry,) = AuditLog(db).entries(AuditAction.HOTLIST_CHANGE)
    assert entry.justification == "stolen car" and entry.details["change"] == "added"


def test_reading_the_hotlist_is_recorded(tmp_path: Path) -> None:
    from safecity.governance.audit import AuditAction, AuditLog

    hotlist_add("BG123AB")
    assert run("hotlist", "list")[0] == 0
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    (entry,) = AuditLog(db).entries(AuditAction.VIEW_SIGHTING)
    assert entry.details["what"] == "hotlist" and entry.target
