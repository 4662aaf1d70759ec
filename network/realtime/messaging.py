"""Socket events of the channels (API.md): join, leave, send, edit, delete, typing, read,
received (certified receipts) and watch (unread counts of the channel list)."""

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
        again from the last one it got. ``purged_through_seq``: every message up to it was
        removed by the retention period, so the client counts them as held."""
        channel, missed = messaging.join_and_catch_up(
            data.get("channel_id"),
            user,
            data.get("after_seq", 0),
            CATCH_UP_LIMIT + 1,
            lambda found: join_room(found.room),
            lambda found: leave_room(found.room),
        )
        return {
            "channel_id": channel.id,
            "last_seq": channel.last_seq,
            "purged_through_seq": channel.purged_through_seq,
            "archived": channel.archived_at is not None,
            "messages": messaging.payloads(missed[:CATCH_UP_LIMIT]),
            "more": len(missed) > CATCH_UP_LIMIT,
        }

    @handler("leave")
    def leave(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        channel = messaging.get_channel(data.get("channel_id"), user)
        leave_room(channel.room)
        return {"channel_id": channel.id}

    @handler("watch")
    def watch(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        """Listen to the new-message activity of several channels (the channel list):
        ``{"channel_ids": [...]}`` → their current unread and mention counts."""
        summaries = messaging.watch_channels(user, data.get("channel_ids"), join_room)
        return {
            "channels": [
                {
                    "id": s.channel.id,
                    "last_seq": s.channel.last_seq,
                    "last_read_seq": s.last_read_seq,
                    "unread": s.unread,
                    "mentions": s.mentions,
                }
                for s in summaries
            ]
        }

    @handler("send")
    def send(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        message, created = messaging.post_message(
            data.get("channel_id"),
            user,
            data.get("body"),
            data.get("client_id"),
            data.get("parent_id"),
            data.get("attachment_ids"),
        )
        return {"id": message.id, "seq": message.seq, "created": created}

    @handler("edit")
    def edit(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        message = messaging.edit_message(data.get("message_id"), user, data.get("body"))
        return {"id": message.id, "seq": message.seq}

    @handler("delete")
    def delete(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        message = messaging.delete_message(data.get("message_id"), user)
        return {"id": message.id, "seq": message.seq}

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

    @handler("received")
    def received(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        """The client holds the channel's messages up to ``seq`` (certified receipts of
        case channels; elsewhere a no-op)."""
        count = messaging.record_delivery(data.get("channel_id"), user, data.get("seq"))
        return {"recorded": count}
