"""Fixtures for message search: the messaging ``room`` (a network channel, people in
every role, a member of another network) and helpers to post and to make private
channels."""

from __future__ import annotations

import uuid
from typing import Any

from network.extensions import db as _db
from network.models.messaging import Channel, ChannelKind, ChannelMember, Message
from network.services import messaging
from tests.messaging.conftest import room  # noqa: F401  (the fixture, shared)


def say(channel: Channel, user: Any, body: str) -> Message:
    """Post ``body`` through the one pipeline as ``user``."""
    message, _created = messaging.post_message(channel.id, user, body, uuid.uuid4().hex)
    return message


def private_channel(kind: str, network: Any, name: str, *members: Any) -> Channel:
    """A topic or case channel whose explicit members are ``members`` (the first owns it)."""
    channel = Channel(kind=kind, network=network, name=name, created_by_id=members[0].id)
    channel.members = [ChannelMember(user_id=m.id, is_owner=i == 0) for i, m in enumerate(members)]
    _db.session.add(channel)
    _db.session.commit()
    return channel


CASE = ChannelKind.CASE.value
TOPIC = ChannelKind.TOPIC.value
