"""Consultation socket events with Flask-SocketIO's test client (the real handlers and
services): the door and admission, presence with away state and join/leave lines, typing
in the room, knocks to the invitee's every socket, signals relayed only between admitted
members present in the room, removal and ending."""

from __future__ import annotations

from typing import Any

import pytest

from network.extensions import socketio
from network.services import consultations, messaging
from tests.messaging.conftest import client_id


def _socket(app: Any, login: Any, user: Any) -> Any:
    socket = socketio.test_client(app, flask_test_client=login(app.test_client(), user))
    assert socket.is_connected()
    return socket


def _arg(event: dict[str, Any]) -> dict[str, Any]:
    args = event["args"]
    return args[0] if isinstance(args, list) else args


def _events(socket: Any, name: str) -> list[dict[str, Any]]:
    return [_arg(e) for e in socket.get_received() if e["name"] == name]


def _call(socket: Any, event: str, **data: Any) -> dict[str, Any]:
    return socket.emit(event, data, callback=True)


@pytest.fixture
def room(desk):  # type: ignore[no-untyped-def]
    return consultations.create_consultation(
        desk.owner, "Before refusing", [desk.member.id], case_id=desk.case.id
    )


def test_knock_reaches_every_socket_of_the_invitee(app, login, desk):
    tab1 = _socket(app, login, desk.member)
    tab2 = _socket(app, login, desk.member)
    other = _socket(app, login, desk.bystander)
    found = consultations.create_consultation(
        desk.owner, "Knock knock", [desk.member.id], case_id=desk.case.id
    )
    for tab in (tab1, tab2):
        [knock] = _events(tab, "knock")
        assert knock["consultation_id"] == found.id
        assert knock["title"] == "Knock knock"
        assert knock["from"] == {"id": desk.owner.id, "name": desk.owner.name}
        assert knock["url"] == f"/consultations/{found.id}"
    assert _events(other, "knock") == []


def test_the_door_admission_presence_and_lines(app, login, desk, room):
    moderator = _socket(app, login, desk.owner)
    guest = _socket(app, login, desk.member)
    ack = _call(moderator, "consultation_join", consultation_id=room.id, after_seq=0)
    assert ack["ok"], ack
    assert ack["state"] == "admitted"
    assert ack["ice_servers"] == []
    assert [p["id"] for p in ack["presence"]["online"]] == [desk.owner.id]
    moderator.get_received()
    ack = _call(guest, "consultation_join", consultation_id=room.id, after_seq=0)
    assert ack == {"ok": True, "consultation_id": room.id, "state": "waiting"}
    [presence] = _events(moderator, "presence")
    assert presence["channel_id"] == room.channel_id
    assert [p["id"] for p in presence["waiting"]] == [desk.member.id]
    # The guest cannot send, type or read before being admitted.
    assert not _call(guest, "send", channel_id=room.channel_id, client_id=client_id(), body="x")[
        "ok"
    ]
    assert not _call(guest, "join", channel_id=room.channel_id, after_seq=0)["ok"]
    assert not _call(guest, "consultation_admit", consultation_id=room.id, user_id=desk.member.id)[
        "ok"
    ]
    assert _call(moderator, "consultation_admit", consultation_id=room.id, user_id=desk.member.id)[
        "ok"
    ]
    assert _events(guest, "consultation_admitted") == [
        {"consultation_id": room.id, "channel_id": room.channel_id}
    ]
    ack = _call(guest, "consultation_join", consultation_id=room.id, after_seq=0)
    assert ack["state"] == "admitted"
    # The moderator's join line is in the history the guest gets back.
    assert [consultations.line_kind(m) for m in ack["messages"]] == ["join"]
    assert {p["id"] for p in ack["presence"]["online"]} == {desk.owner.id, desk.member.id}
    assert ack["presence"]["waiting"] == []
    lines = _events(moderator, "message")
    assert [consultations.line_kind(m) for m in lines] == ["join"]
    assert lines[0]["author"]["id"] == desk.member.id
    # Away, then typing, then a message through the channels' pipeline.
    assert _call(guest, "consultation_away", consultation_id=room.id, away=True)["ok"]
    [presence] = _events(moderator, "presence")[-1:]
    assert [p["away"] for p in presence["online"] if p["id"] == desk.member.id] == [True]
    assert _call(guest, "typing", channel_id=room.channel_id)["ok"]
    assert _events(moderator, "typing") == [
        {"channel_id": room.channel_id, "user": {"id": desk.member.id, "name": desk.member.name}}
    ]
    assert _call(guest, "send", channel_id=room.channel_id, client_id=client_id(), body="Hello")[
        "ok"
    ]
    assert [m["html"].strip() for m in _events(moderator, "message")] == ["<p>Hello</p>"]
    # Leaving writes the leave line; a second socket of the same person writes none.
    second = _socket(app, login, desk.member)
    assert _call(second, "consultation_join", consultation_id=room.id, after_seq=0)["ok"]
    assert _events(moderator, "message") == []
    second.disconnect()
    assert _events(moderator, "message") == []
    guest.disconnect()
    received = moderator.get_received()
    left = [_arg(e) for e in received if e["name"] == "message"]
    assert [consultations.line_kind(m) for m in left] == ["leave"]
    presence = [_arg(e) for e in received if e["name"] == "presence"]
    assert [p["id"] for p in presence[-1]["online"]] == [desk.owner.id]
    ack = _call(moderator, "consultation_join", consultation_id=room.id, after_seq=0)
    assert [p["id"] for p in ack["presence"]["online"]] == [desk.owner.id]


def test_signals_go_only_to_admitted_members_in_the_room(app, login, desk, room):
    consultations.admit(room.id, desk.owner, desk.member.id)
    other_room = consultations.create_consultation(
        desk.owner, "Other", [desk.member.id], case_id=desk.case.id
    )
    a = _socket(app, login, desk.owner)
    b = _socket(app, login, desk.member)
    bystander = _socket(app, login, desk.bystander)
    offer = {"type": "offer", "sdp": "v=0"}
    # Not in the room yet: refused.
    assert not _call(a, "signal", consultation_id=room.id, to=desk.member.id, data=offer)["ok"]
    for s in (a, b):
        assert _call(s, "consultation_join", consultation_id=room.id, after_seq=0)["ok"]
    b.get_received()
    ack = _call(a, "signal", consultation_id=room.id, to=desk.member.id, data=offer)
    assert ack == {"ok": True, "delivered": 1}
    assert _events(b, "signal") == [
        {"consultation_id": room.id, "from": desk.owner.id, "data": offer}
    ]
    # Never to someone outside, nor from someone outside, nor across rooms, nor bad shapes.
    refused = [
        _call(a, "signal", consultation_id=room.id, to=desk.bystander.id, data=offer),
        _call(bystander, "signal", consultation_id=room.id, to=desk.owner.id, data=offer),
        _call(a, "signal", consultation_id=other_room.id, to=desk.member.id, data=offer),
        _call(a, "signal", consultation_id=room.id, to=desk.member.id, data={"type": "x"}),
        _call(a, "signal", consultation_id=room.id, to=desk.owner.id, data=offer),
    ]
    assert [r["ok"] for r in refused] == [False] * 5
    assert _events(bystander, "signal") == []
    assert _events(b, "signal") == []


def test_a_signal_to_a_room_one_may_not_read_answers_like_a_missing_room(app, login, desk, room):
    """Nobody tells which consultation ids exist by signalling them."""
    outsider = _socket(app, login, desk.outsider)
    data = {"to": desk.owner.id, "data": {"type": "ready"}}
    existing = _call(outsider, "signal", consultation_id=room.id, **data)
    missing = _call(outsider, "signal", consultation_id=room.id + 1000, **data)
    assert existing == missing
    assert existing["error"]["code"] == "not_found"
    joined = _call(outsider, "consultation_join", consultation_id=room.id)
    assert joined["error"] == existing["error"]


def test_removed_and_ended(app, login, desk, room):
    consultations.admit(room.id, desk.owner, desk.member.id)
    a = _socket(app, login, desk.owner)
    b = _socket(app, login, desk.member)
    for s in (a, b):
        assert _call(s, "consultation_join", consultation_id=room.id, after_seq=0)["ok"]
    b.get_received()
    assert _call(a, "consultation_remove", consultation_id=room.id, user_id=desk.member.id)["ok"]
    assert _events(b, "consultation_removed") == [
        {"consultation_id": room.id, "channel_id": room.channel_id}
    ]
    assert _call(a, "send", channel_id=room.channel_id, client_id=client_id(), body="after")["ok"]
    assert _events(b, "message") == []
    assert not _call(b, "consultation_join", consultation_id=room.id, after_seq=0)["ok"]
    assert not _call(b, "send", channel_id=room.channel_id, client_id=client_id(), body="x")["ok"]
    a.get_received()
    assert _call(a, "consultation_end", consultation_id=room.id)["ok"]
    assert _events(a, "consultation_ended") == [
        {"consultation_id": room.id, "channel_id": room.channel_id}
    ]
    ack = _call(a, "send", channel_id=room.channel_id, client_id=client_id(), body="late")
    assert ack["error"]["code"] == "forbidden"
    assert not _call(a, "consultation_join", consultation_id=room.id, after_seq=0)["ok"]


def test_removal_from_the_case_cuts_the_socket_off(app, login, desk, room):
    consultations.admit(room.id, desk.owner, desk.member.id)
    a = _socket(app, login, desk.owner)
    b = _socket(app, login, desk.member)
    for s in (a, b):
        assert _call(s, "consultation_join", consultation_id=room.id, after_seq=0)["ok"]
    b.get_received()
    a.get_received()
    messaging.remove_member(desk.case.channel_id, desk.owner, desk.member.id)
    assert {"consultation_id": room.id, "channel_id": room.channel_id} in _events(
        b, "consultation_removed"
    )
    [presence] = _events(a, "presence")
    assert [p["id"] for p in presence["online"]] == [desk.owner.id]
    assert _call(a, "send", channel_id=room.channel_id, client_id=client_id(), body="after")["ok"]
    assert _events(b, "message") == []
    assert not _call(b, "consultation_join", consultation_id=room.id, after_seq=0)["ok"]


def test_signals_and_events_are_held_to_size_limits(app, login, desk, room):
    consultations.admit(room.id, desk.owner, desk.member.id)
    a = _socket(app, login, desk.owner)
    b = _socket(app, login, desk.member)
    for s in (a, b):
        assert _call(s, "consultation_join", consultation_id=room.id, after_seq=0)["ok"]
    big = {"type": "offer", "sdp": "x" * (consultations.MAX_SIGNAL_BYTES + 10)}
    ack = _call(a, "signal", consultation_id=room.id, to=desk.member.id, data=big)
    assert ack["error"]["code"] == "validation_error"
    huge = {"type": "offer", "sdp": "x" * (70 * 1024)}
    ack = _call(a, "signal", consultation_id=room.id, to=desk.member.id, data=huge)
    assert ack["error"]["code"] == "too_large"
    b.get_received()
    assert _events(b, "signal") == []


def test_voice_and_video_stop_at_a_mesh_of_four(app, login, desk, make_user):
    extra = [make_user("contact_point", desk.network) for _ in range(3)]
    messaging.add_members(desk.case.channel_id, desk.owner, [u.id for u in extra])
    people = [desk.member, *extra]
    found = consultations.create_consultation(
        desk.owner, "Five", [u.id for u in people], case_id=desk.case.id
    )
    for person in people:
        consultations.admit(found.id, desk.owner, person.id)
    sockets = [_socket(app, login, u) for u in [desk.owner, *people]]
    offer = {"type": "offer", "sdp": "v=0"}
    for socket in sockets[:4]:
        assert _call(socket, "consultation_join", consultation_id=found.id, after_seq=0)["ok"]
    assert _call(sockets[0], "signal", consultation_id=found.id, to=desk.member.id, data=offer)[
        "ok"
    ]
    assert _call(sockets[4], "consultation_join", consultation_id=found.id, after_seq=0)["ok"]
    ack = _call(sockets[0], "signal", consultation_id=found.id, to=desk.member.id, data=offer)
    assert ack["error"]["code"] == "validation_error"
    assert "up to 4 people" in ack["error"]["message"]


def test_a_scheduled_room_knocks_when_it_opens(app, login, desk):
    from datetime import timedelta

    from network.extensions import db
    from network.models.base import utcnow

    guest = _socket(app, login, desk.member)
    found = consultations.create_consultation(
        desk.owner,
        "At ten",
        [desk.member.id],
        case_id=desk.case.id,
        scheduled_at=utcnow() + timedelta(minutes=5),
    )
    assert consultations.open_due() == 0
    assert _events(guest, "knock") == []  # the calendar invites; the room knocks at opening
    found.scheduled_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert consultations.open_due() == 1
    assert consultations.open_due() == 0
    [knock] = _events(guest, "knock")
    assert knock["consultation_id"] == found.id
    db.session.refresh(found)
    assert found.status == "live"
    assert found.started_at is not None


def test_the_moderator_invites_more_people_and_again_someone_removed(app, login, desk, room):
    from network.models.consultations import ParticipantState

    messaging.add_members(desk.case.channel_id, desk.owner, [desk.bystander.id])
    moderator = _socket(app, login, desk.owner)
    newcomer = _socket(app, login, desk.bystander)
    ack = _call(
        moderator, "consultation_invite", consultation_id=room.id, user_ids=[desk.bystander.id]
    )
    assert ack == {"ok": True, "invited": [desk.bystander.id]}
    assert [k["consultation_id"] for k in _events(newcomer, "knock")] == [room.id]
    # Not twice, nobody outside the case, and only by the moderator.
    for user_ids in ([desk.bystander.id], [desk.outsider.id], [desk.coordinator.id]):
        assert not _call(
            moderator, "consultation_invite", consultation_id=room.id, user_ids=user_ids
        )["ok"]
    assert not _call(
        newcomer, "consultation_invite", consultation_id=room.id, user_ids=[desk.member.id]
    )["ok"]
    consultations.remove(room.id, desk.owner, desk.bystander.id)
    assert _call(
        moderator, "consultation_invite", consultation_id=room.id, user_ids=[desk.bystander.id]
    )["ok"]
    db_room = consultations.find(room.id)
    assert db_room.participant_for(desk.bystander.id).state == ParticipantState.INVITED.value
