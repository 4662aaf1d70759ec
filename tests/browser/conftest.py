"""Browser fixtures: the real server process with demo data, Debian's Chromium, a page.

One server serves the whole session: ``network init`` and ``network seed-demo`` run in a
fresh instance folder, then the server starts exactly as ``network serve`` starts it
(``network.server.BOOTSTRAP`` on eventlet) on a free loopback port. Each test gets a
new browser context, so cookies and language choices never leak between tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    expect,
    sync_playwright,
)

from network.services.demo import DEMO_PASSWORD
from tests.server_process import free_port, launch, stop, wait_until_healthy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Playwright's default is 30 s; a failing expectation should fail well before that,
# yet leave room for two cores shared with other work.
EXPECT_TIMEOUT_MS = 10_000


def _server_env(instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The server must use its own SQLite instance, whatever the caller's shell exports.
    for name in ("NETWORK_DATABASE_URL", "NETWORK_REDIS_URL", "NETWORK_SECURE_COOKIES"):
        env.pop(name, None)
    env["NETWORK_INSTANCE_PATH"] = str(instance)
    env["PYTHONUNBUFFERED"] = "1"
    # Every browser test signs in from the same loopback address, dozens within a minute:
    # the per-address sign-in limit (proved in tests/accounts) would refuse the later ones.
    env["NETWORK_LOGIN_RATE_LIMIT"] = "1000 per minute"
    return env


def _run_cli(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, "-m", "flask", "--app", "network", *args]
    result = subprocess.run(
        command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"`{' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the real server (eventlet, SQLite, demo data) for this session."""
    instance = tmp_path_factory.mktemp("browser-instance")
    env = _server_env(instance)
    _run_cli(env, "init")
    _run_cli(env, "seed-demo")
    port = free_port()
    # The allowed Socket.IO origin: the browser's pages come from this address.
    env["NETWORK_BASE_URL"] = f"http://127.0.0.1:{port}"
    log = instance / "server.log"
    process = launch(env, port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; never a downloaded browser."""
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    chromium = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


def _watch(tab: Page) -> list[str]:
    """Collect what a person would see break: script errors, CSP refusals, missing assets.

    Error statuses of pages themselves (401 after a wrong password, 422 for a bad
    import) are expected answers, so only failed static assets are collected.
    """
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    def on_response(response: Response) -> None:
        if response.status >= 400 and "/static/" in response.url:
            problems.append(f"{response.status} {response.url}")

    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", on_console)
    tab.on("response", on_response)
    return problems


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context (no cookies); fails the test on script errors."""
    opened: list[tuple[BrowserContext, list[str]]] = []

    def open_page(width: int = 1280, height: int = 900, **options: Any) -> Page:
        options.setdefault("locale", "en-GB")  # the browser's language (Accept-Language)
        context = browser.new_context(
            base_url=live_server,
            viewport={"width": width, "height": height},
            **options,
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


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page at desktop width (1280 px), English, signed out."""
    return new_page()


@pytest.fixture
def sign_in() -> Callable[[Page, str], Page]:
    """Sign in through the login form as one of the demo accounts."""

    def do_sign_in(page: Page, email: str) -> Page:
        page.goto("/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        # Signed in, the form redirects to the home page ("/"); a failure stays on /login.
        expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))
        return page

    return do_sign_in
