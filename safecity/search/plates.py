"""Plate search through the access gate: the one path by which the CLI, the API and the web UI
search stored plate reads.

A plate search follows a vehicle, so it needs the `search_plate` permission and a stated reason;
the cameras are narrowed to those the caller may see; the audit entry (who, why, the query, the
hits by id) is written in the same transaction as the read. Refusals are `ReasonRequired` and
`AccessDenied` from the gate; each front end turns them into its own error form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from safecity.governance.access import AccessGate, Caller
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.store.plate_search import PlateQuery, PlateSearchHit, search_plates


@dataclass(frozen=True, slots=True)
class PlateSearchResult:
    """The hits of one gated plate search and the audit entry that records it."""

    query: PlateQuery
    hits: tuple[PlateSearchHit, ...]
    audit_seq: int


def search_plates_gated(
    gate: AccessGate,
    caller: Caller,
    query: PlateQuery,
    reason: str,
    asked: Mapping[str, str | None],
) -> PlateSearchResult:
    """Search plate reads as `caller` for `reason`; `asked` is what the caller typed (recorded as is).

    Raises ReasonRequired without a reason, AccessDenied without the permission or the cameras.
    """
    details = {
        **asked,
        "since": query.since.isoformat() if query.since else None,
        "until": query.until.isoformat() if query.until else None,
    }
    with gate.read(
        caller,
        AuditAction.SEARCH_PLATE,
        Permission.SEARCH_PLATE,
        justification=reason,
        reason_required=True,
        cameras=query.camera_ids,
        details=details,
    ) as read:
        narrowed = replace(query, camera_ids=read.cameras or ())
        hits = search_plates(gate.db, narrowed, read.session)
        read.record([h.id for h in hits])
    if read.entry is None:  # the gate writes the entry when the read closes; without it, nothing is shown
        raise RuntimeError("the access gate closed a plate search without an audit entry")
    return PlateSearchResult(query, tuple(hits), read.entry.seq)
