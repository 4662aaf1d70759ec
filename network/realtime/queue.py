"""The Redis message queue that joins several server processes, made not to drop messages.

With ``NETWORK_REDIS_URL`` set, every process publishes what it emits on one Redis channel
and every process delivers what the others published to its own sockets (Flask-SocketIO's
``message_queue``). python-socketio's ``RedisManager`` as shipped loses messages under
bursts (issue 7, measured: up to 25% of the deliveries of a 4-sender burst to 100
members): redis-py's default pool refuses a publish past its cap with "Too many
connections", the manager then reconnects, and its reconnect replaces the subscriber
connection too, so the listener drops what arrives for about a second and waits 1 s,
2 s, 4 s… before subscribing again.

``ReliableRedisManager`` changes three things:

* Publishing goes through a ``BlockingConnectionPool`` (``NETWORK_REDIS_MAX_CONNECTIONS``,
  default 50): a burst waits for a free connection instead of failing. A publish that
  fails all the same (Redis down) is tried again with a short back-off for
  ``publish_timeout`` seconds; messages are stored before they are published, so one
  that still cannot go out is caught up by the clients (below).
* The subscriber has a connection of its own, never touched by a failed publish; when
  it breaks (Redis restarted) it subscribes again after 50 ms, then 100 ms… at most 2 s.
* Once the subscriber is back after a break, every socket of this process gets a
  ``resync`` event: what other processes published during the break never reached this
  one, so the clients join their channels again from the last ``seq`` they hold and get
  what they missed from the database (the same catch-up as after a reconnect).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import redis
import socketio

log = logging.getLogger(__name__)

RESYNC_EVENT = "resync"
# A queue message carrying several emits (``emit_many``): one publish for a batch of sends.
EMIT_MANY = "network.emit_many"
_FIRST_PAUSE, _LONGEST_PAUSE = 0.05, 2.0


class ReliableRedisManager(socketio.RedisManager):
    """python-socketio's Redis manager with a blocking publish pool, a subscriber that
    reconnects quickly on its own connection, and a ``resync`` to local clients after a
    break (see the module's docstring)."""

    name = "redis-reliable"

    def __init__(
        self,
        url: str,
        *,
        channel: str = "network-socketio",
        max_connections: int = 50,
        publish_timeout: float = 2.0,
        write_only: bool = False,
    ) -> None:
        super().__init__(url, channel=channel, write_only=write_only)
        self.max_connections = max_connections
        self.publish_timeout = publish_timeout
        self._publisher: redis.Redis | None = None
        # What /healthz reports: "starting" until the first subscription, then "ok", or
        # "error" while the subscription is broken.
        self.listener_state = "starting"

    def _publishing_client(self) -> redis.Redis:
        if self._publisher is None:
            pool = redis.BlockingConnectionPool.from_url(
                self.redis_url, max_connections=self.max_connections, timeout=self.publish_timeout
            )
            self._publisher = redis.Redis(connection_pool=pool)
        return self._publisher

    def _publish(self, data: Any) -> Any:
        payload = self.json.dumps(data)
        deadline = time.monotonic() + self.publish_timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                return self._publishing_client().publish(self.channel, payload)
            except redis.RedisError as exc:
                if time.monotonic() >= deadline:
                    # Stored already: the other processes' clients catch up (resync).
                    log.error(
                        "could not publish to Redis for %.0f s: %s", self.publish_timeout, exc
                    )
                    return None
                log.warning("publishing to Redis failed (%s); trying again", exc)
                time.sleep(pause)  # under eventlet, a pause of this greenlet only
                pause = min(pause * 2, _LONGEST_PAUSE)

    def emit_many(self, emits: list[tuple[str, Any, str]], namespace: str = "/") -> None:
        """Emit several ``(event, data, room)`` in order: to this process's sockets now,
        and to the other processes in one queue message (the messages of a group commit
        and their channel activity: one publish instead of two per message). The other
        processes emit them in the same order."""
        for event, data, room in emits:
            socketio.Manager.emit(self, event, data, namespace, room=room)
        self._publish(
            {
                "method": EMIT_MANY,
                "namespace": namespace,
                "host_id": self.host_id,
                "emits": [{"event": e, "data": d, "room": r} for e, d, r in emits],
            }
        )

    def _listen(self) -> Iterator[Any]:
        """python-socketio's listener, with an ``emit_many`` message handed on as the
        plain emits it carries (its other messages pass unchanged)."""
        for raw in super()._listen():
            try:
                data = self.json.loads(raw)
            except (TypeError, ValueError):
                yield raw  # python-socketio ignores what it cannot read
                continue
            if not isinstance(data, dict) or data.get("method") != EMIT_MANY:
                yield data
                continue
            for item in data.get("emits", []):
                yield {
                    "method": "emit",
                    "event": item["event"],
                    "data": [item["data"]],
                    "binary": False,
                    "namespace": data.get("namespace", "/"),
                    "room": item["room"],
                    "skip_sid": None,
                    "callback": None,
                    "host_id": data.get("host_id"),
                }

    def _redis_listen_with_retries(self) -> Iterator[dict[str, Any]]:
        pause = _FIRST_PAUSE
        broken = False
        while True:
            pubsub = None
            try:
                client = redis.Redis.from_url(self.redis_url, health_check_interval=30)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self.listener_state = "ok"
                if broken:
                    log.warning("subscribed to Redis again: asking local clients to catch up")
                    self._resync_local_clients()
                broken, pause = False, _FIRST_PAUSE
                yield from pubsub.listen()
            except Exception as exc:  # any failure: subscribe again
                log.error("lost the Redis subscription (%s); again in %.2f s", exc, pause)
                broken, self.listener_state = True, "error"
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # closing a broken connection
                        pubsub.close()
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)

    def _resync_local_clients(self) -> None:
        """Tell every socket of this process to join its channels again from its last
        ``seq`` (messages published while the subscription was broken never came)."""
        try:
            socketio.Manager.emit(self, RESYNC_EVENT, {}, namespace="/")
        except Exception:
            log.exception("could not ask the local clients to resync")
