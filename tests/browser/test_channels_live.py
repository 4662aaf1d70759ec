"""Two members in two browsers, on the channel pages: a reply in a thread, an edit and a
deletion appear live for the other; a mention lights the other's header badge; the
channel list counts unread messages live. Screenshots of the pages are kept for review
in ``NETWORK_SCREENSHOTS`` when that variable names a folder."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

SENDER = "contact.senegal@example.org"  # Aminata Diallo-Demo, WACAP contact point
READER = "coordinator.wacap@example.org"  # Koffi Mensah-Coord, WACAP coordinator
READER_HANDLE = "@koffi.mensah-coord"


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("NETWORK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _open_wacap(page: Page) -> Page:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    page.locator(".channel-list").get_by_role("link", name=re.compile(r"^WACAP")).click()
    expect(page.get_by_role("heading", name=re.compile("WACAP"))).to_be_visible()
    expect(page.locator('#channel[data-live="true"]')).to_have_count(1)  # joined, live
    return page


def _stream(page: Page) -> Locator:
    """The messages of the channel's stream (not those of the thread panel)."""
    return page.locator("#channel > .messages > .message")


def _send(page: Page, text: str) -> None:
    box = page.locator("#composer").get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


@pytest.fixture
def pair(new_page: Callable[..., Page], sign_in: Callable[[Page, str], Page]) -> tuple[Page, Page]:
    sender = _open_wacap(sign_in(new_page(), SENDER))
    reader = _open_wacap(sign_in(new_page(), READER))
    return sender, reader


def test_a_reply_in_a_thread_appears_live_for_the_other(pair: tuple[Page, Page]) -> None:
    sender, reader = pair
    marker = uuid.uuid4().hex[:8]
    _send(sender, f"Question {marker}: who executes the MLA request?")
    question = _stream(reader).filter(has_text=f"Question {marker}")
    expect(question).to_be_visible()
    # The sender opens the thread too, to see the reply land in the panel.
    _stream(sender).filter(has_text=f"Question {marker}").get_by_role("link", name="Reply").click()
    expect(sender.locator("#thread-panel")).to_be_visible()

    question.get_by_role("link", name="Reply").click()
    panel = reader.locator("#thread-panel")
    expect(panel.locator(".message").first).to_contain_text(f"Question {marker}")
    panel.get_by_role("textbox", name="Reply in the thread").fill(f"Answer {marker}: we do")
    panel.get_by_role("button", name="Reply").click()
    _shot(reader, "thread-panel")

    in_stream = _stream(sender).filter(has_text=f"Answer {marker}")
    expect(in_stream).to_be_visible()
    expect(in_stream.locator(".in-reply-to")).to_contain_text("In reply to Aminata Diallo-Demo")
    expect(_stream(sender).filter(has_text=f"Question {marker}")).to_contain_text("1 reply")
    expect(
        sender.locator("#thread-panel .message").filter(has_text=f"Answer {marker}")
    ).to_be_visible()
    _shot(sender, "channel-with-thread")

    # Without the panel: the thread has a page of its own.
    thread_link = _stream(sender).filter(has_text=f"Question {marker}")
    href = thread_link.get_by_role("link", name="1 reply").get_attribute("href")
    sender.goto(href)
    expect(sender.get_by_role("heading", name=re.compile("Thread"))).to_be_visible()
    expect(sender.locator(".thread-replies")).to_contain_text(f"Answer {marker}")
    _shot(sender, "thread-page")


def test_an_edit_and_a_deletion_appear_live_for_the_other(pair: tuple[Page, Page]) -> None:
    sender, reader = pair
    marker = uuid.uuid4().hex[:8]
    _send(sender, f"Hearing {marker} on Monday")
    mine = _stream(sender).filter(has_text=f"Hearing {marker}")
    theirs = _stream(reader).filter(has_text=f"Hearing {marker}")
    expect(theirs).to_be_visible()

    mine.get_by_role("link", name="Edit").click()
    editor = mine.get_by_role("textbox", name="Edit")
    expect(editor).to_have_value(f"Hearing {marker} on Monday")
    editor.fill(f"Hearing {marker} on Friday")
    mine.get_by_role("button", name="Save").click()
    expect(theirs).to_contain_text(f"Hearing {marker} on Friday")
    expect(theirs.get_by_role("link", name="(edited)")).to_be_visible()
    expect(_stream(reader).filter(has_text=f"Hearing {marker}")).to_have_count(1)

    mine.get_by_role("link", name="Delete").click()
    mine.get_by_role("button", name="Delete").click()
    tombstone = reader.locator(
        f'#channel > .messages > .message[data-id="{theirs.get_attribute("data-id")}"]'
    )
    expect(tombstone).to_contain_text("This message was deleted.")
    expect(reader.get_by_text(f"Hearing {marker}")).to_have_count(0)
    _shot(reader, "channel-page")


def _badge(page: Page) -> int:
    text = page.locator(".js-notification-count").text_content() or "0"
    return int(text.strip() or 0)


def test_a_mention_lights_the_header_badge_of_the_person_mentioned(
    new_page: Callable[..., Page], sign_in: Callable[[Page, str], Page]
) -> None:
    reader = sign_in(new_page(), READER)
    reader.goto("/directory/")  # any page: the header listens on every page
    expect(reader.locator('.notifications-link[data-live="true"]')).to_have_count(1)
    before = _badge(reader)
    sender = _open_wacap(sign_in(new_page(), SENDER))
    _send(sender, f"{READER_HANDLE} please confirm receipt {uuid.uuid4().hex[:6]}")
    badge = reader.locator(".js-notification-count")
    expect(badge).to_be_visible()
    expect(badge).to_have_text(str(before + 1))
    reader.get_by_role("link", name=re.compile("^Notifications")).click()
    expect(reader.locator(".notification.unread").first).to_contain_text("mentioned you")


def test_the_channel_list_counts_unread_messages_live(
    new_page: Callable[..., Page], sign_in: Callable[[Page, str], Page]
) -> None:
    reader = sign_in(new_page(), READER)
    reader.goto("/channels/")
    expect(reader.locator('#channel-list[data-live="true"]')).to_have_count(1)  # watching
    row = reader.locator(".channel-list li").filter(
        has=reader.get_by_role("link", name=re.compile(r"^WACAP"))
    )
    unread = row.locator(".js-unread")
    before = int((unread.text_content() or "0").strip() or 0)
    sender = _open_wacap(sign_in(new_page(), SENDER))
    _send(sender, f"News {uuid.uuid4().hex[:6]}")
    expect(unread).to_have_text(str(before + 1))
    expect(unread).to_be_visible()
    _send(sender, f"More news {uuid.uuid4().hex[:6]}")
    expect(unread).to_have_text(str(before + 2))
    _shot(reader, "channel-list")


def test_the_members_page_of_a_new_topic_channel(
    new_page: Callable[..., Page], sign_in: Callable[[Page, str], Page]
) -> None:
    owner = sign_in(new_page(), SENDER)
    owner.goto("/channels/")
    owner.get_by_role("link", name="New topic channel").click()
    name = f"JIT {uuid.uuid4().hex[:6]}"
    owner.get_by_label("Name", exact=True).fill(name)
    owner.get_by_label("Members").select_option(label="Koffi Mensah-Coord")
    owner.get_by_role("button", name="Create the channel").click()
    expect(owner.get_by_role("heading", name=re.compile(name))).to_be_visible()
    owner.get_by_role("link", name="Members and settings").click()
    expect(owner.locator(".members-table")).to_contain_text("Koffi Mensah-Coord")
    expect(owner.locator(".members-table")).to_contain_text("owner")
    _shot(owner, "members-page")


def test_scrolling_to_the_top_loads_earlier_messages_in_place(
    new_page: Callable[..., Page], sign_in: Callable[[Page, str], Page]
) -> None:
    page = _open_wacap(sign_in(new_page(), SENDER))
    token = page.locator('#composer input[name="csrf_token"]').get_attribute("value")
    channel = page.locator("#channel").get_attribute("data-channel-id")
    marker = uuid.uuid4().hex[:6]
    for n in range(1, 61):
        answer = page.request.post(
            f"/api/v1/channels/{channel}/messages",
            data={"body": f"Batch {marker} number {n}", "client_id": uuid.uuid4().hex},
            headers={"X-CSRFToken": token or ""},
        )
        assert answer.status == 201
    page.reload()
    expect(page.locator('#channel[data-live="true"]')).to_have_count(1)
    first_shown = _stream(page).filter(has_text=f"Batch {marker} number 11").first
    expect(first_shown).to_be_visible()  # the page opens on the latest 50
    expect(_stream(page).filter(has_text=f"Batch {marker} number 10")).to_have_count(0)
    page.mouse.wheel(0, -100_000)  # scroll to the top: the earlier page loads by itself
    expect(_stream(page).filter(has_text=f"Batch {marker} number 10")).to_have_count(1)
    expect(first_shown).to_be_in_viewport()  # the scroll position was kept
    # The older page went above, in order, nothing twice.
    seqs = [int(s) for s in _stream(page).evaluate_all("items => items.map(i => i.dataset.seq)")]
    assert seqs == sorted(seqs)
    assert len(seqs) == len(set(seqs))
