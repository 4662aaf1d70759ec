"""A live consultation in two real Chromium contexts against the real server (demo data):
started from the case page, the invitee knocked wherever they are, admitted from the door,
both start video with Chromium's fake camera and microphone, both peer connections reach
"connected", and the transcript shows their messages. Screenshots go to the test's
temporary folder (and to ``CONSULTATION_SCREENSHOT`` when set, to look at)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, EXPECT_TIMEOUT_MS, _watch

pytestmark = pytest.mark.browser

# Fake devices and no permission prompt; host candidates as real addresses (no mDNS) so
# two contexts on one machine connect without any STUN server.
MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
CASE = "SN-EXT-2026-003"  # demo case of contact.senegal with contact.ghana


@pytest.fixture(scope="module")
def media_browser(playwright_session: Playwright) -> Iterator[Browser]:
    chromium = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
    )
    yield chromium
    chromium.close()


@pytest.fixture
def media_page(media_browser: Browser, live_server: str) -> Iterator[Callable[[], Page]]:
    opened: list[tuple[BrowserContext, list[str]]] = []

    def open_page() -> Page:
        context = media_browser.new_context(
            base_url=live_server,
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
            permissions=["camera", "microphone"],
        )
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        tab = context.new_page()
        opened.append((context, _watch(tab)))
        return tab

    yield open_page
    problems = [problem for _context, found in opened for problem in found]
    for context, _found in opened:
        context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


def _shot(page: Page, tmp_path: Any, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    target = os.environ.get("CONSULTATION_SCREENSHOT")
    if target:
        page.screenshot(path=f"{target}-{name}.png", full_page=True)


def test_two_members_meet_with_video_and_the_transcript_shows_them(media_page, sign_in, tmp_path):
    moderator = sign_in(media_page(), "contact.senegal@example.org")
    guest = sign_in(media_page(), "contact.ghana@example.org")
    expect(guest.locator(".notifications-link[data-live='true']")).to_be_attached()

    # Started from the case page; the case's other member is invited by default.
    moderator.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    moderator.get_by_role("link", name=CASE, exact=True).click()
    moderator.get_by_role("link", name="Start a consultation").click()
    moderator.get_by_label("Title").fill("Extradition: hearing date")
    _shot(moderator, tmp_path, "start")
    moderator.get_by_role("button", name="Open the room and invite").click()
    expect(moderator.get_by_role("heading", name="Extradition: hearing date")).to_be_visible()
    room = moderator.locator("#consultation")
    expect(room).to_have_attribute("data-joined", "true")

    # The knock reaches the guest on the home page, as a toast.
    toast = guest.locator("#knock-toasts .toast")
    expect(toast).to_contain_text("Extradition: hearing date")
    _shot(guest, tmp_path, "knock")
    toast.get_by_role("link", name="Join").click()
    expect(guest.locator(".js-waiting-notice")).to_be_visible()
    expect(moderator.locator(".js-waiting .js-admit")).to_be_visible()
    _shot(guest, tmp_path, "door")
    _shot(moderator, tmp_path, "door-moderator")

    # The moderator admits from the door; the guest's page comes into the room.
    moderator.locator(".js-waiting .js-admit").click()
    guest_room = guest.locator("#consultation")
    expect(guest_room).to_have_attribute("data-joined", "true")
    expect(guest.locator(".js-waiting-notice")).to_be_hidden()
    expect(moderator.locator(".js-presence li")).to_have_count(2)
    expect(guest.locator(".js-presence li")).to_have_count(2)

    # Video: both start (the guest on a weak line, audio only), both peer connections
    # reach "connected".
    moderator.get_by_role("button", name="Start video").click()
    guest.get_by_label("Audio only").check()
    guest.get_by_role("button", name="Start video").click()
    expect(room).to_have_attribute("data-peers-connected", "1", timeout=20_000)
    expect(guest_room).to_have_attribute("data-peers-connected", "1", timeout=20_000)
    expect(moderator.locator(".video-tile[data-peer-state='connected']")).to_have_count(1)
    expect(guest.locator(".video-tile[data-peer-state='connected']")).to_have_count(1)
    # The guest sees the moderator's fake camera; the moderator gets the guest's sound only.
    guest.wait_for_function(
        "() => { const v = document.querySelector('.video-tile[data-peer-id] video');"
        " return v && v.videoWidth > 0 && v.readyState >= 2; }"
    )
    tracks = moderator.evaluate(
        "() => document.querySelector('.video-tile[data-peer-id] video').srcObject"
        ".getTracks().map((t) => t.kind).sort()"
    )
    assert tracks == ["audio"]
    expect(guest.get_by_role("button", name="Camera off")).to_be_hidden()
    expect(guest.locator(".video-self")).to_be_hidden()
    # Camera off keeps the call.
    moderator.get_by_role("button", name="Camera off").click()
    expect(moderator.get_by_role("button", name="Camera off")).to_have_attribute(
        "aria-pressed", "true"
    )

    # Messages through the channels' pipeline, in both transcripts.
    guest.get_by_label("Message").fill("The hearing is set for Monday.")
    guest.get_by_role("button", name="Send").click()
    moderator.get_by_label("Message").fill("Agreed, we will send the file.")
    moderator.get_by_role("button", name="Send").click()
    for page in (moderator, guest):
        transcript = page.locator(".js-room-messages")
        expect(transcript).to_contain_text("The hearing is set for Monday.")
        expect(transcript).to_contain_text("Agreed, we will send the file.")
        expect(transcript).to_contain_text("joined")
    _shot(moderator, tmp_path, "room")

    # The guest's connection drops; what is said meanwhile comes back on reconnect.
    guest.evaluate("window.networkRealtime.socket.disconnect()")
    expect(guest.locator(".notifications-link[data-live='true']")).not_to_be_attached()
    moderator.get_by_label("Message").fill("Said while you were away.")
    moderator.get_by_role("button", name="Send").click()
    expect(moderator.locator(".js-room-messages")).to_contain_text("Said while you were away.")
    expect(guest.locator(".js-room-messages")).not_to_contain_text("Said while you were away.")
    guest.evaluate("window.networkRealtime.socket.connect()")
    expect(guest.locator(".js-room-messages")).to_contain_text("Said while you were away.")

    # Ending: read-only for both, the printable transcript keeps everything.
    moderator.once("dialog", lambda dialog: dialog.accept())
    moderator.get_by_role("button", name="End the consultation").click()
    expect(guest.locator(".js-ended-notice")).to_be_visible()
    expect(guest_room).not_to_have_attribute("data-in-call", "true")
    moderator.get_by_role("link", name="Printable transcript").click()
    expect(moderator).to_have_url(re.compile(r"/consultations/\d+/transcript$"))
    expect(moderator.locator(".transcript-lines")).to_contain_text("The hearing is set for Monday.")
    _shot(moderator, tmp_path, "transcript")
