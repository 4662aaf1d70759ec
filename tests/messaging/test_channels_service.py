"""Channels, members, threads, mentions and certified receipts, through the services:
who may do what (every role, and a member of another network), what is written (members,
audit rows, notifications, receipts) and what is refused without writing anything."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from network.errors import Forbidden, NotFound, ValidationError
from network.models.messaging import (
    Channel,
    ChannelKind,
    ChannelMember,
    MessageReceipt,
    Notification,
)
from network.models.people import AuditEvent
from network.services import messaging, notifications
from tests.messaging.conftest import client_id


def _count(db: Any, model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _say(user: Any, channel: Channel, body: str, parent_id: int | None = None) -> Any:
    message, _created = messaging.post_message(channel.id, user, body, client_id(), parent_id)
    return message


def _notes(db: Any, user: Any) -> list[tuple[str, int | None]]:
    return [
        (n.kind, n.message_id)
        for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]


@pytest.fixture
def topic(room: Any) -> Channel:
    """A WACAP working group opened by the contact point, with the coordinator in it."""
    return messaging.create_topic_channel(
        room.contact_point, room.network, "Extradition working group", "", [room.coordinator.id]
    )


def _case_channel(db: Any, owner: Any, *others: Any) -> Channel:
    channel = Channel(kind=ChannelKind.CASE.value, name="Case MLA/1", created_by_id=owner.id)
    channel.members = [ChannelMember(user_id=owner.id, is_owner=True)] + [
        ChannelMember(user_id=u.id) for u in others
    ]
    db.session.add(channel)
    db.session.commit()
    return channel


# --- Creating channels ------------------------------------------------------------------------


def test_topic_channel_has_its_creator_as_owner_and_tells_the_members(room, topic, db):
    members = {m.user_id: m.is_owner for m in topic.members}
    assert members == {room.contact_point.id: True, room.coordinator.id: False}
    assert topic.network_id == room.network.id
    assert _notes(db, room.coordinator) == [("channel_invitation", None)]
    assert _notes(db, room.contact_point) == []
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.channel_id == topic.id).order_by(AuditEvent.id)
    ).all()
    assert actions == ["channel.create", "channel.member_add"]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("contact_point", True), ("coordinator", True), ("observer", False), ("outsider", False)],
)
def test_who_may_open_a_topic_channel_in_a_network(room, db, who, allowed):
    actor = getattr(room, who)
    before = _count(db, Channel)
    if allowed:
        channel = messaging.create_topic_channel(actor, room.network, "Group")
        assert channel.kind == "topic"
    else:
        with pytest.raises(Forbidden):
            messaging.create_topic_channel(actor, room.network, "Group")
        assert _count(db, Channel) == before


def test_topic_channel_takes_only_members_of_its_network(room, db):
    before = _count(db, Channel)
    with pytest.raises(ValidationError) as caught:
        messaging.create_topic_channel(
            room.contact_point, room.network, "Group", "", [room.outsider.id]
        )
    assert "members" in caught.value.fields
    assert _count(db, Channel) == before
    assert _notes(db, room.outsider) == []


def test_topic_channel_needs_a_name_and_writes_nothing_without_one(room, db):
    before = _count(db, Channel)
    with pytest.raises(ValidationError) as caught:
        messaging.create_topic_channel(room.contact_point, room.network, "  ", "", [])
    assert set(caught.value.fields) == {"name"}
    assert _count(db, Channel) == before


def test_direct_conversation_crosses_networks_through_a_shared_network(
    room, make_user, make_network, db
):
    spain = make_user(
        memberships=[(room.network, "contact_point"), (make_network("ejn"), "contact_point")]
    )
    ejn_only = make_user("contact_point", "ejn")
    channel = messaging.create_direct_conversation(spain, [room.contact_point.id, ejn_only.id])
    assert {m.user_id for m in channel.members} == {spain.id, room.contact_point.id, ejn_only.id}
    assert channel.network_id is None
    # The same people again: the same conversation, not a second one.
    again = messaging.create_direct_conversation(spain, [ejn_only.id, room.contact_point.id])
    assert again.id == channel.id


def test_direct_conversation_refuses_people_the_starter_cannot_find(room, db):
    """The outsider shares no network with the WACAP contact point and has no entry in a
    directory they can read: their id cannot be used (nor probed)."""
    before = _count(db, Channel)
    with pytest.raises(ValidationError) as caught:
        messaging.create_direct_conversation(room.contact_point, [room.outsider.id])
    assert caught.value.fields == {"members": "Some of the people chosen cannot be added."}
    with pytest.raises(ValidationError):
        messaging.create_direct_conversation(room.contact_point, [])
    assert _count(db, Channel) == before
    reachable = {u.id for u in messaging.reachable_people(room.contact_point)}
    assert reachable == {room.coordinator.id, room.observer.id}


def test_a_directory_entry_with_an_account_makes_a_person_reachable(room, make_contact_point, db):
    entry = make_contact_point(networks=["wacap"])
    entry.user_id = room.outsider.id
    db.session.commit()
    assert room.outsider.id in {u.id for u in messaging.reachable_people(room.contact_point)}
    channel = messaging.create_direct_conversation(room.contact_point, [room.outsider.id])
    assert room.outsider.id in {m.user_id for m in channel.members}


def test_an_observer_only_cannot_start_a_conversation(room, db):
    with pytest.raises(Forbidden):
        messaging.create_direct_conversation(room.observer, [room.coordinator.id])


# --- Members ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("contact_point", True),  # the owner
        ("coordinator", True),  # a member, and a coordinator of the channel's network
        ("secretariat", False),  # manages the network, but is not in this private channel
        ("observer", False),  # cannot read the channel at all
        ("outsider", False),  # a member of another network
    ],
)
def test_who_may_add_members_to_a_topic_channel(room, topic, make_user, db, who, allowed):
    secretariat = make_user("secretariat", room.network)
    newcomer = make_user("contact_point", room.network)
    actor = secretariat if who == "secretariat" else getattr(room, who)
    before = _count(db, ChannelMember)
    if not allowed:
        # Nobody outside a private channel learns it exists: 404, not 403.
        with pytest.raises(NotFound):
            messaging.add_members(topic.id, actor, [newcomer.id])
        assert _count(db, ChannelMember) == before
        assert _notes(db, newcomer) == []
        return
    messaging.add_members(topic.id, actor, [newcomer.id])
    assert _count(db, ChannelMember) == before + 1
    assert _notes(db, newcomer) == [("channel_invitation", None)]
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "channel.member_add", AuditEvent.channel_id == topic.id)
        .order_by(AuditEvent.id.desc())
    )
    assert event.after == {"user_id": newcomer.id}
    assert event.actor_id == actor.id


def test_a_plain_member_cannot_add_or_remove(room, topic, make_user, db):
    plain = make_user("contact_point", room.network)
    messaging.add_members(topic.id, room.contact_point, [plain.id])
    newcomer = make_user("contact_point", room.network)
    with pytest.raises(Forbidden):
        messaging.add_members(topic.id, plain, [newcomer.id])
    with pytest.raises(Forbidden):
        messaging.remove_member(topic.id, plain, room.coordinator.id)
    assert {m.user_id for m in db.session.get(Channel, topic.id).members} == {
        room.contact_point.id,
        room.coordinator.id,
        plain.id,
    }


def test_a_member_of_another_network_cannot_be_added_to_a_topic_channel(room, topic, db):
    with pytest.raises(ValidationError):
        messaging.add_members(topic.id, room.contact_point, [room.outsider.id])
    assert room.outsider.id not in {m.user_id for m in topic.members}


def test_removal_is_audited_and_takes_access_and_notifications_away(room, topic, db):
    _say(room.contact_point, topic, f"@{notifications.mention_handle(room.coordinator.name)} hi")
    assert _notes(db, room.coordinator)[-1][0] == "mention"
    messaging.remove_member(topic.id, room.contact_point, room.coordinator.id)
    assert _notes(db, room.coordinator) == []
    with pytest.raises(NotFound):
        messaging.get_channel(topic.id, room.coordinator)
    with pytest.raises(NotFound):
        messaging.post_message(topic.id, room.coordinator, "still here?", client_id())
    removal = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "channel.member_remove")
    )
    assert removal.after == {"user_id": room.coordinator.id}
    assert removal.channel_id == topic.id


def test_network_channel_members_are_managed_through_the_network(room, db):
    with pytest.raises(ValidationError):
        messaging.remove_member(room.channel.id, room.coordinator, room.contact_point.id)
    with pytest.raises(ValidationError):
        messaging.leave_channel(room.channel.id, room.contact_point)


def test_the_last_owner_hands_over_before_leaving(room, topic, db):
    with pytest.raises(ValidationError):
        messaging.leave_channel(topic.id, room.contact_point)
    messaging.set_owner(topic.id, room.contact_point, room.coordinator.id)
    messaging.leave_channel(topic.id, room.contact_point)
    channel = db.session.get(Channel, topic.id)
    assert {m.user_id: m.is_owner for m in channel.members} == {room.coordinator.id: True}
    assert channel.archived_at is None
    assert (
        _count(
            db,
            AuditEvent,
            AuditEvent.action == "channel.member_leave",
            AuditEvent.channel_id == topic.id,
        )
        == 1
    )


def test_archived_channel_is_read_only(room, topic, db):
    messaging.archive_channel(topic.id, room.contact_point)
    with pytest.raises(Forbidden):
        messaging.post_message(topic.id, room.coordinator, "late", client_id())
    messaging.archive_channel(topic.id, room.contact_point, archived=False)
    assert _say(room.coordinator, topic, "open again").seq == 1


# --- Threads, mentions, replies --------------------------------------------------------------


def test_a_reply_to_a_reply_joins_the_same_thread(room, topic, db):
    first = _say(room.contact_point, topic, "Question on the request")
    reply = _say(room.coordinator, topic, "Answer", first.id)
    again = _say(room.contact_point, topic, "Thanks", reply.id)
    assert again.parent_id == first.id
    root, replies = messaging.thread(reply.id, room.contact_point)
    assert root.id == first.id
    assert [m.id for m in replies] == [reply.id, again.id]
    [payload] = messaging.payloads([first])
    assert payload["reply_count"] == 2
    assert messaging.message_payload(again)["parent"]["author"]["name"] == room.contact_point.name


def test_a_reply_cannot_point_into_another_channel(room, topic, db):
    elsewhere = _say(room.contact_point, room.channel, "in the network channel")
    with pytest.raises(ValidationError):
        _say(room.contact_point, topic, "reply", elsewhere.id)


def test_mentions_notify_readers_by_name_or_email_and_nobody_else(room, topic, db):
    coordinator = notifications.mention_handle(room.coordinator.name)
    message = _say(
        room.contact_point,
        topic,
        f"@{coordinator} and @{room.outsider.email.split('@')[0]} and "
        f"@{notifications.mention_handle(room.contact_point.name)} and `@{coordinator}`",
    )
    assert _notes(db, room.coordinator) == [("channel_invitation", None), ("mention", message.id)]
    assert _notes(db, room.outsider) == []  # not a reader of the channel: nothing, no leak
    assert _notes(db, room.contact_point) == []  # never about one's own message
    by_email = _say(room.contact_point, topic, f"cc @{room.coordinator.email.split('@')[0]}")
    assert _notes(db, room.coordinator)[-1] == ("mention", by_email.id)


def test_mentions_in_a_network_channel_reach_its_observers(room, db):
    message = _say(
        room.contact_point, room.channel, f"@{notifications.mention_handle(room.observer.name)}"
    )
    assert _notes(db, room.observer) == [("mention", message.id)]


def test_a_reply_notifies_the_author_of_the_message_replied_to_once(room, topic, db):
    first = _say(room.coordinator, topic, "Who handles this?")
    reply = _say(
        room.contact_point,
        topic,
        f"@{notifications.mention_handle(room.coordinator.name)} I do",
        first.id,
    )
    assert _notes(db, room.coordinator)[-1] == ("reply", reply.id)
    assert [k for k, _m in _notes(db, room.coordinator)].count("reply") == 1
    assert [k for k, _m in _notes(db, room.coordinator)].count("mention") == 0


def test_reading_a_channel_marks_its_mentions_read(room, topic, db):
    message = _say(
        room.contact_point, topic, f"@{notifications.mention_handle(room.coordinator.name)}"
    )
    assert notifications.unread_count(room.coordinator) == 2  # invitation and mention
    assert notifications.unread_mentions_by_channel(room.coordinator) == {topic.id: 1}
    messaging.mark_read(topic, room.coordinator, message.seq)
    assert notifications.unread_count(room.coordinator) == 0
    assert notifications.unread_mentions_by_channel(room.coordinator) == {}


def test_an_edit_notifies_only_the_people_newly_mentioned(room, topic, make_user, db):
    third = make_user("contact_point", room.network)
    messaging.add_members(topic.id, room.contact_point, [third.id])
    coordinator = notifications.mention_handle(room.coordinator.name)
    message = _say(room.contact_point, topic, f"@{coordinator}")
    messaging.edit_message(
        message.id,
        room.contact_point,
        f"@{coordinator} and @{notifications.mention_handle(third.name)}",
    )
    assert [k for k, m in _notes(db, room.coordinator) if m == message.id] == ["mention"]
    assert [k for k, m in _notes(db, third) if m == message.id] == ["mention"]


def test_deleting_a_message_removes_its_notifications(room, topic, db):
    message = _say(
        room.contact_point, topic, f"@{notifications.mention_handle(room.coordinator.name)}"
    )
    messaging.delete_message(message.id, room.contact_point)
    assert [m for _k, m in _notes(db, room.coordinator) if m is not None] == []


def test_only_the_author_edits_and_the_author_or_a_manager_deletes(room, topic, db):
    message = _say(room.coordinator, topic, "mine")
    with pytest.raises(Forbidden):
        messaging.edit_message(message.id, room.contact_point, "not yours")
    messaging.delete_message(message.id, room.contact_point)  # the owner moderates
    assert db.session.get(type(message), message.id).is_deleted


def test_nothing_in_an_archived_channel_is_deleted_by_its_author_or_its_manager(
    room, topic, db, client, login
):
    """An archived channel is a record (an ended consultation's transcript, a closed
    working group): its messages stay, and its page offers no Delete."""
    message = _say(room.coordinator, topic, "Agreed: transfer on Monday")
    messaging.archive_channel(topic.id, room.contact_point)
    for person in (room.coordinator, room.contact_point):  # the author; the owner
        with pytest.raises(Forbidden):
            messaging.delete_message(message.id, person)
    assert not db.session.get(type(message), message.id).is_deleted
    page = login(client, room.coordinator).get(f"/channels/{topic.id}").get_data(as_text=True)
    assert "Agreed: transfer on Monday" in page
    assert f"/messages/{message.id}/delete" not in page


# --- Certified receipts ---------------------------------------------------------------------


def test_receipts_record_first_delivery_then_reading(room, db):
    channel = _case_channel(db, room.contact_point, room.coordinator, room.observer)
    message = _say(room.contact_point, channel, "Request MLA/1 sent")
    assert messaging.record_delivery(channel.id, room.coordinator, message.seq) == 1
    first = db.session.scalar(
        select(MessageReceipt.delivered_at).where(MessageReceipt.user_id == room.coordinator.id)
    )
    assert messaging.record_delivery(channel.id, room.coordinator, message.seq) == 0
    messaging.mark_read(db.session.get(Channel, channel.id), room.coordinator, message.seq)
    _message, rows = messaging.receipts(message.id, room.contact_point)
    by_name = {u.name: (delivered, read_at) for u, delivered, read_at in rows}
    assert by_name[room.coordinator.name][0] == first  # delivered once, never moved
    assert by_name[room.coordinator.name][1] is not None
    assert by_name[room.observer.name] == (None, None)
    assert room.contact_point.name not in by_name  # not the sender's own


def test_receipts_are_for_the_sender_of_a_case_channel_message_only(room, topic, db):
    channel = _case_channel(db, room.contact_point, room.coordinator)
    message = _say(room.contact_point, channel, "Request sent")
    with pytest.raises(Forbidden):
        messaging.receipts(message.id, room.coordinator)
    with pytest.raises(NotFound):
        messaging.receipts(message.id, room.outsider)
    elsewhere = _say(room.contact_point, topic, "not a case")
    with pytest.raises(Forbidden):
        messaging.receipts(elsewhere.id, room.contact_point)
    assert messaging.record_delivery(topic.id, room.coordinator, elsewhere.seq) == 0
    assert _count(db, MessageReceipt) == 0
