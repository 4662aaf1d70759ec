"""The real server process (``network serve``'s eventlet bootstrap) with demo data, on
SQLite and on PostgreSQL, and real python-socketio clients that talk to it.

One server per backend serves the whole session: ``init`` and ``seed-demo`` run in a
fresh instance folder (and, for PostgreSQL, a fresh database on the server named by
``NETWORK_TEST_DATABASE_URL``), personal access tokens are made with ``create-token``,
then the server starts exactly as ``network serve`` starts it on a free loopback port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import socketio
import sqlalchemy as sa

from tests.conftest import IN_CI, _create_pg_database
from tests.server_process import free_port, launch, stop, wait_until_healthy

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLI_SECONDS = 120
# Every wait in these tests is a bounded loop on a condition; this is its upper bound.
WAIT_SECONDS = 20
ACK_SECONDS = 10

# The demo accounts the tests act as (network.services.demo.DEMO_ACCOUNTS).
ACCOUNTS = {
    "sender": "contact.senegal@example.org",  # WACAP contact point: reads and writes
    "coordinator": "coordinator.wacap@example.org",  # WACAP coordinator: reads and writes
    "secretariat": "secretariat.wacap@example.org",  # WACAP secretariat: reads and writes
    "observer": "observer.wacap@example.org",  # WACAP observer: reads only
    "outsider": "contact.kenya@example.org",  # Great Lakes contact point: not in WACAP
}


def wait_until(
    condition: Callable[[], bool], what: str | Callable[[], str], seconds: float = WAIT_SECONDS
) -> None:
    """Poll ``condition`` until it holds; fail the test after ``seconds`` with ``what``
    (a callable is asked only then, so it describes the state at the deadline)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            pytest.fail(f"timed out after {seconds} s waiting for {described}")
        time.sleep(0.01)  # polling interval of a bounded wait, not a timing guess


def _env(instance: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    # The server uses its own instance and database, whatever the caller's shell exports.
    for name in ("NETWORK_DATABASE_URL", "NETWORK_REDIS_URL", "NETWORK_SECURE_COOKIES"):
        env.pop(name, None)
    if database_url:
        env["NETWORK_DATABASE_URL"] = database_url
    env["NETWORK_INSTANCE_PATH"] = str(instance)
    env["PYTHONUNBUFFERED"] = "1"
    # Sessions that time out unnoticed are looked for often (tests wait for it).
    env["NETWORK_SOCKET_SESSION_SWEEP_SECONDS"] = "0.2"
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "network", *args],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], what: str) -> str:
    try:
        out, err = process.communicate(timeout=CLI_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"`{what}` did not finish within {CLI_SECONDS} s:\n{out}\n{err}")
    if process.returncode != 0:
        pytest.fail(f"`{what}` failed with {process.returncode}:\n{out}\n{err}")
    return out


# ``create-token`` for each e-mail given, in one process: the command itself (Flask's CLI
# runner invokes it as ``network create-token`` would), without paying the app's start-up
# once per account.
_CREATE_TOKENS = """
import sys
from network import create_app
runner = create_app().test_cli_runner()
for email in sys.argv[1:]:
    result = runner.invoke(args=["create-token", email])
    if result.exit_code != 0:
        sys.exit(f"create-token {email}: {result.output}")
    print(result.output.split()[-1])
"""


def _make_tokens(env: dict[str, str], accounts: dict[str, str] = ACCOUNTS) -> dict[str, str]:
    """A personal access token for each of ``accounts`` (by default ``ACCOUNTS``) from
    ``create-token``."""
    maker = subprocess.Popen(
        [sys.executable, "-c", _CREATE_TOKENS, *accounts.values()],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tokens = _finish(maker, "create-token").split()
    assert len(tokens) == len(accounts), tokens
    return dict(zip(accounts, tokens, strict=True))


@dataclass
class LiveServer:
    backend: str
    url: str
    tokens: dict[str, str]
    log: Path
    # The server's own database (tests that set up a state the UI cannot make quickly).
    database_url: str = ""

    def log_text(self, offset: int = 0) -> str:
        return self.log.read_bytes()[offset:].decode("utf-8", "replace")

    def api(self, who: str, path: str) -> Any:
        """GET a JSON answer of the REST API as one of ``ACCOUNTS`` (bearer token)."""
        request = urllib.request.Request(  # noqa: S310 - http on loopback
            f"{self.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )
        with urllib.request.urlopen(request, timeout=ACK_SECONDS) as response:  # noqa: S310
            assert response.status == 200
            return json.loads(response.read())

    def wacap_channel(self, who: str = "sender") -> dict[str, Any]:
        """The WACAP network channel as ``GET /api/v1/channels`` lists it for ``who``."""
        items = self.api(who, "/channels")["items"]
        [channel] = [c for c in items if c["kind"] == "network" and c["network"] == "wacap"]
        return channel

    def history(self, who: str, channel_id: int, after_seq: int, limit: int = 30) -> list[Any]:
        """Every message after ``after_seq`` through the REST API, page by page."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.api(
                who, f"/channels/{channel_id}/messages?after_seq={after_seq}&limit={limit}"
            )["items"]
            if not page:
                return found
            found.extend(page)
            after_seq = page[-1]["seq"]


def _backends() -> list[Any]:
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=_backends())
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real eventlet server with demo data and tokens for ``ACCOUNTS``."""
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
            if IN_CI:
                pytest.fail(f"PostgreSQL at NETWORK_TEST_DATABASE_URL is not reachable: {exc}")
            pytest.skip(f"PostgreSQL not reachable: {exc}")
    process: subprocess.Popen[bytes] | None = None
    try:
        instance = tmp_path_factory.mktemp(f"realtime-{backend}")
        env = _env(instance, database_url)
        port = free_port()
        # The server's own address is the one origin it accepts sockets from.
        env["NETWORK_BASE_URL"] = url = f"http://127.0.0.1:{port}"
        _finish(_cli(env, "init"), "init")
        _finish(_cli(env, "seed-demo"), "seed-demo")
        tokens = _make_tokens(env)
        log = instance / "server.log"
        process = launch(env, port, log)
        wait_until_healthy(url, process, log)
        yield LiveServer(
            backend, url, tokens, log, database_url or f"sqlite:///{instance / 'network.db'}"
        )
    finally:
        if process is not None:
            stop(process)
        if drop is not None:
            drop()


@pytest.fixture(autouse=True)
def _server_log_stays_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test during which the server logged an unexpected error (a handler that
    raised, a locked database): the clients might not notice."""
    if "live_server" not in request.fixturenames:
        yield
        return
    server: LiveServer = request.getfixturevalue("live_server")
    offset = server.log.stat().st_size
    yield
    text = server.log_text(offset)
    for marker in ("Traceback", "database is locked", " ERROR "):
        assert marker not in text, f"the server logged {marker!r}:\n{text[-5000:]}"


@dataclass
class Peer:
    """One python-socketio client acting for one demo account.

    It does not reconnect by itself (``reconnection=False``): the tests decide when a
    connection comes back, so what happens while it is gone is known.
    """

    server: LiveServer
    who: str
    client: socketio.Client = field(init=False)
    # Every ``message`` event this connection received, in the order handled.
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client = socketio.Client(reconnection=False)
        self.client.on("message", self._on_message)

    def _on_message(self, payload: dict[str, Any]) -> None:
        # python-socketio runs each event's handler in a thread of its own.
        with self.lock:
            self.received.append(payload)

    def connect(self) -> Peer:
        self.client.connect(
            self.server.url,
            auth={"token": self.server.tokens[self.who]},
            transports=["websocket"],
            wait_timeout=ACK_SECONDS,
        )
        return self

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        ack = self.client.call(event, data, timeout=ACK_SECONDS)
        assert isinstance(ack, dict), ack
        return ack

    def seqs(self, channel_id: int) -> list[int]:
        with self.lock:
            return [m["seq"] for m in self.received if m["channel_id"] == channel_id]

    def close(self) -> None:
        self.client.shutdown()


@pytest.fixture
def peers() -> Iterator[Callable[[LiveServer, str], Peer]]:
    """Connect clients as demo accounts; all are closed at the end of the test."""
    made: list[Peer] = []

    def connect(server: LiveServer, who: str) -> Peer:
        peer = Peer(server, who)
        made.append(peer)
        return peer.connect()

    yield connect
    for peer in made:
        peer.close()
