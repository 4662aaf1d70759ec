"""The language switcher in the header, and the phone layout (390 px wide)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390


@pytest.fixture
def phone(new_page: Callable[..., Page]) -> Page:
    """A page the size of a phone, with touch."""
    return new_page(PHONE_WIDTH, 844, device_scale_factor=2, is_mobile=True, has_touch=True)


def test_switching_to_french_translates_the_page_and_the_next_one(
    page: Page, sign_in: Callable[[Page, str], Page]
) -> None:
    # The observer's account is used by no other browser test: its saved language
    # cannot leak into them.
    sign_in(page, "observer.wacap@example.org")
    # The navigation's own name is translated too: find it in the header instead.
    nav = page.get_by_role("banner").get_by_role("navigation")
    expect(nav.get_by_role("link", name="Directory")).to_be_visible()

    page.get_by_label("Language").select_option("fr")

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(nav.get_by_role("link", name="Annuaire")).to_be_visible()
    expect(nav.get_by_role("link", name="Directory")).to_have_count(0)
    nav.get_by_role("link", name="Annuaire").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("banner").get_by_role("combobox")).to_have_value("fr")


def test_on_a_phone_the_menu_opens_and_the_directory_fits_the_screen(
    phone: Page, sign_in: Callable[[Page, str], Page]
) -> None:
    sign_in(phone, "coordinator.wacap@example.org")
    nav = phone.get_by_role("navigation", name="Main")
    menu = phone.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Directory")).to_be_hidden()

    menu.tap()
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="Directory").tap()

    expect(phone.get_by_role("heading", name="Directory of contact points")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    # The filters come before the results, folded so the first result is in view.
    filters_toggle = phone.get_by_text("Filters", exact=True)
    first_result = phone.get_by_role("article").first
    expect(first_result).to_be_in_viewport()
    toggle_box, result_box = filters_toggle.bounding_box(), first_result.bounding_box()
    assert toggle_box
    assert result_box
    assert toggle_box["y"] < result_box["y"]
    filters = phone.get_by_role("complementary", name="Filters")
    expect(filters).to_be_hidden()

    filters_toggle.tap()
    expect(filters).to_be_visible()
    expect(filters.get_by_role("heading", name="Country")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_on_a_phone_each_account_is_a_block_with_its_actions_on_screen(
    phone: Page, sign_in: Callable[[Page, str], Page]
) -> None:
    """The accounts table had five columns cut at the screen's edge, with no sign that
    more was there: on a phone each account reads as one block, nothing beyond the edge."""
    sign_in(phone, "admin@example.org")
    phone.goto("/admin/users")
    expect(phone.get_by_role("heading", name="Accounts")).to_be_visible()
    table = phone.locator("main table")
    assert table.evaluate("(t) => t.scrollWidth <= t.clientWidth")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    row = table.locator("tbody tr", has_text="secretariat.wacap@example.org")
    for name in ("Deactivate", "Make administrator", "Sign out everywhere"):
        button = row.get_by_role("button", name=name)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE_WIDTH
