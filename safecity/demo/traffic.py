"""The demo's traffic part: counting lines and sections for the synthetic corridor, speeds, summary.

Owns what the demo adds for traffic: the settings a city would write for the sim's cameras
(`sim.traffic`), measuring section speeds over the stored plate reads once the clips are
analysed (storing a speeding alert per violation), the summary tables (counts per line and
direction beside the truth's passages; speeds per section) and a `safecity.toml` in the demo
folder so that `safecity traffic report` and `safecity serve` find the same configuration.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from rich.console import Console
from rich.table import Table

from safecity.analytics.traffic.statistics import mean_and_p85
from safecity.config import Settings
from safecity.sim import SimCity
from safecity.sim.scenario import Scenario
from safecity.sim.traffic import counting_cameras, sections
from safecity.store.database import Database
from safecity.store.traffic import line_crossings_between
from safecity.types import Alert
from safecity.watch.speeding import SpeedReport, measure_configured_speeds, save_speeding_alerts

CONFIG_FILE = "safecity.toml"


def with_sim_traffic(settings: Settings, scenario: Scenario) -> Settings:
    """`settings` with the sim's counting lines and sections (anything configured before is replaced)."""
    counting = settings.counting.model_copy(update={"cameras": counting_cameras(scenario)})
    traffic = settings.traffic.model_copy(update={"sections": list(sections(scenario))})
    return settings.model_copy(update={"counting": counting, "traffic": traffic})


def write_config(settings: Settings, path: Path) -> Path:
    """The demo's data folder, counting lines and sections as TOML, for the commands run after it."""
    data = {
        "data_dir": str(settings.data_dir.resolve()),
        "counting": {
            "cameras": [c.model_dump(mode="json", exclude_none=True) for c in settings.counting.cameras]
        },
        "traffic": {
            "sections": [s.model_dump(mode="json", exclude_none=True) for s in settings.traffic.sections]
        },
    }
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@dataclass(frozen=True, slots=True)
class TrafficSummary:
    report: SpeedReport
    alerts: tuple[Alert, ...]
    """Speeding alerts stored by this run."""


def measure(db: Database, settings: Settings) -> TrafficSummary:
    """Section speeds over every stored read; a speeding alert per violation."""
    _, report = measure_configured_speeds(db, settings.traffic, None, None)
    return TrafficSummary(report, tuple(save_speeding_alerts(db, report.violations)))


def print_summary(
    city: SimCity, db: Database, settings: Settings, summary: TrafficSummary, console: Console
) -> None:
    """Counts per camera, line and direction (vehicles, beside the truth's passages); speeds per section."""
    truth = city.truth()
    direction_of = {v.id: v.direction for v in truth.vehicles}
    true_passages: Counter[tuple[str, str]] = Counter(
        (p.camera, f"{direction_of[p.vehicle]}bound") for p in truth.passages
    )
    counted: Counter[tuple[str, str, str]] = Counter(
        (c.camera_id, c.line_name, c.direction)
        for c in line_crossings_between(db, None, None)
        if c.object_class == "vehicle"
    )
    counts = Table(title="Traffic counts (vehicles crossing each camera's timing line)")
    for col in ("camera", "line", "direction", "counted", "truth"):
        counts.add_column(col, justify="right" if col in ("counted", "truth") else "left")
    for cfg in settings.counting.cameras:
        for line in cfg.lines:
            for direction in (line.in_direction, line.out_direction):
                counts.add_row(
                    cfg.camera_id,
                    line.name,
                    direction,
                    str(counted[(cfg.camera_id, line.name, direction)]),
                    str(true_passages[(cfg.camera_id, direction)]),
                )
    console.print(counts)

    by_section: dict[str, list[float]] = defaultdict(list)
    violations: Counter[str] = Counter()
    for m in summary.report.measurements:
        by_section[m.section.id].append(m.speed_kmh)
        violations[m.section.id] += m.exceeds
    speeds = Table(title=f"Section speeds ({summary.report.reads} plate reads)")
    for col in ("section", "metres", "limit", "measured", "mean km/h", "p85 km/h", "speeding"):
        speeds.add_column(col, justify="left" if col == "section" else "right")
    for s in settings.traffic.sections:
        values = by_section.get(s.id, [])
        mean, p85 = mean_and_p85(values) if values else (float("nan"), float("nan"))
        speeds.add_row(
            s.id,
            f"{s.distance_m:g}" if s.distance_m is not None else "-",
            f"{s.speed_limit_kmh:g}",
            str(len(values)),
            f"{mean:.1f}" if values else "-",
            f"{p85:.1f}" if values else "-",
            str(violations[s.id]),
        )
    console.print(speeds)
