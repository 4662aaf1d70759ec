"""Live consultations against the real server (``network serve``'s eventlet bootstrap)
with real python-socketio clients: knock, the door and admission, presence and typing,
moderation, reconnect with the missed messages, presence put right after a client that
stops answering (Engine.IO heartbeat), a member removed from the case cut off at once,
and a foreign Origin refused.

The server runs with a one-second heartbeat (``NETWORK_SOCKET_PING_INTERVAL`` and
``NETWORK_SOCKET_PING_TIMEOUT``) so that a silent client is dropped within seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio
import sqlalchemy as sa
import websocket

from tests.conftest import IN_CI, _create_pg_database
from tests.realtime_server.conftest import (
    ACK_SECONDS,
    LiveServer,
    Peer,
    _cli,
    _env,
    _finish,
    _make_tokens,
    wait_until,
)
from tests.server_process import PROJECT_ROOT, free_port, launch, stop, wait_until_healthy

PING_SECONDS = "1"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def consult_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real server with demo data, tokens, and a one-second heartbeat."""
    backend: str = request.param
    database_url: str | None = None
    drop: Callable[[], None] | None = None
    if backend == "postgresql":
        server_url = os.environ.get("NETWORK_TEST_DATABASE_URL")
        if not server_url:
            if IN_CI:
                pytest.fail("CI=true but NETWORK_TEST_DATABASE_URL is not set")
            pytest.skip("NETWORK_TEST_DATABASE_URL is not set")
        try:
            database_url, drop = _create_pg_database(server_url)
        except sa.exc.OperationalError as exc:
            pytest.skip(f"PostgreSQL not reachable: {exc}")
    process: subprocess.Popen[bytes] | None = None
    try:
        instance = tmp_path_factory.mktemp(f"consult-{backend}")
        env = _env(instance, database_url)
        port = free_port()
        env["NETWORK_BASE_URL"] = url = f"http://127.0.0.1:{port}"
        env["NETWORK_SOCKET_PING_INTERVAL"] = PING_SECONDS
        env["NETWORK_SOCKET_PING_TIMEOUT"] = PING_SECONDS
        env["NETWORK_CONSULTATION_OPEN_SECONDS"] = "0.5"
        _finish(_cli(env, "init"), "init")
        _finish(_cli(env, "seed-demo"), "seed-demo")
        tokens = _make_tokens(env)
        log = instance / "server.log"
        process = launch(env, port, log)
        wait_until_healthy(url, process, log)
        yield LiveServer(backend, url, tokens, log)
    finally:
        if process is not None:
            stop(process)
        if drop is not None:
            drop()


@pytest.fixture(autouse=True)
def _consult_log_stays_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    server: LiveServer = request.getfixturevalue("consult_server")
    offset = server.log.stat().st_size
    yield
    # The refusal of a foreign Origin is logged by Engine.IO as an error: expected there.
    text = "\n".join(
        line
        for line in server.log_text(offset).splitlines()
        if "is not an accepted origin" not in line
    )
    for marker in ("Traceback", "database is locked", " ERROR "):
        assert marker not in text, f"the server logged {marker!r}:\n{text[-5000:]}"


class Member(Peer):
    """A ``Peer`` that also records every consultation event it receives."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.events: list[tuple[str, dict[str, Any]]] = []
        for name in (
            "presence",
            "typing",
            "knock",
            "consultation_admitted",
            "consultation_removed",
            "consultation_ended",
            "signal",
        ):
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[[dict[str, Any]], None]:
        def record(payload: dict[str, Any]) -> None:
            with self.lock:
                self.events.append((name, payload))

        return record

    def got(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for n, p in self.events if n == name]

    def online(self) -> list[int]:
        presence = self.got("presence")
        return sorted(p["id"] for p in presence[-1]["online"]) if presence else []

    def texts(self, channel_id: int) -> list[str]:
        with self.lock:
            return [m["html"].strip() for m in self.received if m["channel_id"] == channel_id]


@pytest.fixture
def members(consult_server: LiveServer) -> Iterator[Callable[[str], Member]]:
    made: list[Member] = []

    def connect(who: str) -> Member:
        member = Member(consult_server, who)
        made.append(member)
        return member.connect()

    yield connect
    for member in made:
        member.close()


def _rest(server: LiveServer, who: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - http on loopback
        f"{server.url}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {server.tokens[who]}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=ACK_SECONDS) as response:  # noqa: S310
        raw = response.read()
        return json.loads(raw) if raw else None


def _me(server: LiveServer, who: str) -> int:
    return _rest(server, who, "GET", "/me")["id"]


def _case_room(server: LiveServer, invited: list[str]) -> dict[str, Any]:
    """A new WACAP case of ``sender`` with the invited people as members, and a
    consultation of it moderated by ``sender``."""
    ids = [_me(server, who) for who in invited]
    case = _rest(
        server,
        "sender",
        "POST",
        "/cases",
        {
            "network": "wacap",
            "reference": f"CONSULT-{uuid.uuid4().hex[:8]}",
            "case_type": "extradition",
            "requesting_state": "SN",
            "requested_state": "GH",
            "members": ids,
        },
    )
    created = _rest(
        server,
        "sender",
        "POST",
        "/consultations",
        {"title": "Before refusing", "participants": ids, "case_id": case["id"]},
    )
    return {"case": case, **created, "ids": dict(zip(invited, ids, strict=True))}


def _send(member: Member, channel_id: int, body: str) -> dict[str, Any]:
    ack = member.call(
        "send", {"channel_id": channel_id, "client_id": uuid.uuid4().hex, "body": body}
    )
    assert ack["ok"], ack
    return ack


def _enter(member: Member, room: dict[str, Any], after_seq: int = 0) -> dict[str, Any]:
    ack = member.call("consultation_join", {"consultation_id": room["id"], "after_seq": after_seq})
    assert ack["ok"], ack
    return ack


def test_knock_door_presence_typing_and_moderation(consult_server, members):
    coordinator = members("coordinator")  # connected before the invitation: knocked live
    room = _case_room(consult_server, ["coordinator", "secretariat"])
    wait_until(lambda: bool(coordinator.got("knock")), "the knock")
    [knock] = coordinator.got("knock")
    assert knock["consultation_id"] == room["id"]
    assert knock["url"] == f"/consultations/{room['id']}"

    moderator = members("sender")
    assert _enter(moderator, room)["state"] == "admitted"
    assert _enter(coordinator, room)["state"] == "waiting"
    wait_until(
        lambda: any(
            [w["id"] for w in p["waiting"]] == [room["ids"]["coordinator"]]
            for p in moderator.got("presence")
        ),
        "the moderator to see the coordinator at the door",
    )
    # At the door: nothing of the room.
    assert not coordinator.call("join", {"channel_id": room["channel_id"], "after_seq": 0})["ok"]
    ack = moderator.call(
        "consultation_admit", {"consultation_id": room["id"], "user_id": room["ids"]["coordinator"]}
    )
    assert ack["ok"], ack
    wait_until(lambda: bool(coordinator.got("consultation_admitted")), "the admission")
    entered = _enter(coordinator, room)
    assert entered["state"] == "admitted"
    expected = sorted([room["ids"]["coordinator"], _me(consult_server, "sender")])
    wait_until(lambda: moderator.online() == expected, "both people online")

    assert coordinator.call("typing", {"channel_id": room["channel_id"]})["ok"]
    wait_until(lambda: bool(moderator.got("typing")), "the typing notice")
    assert moderator.got("typing")[0]["user"]["id"] == room["ids"]["coordinator"]
    _send(coordinator, room["channel_id"], "We have what we need.")
    wait_until(
        lambda: "<p>We have what we need.</p>" in moderator.texts(room["channel_id"]),
        "the message",
    )
    # Away state.
    assert coordinator.call("consultation_away", {"consultation_id": room["id"], "away": True})[
        "ok"
    ]
    wait_until(
        lambda: any(
            u["away"]
            for u in moderator.got("presence")[-1]["online"]
            if u["id"] == room["ids"]["coordinator"]
        ),
        "the coordinator shown away",
    )
    # Removal by the moderator: cut off at once.
    ack = moderator.call(
        "consultation_remove",
        {"consultation_id": room["id"], "user_id": room["ids"]["coordinator"]},
    )
    assert ack["ok"], ack
    wait_until(lambda: bool(coordinator.got("consultation_removed")), "the removal notice")
    wait_until(lambda: moderator.online() == [_me(consult_server, "sender")], "presence after")
    seen = len(coordinator.texts(room["channel_id"]))
    _send(moderator, room["channel_id"], "After the removal")
    wait_until(
        lambda: "<p>After the removal</p>" in moderator.texts(room["channel_id"]),
        "the moderator's own copy",
    )
    assert len(coordinator.texts(room["channel_id"])) == seen
    assert not coordinator.call(
        "consultation_join", {"consultation_id": room["id"], "after_seq": 0}
    )["ok"]
    # Ending: read-only for everyone.
    assert moderator.call("consultation_end", {"consultation_id": room["id"]})["ok"]
    wait_until(lambda: bool(moderator.got("consultation_ended")), "the end")
    ack = moderator.call(
        "send", {"channel_id": room["channel_id"], "client_id": uuid.uuid4().hex, "body": "x"}
    )
    assert ack["error"]["code"] == "forbidden"


def _admitted(consult_server: LiveServer, members: Any, who: str) -> tuple[Any, Any, dict]:
    room = _case_room(consult_server, [who])
    moderator = members("sender")
    guest = members(who)
    _enter(moderator, room)
    moderator.call(
        "consultation_admit", {"consultation_id": room["id"], "user_id": room["ids"][who]}
    )
    return moderator, guest, room


def test_reconnect_gets_the_room_and_the_missed_messages_back(consult_server, members):
    moderator, guest, room = _admitted(consult_server, members, "coordinator")
    first = _enter(guest, room)
    last_seq = max(m["seq"] for m in first["messages"]) if first["messages"] else 0
    wait_until(lambda: len(guest.seqs(room["channel_id"])) >= 1, "the guest's own join line")
    last_seq = max([last_seq, *guest.seqs(room["channel_id"])])
    guest.close()
    wait_until(lambda: moderator.online() == [_me(consult_server, "sender")], "the guest gone")
    missed = [_send(moderator, room["channel_id"], f"missed {i}")["seq"] for i in range(5)]
    again = members("coordinator")
    ack = _enter(again, room, after_seq=last_seq)
    got = [m["seq"] for m in ack["messages"]]
    # Everything after what it held: the leave line, the five messages, in order, once.
    assert got == sorted(set(got))
    assert set(missed) <= set(got)
    assert (
        next(m for m in ack["messages"] if m["seq"] in missed)["html"].strip() == "<p>missed 0</p>"
    )
    wait_until(lambda: len(moderator.online()) == 2, "the guest back in the room")


_SILENT_CLIENT = """
import sys, time, socketio
client = socketio.Client(reconnection=False)
client.connect(
    sys.argv[1], auth={"token": sys.argv[2]}, transports=["websocket"], wait_timeout=10
)
data = {"consultation_id": int(sys.argv[3]), "after_seq": 0}
ack = client.call("consultation_join", data, timeout=10)
print("joined" if ack.get("ok") else f"refused {ack}", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("how", [signal.SIGSTOP, signal.SIGKILL], ids=["frozen", "killed"])
def test_presence_is_right_after_a_client_stops_answering(consult_server, members, how):
    """A client process frozen (SIGSTOP: its TCP connection stays open but silent, as when
    a laptop sleeps or a network drops) leaves the room by the heartbeat timeout; a client
    process killed (SIGKILL: the kernel closes its socket) leaves at once."""
    moderator, _guest, room = _admitted(consult_server, members, "secretariat")
    _guest.close()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _SILENT_CLIENT,
            consult_server.url,
            consult_server.tokens["secretariat"],
            str(room["id"]),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "joined"
        both = sorted([_me(consult_server, "sender"), room["ids"]["secretariat"]])
        wait_until(lambda: moderator.online() == both, "the silent client in the room")
        process.send_signal(how)
        wait_until(
            lambda: moderator.online() == [_me(consult_server, "sender")],
            "the crashed client dropped (heartbeat or closed socket)",
            seconds=10,
        )
        history = consult_server.history("sender", room["channel_id"], 0)
        assert history[-1]["client_id"].startswith("cleave-")
        assert history[-1]["author"]["id"] == room["ids"]["secretariat"]
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_a_member_removed_from_the_case_is_cut_off(consult_server, members):
    moderator, guest, room = _admitted(consult_server, members, "coordinator")
    _enter(guest, room)
    both = sorted([_me(consult_server, "sender"), room["ids"]["coordinator"]])
    wait_until(lambda: moderator.online() == both, "both in the room")
    case_channel = room["case"]["channel_id"]
    _rest(
        consult_server,
        "sender",
        "DELETE",
        f"/channels/{case_channel}/members/{room['ids']['coordinator']}",
    )
    wait_until(lambda: bool(guest.got("consultation_removed")), "the removal notice")
    wait_until(lambda: moderator.online() == [_me(consult_server, "sender")], "presence after")
    seen = len(guest.texts(room["channel_id"]))
    _send(moderator, room["channel_id"], "Not for the removed")
    wait_until(
        lambda: "<p>Not for the removed</p>" in moderator.texts(room["channel_id"]), "the copy"
    )
    assert len(guest.texts(room["channel_id"])) == seen
    ack = guest.call("consultation_join", {"consultation_id": room["id"], "after_seq": 0})
    assert ack["error"]["code"] == "not_found"
    ack = guest.call(
        "signal",
        {
            "consultation_id": room["id"],
            "to": _me(consult_server, "sender"),
            "data": {"type": "offer", "sdp": "v=0"},
        },
    )
    assert not ack["ok"]


def test_a_scheduled_room_opens_at_its_start_and_knocks(consult_server, members):
    """The server opens a scheduled room by itself when its start time comes (a calendar
    event's room) and knocks the invitees who are connected."""
    from datetime import UTC, datetime, timedelta

    guest = members("coordinator")
    guest_id = _me(consult_server, "coordinator")
    case = _case_room(consult_server, ["coordinator"])["case"]
    start = datetime.now(UTC) + timedelta(seconds=2)
    created = _rest(
        consult_server,
        "sender",
        "POST",
        "/consultations",
        {
            "title": "Scheduled hearing",
            "participants": [guest_id],
            "case_id": case["id"],
            "scheduled_at": start.isoformat(),
        },
    )
    assert (
        _rest(consult_server, "sender", "GET", f"/consultations/{created['id']}")["status"]
        == "scheduled"
    )
    wait_until(
        lambda: any(k["consultation_id"] == created["id"] for k in guest.got("knock")),
        "the knock at the start time",
    )
    room = _rest(consult_server, "sender", "GET", f"/consultations/{created['id']}")
    assert room["status"] == "live"
    assert datetime.fromisoformat(room["started_at"]) >= start


def test_a_foreign_origin_is_refused(consult_server):
    """Even with a valid token: the server accepts its own origin only (no ``*``)."""
    foreign = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect(
            consult_server.url,
            auth={"token": consult_server.tokens["sender"]},
            headers={"Origin": "https://evil.example.org"},
            transports=["websocket"],
            wait_timeout=ACK_SECONDS,
        )
    assert not foreign.connected
    foreign.shutdown()
    # The same refusal with nothing but the foreign Origin, on both transports' handshakes.
    ws_url = (
        consult_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    )
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url, origin="https://evil.example.org", timeout=ACK_SECONDS)
    assert refused.value.status_code == 400
    request = urllib.request.Request(  # noqa: S310 - http on loopback
        f"{consult_server.url}/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "https://evil.example.org"},
    )
    with pytest.raises(urllib.error.HTTPError) as polling:
        urllib.request.urlopen(request, timeout=ACK_SECONDS)  # noqa: S310
    assert polling.value.code == 400
    polling.value.close()
    # The platform's own origin is accepted.
    own = socketio.Client(reconnection=False)
    own.connect(
        consult_server.url,
        auth={"token": consult_server.tokens["sender"]},
        transports=["websocket"],
        wait_timeout=ACK_SECONDS,
    )
    assert own.connected
    own.shutdown()
