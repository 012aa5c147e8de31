"""How long a text a user sends may be, per table column: the one table every boundary checks against.

A bounded column (``String(n)``) takes its limit from the model itself, so the checks in the
registry, the stores, the API bodies and the command line cannot drift from the schema; an
unbounded ``Text`` column gets a cap here, so nobody writes megabytes into the register or, through
a reason or a note, into the audit log. Without these checks PostgreSQL refuses an over-long value
only at INSERT time (a 500) and SQLite stores it whatever its size.

Each table is a read-only mapping from column name to the most characters it takes; only columns a
user can fill are guaranteed to be present (the others are there too, for completeness).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy import String

from safecity.store.models import (
    AlertConfirmationRow,
    AuditEntryRow,
    AuthorisationRow,
    Base,
    CameraRow,
    HotlistEntryRow,
    SiteRow,
    WatchlistEntryRow,
    WatchlistRow,
)

NOTE_MAX = 2000
"""Free text a person writes (a note, a reason, a description, a legal basis): a paragraph or two."""
URL_MAX = 2048
"""A stream URL: the length most HTTP software accepts in a URL."""
HOTLIST_REASON_MAX = 500
"""A hotlist entry's reason is shown with every alert it raises: a sentence, not a file."""
RECIPIENTS_MAX = 1000
"""Who receives a disclosure: a few names or units."""


def column_limits(model: type[Base], **text_caps: int) -> Mapping[str, int]:
    """The length of every ``String(n)`` column of `model`, plus `text_caps` for its ``Text`` columns.

    Raises ValueError when a cap names a column that is not an unbounded text column, so a cap
    cannot outlive a schema change that bounds (or renames) the column.
    """
    limits: dict[str, int] = {}
    for column in model.__table__.columns:
        if isinstance(column.type, String) and column.type.length is not None:
            limits[column.key] = column.type.length
    for name, cap in text_caps.items():
        text = model.__table__.columns.get(name)
        if text is None or not isinstance(text.type, String) or text.type.length is not None:
            raise ValueError(f"{model.__tablename__}.{name} is not an unbounded text column")
        limits[name] = cap
    return MappingProxyType(limits)


SITE = column_limits(SiteRow)
CAMERA = column_limits(CameraRow, stream_url=URL_MAX, legal_basis=NOTE_MAX)
HOTLIST_ENTRY = column_limits(HotlistEntryRow, reason=HOTLIST_REASON_MAX)
AUTHORISATION = column_limits(AuthorisationRow, note=NOTE_MAX)
WATCHLIST = column_limits(WatchlistRow, description=NOTE_MAX)
WATCHLIST_ENTRY = column_limits(WatchlistEntryRow, note=NOTE_MAX)
ALERT_CONFIRMATION = column_limits(AlertConfirmationRow, note=NOTE_MAX)
AUDIT_ENTRY = column_limits(AuditEntryRow, justification=NOTE_MAX, recipients=RECIPIENTS_MAX)
"""`justification` bounds every reason a search or an export records; `recipients` who receives one."""
ID_MAX = CAMERA["id"]
"""Camera, site and authorisation ids."""
