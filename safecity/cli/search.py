"""`safecity search plate | face`: retrospective searches of stored observations.

Both run through the access gate as the user of `SAFECITY_TOKEN` (else the console): refused
without the permission or a reason, narrowed to the caller's cameras, recorded in the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safecity.cli.common import (
    EXIT_DENIED,
    access_gate,
    aware_time,
    checked_photos,
    cli_caller,
    command_group,
    face_analyser,
    fail,
    open_db,
    out,
    settings,
    shown_time,
)
from safecity.config import Settings
from safecity.governance.access import AccessDenied, ReasonRequired
from safecity.search.plates import search_plates_gated
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.database import Database
from safecity.store.plate_search import PlateQuery, PlateSearchHit, SearchMode

# The face search (onnxruntime, dlib, faiss) is imported inside `search face`: `safecity --help`
# stays light.

search_app = command_group("Retrospective search of stored observations.")


@search_app.command("plate")
def search_plate(
    query: Annotated[
        str, typer.Argument(metavar="QUERY", help="Plate (BG 123-AB) or pattern (BG*AB, ?G12?AB).")
    ],
    mode: Annotated[
        str | None,
        typer.Option(
            help="exact, wildcard or fuzzy (OCR confusions, one edit); default: wildcard if * or ? in QUERY."
        ),
    ] = None,
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Only this camera (repeatable).")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Only cameras at this site.")] = None,
    since: Annotated[str | None, typer.Option(help="Reads at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Reads before, ISO 8601 with offset.")] = None,
    limit: Annotated[int | None, typer.Option(help="Most results (default search.default_limit).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    reason: Annotated[
        str, typer.Option(help="Why (case number, purpose); required, recorded in the audit log.")
    ] = "",
) -> None:
    """Search stored plate reads, newest first (fuzzy: closest first); the search is audited."""
    s = settings()
    modes = [m.value for m in SearchMode]
    if mode is not None and mode not in modes:
        fail(f"--mode {mode!r}: choose one of {', '.join(modes)}")
    limit = limit if limit is not None else s.search.default_limit
    if not 1 <= limit <= s.search.max_limit:
        fail(f"--limit must be between 1 and {s.search.max_limit} (search.max_limit), got {limit}")
    try:
        plate_query = PlateQuery.parse(
            query,
            SearchMode(mode) if mode is not None else None,
            camera_ids=camera or (),
            site_id=site,
            since=aware_time("--since", since),
            until=aware_time("--until", until),
            limit=limit,
        )
    except ValueError as exc:
        fail(str(exc))
    db = open_db(s, reading=True)
    store = CameraStore(db)
    for camera_id in plate_query.camera_ids:
        try:
            store.get(camera_id)
        except CameraStoreError as exc:
            fail(f"--camera: {exc}")
    if site is not None and site not in {x.id for x in store.sites()}:
        fail(f"--site: no site with id {site!r}")
    hits = _gated_plate_search(db, s, plate_query, reason, query=query, mode=mode, site=site)
    if as_json:
        for h in hits:
            row = {
                "id": h.id,
                "timestamp": h.timestamp.isoformat(),
                "camera_id": h.camera_id,
                "site_id": h.site_id,
                "text": h.text,
                "normalised": h.normalised,
                "country": h.country,
                "confidence": h.confidence,
                "match": h.match.value,
                "snapshot": h.snapshot,
            }
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{len(hits)} read(s) for {plate_query.plate} ({plate_query.mode.value})")
    if len(hits) == plate_query.limit:
        table.caption = f"first {limit} shown; narrow the search or raise --limit"
    # The snapshot path is in --json; the table keeps to what fits a terminal.
    for col in ("time (UTC)", "camera", "site", "plate", "cc", "conf.", "match", "id"):
        table.add_column(col, no_wrap=col in ("time (UTC)", "plate", "id"))
    for h in hits:
        table.add_row(
            shown_time(h.timestamp),
            h.camera_id,
            h.site_id,
            h.normalised,
            h.country,
            f"{h.confidence:.2f}",
            h.match.value,
            h.id,
        )
    out.print(table)


def _gated_plate_search(
    db: Database, s: Settings, plate_query: PlateQuery, reason: str, **asked: str | None
) -> list[PlateSearchHit]:
    """Run a plate search through the access gate: refused without a reason or the permission."""
    try:
        hits = list(search_plates_gated(access_gate(db, s), cli_caller(db), plate_query, reason, asked).hits)
    except ReasonRequired as exc:
        fail(f"--reason: {exc}")
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    return hits


@search_app.command("face")
def search_face_command(
    photo: Annotated[Path, typer.Argument(help="Photo of the person sought (one face).")],
    reason: Annotated[str, typer.Option(help="Why: case number and purpose. Recorded in the audit log.")],
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Only this camera (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Sightings at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Sightings before, ISO 8601 with offset.")] = None,
    k: Annotated[int | None, typer.Option("--top", help="Results (default faces.search_default_k).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Find the stored face sightings nearest to a photo (only sightings whose vectors were kept).

    Runs as the user of SAFECITY_TOKEN (else the console); refused without `search_face` or a reason.
    """
    from safecity.analytics.faces.analyser import FacePhotoError
    from safecity.search.faces import FaceQuery, FaceSearch, FaceSearchError
    from safecity.store.face_index import FaceIndex

    s = settings()
    top = k if k is not None else s.faces.search_default_k
    if not 1 <= top <= s.search.max_limit:
        fail(f"--top must be between 1 and {s.search.max_limit}, got {top}")
    start, end = aware_time("--since", since), aware_time("--until", until)
    limits = checked_photos(s, [photo])
    db = open_db(s, reading=True)
    index = FaceIndex(
        db,
        s.effective_face_index_path,
        ivf_min_vectors=s.faces.ivf_min_vectors,
        nprobe=s.faces.nprobe,
        oversample=s.faces.search_oversample,
    )
    try:
        result = FaceSearch(face_analyser(s), index, access_gate(db, s), limits).photo(
            photo, cli_caller(db), FaceQuery(reason, top, camera or (), start, end)
        )
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    except (FacePhotoError, FaceSearchError) as exc:
        fail(str(exc))
    index.save()
    if as_json:
        for h in result.hits:
            print(
                json.dumps(
                    {
                        "sighting_id": h.sighting_id,
                        "camera_id": h.camera_id,
                        "time": h.timestamp.isoformat(),
                        "distance": round(h.distance, 4),
                        "match": h.distance <= s.faces.match_threshold,
                        "snapshot": h.snapshot,
                    }
                )
            )
        return
    table = Table(
        title=f"{len(result.hits)} nearest of {result.searched_vectors} stored face vectors "
        f"(audit entry {result.audit_seq}; match threshold {s.faces.match_threshold:g})"
    )
    for col in ("time (UTC)", "camera", "distance", "match", "sighting", "snapshot"):
        table.add_column(col)
    for h in result.hits:
        table.add_row(
            shown_time(h.timestamp),
            h.camera_id,
            f"{h.distance:.3f}",
            "yes" if h.distance <= s.faces.match_threshold else "",
            h.sighting_id,
            h.snapshot,
        )
    out.print(table)
