"""The production server: eventlet, with every database wait made cooperative.

``network serve`` starts a fresh interpreter that monkey-patches before anything else is
imported (``BOOTSTRAP``), then calls ``main``. The application itself knows nothing of
eventlet: it runs threaded in the tests and the Flask-SocketIO test client, and only this
module knows that every socket and every request of the process share one OS thread.

That one thread is the whole point of this module. A call that blocks the thread — not
merely the greenlet — freezes every room, every socket and every request of the process
until it returns (DESIGN.md, "Real-time"). The database is where such calls come from:

PostgreSQL
    psycopg2 runs queries in C and would block the thread for as long as the server takes
    to answer (a lock wait, a slow plan). psycogreen's patch turns the driver's waits into
    waits on the eventlet hub: a request stuck behind a lock sleeps, the rest run.
    (``eventlet.monkey_patch()`` installs an equivalent wait callback of its own by
    default; the explicit patch keeps this true whatever eventlet's defaults become.
    With neither, a message send under a table lock held elsewhere never got its
    acknowledgement: the whole process waited for the lock.)

SQLite
    ``sqlite3`` waits for another connection's write lock inside SQLite's busy handler,
    which sleeps in C. Measured before this fix: while another process held the write
    lock (a ``network`` command, a backup, a second server), one request that wanted to
    write froze the whole server for the 15 s busy timeout — a typing notice between two
    other clients took 14.8 s instead of 3 ms — and then the request failed anyway. So the
    server connects with ``CooperativeSQLiteConnection``: SQLite's own timeout is 0, a
    statement that finds the database busy raises at once, and it is tried again after a
    ``time.sleep`` (monkey-patched: a sleep of this greenlet only) with SQLite's own
    back-off, until the configured timeout. The first try costs nothing extra, so an
    uncontended database pays for none of this. What is still not cooperative is a
    statement that is slow in itself: SQLite runs it in C on the one thread. Keep SQLite
    statements short (indexed, paged); heavy reporting belongs on PostgreSQL.

    A transaction that read and then writes while another connection holds the write lock
    fails whatever the waiting: once the other writer commits, the snapshot read is stale
    (``SQLITE_BUSY_SNAPSHOT``) and SQLite refuses the write without retrying. The
    cooperative wait keeps that answer (it retries plain ``SQLITE_BUSY`` only); services
    that write after reading end their read transaction first (``post_message``).

Both are proven against this very server by ``tests/realtime_server/test_slow_query.py``:
while a request waits for a lock held by the test, messages between two other clients
keep arriving, and the request completes once the lock is released.

SQLite's checkpoints
    In WAL mode a commit appends to the log, and the commit that finds the log past 1,000
    pages also copies it into the database file and syncs it: a pause of the whole
    process every second or so under steady traffic. The server turns that off for its
    connections (``SQLITE_WAL_AUTOCHECKPOINT`` 0) and copies the log every
    ``SQLITE_CHECKPOINT_SECONDS`` (1 s) on an OS thread of eventlet's pool
    (``checkpoint_wal``), where SQLite's reads, writes and sync run outside the event loop.
    Measured with ``bench/messaging.py`` at 10 members: 5% more deliveries per second and
    the closed loop's p95 4 ms lower. A ``network`` command keeps SQLite's own
    checkpoints.

The socket
    Nagle's algorithm is off on the listening socket (accepted sockets inherit it). With
    it on, a small frame written right after another — a send's acknowledgement after
    the broadcast, or the next message to the same member — waited for the peer's
    delayed ACK: 44 ms for an acknowledgement, 1.9 ms without.
"""

from __future__ import annotations

import argparse
import errno
import gc
import logging
import socket
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

BOOTSTRAP = (
    "import warnings; warnings.filterwarnings('ignore', message=r'\\s*Eventlet is deprecated'); "
    "import eventlet; eventlet.monkey_patch(); "
    "from network.server import main; main()"
)
log = logging.getLogger("network.server")

T = TypeVar("T")
# The pauses of SQLite's own busy handler (sqliteDefaultBusyCallback), in seconds.
_BUSY_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)


def _patiently(timeout: float, call: Callable[[], T]) -> T:
    """``call()``, tried again while SQLite answers ``SQLITE_BUSY``, for up to ``timeout``
    seconds; each pause is a ``time.sleep``, which under eventlet lets the rest run."""
    deadline: float | None = None
    attempt = 0
    while True:
        try:
            return call()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or timeout <= 0:
                raise
            now = time.monotonic()
            if deadline is None:
                deadline = now + timeout
                log.info("SQLite is busy with another writer: waiting up to %.0f s", timeout)
            if now >= deadline:
                raise
            pause = _BUSY_PAUSES[min(attempt, len(_BUSY_PAUSES) - 1)]
            time.sleep(min(pause, deadline - now))
            attempt += 1


class CooperativeSQLiteCursor(sqlite3.Cursor):
    """A cursor whose statements wait for a busy database with ``time.sleep``, where
    SQLite's busy handler would have waited: in autocommit, and for the first statement
    of a transaction. A transaction that has read holds a snapshot, and SQLite does not
    wait for it (a wait would end on a stale snapshot): that answer stays immediate."""

    def execute(self, sql: str, parameters: Any = (), /) -> CooperativeSQLiteCursor:
        self._patiently(sql, lambda: sqlite3.Cursor.execute(self, sql, parameters))
        return self

    def executemany(self, sql: str, parameters: Any, /) -> CooperativeSQLiteCursor:
        # A list, so that a retry sends the same rows again (an iterator would be spent).
        rows = list(parameters)
        self._patiently(sql, lambda: sqlite3.Cursor.executemany(self, sql, rows))
        return self

    def _patiently(self, sql: str, call: Callable[[], object]) -> None:
        connection: CooperativeSQLiteConnection = self.connection  # type: ignore[assignment]
        may_wait = connection.before_first_read or not connection.in_transaction
        try:
            _patiently(connection.busy_timeout if may_wait else 0, call)
        finally:
            connection.before_first_read = sql.lstrip()[:5].upper() == "BEGIN"


class CooperativeSQLiteConnection(sqlite3.Connection):
    """A ``sqlite3`` connection that never waits for a lock inside SQLite.

    Made by ``sqlite3.connect(..., factory=CooperativeSQLiteConnection)`` (through the
    ``SQLITE_CONNECTION_FACTORY`` setting): the ``timeout`` given becomes this class's
    patience, and SQLite's own busy timeout is 0.
    """

    busy_timeout: float
    # True between BEGIN and the transaction's first statement (no snapshot taken yet).
    before_first_read: bool

    def __init__(self, *args: Any, timeout: float = 5.0, **kwargs: Any) -> None:
        super().__init__(*args, timeout=0, **kwargs)
        self.busy_timeout = timeout
        self.before_first_read = False

    def cursor(self, factory: Any = None) -> Any:  # type: ignore[override]
        return super().cursor(factory or CooperativeSQLiteCursor)

    # sqlite3's shortcuts make a plain cursor in C; these go through ``cursor()``.
    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:  # type: ignore[override]
        return self.cursor().executemany(sql, parameters)

    def commit(self) -> None:
        # In WAL mode COMMIT is rarely busy (with a rollback journal it waits for
        # readers); when it is, the transaction stays open and COMMIT may be tried again.
        _patiently(self.busy_timeout, super().commit)


def checkpoint_wal(path: str) -> tuple[int, int, int]:
    """Copy the committed pages of the SQLite database's write-ahead log at ``path`` into
    the database file, waiting for nobody (``PASSIVE``: pages a reader still needs wait for
    the next time). Returns SQLite's ``(busy, log pages, pages copied)``; ``(1, -1, -1)``
    when the database was too busy to look (the next call tries again). Meant for an OS
    thread of its own (``eventlet.tpool``): it blocks its thread while it copies."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        busy, log_pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return busy, log_pages, copied
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # any kind of busy
            raise
        return 1, -1, -1
    finally:
        connection.close()


def _checkpoint_in_background(app: Any) -> None:
    """Checkpoint the SQLite database of ``app`` every ``SQLITE_CHECKPOINT_SECONDS`` on
    eventlet's pool of OS threads (see the module's docstring)."""
    import eventlet.tpool

    from network.extensions import db
    from network.realtime import run_every

    with app.app_context():
        path = db.engine.url.database
    if not path or path == ":memory:":
        return
    run_every(
        "SQLITE_CHECKPOINT_SECONDS",
        1.0,
        lambda: eventlet.tpool.execute(checkpoint_wal, path),
        "checkpoint the SQLite write-ahead log",
    )


def main() -> None:
    """Serve on eventlet; call only from ``BOOTSTRAP`` (after monkey-patching)."""
    from psycogreen.eventlet import patch_psycopg

    # psycopg2 waits on the eventlet hub instead of blocking the OS thread.
    patch_psycopg()

    import eventlet
    import eventlet.wsgi

    from network import create_app

    parser = argparse.ArgumentParser(description="Serve the platform with eventlet.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app = create_app(
        {
            "SOCKETIO_ASYNC_MODE": "eventlet",
            # Used only when the database is SQLite (network.config).
            "SQLITE_CONNECTION_FACTORY": CooperativeSQLiteConnection,
            # Checkpoints run on a thread of their own (below), not in a commit.
            "SQLITE_WAL_AUTOCHECKPOINT": 0,
        }
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _checkpoint_in_background(app)
    # Everything loaded so far lives as long as the process: out of the collector's sight
    # (gc.freeze), so that the collections that the garbage of every message sets off
    # do not walk the whole application each time (fewer long pauses in delivery).
    gc.collect()
    gc.freeze()
    # What ``socketio.run`` does under eventlet, on a listener with Nagle's algorithm off
    # (see the module's docstring).
    family, *_rest, address = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0]
    try:
        # Without SO_REUSEPORT (eventlet's default turns it on): a second server started on
        # a busy port — a stale process left by a failed restart, ``make run`` twice — would
        # silently share the port, the kernel handing each connection to either process,
        # old code included. It fails instead, and says why.
        listener = eventlet.listen(address, family, reuse_port=False)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        log.error(
            "port %d on %s is already in use: is another server running?", args.port, args.host
        )
        raise SystemExit(1) from exc
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    log.info("serving on http://%s:%d", args.host, args.port)
    eventlet.wsgi.server(listener, app, log_output=False)
