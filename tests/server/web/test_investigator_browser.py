"""The investigator's tasks in a real browser (Playwright, Debian's chromium) at 1366x768: a face
search by uploading a portrait answers with face cards that enlarge; a plate search's crop
enlarges; evidence is exported from a result's alert with a reason and recipients, the ZIP
downloaded, its SHA256SUMS checked against its files and the export's audit entry found; a
confirmed face match exports with its recorded clip and faces blurred by default. No request
leaves for another host and no console error is logged on any page."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import SMALL_SCREEN, Visit
from sqlalchemy import update

from safecity.governance.access import AccessGate, Caller
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.confirmation import Decision, MatchConfirmations
from safecity.governance.users import UserStore
from safecity.sim.faces import reference_image
from safecity.store.models import FaceSightingRow
from safecity.types import BBox, context_box

REASON = "case 2026/18: request of the public prosecutor"
RECIPIENTS = "Public prosecutor's office, Belgrade"
FACE = BBox(160, 137, 216, 216)  # Grace Hopper's face in her portrait (as the web world seeds it)


@pytest.fixture(scope="module")
def world(web_world: Any) -> Any:
    """The web world with the searchable sighting's face kept as a snapshot (as the pipeline keeps
    a match's) and its face-match alert confirmed by two operators."""
    portrait = reference_image("grace_hopper")
    with web_world.db.session() as session:
        row = session.get(FaceSightingRow, web_world.sighting)
        ts = row.ts
    ref = web_world.media.save_snapshot(
        "cam-1", ts, web_world.sighting, portrait, context_box(FACE, portrait.shape, 0.6)
    )
    with web_world.db.session() as session:
        session.execute(
            update(FaceSightingRow).where(FaceSightingRow.id == web_world.sighting).values(snapshot=ref)
        )
    gate = AccessGate(web_world.db, min_reason_len=web_world.settings.governance.min_reason_len)
    users = UserStore(web_world.db)
    for name in ("operator-1", "operator-2"):
        MatchConfirmations(gate).decide(Caller.of(users.get(name)), web_world.face_alert, Decision.CONFIRM)
    return web_world


@pytest.fixture
def small(browser: Any, world: Any) -> Iterator[Visit]:
    v = Visit(browser, world.url, viewport=SMALL_SCREEN)
    yield v
    v.close()


def enlarge(v: Visit, selector: str, screenshots: Path, name: str) -> None:
    """Click the image, see it full size over the page, close it with Escape; Enter opens it too."""
    image = v.page.locator(selector).first
    image.wait_for()
    v.page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image.element_handle())
    image.click()
    box = v.page.locator("#lightbox")
    box.wait_for(state="visible")
    big = box.locator("img")
    assert str(big.get_attribute("src")).endswith(str(image.get_attribute("src")))
    shown = big.bounding_box()
    small_box = image.bounding_box()
    assert shown is not None and small_box is not None and shown["height"] > small_box["height"]
    v.shot(screenshots, name)
    v.page.keyboard.press("Escape")
    box.wait_for(state="hidden")
    assert v.page.evaluate("document.activeElement.matches('img[data-enlarge]')")
    v.page.keyboard.press("Enter")
    box.wait_for(state="visible")
    v.page.locator("#lightbox .lightbox-close").click()
    box.wait_for(state="hidden")


def sums_match(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as package:
        lines = package.read("SHA256SUMS").decode().splitlines()
        sums = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
        assert set(sums) == set(package.namelist()) - {"SHA256SUMS"}
        for name, digest in sums.items():
            assert hashlib.sha256(package.read(name)).hexdigest() == digest, name
    return sums


def export_and_download(v: Visit, world: Any, screenshots: Path, tmp_path: Path, name: str) -> dict[str, str]:
    """Fill the export form, export, download the ZIP; checks the manifest and the audit entry."""
    v.page.wait_for_selector("#export-form")
    assert v.page.locator("input[name=unblurred]:checked").count() == 0  # blurred by default
    v.shot(screenshots, f"{name}-form")
    v.page.fill("input[name=reason]", REASON)
    v.page.fill("input[name=recipients]", RECIPIENTS)
    v.page.click("#export-form button[type=submit]")
    v.page.wait_for_selector("#manifest", timeout=120_000)  # the clip is re-encoded with faces blurred
    v.shot(screenshots, f"{name}-done")
    with v.page.expect_download() as info:
        v.page.click("#download")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    sums = sums_match(path)
    shown = {
        row.locator("td.file").inner_text(): row.locator("code.sha256").inner_text()
        for row in v.page.locator("#manifest tbody tr").all()
    }
    assert shown == sums
    seq = int(v.page.locator("#audit-seq").inner_text().lstrip("#"))
    entry = next(e for e in AuditLog(world.db).entries(AuditAction.EXPORT) if e.seq == seq)
    assert (entry.username, entry.justification, entry.recipients) == ("investigator-1", REASON, RECIPIENTS)
    assert entry.hash == v.page.locator("#audit-hash").inner_text()
    return sums


def test_face_search_cards_enlarge(small: Visit, world: Any, screenshots: Path) -> None:
    v = small
    v.login("investigator-1")
    v.page.click("header nav >> text=Face search")
    v.page.wait_for_url(v.base + "/search/faces")
    v.page.set_input_files("input[name=photo]", str(world.portrait))
    v.page.fill("input[name=reason]", "case 2026/18: missing person")
    v.page.click("#face-search button[type=submit]")
    v.page.wait_for_selector("#results", timeout=60_000)  # the first search loads the face models
    card = v.page.locator(f"li.face-card[data-sighting='{world.sighting}']")
    text = card.inner_text()
    assert world.sighting not in text
    assert "Within the match threshold" in text and "Camera" in text
    assert card.locator("a", has_text="Camera at that time").count() == 1
    v.shot(screenshots, "face-search-cards")
    enlarge(
        v, f"li.face-card[data-sighting='{world.sighting}'] img[data-enlarge]", screenshots, "face-lightbox"
    )
    viewed = AuditLog(world.db).entries(AuditAction.VIEW_SIGHTING)
    assert any(e.username == "investigator-1" and e.target == world.sighting for e in viewed)
    v.clean()


def test_plate_crop_enlarges_and_its_alert_is_exported(
    small: Visit, world: Any, screenshots: Path, tmp_path: Path
) -> None:
    v = small
    v.login("investigator-1")
    v.page.click("header nav >> text=Plate search")
    v.page.fill("input[name=plate]", "BG 123-AB")
    v.page.fill("input[name=reason]", "case 2026/18: stolen vehicle")
    v.page.click("#plate-search button[type=submit]")
    v.page.wait_for_selector("#results")
    v.shot(screenshots, "plate-search-crops")
    enlarge(v, "tr.hit img.crop", screenshots, "plate-lightbox")
    v.page.click("tr.hit a.export-link")
    sums = export_and_download(v, world, screenshots, tmp_path, "export-plate")
    assert {"evidence.json", "snapshot.jpg"} <= set(sums)
    v.clean()


def test_a_confirmed_face_match_exports_its_clip_with_faces_blurred(
    small: Visit, world: Any, screenshots: Path, tmp_path: Path
) -> None:
    v = small
    v.login("investigator-1")
    v.go(f"/exports/new?alert={world.face_alert}")  # the alert page's "Export evidence" link
    sums = export_and_download(v, world, screenshots, tmp_path, "export-face")
    assert {"evidence.json", "snapshot.jpg", "clip.mp4"} <= set(sums)
    assert "reference.jpg" not in sums  # the enrolled photo only goes with a justified unblurred export
    v.clean()
