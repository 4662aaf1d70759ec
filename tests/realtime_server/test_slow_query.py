"""The database must not stall the event loop (issue 3, "Tests and proof"; DESIGN.md,
"Real-time"): under eventlet every socket shares one OS thread, so a request stuck in a
database call must leave the deliveries between other clients flowing.

The slow call is an honest one, made by the database itself: the test holds a lock from a
connection of its own (as a command, a backup or a long report would) and sends a request
that needs it. While that request waits, one client talks to another through the server;
every delivery must arrive while the lock is still held and the request still waiting.
Only then is the lock released, and the request completes.

- PostgreSQL: ``LOCK TABLE contact_points`` and a directory search through the API; the
  live traffic is messages (stored and published: the lock is on another table).
- SQLite: the one write lock (``BEGIN IMMEDIATE``) and a message posted through the API;
  the live traffic is typing notices, which read the database but do not write (a message
  cannot be stored while another connection holds SQLite's only write lock).

The last tests take the server's cooperative SQLite connection (``network.server``) on its
own: it waits for another writer where SQLite's busy handler would, and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa

from network.config import normalise_database_url
from network.server import CooperativeSQLiteConnection
from tests.realtime_server.conftest import (
    ACK_SECONDS,
    WAIT_SECONDS,
    LiveServer,
    Peer,
    wait_until,
)

DELIVERIES = 20
# What the eventlet server logs when a statement finds SQLite locked (network.server).
SQLITE_WAITS = "SQLite is busy with another writer"


class Request(threading.Thread):
    """One HTTP request to the live server, in the background; ``status`` and ``body``
    once it has been answered."""

    def __init__(self, server: LiveServer, who: str, method: str, path: str, data: Any = None):
        super().__init__(daemon=True)
        headers = {"Authorization": f"Bearer {server.tokens[who]}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        self.request = urllib.request.Request(  # noqa: S310 - http on loopback
            f"{server.url}/api/v1{path}",
            data=None if data is None else json.dumps(data).encode(),
            headers=headers,
            method=method,
        )
        self.status: int | None = None
        self.body: Any = None

    def run(self) -> None:
        try:
            # Long enough to outlast every wait of the test: the lock is released at its end.
            timeout = WAIT_SECONDS + DELIVERIES * ACK_SECONDS
            with urllib.request.urlopen(self.request, timeout=timeout) as response:  # noqa: S310
                self.status, self.body = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:  # it holds the answer's socket
                self.status, self.body = error.code, error.read()
        except OSError as error:  # no answer at all: reported by the test's assertions
            self.body = error

    def answered(self) -> bool:
        return self.status is not None


def postgres_url(server: LiveServer) -> str:
    """The live server's PostgreSQL database: of the test databases on the server named by
    ``NETWORK_TEST_DATABASE_URL`` (other test sessions may have theirs there too), the one
    that holds this server's access tokens (stored as SHA-256, as accounts does)."""
    base = sa.make_url(normalise_database_url(os.environ["NETWORK_TEST_DATABASE_URL"]))
    digest = hashlib.sha256(server.tokens["sender"].encode()).hexdigest()
    admin = sa.create_engine(base.set(database="postgres"))
    try:
        with admin.connect() as conn:
            names = conn.scalars(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE 'network_test_%'")
            ).all()
    finally:
        admin.dispose()
    for name in names:
        url = base.set(database=name)
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                found = conn.scalar(
                    sa.text("SELECT 1 FROM access_tokens WHERE token_hash = :digest"),
                    {"digest": digest},
                )
        except sa.exc.DBAPIError:  # another session's database, still being made or dropped
            found = None
        finally:
            engine.dispose()
        if found:
            return url.set(drivername="postgresql").render_as_string(hide_password=False)
    raise AssertionError("the live server's PostgreSQL database was not found")


class Lock:
    """A lock held by the test's own database connection, and what a request waits on."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.log_offset = server.log.stat().st_size
        self.sqlite: sqlite3.Connection | None = None
        self.postgres: Any = None
        self.watcher: Any = None
        if server.backend == "sqlite":
            # The server's instance folder holds its log and its database.
            self.sqlite = sqlite3.connect(server.log.parent / "network.db", isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            url = postgres_url(server)
            self.postgres = psycopg2.connect(url)
            with self.postgres.cursor() as cursor:
                cursor.execute("LOCK TABLE contact_points IN ACCESS EXCLUSIVE MODE")
            self.watcher = psycopg2.connect(url)
            self.watcher.autocommit = True

    def someone_waits(self) -> bool:
        """Whether a request of the server is now waiting for this lock in the database."""
        if self.sqlite is not None:
            return SQLITE_WAITS in self.server.log_text(self.log_offset)
        with self.watcher.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'contact_points' AND NOT l.granted "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            return bool(cursor.fetchone()[0])

    def release(self) -> None:
        if self.sqlite is not None:
            self.sqlite.execute("COMMIT")
            self.sqlite.close()
        else:
            self.postgres.commit()
            self.postgres.close()
            self.watcher.close()


def deliveries(
    server: LiveServer, channel_id: int, talker: Peer, listener: Peer
) -> tuple[Callable[[int], None], Callable[[], int]]:
    """``(deliver, arrived)``: ``deliver(n)`` makes the talker send one live delivery to
    the listener; ``arrived()`` counts those that reached the listener."""
    if server.backend == "sqlite":
        notices: list[dict[str, Any]] = []
        listener.client.on("typing", notices.append)

        def notify(_number: int) -> None:
            assert talker.call("typing", {"channel_id": channel_id})["ok"] is True

        return notify, lambda: len(notices)
    run = uuid.uuid4().hex[:8]
    before = len(listener.seqs(channel_id))

    def send(number: int) -> None:
        payload = {"channel_id": channel_id, "client_id": f"{run}-{number}", "body": "live"}
        assert talker.call("send", payload)["ok"] is True

    return send, lambda: len(listener.seqs(channel_id)) - before


def test_a_request_waiting_for_a_locked_database_does_not_hold_up_socket_deliveries(
    live_server, peers
):
    channel_id = live_server.wacap_channel()["id"]
    talker, listener = peers(live_server, "sender"), peers(live_server, "coordinator")
    for peer in (talker, listener):
        assert peer.call("join", {"channel_id": channel_id, "after_seq": 0})["ok"] is True
    deliver, arrived = deliveries(live_server, channel_id, talker, listener)
    client_id = f"slow-{uuid.uuid4().hex[:8]}"

    lock = Lock(live_server)
    try:
        if live_server.backend == "sqlite":
            request = Request(
                live_server,
                "secretariat",
                "POST",
                f"/channels/{channel_id}/messages",
                {"body": "written once the lock is free", "client_id": client_id},
            )
        else:
            request = Request(live_server, "secretariat", "GET", "/contact-points")
        request.start()
        wait_until(lock.someone_waits, "the request to wait for the lock in the database")

        for number in range(DELIVERIES):
            deliver(number)
            wait_until(lambda n=number: arrived() > n, f"delivery {number + 1} at the listener")
        # Every delivery came through while the request was stuck in the database.
        assert arrived() == DELIVERIES
        assert not request.answered(), (request.status, request.body)
        assert lock.someone_waits()
    finally:
        lock.release()

    request.join(timeout=WAIT_SECONDS)
    assert request.answered(), f"no answer once the lock was released: {request.body!r}"
    if live_server.backend == "sqlite":
        assert request.status == 201, request.body
        # The message it posted went through the whole pipeline, to the listener too.
        wait_until(
            lambda: any(m["client_id"] == client_id for m in listener.received),
            "the posted message at the listener",
        )
    else:
        assert request.status == 200, request.body
        assert request.body["total"] > 0


# --- The cooperative SQLite connection on its own (no server needed) --------------------


class _WaitSeen(logging.Handler):
    """Sets ``event`` when the connection says it is waiting for the lock."""

    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(SQLITE_WAITS):
            self.event.set()


@pytest.fixture
def sqlite_pair(tmp_path) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection, _WaitSeen]]:
    """A plain connection (the other writer) and a cooperative one, on one WAL database."""
    path = tmp_path / "pair.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE notes (body TEXT)")
    ours = sqlite3.connect(
        path,
        isolation_level=None,
        check_same_thread=False,
        timeout=WAIT_SECONDS,
        factory=CooperativeSQLiteConnection,
    )
    seen = _WaitSeen()
    logger = logging.getLogger("network.server")
    level = logger.level
    logger.addHandler(seen)
    logger.setLevel(logging.INFO)
    yield other, ours, seen
    logger.removeHandler(seen)
    logger.setLevel(level)
    ours.close()
    other.close()


def test_a_cooperative_sqlite_write_waits_for_the_other_writer_then_succeeds(sqlite_pair):
    other, ours, seen = sqlite_pair
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes VALUES ('theirs')")
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            ours.execute("BEGIN")
            ours.execute("INSERT INTO notes VALUES ('ours')")
            ours.commit()
            outcome.append(None)
        except BaseException as exc:  # reported by the test's thread
            outcome.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    assert seen.event.wait(WAIT_SECONDS), "the write never waited for the lock"
    assert outcome == []  # still waiting while the other transaction is open
    other.execute("COMMIT")
    writer.join(WAIT_SECONDS)
    assert outcome == [None]
    assert sorted(r[0] for r in other.execute("SELECT body FROM notes")) == ["ours", "theirs"]


def test_a_cooperative_sqlite_transaction_that_has_read_is_refused_at_once(sqlite_pair):
    """As SQLite itself answers: its snapshot will be stale once the other writer
    commits, so waiting could not help (services end their read transaction first)."""
    other, ours, seen = sqlite_pair
    ours.execute("BEGIN")
    assert ours.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError) as refused:
        ours.execute("INSERT INTO notes VALUES ('ours')")
    assert refused.value.sqlite_errorcode == sqlite3.SQLITE_BUSY
    assert not seen.event.is_set()
    ours.rollback()
    other.execute("ROLLBACK")
