"""Who is in each consultation room, shared by every server process through Redis.

Each process holds its own sockets (sticky sessions), so one process alone cannot say who
is in a room when its members are connected to several. With ``NETWORK_REDIS_URL`` set,
``RedisPresence`` keeps the same record as the in-process ``Presence`` of
``network.services.consultations`` — per room and per door, each person's sockets and
whether each is away — in Redis hashes that every process reads and writes:

    <channel>:presence:room:<consultation id>   field "<user id>:<sid>" -> {"name", "away", "host"}
    <channel>:presence:door:<consultation id>   the same for people waiting at the door
    <channel>:presence:sid:<sid>                the places of one socket (for its disconnect)
    <channel>:presence:rooms                    the consultations with anyone recorded
    <channel>:presence:host:<process id>        "alive", expiring after ``PRESENCE_HOST_TTL``

A process that dies cannot take its sockets out. So every entry names its process, each
process renews its ``host`` key while it runs (``heartbeat``), and an entry whose process
has stopped renewing is dropped at the next read; the heartbeat of the surviving processes
also looks for such entries and publishes the corrected presence, so the others see the
people of a crashed process leave within ``PRESENCE_HOST_TTL`` plus one beat.

Two processes recording the same person's first socket at the very same moment may both
count it as the first (a second join line); the record itself stays right.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import redis

log = logging.getLogger(__name__)

HOST_ID = uuid.uuid4().hex[:12]  # this process


class RedisPresence:
    """The interface of ``consultations.Presence``, kept in Redis (see the module)."""

    def __init__(self, client: redis.Redis, prefix: str, host_ttl: int) -> None:
        self.client = client
        self.prefix = f"{prefix}:presence"
        self.host_ttl = max(1, int(host_ttl))

    # --- keys ---------------------------------------------------------------------------

    def _place(self, cid: int, waiting: bool) -> str:
        return f"{self.prefix}:{'door' if waiting else 'room'}:{cid}"

    def _sid_key(self, sid: str) -> str:
        return f"{self.prefix}:sid:{sid}"

    def _host_key(self, host: str) -> str:
        return f"{self.prefix}:host:{host}"

    # --- liveness -----------------------------------------------------------------------

    def beat(self) -> None:
        """Renew this process's liveness."""
        self.client.set(self._host_key(HOST_ID), "alive", ex=self.host_ttl)

    def _entries(self, key: str) -> dict[str, dict[str, Any]]:
        """The live entries of a room or door; those of stopped processes are removed."""
        raw = {k.decode(): json.loads(v) for k, v in self.client.hgetall(key).items()}
        hosts = sorted({e["host"] for e in raw.values()})
        alive = (
            dict(zip(hosts, self.client.mget([self._host_key(h) for h in hosts]), strict=True))
            if hosts
            else {}
        )
        dead = [field for field, e in raw.items() if e["host"] != HOST_ID and not alive[e["host"]]]
        if dead:
            self.client.hdel(key, *dead)
            log.info("presence: dropped %d socket(s) of stopped processes from %s", len(dead), key)
        return {f: e for f, e in raw.items() if f not in dead}

    @staticmethod
    def _of(entries: dict[str, dict[str, Any]], user_id: int) -> dict[str, dict[str, Any]]:
        mark = f"{user_id}:"
        return {f.removeprefix(mark): e for f, e in entries.items() if f.startswith(mark)}

    # --- the interface of consultations.Presence ---------------------------------------

    def arrive(self, cid: int, user: Any, sid: str, *, waiting: bool = False) -> bool:
        key = self._place(cid, waiting)
        first = not self._of(self._entries(key), user.id)
        value = json.dumps({"name": user.name, "away": False, "host": HOST_ID})
        pipe = self.client.pipeline()
        pipe.hset(key, f"{user.id}:{sid}", value)
        pipe.sadd(self._sid_key(sid), f"{'door' if waiting else 'room'}:{cid}")
        pipe.sadd(f"{self.prefix}:rooms", cid)
        pipe.set(self._host_key(HOST_ID), "alive", ex=self.host_ttl)
        pipe.execute()
        return first

    def depart(self, cid: int, user_id: int, sid: str, *, waiting: bool = False) -> bool:
        key = self._place(cid, waiting)
        if not self.client.hdel(key, f"{user_id}:{sid}"):
            return False
        self.client.srem(self._sid_key(sid), f"{'door' if waiting else 'room'}:{cid}")
        return not self._of(self._entries(key), user_id)

    def depart_everywhere(self, sid: str) -> list[tuple[int, int, bool]]:
        gone = []
        for place in [p.decode() for p in self.client.smembers(self._sid_key(sid))]:
            kind, _sep, number = place.partition(":")
            cid, waiting = int(number), kind == "door"
            key = self._place(cid, waiting)
            for field, entry in self._entries(key).items():
                user, _colon, entry_sid = field.partition(":")
                if entry_sid == sid and entry["host"] == HOST_ID:
                    self.client.hdel(key, field)
                    if not self._of(self._entries(key), int(user)):
                        gone.append((cid, int(user), waiting))
        self.client.delete(self._sid_key(sid))
        return gone

    def drop(self, cid: int, user_id: int) -> list[str]:
        sids: list[str] = []
        for waiting in (False, True):
            key = self._place(cid, waiting)
            mine = self._of(self._entries(key), user_id)
            if mine:
                self.client.hdel(key, *[f"{user_id}:{s}" for s in mine])
                sids.extend(mine)
        return sids

    def set_away(self, cid: int, user_id: int, sid: str, away: bool) -> bool:
        key = self._place(cid, False)
        entry = self._of(self._entries(key), user_id).get(sid)
        if entry is None:
            return False
        entry["away"] = away
        self.client.hset(key, f"{user_id}:{sid}", json.dumps(entry))
        return True

    def sids_of(self, cid: int, user_id: int) -> list[str]:
        return list(self._of(self._entries(self._place(cid, False)), user_id))

    def is_in(self, cid: int, user_id: int, sid: str | None = None) -> bool:
        mine = self._of(self._entries(self._place(cid, False)), user_id)
        return bool(mine) and (sid is None or sid in mine)

    def people(self, cid: int, waiting: bool) -> dict[int, tuple[str, bool]]:
        """user id -> (name, away) of a room or its door."""
        found: dict[int, tuple[str, bool]] = {}
        for field, entry in self._entries(self._place(cid, waiting)).items():
            user_id = int(field.partition(":")[0])
            name, away = found.get(user_id, (entry["name"], True))
            found[user_id] = (name, away and bool(entry["away"]))
        return found

    def snapshot(self, cid: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(online, waiting)``: people as ``{"id", "name", "away"}``, by name."""
        from network import i18n

        def listed(waiting: bool) -> list[dict[str, Any]]:
            people = [
                {"id": uid, "name": name, "away": away and not waiting}
                for uid, (name, away) in self.people(cid, waiting).items()
            ]
            return sorted(people, key=lambda p: (i18n.fold(p["name"]), p["id"]))

        return listed(False), listed(True)

    def clear(self) -> None:
        for key in self.client.scan_iter(match=f"{self.prefix}:*"):
            self.client.delete(key)

    def rooms_with_stopped_processes(self) -> list[int]:
        """Consultations where a stopped process left sockets (cleaned up by the call)."""
        changed = []
        for raw in self.client.smembers(f"{self.prefix}:rooms"):
            cid = int(raw)
            before = sum(self.client.hlen(self._place(cid, w)) for w in (False, True))
            after = sum(len(self._entries(self._place(cid, w))) for w in (False, True))
            if after < before:
                changed.append(cid)
            if after == 0:
                self.client.srem(f"{self.prefix}:rooms", cid)
        return changed


def heartbeat_loop(
    presence: RedisPresence, on_changed: Callable[[int], None], sleep: Callable[[float], None]
) -> None:
    """Renew this process's liveness every third of the TTL, and publish the presence of
    rooms that a stopped process had sockets in (run as a background task)."""
    while True:
        try:
            presence.beat()
            for cid in presence.rooms_with_stopped_processes():
                on_changed(cid)
        except Exception:  # Redis away for a while: the next beat tries again
            log.exception("presence heartbeat failed")
        sleep(max(presence.host_ttl / 3, 0.5))
