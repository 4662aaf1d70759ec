"""Two real server processes (``network serve``'s eventlet bootstrap) on one PostgreSQL
database, joined by a real Redis message queue (issue 7, "Tests with real services").

The database is made once per session (``init``, ``seed-demo``, tokens); each test starts
its own pair of servers on two loopback ports, so a test may kill one. The queue is the
Redis named by ``NETWORK_TEST_REDIS_URL`` under a channel name of this session's own (other
test sessions may share that Redis); the test that restarts Redis runs a private
``redis-server`` instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from tests.conftest import _create_pg_database, need
from tests.realtime_server.conftest import (  # noqa: F401 - peers: a fixture used here
    ACCOUNTS,
    LiveServer,
    Peer,
    _cli,
    _env,
    _finish,
    _make_tokens,
    peers,
    wait_until,
)
from tests.server_process import free_port, launch, stop, wait_until_healthy

# One more WACAP writer than tests/realtime_server needs: four senders in the bursts.
SCALEOUT_ACCOUNTS = {**ACCOUNTS, "ghana": "contact.ghana@example.org"}
# A small publishing pool, so that the bursts queue for connections (with redis-py's
# plain pool a publish past the cap fails: the loss this suite proves gone).
MAX_REDIS_CONNECTIONS = 2
PRESENCE_HOST_TTL = 2
# Nothing written to disk: a restarted private Redis starts empty, as after a crash.
PRIVATE_REDIS_OPTIONS = ("--save", "", "--appendonly", "no")


@dataclass
class Deployment:
    """A database with demo data, its instance folder and tokens, shared by the servers
    of every test."""

    env: dict[str, str]
    tokens: dict[str, str]
    redis_url: str
    directory: Path

    def server_env(self, redis_url: str, channel: str, url: str) -> dict[str, str]:
        env = dict(self.env)
        # Behind the proxy every process answers for one public address; here each is
        # reached on its own port, which is the origin its clients send.
        env["NETWORK_BASE_URL"] = url
        env["NETWORK_REDIS_URL"] = redis_url
        env["NETWORK_REDIS_CHANNEL"] = channel
        env["NETWORK_REDIS_MAX_CONNECTIONS"] = str(MAX_REDIS_CONNECTIONS)
        # A crashed process's people leave the rooms' presence after this many seconds.
        env["NETWORK_PRESENCE_HOST_TTL"] = str(PRESENCE_HOST_TTL)
        return env


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    server_url = os.environ.get("NETWORK_TEST_DATABASE_URL")
    if not server_url:
        need("NETWORK_TEST_DATABASE_URL is not set (scale-out runs on PostgreSQL)")
    redis_url = os.environ.get("NETWORK_TEST_REDIS_URL")
    if not redis_url:
        need("NETWORK_TEST_REDIS_URL is not set")
    try:
        with redis.Redis.from_url(redis_url, socket_connect_timeout=5) as client:
            client.ping()
    except redis.RedisError as exc:
        need(f"Redis at NETWORK_TEST_REDIS_URL is not reachable: {exc}")
    try:
        database_url, drop = _create_pg_database(server_url)
    except sa.exc.OperationalError as exc:
        need(f"PostgreSQL at NETWORK_TEST_DATABASE_URL is not reachable: {exc}")
    try:
        instance = tmp_path_factory.mktemp("scaleout")
        env = _env(instance, database_url)
        _finish(_cli(env, "init"), "init")
        _finish(_cli(env, "seed-demo"), "seed-demo")
        tokens = _make_tokens(env, SCALEOUT_ACCOUNTS)
        yield Deployment(env, tokens, redis_url, instance)
    finally:
        drop()


@dataclass
class Cluster:
    """Server processes of one deployment sharing one Redis channel."""

    deployment: Deployment
    redis_url: str
    channel: str = field(default_factory=lambda: f"network-test-{uuid.uuid4().hex[:10]}")
    servers: list[LiveServer] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> LiveServer:
        index = len(self.servers)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = self.deployment.directory / f"server-{self.channel}-{index}.log"
        process = launch(self.deployment.server_env(self.redis_url, self.channel, url), port, log)
        wait_until_healthy(url, process, log)
        server = LiveServer("postgresql", url, self.deployment.tokens, log)
        self.servers.append(server)
        self.processes.append(process)
        return server

    def kill(self, server: LiveServer) -> None:
        """SIGKILL: no goodbye to the clients, no flush, as a crash."""
        process = self.processes[self.servers.index(server)]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            stop(process)


@pytest.fixture
def cluster(deployment: Deployment) -> Iterator[Cluster]:
    """Two server processes on the session's database and the shared test Redis."""
    made = Cluster(deployment, deployment.redis_url)
    try:
        made.start()
        made.start()
        yield made
    finally:
        made.stop_all()


@dataclass
class PrivateRedis:
    """A ``redis-server`` of the test's own on a free port, to stop and start again."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            need("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                *PRIVATE_REDIS_OPTIONS,
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                with redis.Redis.from_url(self.url, socket_connect_timeout=1) as client:
                    return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, "the private Redis to answer")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def log_errors(server: LiveServer, *markers: str) -> list[str]:
    """Lines of the server's log holding any of ``markers``."""
    return [line for line in server.log_text().splitlines() if any(m in line for m in markers)]
