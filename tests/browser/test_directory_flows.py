"""The directory as a person uses it: search with facets, open an entry, edit it, import.

Every test signs in through the form on the real server with demo data; entries are
found through the page, never through the database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from network.services.demo import DEMO_ACCOUNTS
from network.services.directory import DEFAULT_PER_PAGE

pytestmark = pytest.mark.browser

SECRETARIAT = "secretariat.wacap@example.org"
COORDINATOR = "coordinator.wacap@example.org"
ADMIN = "admin@example.org"
COUNT = re.compile(r"^(\d+) contact points?$")


def _account_name(email: str) -> str:
    return next(account[1] for account in DEMO_ACCOUNTS if account[0] == email)


def _count(page: Page) -> int:
    """The number of results the page announces ("18 contact points")."""
    text = page.locator(".results-head strong").inner_text()
    match = COUNT.match(text.strip())
    assert match, f"unexpected result count {text!r}"
    return int(match.group(1))


def _expect_count(page: Page, n: int) -> None:
    label = f"{n} contact point" if n == 1 else f"{n} contact points"
    expect(page.locator(".results-head strong")).to_have_text(label)


def _cards(page: Page) -> Locator:
    return page.get_by_role("article")


def _facet_link(page: Page, label: str) -> Locator:
    filters = page.get_by_role("complementary", name="Filters")
    return filters.get_by_role("link", name=re.compile(rf"^{re.escape(label)} \d+$"))


def test_search_with_a_country_facet_narrows_and_clears(
    page: Page, sign_in: Callable[[Page, str], Page]
) -> None:
    sign_in(page, COORDINATOR)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Directory").click()
    expect(page.get_by_role("heading", name="Directory of contact points")).to_be_visible()
    everything = _count(page)

    page.get_by_role("searchbox").fill("central authority")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=central\+authority"))
    searched = _count(page)
    assert 0 < searched < everything

    filters = page.get_by_role("complementary", name="Filters")
    countries = filters.locator("section", has=page.get_by_role("heading", name="Country"))
    first_country = countries.get_by_role("link").first
    country = first_country.locator(".label").inner_text()
    country_count = int(first_country.locator(".count").inner_text())
    assert 0 < country_count < searched
    first_country.click()

    _expect_count(page, country_count)
    expect(page).to_have_url(re.compile(r"country=[A-Z]{2}"))
    expect(_facet_link(page, country)).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("searchbox")).to_have_value("central authority")
    cards = _cards(page)
    expect(cards).to_have_count(min(country_count, DEFAULT_PER_PAGE))
    for card in cards.all():
        expect(card.get_by_text(country, exact=True)).to_be_visible()

    page.get_by_role("link", name="Clear all filters").click()
    _expect_count(page, everything)
    expect(page.get_by_role("searchbox")).to_have_value("")
    expect(_facet_link(page, country)).not_to_have_attribute("aria-current", "true")


def test_open_an_entry_from_the_results_shows_its_details(
    page: Page, sign_in: Callable[[Page, str], Page]
) -> None:
    sign_in(page, COORDINATOR)
    page.goto("/directory/?q=prosecutor")
    first = _cards(page).first
    name = first.get_by_role("heading").inner_text()
    email = first.locator(".cp-contact a").inner_text()

    first.get_by_role("link", name=name).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    contact = page.locator("section.panel", has=page.get_by_role("heading", name="Contact"))
    expect(contact.get_by_role("link", name=email)).to_have_attribute("href", f"mailto:{email}")
    requests = page.locator("section.panel", has=page.get_by_role("heading", name="Requests"))
    expect(requests.get_by_text("Authority type")).to_be_visible()
    expect(page.get_by_role("heading", name="History of changes")).to_be_visible()
    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumb.get_by_role("link", name="Directory")).to_be_visible()


def test_secretariat_edits_a_title_and_the_change_is_in_the_history(
    page: Page, sign_in: Callable[[Page, str], Page]
) -> None:
    entry_name = _account_name("contact.senegal@example.org")
    new_title = f"Deputy Prosecutor-General {uuid.uuid4().hex[:6]}"
    sign_in(page, SECRETARIAT)
    page.get_by_role("searchbox").fill(entry_name)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=entry_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(entry_name)

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", name=f"Edit {entry_name}")).to_be_visible()
    title = page.get_by_label("Title", exact=True)
    old_title = title.input_value()
    assert old_title
    title.fill(new_title)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("The entry is saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(entry_name)
    expect(page.locator(".lead")).to_contain_text(new_title)
    history = page.get_by_role("table")
    change = history.get_by_role("row").filter(has_text=new_title)
    expect(change).to_have_count(1)
    expect(change.get_by_role("cell").nth(1)).to_have_text(_account_name(SECRETARIAT))
    expect(change.get_by_role("cell").nth(3)).to_contain_text(old_title)
    expect(change.get_by_role("cell").nth(4)).to_contain_text(new_title)


def _import(page: Page, csv: str, *, dry_run: bool = False) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    page.get_by_label("Network", exact=True).select_option("wacap")
    page.get_by_label("CSV file").set_input_files(
        {"name": "contacts.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    page.get_by_label("Dry run").set_checked(dry_run)
    page.get_by_role("button", name="Import").click()


def _search(page: Page, words: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Directory").click()
    page.get_by_role("searchbox").fill(words)
    page.get_by_role("button", name="Search").click()


def test_import_with_a_bad_row_reports_it_and_writes_nothing(
    page: Page, sign_in: Callable[[Page, str], Page]
) -> None:
    good_name = f"Zephyrine Goodrow-{uuid.uuid4().hex[:6]}"
    header = "name,title,authority_type,country,email,expertise\n"
    good_row = f"{good_name},Prosecutor,prosecution,SN,{uuid.uuid4().hex[:8]}@example.org,mla\n"
    bad_row = "Bad Row Person,Judge,judiciary,XX,bad-row@example.org,mla\n"
    sign_in(page, SECRETARIAT)

    _import(page, header + good_row + bad_row)

    expect(page.get_by_text("The file has errors: nothing was written.")).to_be_visible()
    report = page.get_by_role("table")
    expect(report.get_by_role("columnheader")).to_have_text(["Row", "Column", "Problem"])
    rows = report.locator("tbody").get_by_role("row")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("cell")).to_have_text(["3", "country", re.compile(r"country")])
    _search(page, good_name)
    _expect_count(page, 0)
    expect(page.get_by_text("No contact point matches.")).to_be_visible()

    # The same search finds the good row once the file is fixed: the check above is real.
    _import(page, header + good_row)
    expect(page.get_by_text("Imported: 1 created, 0 updated.")).to_be_visible()
    _search(page, good_name)
    _expect_count(page, 1)
    expect(_cards(page).get_by_role("link", name=good_name)).to_be_visible()


def test_the_file_input_is_drawn_in_the_pages_language(
    new_page: Callable[..., Page], sign_in: Callable[[Page, str], Page]
) -> None:
    """The browser would write "Choose File · No file chosen" in its own language: the
    page draws the button and the chosen names itself, in the page's language, over the
    real input (still the one the keyboard and the form use)."""
    page = sign_in(new_page(), SECRETARIAT)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    picker = page.locator(".file-picker")
    expect(picker.locator(".file-picker-button")).to_have_text("Choose a file")
    expect(picker.locator(".file-picker-chosen")).to_have_text("No file chosen")
    file_input = page.get_by_label("CSV file")
    expect(file_input).to_have_accessible_name("CSV file")
    expect(file_input).to_have_accessible_description("No file chosen")
    page.get_by_label("Network", exact=True).focus()
    page.keyboard.press("Tab")
    expect(file_input).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files({"name": "contacts.csv", "mimeType": "text/csv", "buffer": b"x"})
    expect(picker.locator(".file-picker-chosen")).to_have_text("contacts.csv")
    expect(file_input).to_have_accessible_description("contacts.csv")


def test_without_javascript_the_browsers_own_file_input_shows(
    new_page: Callable[..., Page], sign_in: Callable[[Page, str], Page]
) -> None:
    page = sign_in(new_page(java_script_enabled=False), SECRETARIAT)
    page.goto("/directory/import")
    expect(page.get_by_label("CSV file")).to_be_visible()
    expect(page.locator(".file-picker")).to_have_count(0)
