"""Cross-site WebSocket hijacking (issue 8; OWASP ASVS V13.2.3, V14.5.3, V4.2.2):
a page of another site cannot open a Socket.IO connection that rides on the platform's
session cookie.

A browser attaches the session cookie to a WebSocket handshake and to a cross-origin
polling request, and says where the page comes from in ``Origin``. Engine.IO refuses a
handshake whose ``Origin`` is not the platform's own address
(``SOCKET_ALLOWED_ORIGINS``, from ``BASE_URL``; never ``*``), before any Socket.IO
``connect`` handler runs. These requests go through the real WSGI stack in process (the
Flask test client calls the Socket.IO middleware, which makes the Origin check; the
Flask-SocketIO test client would skip it). The real-server test for tokens is in
tests/realtime_server/test_consultations_live.py.
"""

from __future__ import annotations

import json

import pytest

from network.extensions import socketio

FOREIGN = "https://evil.example.org"
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


@pytest.fixture(autouse=True)
def _real_socket_server(monkeypatch):  # type: ignore[no-untyped-def]
    """The server as it runs, for these requests: Flask-SocketIO's test client (used by
    other tests in the same process) replaces the server's packet senders with its own,
    which drop the packets of every other client; handlers run inside the polling
    request, on the test's thread and its rolled-back connection."""
    for name in ("_send_packet", "_send_eio_packet"):
        if name in vars(socketio.server):
            monkeypatch.delattr(socketio.server, name)
    monkeypatch.setattr(socketio.server.eio, "async_handlers", False)
    monkeypatch.setattr(socketio.server, "async_handlers", False)


@pytest.fixture
def signed_in(client, make_user, login):  # type: ignore[no-untyped-def]
    return login(client, make_user("contact_point", "wacap"))


def _connect_answer(client, url: str, origin: str) -> str:  # type: ignore[no-untyped-def]
    """The Socket.IO answer to the connect packet: "40…" (connected) or "44…" (refused),
    skipping Engine.IO pings that may come first in the polled payloads."""
    for _poll in range(5):
        payload = client.get(url, headers={"Origin": origin}).get_data(as_text=True)
        for packet in payload.split("\x1e"):
            if packet.startswith(("40", "44")):
                return packet
    pytest.fail("no answer to the Socket.IO connect packet")


def _own_origin(app) -> str:  # type: ignore[no-untyped-def]
    origins = app.config["SOCKET_ALLOWED_ORIGINS"]
    assert origins
    assert "*" not in origins
    return origins[0]


def test_the_platform_accepts_only_its_own_origins(app) -> None:  # type: ignore[no-untyped-def]
    assert socketio.server.eio.cors_allowed_origins == app.config["SOCKET_ALLOWED_ORIGINS"]
    assert FOREIGN not in app.config["SOCKET_ALLOWED_ORIGINS"]


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_foreign_origin_with_a_valid_session_cookie_is_refused(signed_in, transport) -> None:  # type: ignore[no-untyped-def]
    assert signed_in.get_cookie("session") is not None  # the browser would send it
    response = signed_in.get(
        f"/socket.io/?EIO=4&transport={transport}", headers={"Origin": FOREIGN}
    )
    assert response.status_code == 400
    assert b"sid" not in response.data  # no Engine.IO session was opened
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1.evil.example.org", "file://"])
def test_look_alike_and_opaque_origins_are_refused(signed_in, origin) -> None:  # type: ignore[no-untyped-def]
    assert signed_in.get(HANDSHAKE, headers={"Origin": origin}).status_code == 400


def test_own_origin_with_the_session_cookie_connects(app, signed_in) -> None:  # type: ignore[no-untyped-def]
    """The control: the same request from the platform's own page opens the connection
    (Engine.IO handshake, then the Socket.IO connect authenticated by the cookie)."""
    origin = _own_origin(app)
    opened = signed_in.get(HANDSHAKE, headers={"Origin": origin})
    assert opened.status_code == 200, opened.data
    assert opened.headers["Access-Control-Allow-Origin"] == origin
    sid = json.loads(opened.get_data(as_text=True)[1:])["sid"]
    url = f"{HANDSHAKE}&sid={sid}"
    assert signed_in.post(url, data="40", headers={"Origin": origin}).status_code == 200
    answer = _connect_answer(signed_in, url, origin)
    assert answer.startswith("40{"), answer  # connected (a refusal is "44")
    assert '"sid"' in answer, answer
    signed_in.post(url, data="1", headers={"Origin": origin})  # close


def test_own_origin_without_a_session_is_refused_by_connect(app, client) -> None:  # type: ignore[no-untyped-def]
    """And the Origin alone is no credential: without a session the connect is refused."""
    origin = _own_origin(app)
    opened = client.get(HANDSHAKE, headers={"Origin": origin})
    sid = json.loads(opened.get_data(as_text=True)[1:])["sid"]
    url = f"{HANDSHAKE}&sid={sid}"
    client.post(url, data="40", headers={"Origin": origin})
    answer = _connect_answer(client, url, origin)
    assert answer.startswith("44"), answer  # CONNECT_ERROR
