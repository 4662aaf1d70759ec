"""Socket.IO handlers. Connections are authenticated from the Flask-Login session or a
personal access token; everything else is refused (DESIGN.md).

The socket session is a copy taken at connect, and ``login_required`` / ``before_request``
do not run for socket events: each event therefore looks the person up again (an account
deactivated, a token revoked or a password changed since the connect stops working at
once) and every handler asks the policy through the services.

Hygiene, per connection (all numbers from the app config, with these defaults):
    * Size: Engine.IO refuses any packet over ``max_http_buffer_size`` (128 KB, set on
      the ``SocketIO`` object in ``extensions.py``) by closing the connection; below that,
      an event whose data is larger than ``SOCKET_MAX_EVENT_BYTES`` (64 KB, well above a
      10,000-character message) gets ``{"ok": false, "error": {"code": "too_large"}}``
      and the connection stays.
    * Rate: a token bucket per socket (``SOCKET_EVENT_BURST`` = 100 events at once,
      refilled at ``SOCKET_EVENT_RATE`` = 30 per second). An event without a token gets
      ``{"ok": false, "error": {"code": "rate_limited"}}`` and is not handled; a client
      that goes on regardless (``SOCKET_FLOOD_LIMIT`` = 100 refusals in a row, with no
      accepted event between them) is disconnected. A person typing never comes near:
      the page sends one ``typing`` per two seconds and one ``read`` per half second.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import disconnect, join_room

from network import events
from network.errors import DomainError, TooLarge, Unauthorized, ValidationError
from network.extensions import db, socketio
from network.security import has_huge_int
from network.services import accounts

log = logging.getLogger(__name__)

# sid -> how the connection authenticated: ("token", token) or ("session", session id).
# Process-local: a socket always talks to the process it connected to (sticky sessions).
_connections: dict[str, tuple[str, str]] = {}
# sid -> the person's id, to forget the socket in the eviction registry on disconnect.
_owners: dict[str, int] = {}
# sid -> the server-side session row a cookie-authenticated socket belongs to (issue 8):
# signing out closes that session's sockets.
_session_rows: dict[str, int] = {}
# sid -> the language of the connection's messages (the person's choice, else the
# handshake's session or Accept-Language), fixed when it connects (issue 9).
_locales: dict[str, str] = {}

DEFAULT_MAX_EVENT_BYTES = 64 * 1024
DEFAULT_EVENT_BURST = 100
DEFAULT_EVENT_RATE = 30.0
DEFAULT_FLOOD_LIMIT = 100


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _l("Too many events: slow down.")


@dataclass
class _Bucket:
    tokens: float
    updated: float
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_buckets: dict[str, _Bucket] = {}


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def _take_token(sid: str) -> bool:
    """Spend one token of the socket's bucket; False when it is empty. Counts refusals
    in a row and disconnects a client that keeps flooding."""
    burst = _setting("SOCKET_EVENT_BURST", DEFAULT_EVENT_BURST)
    rate = _setting("SOCKET_EVENT_RATE", DEFAULT_EVENT_RATE)
    now = time.monotonic()
    bucket = _buckets.get(sid)
    if bucket is None:
        bucket = _buckets.setdefault(sid, _Bucket(tokens=burst, updated=now))
    with bucket.lock:
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.refused = 0
            return True
        bucket.refused += 1
        flooding = bucket.refused >= _setting("SOCKET_FLOOD_LIMIT", DEFAULT_FLOOD_LIMIT)
    if flooding:
        log.warning("disconnecting socket %s: it kept flooding after being refused", sid)
        disconnect()
    return False


def _size(data: Any) -> int:
    try:
        return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError):
        return 0  # binary or odd data: the handler's own validation refuses it
    except RecursionError:
        return 2**31  # nested beyond measure: too large (issue 8)


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
            # Issue 8: the server-side session ended (signed out elsewhere, idle, too
            # old): the socket goes too, so it stops receiving the rooms' broadcasts.
            disconnect()
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
            with force_locale(_locales.get(request.sid) or _default_locale()):
                return _acknowledge(function, data)

        socketio.on_event(event, wrapper)
        return wrapper

    return decorate


def _default_locale() -> str:
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def socket_locale(user: Any) -> str:
    """The language of a socket's error messages: the person's profile, else what the
    page's request would choose (session, then the browser's Accept-Language)."""
    from network.i18n import select_locale

    if getattr(user, "locale", None) in current_app.config["LANGUAGES"]:
        return str(user.locale)
    return select_locale()


def _acknowledge(function: Callable[..., dict[str, Any]], data: Any) -> dict[str, Any]:
    try:
        if not _take_token(request.sid):
            raise RateLimited()
        if _size(data) > _setting("SOCKET_MAX_EVENT_BYTES", DEFAULT_MAX_EVENT_BYTES):
            raise TooLarge(_("This event is too large."))
        if not isinstance(data, dict):
            raise ValidationError(_("Send an object with the event's fields."))
        if has_huge_int(data):  # a driver would fail on it (issue 8)
            raise ValidationError(_("A number in this request is out of range."))
        return {"ok": True, **function(socket_user(), data)}
    except DomainError as error:
        return error_ack(error)


def run_every(setting: str, default: float, job: Callable[[], Any], what: str) -> None:
    """In the real server (eventlet), run ``job`` in the application's context every
    ``app.config[setting]`` seconds (``default`` when unset) on a green thread of its
    own, for as long as the process lives. Nowhere else: commands and the threaded test
    app start no background work."""
    middleware = getattr(socketio, "sockio_mw", None)
    if socketio.async_mode != "eventlet" or middleware is None:
        return
    app = middleware.flask_app
    seconds = float(app.config.get(setting, default))

    def loop() -> None:
        while True:
            socketio.sleep(seconds)
            with app.app_context():
                try:
                    job()
                except Exception:
                    log.exception("could not %s", what)
                finally:
                    db.session.remove()

    socketio.start_background_task(loop)


def forget_local_connections() -> None:
    """Forget every socket this process knows: for a process that goes on with a fresh
    application (the tests), where sockets of the previous one were never closed."""
    for registry in (_connections, _owners, _session_rows, _locales, _buckets):
        registry.clear()


def sweep_session_sockets() -> int:
    """Close this process's sockets whose server-side session has ended without them:
    timed out (idle or too old) while the page sent nothing, so no event found it out.
    A session that ended by a sign-out, a password change or an administrator closes its
    sockets at once (``events.disconnect_session``); a timeout happens in nobody's
    request, so the server looks for it every ``SOCKET_SESSION_SWEEP_SECONDS`` (30 s).
    Returns how many sockets were closed."""
    from network.services import sessions

    watched = dict(_session_rows)
    if not watched:
        return 0
    ended = sessions.ended_among(set(watched.values()))
    closed = 0
    for session_row in sorted(ended):
        sids = [sid for sid, row in watched.items() if row == session_row]
        log.info("session %s has ended: closing its %d socket(s)", session_row, len(sids))
        for sid in sids:
            socketio.server.disconnect(sid, namespace="/")
            closed += 1
    return closed


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
            from network.services import sessions

            record_id = sessions.current_id()
            if record_id is not None:
                _session_rows[request.sid] = record_id
                events.track_session_socket(record_id, request.sid)
        join_room(events.user_room(user.id))
        _owners[request.sid] = user.id
        _locales[request.sid] = socket_locale(user)
        events.track_connection(user.id, request.sid)
        log.info("socket connected for user %s", user.id)
        return True

    @socketio.on("disconnect")
    def on_disconnect(*_args: Any) -> None:
        _connections.pop(request.sid, None)
        _buckets.pop(request.sid, None)
        _locales.pop(request.sid, None)
        session_row = _session_rows.pop(request.sid, None)
        if session_row is not None:
            events.forget_session_socket(session_row, request.sid)
        user_id = _owners.pop(request.sid, None)
        if user_id is not None:
            events.forget_connection(user_id, request.sid)

    run_every(
        "SOCKET_SESSION_SWEEP_SECONDS",
        30,
        sweep_session_sockets,
        "close the sockets of ended sessions",
    )

    from network.realtime import messaging

    messaging.register()
    from network.realtime import consultations

    consultations.register()
