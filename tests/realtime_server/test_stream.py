"""No loss, no duplicates across a cut connection, against the real server (issue 3,
"Tests and proof"): a member is cut off in the middle of a stream of messages, comes
back, joins again from the last ``seq`` it holds, and ends with exactly the full
sequence, in order, each message once."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

import socketio

from tests.realtime_server.conftest import ACK_SECONDS, WAIT_SECONDS, Peer, wait_until

N = 60


def send_until_acked(peer: Peer, payload: dict[str, Any], retries: list[str]) -> dict[str, Any]:
    """Send, and on a lost acknowledgement send again with the same ``client_id``."""
    for _attempt in range(5):
        try:
            ack = peer.call("send", payload)
        except socketio.exceptions.TimeoutError:
            retries.append(payload["client_id"])
            continue
        assert ack["ok"] is True, ack
        return ack
    raise AssertionError(f"no acknowledgement for {payload['client_id']} after 5 attempts")


class Member:
    """A reader that keeps every message of one channel by ``seq`` across connections,
    as the page's script does: join with the last ``seq`` held, follow ``more``, merge
    the join's catch-up with live events."""

    def __init__(self, peer: Peer, channel_id: int) -> None:
        self.peer = peer
        self.channel_id = channel_id
        self.connections: list[Peer] = []
        self.caught_up: list[dict[str, Any]] = []  # every message a join answered with

    def join(self) -> list[dict[str, Any]]:
        """Join from the highest contiguous ``seq`` held; returns what the joins gave."""
        got: list[dict[str, Any]] = []
        while True:
            ack = self.peer.call(
                "join", {"channel_id": self.channel_id, "after_seq": self.contiguous()}
            )
            assert ack["ok"] is True, ack
            got.extend(ack["messages"])
            self.caught_up.extend(ack["messages"])
            if not ack["more"]:
                return got

    def attach(self, peer: Peer) -> list[dict[str, Any]]:
        self.peer = peer
        self.connections.append(peer)
        return self.join()

    def copies(self) -> list[dict[str, Any]]:
        live = [m for p in self.connections for m in list(p.received)]
        return [m for m in [*self.caught_up, *live] if m["channel_id"] == self.channel_id]

    def held(self) -> dict[int, dict[str, Any]]:
        return {m["seq"]: m for m in self.copies()}

    def contiguous(self) -> int:
        held, seq = self.held(), 0
        while seq + 1 in held:
            seq += 1
        return seq


def cut(peer: Peer) -> Callable[[], None]:
    """Drop the client's TCP connection without a goodbye, as a network failure would;
    returns what frees the socket once the client has noticed (its library does not)."""
    websocket = peer.client.eio.ws
    websocket.sock.shutdown(socket.SHUT_RDWR)
    return websocket.shutdown


def test_a_member_cut_off_mid_stream_ends_with_every_message_once_in_order(live_server, peers):
    channel_id = live_server.wacap_channel()["id"]
    run = uuid.uuid4().hex[:8]
    bodies = [f"stream {run} message {i} of {N}" for i in range(1, N + 1)]
    sender = peers(live_server, "sender")
    member = Member(peers(live_server, "coordinator"), channel_id)
    member.attach(member.peer)  # a fresh page: joins from 0 and gets the whole history
    start = live_server.wacap_channel()["last_seq"]
    assert member.contiguous() == start

    acks: list[dict[str, Any]] = []
    retries: list[str] = []
    cut_done = threading.Event()
    failures: list[BaseException] = []

    def stream() -> None:
        try:
            for index, body in enumerate(bodies):
                # The stream is still going when the cut comes: half waits for it.
                if index == N // 2 and not cut_done.wait(WAIT_SECONDS):
                    raise AssertionError("the receiver was never cut off")
                payload = {"channel_id": channel_id, "client_id": f"{run}-{index}", "body": body}
                acks.append(send_until_acked(sender, payload, retries))
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    first = member.peer
    wait_until(lambda: len(first.seqs(channel_id)) >= N // 4, "a quarter of the stream live")
    free_socket = cut(first)
    sent_at_cut = len(acks)
    cut_done.set()
    wait_until(lambda: not first.client.connected, "the client to notice the cut")
    free_socket()
    # Messages keep coming while the member is gone...
    wait_until(lambda: len(acks) >= sent_at_cut + 5 or bool(failures), "messages during the cut")
    sent_while_gone = {a["seq"] for a in acks}
    # ...then it comes back on a new connection and joins from what it holds.
    resumed_from = member.contiguous()
    caught_up = member.attach(peers(live_server, "coordinator"))
    thread.join(timeout=WAIT_SECONDS + N * ACK_SECONDS)
    assert not thread.is_alive()
    assert not failures, failures
    assert len(acks) == N
    wait_until(lambda: member.contiguous() >= start + N, "every message at the member")

    # The test did what it says: the cut came mid-stream, and messages sent while the
    # member was gone reached it only through the join's catch-up.
    assert sent_at_cut < N
    assert start + N // 4 <= resumed_from < start + N
    missed = {s for s in sent_while_gone if s > resumed_from}
    assert missed, "no message was sent while the member was gone"
    assert missed <= {m["seq"] for m in caught_up}
    assert [m["seq"] for m in caught_up] == list(
        range(resumed_from + 1, resumed_from + 1 + len(caught_up))
    )
    # Exactly the full sequence, in order, each message once, with the right bodies.
    held = member.held()
    assert sorted(held) == list(range(1, start + N + 1))
    ours = [held[seq] for seq in range(start + 1, start + N + 1)]
    assert [m["id"] for m in ours] == [a["id"] for a in acks]
    assert [a["seq"] for a in acks] == list(range(start + 1, start + N + 1))
    assert [m["html"] for m in ours] == [f"<p>{body}</p>\n" for body in bodies]
    assert [m["client_id"] for m in ours] == [f"{run}-{i}" for i in range(N)]
    # No connection got a live message twice, and every copy of a message is the same.
    for peer in member.connections:
        live = peer.seqs(channel_id)
        assert len(live) == len(set(live)), f"a live message came twice: {sorted(live)}"
    for copy in member.copies():
        assert copy == held[copy["seq"]]
    # A retried send (a lost acknowledgement) was stored once all the same.
    assert len(acks) == len({a["id"] for a in acks})
    assert live_server.wacap_channel()["last_seq"] == start + N


def test_members_joining_while_messages_are_posted_miss_none(live_server, peers):
    """A join answers with what was missed and then delivers what follows; a message
    committed while the join is being answered must come through one or the other."""
    channel_id = live_server.wacap_channel()["id"]
    start = live_server.wacap_channel()["last_seq"]
    sender = peers(live_server, "sender")
    run = uuid.uuid4().hex[:8]
    acks: list[dict[str, Any]] = []
    failures: list[BaseException] = []
    joiners = 8

    def stream() -> None:
        try:
            for index in range(N):
                payload = {
                    "channel_id": channel_id,
                    "client_id": f"{run}-join-{index}",
                    "body": f"join race {run} {index}",
                }
                acks.append(send_until_acked(sender, payload, []))
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    members: list[tuple[Member, int]] = []
    for number in range(joiners):
        # Spread the joins over the stream; each starts while messages are being sent.
        wait_until(lambda n=number: len(acks) >= n * N // joiners or bool(failures), "progress")
        member = Member(peers(live_server, "coordinator"), channel_id)
        member.caught_up.extend({"channel_id": channel_id, "seq": s} for s in range(1, start + 1))
        members.append((member, len(acks)))
        member.attach(member.peer)
    thread.join(timeout=WAIT_SECONDS + N * ACK_SECONDS)
    assert not thread.is_alive()
    assert not failures, failures
    assert [a["seq"] for a in acks] == list(range(start + 1, start + N + 1))
    assert any(sent_before < N for _member, sent_before in members[1:])
    for member, sent_before in members:
        wait_until(
            lambda m=member: m.contiguous() >= start + N,
            lambda m=member, b=sent_before: (
                f"every message at the member who joined after {b} of {N}: missing "
                f"{sorted(set(range(start + 1, start + N + 1)) - set(m.held()))}"
            ),
        )
        for peer in member.connections:
            live = peer.seqs(channel_id)
            assert len(live) == len(set(live)), f"a live message came twice: {sorted(live)}"
