"""Socket.IO handlers. Connections are authenticated from the Flask-Login session or a
personal access token; everything else is refused (DESIGN.md)."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_login import current_user

from network.extensions import socketio
from network.services import accounts

log = logging.getLogger(__name__)


def connected_user(auth: Any) -> Any:
    """The user behind a connection: a token in ``auth`` or the session cookie.

    A connection that offers a token is judged by that token alone: a bad one is refused
    even when the browser also has a session.
    """
    if isinstance(auth, dict) and "token" in auth:
        token = auth["token"]
        return accounts.user_for_token(token) if isinstance(token, str) else None
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def register_handlers() -> None:
    @socketio.on("connect")
    def on_connect(auth: Any = None) -> bool:
        user = connected_user(auth)
        if user is None:
            log.info("refused an unauthenticated socket from %s", request.remote_addr)
            return False
        log.info("socket connected for user %s", user.id)
        return True
