"""Concurrent senders against the real server, on SQLite and on PostgreSQL (issue 3,
"Tests and proof"): every message of a channel gets the next ``seq``, with no gap and no
duplicate, and a send retried at the same moment from two connections is stored once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from tests.realtime_server.conftest import ACK_SECONDS, WAIT_SECONDS, Peer, wait_until

# Two connections of the same person among them: their read marker is contended too.
SENDERS = ("sender", "sender", "coordinator", "secretariat")
PER_SENDER = 25


def run_together(work: list[Callable[[], Any]]) -> list[Any]:
    """Run the callables in threads released at the same instant; their results in order."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    failures: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=WAIT_SECONDS)
            results[index] = job()
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    threads = [
        threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(work)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS + PER_SENDER * ACK_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a sender never finished"
    assert not failures, failures
    return results


def test_concurrent_senders_get_gap_free_increasing_seqs(live_server, peers):
    channel = live_server.wacap_channel()
    channel_id, start = channel["id"], channel["last_seq"]
    total = len(SENDERS) * PER_SENDER
    listener = peers(live_server, "observer")
    assert listener.call("join", {"channel_id": channel_id, "after_seq": start})["ok"] is True
    senders = [peers(live_server, who) for who in SENDERS]
    run = uuid.uuid4().hex[:8]

    def sends(number: int, peer: Peer) -> Callable[[], list[dict[str, Any]]]:
        def job() -> list[dict[str, Any]]:
            acks = []
            for index in range(PER_SENDER):
                client_id = f"{run}-{number}-{index}"
                ack = peer.call(
                    "send",
                    {"channel_id": channel_id, "client_id": client_id, "body": client_id},
                )
                acks.append({**ack, "client_id": client_id})
            return acks

        return job

    per_sender = run_together([sends(n, peer) for n, peer in enumerate(senders)])

    acks = [ack for acks in per_sender for ack in acks]
    assert all(ack["ok"] is True and ack["created"] is True for ack in acks), acks
    # Exactly the next `total` numbers, each once.
    assert sorted(ack["seq"] for ack in acks) == list(range(start + 1, start + total + 1))
    assert len({ack["id"] for ack in acks}) == total
    # Each sender's messages are numbered in the order it sent them.
    for sent in per_sender:
        seqs = [ack["seq"] for ack in sent]
        assert seqs == sorted(seqs)
    # The stored channel says the same, page by page, in seq order.
    history = live_server.history("observer", channel_id, start)
    by_seq = sorted(acks, key=lambda ack: ack["seq"])
    assert [m["seq"] for m in history] == [ack["seq"] for ack in by_seq]
    assert [m["id"] for m in history] == [ack["id"] for ack in by_seq]
    assert [m["client_id"] for m in history] == [ack["client_id"] for ack in by_seq]
    assert [m["html"] for m in history] == [f"<p>{ack['client_id']}</p>\n" for ack in by_seq]
    assert live_server.wacap_channel()["last_seq"] == start + total
    # A member in the room the whole time got every one of them live, each once.
    wait_until(lambda: len(listener.seqs(channel_id)) >= total, "every message at the listener")
    live = listener.seqs(channel_id)
    assert sorted(live) == list(range(start + 1, start + total + 1)), sorted(live)


def test_a_send_retried_at_the_same_moment_is_stored_once(live_server, peers):
    channel = live_server.wacap_channel()
    channel_id, start = channel["id"], channel["last_seq"]
    # One person's two connections (two tabs, or a retry racing the original send).
    first, second = peers(live_server, "sender"), peers(live_server, "sender")
    rounds = 8
    run = uuid.uuid4().hex[:8]
    stored = []
    for index in range(rounds):
        payload = {"channel_id": channel_id, "client_id": f"{run}-{index}", "body": f"once {index}"}
        acks = run_together(
            [lambda p=p, payload=payload: p.call("send", payload) for p in (first, second)]
        )
        assert all(ack["ok"] is True for ack in acks), acks
        # Both are answered with the one stored message; exactly one of them made it.
        assert acks[0]["id"] == acks[1]["id"]
        assert acks[0]["seq"] == acks[1]["seq"]
        assert sorted(ack["created"] for ack in acks) == [False, True]
        stored.append(acks[0])

    # No number was taken by the losing send: the channel has no gap.
    assert [ack["seq"] for ack in stored] == list(range(start + 1, start + rounds + 1))
    history = live_server.history("sender", channel_id, start)
    assert [m["id"] for m in history] == [ack["id"] for ack in stored]
    assert [m["client_id"] for m in history] == [f"{run}-{i}" for i in range(rounds)]
    assert live_server.wacap_channel()["last_seq"] == start + rounds
