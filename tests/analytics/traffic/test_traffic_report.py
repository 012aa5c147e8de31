"""The traffic report page: self-contained (CSP, no external reference, inline SVG), every name escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from test_statistics import T0, crossing, measurement

from safecity.analytics.traffic.report import CSP, traffic_report_html
from safecity.analytics.traffic.section_speed import Section
from safecity.analytics.traffic.statistics import traffic_statistics

EVIL = '<script>alert("x")</script>'


def _page() -> str:
    section = Section(EVIL, "cam-1", "cam-2", distance_m=1000.0, speed_limit_kmh=50.0)
    ms = [measurement(v, T0 + timedelta(minutes=10 * i), section) for i, v in enumerate((45.0, 55.0, 70.0))]
    ms += [measurement(52.0, T0 + timedelta(hours=1), section)]
    crossings = [crossing(T0, line=EVIL), crossing(T0 + timedelta(hours=1), "out", line=EVIL), crossing(T0)]
    stats = traffic_statistics(ms, crossings)
    return traffic_report_html(stats, T0, T0 + timedelta(hours=2), datetime(2026, 3, 3, tzinfo=UTC))


def test_page_is_self_contained_and_escaped() -> None:
    page = _page()
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert not re.search(r"https?://", page)
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert page.count("<svg") == 2  # one speed chart (one section), one counts chart
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert "2026-03-02 07:00 UTC" in page and "2026-03-03 00:00 UTC" in page


def test_empty_statistics_still_give_a_page() -> None:
    page = traffic_report_html(traffic_statistics([], []), T0, T0 + timedelta(hours=1), T0)
    assert "No section speeds" in page and "No line crossings" in page and "<svg" not in page
