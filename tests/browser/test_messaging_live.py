"""Two members in two browsers: what one sends, the other sees at once, and markup typed
in a message is shown as text and never runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, expect

pytestmark = pytest.mark.browser


def _open_wacap_channel(page: Page) -> Page:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    page.get_by_role("link", name="WACAP").click()
    expect(page.get_by_role("heading", name="WACAP")).to_be_visible()
    return page


def test_a_message_sent_in_one_browser_appears_live_in_the_other(
    new_page: Callable[..., Page], sign_in: Callable[[Page, str], Page]
) -> None:
    sender = _open_wacap_channel(sign_in(new_page(), "contact.senegal@example.org"))
    reader = _open_wacap_channel(sign_in(new_page(), "coordinator.wacap@example.org"))
    dialogs: list[Dialog] = []
    for tab in (reader, sender):
        tab.on("dialog", lambda dialog: dialogs.append(dialog))

    reference = f"EX/{uuid.uuid4().hex[:6]}"
    sender.get_by_role("textbox", name="Message").fill(
        f"Extradition request **{reference}** received."
    )
    sender.get_by_role("textbox", name="Message").press("Enter")
    message = reader.locator(".message").filter(has_text=reference)
    expect(message).to_be_visible()
    expect(message.locator(".message-body strong")).to_have_text(reference)  # Markdown rendered
    expect(sender.get_by_role("textbox", name="Message")).to_have_value("")  # acknowledged, cleared

    vectors = [
        "<script>alert('x1')</script>",
        "<img src=x onerror=alert('x2')>",
        "[click](javascript:alert('x3'))",
        '<a href="javascript:alert(1)">x4</a>',
        "<svg onload=alert('x5')>",
    ]
    marker = uuid.uuid4().hex[:8]
    sender.get_by_role("textbox", name="Message").fill(marker + " " + " ".join(vectors))
    sender.get_by_role("button", name="Send").click()
    shown = reader.locator(".message").filter(has_text=marker)
    expect(shown).to_contain_text("<script>alert('x1')</script>")  # typed markup is text
    expect(shown.locator("script, img, svg, a[href^='javascript']")).to_have_count(0)
    reader.reload()
    expect(reader.locator(".message").filter(has_text=marker)).to_be_visible()
    assert dialogs == []  # nothing ran
