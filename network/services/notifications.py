"""Notifications: @mentions, replies, being added to a channel; the live badges.

STUB: filled in by the channels work; the message pipeline already calls these.
"""

from __future__ import annotations

from network.models.messaging import Message, Notification


def on_message_posted(message: Message, text: str) -> list[Notification]:
    """Add the notifications a new message causes (mentions, reply) to the current
    transaction; returns them so they can be published after the commit."""
    return []


def publish(notifications: list[Notification]) -> None:
    """Tell each notified person's sockets (call after commit)."""
