"""The root `safecity` app as a new user meets it: `--version`, help that names option values, a
store error as one line, and which database a read command read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from safecity import __version__
from safecity.cli.app import app

runner = CliRunner()

pytestmark = pytest.mark.usefixtures("cli_data_dir")


def _command_paths() -> list[list[str]]:
    """Every group and command under `safecity`, as the words that name it."""
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        commands = getattr(command, "commands", {})
        for name, sub in commands.items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return paths


def test_version_prints_the_version_and_exits_0() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"safecity {__version__}\n"


def test_help_names_option_values_not_python_types() -> None:
    paths = _command_paths()
    assert len(paths) > 70
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        # An option's name, then a Python type where its value's name belongs (`--camera <list[str]>`).
        assert not re.search(r"--[\w-]+(\s+-\w)?\s+<[\w\[\], ]+>", result.output), (path, result.output)
        # Nor an argument's (`directories...  <list[Path]>`).
        assert not re.search(r"<(str|int|float|bool|Path|list\[\w+\])>", result.output), (path, result.output)
    camera_list = runner.invoke(app, ["camera", "list", "--help"], env={"COLUMNS": "200"}).output
    assert re.search(r"--json\s+Print JSON lines", camera_list), "a flag takes no value"
    search_plate = runner.invoke(app, ["search", "plate", "--help"], env={"COLUMNS": "200"}).output
    assert re.search(r"--camera\s+TEXT\s+Only this camera \(repeatable\)", search_plate)
    assert re.search(r"--limit\s+INTEGER\s", search_plate)
    assert re.search(r"QUERY\s+TEXT\s+Plate", search_plate)


def _one_error_line(result: object) -> str:
    output: str = result.output  # type: ignore[attr-defined]
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert "Traceback" not in output
    return lines[0]


def test_a_database_url_the_store_refuses_is_one_line_and_exit_2() -> None:
    result = runner.invoke(
        app, ["sim", "load", "--cameras", "1", "--database-url", "mysql://city@db/safecity"]
    )
    assert result.exit_code == 2
    assert "unsupported database 'mysql'" in _one_error_line(result)


def test_an_unmigrated_database_is_one_line_and_exit_2(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL is never migrated on the fly: an empty database is refused, with the way out.
    result = runner.invoke(
        app, ["sim", "load", "--cameras", "1", "--seconds", "1", "--database-url", postgres_url]
    )
    assert result.exit_code == 2
    assert "run `safecity db upgrade`" in _one_error_line(result)
    monkeypatch.setenv("SAFECITY_DATABASE_URL", postgres_url)
    result = runner.invoke(app, ["camera", "list"])
    assert result.exit_code == 2
    assert "is at revision empty" in _one_error_line(result)


def test_a_read_command_says_which_database_it_read_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFECITY_DATA_DIR")
    first = runner.invoke(app, ["camera", "list", "--json"])
    assert first.exit_code == 0
    assert first.stdout == "", "stdout keeps to the listing (none here), the note goes to stderr"
    assert f"database: sqlite:///{tmp_path}/var/safecity.db (the default, created empty" in first.stderr
    assert "SAFECITY_DATA_DIR" in first.stderr
    again = runner.invoke(app, ["camera", "list"])
    assert f"database: sqlite:///{tmp_path}/var/safecity.db (the default;" in again.stderr
    assert "0 camera(s)" in again.stdout


def test_a_chosen_database_is_not_announced() -> None:
    result = runner.invoke(app, ["camera", "list"])
    assert result.exit_code == 0 and "database:" not in result.output
