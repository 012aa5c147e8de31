"""`safecity eval plates | faces`: accuracy of the plate reader and the face recogniser on labelled
data, as tables (and one JSON line with `--json`)."""

from __future__ import annotations

import json
from dataclasses import replace as dc_replace
from pathlib import Path
from statistics import median
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from safecity.cli.common import about, command_group, err, fail, out, settings

# The readers, the recogniser and the evaluations (onnxruntime, cv2, dlib, matplotlib) are imported
# inside the commands: `safecity --help` stays light.

eval_app = command_group("Accuracy evaluation on labelled data.")


@eval_app.command("plates")
def eval_plates(
    directories: Annotated[
        list[Path],
        typer.Argument(
            help="Folders with images and labels.csv: file,plate_text,x,y,w,h (scenes) or "
            "file,state,plate_text (crops: the image is the plate)."
        ),
    ],
    baseline: Annotated[
        bool,
        typer.Option("--baseline", help="Also run the naive reader (plain rapidocr) on the same images."),
    ] = False,
    details: Annotated[bool, typer.Option("--details", help="Also print each set's misread images.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print one JSON object as the last line of stdout.")
    ] = False,
) -> None:
    """Run the plate reader on every labelled image of each set (one thread; labels never used to read)."""
    from safecity.analytics.plates.ocr import OcrModelError
    from safecity.eval.plates import (
        details_table,
        evaluate_sets,
        load_plate_set,
        naive_reader,
        ours_reader,
        results_json,
        summary_table,
    )

    s = settings()
    sets = []
    for directory in directories:  # every folder checked before minutes of reading
        try:
            sets.append(load_plate_set(directory))
        except ValueError as exc:
            fail(about(directory, exc))
    try:
        ours = ours_reader(s.plates.model_copy(update={"ocr_threads": 1}))
        naive = naive_reader() if baseline else None
    except OcrModelError as exc:
        fail(str(exc), code=1)
    with Progress(
        TextColumn("eval {task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        tasks = [bar.add_task(p.name, total=len(p.labels)) for p in sets]
        results = evaluate_sets(
            sets,
            ours,
            naive,
            progress=lambda index, done, total: bar.update(tasks[index], completed=done, total=total),
        )
    if details:
        for result in results:
            out.print(details_table(result))
    out.print(summary_table(results))
    if as_json:
        print(json.dumps(results_json(results)))


@eval_app.command("faces")
def eval_faces(
    directory: Annotated[
        Path, typer.Argument(help="Folder of <person>/<image>.jpg with pairs.csv and identities.csv.")
    ],
    detection: Annotated[
        Path | None,
        typer.Option(
            "--detection", help="Folder of images with labels.csv (file,x,y,w,h) for detection recall."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print one JSON object as the last line of stdout.")
    ] = False,
    detector: Annotated[
        str | None, typer.Option(help="Override faces.detector for this run: hog or cnn.")
    ] = None,
    upsample: Annotated[
        int | None, typer.Option(help="Override faces.photo_upsample (the still-photo path) for this run.")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Override faces.embed_backend for this run: onnx or dlib.")
    ] = None,
    enrol: Annotated[
        int | None,
        typer.Option(help="Photos each person is enrolled from (default faces.calibration_enrol)."),
    ] = None,
    gallery_size: Annotated[
        int | None,
        typer.Option(help="Enrol only the first N people; the others' photos become strangers."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the DET curves into this PNG file.")
    ] = None,
) -> None:
    """Score the face recogniser: verification, open-set identification (DET table and the watchlist
    rule at its default), detection, speed (one thread)."""
    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.eval.face_recogniser import EvalRecogniser
    from safecity.eval.faces import evaluate_faces, load_detection_set, load_face_set, render_table

    s = settings()
    update: dict[str, object] = {"embed_threads": 1}
    if detector is not None:
        update["detector"] = detector
    if upsample is not None:
        update["photo_upsample"] = upsample
    if backend is not None:
        update["embed_backend"] = backend
    try:
        face_settings = type(s.faces).model_validate({**s.faces.model_dump(), **update})
    except ValueError as exc:
        fail(f"invalid option: {exc}")
    if enrol is not None and enrol < 1:
        fail(f"--enrol must be at least 1, got {enrol}")
    if gallery_size is not None and gallery_size < 1:
        fail(f"--gallery-size must be at least 1, got {gallery_size}")
    if plot is not None and plot.suffix.lower() != ".png":
        fail(f"--plot must name a .png file, got {plot}")
    try:
        face_set = load_face_set(directory)
        detection_set = load_detection_set(detection) if detection is not None else None
    except ValueError as exc:
        fail(str(exc))
    recogniser = EvalRecogniser(FaceAnalyser(face_settings, s.effective_model_cache_dir))
    with Progress(
        TextColumn("eval {task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        task = bar.add_task(directory.name, total=len(face_set.images))
        report = evaluate_faces(
            face_set,
            recogniser.embed,
            face_settings.match_threshold,
            detection_set,
            recogniser.detect if detection_set is not None else None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            target_fpir=face_settings.target_fpir,
            enrol=enrol if enrol is not None else face_settings.calibration_enrol,
            gallery_size=gallery_size,
            cohort_k=face_settings.cohort_k,
            cohort_weight=face_settings.cohort_weight,
        )
    if recogniser.embed_ms:
        # The embedding alone, per face: detection has its own figure (ms_detect).
        report = dc_replace(report, ms_embed=median(recogniser.embed_ms))
    out.print(render_table(report))
    out.print(
        f"detector {face_settings.detector} (photo upsample {face_settings.photo_upsample}), embedding "
        f"{face_settings.embed_backend}, flip average {face_settings.flip_average}; "
        f"{recogniser.retried} images found only by the CNN fallback"
    )
    if plot is not None and report.openset is not None:
        from safecity.eval.face_det_plot import write_det_plot

        try:
            write_det_plot(report.openset, plot)
        except ValueError as exc:
            fail(str(exc))
        out.print(f"DET plot written to {plot}")
    if as_json:
        print(json.dumps(report.to_json_dict()))
