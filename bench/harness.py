"""What every benchmark of ``bench/`` shares: server processes started pinned to one core
and awaited on ``/healthz``, their CPU time and resident memory from ``/proc``, a fresh
PostgreSQL database made and dropped, the platform's server exactly as ``network serve``
runs it, the load generator pinned to the other core, and the report's small helpers.

Imported by the scripts of this folder (each puts ``bench/`` on ``sys.path``); not a
benchmark itself.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SERVER_CORE, LOAD_CORE = 0, 1
HOST = "127.0.0.1"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


# --- Servers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process; ``peers``: more processes of the same server (behind Redis), which
    share its data and whose CPU time counts with its own."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    # size -> channel id; member index -> token (the bare stack takes no token)
    channels: dict[int, int] = field(default_factory=dict)
    tokens: list[str | None] = field(default_factory=list)
    peers: list[Server] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [self.url, *(peer.url for peer in self.peers)]

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes have used so far."""
        return process_cpu_seconds(self.process.pid) + sum(p.cpu_seconds() for p in self.peers)

    def rss_kib(self) -> int:
        """The resident memory of the (first) process, VmRSS in KiB."""
        return process_rss_kib(self.process.pid)


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_rss_kib(pid: int) -> int:
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith("VmRSS:"):
            return int(text.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def pinned(command: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(SERVER_CORE), *command]
    return command


def pin_load_generator() -> None:
    """This process (the load generator) to the core the servers do not use."""
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CORE})


def raise_open_files(wanted: int) -> int:
    """Raise this process's open-files limit (inherited by the servers it starts) to
    ``wanted`` if the hard limit allows; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def start(
    name: str, command: list[str], env: dict[str, str], log: Path, port: int, **extra: Any
) -> Server:
    with log.open("wb") as out:
        process = subprocess.Popen(
            pinned(command), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return Server(name, url, process, log, **extra)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{name} did not answer on /healthz within 60 s:\n{log.read_text()}")


def stop(server: Server) -> None:
    for peer in server.peers:
        stop(peer)
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def forget_network_settings() -> None:
    """The servers get their settings from the benchmark alone, and so does the set-up
    done in this process (the same instance folder, hence the same secret and data key)."""
    for name in [n for n in os.environ if n.startswith("NETWORK_")]:
        del os.environ[name]


def server_env(instance: Path, database_url: str, port: int, **settings: str) -> dict[str, str]:
    """The environment of a platform server; ``settings``: more ``NETWORK_*`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETWORK_")}
    env.update(
        NETWORK_INSTANCE_PATH=str(instance),
        NETWORK_DATABASE_URL=database_url,
        NETWORK_BASE_URL=f"http://{HOST}:{port}",
        PYTHONUNBUFFERED="1",
    )
    env.update({f"NETWORK_{k.upper()}": v for k, v in settings.items()})
    return env


def serve_command(port: int, bootstrap: str | None = None) -> list[str]:
    """What ``network serve`` execs (network.cli): eventlet, monkey-patched first."""
    from network.server import BOOTSTRAP

    return [sys.executable, "-c", bootstrap or BOOTSTRAP, "--host", HOST, "--port", str(port)]


def start_platform(
    name: str,
    instance: Path,
    database_url: str,
    *,
    bootstrap: str | None = None,
    log_name: str = "server.log",
    settings: dict[str, str] | None = None,
    **extra: Any,
) -> Server:
    """The platform's server on a prepared instance and database."""
    port = free_port()
    env = server_env(instance, database_url, port, **(settings or {}))
    return start(name, serve_command(port, bootstrap), env, instance / log_name, port, **extra)


def app_context(instance: Path, database_url: str) -> Any:
    """The platform's application on this instance and database (for set-up), migrated."""
    from flask_migrate import upgrade

    from network import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url})
    context = app.app_context()
    context.push()
    upgrade()
    return context


def close_app_context(context: Any) -> None:
    from network.extensions import db

    db.session.remove()
    db.engine.dispose()
    context.pop()


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server at ``server_url``, dropped afterwards
    (nothing is ever written into the database the URL names)."""
    import sqlalchemy as sa

    from network.config import normalise_database_url

    url = sa.make_url(normalise_database_url(server_url))
    name = f"network_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def postgres_url() -> str | None:
    """The PostgreSQL server of the benchmarks (``NETWORK_BENCH_DATABASE_URL``, by default
    the local one), or None when it does not answer."""
    import sqlalchemy as sa

    from network.config import normalise_database_url

    url = os.environ.get("NETWORK_BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL)
    if not url:
        return None
    try:
        engine = sa.create_engine(normalise_database_url(url), connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL at {url} does not answer ({exc.orig}); skipped.")
        return None
    return url


def redis_url() -> str | None:
    """The Redis server of the benchmarks (``NETWORK_BENCH_REDIS_URL``, by default the local
    one), or None when it does not answer."""
    import redis

    url = os.environ.get("NETWORK_BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    if not url:
        return None
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        print(f"Redis at {url} does not answer ({exc}); skipped.")
        return None
    return url


# --- Report ---------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentiles_ms(seconds: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in milliseconds of durations in seconds."""
    if len(seconds) < 2:
        return (float("nan"),) * 3
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def load_note() -> str:
    """The machine's load averages: on a shared machine, what else ran during the run."""
    one, five, fifteen = os.getloadavg()
    return (
        f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) "
        f"on {os.cpu_count()} cores"
    )


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"
