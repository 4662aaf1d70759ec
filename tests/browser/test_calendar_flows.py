"""Calendar flows in a real Chromium against the real server with the demo data: a
coordinator creates a hybrid event with an agenda and a document, a member finds it in
the month view and registers, and the participation chart of the demo working-group
series renders next to its data table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TITLE = "WACAP hybrid workshop on e-evidence"


def _create_event(page: Page, day: datetime) -> str:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    page.get_by_role("link", name="New event").first.click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Kind").select_option("workshop")
    page.get_by_label("Format").select_option("hybrid")
    page.get_by_label("Venue").fill("Accra, Law School")
    page.get_by_label("Online link").fill("https://meet.example.org/e-evidence")
    page.get_by_label("Time zone of the event").fill("Europe/Madrid")
    page.get_by_label("Starts").fill(day.strftime("%Y-%m-%dT10:00"))
    # First an end before the start: the form comes back with the message, input kept.
    page.get_by_label("Ends").fill(day.strftime("%Y-%m-%dT09:00"))
    page.get_by_label("Open to self-registration").check()
    page.get_by_role("button", name="Save the event").click()
    expect(page.get_by_text("The end must be after the start.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    page.get_by_label("Ends").fill(day.strftime("%Y-%m-%dT13:00"))
    page.get_by_role("button", name="Save the event").click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    return page.url


def test_coordinator_creates_a_hybrid_event_and_a_member_registers(new_page, sign_in):
    day = datetime.now(UTC) + timedelta(days=16)
    coordinator = sign_in(new_page(), "coordinator.wacap@example.org")
    url = _create_event(coordinator, day)
    expect(coordinator.locator(".badge", has_text="Hybrid")).to_be_visible()

    coordinator.get_by_text("Add an agenda item").click()
    coordinator.get_by_label("Number").fill("1")
    coordinator.locator("#agenda-title").fill("Preservation of electronic evidence")
    coordinator.get_by_label("Annotation").fill("Practice of the 24/7 contact points.")
    coordinator.get_by_role("button", name="Add the item").click()
    expect(coordinator.get_by_text("The agenda item is added.")).to_be_visible()
    expect(coordinator.locator(".agenda")).to_contain_text("Practice of the 24/7 contact points.")

    coordinator.get_by_text("Add a document or a language version").click()
    coordinator.get_by_label("Symbol").fill("WACAP/WS/2027/1")
    coordinator.locator("#doc-title").fill("Annotated agenda")
    coordinator.locator("#doc-item").select_option(label="1 Preservation of electronic evidence")
    coordinator.get_by_label("File").set_input_files(
        {"name": "annotated-agenda.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    coordinator.get_by_role("button", name="Upload").click()
    expect(coordinator.get_by_text("The document is added.")).to_be_visible()
    row = coordinator.locator("#documents tbody tr", has_text="WACAP/WS/2027/1")
    expect(row).to_contain_text("Annotated agenda")
    expect(row.get_by_role("link", name="EN")).to_be_visible()

    member = sign_in(new_page(), "contact.senegal@example.org")
    member.goto(f"/calendar/month?month={day:%Y-%m}")
    member.get_by_role("link", name=re.compile(TITLE)).first.click()
    expect(member.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    assert member.url == url
    member.get_by_label("How").select_option("remote")
    member.get_by_label("State represented").select_option("SN")
    member.get_by_label("I come from the capital").check()
    member.get_by_role("button", name="Register").click()
    expect(member.get_by_text("Your answer is recorded.")).to_be_visible()
    expect(member.locator("#registration")).to_contain_text("Remote")
    expect(member.locator("#registration")).to_contain_text("capital-based")

    coordinator.goto(url.rstrip("/") + "/participants")
    expect(coordinator.get_by_role("heading", name="Senegal")).to_be_visible()
    coordinator.get_by_role("button", name="Check in").first.click()
    expect(coordinator.get_by_text("is checked in")).to_be_visible()


def test_participation_chart_of_the_working_group_series_renders(new_page, sign_in):
    page = sign_in(new_page(), "contact.senegal@example.org")
    page.goto("/calendar/?past=1")
    page.goto("/calendar/month?month=2018-05")
    page.get_by_role("link", name=re.compile("9th meeting")).first.click()
    page.get_by_role("link", name="Statistics").click()
    chart = page.locator("#participation-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    box = chart.bounding_box()
    assert box is not None
    assert box["height"] > 100
    rows = page.locator(".stats-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("79 %")
    expect(rows.nth(1)).to_contain_text("85")
    expect(rows.nth(1)).to_contain_text("52 %")
    expect(rows.nth(2)).to_contain_text("31")
