"""Benchmark: 1,000 idle authenticated socket connections on one process, and the
resident memory each costs.

Run as ``.venv/bin/python bench/capacity.py`` (``--quick``: 300 connections); not part of
the test suite. What it measures (issue 7, "Benchmarks"):

- The platform exactly as ``network serve`` runs it (eventlet, one process) on a fresh
  SQLite file with ``--connections`` accounts, each with an API token (made through the
  services as ``bench/messaging.py`` makes them). Every connection authenticates with its
  own token (the Socket.IO ``auth`` object), then stays idle; the server keeps its
  Engine.IO pings going with each (``SOCKET_PING_INTERVAL``, 10 s).
- The bare stack in the same invocation: Flask-SocketIO on eventlet
  (``bench/bare_socketio.py``), connections without authentication.

Memory: ``VmRSS`` of the server process from ``/proc/<pid>/status`` after a warm-up
(some connections opened and closed: imports and caches are loaded), then after every
connection is open and has idled through ``--idle`` seconds (more than one ping round).
The difference divided by the connections is the memory per connection; aim under
100 KB. Afterwards every connection must still be open. The benchmark raises its own
open-files limit (``resource.setrlimit``), which the servers inherit.

Method: server pinned to one core, the clients (aiohttp) to the other; at most 50
connection handshakes at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from harness import (
    LOAD_CORE,
    ROOT,
    SERVER_CORE,
    Server,
    forget_network_settings,
    free_port,
    load_note,
    pin_load_generator,
    raise_open_files,
    start,
    start_platform,
    stop,
    verdict,
)
from sio_client import Connection

AIM_KB = 100  # resident memory per idle connection, at most
WARM_UP = 20  # connections opened and closed before the first reading


async def open_connections(
    session: aiohttp.ClientSession, server: Server, count: int, offset: int = 0
) -> list[Connection]:
    gate = asyncio.Semaphore(50)

    async def connect(index: int) -> Connection:
        async with gate:
            connection = Connection(session, server.url, lambda _frame, _at: None)
            token = server.tokens[index] if server.tokens else None
            await connection.connect({"token": token} if token else None)
            return connection

    return list(await asyncio.gather(*(connect(offset + i) for i in range(count))))


async def settle(server: Server, seconds: float) -> int:
    """Wait ``seconds`` (the server answers pings, collects garbage), then read VmRSS."""
    await asyncio.sleep(seconds)
    return server.rss_kib()


async def measure(server: Server, count: int, idle: float) -> dict[str, float]:
    timeout = aiohttp.ClientTimeout(total=None)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        warm = await open_connections(session, server, WARM_UP, count)
        await asyncio.gather(*(c.close() for c in warm))
        before = await settle(server, 2.0)
        opened = time.perf_counter()
        connections = await open_connections(session, server, count)
        took = time.perf_counter() - opened
        after = await settle(server, idle)
        alive = sum(c.closed_reason is None and not c.ws.closed for c in connections)
        await asyncio.gather(*(c.close() for c in connections))
    per = (after - before) / count
    print(
        f"  {server.name:<13} {count} connected in {took:.1f} s; VmRSS {before:,} KiB -> "
        f"{after:,} KiB; {alive} still open after {idle:.0f} s idle",
        flush=True,
    )
    return {"before": before, "after": after, "per": per, "alive": alive, "seconds": took}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 connections, short idle")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=15.0, help="seconds idle before reading")
    args = parser.parse_args()
    if args.quick:
        args.connections, args.idle = 300, 5.0
    limit = raise_open_files(args.connections * 2 + WARM_UP + 200)
    forget_network_settings()
    import messaging  # bench/messaging.py: accounts and tokens through the services

    with (
        tempfile.TemporaryDirectory(prefix="network-bench-capacity-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        servers: list[Server] = []
        stack.callback(lambda: [stop(s) for s in servers])
        started = time.perf_counter()
        instance = workdir / "sqlite"
        database_url = f"sqlite:///{instance / 'network.db'}"
        _channels, tokens = messaging.prepare(instance, database_url, args.connections + WARM_UP)
        port = free_port()
        command = [sys.executable, str(ROOT / "bench" / "bare_socketio.py"), "--port", str(port)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        servers.append(start("bare", command, env, workdir / "bare.log", port))
        servers.append(start_platform("app (SQLite)", instance, database_url, tokens=tokens))
        print(
            f"Servers up in {time.perf_counter() - started:.1f} s; open-files limit {limit}; "
            f"servers on core {SERVER_CORE}, clients on core {LOAD_CORE}.",
            flush=True,
        )
        pin_load_generator()
        print(f"Before the runs: {load_note()}", flush=True)
        readings = {s.name: asyncio.run(measure(s, args.connections, args.idle)) for s in servers}
        print(f"After the runs: {load_note()}", flush=True)
    print()
    print(
        f"{'server':<13} {'connections':>11} {'VmRSS before':>12} {'VmRSS after':>11} "
        f"{'KiB/conn':>8} {'still open':>10}"
    )
    for name, r in readings.items():
        print(
            f"{name:<13} {args.connections:>11} {r['before']:>9,.0f} KiB {r['after']:>8,.0f} KiB"
            f" {r['per']:>8.1f} {r['alive']:>10.0f}"
        )
    app, bare = readings["app (SQLite)"], readings["bare"]
    print(
        f"\napp: {app['per']:.1f} KiB per idle authenticated connection "
        f"(x{app['per'] / bare['per']:.2f} of bare, {bare['per']:.1f} KiB)".ljust(72)
        + f"aim < {AIM_KB} KB   {verdict(app['per'] * 1.024 < AIM_KB)}"
    )
    if any(r["alive"] < args.connections for r in readings.values()):
        print("\nFAILED: some connections did not stay open.")
        sys.exit(1)


if __name__ == "__main__":
    main()
