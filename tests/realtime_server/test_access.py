"""Who may connect and join, asked of the real server: a socket without a valid token is
refused, a member of another network cannot join or write the WACAP channel, and an
observer can join but not write."""

from __future__ import annotations

import uuid

import pytest
import socketio

from tests.realtime_server.conftest import ACK_SECONDS


@pytest.mark.parametrize(
    "auth",
    [None, {"token": "ntk_never-issued"}, {"token": ""}, {"something": "else"}],
    ids=["no-auth", "bogus-token", "empty-token", "no-token-key"],
)
def test_a_socket_without_a_valid_token_is_refused(live_server, auth):
    def connect(auth):
        client = socketio.Client(reconnection=False)
        try:
            client.connect(
                live_server.url, auth=auth, transports=["websocket"], wait_timeout=ACK_SECONDS
            )
            return client.connected
        except socketio.exceptions.ConnectionError:
            return False
        finally:
            client.shutdown()

    # The same client with a valid token does connect: the refusal is about the token.
    assert connect({"token": live_server.tokens["coordinator"]}) is True
    assert connect(auth) is False


def test_a_member_of_another_network_cannot_join_or_write_the_channel(live_server, peers):
    channel = live_server.wacap_channel()
    outsider = peers(live_server, "outsider")

    joined = outsider.call("join", {"channel_id": channel["id"], "after_seq": 0})
    sent = outsider.call(
        "send", {"channel_id": channel["id"], "client_id": uuid.uuid4().hex, "body": "intrusion"}
    )

    assert joined["ok"] is False
    assert joined["error"]["code"] == "not_found"
    assert "messages" not in joined
    assert sent["ok"] is False
    assert sent["error"]["code"] == "not_found"
    assert live_server.wacap_channel()["last_seq"] == channel["last_seq"]
    history = live_server.history("coordinator", channel["id"], channel["last_seq"])
    assert history == []


def test_an_observer_joins_but_cannot_write(live_server, peers):
    channel = live_server.wacap_channel()
    observer = peers(live_server, "observer")

    joined = observer.call("join", {"channel_id": channel["id"], "after_seq": channel["last_seq"]})
    sent = observer.call(
        "send", {"channel_id": channel["id"], "client_id": uuid.uuid4().hex, "body": "read only"}
    )

    assert joined["ok"] is True
    assert sent == {
        "ok": False,
        "error": {"code": "forbidden", "message": sent["error"]["message"]},
    }
    assert live_server.wacap_channel()["last_seq"] == channel["last_seq"]
