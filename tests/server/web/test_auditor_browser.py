"""The auditor's task in a real browser at 1366x768: log in, open the audit log, filter by action,
page, verify the chain (the result stays while paging), download the log and verify the file
offline; every step recorded, nothing requested from another host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browsing import SMALL_SCREEN, Visit

from safecity.governance.audit import AuditAction, AuditLog, verify_file
from safecity.store.models import AuditEntryRow

HOTLISTED = 30
"""Hotlist changes seeded: more than one page (api.audit_page_size, 25)."""


def _seed(web_world: Any) -> None:
    log = AuditLog(web_world.db)
    for i in range(HOTLISTED):
        log.record(
            AuditAction.HOTLIST_CHANGE, username="clerk", role="cli", target=f"h{i}",
            justification=f"stolen car report {i}",
            details={"change": "added", "plate": f"NS{i:03d}CD", "owner": "police"},
        )  # fmt: skip


def _view_audit(web_world: Any, what: str) -> list[AuditEntryRow]:
    with web_world.db.session() as session:
        rows = session.query(AuditEntryRow).filter(AuditEntryRow.action == AuditAction.VIEW_AUDIT.value)
        return [r for r in rows if r.details.get("what") == what and r.username == "auditor-1"]


def test_the_auditor_pages_verifies_and_exports(
    browser: Any, web_world: Any, screenshots: Path, tmp_path: Path
) -> None:
    _seed(web_world)
    v = Visit(browser, web_world.url, SMALL_SCREEN)
    try:
        v.login("auditor-1")
        v.page.click("header nav >> text=Audit log")
        v.page.wait_for_url(v.base + "/audit")
        v.page.select_option("select[name=action]", "hotlist_change")
        v.page.click("#audit-filters button[type=submit]")
        v.page.wait_for_url("**/audit?action=hotlist_change&user=&since=&until=")
        assert "Entries 1–25 of 30 matching" in v.page.locator("#audit-shown").inner_text()
        first_row = v.page.locator("table.audit tbody tr").first
        assert "Hotlist: added NS029CD (owner police)" in first_row.inner_text()
        assert "stolen car report 29" in first_row.inner_text()
        v.shot(screenshots, "auditor-audit-filtered")

        v.page.click("#page-next")
        v.page.wait_for_url("**/audit?action=hotlist_change&page=2")
        assert v.page.locator("table.audit tbody tr").count() == HOTLISTED - 25
        v.page.click("#verify")
        v.page.wait_for_url("**/audit?action=hotlist_change&page=2#last-check")
        result = v.page.locator("#verify-result")
        assert result.inner_text().startswith("Chain OK: verified")
        assert "by auditor-1" in result.inner_text()
        assert result.is_visible()
        v.shot(screenshots, "auditor-audit-verified")

        v.page.click("#page-previous")
        v.page.wait_for_url("**/audit?action=hotlist_change")
        assert v.page.locator("#verify-result").inner_text().startswith("Chain OK: verified")
        assert len(_view_audit(web_world, "verify chain")) == 1

        with v.page.expect_download() as info:
            v.page.click("#export")
        download = info.value
        assert download.suggested_filename.startswith("safecity-audit-")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        assert verify_file(saved).ok
        [export] = _view_audit(web_world, "audit export")
        assert export.details["entries"] == len(saved.read_text().splitlines()) - 1
        assert "safecity audit verify --file" in v.page.locator("#verify-command").inner_text()
        # The page fits the small screen's width: nothing to scroll sideways.
        assert v.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        v.clean()
    finally:
        v.close()


def test_the_auditor_reads_what_an_investigator_searched(
    browser: Any, web_world: Any, screenshots: Path
) -> None:
    investigator = Visit(browser, web_world.url, SMALL_SCREEN)
    auditor = Visit(browser, web_world.url, SMALL_SCREEN)
    try:
        investigator.login("investigator-1")
        investigator.go("/search")
        investigator.page.fill("#plate-search input[name=plate]", "BG*AB")
        investigator.page.fill("#plate-search input[name=reason]", "case K-9/2026: van seen at the market")
        investigator.page.click("#plate-search button[type=submit]")
        seq = investigator.page.locator("#audit-seq").inner_text().lstrip("#")
        auditor.login("auditor-1")
        auditor.go("/audit?action=search_plate")
        row = auditor.page.locator(f"table.audit tr[data-seq='{seq}']")
        assert "Plate search for “BG*AB”" in row.locator("td.asked").inner_text()
        assert "case K-9/2026: van seen at the market" in row.locator("td.why").inner_text()
        assert "plate read" in row.locator("td.outcome").inner_text()
        auditor.shot(screenshots, "auditor-audit-plate-search")
        investigator.clean()
        auditor.clean()
    finally:
        investigator.close()
        auditor.close()
