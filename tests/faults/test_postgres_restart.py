"""PostgreSQL restarted under load (issue 8, "Faults"; OWASP ASVS 11.1.x availability): a
real server process on a PRIVATE PostgreSQL cluster (``initdb`` + ``pg_ctl`` on a free
loopback port in a temporary folder; the system's cluster is never touched) takes a stream
of messages from a python-socketio client while the cluster is restarted (fast shutdown:
every connection is cut). Afterwards every acknowledged message is stored exactly once,
the client resends what was not acknowledged with the same ``client_id`` (idempotent),
the reader catches up from the last ``seq`` it holds, and the server answers again
without being restarted (``pool_pre_ping`` drops the dead connections)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.conftest import need
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
from tests.realtime_server.test_stream import Member
from tests.server_process import free_port, launch, stop, wait_until_healthy

pytestmark = pytest.mark.timeout(600)

STREAM = 40
RESEND_SECONDS = 60


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, started and restarted with ``pg_ctl``."""

    bin: Path
    data: Path
    port: int
    user: str | None  # run as this system user (initdb refuses root)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: int = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(  # bounded, loopback, fixed arguments
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stdout}{result.stderr}")

    @property
    def log(self) -> str:
        # The server's output goes to a file: an inherited pipe would never close.
        return str(self.data.parent / "postgres.log")

    def _options(self) -> str:
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent} "
            "-c fsync=off -c full_page_writes=off -c max_connections=40"
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", self.log, "-o", self._options(), "-w", "start"
        )

    def restart(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            self.log,
            "-o",
            self._options(),
            "-m",
            "fast",
            "-w",
            "restart",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        need("no initdb under /usr/lib/postgresql/*/bin")
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        if shutil.which("runuser") is None:
            need("runuser is needed to run initdb as the postgres user")
    folder = Path(tempfile.mkdtemp(prefix="network-pg-"))
    if user:
        shutil.chown(folder, user)
    cluster = PrivatePostgres(Path(found[-1]).parent, folder / "data", free_port(), user)
    try:
        cluster.init()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        need(f"cannot start a private PostgreSQL cluster: {exc}")
    try:
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _send_until_acknowledged(
    writer: Peer, channel_id: int, client_id: str, body: str
) -> dict[str, Any]:
    """Send, and send again with the same ``client_id`` until the server acknowledges it
    (as the page's outbox does); the server stores it once whatever the retries."""
    deadline = time.monotonic() + RESEND_SECONDS
    last: Any = None
    while time.monotonic() < deadline:
        try:
            ack = writer.client.call(
                "send",
                {"channel_id": channel_id, "client_id": client_id, "body": body},
                timeout=ACK_SECONDS,
            )
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError) as exc:
            last = exc
        else:
            if isinstance(ack, dict) and ack.get("ok") is True:
                return ack
            last = ack
        time.sleep(0.2)  # the outbox's pause before a resend, bounded by the deadline
    raise AssertionError(f"{client_id} never acknowledged: {last!r}")


def test_a_postgres_restart_under_load_loses_and_doubles_nothing(private_postgres, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = _env(instance, private_postgres.url)
    _finish(_cli(env, "init"), "init")
    _finish(_cli(env, "seed-demo"), "seed-demo")
    tokens = _make_tokens(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env["NETWORK_BASE_URL"] = url
    log = tmp_path / "server.log"
    process = launch(env, port, log)
    made: list[Peer] = []
    try:
        wait_until_healthy(url, process, log)
        server = LiveServer("postgresql", url, tokens, log)
        channel_id = server.wacap_channel()["id"]
        start = server.wacap_channel()["last_seq"]

        def peer(who: str) -> Peer:
            made.append(Peer(server, who).connect())
            return made[-1]

        member = Member(peer("coordinator"), channel_id)
        member.attach(member.peer)
        writer = peer("sender")
        run = uuid.uuid4().hex[:8]
        acks: list[dict[str, Any]] = []
        failures: list[BaseException] = []

        def stream() -> None:
            try:
                for index in range(STREAM):
                    acks.append(
                        _send_until_acknowledged(
                            writer, channel_id, f"{run}-{index}", f"pg restart {run} {index}"
                        )
                    )
            except BaseException as exc:  # reported by the test's thread
                failures.append(exc)

        thread = threading.Thread(target=stream, daemon=True)
        thread.start()
        wait_until(lambda: len(acks) >= STREAM // 4 or bool(failures), "a quarter sent")
        private_postgres.restart()  # every connection of the pool is cut
        thread.join(timeout=RESEND_SECONDS * 2)
        assert not thread.is_alive()
        assert not failures, failures
        assert len(acks) == STREAM
        assert process.poll() is None, "the server died"

        # Every acknowledged message is stored exactly once, gap-free, in sending order.
        history = server.history("sender", channel_id, start)
        ours = [m for m in history if m["client_id"].startswith(f"{run}-")]
        assert [m["client_id"] for m in ours] == [f"{run}-{i}" for i in range(STREAM)]
        assert [m["seq"] for m in history] == list(range(start + 1, start + len(history) + 1))
        assert {a["id"] for a in acks} == {m["id"] for m in ours}

        # The reader catches up from the last seq it holds (the socket may have lived on).
        if not member.peer.client.connected:
            member.attach(peer("coordinator"))
        member.join()
        wait_until(lambda: member.contiguous() >= start + STREAM, "the reader to catch up")
        assert sorted(member.held()) == list(range(1, start + STREAM + 1))

        # The same process answers again: health and a fresh send.
        wait_until_healthy(url, process, log)
        after = _send_until_acknowledged(writer, channel_id, f"{run}-after", "after")
        assert after["seq"] == start + STREAM + 1
    finally:
        for client in made:
            client.close()
        stop(process)
