"""Plate-reading evaluation: the full reader on each whole labelled image, one thread, no label help.

Owns `evaluate_plates`, `PlateEvalReport` and its table and JSON forms (`safecity eval plates`).
The folder holds images and `labels.csv` with the header `file,plate_text,x,y,w,h` (text upper
case without separators, box top-left plus size, one labelled plate per image). Each image is
read whole; the best candidate is compared with the label: `exact` when its normalised text,
upper-cased with non-alphanumerics removed, equals the label, `exact_o0` when they are equal with
O and 0 taken as the same character (some ground truths write O for 0), `detected` when its box
overlaps the labelled one with IoU >= 0.3. Times are of `PlateReader.read` alone (decoding the
file is not counted). Unreadable images are reported per file and count as misses.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from rich.table import Table

from safecity.analytics.plates.reader import PlateReader, PlateReaderError
from safecity.config import PlateSettings
from safecity.types import BBox

LABELS_FILE = "labels.csv"
LABEL_COLUMNS = ("file", "plate_text", "x", "y", "w", "h")
DETECT_IOU = 0.3
"""A read's box counts as finding the labelled plate at this IoU or more."""
P95 = 95

Progress = Callable[[int, int, str], None]
"""Called after each image with (done, total, file name)."""


@dataclass(frozen=True, slots=True)
class PlateLabel:
    file: str
    text: str
    box: BBox
    line: int
    """Line of labels.csv (1-based, the header is line 1)."""


@dataclass(frozen=True, slots=True)
class PlateEvalRow:
    """One labelled image: what the reader returned first and how it compares."""

    file: str
    label: str
    read: str
    """Best reading, upper case, alphanumerics only ("" when nothing was read)."""
    raw: str
    confidence: float
    candidates: int
    exact: bool
    exact_o0: bool
    iou: float
    detected: bool
    ms: float | None
    """Time of the read in milliseconds; None when the image could not be read."""
    error: str = ""


@dataclass(frozen=True, slots=True)
class PlateEvalReport:
    """Per-image rows and the summary of one evaluation."""

    directory: Path
    rows: tuple[PlateEvalRow, ...]
    n: int
    exact: float
    exact_o0: float
    detect_recall: float
    ms_median: float
    ms_p95: float
    errors: int


def _plain(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _o0(text: str) -> str:
    return text.replace("O", "0")


def load_labels(directory: Path) -> list[PlateLabel]:
    """The labels of a plate folder; ValueError naming the folder, file or line that is wrong."""
    if not directory.is_dir():
        raise ValueError(f"plate evaluation folder {directory} does not exist or is not a folder")
    path = directory / LABELS_FILE
    if not path.is_file():
        raise ValueError(f"{path} is missing: expected {LABELS_FILE} with header {','.join(LABEL_COLUMNS)}")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows or tuple(c.strip() for c in rows[0]) != LABEL_COLUMNS:
        found = ",".join(rows[0]) if rows else "an empty file"
        raise ValueError(f"{path} line 1: expected header {','.join(LABEL_COLUMNS)}, found {found}")
    labels: list[PlateLabel] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(LABEL_COLUMNS):
            raise ValueError(
                f"{path} line {number}: expected {len(LABEL_COLUMNS)} fields, got {len(row)}: {row}"
            )
        file, text = row[0].strip(), row[1].strip()
        if not file or not text:
            raise ValueError(f"{path} line {number}: file and plate_text must not be empty")
        try:
            x, y, w, h = (int(v) for v in row[2:])
        except ValueError:
            raise ValueError(f"{path} line {number}: x, y, w, h must be integers, got {row[2:]}") from None
        if w <= 0 or h <= 0 or x < 0 or y < 0:
            raise ValueError(f"{path} line {number}: box must have x, y >= 0 and w, h > 0, got {row[2:]}")
        labels.append(PlateLabel(file, _plain(text), BBox(x, y, w, h), number))
    if not labels:
        raise ValueError(f"{path} has a header but no labelled images")
    return labels


def _load_image(path: Path) -> np.ndarray:
    if not path.is_file():
        raise PlateReaderError(f"image file {path.name} not found")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise PlateReaderError(f"cannot decode {path.name} ({data.size} bytes): not an image or corrupt")
    return np.asarray(image, dtype=np.uint8)


def evaluate_plates(
    directory: Path, settings: PlateSettings, *, progress: Progress | None = None
) -> PlateEvalReport:
    """Run the reader on every labelled image of `directory`, single-threaded, and score it."""
    labels = load_labels(directory)
    reader = PlateReader(settings)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # OpenCV's own pool; the ONNX sessions use settings.ocr_threads
    rows: list[PlateEvalRow] = []
    try:
        for i, label in enumerate(labels, start=1):
            rows.append(_evaluate_one(reader, directory, label))
            if progress is not None:
                progress(i, len(labels), label.file)
    finally:
        cv2.setNumThreads(threads)
    return _summarise(directory, rows)


def _evaluate_one(reader: PlateReader, directory: Path, label: PlateLabel) -> PlateEvalRow:
    try:
        image = _load_image(directory / label.file)
        start = time.perf_counter()
        found = reader.read(image)
        ms = (time.perf_counter() - start) * 1000.0
    except PlateReaderError as exc:
        return PlateEvalRow(label.file, label.text, "", "", 0.0, 0, False, False, 0.0, False, None, str(exc))
    best = found[0] if found else None
    read = _plain(best.normalised) if best else ""
    iou = best.bbox.iou(label.box) if best else 0.0
    return PlateEvalRow(
        file=label.file,
        label=label.text,
        read=read,
        raw=best.raw if best else "",
        confidence=best.confidence if best else 0.0,
        candidates=len(found),
        exact=read == label.text,
        exact_o0=_o0(read) == _o0(label.text),
        iou=iou,
        detected=iou >= DETECT_IOU,
        ms=ms,
    )


def _summarise(directory: Path, rows: list[PlateEvalRow]) -> PlateEvalReport:
    n = len(rows)
    times = [r.ms for r in rows if r.ms is not None]
    return PlateEvalReport(
        directory=directory,
        rows=tuple(rows),
        n=n,
        exact=sum(r.exact for r in rows) / n,
        exact_o0=sum(r.exact_o0 for r in rows) / n,
        detect_recall=sum(r.detected for r in rows) / n,
        ms_median=statistics.median(times) if times else 0.0,
        ms_p95=float(np.percentile(times, P95)) if times else 0.0,
        errors=sum(1 for r in rows if r.error),
    )


def report_json(report: PlateEvalReport) -> dict[str, Any]:
    """The summary (n, exact, exact_o0, detect_recall, ms_median, ms_p95, errors) and per-image rows."""
    return {
        "directory": str(report.directory),
        "n": report.n,
        "exact": round(report.exact, 4),
        "exact_o0": round(report.exact_o0, 4),
        "detect_recall": round(report.detect_recall, 4),
        "ms_median": round(report.ms_median, 1),
        "ms_p95": round(report.ms_p95, 1),
        "errors": report.errors,
        "images": [
            {
                "file": r.file,
                "label": r.label,
                "read": r.read,
                "raw": r.raw,
                "confidence": round(r.confidence, 4),
                "exact": r.exact,
                "exact_o0": r.exact_o0,
                "iou": round(r.iou, 3),
                "ms": None if r.ms is None else round(r.ms, 1),
                "error": r.error,
            }
            for r in report.rows
        ],
    }


def report_table(report: PlateEvalReport) -> Table:
    """A table of the misread or unreadable images followed by the summary rows."""
    table = Table(title=f"Plate reading: {report.directory}")
    for name, justify in (
        ("image", "left"),
        ("label", "left"),
        ("read", "left"),
        ("conf", "right"),
        ("IoU", "right"),
        ("ms", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in report.rows:
        if r.exact_o0 and not r.error:
            continue
        read = f"[red]{r.error}[/red]" if r.error else (r.read or "[dim](nothing)[/dim]")
        ms = "" if r.ms is None else f"{r.ms:.0f}"
        table.add_row(r.file, r.label, read, f"{r.confidence:.2f}", f"{r.iou:.2f}", ms)
    table.add_section()
    n = report.n
    table.add_row("exact", "", f"{report.exact:.3f} ({round(report.exact * n)}/{n})", "", "", "")
    table.add_row("exact, O = 0", "", f"{report.exact_o0:.3f} ({round(report.exact_o0 * n)}/{n})", "", "", "")
    table.add_row("detect recall", "", f"{report.detect_recall:.3f} (IoU >= {DETECT_IOU})", "", "", "")
    table.add_row("ms median / p95", "", f"{report.ms_median:.0f} / {report.ms_p95:.0f}", "", "", "")
    if report.errors:
        table.add_row("unreadable images", "", f"[red]{report.errors}[/red]", "", "", "")
    return table
