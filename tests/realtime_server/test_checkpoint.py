"""SQLite's write-ahead log is copied into the database file by the real server while it
runs (``network.server.checkpoint_wal`` on a thread of its own), not by the commits of
the requests: messages sent through a socket reach the database file itself within
seconds, where a copy of that one file (what an operator backs up with ``cp``) holds them.
``checkpoint_wal`` itself is tested on a database of its own: it copies the log, and on a
database locked by another connection it answers "busy" instead of raising.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest

from network.server import checkpoint_wal
from tests.realtime_server.conftest import LiveServer, wait_until


def _client_ids_in_file(database: Path, copy: Path, wanted: set[str]) -> set[str]:
    """The ``wanted`` client ids found in a copy of the database file alone (no log)."""
    for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(database, copy)
    marks = ",".join("?" * len(wanted))
    try:
        with closing(sqlite3.connect(copy)) as connection:
            rows = connection.execute(
                f"SELECT client_id FROM messages WHERE client_id IN ({marks})",  # noqa: S608
                sorted(wanted),
            ).fetchall()
    except sqlite3.DatabaseError:
        return set()  # copied while the server was writing a page: look again
    return {client_id for (client_id,) in rows}


def test_sent_messages_reach_the_database_file_while_the_server_runs(
    live_server: LiveServer, peers, tmp_path: Path
) -> None:
    if live_server.backend != "sqlite":
        pytest.skip("PostgreSQL keeps no write-ahead log in a file of ours")
    channel = live_server.wacap_channel()
    sender = peers(live_server, "sender")
    assert sender.call("join", {"channel_id": channel["id"], "after_seq": channel["last_seq"]})[
        "ok"
    ]
    wanted = {f"checkpoint-{uuid.uuid4().hex[:12]}" for _ in range(5)}
    for client_id in sorted(wanted):
        ack = sender.call(
            "send", {"channel_id": channel["id"], "body": "Filed today.", "client_id": client_id}
        )
        assert ack["ok"], ack
    database = Path(live_server.database_url.removeprefix("sqlite:///"))
    copy = tmp_path / "copy.db"
    found: set[str] = set()

    def all_in_file() -> bool:
        found.clear()
        found.update(_client_ids_in_file(database, copy, wanted))
        return found == wanted

    # Left to SQLite's own checkpoints (every 1,000 pages of log), five messages would
    # stay in the log and this copy would never hold them.
    wait_until(
        all_in_file,
        lambda: f"the messages in the database file: {len(found)} of {len(wanted)} there",
    )


def _writer(path: Path) -> sqlite3.Connection:
    """A connection that writes as the server's do (WAL, no checkpoint of its own) to a
    table ``notes`` that the database file already holds."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    return connection


def _rows_in_file_alone(path: Path, copy: Path) -> int:
    shutil.copyfile(path, copy)
    with closing(sqlite3.connect(copy)) as connection:
        return connection.execute("SELECT count(*) FROM notes").fetchone()[0]


def test_a_checkpoint_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with closing(_writer(path)) as writer:
        writer.executemany("INSERT INTO notes VALUES (?)", [("filed",)] * 50)
        assert _rows_in_file_alone(path, tmp_path / "before.db") == 0
        busy, log_pages, copied = checkpoint_wal(str(path))
        assert (busy, copied) == (0, log_pages)
        assert log_pages > 0
        assert _rows_in_file_alone(path, tmp_path / "after.db") == 50


def test_a_checkpoint_of_a_locked_database_says_busy_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with closing(_writer(path)) as writer:
        writer.execute("PRAGMA locking_mode=EXCLUSIVE")
        writer.execute("INSERT INTO notes VALUES ('filed')")  # takes the lock for good
        assert checkpoint_wal(str(path)) == (1, -1, -1)
        assert _rows_in_file_alone(path, tmp_path / "copy.db") == 0
