"""`safecity faces calibrate`: measure the watchlist decision on a city's own labelled photos and
make it the rule in force (audited as a configuration change)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from safecity.cli.common import (
    audit,
    checked_photos,
    command_group,
    face_analyser,
    fail,
    open_db,
    out,
    settings,
    user_or_os_user,
)
from safecity.governance.audit import AuditAction
from safecity.watch.face_calibration import calibrate, person_folders
from safecity.watch.face_decision import METHODS, OpenSetRule

# Reading photos and the recogniser (onnxruntime, cv2, dlib) are imported inside the command:
# `safecity --help` stays light.

faces_app = command_group(
    "Face recognition measured on a city's own photos (watchlist decision calibration)."
)


@faces_app.command("calibrate")
def faces_calibrate(
    directory: Annotated[
        Path, typer.Argument(help="Labelled photos: one sub-folder per person (at least 20 people).")
    ],
    method: Annotated[
        str, typer.Option(help="Score: cohort (distance less the margin to other faces) or distance.")
    ] = "cohort",
    user: Annotated[str | None, typer.Option(help="Who calibrates (default: the OS user).")] = None,
    justification: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Measure the watchlist decision on a city's own photos and make it the rule in force.

    Every person is enrolled from up to `faces.calibration_enrol` photos and every photo of every
    other person is compared with them; the impostor scores give the table that turns
    `faces.target_fpir` into a threshold for any number of enrolled people. The photos'
    embeddings (no names, no images) are kept as the cohort. Audited as a configuration change.
    """
    from safecity.analytics.faces.analyser import FacePhotoError, read_photo
    from safecity.eval.face_recogniser import EvalRecogniser

    if method not in METHODS:
        fail(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    s = settings()
    try:
        folders = person_folders(directory)
    except ValueError as exc:
        fail(str(exc))
    limits = checked_photos(s, [p for photos in folders for p in photos])
    recogniser = EvalRecogniser(face_analyser(s))
    people = []
    skipped = 0
    for photos in folders:
        vectors = []
        for path in photos:
            try:
                vector = recogniser.embed(read_photo(path, limits))
            except FacePhotoError as exc:
                fail(str(exc))
            if vector is None:
                skipped += 1
            else:
                vectors.append(vector)
        if vectors:
            people.append(np.stack(vectors))
    f = s.faces
    try:
        result = calibrate(
            people,
            method="cohort" if method == "cohort" else "distance",
            enrol=f.calibration_enrol,
            cohort_k=f.cohort_k,
            cohort_weight=f.cohort_weight,
            source=f"{directory.name}: {len(people)} people",
        )
    except ValueError as exc:
        fail(str(exc))
    path = s.effective_face_calibration_path
    result.save(path)
    rule = OpenSetRule(result, f.target_fpir)
    db = open_db(s)
    audit(
        db,
        AuditAction.CONFIG_CHANGE,
        user=user_or_os_user(user),
        target="faces.calibration",
        justification=justification,
        details={
            "change": "face calibration written",
            "path": str(path),
            "method": result.method,
            "persons": result.persons,
            "images": result.images,
            "photos_without_face": skipped,
            "comparisons": result.table.comparisons,
            "target_fpir": f.target_fpir,
        },
    )
    table = Table(title=f"Watchlist thresholds at FPIR {f.target_fpir:g} ({result.method} score)")
    table.add_column("people enrolled", justify="right")
    table.add_column("threshold", justify="right")
    for n in (1, 10, 100, 1000, 10000):
        table.add_row(f"{n:,}", f"{rule.threshold(n):.3f}")
    out.print(table)
    out.print(
        f"calibration written to {path}: {result.persons} people, {result.images} photos "
        f"({skipped} without a usable face), {result.table.comparisons:,} impostor comparisons"
    )
