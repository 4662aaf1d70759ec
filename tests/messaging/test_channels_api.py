"""The JSON API of channels beyond posting: creating channels, members, editing and
deleting, threads, history, receipts, people and notifications."""

from __future__ import annotations

import io
from typing import Any

import pytest

from network.services import accounts, messaging, notifications
from tests.messaging.conftest import client_id


def _api(app: Any, user: Any) -> Any:
    """A client acting with a personal access token (no CSRF, as integrations do)."""
    _token, plain = accounts.create_token(user, "test")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    return client


@pytest.fixture
def topic(room: Any) -> Any:
    return messaging.create_topic_channel(
        room.contact_point, room.network, "Extradition group", "", [room.coordinator.id]
    )


def test_create_a_topic_channel_and_manage_its_members(app, room, db):
    owner = _api(app, room.contact_point)
    created = owner.post(
        "/api/v1/channels",
        json={"kind": "topic", "network": "wacap", "name": "JIT", "members": [room.coordinator.id]},
    )
    assert created.status_code == 201
    channel = created.get_json()
    assert (channel["kind"], channel["name"], channel["network"]) == ("topic", "JIT", "wacap")
    members = owner.get(f"/api/v1/channels/{channel['id']}/members").get_json()["items"]
    assert {(m["id"], m["is_owner"]) for m in members} == {
        (room.contact_point.id, True),
        (room.coordinator.id, False),
    }
    added = owner.post(
        f"/api/v1/channels/{channel['id']}/members", json={"user_ids": [room.observer.id]}
    )
    assert added.status_code == 201
    gone = owner.delete(f"/api/v1/channels/{channel['id']}/members/{room.observer.id}")
    assert gone.status_code == 204
    assert (
        _api(app, room.observer).get(f"/api/v1/channels/{channel['id']}/messages").status_code
        == 404
    )


def test_channel_creation_errors_are_json_with_fields(app, room):
    owner = _api(app, room.contact_point)
    missing = owner.post("/api/v1/channels", json={"kind": "topic", "network": "wacap"})
    assert missing.status_code == 422
    assert "name" in missing.get_json()["error"]["fields"]
    elsewhere = owner.post(
        "/api/v1/channels", json={"kind": "topic", "network": "iberred", "name": "x"}
    )
    assert elsewhere.status_code == 422
    observer = _api(app, room.observer).post(
        "/api/v1/channels", json={"kind": "direct", "members": [room.coordinator.id]}
    )
    assert observer.status_code == 403
    assert owner.post("/api/v1/channels", data="nope").status_code == 422


def test_edit_delete_thread_and_history(app, room, topic):
    author = _api(app, room.contact_point)
    first, _ = messaging.post_message(topic.id, room.contact_point, "Deadline Monday", client_id())
    reply, _ = messaging.post_message(topic.id, room.coordinator, "Noted", client_id(), first.id)
    own = author.get(f"/api/v1/messages/{first.id}").get_json()
    assert own["body"] == "Deadline Monday"  # the Markdown, for its author to edit
    assert "body" not in _api(app, room.coordinator).get(f"/api/v1/messages/{first.id}").get_json()
    edited = author.patch(f"/api/v1/messages/{first.id}", json={"body": "Deadline **Friday**"})
    assert "<strong>Friday</strong>" in edited.get_json()["html"]
    history = author.get(f"/api/v1/messages/{first.id}/revisions").get_json()["items"]
    assert [h["html"].strip() for h in history] == ["<p>Deadline Monday</p>"]
    thread = author.get(f"/api/v1/messages/{reply.id}/thread").get_json()["items"]
    assert [m["id"] for m in thread] == [first.id, reply.id]
    assert thread[0]["reply_count"] == 1
    assert author.patch(f"/api/v1/messages/{reply.id}", json={"body": "x"}).status_code == 403
    assert author.delete(f"/api/v1/messages/{reply.id}").status_code == 204  # the owner moderates
    assert author.get(f"/api/v1/messages/{reply.id}").get_json()["deleted"] is True
    outsider = _api(app, room.outsider)
    assert outsider.get(f"/api/v1/messages/{first.id}/thread").status_code == 404


def test_people_lists_only_who_the_caller_can_reach(app, room):
    found = _api(app, room.contact_point).get("/api/v1/people?q=test").get_json()["items"]
    ids = {p["id"] for p in found}
    assert room.coordinator.id in ids
    assert room.outsider.id not in ids
    assert room.contact_point.id not in ids


def test_people_show_only_the_networks_the_caller_may_know_of(app, room, make_network, make_user):
    """A person of WACAP who also coordinates in EJN is listed for another WACAP member
    with WACAP only: EJN's roster is not the caller's to read."""
    ejn = make_network("ejn", acronym="EJN")
    both = make_user(memberships=[(room.network, "contact_point"), (ejn, "coordinator")])
    found = _api(app, room.observer).get("/api/v1/people").get_json()["items"]
    assert next(p for p in found if p["id"] == both.id)["networks"] == ["wacap"]
    colleague = make_user(memberships=[(room.network, "contact_point"), (ejn, "contact_point")])
    shared = _api(app, colleague).get("/api/v1/people").get_json()["items"]
    assert next(p for p in shared if p["id"] == both.id)["networks"] == ["ejn", "wacap"]


def test_notifications_through_the_api(app, room, topic):
    handle = notifications.mention_handle(room.coordinator.name)
    messaging.post_message(topic.id, room.contact_point, f"@{handle}", client_id())
    reader = _api(app, room.coordinator)
    body = reader.get("/api/v1/notifications").get_json()
    assert body["unread"] == 2
    assert [n["kind"] for n in body["items"]] == ["mention", "channel_invitation"]
    mention = body["items"][0]
    assert reader.post("/api/v1/notifications/read", json={"id": mention["id"]}).get_json() == {
        "changed": 1,
        "unread": 1,
    }
    other = _api(app, room.contact_point).post(
        "/api/v1/notifications/read", json={"id": mention["id"]}
    )
    assert other.status_code == 404
    assert reader.post("/api/v1/notifications/read", json={"id": "x"}).status_code == 422
    assert reader.post("/api/v1/notifications/read", json={}).get_json()["unread"] == 0


def test_a_message_with_files_and_no_text_through_the_api(app, room, topic):
    author = _api(app, room.contact_point)
    upload = author.post(
        f"/api/v1/channels/{topic.id}/attachments",
        data={"file": (io.BytesIO(b"Request annex\n"), "annex.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    [file] = upload.get_json()["items"]
    posted = author.post(
        f"/api/v1/channels/{topic.id}/messages",
        json={"body": "", "client_id": client_id(), "attachment_ids": [file["id"]]},
    )
    assert posted.status_code == 201
    [message] = author.get(f"/api/v1/channels/{topic.id}/messages").get_json()["items"]
    assert [a["filename"] for a in message["attachments"]] == ["annex.txt"]
    assert message["attachments"][0]["url"].endswith(f"/attachments/{file['id']}/download")
    empty = author.post(
        f"/api/v1/channels/{topic.id}/messages", json={"body": " ", "client_id": client_id()}
    )
    assert empty.status_code == 422
