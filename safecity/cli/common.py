"""What every `safecity` command shares: the consoles, exit codes, settings, the database, times,
the caller and the access gate, audit records, and the Typer group class all groups are built on.

Conventions: bad input exits 2 with `error: ...` on stderr naming what was wrong, and nothing is
written in that case; a refusal by the access gate exits 3; unexpected failures exit 1. A database
that cannot be opened (unreachable, not migrated, a bad URL) is bad input too: `CommandGroup` turns
every `StoreError` into one line and exit 2, whichever command met it.

This module imports no command group, and nothing heavy (onnxruntime, cv2, ray, faiss, uvicorn,
av): `safecity --help` loads it. The face helpers import the face models inside the function.
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, get_args

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperArgument, TyperGroup, TyperOption

from safecity.analytics.image_header import ImageLimits, ImageRefused, check_image_file
from safecity.config import Settings, load_settings, redact_url
from safecity.governance.access import AccessDenied, AccessGate, Caller, GatedRead, ReasonRequired
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor, AuthError, UserStore
from safecity.store.authorisations import AuthorisationError, AuthorisationStore
from safecity.store.database import Database, StoreError
from safecity.types import Alert, Authorisation

if TYPE_CHECKING:
    from safecity.analytics.faces.analyser import FaceAnalyser

# Piped or logged output gets a fixed width instead of rich's 80-column fallback.
PIPED_WIDTH = 120
out = Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
err = Console(stderr=True)

EXIT_BAD_INPUT = 2
EXIT_DENIED = 3
"""Refused: the caller's role, camera limits or token do not allow the command."""

TOKEN_ENV = "SAFECITY_TOKEN"


class _State:
    config_file: Path | None = None


def use_config_file(path: Path | None) -> None:
    """The `--config` file every later `settings()` reads (None: ./safecity.toml or SAFECITY_CONFIG)."""
    _State.config_file = path


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def about(path: Path, problem: object) -> str:
    """`path: problem`, unless the problem already names the file."""
    text = str(problem)
    return text if str(path) in text else f"{path}: {text}"


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def settings() -> Settings:
    try:
        return load_settings(_State.config_file)
    except ValidationError as exc:
        fail(f"invalid configuration: {exc}")
    except ValueError as exc:
        fail(str(exc))


def open_db(s: Settings | None = None, *, reading: bool = False) -> Database:
    """The configured database (a SQLite file is created and migrated on first use).

    A command that only reads (`reading`) says on stderr which database it read when its place was
    not chosen (no `SAFECITY_DATA_DIR`, `SAFECITY_DATABASE_URL` or the same in the settings file):
    an empty listing from the wrong folder's database looks just like an empty city.
    """
    s = s or settings()
    url = s.effective_database_url
    if reading and not {"data_dir", "database_url"} & s.model_fields_set:
        file = s.data_dir / "safecity.db"
        state = "" if file.exists() else ", created empty: nothing was stored there before"
        typer.echo(
            f"database: {redact_url(f'sqlite:///{file.resolve().as_posix()}')} (the default{state}; "
            "set SAFECITY_DATA_DIR or data_dir in safecity.toml to use another)",
            err=True,
        )
    return Database.open(url, s.store)


def aware_time(option: str, value: str | None) -> datetime | None:
    """An ISO 8601 time with a UTC offset, in UTC; exits 2 naming the option otherwise."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO 8601 time; write e.g. 2026-03-02T08:30:00+01:00")
    if parsed.tzinfo is None:
        fail(f"{option} {value} has no UTC offset; write e.g. {value}+01:00")
    return parsed.astimezone(UTC)


def shown_time(value: datetime | None) -> str:
    """A time for tables: UTC to the second ("2026-03-02 07:30:00"); JSON output keeps full ISO 8601."""
    return "never" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def user_or_os_user(value: str | None) -> str:
    """The `--user` given, else the operating-system user running the command."""
    return value or getpass.getuser()


def host_actor() -> Actor:
    """Whoever runs the CLI on the host has the database in hand: recorded as `cli:<OS user>`,
    role `host` (user, camera and retention changes)."""
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a container without a passwd entry)
        who = "unknown"
    return Actor(f"cli:{who}", "host")


def audit(
    db: Database,
    action: str,
    *,
    user: str | None = None,
    target: str,
    justification: str = "",
    details: dict[str, object],
) -> None:
    """Record a CLI action in the audit chain as `user`, default the OS user, with the role `cli`
    (a login puts a person behind each action once the API exists)."""
    AuditLog(db).record(
        action,
        username=user_or_os_user(user),
        role="cli",
        target=target,
        justification=justification,
        details=details,
    )


def cli_caller(db: Database) -> Caller:
    """Who runs this command: the user whose API token is in `SAFECITY_TOKEN`, else the console.

    The console is the operating-system user with the role `cli` (see `governance.access`); a
    token puts a person with their role and camera limits behind the command.
    """
    secret = os.environ.get(TOKEN_ENV, "").strip()
    if not secret:
        return Caller.console()
    try:
        return Caller.of(UserStore(db).authenticate_token(secret))
    except AuthError as exc:
        fail(f"{TOKEN_ENV}: {exc or 'token refused'}", code=EXIT_DENIED)


def access_gate(db: Database, s: Settings) -> AccessGate:
    return AccessGate(db, min_reason_len=s.governance.min_reason_len)


@contextmanager
def gated_read(
    db: Database, s: Settings, action: AuditAction, permission: Permission, **options: Any
) -> Iterator[GatedRead]:
    """`AccessGate.read` for the command's caller; a refusal exits 3, a missing reason 2."""
    try:
        with access_gate(db, s).read(cli_caller(db), action, permission, **options) as read:
            yield read
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    except ReasonRequired as exc:
        fail(str(exc))


def print_alerts(alerts: Sequence[Alert]) -> None:
    for alert in alerts:
        out.print(f"[bold yellow]ALERT[/] {alert.timestamp.isoformat()} {alert.camera_id}: {alert.message}")


def find_authorisation(store: AuthorisationStore, ref: str, option: str = "") -> Authorisation:
    """An authorisation by id, else by reference; exits 2 naming what was not found."""
    try:
        return store.get(ref)
    except AuthorisationError:
        try:
            return store.find(ref)
        except AuthorisationError as exc:
            fail(f"{option} {ref!r}: {exc}" if option else str(exc))


def face_analyser(s: Settings) -> FaceAnalyser:
    """The face detector and embedder of the settings (loads onnxruntime and dlib: imported here)."""
    from safecity.analytics.faces.analyser import FaceAnalyser

    return FaceAnalyser(s.faces, s.effective_model_cache_dir)


def checked_photos(s: Settings, paths: list[Path]) -> ImageLimits:
    """`api.max_image_pixels` and `.max_image_side`, once every photo's header is within them: a
    photo that declares a huge image (an image bomb) exits 2 before anything decodes it."""
    limits = ImageLimits.of(s.api)
    for path in paths:
        try:
            check_image_file(path, limits)
        except ImageRefused as exc:
            fail(str(exc))
    return limits


# ---------------------------------------------------------------- the group class

_VALUE_NAMES: dict[object, str] = {
    str: "TEXT",
    int: "INTEGER",
    float: "FLOAT",
    Path: "PATH",
    datetime: "DATETIME",
}
"""What an option takes, in click's words, by its Python type."""


def _value_name(option: TyperOption | TyperArgument) -> str:
    annotation = option.type_descriptor.annotation
    element = get_args(annotation) or (annotation,)  # a repeatable option is list[X]: named by X
    return _VALUE_NAMES.get(element[0], "TEXT")


def _name_values(params: list[Any]) -> list[Any]:
    """Give each option without a metavar one: none for a flag (it takes no value), else its kind.

    Typer's help would show the Python type instead (`<bool>`, `<list[str]>`); the metavar is only
    shown, never parsed, so this changes the help and nothing else.
    """
    for param in params:
        # Typers before the type column (no `type_descriptor`) show click's names already.
        if isinstance(param, TyperOption) and param.metavar is None and hasattr(param, "type_descriptor"):
            param.metavar = "" if param.is_flag else _value_name(param)
        elif isinstance(param, TyperArgument) and hasattr(param, "type_descriptor"):
            # An argument's type column ignores its metavar in this Typer: name the kind on the instance.
            kind = _value_name(param)
            param.display_type_rich = lambda ctx, kind=kind: kind  # type: ignore[method-assign,misc]
    return params


class CommandGroup(TyperGroup):
    """The class of `safecity` and of each of its command groups (see `command_group`).

    It names option values in the help of the group and of the commands under it (TEXT, INTEGER,
    PATH; nothing for a flag), and turns a `StoreError` met by any command under it into
    `error: <message>` and exit 2, in place of a traceback.
    """

    def get_params(self, ctx: Any) -> Any:
        return _name_values(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _name_values([*command.params, command.get_help_option(ctx)])
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except StoreError as exc:
            fail(str(exc))


def command_group(help: str) -> typer.Typer:
    """A `safecity` command group: `CommandGroup` help and errors; help when called without a command."""
    return typer.Typer(help=help, no_args_is_help=True, cls=CommandGroup)
