"""Every page each role reaches from its navigation, in a real browser at 1366x768: it loads (no
4xx/5xx), loads nothing from another host, logs no console error, and fits the screen's width
(no sideways scrolling). With SAFECITY_SCREENSHOTS set, each page's screenshot is kept as
`tour-<role>-<page>.png` (the README's tour per role is made from them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browsing import SMALL_SCREEN, Visit
from web_names import ROLES

ROLE_PAGES = {username: role for username, role in ROLES.items() if username != "operator-2"}
DETAIL_PAGES = {
    "operator-1": ["/cameras/cam-1"],
    "investigator-1": ["/cameras/cam-1"],
    "viewer-1": ["/cameras/cam-1"],
}
"""Pages a role reaches by a click inside a page rather than from the navigation."""


def slug(path: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return name or "dashboard"


def fits_the_width(v: Visit) -> bool:
    overflow = v.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    return int(overflow) <= 1


def nav_paths(v: Visit) -> list[str]:
    return [str(a.get_attribute("href")) for a in v.page.query_selector_all("header nav a")]


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_every_page_of_a_role_loads_and_fits_a_small_screen(
    browser: Any, web_world: Any, screenshots: Path, username: str
) -> None:
    v = Visit(browser, web_world.url, viewport=SMALL_SCREEN)
    try:
        v.login(username)
        paths = nav_paths(v) + DETAIL_PAGES.get(username, [])
        assert paths, "the navigation lists no page"
        too_wide = []
        for path in paths:
            response = v.go(path)
            assert response is not None and response.status < 400, f"{path}: {response and response.status}"
            v.page.wait_for_load_state("networkidle")
            if not fits_the_width(v):
                too_wide.append(path)
            v.shot(screenshots, f"tour-{ROLE_PAGES[username]}-{slug(path)}")
        assert too_wide == [], f"wider than 1366 px: {too_wide}"
        v.clean()
    finally:
        v.close()


def test_the_public_pages_load_and_fit_a_small_screen(
    browser: Any, web_world: Any, screenshots: Path
) -> None:
    v = Visit(browser, web_world.url, viewport=SMALL_SCREEN)
    try:
        for path in ("/register", "/login"):
            response = v.go(path)
            assert response is not None and response.status == 200
            v.page.wait_for_load_state("networkidle")
            assert fits_the_width(v), f"{path} is wider than 1366 px"
            v.shot(screenshots, f"tour-public-{slug(path)}")
        v.clean()
    finally:
        v.close()
