"""Case pages in a real Chromium against the real server with the demo data (the
fixtures of tests/browser, through conftest): the list by priority, a status change that
reaches another member's open page, and a new case whose form first comes back with a
field error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _open_case(page: Page, reference: str) -> Page:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=reference, level=1)).to_be_visible()
    return page


def test_the_case_list_starts_with_the_most_pressing_case(new_page, sign_in):
    page = sign_in(new_page(), "contact.senegal@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    cards = page.locator(".case-card")
    expect(cards).to_have_count(4)
    expect(cards.first).to_contain_text("SN-EXT-2026-003")
    expect(cards.first).to_contain_text("High priority")
    expect(cards.first).to_contain_text("A person is in pre-trial detention")
    overdue = cards.filter(has_text="GH-MLA-2026-0117")
    expect(overdue).to_contain_text("Overdue")
    expect(overdue).to_contain_text("Ghana")
    expect(cards.last).to_contain_text("Executed")


def test_a_status_change_shows_in_the_timeline_and_on_the_other_members_page(new_page, sign_in):
    watcher = _open_case(sign_in(new_page(), "contact.senegal@example.org"), "SN-CONF-2026-011")
    notice = watcher.locator("#case-live")
    expect(notice).to_be_hidden()

    actor = _open_case(sign_in(new_page(), "coordinator.wacap@example.org"), "SN-CONF-2026-011")
    options = actor.get_by_label("New status").locator("option")
    expect(options).to_have_text(["Choose…", "Received", "Withdrawn"])
    actor.get_by_label("New status").select_option("received")
    actor.get_by_label("Note").fill("Registered in Abuja")
    actor.get_by_role("button", name="Change the status").click()

    expect(actor.get_by_text("The case is now: Received.")).to_be_visible()
    last = actor.locator(".timeline > li").last
    expect(last).to_contain_text("Status: Sent → Received")
    expect(last).to_contain_text("Registered in Abuja")
    # The Senegalese contact point's open page learns of it without reloading.
    expect(notice).to_be_visible()
    notice.get_by_role("link", name="Show the latest").click()
    expect(watcher.locator(".timeline > li").last).to_contain_text("Registered in Abuja")


def test_a_new_case_form_keeps_the_input_after_an_error(new_page, sign_in):
    page = sign_in(new_page(), "contact.senegal@example.org")
    page.goto("/cases/new")
    page.get_by_label("Reference").fill("SN-MLA-2026-777")
    page.get_by_label("Type of case").select_option("mla")
    page.get_by_label("Requesting state").select_option("SN")
    page.get_by_label("Requested state").select_option("SN")
    page.get_by_label("Legal basis").fill("UNTOC art. 18")
    page.get_by_label("A person is in pre-trial detention").check()
    page.get_by_label("Members of the case channel").select_option(
        label="Kwame Boateng-Demo (WACAP)"
    )
    page.get_by_role("button", name="Open the case").click()

    expect(
        page.get_by_text("The requested state must differ from the requesting one.")
    ).to_be_visible()
    expect(page.get_by_label("Legal basis")).to_have_value("UNTOC art. 18")
    expect(page.get_by_label("A person is in pre-trial detention")).to_be_checked()
    page.get_by_label("Requested state").select_option("CI")
    page.get_by_role("button", name="Open the case").click()

    expect(page.get_by_role("heading", name="SN-MLA-2026-777", level=1)).to_be_visible()
    expect(page.locator(".lead")).to_contain_text("Ivoire")  # Côte d'Ivoire, by name
    expect(page.locator(".member-list")).to_contain_text("Kwame Boateng-Demo")
