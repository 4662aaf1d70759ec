"""The channel pages without script: creating channels, the members page, threads, editing,
deleting, history, receipts and notifications. A form with an error is drawn again with
the reason, and nothing is written."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from network.models.messaging import (
    Channel,
    ChannelKind,
    ChannelMember,
    Message,
    MessageRevision,
)
from network.services import messaging, notifications
from tests.conftest import csrf_token
from tests.messaging.conftest import client_id


def _count(db: Any, model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _form_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    assert match, f"no {name} on the page"
    return match.group(1)


@pytest.fixture
def topic(room: Any) -> Channel:
    return messaging.create_topic_channel(
        room.contact_point, room.network, "Asset recovery group", "", [room.coordinator.id]
    )


def test_new_topic_channel_form_creates_the_channel_with_its_members(client, login, room, db):
    login(client, room.contact_point)
    page = client.get("/channels/new/topic").get_data(as_text=True)
    assert room.coordinator.name in page
    assert room.outsider.name not in page
    response = client.post(
        "/channels/new/topic",
        data={
            "network": "wacap",
            "name": "JIT Sahel",
            "description": "Joint investigation team",
            "members": [str(room.coordinator.id)],
            "csrf_token": csrf_token(client, "/channels/new/topic"),
        },
    )
    assert response.status_code == 302
    channel = db.session.scalar(select(Channel).where(Channel.name == "JIT Sahel"))
    assert response.headers["Location"].endswith(f"/channels/{channel.id}")
    assert {m.user_id for m in channel.members} == {room.contact_point.id, room.coordinator.id}


def test_new_topic_channel_form_with_errors_is_drawn_again_and_writes_nothing(
    client, login, room, db
):
    login(client, room.contact_point)
    before = _count(db, Channel)
    response = client.post(
        "/channels/new/topic",
        data={
            "network": "wacap",
            "name": "",
            "members": [str(room.outsider.id)],
            "csrf_token": csrf_token(client, "/channels/new/topic"),
        },
    )
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    response = client.post(
        "/channels/new/topic",
        data={
            "network": "wacap",
            "name": "Named",
            "members": [str(room.outsider.id)],
            "csrf_token": csrf_token(client, "/channels/new/topic"),
        },
    )
    assert response.status_code == 422
    assert "Some of the people chosen cannot be added." in response.get_data(as_text=True)
    assert _count(db, Channel) == before


def test_observers_get_no_new_channel_pages_or_buttons(client, login, room):
    login(client, room.observer)
    assert client.get("/channels/new/topic").status_code == 404
    assert client.get("/channels/new/conversation").status_code == 404
    page = client.get("/channels/").get_data(as_text=True)
    assert "New topic channel" not in page
    assert "New conversation" not in page


def test_new_conversation_form(client, login, room, db):
    login(client, room.contact_point)
    page = client.get("/channels/").get_data(as_text=True)
    assert "New topic channel" in page
    assert "New conversation" in page
    token = csrf_token(client, "/channels/new/conversation")
    empty = client.post("/channels/new/conversation", data={"csrf_token": token})
    assert empty.status_code == 422
    assert "Choose at least one other person." in empty.get_data(as_text=True)
    assert _count(db, Channel, Channel.kind == "direct") == 0
    response = client.post(
        "/channels/new/conversation",
        data={"members": [str(room.coordinator.id)], "csrf_token": token},
    )
    assert response.status_code == 302
    channel = db.session.scalar(select(Channel).where(Channel.kind == "direct"))
    assert room.coordinator.name in channel.name
    assert room.contact_point.name in channel.name


def test_channel_list_groups_by_kind_and_shows_mentions(client, login, room, topic):
    handle = notifications.mention_handle(room.coordinator.name)
    messaging.post_message(topic.id, room.contact_point, f"@{handle} see this", client_id())
    login(client, room.coordinator)
    page = client.get("/channels/").get_data(as_text=True)
    assert page.index("Network channel") < page.index("Topic channel")
    assert 'aria-label="1 unread mentions or replies"' in page
    assert re.search(r'class="badge badge-count js-notification-count"[^>]*>2<', page)


def test_members_page_adds_and_removes_people_and_shows_it(
    client, login, room, topic, make_user, db
):
    newcomer = make_user("contact_point", room.network)
    login(client, room.contact_point)
    page = client.get(f"/channels/{topic.id}/members").get_data(as_text=True)
    assert newcomer.name in page  # among the people who can be added
    assert room.outsider.name not in page
    token = csrf_token(client, f"/channels/{topic.id}/members")
    added = client.post(
        f"/channels/{topic.id}/members/add",
        data={"people": [str(newcomer.id)], "csrf_token": token},
    )
    assert added.status_code == 302
    assert _count(db, ChannelMember, ChannelMember.channel_id == topic.id) == 3
    removed = client.post(
        f"/channels/{topic.id}/members/{newcomer.id}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 302
    page = client.get(f"/channels/{topic.id}/members").get_data(as_text=True)
    assert "The member was removed." in page
    assert _count(db, ChannelMember, ChannelMember.channel_id == topic.id) == 2


def test_the_network_channel_members_show_their_role_in_the_readers_language(
    client, login, room, db
):
    room.contact_point.locale = "fr"
    db.session.commit()
    login(client, room.contact_point)
    page = client.get(f"/channels/{room.channel.id}/members").get_data(as_text=True)
    assert "Observateur" in page
    assert "contact point" not in page  # the stored code, shown as it was before


def test_adding_nobody_is_refused_on_the_page_and_writes_nothing(client, login, room, topic, db):
    login(client, room.contact_point)
    token = csrf_token(client, f"/channels/{topic.id}/members")
    response = client.post(
        f"/channels/{topic.id}/members/add",
        data={"people": [str(room.outsider.id)], "csrf_token": token},
    )
    assert response.status_code == 422
    assert "Some of the people chosen cannot be added." in response.get_data(as_text=True)
    assert _count(db, ChannelMember, ChannelMember.channel_id == topic.id) == 2


def test_a_plain_member_sees_no_management_and_cannot_remove(client, login, room, topic, make_user):
    plain = make_user("contact_point", room.network)
    messaging.add_members(topic.id, room.contact_point, [plain.id])
    login(client, plain)
    page = client.get(f"/channels/{topic.id}/members").get_data(as_text=True)
    assert "Add people" not in page
    assert ">Remove<" not in page
    assert "Leave this channel" in page
    token = csrf_token(client, f"/channels/{topic.id}/members")
    response = client.post(
        f"/channels/{topic.id}/members/{room.coordinator.id}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 403
    left = client.post(f"/channels/{topic.id}/leave", data={"csrf_token": token})
    assert left.status_code == 302
    assert client.get(f"/channels/{topic.id}").status_code == 404


def test_the_last_owner_is_told_to_hand_over(client, login, room, topic):
    login(client, room.contact_point)
    token = csrf_token(client, f"/channels/{topic.id}/members")
    response = client.post(f"/channels/{topic.id}/leave", data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Make another member an owner first" in page


def test_thread_page_shows_the_thread_and_takes_a_reply_without_script(
    client, login, room, topic, db
):
    first, _ = messaging.post_message(topic.id, room.coordinator, "Which treaty?", client_id())
    login(client, room.contact_point)
    url = f"/channels/{topic.id}/thread/{first.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Which treaty?" in page
    assert "0 replies" in page
    response = client.post(
        url,
        data={
            "body": "UNTOC article 18",
            "client_id": _form_value(page, "client_id"),
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 302
    reply = db.session.scalar(select(Message).where(Message.parent_id == first.id))
    assert reply.author_id == room.contact_point.id
    page = client.get(url).get_data(as_text=True)
    assert "UNTOC article 18" in page
    assert "1 reply" in page
    channel_page = client.get(f"/channels/{topic.id}").get_data(as_text=True)
    assert f"In reply to <bdi>{room.coordinator.name}</bdi>" in channel_page


def test_edit_page_keeps_the_earlier_version_visible(client, login, room, topic, db):
    message, _ = messaging.post_message(
        topic.id, room.contact_point, "Deadline Monday", client_id()
    )
    login(client, room.contact_point)
    url = f"/channels/{topic.id}/messages/{message.id}/edit"
    assert "Deadline Monday" in client.get(url).get_data(as_text=True)
    response = client.post(
        url, data={"body": "Deadline Friday", "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 302
    page = client.get(f"/channels/{topic.id}").get_data(as_text=True)
    assert "Deadline Friday" in page
    assert "(edited)" in page
    history = client.get(f"/channels/{topic.id}/messages/{message.id}/history").get_data(
        as_text=True
    )
    assert "Deadline Monday" in history
    assert "Deadline Friday" in history


def test_an_empty_edit_is_refused_and_changes_nothing(client, login, room, topic, db):
    message, _ = messaging.post_message(topic.id, room.contact_point, "Original", client_id())
    login(client, room.contact_point)
    url = f"/channels/{topic.id}/messages/{message.id}/edit"
    response = client.post(url, data={"body": "  ", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 422
    assert "The message is empty." in response.get_data(as_text=True)
    assert _count(db, MessageRevision) == 0
    assert messaging.message_body(db.session.get(Message, message.id)) == "Original"


def test_someone_else_cannot_reach_the_edit_page(app, client, login, room, topic):
    message, _ = messaging.post_message(topic.id, room.contact_point, "Mine", client_id())
    login(client, room.coordinator)
    assert client.get(f"/channels/{topic.id}/messages/{message.id}/edit").status_code == 404
    client = login(app.test_client(), room.outsider)
    assert client.get(f"/channels/{topic.id}/messages/{message.id}/history").status_code == 404


def test_delete_page_asks_then_leaves_a_tombstone(client, login, room, topic, db):
    message, _ = messaging.post_message(topic.id, room.coordinator, "Wrong file", client_id())
    login(client, room.coordinator)
    url = f"/channels/{topic.id}/messages/{message.id}/delete"
    assert "Delete this message for everyone?" in client.get(url).get_data(as_text=True)
    assert db.session.get(Message, message.id).deleted_at is None  # asking deletes nothing
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 302
    page = client.get(f"/channels/{topic.id}").get_data(as_text=True)
    assert "This message was deleted." in page
    assert "Wrong file" not in page


def test_receipts_page_is_the_senders(app, client, login, room, db):
    case = Channel(kind=ChannelKind.CASE.value, name="Case 9", created_by_id=room.contact_point.id)
    case.members = [
        ChannelMember(user_id=room.contact_point.id, is_owner=True),
        ChannelMember(user_id=room.coordinator.id),
    ]
    db.session.add(case)
    db.session.commit()
    message, _ = messaging.post_message(case.id, room.contact_point, "Sent", client_id())
    messaging.record_delivery(case.id, room.coordinator, message.seq)
    login(client, room.contact_point)
    channel_page = client.get(f"/channels/{case.id}").get_data(as_text=True)
    assert "Received by 1 of 1 · read by 0" in channel_page
    page = client.get(f"/channels/{case.id}/messages/{message.id}/receipts").get_data(as_text=True)
    assert room.coordinator.name in page
    assert "not yet" in page
    client = login(app.test_client(), room.coordinator)
    assert client.get(f"/channels/{case.id}/messages/{message.id}/receipts").status_code == 403


def test_notifications_page_lists_and_marks_read(client, login, room, topic):
    handle = notifications.mention_handle(room.coordinator.name)
    messaging.post_message(topic.id, room.contact_point, f"@{handle}", client_id())
    login(client, room.coordinator)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "mentioned you" in page
    assert "added you to a channel" in page
    assert page.count('class="notification unread"') == 2
    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications/")})
    page = client.get("/notifications/").get_data(as_text=True)
    assert 'class="notification unread"' not in page
    assert re.search(r'js-notification-count"[^>]*hidden[^>]*>0<', page)


def test_the_composer_sends_files_without_script(client, login, room, topic, db):
    login(client, room.contact_point)
    url = f"/channels/{topic.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    response = client.post(
        url,
        data={
            "body": "",
            "client_id": _form_value(page, "client_id"),
            "csrf_token": csrf_token(client, url),
            "files": [(io.BytesIO(b"Minutes of the meeting\n"), "minutes.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [message] = db.session.scalars(select(Message).where(Message.channel_id == topic.id)).all()
    assert [a.filename for a in message.attachments] == ["minutes.txt"]
    page = client.get(url).get_data(as_text=True)
    link = r'<a href="/attachments/\d+/download" download dir="auto">minutes.txt</a>'
    assert re.search(link, page)


def test_members_page_sets_the_retention_period(client, login, room, topic, db):
    login(client, room.contact_point)
    url = f"/channels/{topic.id}/members"
    token = csrf_token(client, url)
    refused = client.post(
        f"/channels/{topic.id}/retention", data={"days": "0", "csrf_token": token}
    )
    assert refused.status_code == 302
    assert db.session.get(Channel, topic.id).retention_days is None
    assert "flash-error" in client.get(url).get_data(as_text=True)
    saved = client.post(f"/channels/{topic.id}/retention", data={"days": "30", "csrf_token": token})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Channel, topic.id).retention_days == 30
    assert 'value="30"' in client.get(url).get_data(as_text=True)


def test_archiving_from_the_members_page_hides_the_composer(client, login, room, topic, db):
    login(client, room.contact_point)
    token = csrf_token(client, f"/channels/{topic.id}/members")
    assert (
        client.post(f"/channels/{topic.id}/archive", data={"csrf_token": token}).status_code == 302
    )
    page = client.get(f"/channels/{topic.id}").get_data(as_text=True)
    assert "This channel is archived" in page
    assert 'id="composer"' not in page
