"""The governance tasks in a real browser at 1366x768, each from login to the result and its audit
entry: an administrator records an urgent authorisation and a second one approves it with the
decision's reference; an investigator creates a watchlist under it and enrols a person from two
photos; an operator adds and removes a hotlist entry; an administrator previews retention and
sweeps. Nothing is requested from another host."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
from browsing import SMALL_SCREEN, Visit
from web_names import PASSWORD

from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserError, UserStore


def _second_admin(web_world: Any) -> None:
    with contextlib.suppress(UserError):  # added by an earlier test of this module
        UserStore(web_world.db).add("admin-2", Role.ADMIN, PASSWORD)


def _outcome(v: Visit) -> str:
    """The page's message after a form: what was done, or the refusal (which fails the test with it)."""
    v.page.wait_for_selector("#done, #form-error")
    error = v.page.locator("#form-error")
    assert error.count() == 0, error.inner_text()
    return str(v.page.locator("#done").inner_text())


def _last(web_world: Any, action: AuditAction) -> Any:
    return AuditLog(web_world.db).entries(action)[-1]


def test_authorisation_then_watchlist_and_enrolment(
    browser: Any, web_world: Any, screenshots: Path, tmp_path: Path
) -> None:
    _second_admin(web_world)
    now = datetime.now(UTC)
    admin, second, investigator = (Visit(browser, web_world.url, SMALL_SCREEN) for _ in range(3))
    try:
        admin.login("admin-1")
        admin.page.click("header nav >> text=Watchlists")
        admin.page.click("text=Record an authorisation, approve or refuse one")
        admin.page.wait_for_url(admin.base + "/authorisations")
        form = admin.page.locator("#authorisation-form")
        form.locator("input[name=authority]").fill("Higher Court in Belgrade")
        form.locator("input[name=reference]").fill("Kpp 314/2026")
        form.locator("select[name=purpose]").select_option("victim_search")
        form.locator("input[name=valid_from]").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        form.locator("input[name=valid_until]").fill((now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"))
        form.locator("input[name=urgent]").check()
        form.locator("input[name=cameras][value=cam-1]").check()
        form.locator("input[name=note]").fill("a missing child, last seen at the market")
        admin.shot(screenshots, "admin-authorisation-form")
        form.locator("button[type=submit]").click()
        assert "pending until approved" in _outcome(admin)
        row = admin.page.locator("tr[data-reference='Kpp 314/2026']")
        assert "approve in" in row.locator("td.countdown").inner_text()
        assert "expires in 9 days" in row.locator("td.countdown").inner_text()
        admin.shot(screenshots, "admin-authorisations-pending")
        recorded = _last(web_world, AuditAction.AUTHORISATION_CHANGE)
        assert (recorded.username, recorded.details["change"]) == ("admin-1", "created")

        second.login("admin-2")
        second.go("/authorisations")
        row = second.page.locator("tr[data-reference='Kpp 314/2026']")
        row.locator("input[name=reason]").fill("decision Kpp 314/2026-1 of 8 Dec")
        row.locator("button[value=approve]").click()
        assert "Kpp 314/2026: approved." in _outcome(second)
        second.shot(screenshots, "admin-authorisation-approved")
        approved = _last(web_world, AuditAction.AUTHORISATION_CHANGE)
        assert (approved.username, approved.details["change"]) == ("admin-2", "approved")
        assert "Kpp 314/2026-1" in approved.justification

        investigator.login("investigator-1")
        investigator.page.click("header nav >> text=Watchlists")
        create = investigator.page.locator("#watchlist-form")
        create.locator("input[name=name]").fill("missing-child-314")
        create.locator("select[name=authorisation]").select_option(label=None, value=approved.target)
        create.locator("input[name=description]").fill("the child of case Kpp 314/2026")
        investigator.shot(screenshots, "investigator-watchlists")
        create.locator("button[type=submit]").click()
        assert "created under Kpp 314/2026" in _outcome(investigator)
        created = _last(web_world, AuditAction.WATCHLIST_CHANGE)
        assert (created.username, created.details["change"]) == ("investigator-1", "created")

        mirrored = tmp_path / "grace_mirrored.jpg"
        cv2.imwrite(str(mirrored), cv2.flip(cv2.imread(str(web_world.portrait)), 1))
        enrol = investigator.page.locator("#enrol-form")
        enrol.locator("input[name=label]").fill("Grace H.")
        enrol.locator("input[name=photos]").set_input_files([str(web_world.portrait), str(mirrored)])
        enrol.locator("button[type=submit]").click()
        assert "Enrolled Grace H. from 2 photos" in _outcome(investigator)
        thumbs = investigator.page.locator("#persons .gov-refs img")
        assert thumbs.count() == 2
        investigator.page.wait_for_function(
            "() => [...document.querySelectorAll('#persons .gov-refs img')].every(i => i.naturalWidth > 0)"
        )
        investigator.shot(screenshots, "investigator-watchlist-enrolled")
        enrolled = _last(web_world, AuditAction.WATCHLIST_CHANGE)
        assert (enrolled.username, enrolled.details) == (
            "investigator-1",
            {"change": "enrolled", "label": "Grace H.", "photos": 2},
        )
        for v in (admin, second, investigator):
            v.clean()
    finally:
        for v in (admin, second, investigator):
            v.close()


def test_an_operator_adds_and_removes_a_hotlist_entry(
    browser: Any, web_world: Any, screenshots: Path
) -> None:
    v = Visit(browser, web_world.url, SMALL_SCREEN)
    try:
        v.login("operator-1")
        v.page.click("header nav >> text=Hotlist")
        form = v.page.locator("#hotlist-form")
        form.locator("input[name=plate]").fill("NS 404-ZZ")
        form.locator("input[name=owner]").fill("Traffic police, unit 3")
        form.locator("input[name=reason]").fill("stolen vehicle, report 2026/404")
        form.locator("input[name=days]").fill("7")
        form.locator("button[type=submit]").click()
        v.page.wait_for_url("**/hotlists?done=*")
        assert "Hotlisted plate NS404ZZ" in v.page.locator("#done").inner_text()
        added = _last(web_world, AuditAction.HOTLIST_CHANGE)
        assert (added.username, added.details["change"], added.details["plate"]) == (
            "operator-1",
            "added",
            "NS404ZZ",
        )
        v.shot(screenshots, "operator-hotlist-added")
        row = v.page.locator("tr[data-plate='NS404ZZ']")
        row.locator("input[name=reason]").fill("vehicle recovered")
        row.locator("button[type=submit]").click()
        v.page.wait_for_url("**/hotlists?done=*")
        assert "removed" in v.page.locator("tr[data-plate='NS404ZZ'] .status").inner_text()
        removed = _last(web_world, AuditAction.HOTLIST_CHANGE)
        assert (removed.username, removed.justification, removed.details["change"]) == (
            "operator-1",
            "vehicle recovered",
            "removed",
        )
        v.shot(screenshots, "operator-hotlist-removed")
        v.clean()
    finally:
        v.close()


def test_an_administrator_previews_retention_and_sweeps(
    browser: Any, web_world: Any, screenshots: Path
) -> None:
    v = Visit(browser, web_world.url, SMALL_SCREEN)
    try:
        v.login("admin-1")
        v.page.click("header nav >> text=Retention")
        v.page.wait_for_url(v.base + "/admin/retention")
        assert "would delete" in v.page.locator("#preview-summary").inner_text()
        v.shot(screenshots, "admin-retention-preview")
        v.page.click("#sweep-form button")
        v.page.wait_for_selector("#confirm-form")
        v.shot(screenshots, "admin-retention-confirm")
        before = len(AuditLog(web_world.db).entries(AuditAction.RETENTION_DELETION))
        v.page.click("#confirm-form button")
        v.page.wait_for_selector("#swept")
        done = v.page.locator("#done").inner_text()
        assert done.startswith("retention deleted")
        entries = AuditLog(web_world.db).entries(AuditAction.RETENTION_DELETION)
        if len(entries) > before:  # the seeded world may hold nothing past retention
            assert f"Recorded as audit entry {entries[-1].seq}" in done
        else:
            assert "nothing recorded" in done
        v.shot(screenshots, "admin-retention-swept")
        v.clean()
    finally:
        v.close()
