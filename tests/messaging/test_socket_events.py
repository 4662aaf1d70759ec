"""Channel events over Socket.IO (Flask-SocketIO's test client, the real handlers and
services): join with catch-up, send with acknowledgement, retries, typing, access."""

from __future__ import annotations

from typing import Any

from network.extensions import socketio
from network.services import accounts
from tests.messaging.conftest import client_id, post


def _socket(app: Any, client: Any) -> Any:
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    return socket


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    # The test client gives a single argument as is, several as a list.
    args = event["args"]
    return args[0] if isinstance(args, list) else args


def _messages(socket: Any) -> list[dict[str, Any]]:
    return [_payload(e) for e in socket.get_received() if e["name"] == "message"]


def test_join_returns_what_was_missed_after_the_last_seq(app, client, login, room):
    login(client, room.contact_point)
    for n in range(1, 5):
        post(client, room.channel.id, f"update {n}")
    socket = _socket(app, client)
    ack = socket.emit("join", {"channel_id": room.channel.id, "after_seq": 2}, callback=True)
    assert ack["ok"] is True
    assert [m["seq"] for m in ack["messages"]] == [3, 4]
    assert ack["more"] is False


def test_a_message_sent_on_a_socket_reaches_the_other_members_in_the_room(app, client, login, room):
    sender = _socket(app, login(client, room.contact_point))
    reader = _socket(app, login(app.test_client(), room.observer))
    for socket in (sender, reader):
        assert socket.emit("join", {"channel_id": room.channel.id, "after_seq": 0}, callback=True)[
            "ok"
        ]
    reader.get_received()
    ack = sender.emit(
        "send",
        {
            "channel_id": room.channel.id,
            "client_id": client_id(),
            "body": "Hearing moved to *Friday*",
        },
        callback=True,
    )
    assert ack["ok"] is True
    assert ack["seq"] == 1
    [received] = _messages(reader)
    assert received["id"] == ack["id"]
    assert "<em>Friday</em>" in received["html"]


def test_a_retried_send_is_acknowledged_with_the_same_seq_and_delivered_once(
    app, client, login, room
):
    sender = _socket(app, login(client, room.contact_point))
    reader = _socket(app, login(app.test_client(), room.coordinator))
    reader.emit("join", {"channel_id": room.channel.id, "after_seq": 0}, callback=True)
    reader.get_received()
    payload = {"channel_id": room.channel.id, "client_id": client_id(), "body": "only once"}
    first = sender.emit("send", payload, callback=True)
    second = sender.emit("send", payload, callback=True)
    assert (first["id"], first["seq"]) == (second["id"], second["seq"])
    assert second["created"] is False
    assert len(_messages(reader)) == 1


def test_a_message_posted_through_the_api_reaches_sockets_too(app, client, login, room):
    reader = _socket(app, login(app.test_client(), room.observer))
    reader.emit("join", {"channel_id": room.channel.id, "after_seq": 0}, callback=True)
    reader.get_received()
    login(client, room.contact_point)
    posted = post(client, room.channel.id, "from the web page").get_json()
    assert [m["id"] for m in _messages(reader)] == [posted["id"]]


def test_member_of_another_network_cannot_join_or_send(app, client, login, room):
    outsider = _socket(app, login(client, room.outsider))
    join = outsider.emit("join", {"channel_id": room.channel.id, "after_seq": 0}, callback=True)
    assert join == {"ok": False, "error": {"code": "not_found", "message": "No such channel."}}
    send = outsider.emit(
        "send",
        {"channel_id": room.channel.id, "client_id": client_id(), "body": "hi"},
        callback=True,
    )
    assert send["ok"] is False


def test_observer_is_refused_when_sending(app, client, login, room):
    observer = _socket(app, login(client, room.observer))
    ack = observer.emit(
        "send",
        {"channel_id": room.channel.id, "client_id": client_id(), "body": "hi"},
        callback=True,
    )
    assert ack["ok"] is False
    assert ack["error"]["code"] == "forbidden"


def test_malformed_events_get_an_error_acknowledgement(app, client, login, room):
    socket = _socket(app, login(client, room.contact_point))
    for payload in (None, "text", [1, 2], {"channel_id": "one"}, {"channel_id": True}):
        ack = socket.emit("join", payload, callback=True)
        assert ack["ok"] is False, payload
        assert ack["error"]["code"] in {"validation_error", "not_found"}
    ack = socket.emit(
        "send", {"channel_id": room.channel.id, "client_id": client_id(), "body": ""}, callback=True
    )
    assert ack["error"]["code"] == "validation_error"
    assert socket.is_connected()


def test_a_token_revoked_after_connecting_stops_working_at_once(app, room, db):
    token, plain = accounts.create_token(room.contact_point, "bot")
    socket = socketio.test_client(app, auth={"token": plain})
    assert socket.emit("join", {"channel_id": room.channel.id, "after_seq": 0}, callback=True)["ok"]
    accounts.revoke_token(room.contact_point, token.id)
    ack = socket.emit("join", {"channel_id": room.channel.id, "after_seq": 0}, callback=True)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "unauthorized"


def test_typing_is_relayed_to_the_others_in_the_room(app, client, login, room):
    typist = _socket(app, login(client, room.contact_point))
    reader = _socket(app, login(app.test_client(), room.coordinator))
    for socket in (typist, reader):
        socket.emit("join", {"channel_id": room.channel.id, "after_seq": 0}, callback=True)
        socket.get_received()
    assert typist.emit("typing", {"channel_id": room.channel.id}, callback=True)["ok"]
    [event] = [e for e in reader.get_received() if e["name"] == "typing"]
    assert _payload(event)["user"]["name"] == room.contact_point.name
    assert not [e for e in typist.get_received() if e["name"] == "typing"]


def test_read_marker_moves_forward_only(app, client, login, room):
    login(client, room.contact_point)
    for n in range(3):
        post(client, room.channel.id, f"m{n}")
    socket = _socket(app, login(app.test_client(), room.coordinator))
    assert (
        socket.emit("read", {"channel_id": room.channel.id, "seq": 2}, callback=True)[
            "last_read_seq"
        ]
        == 2
    )
    assert (
        socket.emit("read", {"channel_id": room.channel.id, "seq": 1}, callback=True)[
            "last_read_seq"
        ]
        == 2
    )
    assert (
        socket.emit("read", {"channel_id": room.channel.id, "seq": 99}, callback=True)[
            "last_read_seq"
        ]
        == 3
    )
