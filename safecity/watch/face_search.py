"""Retrospective face search: a photo in, the nearest stored sightings out, and the search recorded.

Searching history for a face is identification of a person from stored biometric data, so it
needs a stated reason and leaves an entry in the audit chain (who, why, which photo by its
SHA-256, the filters, how many results) before any result is returned. Only sightings whose
vectors were kept are searchable: matches, and cameras whose policy retains vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from safecity.analytics.faces.analyser import FaceAnalyser, read_photo
from safecity.governance.audit import AuditAction, AuditLog
from safecity.store.face_index import FaceIndex
from safecity.types import FaceSearchHit

MIN_REASON_LEN = 10
"""A reason shorter than this ("test", "x") says nothing an auditor could check."""


class FaceSearchError(ValueError):
    """A face search that may not or cannot run: no reason, unreadable photo, no face in it."""


@dataclass(frozen=True, slots=True)
class FaceSearchResult:
    hits: tuple[FaceSearchHit, ...]
    audit_seq: int
    photo_sha256: str
    searched_vectors: int


def search_face(
    photo: Path,
    reason: str,
    *,
    analyser: FaceAnalyser,
    index: FaceIndex,
    audit: AuditLog,
    username: str,
    role: str,
    k: int,
    camera_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> FaceSearchResult:
    reason = reason.strip()
    if len(reason) < MIN_REASON_LEN:
        raise FaceSearchError(
            f"a face search needs a reason of at least {MIN_REASON_LEN} characters (case, purpose)"
        )
    image = read_photo(photo)
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    face = analyser.single_face(image, gate=False, what=str(photo)).face
    assert face.embedding is not None
    index.sync()
    hits = index.search(face.embedding, k, camera_ids=camera_ids, since=since, until=until)
    entry = audit.record(
        AuditAction.SEARCH_FACE,
        username=username,
        role=role,
        target=",".join(h.sighting_id for h in hits),
        justification=reason,
        details={
            "photo_sha256": digest,
            "k": k,
            "cameras": list(camera_ids or []),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "results": len(hits),
        },
    )
    return FaceSearchResult(tuple(hits), entry.seq, digest, len(index))
