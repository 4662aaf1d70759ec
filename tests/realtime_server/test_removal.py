"""Removal from a channel against the real server (eventlet) with real python-socketio
clients: the removed member's live socket leaves the channel's room at once, server side,
is told so, receives no further message of the channel, and cannot join it again."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from typing import Any

from tests.realtime_server.conftest import ACK_SECONDS, LiveServer, wait_until


def _call(server: LiveServer, who: str, method: str, path: str, body: Any = None) -> Any:
    """A REST call as one of the demo accounts (bearer token: no CSRF)."""
    request = urllib.request.Request(  # noqa: S310 - http on loopback
        f"{server.url}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {server.tokens[who]}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=ACK_SECONDS) as response:  # noqa: S310
        raw = response.read()
        return json.loads(raw) if raw else None


def test_a_removed_member_is_cut_off_at_once_and_cannot_rejoin(live_server, peers):
    coordinator_id = _call(live_server, "coordinator", "GET", "/me")["id"]
    topic = _call(
        live_server,
        "sender",
        "POST",
        "/channels",
        {
            "kind": "topic",
            "network": "wacap",
            "name": f"Removal {uuid.uuid4().hex[:6]}",
            "members": [coordinator_id],
        },
    )
    network = live_server.wacap_channel()
    owner = peers(live_server, "sender")
    member = peers(live_server, "coordinator")
    removals: list[dict[str, Any]] = []
    lock = threading.Lock()

    def on_removed(payload: dict[str, Any]) -> None:
        with lock:
            removals.append(payload)

    member.client.on("channel_removed", on_removed)
    for peer in (owner, member):
        assert peer.call("join", {"channel_id": topic["id"], "after_seq": 0})["ok"]
    assert member.call("join", {"channel_id": network["id"], "after_seq": network["last_seq"]})[
        "ok"
    ]

    def send(channel_id: int, body: str) -> dict[str, Any]:
        ack = owner.call(
            "send", {"channel_id": channel_id, "client_id": uuid.uuid4().hex, "body": body}
        )
        assert ack["ok"], ack
        return ack

    before = send(topic["id"], "before the removal")
    wait_until(lambda: member.seqs(topic["id"]) == [before["seq"]], "the first message")

    assert (
        _call(live_server, "sender", "DELETE", f"/channels/{topic['id']}/members/{coordinator_id}")
        is None
    )
    wait_until(lambda: bool(removals), "the channel_removed event")
    assert removals == [{"channel_id": topic["id"], "channel_name": topic["name"]}]

    send(topic["id"], "after the removal")
    # A barrier: a message of another channel, sent later on the same connection. When it
    # has arrived, anything of the topic sent before it would have arrived too.
    barrier = send(network["id"], f"barrier {uuid.uuid4().hex[:6]}")
    wait_until(lambda: barrier["seq"] in member.seqs(network["id"]), "the barrier message")
    assert member.seqs(topic["id"]) == [before["seq"]]

    rejoin = member.call("join", {"channel_id": topic["id"], "after_seq": 0})
    assert rejoin["ok"] is False
    assert rejoin["error"]["code"] == "not_found"
    sent = member.call(
        "send", {"channel_id": topic["id"], "client_id": uuid.uuid4().hex, "body": "let me in"}
    )
    assert sent["error"]["code"] == "not_found"
