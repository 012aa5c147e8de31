"""`safecity doctor`: the only network destinations the configuration allows, and a few quick health
checks (database, models, media folder), one OK/FAIL line each; exits 1 if any check fails."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

import typer

from safecity.cli.common import settings
from safecity.config import Settings, redact_url
from safecity.governance.egress import EgressConfigError, allowed_destinations
from safecity.store.cameras import CameraStore
from safecity.store.database import Database, StoreError
from safecity.types import Camera

# The model checks import what they check inside their probes: a missing package is then a FAIL
# line rather than a crash, and the OCR module (onnxruntime, cv2) stays out of `safecity --help`.


def _check(label: str, probe: Callable[[], str]) -> bool:
    """Run one probe; print `OK label: detail` or `FAIL label: reason`. Any exception is a failure."""
    try:
        detail = probe()
    except Exception as exc:  # the doctor reports every problem instead of stopping at the first
        typer.echo(f"FAIL  {label}: {exc}")
        return False
    typer.echo(f"OK    {label}: {detail}")
    return True


def _face_models() -> str:
    from safecity.analytics.faces.model_files import face_model_files

    files = face_model_files()
    return f"dlib models in {files.resnet.parent}"


def _ocr_models() -> str:
    from safecity.analytics.plates.ocr import model_paths

    detection, recognition = model_paths()
    return f"rapidocr models {detection.name}, {recognition.name} in {detection.parent}"


def _media_writable(s: Settings) -> Callable[[], str]:
    def probe() -> str:
        media = s.effective_media_dir
        media.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".doctor-", dir=media)
        os.close(fd)
        os.unlink(name)
        return f"{media.resolve()} is writable"

    return probe


def doctor() -> None:
    """Print the network destinations the configuration allows, then check database, models, media."""
    s = settings()
    db: Database | None = None
    cameras: list[Camera] = []
    url = redact_url(s.effective_database_url)

    def reach_database() -> str:
        nonlocal db, cameras
        try:
            db = Database.open(s.effective_database_url, s.store)
        except StoreError as exc:
            raise RuntimeError(str(exc)) from None
        cameras = CameraStore(db).all()
        return f"{url} ({len(cameras)} cameras registered)"

    results = [_check("database reachable", reach_database)]
    typer.echo("")
    typer.echo("Allowed network destinations (nothing else is contacted):")
    if db is None:
        typer.echo("  (camera streams unknown: the camera register could not be read)")
    try:
        destinations = allowed_destinations(s, cameras)
    except EgressConfigError as exc:
        typer.echo(f"FAIL  destinations: {exc}")
        results.append(False)
    else:
        for destination in destinations:
            typer.echo(f"  {destination}")
        if all(d.listen for d in destinations):
            typer.echo("  (no outbound destination: SQLite database and no network camera)")
    typer.echo("")
    results.append(_check("face models present", _face_models))
    results.append(_check("plate OCR models present", _ocr_models))
    results.append(_check("media folder writable", _media_writable(s)))
    if db is not None:
        db.close()
    if not all(results):
        raise typer.Exit(1)
