"""Group commit (issue 3, throughput): sends to a channel that arrive while a write to it
is under way are written together in one transaction, each sender gets its own message
back, numbers stay gap-free, a send that fails inside a batch fails alone, and a channel
whose write waits does not hold up the others.

Real threads, each with its own connection, on a real SQLite file and on PostgreSQL. A
second connection holds the write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL a row lock
on the channels) so that the first send's write waits and the next ones queue behind it
for certain; the tests wait for those conditions, never for a time.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from network.extensions import db
from network.models.messaging import Channel, Message
from network.models.people import User
from network.services import accounts, demo, messaging
from tests.audit.test_chain_concurrency import fresh_app  # noqa: F401 (a fixture)

WAIT_SECONDS = 30


def _client_id() -> str:
    return uuid.uuid4().hex


def _setting_up(app: Flask) -> dict[str, Any]:
    """Four members of one network and two topic channels they all belong to."""
    with app.app_context():
        demo._ensure_networks()
        db.session.commit()
        users = [
            accounts.create_user(
                f"group.commit.{i}@example.org",
                f"Group Commit {i}",
                None,
                memberships=[("wacap", "contact_point")],
            )
            for i in range(4)
        ]
        network = users[0].memberships[0].network
        channels = [
            messaging.create_channel(
                "topic",
                users[0],
                name=f"Batch {n}",
                network=network,
                member_ids=[u.id for u in users[1:]],
            ).id
            for n in range(2)
        ]
        ids = [u.id for u in users]
        db.session.remove()
    return {"users": ids, "channels": channels}


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.005)


@contextmanager
def _write_lock(app: Flask, channel_ids: list[int]) -> Iterator[None]:
    """Hold the database's write lock (SQLite) or the channels' rows (PostgreSQL) on a
    connection of its own until the block ends."""
    with app.app_context():
        connection = db.engine.connect()
        try:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("COMMIT")  # our BEGIN hook opened one
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(
                    select(Channel.id).where(Channel.id.in_(channel_ids)).with_for_update()
                )
            yield
        finally:
            connection.rollback()
            connection.close()


class _Sender(threading.Thread):
    """One person's send on a thread (a request or socket event of their own)."""

    def __init__(self, app: Flask, user_id: int, channel_id: int, client_id: str) -> None:
        super().__init__(daemon=True)
        self.app, self.user_id, self.channel_id = app, user_id, channel_id
        self.client_id = client_id
        self.result: tuple[int, int, bool] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.app.app_context():
                user = db.session.get(User, self.user_id)
                message, created = messaging.post_message(
                    self.channel_id, user, f"Sent by {self.user_id}", self.client_id
                )
                self.result = (message.id, message.seq, created)
                db.session.remove()
        except BaseException as exc:  # reported by the test
            self.error = exc


def _commits(app: Flask) -> tuple[list[int], Callable[[], None]]:
    """A counter of the transactions committed on the application's engine."""
    with app.app_context():
        engine = db.engine
    counted: list[int] = []

    def count(_connection: Any) -> None:
        counted.append(1)

    event.listen(engine, "commit", count)
    return counted, lambda: event.remove(engine, "commit", count)


def _writer(app: Flask, channel_id: int) -> Any:
    with app.app_context():
        return messaging.group_commit(channel_id)


def _finish(senders: list[_Sender]) -> None:
    for sender in senders:
        sender.join(timeout=WAIT_SECONDS)
        assert not sender.is_alive(), "a sender never got its answer"
        assert sender.error is None, sender.error


def _stored(app: Flask, channel_id: int) -> list[tuple[int, str, int]]:
    with app.app_context():
        rows = db.session.execute(
            select(Message.seq, Message.client_id, Message.author_id)
            .where(Message.channel_id == channel_id)
            .order_by(Message.seq)
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def test_sends_that_arrive_during_a_write_are_stored_in_one_transaction(fresh_app):  # noqa: F811
    setup = _setting_up(fresh_app)
    users, channel = setup["users"], setup["channels"][0]
    writer = _writer(fresh_app, channel)
    with _write_lock(fresh_app, [channel]):
        first = _Sender(fresh_app, users[0], channel, _client_id())
        first.start()
        # The first send took the queue and is writing, held by the lock.
        _until(lambda: writer.writing and writer.waiting == 0, "the first send is writing")
        queued = [_Sender(fresh_app, users[n % 4], channel, _client_id()) for n in range(6)]
        for sender in queued:
            sender.start()
        _until(lambda: writer.waiting == len(queued), "six sends wait for the write")
        counted, stop_counting = _commits(fresh_app)
    try:
        _finish([first, *queued])
    finally:
        stop_counting()
    # The first send's transaction, then one for the six that waited.
    assert len(counted) == 2
    stored = _stored(fresh_app, channel)
    assert [seq for seq, _c, _a in stored] == list(range(1, 8))
    assert {c for _s, c, _a in stored} == {s.client_id for s in [first, *queued]}
    # Each sender was answered with its own message, stored now.
    assert all(s.result is not None and s.result[2] for s in [first, *queued])
    answered = {(s.result[1], s.client_id) for s in [first, *queued]}
    assert answered == {(seq, c) for seq, c, _a in stored}
    assert not writer.writing


def test_a_send_that_fails_in_a_batch_fails_alone(fresh_app):  # noqa: F811
    setup = _setting_up(fresh_app)
    users, channels = setup["users"], setup["channels"]
    stored_before = _Sender(fresh_app, users[1], channels[0], _client_id())
    stored_before.run()
    assert stored_before.result is not None
    writer = _writer(fresh_app, channels[0])
    with _write_lock(fresh_app, channels):
        first = _Sender(fresh_app, users[0], channels[0], _client_id())
        first.start()
        _until(lambda: writer.writing and writer.waiting == 0, "the first send is writing")
        # A retry of the stored send (same author, same client id) between two new ones:
        # the batch's insert fails on it, and each is then written on its own.
        retry = _Sender(fresh_app, users[1], channels[0], stored_before.client_id)
        others = [_Sender(fresh_app, users[n], channels[0], _client_id()) for n in (2, 3)]
        queued = [others[0], retry, others[1]]
        for sender in queued:
            sender.start()
            _until(lambda s=sender: writer.waiting == queued.index(s) + 1, "the send queued")
    _finish([first, *queued])
    assert retry.result == (stored_before.result[0], stored_before.result[1], False)
    assert all(s.result is not None and s.result[2] for s in [first, *others])
    stored = _stored(fresh_app, channels[0])
    # Numbers stay gap-free: the failed batch gave its numbers back.
    assert [seq for seq, _c, _a in stored] == [1, 2, 3, 4]
    assert [c for _s, c, _a in stored].count(stored_before.client_id) == 1
    assert {c for _s, c, _a in stored} == {s.client_id for s in [stored_before, first, *others]}
    assert not writer.writing
    assert writer.waiting == 0


def test_a_channel_whose_write_waits_does_not_hold_up_another(fresh_app):  # noqa: F811
    """PostgreSQL: another transaction holds one channel's row; a send to a second channel
    is stored and answered meanwhile. (SQLite has one writer for the whole database: there
    every write waits for the lock in any case.)"""
    setup = _setting_up(fresh_app)
    users, (held, free) = setup["users"], setup["channels"]
    with fresh_app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite has one writer for the whole database")
    waiting = _Sender(fresh_app, users[0], held, _client_id())
    with _write_lock(fresh_app, [held]):
        waiting.start()
        writer = _writer(fresh_app, held)
        _until(lambda: writer.writing and writer.waiting == 0, "the held channel's write")
        other = _Sender(fresh_app, users[1], free, _client_id())
        other.start()
        _finish([other])
        assert other.result is not None
        assert other.result[2]
        assert waiting.result is None  # still held
    _finish([waiting])
    assert [seq for seq, _c, _a in _stored(fresh_app, held)] == [1]
    assert [seq for seq, _c, _a in _stored(fresh_app, free)] == [1]
