"""The one gate every read of personal data passes: permission, camera limits, reason, audit entry.

A caller (a logged-in user, or the local console) opens the gate for one action; the gate checks
the permission and, for searches and exports, that a reason was given; the read runs in the
gate's database session, and the audit entry for it is written in that same transaction when the
block ends. If the entry cannot be written the read's transaction is rolled back and nothing is
returned to the caller, so no personal data leaves the system unrecorded. A refusal is recorded
as well (in its own transaction, since there is no read to commit with it) and raised.

Camera limits: a caller limited to some cameras gets reads narrowed to them
(`GatedRead.cameras`); naming a camera outside the limit is refused.

The console (`Caller.console`): whoever runs `safecity` on the server can open the database
file directly, so the CLI does not pretend otherwise; it acts as the operating-system user with
the role `cli`, holds every operational permission but one, and is recorded as such. The one it
lacks is confirming a face match: a confirmation must name a person who logged in
(`SAFECITY_TOKEN`), or two confirmations could come from one shell.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from safecity.governance.audit import AuditAction, AuditEntry, AuditLog
from safecity.governance.permissions import Permission, role_can
from safecity.governance.users import User
from safecity.store.database import Database
from safecity.store.field_limits import AUDIT_ENTRY
from safecity.store.models import utcnow

CONSOLE_ROLE = "cli"
CONSOLE_PERMISSIONS = frozenset(Permission) - {Permission.CONFIRM_MATCH}
"""What the local console may do: everything but confirm a match (see the module docstring)."""
MAX_TARGETS_RECORDED = 1000
"""Ids kept in one entry's target; a larger read records the count and the first ones."""


class AccessDenied(PermissionError):
    """The caller's role or camera limits do not allow the action; it was recorded as refused."""


class ReasonRequired(ValueError):
    """A search or an export without a stated reason (or recipients) that an auditor could check."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, as the gate checks and the audit log records it."""

    username: str
    role: str
    """A `Role` value, or `CONSOLE_ROLE`."""
    camera_ids: frozenset[str] | None = None
    """Cameras the caller may read; None: every camera."""
    user_id: int | None = None
    """The account behind the caller; None for the console."""

    @staticmethod
    def of(user: User) -> Caller:
        return Caller(user.username, str(user.role), user.camera_ids, user.id)

    @staticmethod
    def console(username: str | None = None) -> Caller:
        return Caller(username or getpass.getuser(), CONSOLE_ROLE)

    @property
    def is_person(self) -> bool:
        """Whether an account (not the console) stands behind the caller."""
        return self.user_id is not None

    def can(self, permission: Permission, camera_id: str | None = None) -> bool:
        if self.role == CONSOLE_ROLE:
            allowed = permission in CONSOLE_PERMISSIONS
        else:
            allowed = role_can(self.role, permission)
        if not allowed:
            return False
        return camera_id is None or self.camera_ids is None or camera_id in self.camera_ids


@dataclass(slots=True)
class GatedRead:
    """An open gate: the session to read in, and what the audit entry will say about the read."""

    session: Session
    caller: Caller
    cameras: tuple[str, ...] | None
    """The cameras the read may cover (None: all); narrowed to the caller's limits."""
    started_at: datetime
    targets: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    entry: AuditEntry | None = None
    """The audit entry, once the gate has closed."""

    def record(self, targets: Sequence[str] = (), **details: Any) -> None:
        """Name what was read (ids, not contents) and anything else the entry should hold."""
        self.targets.extend(targets)
        self.details.update(details)

    def visible(self, camera_id: str) -> bool:
        return self.cameras is None or camera_id in self.cameras


def check_reason(justification: str, min_len: int, what: str) -> None:
    """ReasonRequired unless `justification` (stripped) has at least `min_len` characters: the one
    rule for every reason a read of personal data or a hotlist entry records."""
    if len(justification.strip()) < min_len:
        raise ReasonRequired(
            f"{what} needs a reason of at least {min_len} characters "
            "(case number, purpose); it is recorded in the audit log"
        )


class AccessGate:
    """Opens reads of personal data for callers; `clock` is injectable for tests."""

    def __init__(
        self,
        db: Database,
        *,
        min_reason_len: int = 10,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.audit = AuditLog(db)
        self.min_reason_len = min_reason_len
        self.clock = clock

    @contextmanager
    def read(
        self,
        caller: Caller,
        action: AuditAction,
        permission: Permission,
        *,
        justification: str = "",
        reason_required: bool = False,
        recipients: str = "",
        recipients_required: bool = False,
        cameras: Sequence[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> Iterator[GatedRead]:
        """Check, yield a `GatedRead`, then write the audit entry in the read's own transaction.

        `cameras` are the cameras the caller asked for (none: all it may see).
        """
        justification = justification.strip()
        recipients = recipients.strip()
        self._check(
            caller, action, permission, justification, reason_required, recipients, recipients_required
        )
        allowed = self._cameras(caller, action, permission, cameras)
        started = self.clock()
        with self.db.session() as session:
            gated = GatedRead(session, caller, allowed, started, details=dict(details or {}))
            yield gated
            ended = self.clock()
            gated.details.setdefault("cameras", list(allowed) if allowed is not None else "all")
            gated.details["started_at"] = started.isoformat()
            gated.details["ended_at"] = ended.isoformat()
            gated.details["results"] = len(gated.targets)
            gated.entry = self.audit.record(
                action,
                username=caller.username,
                role=caller.role,
                target=",".join(gated.targets[:MAX_TARGETS_RECORDED]),
                justification=justification,
                recipients=recipients,
                details=gated.details,
                session=session,
            )

    def deny(self, caller: Caller, action: AuditAction | str, why: str, **details: Any) -> AccessDenied:
        """Record a refusal and return the exception to raise.

        Raised from inside a read, the refusal is recorded once that read's transaction has been
        rolled back: the read leaves nothing, the refusal stays.
        """
        self.db.after_transaction(
            lambda: self.audit.record(
                AuditAction.ACCESS_DENIED,
                username=caller.username,
                role=caller.role,
                target=str(action),
                details={"why": why, **details},
            )
        )
        return AccessDenied(f"{caller.username} ({caller.role}) may not {action}: {why}")

    def _check(
        self,
        caller: Caller,
        action: AuditAction,
        permission: Permission,
        justification: str,
        reason_required: bool,
        recipients: str,
        recipients_required: bool,
    ) -> None:
        if not caller.can(permission):
            raise self.deny(caller, action, f"the role {caller.role} lacks {permission}")
        if reason_required:
            check_reason(justification, self.min_reason_len, str(action))
        if recipients_required and not recipients:
            raise ReasonRequired(f"{action} needs the recipients (who receives the data); it is recorded")
        # The last line of defence for every way in (API bodies cap these already, the CLI does
        # not): what a caller types must not put megabytes into the audit chain.
        for what, text, most in (
            ("reason", justification, AUDIT_ENTRY["justification"]),
            ("recipients", recipients, AUDIT_ENTRY["recipients"]),
        ):
            if len(text) > most:
                raise ReasonRequired(
                    f"{action}: the {what} must be at most {most} characters, got {len(text)}"
                )

    def _cameras(
        self, caller: Caller, action: AuditAction, permission: Permission, requested: Sequence[str]
    ) -> tuple[str, ...] | None:
        if caller.camera_ids is None:
            return tuple(requested) if requested else None
        outside = sorted(set(requested) - caller.camera_ids)
        if outside:
            raise self.deny(caller, action, f"cameras {', '.join(outside)} are outside its limits")
        return tuple(requested) if requested else tuple(sorted(caller.camera_ids))
