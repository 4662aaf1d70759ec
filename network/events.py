"""Publishing to Socket.IO rooms. Services call this only after their transaction has
committed, so a receiver never sees something the database does not have.

Rooms
    ``channel:<id>``        the live messages of a channel (joined with ``join``)
    ``channel:<id>:watch``  a small ``channel_activity`` event per new message, for pages
                            that show unread counts (the channel list) without the
                            messages themselves (joined with ``watch``)
    ``user:<id>``           every socket of one person (notifications, receipts,
                            removals); entered at connect

Removing a person from a room, on every server process
    python-socketio's ``Server.leave_room(sid, room)`` works for a socket connected to
    *any* process when a message queue is configured: the PubSubManager publishes a
    ``leave_room`` order on the queue and the process holding the socket applies it.
    What it needs is the socket ids, and those live in the process each socket connected
    to. So every process records the sids of each person (``track_connection``): in
    memory, and in a Redis set per person when ``NETWORK_REDIS_URL`` is set. ``evict``
    reads them and asks the Socket.IO server to make each leave the rooms. The order
    travels on the same queue channel as the emits that follow it, so a message
    published after the eviction is never delivered to the evicted sockets.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from flask import current_app, has_app_context

from network.extensions import socketio

log = logging.getLogger(__name__)

# user id -> the sids of this process's sockets of that person.
_local_sids: dict[int, set[str]] = defaultdict(set)
_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}
# A Redis set of sids per person; it expires so that sids of a process that died
# without saying goodbye do not pile up (leaving a room for an unknown sid is a no-op).
_SIDS_KEY = "{}:sids:user:{}"  # (the Redis channel's name, the user id)
_SIDS_TTL_SECONDS = 7 * 24 * 3600


def publish(event: str, payload: dict[str, Any], room: str) -> None:
    """Send ``event`` to everyone in ``room`` (on every server process, through the
    message queue when one is configured)."""
    socketio.emit(event, payload, to=room)
    log.debug("published %s to %s", event, room)


def publish_many(emits: list[tuple[str, dict[str, Any], str]]) -> None:
    """``publish`` for several ``(event, payload, room)`` in order; with Redis, one queue
    message carries them all to the other processes."""
    manager = getattr(socketio.server, "manager", None)
    emit_many = getattr(manager, "emit_many", None)
    if emit_many is None:
        for event, payload, room in emits:
            socketio.emit(event, payload, to=room)
    else:
        emit_many(emits, namespace="/")
    log.debug("published %d events", len(emits))


def user_room(user_id: int) -> str:
    """Every socket of a person joins this room (live badges, invitations)."""
    return f"user:{user_id}"


def channel_room(channel_id: int) -> str:
    return f"channel:{channel_id}"


def watch_room(channel_id: int) -> str:
    """Pages that only count (the channel list) watch a channel here: a tiny
    ``channel_activity`` event per new message instead of the messages."""
    return f"channel:{channel_id}:watch"


def _redis() -> Any:
    if not has_app_context():
        return None
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = _redis_clients.get(url)
    if client is None:
        import redis

        # A blocking pool, as for publishing (network.realtime.queue): a burst of
        # connects waits for a connection instead of failing past the cap.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=current_app.config["REDIS_MAX_CONNECTIONS"], timeout=5
        )
        client = _redis_clients[url] = redis.Redis(connection_pool=pool)
    return client


def redis_client() -> Any:
    """This process's Redis client (a blocking pool) for the running application, or
    None without ``NETWORK_REDIS_URL``."""
    return _redis()


def _sids_key(user_id: int) -> str:
    return _SIDS_KEY.format(current_app.config["REDIS_CHANNEL"], user_id)


def track_connection(user_id: int, sid: str) -> None:
    """Remember a socket of the person (at connect), so it can be evicted from rooms."""
    with _lock:
        _local_sids[user_id].add(sid)
    client = _redis()
    if client is not None:
        try:
            key = _sids_key(user_id)
            client.sadd(key, sid)
            client.expire(key, _SIDS_TTL_SECONDS)
        except Exception:  # Redis down: this process still evicts its own sockets
            log.exception("could not record socket %s of user %s in Redis", sid, user_id)


def forget_connection(user_id: int, sid: str) -> None:
    with _lock:
        sids = _local_sids.get(user_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del _local_sids[user_id]
    client = _redis()
    if client is not None:
        try:
            client.srem(_sids_key(user_id), sid)
        except Exception:
            log.exception("could not forget socket %s of user %s in Redis", sid, user_id)


def forget_local_connections() -> None:
    """Forget every socket this process recorded: for a process that goes on with a fresh
    application (the tests), where sockets of the previous one, never disconnected,
    would make its people look connected."""
    with _lock:
        _local_sids.clear()


def connection_sids(user_id: int) -> set[str]:
    """The sids of the person's sockets on every process (this one's alone without
    Redis)."""
    with _lock:
        sids = set(_local_sids.get(user_id, ()))
    client = _redis()
    if client is not None:
        try:
            sids |= {s.decode() for s in client.smembers(_sids_key(user_id))}
        except Exception:
            log.exception("could not read the sockets of user %s from Redis", user_id)
    return sids


def is_connected(user_id: int) -> bool:
    return bool(connection_sids(user_id))


def evict(user_id: int, rooms: list[str]) -> None:
    """Make every socket of the person leave ``rooms`` now, on every server process.

    Call after the commit that took their access away; a later ``join`` is refused by
    the policy. Server side only: nothing is asked of the client.
    """
    server = socketio.server
    if server is None:
        return
    for sid in connection_sids(user_id):
        for room in rooms:
            server.leave_room(sid, room, namespace="/")
    log.info("evicted the sockets of user %s from %s", user_id, ", ".join(rooms))


def disconnect_user(user_id: int) -> None:
    """Close every socket of the person, on every server process (an account deactivated,
    signed out everywhere): rooms are left with the connection, and a reconnect is
    authenticated again."""
    server = socketio.server
    if server is None:
        return
    for sid in connection_sids(user_id):
        server.disconnect(sid, namespace="/")
    log.info("disconnected the sockets of user %s", user_id)


# --- Sockets per server-side session (issue 8) ----------------------------------------
# Signing out ends one session: only that browser's sockets close, on every process.

_session_sids: dict[int, set[str]] = defaultdict(set)
_SESSION_SIDS_KEY = "{}:sids:session:{}"  # (the Redis channel's name, the session row id)


def _session_key(session_id: int) -> str:
    return _SESSION_SIDS_KEY.format(current_app.config["REDIS_CHANNEL"], session_id)


def track_session_socket(session_id: int, sid: str) -> None:
    with _lock:
        _session_sids[session_id].add(sid)
    client = _redis()
    if client is not None:
        try:
            client.sadd(_session_key(session_id), sid)
            client.expire(_session_key(session_id), _SIDS_TTL_SECONDS)
        except Exception:
            log.exception("could not record socket %s of session %s", sid, session_id)


def forget_session_socket(session_id: int, sid: str) -> None:
    with _lock:
        sids = _session_sids.get(session_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del _session_sids[session_id]
    client = _redis()
    if client is not None:
        try:
            client.srem(_session_key(session_id), sid)
        except Exception:
            log.exception("could not forget socket %s of session %s", sid, session_id)


def session_sids(session_id: int) -> set[str]:
    with _lock:
        sids = set(_session_sids.get(session_id, ()))
    client = _redis()
    if client is not None:
        try:
            sids |= {s.decode() for s in client.smembers(_session_key(session_id))}
        except Exception:
            log.exception("could not read the sockets of session %s", session_id)
    return sids


def disconnect_session(session_id: int) -> None:
    """Close the sockets opened by one server-side session (signed out), on every
    process."""
    server = socketio.server
    if server is None:
        return
    for sid in session_sids(session_id):
        server.disconnect(sid, namespace="/")
    log.info("disconnected the sockets of session %s", session_id)
