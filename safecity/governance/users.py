"""Users, passwords, login throttling and API tokens; every change is written to the audit log.

This module owns the accounts (`users`), the failed-login record (`login_failures`) and the API
tokens (`api_tokens`); what each role may do is `safecity.governance.permissions`.

- Passwords are hashed with argon2id (argon2-cffi); a hash made with weaker parameters than
  today's is replaced at the next successful login.
- No default credentials: `ensure_first_admin` creates the first admin with a generated password
  and returns it once (only when it created the account), for the caller to print.
- Throttling (`LoginPolicy`): failed logins are rows (username tried, client address, time) in
  the database, so every process sharing it counts the same; usernames that do not exist are
  counted too, so the throttle does not tell a guesser which accounts exist. Once an account has
  used its free failures from one address, each further attempt from there must wait a delay
  that doubles with every failure (capped); so must an address that fails on many accounts
  (password spraying), and an account failing from many addresses, with a short cap there so
  that nobody can lock its owner out. Nothing locks an account for everyone; an admin can clear
  an account's failures (`unlock`), recorded like every other change.
- The password is checked outside any transaction (argon2 takes a third of a second on
  purpose): the throttle is read first, then the result is written in a short transaction, so
  concurrent logins neither hold the database's write lock nor wait for it.
- API tokens: a random secret shown once; only its SHA-256 is stored (a stolen database yields no
  usable token; a fast hash is enough because the secret has 256 random bits). Tokens expire, can
  be revoked one by one or all of a user's at once, and disabling a user revokes theirs.
- Each change (user added, role or cameras changed, disabled, password set, token issued or
  revoked, login failed or refused) is an audit entry in the same transaction as the change.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safecity.config import GovernanceSettings
from safecity.governance.audit import AuditLog
from safecity.governance.permissions import Permission, Role, parse_role, role_can, user_can
from safecity.store.database import Database
from safecity.store.models import ApiTokenRow, CameraRow, LoginFailureRow, UserRow, utcnow
from safecity.types import new_id

__all__ = [
    "ApiToken",
    "AuthError",
    "IssuedToken",
    "LoginFailed",
    "LoginPolicy",
    "LoginThrottled",
    "Permission",
    "Role",
    "TokenRefused",
    "User",
    "UserAuditAction",
    "UserError",
    "UserStore",
    "ensure_first_admin",
    "generate_password",
    "role_can",
    "user_can",
]

MAX_USERNAME_LEN = 100
MAX_ADDRESS_LEN = 64
LAST_USED_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LEN = 12
MAX_LABEL_LEN = 200
MAX_TOKEN_TTL = timedelta(days=366)
DEFAULT_MAX_FAILURES = 5
FIRST_ADMIN = "admin"
SYSTEM = "system"
"""Username and role recorded for changes made by the system itself (the first admin)."""
TOKEN_PREFIX = "sct_"
"""Marks a string as a Safe City token, so scanners and people can recognise a leaked one."""

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")


class UserAuditAction(enum.StrEnum):
    LOGIN = "login"
    USER_CHANGE = "user_change"
    TOKEN_CHANGE = "token_change"


class UserError(ValueError):
    """A user change that cannot be made (bad name, unknown user, unknown camera, ...)."""


class OwnAccount(UserError):
    """An admin disabling or demoting their own account: another admin must do it."""


class LastAdmin(UserError):
    """A change that would leave no enabled admin: nobody could manage accounts any more."""


OWN_ACCOUNT = "you cannot disable or change the role of your own account; ask another admin"


class AuthError(Exception):
    """Credentials refused; the message is safe to show to whoever presented them."""


class LoginFailed(AuthError):
    pass


class LoginThrottled(AuthError):
    def __init__(self, username: str, until: datetime) -> None:
        super().__init__(
            f"too many failed logins for {username!r} from this address; try again after "
            f"{until.isoformat(timespec='seconds')}"
        )
        self.until = until


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How failed logins slow down further attempts (see the module docstring)."""

    free_failures: int = DEFAULT_MAX_FAILURES
    free_failures_per_address: int = 30
    free_failures_per_user: int = 30
    delay_initial: timedelta = timedelta(seconds=1)
    delay_cap: timedelta = timedelta(minutes=15)
    delay_cap_per_user: timedelta = timedelta(minutes=1)
    window: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if min(self.free_failures, self.free_failures_per_address, self.free_failures_per_user) < 1:
            raise ValueError("free failures must be at least 1")
        if min(self.delay_initial, self.delay_cap, self.delay_cap_per_user, self.window) <= timedelta(0):
            raise ValueError("login delays and window must be positive")

    @staticmethod
    def of(settings: GovernanceSettings) -> LoginPolicy:
        return LoginPolicy(
            free_failures=settings.login_free_failures,
            free_failures_per_address=settings.login_free_failures_per_address,
            free_failures_per_user=settings.login_free_failures_per_user,
            delay_initial=timedelta(seconds=settings.login_delay_initial_s),
            delay_cap=timedelta(seconds=settings.login_delay_cap_s),
            delay_cap_per_user=timedelta(seconds=settings.login_delay_cap_per_user_s),
            window=timedelta(seconds=settings.login_window_s),
        )

    def delay(self, failures: int, free: int, cap: timedelta) -> timedelta:
        """The wait after the last of `failures`: none within the free ones, then doubling, capped."""
        if failures < free:
            return timedelta(0)
        doublings = min(failures - free, 40)  # 2**40 s is past any cap
        return min(cap, self.delay_initial * (1 << doublings))

    def next_attempt(
        self, username: str, address: str, failures: Sequence[tuple[str, str, datetime]]
    ) -> datetime | None:
        """When the next attempt for (username, address) is allowed, given recent (user, address, time)
        failures oldest first; None when it is allowed now whatever the time."""
        keys = (
            (
                [f for f in failures if f[0] == username and f[1] == address],
                self.free_failures,
                self.delay_cap,
            ),
            (
                [f for f in failures if f[1] == address and address],
                self.free_failures_per_address,
                self.delay_cap,
            ),
            ([f for f in failures if f[0] == username], self.free_failures_per_user, self.delay_cap_per_user),
        )
        until: datetime | None = None
        for found, free, cap in keys:
            wait = self.delay(len(found), free, cap)
            if wait > timedelta(0):
                at = found[-1][2] + wait
                until = at if until is None or at > until else until
        return until


class TokenRefused(AuthError):
    pass


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: Role
    disabled: bool
    created_at: datetime
    camera_ids: frozenset[str] | None
    """The cameras the user may act on; None: every camera."""

    def can(self, permission: Permission | str, camera_id: str | None = None) -> bool:
        return user_can(self, permission, camera_id)


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    username: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str
    """Shown once: only its SHA-256 is stored."""


def generate_password() -> str:
    """A random password (144 bits, URL-safe characters) for new accounts."""
    return secrets.token_urlsafe(18)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        disabled=row.disabled,
        created_at=row.created_at,
        camera_ids=None if row.camera_ids is None else frozenset(str(c) for c in row.camera_ids),
    )


def _token(row: ApiTokenRow, username: str) -> ApiToken:
    return ApiToken(
        id=row.id,
        username=username,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _check_username(username: str) -> str:
    if len(username) > MAX_USERNAME_LEN or not _USERNAME.fullmatch(username):
        raise UserError(
            f"invalid username {username!r}: use up to {MAX_USERNAME_LEN} letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )
    return username


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LEN:
        raise UserError(f"password too short: use at least {MIN_PASSWORD_LEN} characters")
    return password


class _Named(Protocol):
    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, as the audit log records it."""

    username: str = SYSTEM
    role: str = SYSTEM

    @staticmethod
    def of(who: User | _Named) -> Actor:
        """The actor of a stored user or of a caller (a logged-in user or token)."""
        return Actor(who.username, str(who.role))


class UserStore:
    """Accounts, logins and tokens in one database; `clock` is injectable so tests need no sleeps."""

    def __init__(
        self,
        db: Database,
        *,
        policy: LoginPolicy | None = None,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.policy = policy or LoginPolicy()
        self.hasher = hasher or PasswordHasher()
        self.clock = clock
        self.audit = AuditLog(db)
        # Verified against when the username is unknown, so that answer takes as long as a wrong password.
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    # -- accounts ---------------------------------------------------------------------------------

    def add(
        self,
        username: str,
        role: Role | str,
        password: str,
        *,
        camera_ids: Iterable[str] | None = None,
        actor: Actor = Actor(),
    ) -> User:
        role = _role(role)
        _check_username(username)
        _check_password(password)
        with self.db.session() as session:
            cams = self._cameras(session, camera_ids)
            row = UserRow(
                username=username,
                password_hash=self.hasher.hash(password),
                role=role.value,
                disabled=False,
                created_at=self.clock(),
                camera_ids=cams,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise UserError(f"user {username!r} already exists") from None
            self._record_change(session, actor, username, "add", role=role.value, camera_ids=cams)
            return _user(row)

    def get(self, username: str) -> User:
        with self.db.session() as session:
            return _user(self._row(session, username))

    def find(self, username: str) -> User | None:
        with self.db.session() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            return None if row is None else _user(row)

    def users(self) -> list[User]:
        with self.db.session() as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def set_role(self, username: str, role: Role | str, *, actor: Actor = Actor()) -> User:
        """Change a role; `OwnAccount` for the actor's own account, `LastAdmin` for the last enabled admin."""
        role = _role(role)
        with self.db.session() as session:
            row = self._row(session, username)
            if role.value != row.role:
                self._check_admin_stays(session, actor, row, "change the role of")
            old, row.role = row.role, role.value
            self._record_change(session, actor, username, "role", old=old, new=role.value)
            return _user(row)

    def set_cameras(self, username: str, camera_ids: Iterable[str] | None, *, actor: Actor = Actor()) -> User:
        with self.db.session() as session:
            row = self._row(session, username)
            old, row.camera_ids = row.camera_ids, self._cameras(session, camera_ids)
            self._record_change(session, actor, username, "cameras", old=old, new=row.camera_ids)
            return _user(row)

    def set_password(self, username: str, password: str, *, actor: Actor = Actor()) -> None:
        _check_password(password)
        with self.db.session() as session:
            row = self._row(session, username)
            row.password_hash = self.hasher.hash(password)
            self._record_change(session, actor, username, "password")

    def disable(self, username: str, *, actor: Actor = Actor()) -> User:
        """Disable the account and revoke its tokens (one transaction: never one without the other);
        `OwnAccount` for the actor's own account, `LastAdmin` for the last enabled admin."""
        with self.db.session() as session:
            row = self._row(session, username)
            if not row.disabled:
                self._check_admin_stays(session, actor, row, "disable")
            row.disabled = True
            revoked = self._revoke_all(session, row.id)
            self._record_change(session, actor, username, "disable", tokens_revoked=revoked)
            return _user(row)

    def enable(self, username: str, *, actor: Actor = Actor()) -> User:
        with self.db.session() as session:
            row = self._row(session, username)
            row.disabled = False
            self._record_change(session, actor, username, "enable")
            return _user(row)

    # -- login ------------------------------------------------------------------------------------

    def login(self, username: str, password: str, *, address: str = "") -> User:
        """The user whose password this is; raises `LoginThrottled` or `LoginFailed` otherwise.

        `address` is the client's (an IP address; "" for the console). A refusal is raised after
        its transaction commits, so its audit entry and failure row stay.
        """
        now = self.clock()
        name = username[:MAX_USERNAME_LEN]  # the audit and failure columns hold 100 characters
        address = address[:MAX_ADDRESS_LEN]
        with self.db.read_session() as session:
            recent = self._recent_failures(session, name, address, now)
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            role = row.role if row is not None else ""
            stored_hash = row.password_hash if row is not None else None
            disabled = row.disabled if row is not None else False
        until = self.policy.next_attempt(name, address, recent)
        if until is not None and now < until:
            with self.db.session() as session:
                self._log_login(session, name, role, "throttled", address=address, until=until.isoformat())
            raise LoginThrottled(name, until)
        # Outside any transaction: slow on purpose, and an unknown name takes as long as a known one.
        right = self._verify(stored_hash if stored_hash is not None else self._dummy_hash, password)
        right = right and stored_hash is not None
        with self.db.session() as session:
            if right and disabled:
                # Not counted as a failure: the password was right; the account is switched off.
                self._log_login(session, name, role, "disabled", address=address)
                refusal: AuthError = LoginFailed(f"account {username!r} is disabled")
            elif right:
                current = session.scalars(select(UserRow).where(UserRow.username == username)).one()
                if self.hasher.check_needs_rehash(current.password_hash):
                    current.password_hash = self.hasher.hash(password)
                session.execute(
                    delete(LoginFailureRow).where(
                        LoginFailureRow.username == name, LoginFailureRow.address == address
                    )
                )
                self._log_login(session, name, role, "ok", address=address)
                return _user(current)
            else:
                session.execute(delete(LoginFailureRow).where(LoginFailureRow.ts <= now - self.policy.window))
                session.add(LoginFailureRow(username=name, address=address, ts=now))
                failures = sum(1 for u, a, _ in recent if u == name and a == address) + 1
                after = self.policy.next_attempt(name, address, [*recent, (name, address, now)])
                extra = {"next_attempt_after": after.isoformat()} if after is not None else {}
                self._log_login(session, name, role, "failed", address=address, failures=failures, **extra)
                # Same message for an unknown user and a wrong password: the answer names no account.
                refusal = LoginFailed("wrong username or password")
        raise refusal

    def unlock(self, username: str, *, actor: Actor = Actor()) -> int:
        """Forget the failed logins for `username` (every address); returns how many. Recorded."""
        name = username[:MAX_USERNAME_LEN]
        with self.db.session() as session:
            result = session.execute(delete(LoginFailureRow).where(LoginFailureRow.username == name))
            cleared = int(getattr(result, "rowcount", 0) or 0)
            self._record_change(session, actor, name, "unlock", failures_cleared=cleared)
            return cleared

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _recent_failures(
        self, session: Session, username: str, address: str, now: datetime
    ) -> list[tuple[str, str, datetime]]:
        """(username, address, time) of failures within the window for this name or this address."""
        start = now - self.policy.window
        who = LoginFailureRow.username == username
        if address:
            who = or_(who, LoginFailureRow.address == address)
        rows = session.execute(
            select(LoginFailureRow.username, LoginFailureRow.address, LoginFailureRow.ts)
            .where(who, LoginFailureRow.ts > start)
            .order_by(LoginFailureRow.ts, LoginFailureRow.id)
        )
        return [(u, a, ts) for u, a, ts in rows]

    def _log_login(self, session: Session, username: str, role: str, result: str, **details: Any) -> None:
        self.audit.record(
            UserAuditAction.LOGIN,
            username=username,
            role=role,
            details={"result": result, **details},
            session=session,
        )

    # -- API tokens -------------------------------------------------------------------------------

    def issue_token(
        self, user: User | str, ttl: timedelta, *, label: str = "", actor: Actor | None = None
    ) -> IssuedToken:
        if not timedelta(0) < ttl <= MAX_TOKEN_TTL:
            raise UserError(f"token lifetime must be positive and at most {MAX_TOKEN_TTL.days} days")
        if len(label) > MAX_LABEL_LEN:
            raise UserError(f"token label longer than {MAX_LABEL_LEN} characters")
        username = user.username if isinstance(user, User) else user
        now = self.clock()
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.session() as session:
            owner = self._row(session, username)
            if owner.disabled:
                raise UserError(f"user {username!r} is disabled")
            row = ApiTokenRow(
                id=new_id(),
                user_id=owner.id,
                token_sha256=token_digest(secret),
                created_at=now,
                expires_at=now + ttl,
                label=label,
            )
            session.add(row)
            session.flush()
            who = actor or Actor(owner.username, owner.role)
            self.audit.record(
                UserAuditAction.TOKEN_CHANGE,
                username=who.username,
                role=who.role,
                target=username,
                details={"change": "issue", "token_id": row.id, "expires_at": row.expires_at.isoformat()},
                session=session,
            )
            return IssuedToken(_token(row, username), secret)

    def authenticate_token(self, secret: str) -> User:
        """The owner of a valid token; refuses unknown, expired and revoked tokens and disabled users.

        Every request does this, so it reads without the write lock; `last_used_at` is written
        only when it is older than `LAST_USED_RESOLUTION` (a minute is precise enough for an admin
        deciding whether a token is still in use).
        """
        now = self.clock()
        digest = token_digest(secret)
        with self.db.read_session() as session:
            found = session.execute(
                select(ApiTokenRow, UserRow)
                .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                .where(ApiTokenRow.token_sha256 == digest)
            ).first()
            if found is None:
                raise TokenRefused("unknown token")
            token, owner = found
            if token.revoked_at is not None:
                raise TokenRefused("token revoked")
            if token.expires_at <= now:
                raise TokenRefused("token expired")
            if owner.disabled:
                raise TokenRefused("account disabled")
            user = _user(owner)
            stale = token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION
            token_id = token.id
        if stale:
            with self.db.session() as session:
                session.execute(
                    update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now)
                )
        return user

    def tokens(self, username: str | None = None) -> list[ApiToken]:
        query = (
            select(ApiTokenRow, UserRow.username)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        )
        if username is not None:
            query = query.where(UserRow.username == username)
        with self.db.session() as session:
            return [_token(t, name) for t, name in session.execute(query)]

    def revoke_token(self, token_id: str, *, actor: Actor = Actor()) -> ApiToken:
        with self.db.session() as session:
            found = session.execute(
                select(ApiTokenRow, UserRow.username)
                .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                .where(ApiTokenRow.id == token_id)
            ).first()
            if found is None:
                raise UserError(f"no token {token_id!r}")
            row, username = found
            if row.revoked_at is None:
                row.revoked_at = self.clock()
            self.audit.record(
                UserAuditAction.TOKEN_CHANGE,
                username=actor.username,
                role=actor.role,
                target=username,
                details={"change": "revoke", "token_id": token_id},
                session=session,
            )
            return _token(row, username)

    def revoke_secret(self, secret: str, *, actor: Actor = Actor()) -> ApiToken | None:
        """Revoke the token with this secret (a logout); None when no token has it."""
        with self.db.session() as session:
            token_id = session.scalars(
                select(ApiTokenRow.id).where(ApiTokenRow.token_sha256 == token_digest(secret))
            ).first()
        return None if token_id is None else self.revoke_token(token_id, actor=actor)

    def revoke_all(self, user: User | str, *, actor: Actor = Actor()) -> int:
        """Revoke every live token of `user` (ends all their API sessions); returns how many."""
        username = user.username if isinstance(user, User) else user
        with self.db.session() as session:
            row = self._row(session, username)
            count = self._revoke_all(session, row.id)
            self.audit.record(
                UserAuditAction.TOKEN_CHANGE,
                username=actor.username,
                role=actor.role,
                target=username,
                details={"change": "revoke_all", "revoked": count},
                session=session,
            )
            return count

    def _revoke_all(self, session: Session, user_id: int) -> int:
        result = session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=self.clock())
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # -- helpers ----------------------------------------------------------------------------------

    def _check_admin_stays(self, session: Session, actor: Actor, row: UserRow, what: str) -> None:
        """Refuse taking an account out of the admins when it is the actor's own or the last one.

        The enabled admins' rows are locked (PostgreSQL) so that two admins demoting each other at
        once cannot both pass the count."""
        if actor.username == row.username:
            raise OwnAccount(OWN_ACCOUNT)
        if row.role != Role.ADMIN.value or row.disabled:
            return
        admins = session.scalars(
            select(UserRow.id)
            .where(UserRow.role == Role.ADMIN.value, UserRow.disabled.is_(False))
            .with_for_update()
        ).all()
        if len(admins) <= 1:
            raise LastAdmin(
                f"cannot {what} {row.username!r}: it is the last enabled admin; add another admin first"
            )

    def _row(self, session: Session, username: str) -> UserRow:
        row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            raise UserError(f"no user {username!r}")
        return row

    def _cameras(self, session: Session, camera_ids: Iterable[str] | None) -> list[str] | None:
        if camera_ids is None:
            return None
        wanted = sorted(set(camera_ids))
        known = set(session.scalars(select(CameraRow.id).where(CameraRow.id.in_(wanted))))
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise UserError(f"unknown camera(s): {', '.join(unknown)}; register them first")
        return wanted

    def _record_change(
        self, session: Session, actor: Actor, target: str, change: str, **details: Any
    ) -> None:
        self.audit.record(
            UserAuditAction.USER_CHANGE,
            username=actor.username,
            role=actor.role,
            target=target,
            details={"change": change, **details},
            session=session,
        )


def _role(role: Role | str) -> Role:
    try:
        return parse_role(role)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def ensure_first_admin(db: Database, *, store: UserStore | None = None) -> str | None:
    """Create the admin account on a database that has no users; returns its password only then.

    The password is generated, never a default; the caller prints it once. Two processes starting
    together cannot both create it: the unique username lets one win and the other returns None.
    """
    store = store or UserStore(db)
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(UserRow)):
            return None
    password = generate_password()
    try:
        store.add(FIRST_ADMIN, Role.ADMIN, password)
    except UserError:
        return None
    return password
