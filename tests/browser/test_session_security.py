"""Issue 8 in a real browser: the re-authentication prompt before an export, and the
enrolment a network's two-factor requirement imposes. Its own server, where every
sensitive action asks again three seconds after the last proof
(``NETWORK_REAUTH_MINUTES=0.05``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from network.services.demo import DEMO_PASSWORD
from tests.browser.conftest import EXPECT_TIMEOUT_MS, _run_cli, _server_env, _watch
from tests.server_process import free_port, launch, stop, wait_until_healthy

COORDINATOR = "coordinator.wacap@example.org"


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    instance = tmp_path_factory.mktemp("browser-sessions")
    env = _server_env(instance)
    env["NETWORK_REAUTH_MINUTES"] = "0.05"
    _run_cli(env, "init")
    _run_cli(env, "seed-demo")
    port = free_port()
    env["NETWORK_BASE_URL"] = f"http://127.0.0.1:{port}"
    log = instance / "server.log"
    process = launch(env, port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield url
    finally:
        stop(process)


@pytest.fixture
def page(browser: Browser, strict_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=strict_server, locale="en-GB", accept_downloads=True)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    tab = context.new_page()
    problems = _watch(tab)
    yield tab
    context.close()
    assert not problems, "\n".join(problems)


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))


def test_an_export_asks_for_the_password_then_downloads(page: Page):
    """ASVS 3.7.1: the re-authentication prompt before an export, then the file."""
    _sign_in(page, COORDINATOR)
    page.goto("/directory/")
    page.wait_for_timeout(3500)  # the proof given at sign-in is now too old
    page.get_by_role("link", name="Export CSV").click()
    expect(page).to_have_url(re.compile(r"/reauthenticate\?next="))
    expect(page.get_by_role("heading", name="Confirm who you are")).to_be_visible()
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("The password or code is wrong.")).to_be_visible()
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    with page.expect_download() as download:
        page.get_by_role("button", name="Confirm").click()
    assert download.value.suggested_filename == "contact-points.csv"


def test_a_network_requiring_2fa_sends_its_members_to_enrol(page: Page):
    """ASVS 2.2.x / 1.2.x: the coordinator turns the requirement on from the network page;
    from then on the members without 2FA land on enrolment whatever they open."""
    _sign_in(page, COORDINATOR)
    page.goto("/directory/networks/wacap/edit")
    page.get_by_label("Members must use two-factor sign-in").check()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/account/2fa(#.*)?$"))
    expect(page.get_by_text("Your network requires two-factor sign-in")).to_be_visible()
    page.goto("/directory/")
    expect(page).to_have_url(re.compile(r"/account/2fa(#.*)?$"))
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
