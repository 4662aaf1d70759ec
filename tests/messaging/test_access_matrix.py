"""The messaging access matrix (issue 3): every role against a network channel, a topic
channel and a case channel, over every surface that can reveal or change a message — the
REST API, the socket events, search, attachment downloads — plus the audit export.

One world per test: a WACAP network channel, a topic channel (members: contact point,
peer) and a case channel (members: contact point, secretariat); ``removed`` was a member of
both private channels and was taken out of them. Each channel holds a message with a word
of its own and a file. The expected table below is the policy in plain words; the test
plays it for real.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from network.extensions import socketio
from network.models.messaging import Channel
from network.services import accounts, attachments, cases, messaging
from tests.attachments import samples

ROLES = [
    "anonymous",
    "outsider",  # a contact point of another network
    "observer",
    "contact_point",
    "peer",  # a contact point of the same network, in the topic channel only
    "coordinator",  # of the network, in no private channel
    "secretariat",  # of the network, in the case channel
    "admin",  # runs the platform, member of nothing
    "removed",  # was in the topic and case channels, removed from both
]

READERS = {
    "network": {
        "observer",
        "contact_point",
        "peer",
        "coordinator",
        "secretariat",
        "admin",
        "removed",
    },
    "topic": {"contact_point", "peer"},
    "case": {"contact_point", "secretariat"},
}
WRITERS = {
    "network": {"contact_point", "peer", "coordinator", "secretariat", "removed"},
    "topic": {"contact_point", "peer"},
    "case": {"contact_point", "secretariat"},
}
AUDIT_READERS = {"secretariat", "admin"}


@dataclass
class World:
    channels: dict[str, Channel]
    words: dict[str, str]
    files: dict[str, int]
    users: dict[str, Any]


@pytest.fixture
def world(make_network, make_user, db, app, tmp_path, monkeypatch) -> World:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    wacap = make_network("wacap", acronym="WACAP", states="SN GH")
    other = make_network("iberred", acronym="IberRed")
    messaging.ensure_network_channel(other)
    network_channel = messaging.ensure_network_channel(wacap)
    db.session.commit()
    users = {
        "outsider": make_user("contact_point", other),
        "observer": make_user("observer", wacap),
        "contact_point": make_user("contact_point", wacap),
        "peer": make_user("contact_point", wacap),
        "coordinator": make_user("coordinator", wacap),
        "secretariat": make_user("secretariat", wacap),
        "admin": make_user(admin=True),
        "removed": make_user("contact_point", wacap),
    }
    owner = users["contact_point"]
    topic = messaging.create_topic_channel(
        owner, wacap, "Asset recovery", "", [users["peer"].id, users["removed"].id]
    )
    case = cases.create_case(
        owner,
        wacap,
        {
            "reference": "SN-MLA-2026-077",
            "case_type": "mla",
            "requesting_state": "SN",
            "requested_state": "GH",
            "members": [users["secretariat"].id, users["removed"].id],
        },
    ).channel
    for channel in (topic, case):
        messaging.remove_member(channel.id, owner, users["removed"].id)
    channels = {"network": network_channel, "topic": topic, "case": case}
    words, files = {}, {}
    for kind, channel in channels.items():
        words[kind] = f"zebra{kind}{uuid.uuid4().hex[:6]}"
        upload = attachments.store_upload(channel, owner, (f"{kind}.pdf", samples.pdf()))
        messaging.post_message(
            channel.id,
            owner,
            f"The {words[kind]} file",
            uuid.uuid4().hex,
            attachment_ids=[upload.id],
        )
        files[kind] = upload.id
    return World(channels, words, files, users)


def _bearer(user: Any) -> dict[str, str]:
    _token, plain = accounts.create_token(user, "matrix")
    return {"Authorization": f"Bearer {plain}"}


@pytest.mark.parametrize("role", ROLES)
def test_every_surface_follows_the_policy(role, world, app, login) -> None:  # type: ignore[no-untyped-def]
    user = world.users.get(role)
    headers = _bearer(user) if user else {}
    api = app.test_client()
    browser = login(app.test_client(), user) if user else app.test_client()
    socket = None
    if user:
        socket = socketio.test_client(app, auth={"token": headers["Authorization"][7:]})
        assert socket.is_connected()
    else:
        assert not socketio.test_client(app).is_connected()

    for kind, channel in world.channels.items():
        may_read, may_write = role in READERS[kind], role in WRITERS[kind]
        where = f"{role} on the {kind} channel"

        # REST: history and posting.
        history = api.get(f"/api/v1/channels/{channel.id}/messages", headers=headers)
        expected = 200 if may_read else (401 if not user else 404)
        assert history.status_code == expected, where
        if may_read:
            assert any("zebra" in m["html"] for m in history.get_json()["items"]), where
        posted = api.post(
            f"/api/v1/channels/{channel.id}/messages",
            json={"body": "hello", "client_id": uuid.uuid4().hex},
            headers=headers,
        )
        if may_write:
            assert posted.status_code == 201, where
        else:
            assert posted.status_code in {400, 401, 403, 404}, where

        # Search finds the channel's word only for its readers.
        found = api.get(f"/api/v1/search?q={world.words[kind]}", headers=headers)
        if user:
            assert found.status_code == 200, where
            assert (found.get_json()["total"] > 0) == may_read, where
        else:
            assert found.status_code == 401, where

        # The file goes with the channel.
        download = browser.get(f"/attachments/{world.files[kind]}/download")
        if may_read:
            assert download.status_code == 200, where
            assert download.data == samples.pdf(), where
        else:
            assert download.status_code in {302, 401, 404}, where
            assert download.data != samples.pdf(), where

        # Sockets: join (with the history) and send.
        if socket is not None:
            joined = socket.emit("join", {"channel_id": channel.id, "after_seq": 0}, callback=True)
            assert joined["ok"] == may_read, where
            if not may_read:
                assert joined["error"]["code"] == "not_found", where
                assert "zebra" not in str(joined), where
            sent = socket.emit(
                "send",
                {"channel_id": channel.id, "client_id": uuid.uuid4().hex, "body": "hi"},
                callback=True,
            )
            assert sent["ok"] == may_write, where

    # The audit log export: administrators and the network's secretariat only.
    export = browser.get("/audit.csv")
    if role in AUDIT_READERS:
        assert export.status_code == 200
        assert export.mimetype == "text/csv"
    else:
        assert export.status_code in ({302, 401} if not user else {403})
