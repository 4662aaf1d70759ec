"""Fixtures for messaging: a network with its channel and people in every role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from network.models.directory import Network
from network.models.messaging import Channel
from network.models.people import User
from network.services import messaging


@dataclass
class Room:
    network: Network
    channel: Channel
    contact_point: User
    coordinator: User
    observer: User
    outsider: User  # a contact point of another network


@pytest.fixture
def room(make_network, make_user, db) -> Room:  # type: ignore[no-untyped-def]
    wacap = make_network("wacap", acronym="WACAP")
    other = make_network("iberred", acronym="IberRed")
    channel = messaging.ensure_network_channel(wacap)
    messaging.ensure_network_channel(other)
    db.session.commit()
    return Room(
        network=wacap,
        channel=channel,
        contact_point=make_user("contact_point", wacap),
        coordinator=make_user("coordinator", wacap),
        observer=make_user("observer", wacap),
        outsider=make_user("contact_point", other),
    )


def client_id() -> str:
    return uuid.uuid4().hex


def post(client: Any, channel_id: int, body: str, cid: str | None = None, **headers: str) -> Any:
    """POST a message through the API as the client's signed-in person (CSRF header from
    a page, as the browser's script does)."""
    from tests.conftest import csrf_token

    token = csrf_token(client, "/account/")
    return client.post(
        f"/api/v1/channels/{channel_id}/messages",
        json={"body": body, "client_id": cid or client_id()},
        headers={"X-CSRFToken": token, **headers},
    )
