"""The send path without its former pre-checks: retries found through the unique
(author, client id), numbers never burnt, membership asked for one person's row."""

from __future__ import annotations

import pytest

from network.errors import Conflict, Forbidden, NotFound
from network.services import messaging
from tests.messaging.conftest import client_id


def test_a_retry_of_a_stored_send_does_not_use_up_a_number(room, db):
    cid = client_id()
    first, created = messaging.post_message(room.channel.id, room.contact_point, "one", cid)
    again, created_again = messaging.post_message(room.channel.id, room.contact_point, "one", cid)
    after, _ = messaging.post_message(room.channel.id, room.contact_point, "two", client_id())
    assert (created, created_again) == (True, False)
    assert (again.id, again.seq) == (first.id, first.seq)
    assert after.seq == first.seq + 1


def test_a_retry_after_the_channel_was_archived_still_gets_its_stored_message(room, db):
    cid = client_id()
    first, _ = messaging.post_message(room.channel.id, room.contact_point, "before", cid)
    seq = first.seq
    channel = messaging.create_channel(
        "topic", room.contact_point, name="Working group", network=room.network
    )
    db.session.commit()
    messaging.archive_channel(room.channel.id, room.coordinator)
    again, created = messaging.post_message(room.channel.id, room.contact_point, "before", cid)
    assert (again.seq, created) == (seq, False)
    with pytest.raises(Forbidden):
        messaging.post_message(room.channel.id, room.contact_point, "after", client_id())
    with pytest.raises(Conflict):
        messaging.post_message(channel.id, room.contact_point, "elsewhere", cid)


def test_a_client_id_reused_in_another_channel_is_a_conflict(room, db):
    cid = client_id()
    messaging.post_message(room.channel.id, room.contact_point, "here", cid)
    topic = messaging.create_channel(
        "topic", room.contact_point, name="Working group", network=room.network
    )
    db.session.commit()
    with pytest.raises(Conflict):
        messaging.post_message(topic.id, room.contact_point, "there", cid)
    assert messaging.get_channel(topic.id, room.contact_point).last_seq == 0


def test_a_removed_member_is_refused_at_the_next_send(room, db):
    topic = messaging.create_channel(
        "topic",
        room.contact_point,
        name="Working group",
        network=room.network,
        member_ids=[room.coordinator.id],
    )
    db.session.commit()
    topic_id = topic.id
    message, _ = messaging.post_message(topic_id, room.coordinator, "in", client_id())
    assert message.seq == 1
    messaging.remove_member(topic_id, room.contact_point, room.coordinator.id)
    with pytest.raises(NotFound):
        messaging.post_message(topic_id, room.coordinator, "out", client_id())
