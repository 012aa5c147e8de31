"""The same-site attack in a real browser (issue 16, items 5 and 8): chromium, the app on uvicorn.

The victim logs in on 127.0.0.1:A; the attacker's page is served from 127.0.0.1:B, another port
of the same host, so the SameSite=Strict session cookie goes with its requests. The page posts a
face search (multipart, a "simple" request that needs no CORS preflight), a web plate-search form
and opens the live WebSocket, all with the victim's cookie. Nothing may happen: no search in the
audit log, no socket opened, no message received. The same requests from the victim's own page
work (the control that shows the cookie would have been sent). The login page's `next` cannot
send the browser to port B either.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import cv2
import pytest
from argon2 import PasswordHasher
from factories import camera, site
from services import chromium

from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.types import Capability

PASSWORD = "a long enough password"
VICTIM = "investigator-1"

# The attacker's script: what a same-site page can do with the victim's cookie. `results.done`
# is set once the two posts have settled and the socket has opened, spoken or closed.
ATTACK = """() => {
const A = %(target)s;
const results = { posts: [], socket: { opened: false, messages: [], closed: null } };
window.results = results;
const bytes = Uint8Array.from(atob(%(photo)s), c => c.charCodeAt(0));
const form = new FormData();
form.append("photo", new Blob([bytes], { type: "image/jpeg" }), "face.jpg");
form.append("reason", "forged by a page on another port");
const sent = { method: "POST", credentials: "include", mode: "no-cors" };
const post = (path, body) => fetch(A + path, { ...sent, body })
  .then(r => results.posts.push(path + ": " + r.type), e => results.posts.push(path + ": " + e));
const posted = Promise.all([
  post("/api/v1/search/faces", form),
  post("/search", new URLSearchParams({ plate: "BG123AB", reason: "forged by a page on another port" })),
]);
const socket = new Promise(resolve => {
  const ws = new WebSocket(A.replace("http://", "ws://") + "/api/v1/live");
  ws.onopen = () => { results.socket.opened = true; };
  ws.onmessage = e => { results.socket.messages.push(e.data); resolve(); };
  ws.onclose = e => { results.socket.closed = e.code; resolve(); };
});
Promise.all([posted, socket]).then(() => { results.done = true; });
}"""


@dataclass(frozen=True)
class Servers:
    app: str
    """The victim's server (port A)."""
    attacker: str
    """The attacker's page server (port B)."""
    db: Database
    script: str
    """The attack as a JavaScript function (the attacker's page runs it; the control runs it on A)."""


def _photo_b64() -> str:
    ok, data = cv2.imencode(".jpg", reference_image("grace_hopper"))
    assert ok
    return base64.b64encode(bytes(data)).decode()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("csrf-browser")
    settings = Settings(data_dir=root / "var", api={"live_poll_s": 0.2, "live_cameras_s": 1.0})
    db = Database.open(settings.effective_database_url, settings.store)
    both = frozenset({Capability.PLATES, Capability.FACES, Capability.MOTION})
    CameraStore(db).save([site()], [camera("cam-1", capabilities=both)])
    # Cheap hashing: a login verifies with the parameters stored in the hash.
    UserStore(db, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)).add(
        VICTIM, Role.INVESTIGATOR, PASSWORD
    )
    app = ApiServer(create_app(settings, db), "127.0.0.1", 0).start()
    script = ATTACK % {"target": repr(app.url), "photo": repr(_photo_b64())}
    page = f"<!doctype html><html><body><script>({script})();</script></body></html>".encode()

    class Attacker(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    attacker = ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    thread = threading.Thread(target=attacker.serve_forever, daemon=True)
    thread.start()
    try:
        yield Servers(app.url, f"http://127.0.0.1:{attacker.server_address[1]}", db, script)
    finally:
        attacker.shutdown()
        attacker.server_close()
        app.close()
        db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def victim(browser: Any, servers: Servers) -> Iterator[Any]:
    """A browser context (its own cookie jar) with the victim logged in through the login page."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(servers.app + "/login")
    page.fill("input[name=username]", VICTIM)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(servers.app + "/")
    try:
        yield page
    finally:
        context.close()


def searches(db: Database) -> list[str]:
    return [
        str(e.action)
        for e in AuditLog(db).entries()
        if e.action in (AuditAction.SEARCH_FACE, AuditAction.SEARCH_PLATE)
    ]


def run_attack(page: Any, url: str, script: str | None = None) -> dict[str, Any]:
    page.goto(url)
    if script is not None:
        page.evaluate(script)
    page.wait_for_function("() => window.results && window.results.done === true")
    results: dict[str, Any] = page.evaluate("() => window.results")
    return results


def test_a_page_on_another_port_can_neither_act_nor_read_the_live_feed(victim: Any, servers: Servers) -> None:
    before = searches(servers.db)
    results = run_attack(victim, servers.attacker + "/attack.html")
    assert len(results["posts"]) == 2  # both were sent, with the cookie
    assert searches(servers.db) == before
    assert results["socket"]["opened"] is False and results["socket"]["messages"] == []
    denied = [e for e in AuditLog(servers.db).entries(AuditAction.ACCESS_DENIED) if e.username == VICTIM]
    assert {e.target for e in denied} >= {"POST /api/v1/search/faces", "POST /search"}


def test_the_same_requests_from_the_victims_own_page_work(victim: Any, servers: Servers) -> None:
    """The control: the browser does send the cookie and this server's Origin from its own pages."""
    before = searches(servers.db)
    results = run_attack(victim, servers.app + "/login", servers.script)  # the attack, run on port A
    assert len(results["posts"]) == 2
    assert sorted(searches(servers.db)[len(before) :]) == ["search_face", "search_plate"]
    assert results["socket"]["opened"] is True and results["socket"]["messages"]


@pytest.mark.parametrize("hostile", ["/\\127.0.0.1:{port}/x", "/%5C127.0.0.1:{port}/x"])
def test_the_login_does_not_follow_next_to_another_port(browser: Any, servers: Servers, hostile: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        port_b = servers.attacker.removeprefix("http://127.0.0.1:")
        page.goto(servers.app + "/login?next=" + quote(hostile.format(port=port_b), safe=""))
        page.fill("input[name=username]", VICTIM)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        page.wait_for_url(lambda url: not url.startswith(servers.app + "/login"), timeout=10_000)
        assert page.url == servers.app + "/"
    finally:
        context.close()
