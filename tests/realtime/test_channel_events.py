"""Channel events over Socket.IO with Flask-SocketIO's test client (the real handlers and
services): removal takes effect at once, edits and deletions replace live, notifications
and receipts reach their person only, the channel list watches counts, and each
connection is held to a size and rate limit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from network.extensions import socketio
from network.models.messaging import Channel, ChannelKind, ChannelMember, Message
from network.services import messaging, notifications
from tests.messaging.conftest import client_id


def _socket(app: Any, login: Any, user: Any) -> Any:
    socket = socketio.test_client(app, flask_test_client=login(app.test_client(), user))
    assert socket.is_connected()
    return socket


def _arg(event: dict[str, Any]) -> dict[str, Any]:
    # The test client gives a single argument as is, several as a list.
    args = event["args"]
    return args[0] if isinstance(args, list) else args


def _events(socket: Any, name: str) -> list[dict[str, Any]]:
    return [_arg(e) for e in socket.get_received() if e["name"] == name]


def _join(socket: Any, channel_id: int, after_seq: int = 0) -> dict[str, Any]:
    return socket.emit("join", {"channel_id": channel_id, "after_seq": after_seq}, callback=True)


def _send(socket: Any, channel_id: int, body: str, **extra: Any) -> dict[str, Any]:
    payload = {"channel_id": channel_id, "client_id": client_id(), "body": body, **extra}
    return socket.emit("send", payload, callback=True)


@pytest.fixture
def topic(room):  # type: ignore[no-untyped-def]
    return messaging.create_topic_channel(
        room.contact_point, room.network, "Working group", "", [room.coordinator.id]
    )


def test_a_removed_member_stops_receiving_at_once_and_cannot_rejoin(app, login, room, topic):
    owner = _socket(app, login, room.contact_point)
    removed = _socket(app, login, room.coordinator)
    second_tab = _socket(app, login, room.coordinator)
    for socket in (owner, removed, second_tab):
        assert _join(socket, topic.id)["ok"]
    assert removed.emit("watch", {"channel_ids": [topic.id]}, callback=True)["ok"]
    assert _send(owner, topic.id, "before")["ok"]
    assert [m["seq"] for m in _events(removed, "message")] == [1]
    second_tab.get_received()

    messaging.remove_member(topic.id, room.contact_point, room.coordinator.id)
    assert _send(owner, topic.id, "after the removal")["ok"]

    for socket in (removed, second_tab):  # every socket of the person, server side
        received = socket.get_received()
        assert [e["name"] for e in received if e["name"] in {"message", "channel_activity"}] == []
        [notice] = [e for e in received if e["name"] == "channel_removed"]
        assert _arg(notice)["channel_id"] == topic.id
    assert _join(removed, topic.id)["error"]["code"] == "not_found"
    assert _send(removed, topic.id, "let me back in")["error"]["code"] == "not_found"
    read = removed.emit("read", {"channel_id": topic.id, "seq": 2}, callback=True)
    assert read["error"]["code"] == "not_found"
    assert _send(owner, topic.id, "still private")["ok"]
    assert _events(removed, "message") == []
    assert [m["seq"] for m in _events(owner, "message")] == [1, 2, 3]


def test_an_edit_and_a_deletion_replace_the_message_live(app, login, room):
    author = _socket(app, login, room.contact_point)
    reader = _socket(app, login, room.observer)
    for socket in (author, reader):
        _join(socket, room.channel.id)
    sent = _send(author, room.channel.id, "Hearing on *Monday*")
    reader.get_received()

    edited = author.emit(
        "edit", {"message_id": sent["id"], "body": "Hearing on *Friday*"}, callback=True
    )
    assert edited == {"ok": True, "id": sent["id"], "seq": sent["seq"]}
    [update] = _events(reader, "message")
    assert (update["seq"], update["id"]) == (sent["seq"], sent["id"])
    assert "<em>Friday</em>" in update["html"]
    assert update["edited_at"] is not None

    refused = reader.emit("delete", {"message_id": sent["id"]}, callback=True)
    assert refused["error"]["code"] == "forbidden"
    assert author.emit("delete", {"message_id": sent["id"]}, callback=True)["ok"]
    [tombstone] = _events(reader, "message")
    assert tombstone["seq"] == sent["seq"]
    assert tombstone["deleted"] is True
    assert tombstone["html"] == ""
    assert "Friday" not in str(tombstone)


def test_a_mention_reaches_only_the_person_mentioned(app, login, room, db):
    author = _socket(app, login, room.contact_point)
    mentioned = _socket(app, login, room.observer)
    bystander = _socket(app, login, room.coordinator)
    handle = notifications.mention_handle(room.observer.name)
    assert _send(author, room.channel.id, f"@{handle} please confirm")["ok"]
    [note] = _events(mentioned, "notification")
    assert note["kind"] == "mention"
    assert note["channel_id"] == room.channel.id
    assert note["unread"] == 1
    assert note["mentions"] == {str(room.channel.id): 1}
    assert note["actor"]["name"] == room.contact_point.name
    assert _events(bystander, "notification") == []
    assert _events(author, "notification") == []
    # Reading the channel clears the badge on every page of the person.
    _join(mentioned, room.channel.id)
    mentioned.emit("read", {"channel_id": room.channel.id, "seq": 1}, callback=True)
    [cleared] = _events(mentioned, "notifications_read")
    assert cleared == {"unread": 0, "mentions": {}}


def test_a_reply_in_a_thread_is_delivered_with_its_parent_and_notifies_its_author(app, login, room):
    asker = _socket(app, login, room.coordinator)
    answerer = _socket(app, login, room.contact_point)
    for socket in (asker, answerer):
        _join(socket, room.channel.id)
    question = _send(asker, room.channel.id, "Who handles Mali?")
    asker.get_received()
    answer = _send(answerer, room.channel.id, "I do", parent_id=question["id"])
    received = asker.get_received()
    [message] = [_arg(e) for e in received if e["name"] == "message"]
    assert message["parent_id"] == question["id"]
    assert message["parent"]["seq"] == question["seq"]
    [note] = [_arg(e) for e in received if e["name"] == "notification"]
    assert (note["kind"], note["message_id"]) == ("reply", answer["id"])


def _case(db: Any, owner: Any, *others: Any) -> Channel:
    channel = Channel(kind=ChannelKind.CASE.value, name="Case EX/7", created_by_id=owner.id)
    channel.members = [ChannelMember(user_id=owner.id, is_owner=True)] + [
        ChannelMember(user_id=u.id) for u in others
    ]
    db.session.add(channel)
    db.session.commit()
    return channel


def test_receipts_reach_the_sender_only_and_count_deliveries_then_reads(app, login, room, db):
    case = _case(db, room.contact_point, room.coordinator, room.observer)
    sender = _socket(app, login, room.contact_point)
    member = _socket(app, login, room.coordinator)
    other = _socket(app, login, room.observer)
    for socket in (sender, member, other):
        _join(socket, case.id)
    sent = _send(sender, case.id, "Request EX/7 transmitted")
    for socket in (sender, member, other):
        socket.get_received()

    ack = member.emit("received", {"channel_id": case.id, "seq": sent["seq"]}, callback=True)
    assert ack == {"ok": True, "recorded": 1}
    [receipt] = _events(sender, "receipt")
    assert (receipt["message_id"], receipt["delivered"], receipt["read"]) == (sent["id"], 1, 0)
    assert receipt["members"] == 2
    assert _events(other, "receipt") == []
    assert _events(member, "receipt") == []
    # Received again: nothing changes, nobody is told.
    member.emit("received", {"channel_id": case.id, "seq": sent["seq"]}, callback=True)
    assert _events(sender, "receipt") == []
    member.emit("read", {"channel_id": case.id, "seq": sent["seq"]}, callback=True)
    [read] = _events(sender, "receipt")
    assert (read["delivered"], read["read"]) == (1, 1)
    [row] = [i for i in read["items"] if i["user"]["id"] == room.coordinator.id]
    assert row["delivered_at"]
    assert row["read_at"]


def test_receipts_stop_reaching_an_author_removed_from_the_case(app, login, room, make_user, db):
    """An author removed from a case no longer hears, live, who received and read their
    message there: those receipts would name the people added to the case after them."""
    from network import policy
    from network.services import cases
    from tests.cases.conftest import case_data

    owner, former = room.contact_point, room.coordinator
    case = cases.create_case(owner, room.network, case_data(members=[former.id]))
    channel_id = case.channel.id
    messaging.post_message(channel_id, former, "My note on the request", client_id())
    author = _socket(app, login, former)
    messaging.remove_member(channel_id, owner, former.id)
    db.session.expire_all()
    assert not policy.can_read_case(former, case)
    author.get_received()
    newcomer = make_user("contact_point", room.network)
    messaging.add_members(channel_id, owner, [newcomer.id])
    messaging.mark_read(db.session.get(Channel, channel_id), newcomer, 10)
    assert _events(author, "receipt") == []


def test_the_channel_list_watches_counts_of_readable_channels_only(app, login, room, topic):
    lister = _socket(app, login, room.coordinator)
    ack = lister.emit("watch", {"channel_ids": [room.channel.id, topic.id, 999_999]}, callback=True)
    assert sorted(c["id"] for c in ack["channels"]) == sorted([room.channel.id, topic.id])
    outsider = _socket(app, login, room.outsider)
    refused = outsider.emit("watch", {"channel_ids": [room.channel.id, topic.id]}, callback=True)
    assert refused == {"ok": True, "channels": []}
    sender = _socket(app, login, room.contact_point)
    _send(sender, room.channel.id, "news")
    [activity] = _events(lister, "channel_activity")
    assert activity == {
        "channel_id": room.channel.id,
        "seq": 1,
        "author_id": room.contact_point.id,
        "parent_id": None,
    }
    assert _events(lister, "message") == []  # counts only, not the messages
    assert _events(outsider, "channel_activity") == []


def test_join_tells_how_far_messages_were_purged(app, login, room, db):
    channel = db.session.get(Channel, room.channel.id)
    channel.purged_through_seq = 0
    db.session.commit()
    socket = _socket(app, login, room.contact_point)
    ack = _join(socket, room.channel.id)
    assert ack["purged_through_seq"] == 0
    assert ack["archived"] is False


def test_a_flood_is_refused_with_rate_limited_acks_then_disconnected(app, login, room, monkeypatch):
    monkeypatch.setitem(app.config, "SOCKET_EVENT_BURST", 3)
    monkeypatch.setitem(app.config, "SOCKET_EVENT_RATE", 0)  # no refill during the test
    monkeypatch.setitem(app.config, "SOCKET_FLOOD_LIMIT", 5)
    socket = _socket(app, login, room.contact_point)
    acks = [socket.emit("typing", {"channel_id": room.channel.id}, callback=True) for _ in range(5)]
    assert [a["ok"] for a in acks] == [True, True, True, False, False]
    assert acks[3]["error"]["code"] == "rate_limited"
    assert socket.is_connected()  # refused, not killed
    for _ in range(3):
        socket.emit("typing", {"channel_id": room.channel.id}, callback=True)
    assert not socket.is_connected()  # it kept going


def test_an_event_over_the_size_limit_is_refused_and_nothing_is_stored(app, login, room, db):
    socket = _socket(app, login, room.contact_point)
    ack = _send(socket, room.channel.id, "x" * (70 * 1024))
    assert ack["ok"] is False
    assert ack["error"]["code"] == "too_large"
    assert socket.is_connected()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert _send(socket, room.channel.id, "a normal message")["ok"]


def test_losing_the_network_membership_drops_the_network_channel_at_once(app, login, room, db):
    """Removing someone from the network (the members page) takes the network channel's
    live messages away from their open sockets at once."""
    from network.models.people import Membership
    from network.services import membership

    member = _socket(app, login, room.observer)
    sender = _socket(app, login, room.contact_point)
    assert _join(member, room.channel.id)["ok"]
    coordinator = room.coordinator
    held = db.session.scalar(
        select(Membership).where(
            Membership.user_id == room.observer.id, Membership.network_id == room.network.id
        )
    )
    membership.remove_member(room.network, held.id, coordinator)
    member.get_received()
    assert _send(sender, room.channel.id, "members only")["ok"]
    assert _events(member, "message") == []
    assert _join(member, room.channel.id)["error"]["code"] == "not_found"


def test_a_new_role_in_the_network_counts_at_the_next_event_both_ways(app, login, room, db):
    """An observer made contact point may post in the network's channel at the very next
    event of the socket they already have open, and made observer again is refused at
    the next one: the role is asked again at every event, not remembered from connect."""
    from network.models.people import Membership
    from network.services import membership

    socket = _socket(app, login, room.observer)
    assert _join(socket, room.channel.id)["ok"]
    refused = _send(socket, room.channel.id, "before")
    assert refused["ok"] is False
    assert refused["error"]["code"] == "forbidden"
    held = db.session.scalar(
        select(Membership).where(
            Membership.user_id == room.observer.id, Membership.network_id == room.network.id
        )
    )
    membership.change_role(room.network, held.id, "contact_point", room.coordinator)
    assert _send(socket, room.channel.id, "promoted")["ok"]
    membership.change_role(room.network, held.id, "observer", room.coordinator)
    again = _send(socket, room.channel.id, "demoted")
    assert again["ok"] is False
    assert again["error"]["code"] == "forbidden"
    bodies = [
        messaging.message_body(m) for m in messaging.list_messages(room.channel, room.coordinator)
    ]
    assert "promoted" in " ".join(bodies)
    assert "demoted" not in " ".join(bodies)


def test_losing_the_network_membership_ends_its_working_groups_too(app, login, room, db):
    """A working group (topic channel) takes members of its network only: removed from the
    network, a person leaves the network's working groups at once — their open socket gets
    no more of its messages, they cannot join, read, search or post there, it leaves their
    channel list, and the removal is in the channel's audit trail."""
    from network import policy
    from network.models.people import AuditEvent, Membership
    from network.services import membership, search

    removed, coordinator = room.contact_point, room.coordinator
    group = messaging.create_topic_channel(
        coordinator, room.network, "Extradition working group", "", [removed.id]
    )
    messaging.post_message(group.id, coordinator, "Draft on the Dakar request", client_id())
    member = _socket(app, login, removed)
    sender = _socket(app, login, coordinator)
    assert _join(member, group.id)["ok"]
    held = db.session.scalar(
        select(Membership).where(
            Membership.user_id == removed.id, Membership.network_id == room.network.id
        )
    )
    membership.remove_member(room.network, held.id, coordinator)
    member.get_received()
    assert _send(sender, group.id, "members only")["ok"]
    assert _events(member, "message") == []
    assert _join(member, group.id)["error"]["code"] == "not_found"
    assert _send(member, group.id, "still here?")["error"]["code"] == "not_found"
    db.session.expire_all()
    group = db.session.get(Channel, group.id)
    assert group.member_for(removed.id) is None
    assert not policy.can_read_channel(removed, group)
    assert group.id not in {s.channel.id for s in messaging.channels_for(removed)}
    assert search.search_messages(removed, "Dakar").items == []
    logged = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "channel.member_remove", AuditEvent.channel_id == group.id
        )
    )
    assert logged is not None
    assert logged.actor_id == coordinator.id


def test_a_working_group_member_outside_its_network_reads_nothing(room, db):
    """Whatever left a member row behind, the policy asks for the network too."""
    from network import policy
    from network.models.people import Membership

    group = messaging.create_topic_channel(
        room.coordinator, room.network, "Asset recovery group", "", [room.contact_point.id]
    )
    db.session.execute(
        Membership.__table__.delete().where(
            Membership.user_id == room.contact_point.id,
            Membership.network_id == room.network.id,
        )
    )
    db.session.commit()
    db.session.expire_all()
    group = db.session.get(Channel, group.id)
    assert group.member_for(room.contact_point.id) is not None
    assert not policy.can_read_channel(room.contact_point, group)
    assert not policy.can_write_channel(room.contact_point, group)
    listed = {s.channel.id for s in messaging.channels_for(room.contact_point)}
    assert group.id not in listed


def test_every_socket_of_a_person_can_be_closed_at_once(app, login, room):
    """For the account services (deactivation, signing out everywhere)."""
    from network import events

    first = _socket(app, login, room.observer)
    second = _socket(app, login, room.observer)
    other = _socket(app, login, room.coordinator)
    events.disconnect_user(room.observer.id)
    assert not first.is_connected()
    assert not second.is_connected()
    assert other.is_connected()


def test_a_deactivated_account_loses_its_open_sockets_at_once(app, login, room, make_user):
    from network.services import users

    admin = make_user("observer", room.network, admin=True)
    socket = _socket(app, login, room.contact_point)
    other = _socket(app, login, room.coordinator)
    users.set_active(admin, room.contact_point.id, False)
    assert not socket.is_connected()
    assert other.is_connected()
