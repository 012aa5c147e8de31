"""Retrospective face search: a photo in, the nearest stored sightings out, and the search recorded.

Searching history for a face is identification of a person from stored biometric data, so it
needs a stated reason and leaves an entry in the audit chain (who, why, which photo by its
SHA-256, the filters, how many results) before any result is returned. Only sightings whose
vectors were kept are searchable: matches, and cameras whose policy retains vectors. A vector kept
only for matches under an authorisation that has ended (expired, refused, lapsed) is left out at
the gate's clock, even before the sweep that deletes it has run.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from safecity.analytics.faces.analyser import FaceAnalyser, FacePhotoError, read_photo
from safecity.analytics.image_header import DEFAULT_LIMITS, ImageLimits
from safecity.governance.access import AccessGate, Caller
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.store.face_index import FaceIndex
from safecity.store.face_watchlists import vectors_of_ended_matches
from safecity.types import FaceSearchHit


class FaceSearchError(ValueError):
    """A face search that may not or cannot run: no reason, unreadable photo, no face in it."""


@dataclass(frozen=True, slots=True)
class FaceSearchResult:
    hits: tuple[FaceSearchHit, ...]
    audit_seq: int
    photo_sha256: str
    searched_vectors: int


@dataclass(frozen=True, slots=True)
class FaceQuery:
    """What a caller asks of a face search: why, how many results, which cameras and when."""

    reason: str
    k: int
    camera_ids: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class FaceSearch:
    """Face searches against one index through one access gate (CLI, API and web alike)."""

    analyser: FaceAnalyser
    index: FaceIndex
    gate: AccessGate
    limits: ImageLimits = DEFAULT_LIMITS

    def photo(self, photo: Path, caller: Caller, query: FaceQuery) -> FaceSearchResult:
        """Search through the access gate: refused without `search_face` or a reason, and recorded
        with the AI Act Art. 12(3) fields of one use (start and end, the reference data searched,
        the input)."""
        gate, index = self.gate, self.index
        if len(query.reason.strip()) < gate.min_reason_len:
            raise FaceSearchError(
                f"a face search needs a reason of at least {gate.min_reason_len} characters (case, purpose)"
            )
        image = read_photo(photo, self.limits)
        digest = hashlib.sha256(photo.read_bytes()).hexdigest()
        details = {
            "input_sha256": digest,
            "k": query.k,
            "since": query.since.isoformat() if query.since else None,
            "until": query.until.isoformat() if query.until else None,
        }
        with gate.read(
            caller,
            AuditAction.SEARCH_FACE,
            Permission.SEARCH_FACE,
            justification=query.reason,
            reason_required=True,
            cameras=query.camera_ids,
            details=details,
        ) as read:
            face = self.analyser.single_face(image, gate=False, what=str(photo)).face
            assert face.embedding is not None
            index.sync()
            # An authorisation that ended since the last sweep: its matches' vectors are not searched.
            ended = vectors_of_ended_matches(read.session, read.started_at)
            hits = index.search(
                face.embedding,
                query.k,
                camera_ids=read.cameras,
                since=query.since,
                until=query.until,
                exclude_keys=ended,
            )
            read.record(
                [h.sighting_id for h in hits],
                reference="face_vectors",
                reference_vectors=len(index),
                verified_by=[],
            )
        assert read.entry is not None
        return FaceSearchResult(tuple(hits), read.entry.seq, digest, len(index))

    def upload(self, data: bytes, suffix: str, caller: Caller, query: FaceQuery) -> FaceSearchResult:
        """`photo` for an uploaded photo (API, web): the bytes go to a temporary file that is gone
        afterwards, an error names "the photo" rather than that file, and the index is saved."""
        with tempfile.NamedTemporaryFile(prefix="safecity-probe-", suffix=suffix) as probe:
            probe.write(data)
            probe.flush()
            try:
                result = self.photo(Path(probe.name), caller, query)
            except FacePhotoError as exc:
                raise FacePhotoError(str(exc).replace(probe.name, "the photo")) from exc
        self.index.save()
        return result
