"""Each interface language in a real browser (issue 9): the main pages carry no English
the catalogue translates, and Arabic pages run right to left with the navigation starting
at the right edge. Screenshots go to NETWORK_SHOTS_DIR (default test-artifacts/languages).

A visible text (a text node, or a button's value, a placeholder, a title or aria-label)
that equals an English message of at least two words, and differs from that message's
translation, is untranslated English. Demo data (names, channel names, messages) is not
in the catalogue, so it is never mistaken for interface text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from network.services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "network" / "translations"
SHOTS = Path(os.environ.get("NETWORK_SHOTS_DIR") or ROOT / "test-artifacts" / "languages")
LANGUAGES = ("fr", "es", "pt", "ar", "ru")
# An account no other browser test uses, with no language saved on its profile, so the
# browser's Accept-Language chooses (and nothing is saved that another test would see).
ACCOUNT = "secretariat.iberred@example.org"
PAGES = {
    "home": "/",
    "directory": "/directory/",
    "channels": "/channels/",
    "channel": None,  # the first channel listed on /channels/
    "cases": "/cases/",
    "calendar": "/calendar/",
    "calendar-month": "/calendar/month",
    "notifications": "/notifications/",
    "account": "/account/",
    "network-edit": "/directory/networks/iberred/edit",  # the names per language
    "audit": "/audit",  # a table
    "training": "/training/",
    "consultation-new": "/consultations/new",
}
# Every visible text of the page, and the texts people read in attributes.
VISIBLE_TEXTS = """() => {
  const out = [];
  const shown = (el) => !!el && el.getClientRects().length > 0 &&
    getComputedStyle(el).visibility !== "hidden";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || ["SCRIPT", "STYLE", "NOSCRIPT"].includes(parent.tagName)) continue;
    if (shown(parent)) out.push(node.textContent);
  }
  const labelled = "[placeholder], [title], [aria-label], input[type=submit]";
  for (const el of document.querySelectorAll(labelled)) {
    for (const name of ["placeholder", "title", "aria-label"]) {
      if (el.hasAttribute(name)) out.push(el.getAttribute(name));
    }
    if (el.tagName === "INPUT" && el.type === "submit") out.push(el.value);
  }
  return out;
}"""


@cache
def _catalogue(code: str) -> dict[str, str]:
    """English message -> translation, for the single messages of two words or more."""
    path = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        pytest.fail(
            f"no {code!r} catalogue ({path.relative_to(ROOT)}): see tests/test_i18n.py",
            pytrace=False,
        )
    if not path.with_suffix(".mo").is_file():
        pytest.fail(f"the {code!r} catalogue is not compiled: run `make translations`")
    with path.open("rb") as f:
        catalog = read_po(f)
    return {
        m.id: m.string
        for m in catalog
        if isinstance(m.id, str) and len(m.id.split()) >= 2 and "%" not in m.id
    }


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _untranslated(texts: list[str], code: str) -> list[str]:
    messages = _catalogue(code)
    found = []
    for text in {_normal(t) for t in texts if t}:
        if text in messages and messages[text] and messages[text] != text:
            found.append(text)
    return sorted(found)


def _sign_in(page: Page) -> None:
    """Sign in whatever language the form is in (fields by id, not by English label)."""
    page.goto("/login")
    page.locator("#email").fill(ACCOUNT)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_main_pages_carry_no_untranslated_english(
    new_page: Callable[..., Page], code: str
) -> None:
    _catalogue(code)
    page = new_page(locale=code)
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", code)
    problems = {}
    found = _untranslated(page.evaluate(VISIBLE_TEXTS), code)
    if found:
        problems["login"] = found
    _shoot(page, f"{code}-login")
    _sign_in(page)
    for name, path in PAGES.items():
        if path is None:
            page.goto("/channels/")
            href = page.evaluate(
                """() => [...document.querySelectorAll("main a[href]")]
                    .map((a) => a.getAttribute("href"))
                    .find((h) => /^\\/channels\\/\\d+\\/?$/.test(h))"""
            )
            assert href, "no channel listed on /channels/"
            page.goto(href)
        else:
            page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", code)
        found = _untranslated(page.evaluate(VISIBLE_TEXTS), code)
        if found:
            problems[name] = found
        _shoot(page, f"{code}-{name}")
    assert not problems, f"English left on the {code} pages: {problems}"


def test_arabic_pages_run_right_to_left(new_page: Callable[..., Page]) -> None:
    _catalogue("ar")
    page = new_page(locale="ar")
    _sign_in(page)
    for name in (
        "home",
        "directory",
        "channels",
        "calendar-month",
        "account",
        "network-edit",
        "audit",
    ):
        page.goto(PAGES[name])
        html = page.locator("html")
        expect(html).to_have_attribute("dir", "rtl")
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        items = page.locator("#site-nav > ul > li")
        first = items.first.bounding_box()
        last = items.last.bounding_box()
        bar = page.locator("#site-nav > ul").bounding_box()
        assert first
        assert last
        assert bar
        # The first item at the right edge, the next ones to its left.
        assert abs((first["x"] + first["width"]) - (bar["x"] + bar["width"])) <= 2, name
        assert first["x"] > last["x"] or first["y"] < last["y"], name
        # The brand (first in the header) is at the right too.
        brand = page.locator(".brand").bounding_box()
        assert brand
        assert brand["x"] > page.viewport_size["width"] / 2, name
        _shoot(page, f"ar-rtl-{name}")


def test_the_check_sees_english_where_there_is_english(new_page: Callable[..., Page]) -> None:
    """The detector itself: an English page is full of English the French catalogue
    translates, so a page that is not translated cannot pass."""
    page = new_page()
    page.goto("/login")
    found = _untranslated(page.evaluate(VISIBLE_TEXTS), "fr")
    assert "Judicial Cooperation Networks" in found
    assert "Keep me signed in on this device" in found
