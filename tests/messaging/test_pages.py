"""The channel pages without script: list with unread counts, history, and a composer
whose form can be submitted twice without storing the message twice."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from network.models.messaging import Message
from tests.conftest import csrf_token
from tests.messaging.conftest import post


def _form_client_id(html: str) -> str:
    match = re.search(r'name="client_id"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="client_id"', html
    )
    assert match, "no client id on the composer"
    return match.group(1)


def test_channel_list_shows_unread_counts(app, client, login, room):
    login(client, room.contact_point)
    post(client, room.channel.id, "one")
    post(client, room.channel.id, "two")
    reader = login(app.test_client(), room.coordinator)
    page = reader.get("/channels/").get_data(as_text=True)
    assert "WACAP" in page
    assert unread_badges(page) == {"WACAP": 2}
    assert 'aria-label="2 unread messages"' in page
    reader.get(f"/channels/{room.channel.id}")  # reading the channel marks it read
    assert unread_badges(reader.get("/channels/").get_data(as_text=True)) == {}


def unread_badges(html: str) -> dict[str, int]:
    """The visible unread badges of the channel list, by channel name."""
    found = {}
    for item in re.findall(r"<li data-channel-id=.*?</li>", html, re.S):
        name = re.search(r'class="channel-name">(?:<bdi>)?([^<]+)', item).group(1).strip()
        badge = re.search(r'class="badge badge-net js-unread"[^>]*?(hidden)?>(\d+)<', item)
        if badge and not badge.group(1):
            found[name] = int(badge.group(2))
    return found


def test_composer_form_submitted_twice_stores_one_message(client, login, room, db):
    login(client, room.contact_point)
    html = client.get(f"/channels/{room.channel.id}").get_data(as_text=True)
    form = {
        "body": "Sent from a page without script",
        "client_id": _form_client_id(html),
        "csrf_token": csrf_token(client, f"/channels/{room.channel.id}"),
    }
    first = client.post(f"/channels/{room.channel.id}", data=form)
    second = client.post(f"/channels/{room.channel.id}", data=form)
    assert first.status_code == second.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    page = client.get(f"/channels/{room.channel.id}").get_data(as_text=True)
    assert "Sent from a page without script" in page


def test_empty_message_from_the_form_is_refused_with_a_reason(client, login, room, db):
    login(client, room.contact_point)
    html = client.get(f"/channels/{room.channel.id}").get_data(as_text=True)
    response = client.post(
        f"/channels/{room.channel.id}",
        data={
            "body": "   ",
            "client_id": _form_client_id(html),
            "csrf_token": csrf_token(client, "/account/"),
        },
    )
    assert response.status_code == 422
    assert "This field is required." in response.get_data(
        as_text=True
    ) or "empty" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_observer_reads_without_a_composer(client, login, room):
    login(client, room.observer)
    page = client.get(f"/channels/{room.channel.id}").get_data(as_text=True)
    assert "You can read this channel but not write in it." in page
    assert 'id="composer"' not in page


def test_member_of_another_network_gets_not_found(client, login, room):
    login(client, room.outsider)
    assert client.get(f"/channels/{room.channel.id}").status_code == 404
    assert "WACAP" not in client.get("/channels/").get_data(as_text=True)


def test_messages_are_shown_as_sanitised_html(client, login, room):
    login(client, room.contact_point)
    post(client, room.channel.id, "**bold** <script>alert(1)</script>")
    page = client.get(f"/channels/{room.channel.id}").get_data(as_text=True)
    assert "<strong>bold</strong>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
