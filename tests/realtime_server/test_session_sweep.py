"""Issue 8, ASVS 3.3.2, on the real server: a browser socket whose session times out
while the page sends nothing (an unattended screen) is closed by the server's sweep,
so it stops receiving the channels' messages; another session of the same person keeps
its socket. (In-process: tests/accounts/test_sessions.py.)"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from datetime import timedelta

import socketio
import sqlalchemy as sa

from network.models.base import utcnow
from tests.realtime_server.conftest import ACK_SECONDS, LiveServer, wait_until

PERSON = "contact.ghana@example.org"  # signs in nowhere else in these tests
PASSWORD = "demo-password-2026"
# One browser: the sign-in and its socket come with the same User-Agent (Flask-Login's
# strong session protection ties the session to it).
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) session-sweep-test"


def _session_cookie(server: LiveServer) -> str:
    """Sign in through the real form; the ``Cookie`` header of that browser."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", BROWSER)]
    with opener.open(f"{server.url}/login", timeout=ACK_SECONDS) as page:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.read().decode())[1]
    form = urllib.parse.urlencode({"email": PERSON, "password": PASSWORD, "csrf_token": token})
    with opener.open(f"{server.url}/login", form.encode(), timeout=ACK_SECONDS) as answer:
        assert "/login" not in answer.url, "the sign-in failed"
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _browser_socket(server: LiveServer, cookie: str) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(
        server.url,
        headers={"Cookie": cookie, "User-Agent": BROWSER},
        transports=["websocket"],
        wait_timeout=ACK_SECONDS,
    )
    return client


def test_the_socket_of_a_session_that_timed_out_unnoticed_is_closed(live_server):
    engine = sa.create_engine(live_server.database_url)
    try:
        with engine.begin() as db:
            before = db.scalar(sa.text("SELECT COALESCE(MAX(id), 0) FROM user_sessions"))
        unattended = _browser_socket(live_server, _session_cookie(live_server))
        other = _browser_socket(live_server, _session_cookie(live_server))
        try:
            with engine.begin() as db:
                rows = (
                    db.execute(
                        sa.text("SELECT id FROM user_sessions WHERE id > :before ORDER BY id"),
                        {"before": before},
                    )
                    .scalars()
                    .all()
                )
                assert len(rows) == 2
                # The first browser's page has sent nothing for 31 minutes.
                db.execute(
                    sa.text("UPDATE user_sessions SET last_seen_at = :then WHERE id = :id"),
                    {"then": utcnow() - timedelta(minutes=31), "id": rows[0]},
                )
            wait_until(lambda: not unattended.connected, "the server to close the idle socket")
            assert other.connected
            ack = other.call("watch", {"channel_ids": []}, timeout=ACK_SECONDS)
            assert ack["ok"] is True
            with engine.begin() as db:
                reason = db.scalar(
                    sa.text("SELECT revoked_reason FROM user_sessions WHERE id = :id"),
                    {"id": rows[0]},
                )
            assert reason == "idle"
        finally:
            for client in (unattended, other):
                if client.connected:
                    client.disconnect()
    finally:
        engine.dispose()
