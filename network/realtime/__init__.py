"""Socket.IO handlers. Connections are authenticated from the Flask-Login session or a
personal access token; everything else is refused (DESIGN.md).

The socket session is a copy taken at connect, and ``login_required`` / ``before_request``
do not run for socket events: each event therefore looks the person up again (an account
deactivated, a token revoked or a password changed since the connect stops working at
once) and every handler asks the policy through the services.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room

from network import events
from network.errors import DomainError, Unauthorized, ValidationError
from network.extensions import socketio
from network.services import accounts

log = logging.getLogger(__name__)

# sid -> how the connection authenticated: ("token", token) or ("session", session id).
# Process-local: a socket always talks to the process it connected to (sticky sessions).
_connections: dict[str, tuple[str, str]] = {}


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


def socket_user() -> Any:
    """The person behind the current event's connection, checked again now; raises
    ``Unauthorized`` when the account, token or session is no longer valid."""
    kind, value = _connections.get(request.sid, ("", ""))
    user = None
    if kind == "token":
        user = accounts.user_for_token(value)
    elif kind == "session":
        user = accounts.user_for_session_id(value)
    if user is None:
        raise Unauthorized()
    return user


def error_ack(error: DomainError) -> dict[str, Any]:
    return {"ok": False, "error": {"code": error.code, "message": error.message}}


def handler(event: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., Any]]:
    """Register a client→server event whose function takes ``(user, data)`` and returns
    the acknowledgement; domain errors become ``{"ok": false, "error": …}``."""

    def decorate(function: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(data: Any = None) -> dict[str, Any]:
            try:
                if not isinstance(data, dict):
                    raise ValidationError(_("Send an object with the event's fields."))
                return {"ok": True, **function(socket_user(), data)}
            except DomainError as error:
                return error_ack(error)

        socketio.on_event(event, wrapper)
        return wrapper

    return decorate


def register_handlers() -> None:
    @socketio.on("connect")
    def on_connect(auth: Any = None) -> bool:
        user = connected_user(auth)
        if user is None:
            log.info("refused an unauthenticated socket from %s", request.remote_addr)
            return False
        if isinstance(auth, dict) and isinstance(auth.get("token"), str):
            _connections[request.sid] = ("token", auth["token"])
        else:
            _connections[request.sid] = ("session", user.get_id())
        join_room(events.user_room(user.id))
        log.info("socket connected for user %s", user.id)
        return True

    @socketio.on("disconnect")
    def on_disconnect(*_args: Any) -> None:
        _connections.pop(request.sid, None)

    from network.realtime import messaging

    messaging.register()
