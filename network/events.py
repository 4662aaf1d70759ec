"""Publishing to Socket.IO rooms. Services call this only after their transaction has
committed, so a receiver never sees something the database does not have."""

from __future__ import annotations

import logging
from typing import Any

from network.extensions import socketio

log = logging.getLogger(__name__)


def publish(event: str, payload: dict[str, Any], room: str) -> None:
    """Send ``event`` to everyone in ``room`` (on every server process, through the
    message queue when one is configured)."""
    socketio.emit(event, payload, to=room)
    log.debug("published %s to %s", event, room)


def user_room(user_id: int) -> str:
    """Every socket of a person joins this room (live badges, invitations)."""
    return f"user:{user_id}"
