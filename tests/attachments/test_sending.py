"""Files sent with a message from the API and from a socket: the message carries them,
the other members receive them live with a download link, and someone else's upload is
refused with the same answer everywhere."""

from __future__ import annotations

from typing import Any

from network.extensions import socketio
from tests.attachments import samples
from tests.attachments.conftest import client_id, upload
from tests.conftest import csrf_token


def _socket(app: Any, client: Any) -> Any:
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    return socket


def test_a_message_with_only_files_is_posted_through_the_api(app, client, login, place):
    stored = upload(place.channel, place.contact_point, "Requête.pdf")
    login(client, place.contact_point)
    token = csrf_token(client, "/account/")
    response = client.post(
        f"/api/v1/channels/{place.channel.id}/messages",
        json={"body": "", "client_id": client_id(), "attachment_ids": [stored.id]},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201, response.get_data(as_text=True)

    reader = login(app.test_client(), place.observer)
    [message] = reader.get(f"/api/v1/channels/{place.channel.id}/messages").get_json()["items"]
    [file] = message["attachments"]
    assert file["filename"] == "Requête.pdf"
    assert reader.get(file["url"]).data == samples.pdf()


def test_someone_elses_upload_is_refused_over_the_api(client, login, place):
    theirs = upload(place.channel, place.coordinator)
    login(client, place.contact_point)
    response = client.post(
        f"/api/v1/channels/{place.channel.id}/messages",
        json={"body": "mine now", "client_id": client_id(), "attachment_ids": [theirs.id]},
        headers={"X-CSRFToken": csrf_token(client, "/account/")},
    )
    assert response.status_code == 422
    assert "attachment_ids" in response.get_json()["error"]["fields"]


def test_files_sent_on_a_socket_reach_the_room_with_their_links(app, client, login, place):
    stored = upload(place.channel, place.contact_point, "scan.png", samples.png())
    sender = _socket(app, login(client, place.contact_point))
    reader = _socket(app, login(app.test_client(), place.observer))
    for socket in (sender, reader):
        assert socket.emit("join", {"channel_id": place.channel.id, "after_seq": 0}, callback=True)[
            "ok"
        ]
    reader.get_received()

    ack = sender.emit(
        "send",
        {
            "channel_id": place.channel.id,
            "client_id": client_id(),
            "body": "The scan",
            "attachment_ids": [stored.id],
        },
        callback=True,
    )

    assert ack["ok"] is True, ack
    [event] = [e for e in reader.get_received() if e["name"] == "message"]
    payload = event["args"][0] if isinstance(event["args"], list) else event["args"]
    assert [(a["id"], a["url"]) for a in payload["attachments"]] == [
        (stored.id, f"/attachments/{stored.id}/download")
    ]

    again = sender.emit(
        "send",
        {
            "channel_id": place.channel.id,
            "client_id": client_id(),
            "body": "Again",
            "attachment_ids": [stored.id],
        },
        callback=True,
    )
    assert again["ok"] is False
    assert again["error"]["code"] == "validation_error"
