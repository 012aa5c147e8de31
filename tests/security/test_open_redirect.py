"""Open redirect after login (issue 16, item 8): `next` may only name a path on this server.

The login page puts `next` into the form (`data-next`), and the page's script goes there once the
password is accepted; a `next` that a browser would read as another host (`/\\evil`, `//evil`,
an encoded or whitespace-padded form of those, a scheme) must become `/`. `safe_next` is the
one function both the login page and the redirect to it use.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from safecity.config import Settings
from safecity.server.app import create_app
from safecity.server.web.redirects import safe_next
from safecity.store.database import Database

HOSTILE = [
    "/%5C127.0.0.1:8767/x",
    "/%5c127.0.0.1:8767/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "http:/evil.example",
    "HTTPS://evil.example/",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "/%255C%255Cevil.example",
    "\t//evil.example",
    " //evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/%09/evil.example",
    "/%0d%0a/evil.example",
    "/\x00/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
    "alerts",
]
GOOD = ["/", "/alerts?x=1", "/search/faces", "/cameras/cam-1", "/alerts/a1?x=%20y&z=2"]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_next_falls_back_to_the_dashboard(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", GOOD)
def test_a_local_next_is_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("redirect") / "var")
    db = Database.open(settings.effective_database_url, settings.store)
    try:
        with TestClient(create_app(settings, db)) as c:
            yield c
    finally:
        db.close()


def login_target(client: TestClient, target: str) -> str:
    """Where the login page sends the browser after the password is accepted (its `data-next`)."""
    page = client.get(f"/login?next={quote(target, safe='')}")
    assert page.status_code == 200
    found = re.search(r'data-next="([^"]*)"', page.text)
    assert found is not None
    return html.unescape(found.group(1))


@pytest.mark.parametrize("target", HOSTILE)
def test_the_login_page_sends_a_hostile_next_home(client: TestClient, target: str) -> None:
    assert login_target(client, target) == "/"


@pytest.mark.parametrize("target", GOOD)
def test_the_login_page_keeps_a_local_next(client: TestClient, target: str) -> None:
    assert login_target(client, target) == target


def test_a_page_that_needs_a_login_sends_its_own_path_as_next(client: TestClient) -> None:
    r = client.get("/search?plate=BG1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/search%3Fplate%3DBG1"
