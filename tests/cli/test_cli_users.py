"""`safecity user add|list|disable|role|token|tokens|revoke` as an administrator drives them."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.governance.audit import AuditLog
from safecity.governance.users import AuthError, LoginFailed, TokenRefused, UserAuditAction, UserStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database

runner = CliRunner()
PASSWORD = "a long enough password"


pytestmark = pytest.mark.usefixtures("cli_data_dir")


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    CameraStore(database).save([site(), site("site-2")], [camera("cam-1"), camera("cam-2", site_id="site-2")])
    return database


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def add(name: str, role: str = "operator", *extra: str) -> str:
    stdin = PASSWORD + "\n" if "--password-stdin" in extra else None
    code, output = run("user", "add", name, "--role", role, *extra, stdin=stdin)
    assert code == 0, output
    return output


def test_add_prints_a_generated_password_that_logs_in(db: Database) -> None:
    output = add("ana")
    match = re.search(r"^password: (\S+)$", output, re.MULTILINE)
    assert match is not None
    assert UserStore(db).login("ana", match.group(1)).username == "ana"


def test_add_with_password_stdin_prints_no_password(db: Database) -> None:
    code, output = run("user", "add", "ana", "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and "password:" not in output and PASSWORD not in output
    assert UserStore(db).login("ana", PASSWORD).role == "viewer"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "add", "ana", "--role", "root"), "unknown role 'root'; use one of: viewer, operator"),
        (("user", "add", "ana", "--role", "viewer", "--camera", "cam-9"), "unknown camera(s): cam-9"),
        (("user", "add", "ana", "--role", "viewer", "--site", "nowhere"), "site 'nowhere' has no"),
        (("user", "role", "nobody", "viewer"), "no user 'nobody'"),
        (("user", "disable", "nobody"), "no user 'nobody'"),
        (("user", "token", "nobody"), "no user 'nobody'"),
        (("user", "revoke", "nope"), "no token 'nope'"),
    ],
)
def test_bad_input_exits_2_with_a_message(db: Database, args: tuple[str, ...], message: str) -> None:
    code, output = run(*args)
    assert code == 2 and message in output


def test_bad_role_in_role_command_exits_2(db: Database) -> None:
    add("ana")
    code, output = run("user", "role", "ana", "superuser")
    assert code == 2 and "unknown role 'superuser'" in output


def test_adding_twice_exits_2(db: Database) -> None:
    add("ana")
    code, output = run("user", "add", "ana", "--role", "viewer")
    assert code == 2 and "already exists" in output


@pytest.mark.parametrize(
    ("extra", "cameras"),
    [
        ((), None),
        (("--camera", "cam-1"), ["cam-1"]),
        (("--site", "site-2", "--camera", "cam-1"), ["cam-1", "cam-2"]),
    ],
)
def test_list_json_shows_role_and_camera_limit(
    db: Database, extra: tuple[str, ...], cameras: list[str] | None
) -> None:
    add("ana", "investigator", *extra)
    code, output = run("user", "list", "--json")
    record = json.loads(output.splitlines()[0])
    assert code == 0
    assert (record["username"], record["role"], record["camera_ids"]) == ("ana", "investigator", cameras)


def test_list_table_names_the_users(db: Database) -> None:
    add("ana")
    add("bojan", "auditor")
    code, output = run("user", "list")
    assert code == 0 and "ana" in output and "auditor" in output and "2 user(s)" in output


def test_role_changes_the_role(db: Database) -> None:
    add("ana")
    assert run("user", "role", "ana", "auditor")[0] == 0
    assert UserStore(db).get("ana").role == "auditor"


def issue(*extra: str) -> tuple[str, str]:
    code, output = run("user", "token", "ana", "--password-stdin", *extra, stdin=PASSWORD + "\n")
    assert code == 0, output
    secret = re.search(r"^secret: (\S+)$", output, re.MULTILINE)
    token_id = re.search(r"^token (\w+) ", output, re.MULTILINE)
    assert secret is not None and token_id is not None
    return token_id.group(1), secret.group(1)


def test_token_prints_a_working_secret(db: Database) -> None:
    add("ana", "operator", "--password-stdin")
    _, secret = issue("--days", "7", "--label", "dashboard")
    assert UserStore(db).authenticate_token(secret).username == "ana"
    token = UserStore(db).tokens("ana")[0]
    assert token.label == "dashboard" and token.expires_at - token.created_at == timedelta(days=7)


def test_tokens_lists_without_secrets(db: Database) -> None:
    add("ana", "operator", "--password-stdin")
    token_id, secret = issue()
    code, output = run("user", "tokens", "ana")
    assert code == 0 and token_id in output and secret not in output


def test_revoke_refuses_the_token(db: Database) -> None:
    add("ana", "operator", "--password-stdin")
    token_id, secret = issue()
    assert run("user", "revoke", token_id)[0] == 0
    with pytest.raises(TokenRefused, match="revoked"):
        UserStore(db).authenticate_token(secret)


def test_disable_blocks_login_and_tokens(db: Database) -> None:
    run("user", "add", "ana", "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    _, secret = issue()
    assert run("user", "disable", "ana")[0] == 0
    with pytest.raises(LoginFailed, match="disabled"):
        UserStore(db).login("ana", PASSWORD)
    with pytest.raises(TokenRefused):
        UserStore(db).authenticate_token(secret)


def test_token_with_bad_lifetime_exits_2(db: Database) -> None:
    add("ana", "operator", "--password-stdin")
    code, output = run("user", "token", "ana", "--days", "0", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 2 and "lifetime" in output


def test_cli_changes_are_audited_as_the_host_user(db: Database) -> None:
    add("ana")
    run("user", "role", "ana", "viewer")
    entries = AuditLog(db).entries(UserAuditAction.USER_CHANGE)
    assert [e.details["change"] for e in entries] == ["add", "role"]
    assert all(e.username.startswith("cli:") and e.role == "host" for e in entries)


def test_token_needs_the_owners_password(db: Database) -> None:
    add("ana", "operator", "--password-stdin")
    code, output = run("user", "token", "ana", "--password-stdin", stdin="not her password\n")
    assert code == 2 and "wrong username or password" in output
    assert UserStore(db).tokens("ana") == []


def test_token_without_a_password_exits_2(db: Database) -> None:
    add("ana", "operator", "--password-stdin")
    code, output = run("user", "token", "ana")
    assert code == 2 and "password" in output


def test_unlock_clears_failed_logins_and_is_recorded(db: Database) -> None:
    add("ana", "operator", "--password-stdin")
    store = UserStore(db)
    for _ in range(6):
        with pytest.raises(AuthError):
            store.login("ana", "wrong password!", address="10.0.0.9")
    code, output = run("user", "unlock", "ana")
    assert code == 0 and "cleared 5 failed login(s) of ana" in output  # the 6th was throttled
    assert store.login("ana", PASSWORD, address="10.0.0.9").username == "ana"
    change = AuditLog(db).entries(UserAuditAction.USER_CHANGE)[-1]
    assert (change.details["change"], change.target, change.role) == ("unlock", "ana", "host")
