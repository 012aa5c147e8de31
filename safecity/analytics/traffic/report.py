"""The traffic report: a self-contained HTML page of counts per line and speeds per section by the hour.

Like the public register (`governance.register`), the page makes no request to anywhere: CSS is
inline, charts are inline SVG drawn by matplotlib (Agg backend, text kept as SVG text, no XML
prolog, namespaces or metadata links), and a Content-Security-Policy meta tag forbids everything
else. Every value (section, camera and line names come from configuration) is HTML-escaped;
chart labels are escaped by matplotlib's SVG writer, with mathtext parsing off so a `$` in a name
is text.
"""

from __future__ import annotations

import html
import io
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from safecity.analytics.traffic.statistics import LineHourCount, SectionHourStats, TrafficStatistics

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@contextmanager
def _figure() -> Iterator[tuple[Figure, Axes]]:
    """A figure on the Agg canvas (no pyplot, no global figure state) with the report's settings."""
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "safecity", "text.parse_math": False, "font.size": 9.0}
    ):
        fig = Figure(figsize=(7.0, 3.2))
        FigureCanvasAgg(fig)
        yield fig, fig.add_subplot()


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #bbb; padding: 0.3rem 0.5rem; text-align: left; }
td.n { text-align: right; }
th { background: #eee; }
.chart svg { max-width: 100%; height: auto; }
"""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _days(values: Sequence[datetime]) -> list[float]:
    """Matplotlib date numbers (days since its default epoch, 1970-01-01 UTC)."""
    return [(v - _EPOCH).total_seconds() / 86400 for v in values]


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _time_axis(ax: Axes, since: datetime, until: datetime, hours: Sequence[datetime]) -> None:
    """The hour axis spans the report period (and any hour that starts before it), with labels as
    short as the span allows: times of day for hours, dates for weeks.

    Without the period a chart of one hour has one point per series, and matplotlib widens a
    single date to years around it.
    """
    start, end = min([since, *hours]), max([until, *hours])
    pad = (end - start) * 0.03  # markers on the first and last hour stay whole
    ax.set_xlim(*_days([start - pad, end + pad]))
    # matplotlib.dates has no type annotations.
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("hour (UTC)")


def _svg_of(fig: Figure, ax: Axes) -> str:
    """The figure as inline SVG: no XML prolog, DOCTYPE, metadata or namespace URLs."""
    ax.legend(loc="best")
    fig.tight_layout()
    stream = io.StringIO()
    fig.savefig(stream, format="svg", metadata={"Date": None})
    text = stream.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", text)


def counts_chart(lines: Sequence[LineHourCount], since: datetime, until: datetime) -> str:
    """Crossings per hour of [since, until), one series per camera and line (all directions and classes)."""
    totals: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for c in lines:
        totals[f"{c.camera_id} / {c.line_name}"][c.hour_start] += c.count
    with _figure() as (fig, ax):
        for name, by_hour in sorted(totals.items()):
            hours = sorted(by_hour)
            ax.plot(_days(hours), [by_hour[h] for h in hours], marker="o", label=name)
        ax.set_ylabel("crossings per hour")
        # Counts are whole numbers from zero (one constant hour would otherwise read 1.900 ... 2.100).
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _time_axis(ax, since, until, [c.hour_start for c in lines])
        return _svg_of(fig, ax)


def speed_chart(rows: Sequence[SectionHourStats], since: datetime, until: datetime) -> str:
    """Mean and 85th-percentile speed per hour of [since, until) over one section, with its limit."""
    rows = sorted(rows, key=lambda r: r.hour_start)
    hours = _days([r.hour_start for r in rows])
    with _figure() as (fig, ax):
        ax.plot(hours, [r.mean_speed_kmh for r in rows], marker="o", label="mean")
        ax.plot(hours, [r.p85_speed_kmh for r in rows], marker="s", label="85th percentile")
        ax.axhline(rows[0].speed_limit_kmh, color="#d33", linestyle="--", label="limit")
        ax.set_title(f"section {rows[0].section_id}")
        ax.set_ylabel("km/h")
        _time_axis(ax, since, until, [r.hour_start for r in rows])
        return _svg_of(fig, ax)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: frozenset[int]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="n">{e(str(v))}</td>' if i in numeric else f"<td>{e(str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def traffic_report_html(
    stats: TrafficStatistics, since: datetime, until: datetime, generated_at: datetime
) -> str:
    """The report page for [since, until): charts and tables of both statistics tables."""
    e = html.escape
    by_section: dict[str, list[SectionHourStats]] = defaultdict(list)
    for r in stats.sections:
        by_section[r.section_id].append(r)
    if stats.sections:
        speed_parts = [
            f'<h3>{e(sid)}</h3>\n<div class="chart">{speed_chart(rows, since, until)}</div>'
            for sid, rows in sorted(by_section.items())
        ]
        speed_parts.append(
            _table(
                (
                    "Section",
                    "A",
                    "B",
                    "Hour (UTC)",
                    "Measurements",
                    "Mean km/h",
                    "85th pct km/h",
                    "Limit km/h",
                    "Violations",
                ),
                [
                    (
                        r.section_id,
                        r.camera_a,
                        r.camera_b,
                        _stamp(r.hour_start),
                        r.measurements,
                        f"{r.mean_speed_kmh:.1f}",
                        f"{r.p85_speed_kmh:.1f}",
                        f"{r.speed_limit_kmh:g}",
                        r.violations,
                    )
                    for r in stats.sections
                ],
                frozenset({4, 5, 6, 7, 8}),
            )
        )
        speeds = "\n".join(speed_parts)
    else:
        speeds = "<p>No section speeds were measured in this period.</p>"
    if stats.lines:
        counts = f'<div class="chart">{counts_chart(stats.lines, since, until)}</div>\n' + _table(
            ("Camera", "Line", "Hour (UTC)", "Direction", "Class", "Count"),
            [
                (c.camera_id, c.line_name, _stamp(c.hour_start), c.direction, c.object_class, c.count)
                for c in stats.lines
            ],
            frozenset({5}),
        )
    else:
        counts = "<p>No line crossings were stored in this period.</p>"
    if stats.zones:
        zones = _table(
            ("Camera", "Zone", "Hour (UTC)", "Tracks", "Mean dwell s", "Peak inside", "Queued", "Peak queue"),
            [
                (
                    z.camera_id,
                    z.zone_name,
                    _stamp(z.hour_start),
                    z.tracks,
                    f"{z.mean_dwell_s:.1f}",
                    z.peak_occupancy,
                    z.queued,
                    z.peak_queue,
                )
                for z in stats.zones
            ],
            frozenset({3, 4, 5, 6, 7}),
        )
    else:
        zones = "<p>No tracks entered a configured zone in this period.</p>"
    measured = sum(r.measurements for r in stats.sections)
    violations = sum(r.violations for r in stats.sections)
    crossings = sum(c.count for c in stats.lines)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Traffic report</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Traffic report</h1>
<p>From {e(_stamp(since))} to {e(_stamp(until))}; generated on {e(_stamp(generated_at))}.
Aggregates only: {measured} section speed measurements ({violations} above the threshold of their
section), {crossings} line crossings. The 85th percentile interpolates linearly between ranks.</p>
<h2>Speeds per section and hour</h2>
{speeds}
<h2>Counts per line and hour</h2>
{counts}
<h2>Zones: occupancy and queues per hour</h2>
<p>A track queued when it stood still inside the zone long enough (see the settings
<code>counting.queue_speed_px_s</code> and <code>counting.queue_min_s</code>).</p>
{zones}
</body>
</html>
"""
