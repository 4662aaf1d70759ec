"""Socket events of the channels (API.md): join, leave, send, typing, read."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import emit, join_room, leave_room

from network.realtime import handler
from network.services import messaging

# One page of the API at most; the client joins again from the last seq it got.
CATCH_UP_LIMIT = messaging.MAX_PAGE - 1


def register() -> None:
    @handler("join")
    def join(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        """Join a channel's room and receive what was missed after ``after_seq``; when
        more than ``CATCH_UP_LIMIT`` are missing, ``more`` is true and the client joins
        again from the last one it got."""
        channel, missed = messaging.join_and_catch_up(
            data.get("channel_id"),
            user,
            data.get("after_seq", 0),
            CATCH_UP_LIMIT + 1,
            lambda found: join_room(found.room),
        )
        return {
            "channel_id": channel.id,
            "last_seq": channel.last_seq,
            "messages": [messaging.message_payload(m) for m in missed[:CATCH_UP_LIMIT]],
            "more": len(missed) > CATCH_UP_LIMIT,
        }

    @handler("leave")
    def leave(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        channel = messaging.get_channel(data.get("channel_id"), user)
        leave_room(channel.room)
        return {"channel_id": channel.id}

    @handler("send")
    def send(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        message, created = messaging.post_message(
            data.get("channel_id"),
            user,
            data.get("body"),
            data.get("client_id"),
            data.get("parent_id"),
        )
        return {"id": message.id, "seq": message.seq, "created": created}

    @handler("typing")
    def typing(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        channel = messaging.get_channel(data.get("channel_id"), user)
        emit(
            "typing",
            {"channel_id": channel.id, "user": {"id": user.id, "name": user.name}},
            to=channel.room,
            skip_sid=request.sid,
        )
        return {}

    @handler("read")
    def read(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        channel = messaging.get_channel(data.get("channel_id"), user)
        return {"last_read_seq": messaging.mark_read(channel, user, data.get("seq"))}
