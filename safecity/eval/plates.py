"""Plate-reading evaluation over several labelled sets, with the naive baseline beside our reader.

Owns loading plate sets (`load_plate_set`), scoring readers on them (`evaluate_sets`,
`evaluate_plates`), and the summary table, per-image tables and JSON of `safecity eval plates`.

A set is a folder of images with `labels.csv`, one labelled plate per image; its kind follows from
the header:

* boxes set, `file,plate_text,x,y,w,h`: whole scenes, box top-left plus size;
* crops set, `file,state,plate_text`: the image is the plate (no box).

Every image is read whole, one thread, labels never used to read. The best read (first
candidate) is compared with the label, both upper-cased with non-alphanumerics removed: `exact`
when equal, `exact O=0` when equal with O and 0 taken as one character (some ground truths write
O for 0). `found`: for a boxes set the best read's box overlaps the labelled one with IoU >= 0.3,
for a crops set any read exists. `wrong text`: share of all images of a boxes set whose best read's
box does not overlap the labelled box at all (IoU == 0: a sign, a make, a dealer frame was chosen);
an image with no read is a miss, not wrong text; n/a for crops sets. Times are of the reader's
`read` alone (decoding is not counted). Unreadable or missing image files are reported per file
and count as misses for every reader.

With the baseline (`NaivePlateReader`, plain rapidocr on the whole image) each image is decoded
once and given to both readers in turn, in one process, so both see the same pixels under the
same load.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from rich.table import Table

from safecity.analytics.plates.reader import PlateReader, PlateReaderError
from safecity.config import PlateSettings
from safecity.eval.naive_plates import NaivePlateReader, plain
from safecity.types import BBox, BGRImage

LABELS_FILE = "labels.csv"
DETECT_IOU = 0.3
"""A read's box counts as finding the labelled plate at this IoU or more."""
P95 = 95
OURS = "ours"
NAIVE = "naive"

Progress = Callable[[int, int, int], None]
"""Called after each image with (index of the set in the order given, images done, images in it)."""


class SetKind(StrEnum):
    BOXES = "boxes"
    """Whole scenes with the plate's box labelled."""
    CROPS = "crops"
    """The image is the plate; no box."""


HEADERS: dict[tuple[str, ...], SetKind] = {
    ("file", "plate_text", "x", "y", "w", "h"): SetKind.BOXES,
    ("file", "state", "plate_text"): SetKind.CROPS,
}
"""The labels.csv headers understood, and the kind of set each one means."""


@dataclass(frozen=True, slots=True)
class PlateLabel:
    file: str
    text: str
    """Upper case, alphanumerics only."""
    box: BBox | None
    """The labelled plate in image pixels; None in a crops set."""
    line: int
    """Line of labels.csv (1-based, the header is line 1)."""


@dataclass(frozen=True, slots=True)
class PlateSet:
    directory: Path
    kind: SetKind
    labels: tuple[PlateLabel, ...]

    @property
    def name(self) -> str:
        """The folder's name (of its absolute path, so "." still names the folder)."""
        return self.directory.resolve().name or str(self.directory)


@dataclass(frozen=True, slots=True)
class Read:
    """One plate candidate from any reader, in the form the scoring needs."""

    text: str
    """Upper case, alphanumerics only (after the reader's own formats, if it has any)."""
    raw: str
    """What the recogniser read before any format was applied."""
    box: BBox
    confidence: float


ImageReader = Callable[[BGRImage], Sequence[Read]]
"""Reads one whole BGR image: plate candidates, best first."""


@dataclass(frozen=True, slots=True)
class PlateEvalRow:
    """One labelled image: what a reader returned first and how it compares."""

    file: str
    label: str
    read: str
    """Best reading, upper case, alphanumerics only ("" when nothing was read)."""
    raw: str
    confidence: float
    candidates: int
    exact: bool
    exact_o0: bool
    raw_exact_o0: bool
    """The best read's raw recogniser string (cleaned) equals the label, O = 0: before the formats."""
    iou: float | None
    """IoU of the best read's box with the labelled box; None in a crops set."""
    found: bool
    wrong_text: bool
    ms: float | None
    """Time of the read in milliseconds; None when the image could not be read."""
    error: str = ""


@dataclass(frozen=True, slots=True)
class PlateEvalReport:
    """One reader on one set: per-image rows and the summary."""

    name: str
    directory: Path
    kind: SetKind
    reader: str
    rows: tuple[PlateEvalRow, ...]
    n: int
    exact: float
    exact_o0: float
    raw_exact_o0: float
    found: float
    wrong_text: float | None
    """None for a crops set (there is no box to miss)."""
    ms_median: float
    ms_p95: float
    errors: int


@dataclass(frozen=True, slots=True)
class SetResult:
    """Our reader on one set and, when asked, the baseline on the same images."""

    ours: PlateEvalReport
    baseline: PlateEvalReport | None

    @property
    def exact_o0_ratio(self) -> float | None:
        """Ours over the baseline for exact O=0; None without a baseline or when it read nothing right."""
        if self.baseline is None or self.baseline.exact_o0 == 0:
            return None
        return self.ours.exact_o0 / self.baseline.exact_o0

    @property
    def ms_ratio(self) -> float | None:
        """Ours over the baseline for the median time (below 1: ours is faster)."""
        if self.baseline is None or self.baseline.ms_median == 0:
            return None
        return self.ours.ms_median / self.baseline.ms_median


# -- labels -------------------------------------------------------------------------------------------


def _expected_headers() -> str:
    return " or ".join(",".join(h) for h in HEADERS)


def load_plate_set(directory: Path) -> PlateSet:
    """The labelled set in `directory`; ValueError naming the folder, file or line that is wrong.

    Refused: a missing folder, a missing labels.csv, an unknown header, a malformed line, a
    header without rows, and a set none of whose labelled images is in the folder (one missing
    image is reported per file by the evaluation instead).
    """
    if not directory.is_dir():
        raise ValueError(f"plate evaluation folder {directory} does not exist or is not a folder")
    path = directory / LABELS_FILE
    if not path.is_file():
        raise ValueError(f"{path} is missing: expected {LABELS_FILE} with header {_expected_headers()}")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header = tuple(c.strip() for c in rows[0]) if rows else ()
    kind = HEADERS.get(header)
    if kind is None:
        found = ",".join(rows[0]) if rows else "an empty file"
        raise ValueError(f"{path} line 1: expected header {_expected_headers()}, found {found}")
    labels: list[PlateLabel] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        labels.append(_parse_row(path, number, header, row, kind))
    if not labels:
        raise ValueError(f"{path} has a header but no labelled images")
    if not any((directory / label.file).is_file() for label in labels):
        raise ValueError(
            f"{directory}: none of the {len(labels)} images named in {LABELS_FILE} is in the folder"
        )
    return PlateSet(directory, kind, tuple(labels))


def _parse_row(path: Path, number: int, header: tuple[str, ...], row: list[str], kind: SetKind) -> PlateLabel:
    if len(row) != len(header):
        raise ValueError(f"{path} line {number}: expected {len(header)} fields, got {len(row)}: {row}")
    fields = dict(zip(header, (c.strip() for c in row), strict=True))
    file, text = fields["file"], plain(fields["plate_text"])
    if not file or not text:
        raise ValueError(f"{path} line {number}: file and plate_text must not be empty")
    if kind is SetKind.CROPS:
        return PlateLabel(file, text, None, number)
    values = [fields[k] for k in ("x", "y", "w", "h")]
    try:
        x, y, w, h = (int(v) for v in values)
    except ValueError:
        raise ValueError(f"{path} line {number}: x, y, w, h must be integers, got {values}") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise ValueError(f"{path} line {number}: box must have x, y >= 0 and w, h > 0, got {values}")
    return PlateLabel(file, text, BBox(x, y, w, h), number)


def _load_image(path: Path) -> BGRImage:
    if not path.is_file():
        raise PlateReaderError(f"image file {path.name} not found")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise PlateReaderError(f"cannot decode {path.name} ({data.size} bytes): not an image or corrupt")
    return np.asarray(image, dtype=np.uint8)


# -- readers ------------------------------------------------------------------------------------------


def ours_reader(settings: PlateSettings) -> ImageReader:
    """`PlateReader(settings).read`, its candidates as `Read`s (only bbox, normalised, raw, confidence)."""
    reader = PlateReader(settings)

    def read(image: BGRImage) -> list[Read]:
        return [Read(plain(c.normalised), c.raw, c.bbox, c.confidence) for c in reader.read(image)]

    return read


def naive_reader(threads: int = 1) -> ImageReader:
    """The naive baseline (`NaivePlateReader`), its text lines as `Read`s."""
    reader = NaivePlateReader(threads)

    def read(image: BGRImage) -> list[Read]:
        return [Read(r.text, r.raw, r.box, r.confidence) for r in reader.read(image)]

    return read


# -- evaluation ---------------------------------------------------------------------------------------


def evaluate_plates(
    directories: Sequence[Path],
    settings: PlateSettings,
    *,
    baseline: bool = False,
    progress: Progress | None = None,
) -> tuple[SetResult, ...]:
    """Load every set first (so a bad folder fails before minutes of reading), then score them."""
    sets = [load_plate_set(d) for d in directories]
    return evaluate_sets(sets, ours_reader(settings), naive_reader() if baseline else None, progress=progress)


def evaluate_sets(
    sets: Sequence[PlateSet],
    ours: ImageReader,
    baseline: ImageReader | None = None,
    *,
    progress: Progress | None = None,
) -> tuple[SetResult, ...]:
    """Score `ours` (and `baseline` on the same decoded images) on each set, OpenCV on one thread."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # OpenCV's own pool; the ONNX sessions are given their thread counts
    try:
        return tuple(_evaluate_set(s, ours, baseline, _for_set(progress, i)) for i, s in enumerate(sets))
    finally:
        cv2.setNumThreads(threads)


def _for_set(progress: Progress | None, index: int) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(index, done, total)


def _evaluate_set(
    plate_set: PlateSet,
    ours: ImageReader,
    baseline: ImageReader | None,
    progress: Callable[[int, int], None] | None,
) -> SetResult:
    ours_rows: list[PlateEvalRow] = []
    base_rows: list[PlateEvalRow] = []
    total = len(plate_set.labels)
    for i, label in enumerate(plate_set.labels, start=1):
        try:
            image: BGRImage | None = _load_image(plate_set.directory / label.file)
            error = ""
        except PlateReaderError as exc:
            image, error = None, str(exc)
        ours_rows.append(_score(ours, image, label, error))
        if baseline is not None:
            base_rows.append(_score(baseline, image, label, error))
        if progress is not None:
            progress(i, total)
    return SetResult(
        _summarise(plate_set, OURS, ours_rows),
        _summarise(plate_set, NAIVE, base_rows) if baseline is not None else None,
    )


def _score(reader: ImageReader, image: BGRImage | None, label: PlateLabel, error: str) -> PlateEvalRow:
    if image is None:
        return _unread(label, error)
    try:
        start = time.perf_counter()
        found = list(reader(image))
        ms = (time.perf_counter() - start) * 1000.0
    except PlateReaderError as exc:  # an image the reader refuses (too large, ...) is a miss
        return _unread(label, str(exc))
    best = found[0] if found else None
    read = best.text if best else ""
    iou = None if label.box is None else (best.box.iou(label.box) if best else 0.0)
    return PlateEvalRow(
        file=label.file,
        label=label.text,
        read=read,
        raw=best.raw if best else "",
        confidence=best.confidence if best else 0.0,
        candidates=len(found),
        exact=read == label.text,
        exact_o0=_o0(read) == _o0(label.text),
        raw_exact_o0=best is not None and _o0(plain(best.raw)) == _o0(label.text),
        iou=iou,
        found=best is not None if iou is None else iou >= DETECT_IOU,
        wrong_text=best is not None and iou == 0.0,
        ms=ms,
    )


def _unread(label: PlateLabel, error: str) -> PlateEvalRow:
    return PlateEvalRow(
        file=label.file,
        label=label.text,
        read="",
        raw="",
        confidence=0.0,
        candidates=0,
        exact=False,
        exact_o0=False,
        raw_exact_o0=False,
        iou=None if label.box is None else 0.0,
        found=False,
        wrong_text=False,
        ms=None,
        error=error,
    )


def _o0(text: str) -> str:
    return text.replace("O", "0")


def _summarise(plate_set: PlateSet, reader: str, rows: list[PlateEvalRow]) -> PlateEvalReport:
    n = len(rows)
    times = [r.ms for r in rows if r.ms is not None]
    return PlateEvalReport(
        name=plate_set.name,
        directory=plate_set.directory,
        kind=plate_set.kind,
        reader=reader,
        rows=tuple(rows),
        n=n,
        exact=sum(r.exact for r in rows) / n,
        exact_o0=sum(r.exact_o0 for r in rows) / n,
        raw_exact_o0=sum(r.raw_exact_o0 for r in rows) / n,
        found=sum(r.found for r in rows) / n,
        wrong_text=None if plate_set.kind is SetKind.CROPS else sum(r.wrong_text for r in rows) / n,
        ms_median=statistics.median(times) if times else 0.0,
        ms_p95=float(np.percentile(times, P95)) if times else 0.0,
        errors=sum(1 for r in rows if r.error),
    )


# -- output -------------------------------------------------------------------------------------------


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def report_json(report: PlateEvalReport) -> dict[str, Any]:
    """One reader on one set: the summary and the per-image rows."""
    return {
        "set": report.name,
        "directory": str(report.directory),
        "kind": report.kind.value,
        "reader": report.reader,
        "n": report.n,
        "exact": round(report.exact, 4),
        "exact_o0": round(report.exact_o0, 4),
        "raw_exact_o0": round(report.raw_exact_o0, 4),
        "found": round(report.found, 4),
        "wrong_text": _r(report.wrong_text, 4),
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
                "candidates": r.candidates,
                "exact": r.exact,
                "exact_o0": r.exact_o0,
                "raw_exact_o0": r.raw_exact_o0,
                "iou": _r(r.iou, 3),
                "found": r.found,
                "wrong_text": r.wrong_text,
                "ms": _r(r.ms, 1),
                "error": r.error,
            }
            for r in report.rows
        ],
    }


def results_json(results: Sequence[SetResult]) -> dict[str, Any]:
    """Every set (ours, the baseline or null, the ratios) and, at the top, ours over all sets pooled.

    The pooled summary (n, exact, exact_o0, found, ms_median, ...) is over all images of all sets;
    with one set it is that set's summary.
    """
    rows = [r for s in results for r in s.ours.rows]
    pooled = _pooled(rows)
    return {
        **pooled,
        "sets": [
            {
                "set": s.ours.name,
                "directory": str(s.ours.directory),
                "kind": s.ours.kind.value,
                "ours": report_json(s.ours),
                "baseline": report_json(s.baseline) if s.baseline is not None else None,
                "ratio": {"exact_o0": _r(s.exact_o0_ratio, 3), "ms_median": _r(s.ms_ratio, 3)},
            }
            for s in results
        ],
    }


def _pooled(rows: Sequence[PlateEvalRow]) -> dict[str, Any]:
    n = len(rows)
    times = [r.ms for r in rows if r.ms is not None]
    return {
        "n": n,
        "exact": round(sum(r.exact for r in rows) / n, 4) if n else 0.0,
        "exact_o0": round(sum(r.exact_o0 for r in rows) / n, 4) if n else 0.0,
        "found": round(sum(r.found for r in rows) / n, 4) if n else 0.0,
        "ms_median": round(statistics.median(times), 1) if times else 0.0,
        "ms_p95": round(float(np.percentile(times, P95)), 1) if times else 0.0,
        "errors": sum(1 for r in rows if r.error),
    }


def _fraction(value: float, n: int) -> str:
    return f"{value:.3f} ({round(value * n)}/{n})"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def summary_table(results: Sequence[SetResult]) -> Table:
    """One row per set for ours and, with the baseline, one for the naive reader below it.

    The ratios (ours / naive, on our row) are of exact O=0 and of the median time.
    """
    baseline = any(s.baseline is not None for s in results)
    table = Table(title="Plate reading per set (one thread; best read against the label)")
    columns = ["set", "reader", "images", "exact", "exact O=0", "found", "wrong text", "ms med", "ms p95"]
    if baseline:
        columns += ["O=0 ratio", "ms ratio"]
    for name in columns:
        table.add_column(name, justify="left" if name in ("set", "reader") else "right", no_wrap=True)
    unreadable: list[str] = []
    for s in results:
        for report in (s.ours, s.baseline):
            if report is None:
                continue
            if report.errors:
                unreadable.append(f"{report.name} {report.reader}: {report.errors}")
            cells = [
                report.name,
                report.reader,
                str(report.n),
                f"{report.exact:.3f}",
                _fraction(report.exact_o0, report.n),
                f"{report.found:.3f}",
                "n/a" if report.wrong_text is None else f"{report.wrong_text:.3f}",
                f"{report.ms_median:.0f}",
                f"{report.ms_p95:.0f}",
            ]
            if baseline:
                mine = report is s.ours
                cells += [_ratio(s.exact_o0_ratio) if mine else "", _ratio(s.ms_ratio) if mine else ""]
            table.add_row(*cells)
        table.add_section()
    notes = [
        f"found: IoU >= {DETECT_IOU} with the labelled box (crops sets: any read)",
        "wrong text: best read's box does not overlap the labelled box (share of all images)",
    ]
    if baseline:
        notes.append("ratio: ours / naive (ms ratio below 1: ours is faster)")
    if unreadable:
        notes.append("[red]unreadable images (misses): " + "; ".join(unreadable) + "[/red]")
    table.caption = "\n".join(notes)
    return table


def details_table(result: SetResult) -> Table:
    """The images our reader did not read right (O = 0), with the baseline's read beside them."""
    ours, base = result.ours, result.baseline
    table = Table(title=f"Plate reading, misses: {ours.name} ({ours.directory})")
    columns = ["image", "label", "read", "raw", "conf", "IoU", "ms"] + (["naive read"] if base else [])
    for name in columns:
        table.add_column(name, justify="right" if name in ("conf", "IoU", "ms") else "left")
    naive_rows = base.rows if base is not None else (None,) * len(ours.rows)
    for r, b in zip(ours.rows, naive_rows, strict=True):
        if r.exact_o0 and not r.error:
            continue
        read = f"[red]{r.error}[/red]" if r.error else (r.read or "[dim](nothing)[/dim]")
        cells = [
            r.file,
            r.label,
            read,
            r.raw,
            f"{r.confidence:.2f}",
            "" if r.iou is None else f"{r.iou:.2f}",
            "" if r.ms is None else f"{r.ms:.0f}",
        ]
        if b is not None:
            cells.append(f"[green]{b.read}[/green]" if b.exact_o0 else (b.read or "[dim](nothing)[/dim]"))
        table.add_row(*cells)
    return table
