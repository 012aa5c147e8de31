"""Errors in the product's words: a browser asking for a page gets an HTML page that says what
happened and what to do; the API and scripts keep their JSON problems; a bug is a clear 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from safecity.config import Settings
from safecity.server.app import create_app
from safecity.store.database import Database

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path)
    db = Database.open(settings.effective_database_url, settings.store)
    app = create_app(settings, db)

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug with a secret in its message: hunter2")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    db.close()


@pytest.mark.parametrize("path", ["/users", "/no/such/page", "/cameras/x/y"])
def test_a_page_that_does_not_exist_is_a_404_page_in_words(client: TestClient, path: str) -> None:
    r = client.get(path, headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in r.text and f"There is no page at {path}" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_the_api_keeps_json_problems(client: TestClient) -> None:
    r = client.get("/api/v1/no-such-endpoint", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_a_script_without_accept_html_gets_json(client: TestClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("headers", "kind"), [(HTML, "text/html"), ({}, "application/problem+json")])
def test_a_bug_is_a_clear_500_without_its_details(
    client: TestClient, headers: dict[str, str], kind: str
) -> None:
    r = client.get("/boom", headers=headers)
    assert r.status_code == 500 and r.headers["content-type"].startswith(kind)
    assert "hunter2" not in r.text and "Traceback" not in r.text
