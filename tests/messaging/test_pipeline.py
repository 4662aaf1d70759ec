"""The one message pipeline through the JSON API: validation, sanitising, idempotent
sends, sequence numbers, history, edits, deletion, read markers and access."""

from __future__ import annotations

from sqlalchemy import select, text

from network.extensions import db as _db
from network.models.messaging import Message
from network.services import accounts, messaging
from tests.messaging.conftest import client_id, post


def test_member_posts_and_everyone_in_the_network_reads_it(app, client, login, room):
    login(client, room.contact_point)
    response = post(client, room.channel.id, "Request **MLA/2026/17** sent today.")
    assert response.status_code == 201
    posted = response.get_json()
    assert posted["seq"] == 1

    reader = login(app.test_client(), room.observer)
    listing = reader.get(f"/api/v1/channels/{room.channel.id}/messages").get_json()
    [message] = listing["items"]
    assert message["id"] == posted["id"]
    assert "<strong>MLA/2026/17</strong>" in message["html"]
    assert message["author"]["name"] == room.contact_point.name


def test_a_retried_send_is_stored_once_with_the_same_id_and_seq(client, login, room, db):
    login(client, room.contact_point)
    cid = client_id()
    first = post(client, room.channel.id, "Once only", cid)
    again = post(client, room.channel.id, "Once only", cid)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    count = db.session.scalar(select(_db.func.count()).select_from(Message))
    assert count == 1


def test_sequence_numbers_are_consecutive_per_channel(client, login, room):
    login(client, room.contact_point)
    seqs = [post(client, room.channel.id, f"message {n}").get_json()["seq"] for n in range(5)]
    assert seqs == [1, 2, 3, 4, 5]


def test_history_pages_forwards_and_backwards(client, login, room):
    login(client, room.contact_point)
    for n in range(1, 8):
        post(client, room.channel.id, f"m{n}")
    base = f"/api/v1/channels/{room.channel.id}/messages"
    after = client.get(f"{base}?after_seq=5").get_json()["items"]
    assert [m["seq"] for m in after] == [6, 7]
    before = client.get(f"{base}?before_seq=6&limit=3").get_json()["items"]
    assert [m["seq"] for m in before] == [3, 4, 5]


def test_html_typed_in_a_message_is_shown_as_text_never_run(client, login, room):
    login(client, room.contact_point)
    post(
        client,
        room.channel.id,
        "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>",
    )
    [message] = client.get(f"/api/v1/channels/{room.channel.id}/messages").get_json()["items"]
    html = message["html"]
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html.lower()
    assert "&lt;script&gt;" in html  # shown as the text that was typed


def test_bad_messages_are_refused_with_a_reason_and_nothing_is_stored(client, login, room, db):
    login(client, room.contact_point)
    from tests.conftest import csrf_token

    token = csrf_token(client, "/account/")
    url = f"/api/v1/channels/{room.channel.id}/messages"
    cases = [
        ({"body": "   ", "client_id": client_id()}, "body"),
        ({"body": "x" * 10_001, "client_id": client_id()}, "body"),
        ({"body": 42, "client_id": client_id()}, "body"),
        ({"body": "hello"}, "client_id"),
        ({"body": "hello", "client_id": "short"}, "client_id"),
        ({"body": "hello", "client_id": client_id(), "parent_id": 999999}, "parent_id"),
    ]
    for payload, field in cases:
        response = client.post(url, json=payload, headers={"X-CSRFToken": token})
        assert response.status_code == 422, payload
        assert field in response.get_json()["error"]["fields"], payload
    not_json = client.post(url, data="body=hi", headers={"X-CSRFToken": token})
    assert not_json.status_code == 422
    assert db.session.scalar(select(_db.func.count()).select_from(Message)) == 0


def test_observer_reads_but_cannot_post(client, login, room):
    login(client, room.observer)
    assert client.get(f"/api/v1/channels/{room.channel.id}/messages").status_code == 200
    response = post(client, room.channel.id, "may I?")
    assert response.status_code == 403


def test_member_of_another_network_can_neither_read_nor_post(client, login, room):
    login(client, room.outsider)
    assert client.get(f"/api/v1/channels/{room.channel.id}/messages").status_code == 404
    assert post(client, room.channel.id, "intrusion").status_code == 404
    listed = client.get("/api/v1/channels").get_json()["items"]
    assert room.channel.id not in [c["id"] for c in listed]


def test_anonymous_visitor_gets_401(client, room):
    assert client.get(f"/api/v1/channels/{room.channel.id}/messages").status_code == 401
    assert client.get("/api/v1/channels").status_code == 401


def test_session_post_without_csrf_is_refused_but_a_token_needs_none(app, client, login, room):
    login(client, room.contact_point)
    url = f"/api/v1/channels/{room.channel.id}/messages"
    refused = client.post(url, json={"body": "hi", "client_id": client_id()})
    assert refused.status_code == 400
    _token, plain = accounts.create_token(room.contact_point, "script")
    response = app.test_client().post(
        url,
        json={"body": "from a script", "client_id": client_id()},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 201


def test_unread_counts_follow_what_others_post_and_what_i_read(app, client, login, room):
    login(client, room.contact_point)
    for n in range(3):
        post(client, room.channel.id, f"news {n}")
    reader = login(app.test_client(), room.coordinator)
    [entry] = [
        c for c in reader.get("/api/v1/channels").get_json()["items"] if c["id"] == room.channel.id
    ]
    assert entry["unread"] == 3
    mine = [
        c for c in client.get("/api/v1/channels").get_json()["items"] if c["id"] == room.channel.id
    ]
    assert mine[0]["unread"] == 0  # one's own messages are read


def test_edits_keep_their_history_and_deletion_leaves_a_tombstone(client, login, room, db):
    login(client, room.contact_point)
    posted = post(client, room.channel.id, "Deadline is 12 May").get_json()
    messaging.edit_message(posted["id"], room.contact_point, "Deadline is 15 May")
    message = db.session.get(Message, posted["id"])
    assert [body for body, _when in messaging.revisions(message, room.observer)] == [
        "Deadline is 12 May"
    ]
    [shown] = client.get(f"/api/v1/channels/{room.channel.id}/messages").get_json()["items"]
    assert "15 May" in shown["html"]
    assert shown["edited_at"] is not None

    messaging.delete_message(posted["id"], room.contact_point)
    [tombstone] = client.get(f"/api/v1/channels/{room.channel.id}/messages").get_json()["items"]
    assert tombstone["deleted"] is True
    assert tombstone["html"] == ""
    assert tombstone["seq"] == posted["seq"]
    assert messaging.revisions(db.session.get(Message, posted["id"]), room.observer) == []


def test_message_text_is_encrypted_at_rest(client, login, room, db):
    login(client, room.contact_point)
    post(client, room.channel.id, "Extradition of suspect KILO-7 confirmed")
    raw = db.session.execute(text("SELECT body_encrypted, html_encrypted FROM messages")).one()
    assert "KILO-7" not in raw[0]
    assert "KILO-7" not in raw[1]
