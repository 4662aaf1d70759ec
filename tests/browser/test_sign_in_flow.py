"""Signing in through the login form in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from network.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

CONTACT_POINT = "contact.senegal@example.org"


def _account_name(email: str) -> str:
    return next(account[1] for account in DEMO_ACCOUNTS if account[0] == email)


def test_wrong_password_shows_the_error_and_the_right_one_signs_in(page: Page) -> None:
    page.goto("/")
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("E-mail").fill(CONTACT_POINT)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Sign-in failed: the e-mail or password is wrong")).to_be_visible()
    expect(page.get_by_role("link", name="Directory")).to_have_count(0)

    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_role("heading", name=f"Welcome, {_account_name(CONTACT_POINT)}")
    ).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Directory")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
