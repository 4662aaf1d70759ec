"""Benchmark: real-time message delivery through the platform next to a bare Socket.IO room.

Run as ``.venv/bin/python bench/messaging.py`` (``--quick`` for a short run); not part of
the test suite. What it measures (issue 3, "Tests and proof"):

- The platform exactly as ``network serve`` runs it (eventlet, one process) on a fresh
  SQLite file — and on PostgreSQL too when the server ``NETWORK_BENCH_DATABASE_URL``
  names (by default the local one) answers (a fresh database is made there and dropped
  after). Every message goes through the
  whole pipeline: token check, policy, Markdown and bleach, encryption, search index,
  the per-channel ``seq``, commit, then the room broadcast.
- The bare stack in the same invocation: Flask-SocketIO on eventlet broadcasting to a
  room, no database, no authentication (``bench/bare_socketio.py``), with a payload of
  the same shape.
- Topic channels of 10, 100 and 500 connected members, made through the services
  (``messaging.create_channel``; tokens through ``accounts.create_token``, as
  ``network create-token`` does). Each member has one connection in the channel's room;
  every message reaches all of them, the deliveries. Messages are sent by other
  connections of the same members (each connection of the platform may send 20 events a
  second, so the sends are spread over many).

Method. The servers run pinned to one core (``taskset``), the load generator to the
other. The load generator is a minimal Socket.IO client on aiohttp (``bench/sio_client``):
the official client saturates near 9.5k deliveries/s, below what one server core pushes.
Two kinds of run, each with at most 8 messages in flight (a message is in flight from its
send until every member has it):

- closed loop: the next message goes as soon as one completes — the throughput;
- paced: messages at a fixed rate, half of what the aim asks the platform to carry
  (half of aim x bare throughput) — the latency at a load the platform should take
  in its stride.

Runs of the bare stack and the platform alternate, round after round, and the table
shows medians over rounds. Latency is from the send to each member's receipt, all on the
load generator's clock; "CPU ms/msg" is the server process's CPU time per message (from
/proc), the least noisy measure on a shared machine. Every delivery is accounted for: any
loss, duplicate or refused send fails the run (exit status 1). The aims are printed next
to the results.

``--redis``: the same with two processes per stack joined by Redis (issue 7): the
platform twice on one fresh PostgreSQL database (``NETWORK_BENCH_DATABASE_URL``, by
default the local server; the database is made and dropped by the benchmark) with
``NETWORK_REDIS_URL`` (``NETWORK_BENCH_REDIS_URL``, by default the local Redis) and a
channel of its own, against two bare processes on Flask-SocketIO's stock Redis
``message_queue``. Members and senders alternate between the two processes, so half of
every message's deliveries cross Redis. With only two cores, both processes of a stack
run on the server core and the load generator on the other. Aims: deliveries/s at least
65% of bare at 10 members, 85% at 100 and 500. Both modes also print the paced server CPU
per delivery against bare (aims at most x2 at 10 members, x1.5 at 100 and 500).

Without ``--redis``, PostgreSQL (the same default) is measured next to SQLite when it
answers; ``NETWORK_BENCH_DATABASE_URL=`` (empty) leaves it out.

``--profile`` runs the SQLite platform server under cProfile from the first measured run
and prints where its time went.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pstats
import signal
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from harness import (
    LOAD_CORE,
    ROOT,
    SERVER_CORE,
    Server,
    app_context,
    close_app_context,
    forget_network_settings,
    free_port,
    load_note,
    median,
    pin_load_generator,
    postgres_database,
    postgres_url,
    redis_url,
    start,
    start_platform,
    stop,
    verdict,
)
from sio_client import Connection

SIZES = (10, 100, 500)
WINDOW = 8  # messages in flight at most
SENDERS = 64  # connections that send, spread over the channel's members
THROUGHPUT_AIM = {10: 0.30, 100: 0.60, 500: 0.75}  # platform deliveries/s ÷ bare
REDIS_THROUGHPUT_AIM = {10: 0.65, 100: 0.85, 500: 0.85}  # the same, two processes + Redis
CPU_AIM = {10: 2.0, 100: 1.5, 500: 1.5}  # paced CPU per delivery: platform ÷ bare, at most
P95_AIM_MS = {10: 5.0, 100: 5.0}  # paced p95: platform at most bare + this
PACED_SHARE = 0.5  # paced rate = this x aim x bare throughput
STALL_SECONDS = 15  # no delivery completes for this long: the run has lost something


# --- Servers ------------------------------------------------------------------------


def prepare(instance: Path, database_url: str, members: int) -> tuple[dict[int, int], list[str]]:
    """A migrated database with ``members`` accounts in one network, a topic channel per
    size with the first ``size`` of them, and a token for each (through the services)."""
    from network.extensions import db
    from network.services import accounts, demo, messaging

    context = app_context(instance, database_url)
    try:
        network = demo._ensure_networks()["wacap"]
        db.session.commit()
        users = [
            accounts.create_user(
                f"bench.member.{i:04d}@example.org",
                f"Bench Member {i:04d}",
                None,
                memberships=[("wacap", "contact_point")],
            )
            for i in range(members)
        ]
        channels = {
            size: messaging.create_channel(
                "topic",
                users[0],
                name=f"Bench {size}",
                network=network,
                member_ids=[u.id for u in users[1:size]],
            ).id
            for size in SIZES
            if size <= members
        }
        tokens = [accounts.create_token(user, "bench")[1] for user in users]
    finally:
        close_app_context(context)
    return channels, tokens


def start_app(
    name: str,
    instance: Path,
    database_url: str,
    members: int,
    profile: Path | None = None,
    processes: int = 1,
    redis: dict[str, str] | None = None,
) -> Server:
    """The platform as ``network serve`` runs it; ``processes`` of them on the same
    database and instance, joined by Redis (``redis``: the ``NETWORK_REDIS_*`` settings)."""
    from network.server import BOOTSTRAP

    channels, tokens = prepare(instance, database_url, members)
    bootstrap = BOOTSTRAP
    if profile is not None:
        # The same server under cProfile, switched on by SIGUSR1 (once warm) and written
        # out when it is stopped.
        bootstrap = BOOTSTRAP.replace(
            "from network.server import main; main()",
            "import cProfile, signal, sys; profiler = cProfile.Profile(); "
            "signal.signal(signal.SIGUSR1, lambda *_: profiler.enable()); "
            "signal.signal(signal.SIGTERM, lambda *_: (profiler.disable(), "
            f"profiler.dump_stats({str(profile)!r}), sys.exit(0))); "
            "from network.server import main; main()",
        )
    servers = [
        start_platform(
            name,
            instance,
            database_url,
            bootstrap=bootstrap,
            log_name=f"server-{number}.log",
            settings=redis,
            channels=channels,
            tokens=tokens,
        )
        for number in range(processes)
    ]
    servers[0].peers = servers[1:]
    return servers[0]


def start_bare(workdir: Path, processes: int = 1, redis: dict[str, str] | None = None) -> Server:
    """The bare stack; ``processes`` of them joined by Flask-SocketIO's stock Redis
    ``message_queue`` (``redis``: its URL and channel)."""
    options = ["--redis", redis["redis_url"], "--channel", redis["redis_channel"]] if redis else []
    servers = []
    for number in range(processes):
        port = free_port()
        command = [
            sys.executable,
            str(ROOT / "bench" / "bare_socketio.py"),
            "--port",
            str(port),
            *options,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = workdir / f"bare-{number}.log"
        name = "bare (Redis)" if redis else "bare"
        servers.append(start(name, command, env, log, port, channels={s: s for s in SIZES}))
    servers[0].peers = servers[1:]
    return servers[0]


async def wait_for_listeners(server: Server) -> None:
    """With Redis, each platform process subscribes when its first socket arrives;
    /healthz says when the subscription is up (``listener``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    for url in server.urls:
        while loop.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                    status = json.loads(response.read())
            except urllib.error.HTTPError as exc:
                status = json.loads(exc.read())
            if status.get("listener") in ("ok", "disabled", None):
                break
            await asyncio.sleep(0.05)


# --- Load -----------------------------------------------------------------------------


@dataclass
class Run:
    server: str
    size: int
    paced: float | None  # messages per second, or None for the closed loop
    messages: int = 0
    deliveries: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds
    lost: int = 0
    duplicates: int = 0
    refused: list[Any] = field(default_factory=list)  # acknowledgements that were not ok
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds if self.seconds else 0.0

    def percentiles(self) -> tuple[float, float, float]:
        if len(self.latencies) < 2:
            return (float("nan"),) * 3
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_seconds * 1000 / self.messages if self.messages else float("nan")


class Room:
    """One channel of one server: a connection per member in the room, and ``SENDERS``
    connections of the same members that send without joining."""

    def __init__(self, session: aiohttp.ClientSession, server: Server, size: int) -> None:
        self.session = session
        self.server = server
        self.size = size
        self.channel_id = server.channels[size]
        self.members: list[Connection] = []
        self.senders: list[Connection] = []
        self.runs = 0
        # Client ids must be new to the server (a known one is a retried send).
        self.tag = uuid.uuid4().hex[:8]
        self._run: Run | None = None
        self._started = 0.0
        self._sent: dict[str, float] = {}
        self._waiting: dict[str, int] = {}
        self._seen: list[set[str]] = []
        self._window = asyncio.Semaphore(WINDOW)
        self._strays = 0

    def _auth(self, index: int) -> dict[str, Any] | None:
        tokens = self.server.tokens
        return {"token": tokens[index % self.size]} if tokens else None

    async def open(self) -> None:
        gate = asyncio.Semaphore(32)
        urls = self.server.urls

        async def connect(index: int, member: bool) -> Connection:
            async with gate:
                handler = self._receiver(index) if member else self._ignore
                # Members and senders spread over the server's processes (with Redis).
                url = urls[index % len(urls)]
                connection = Connection(self.session, url, handler)
                await connection.connect(self._auth(index))
                if member:
                    ack = await connection.call(
                        "join", {"channel_id": self.channel_id, "after_seq": 0}
                    )
                    if not ack.get("ok"):
                        raise SystemExit(f"{self.server.name}: join refused: {ack}")
                return connection

        self._seen = [set() for _ in range(self.size)]
        self.members = list(await asyncio.gather(*(connect(i, True) for i in range(self.size))))
        self.senders = list(await asyncio.gather(*(connect(i, False) for i in range(SENDERS))))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in [*self.members, *self.senders]))

    @staticmethod
    def _ignore(_frame: str, _at: float) -> None:
        return None

    def _receiver(self, index: int) -> Any:
        marker = '"client_id":"'

        def on_event(frame: str, at: float) -> None:
            if not frame.startswith('42["message",'):
                return
            # The payload is compact JSON from the server; the client id is all we need
            # (a full json.loads per delivery would make the load generator the bottleneck).
            start = frame.index(marker) + len(marker)
            client_id = frame[start : frame.index('"', start)]
            sent = self._sent.get(client_id)
            run = self._run
            if sent is None or run is None:
                self._strays += 1
                return
            seen = self._seen[index]
            if client_id in seen:
                run.duplicates += 1
                return
            seen.add(client_id)
            run.latencies.append(at - sent)
            left = self._waiting[client_id] - 1
            self._waiting[client_id] = left
            if left == 0:
                del self._waiting[client_id]
                run.deliveries += self.size
                run.seconds = at - self._started
                self._window.release()

        return on_event

    async def run(self, seconds: float, paced: float | None) -> Run:
        """Send for ``seconds`` (closed loop, or ``paced`` messages a second), then wait for
        every delivery; a run that stalls counts what never arrived as lost."""
        loop = asyncio.get_running_loop()
        run = self._run = Run(self.server.name, self.size, paced)
        self.runs += 1
        prefix = f"{self.tag}r{self.runs:03d}"
        self._started = started = loop.time()
        cpu_before = self.server.cpu_seconds()
        acks: list[asyncio.Future[Any]] = []
        number = 0
        while True:
            if paced:
                pause = started + number / paced - loop.time()
                if pause > 0:
                    await asyncio.sleep(pause)
            if loop.time() - started >= seconds:
                break
            try:
                await asyncio.wait_for(self._window.acquire(), STALL_SECONDS)
            except TimeoutError:
                break
            client_id = f"{prefix}-{number:07d}"
            self._waiting[client_id] = self.size
            self._sent[client_id] = loop.time()
            sender = self.senders[number % len(self.senders)]
            body = f"bench message {number} of run {prefix}"
            data = {"channel_id": self.channel_id, "client_id": client_id, "body": body}
            acks.append(await sender.emit("send", data))
            number += 1
        run.messages = number
        # Drain: everything sent must arrive; wait while deliveries keep completing.
        while self._waiting:
            before = len(run.latencies)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained(), STALL_SECONDS)
            if len(run.latencies) == before:
                break
        run.cpu_seconds = self.server.cpu_seconds() - cpu_before
        for ack in await asyncio.gather(*acks, return_exceptions=True):
            if not isinstance(ack, dict) or not ack.get("ok"):
                run.refused.append(ack)
        run.lost = sum(self._waiting.values())
        # A fresh window and bookkeeping for the next run (in-flight ones are lost).
        self._waiting.clear()
        self._sent.clear()
        self._window = asyncio.Semaphore(WINDOW)
        self._run = None
        return run

    async def _drained(self) -> None:
        while self._waiting:
            await asyncio.sleep(0.01)


# --- Report ---------------------------------------------------------------------------


@dataclass
class Summary:
    rate: float
    p50: float
    p95: float
    p99: float
    cpu: float
    lost: int
    duplicates: int
    refused: int
    messages: int


def summarise(runs: list[Run]) -> Summary:
    cuts = [r.percentiles() for r in runs]
    return Summary(
        rate=median([r.rate for r in runs]),
        p50=median([c[0] for c in cuts]),
        p95=median([c[1] for c in cuts]),
        p99=median([c[2] for c in cuts]),
        cpu=median([r.cpu_ms_per_message for r in runs]),
        lost=sum(r.lost for r in runs),
        duplicates=sum(r.duplicates for r in runs),
        refused=sum(len(r.refused) for r in runs),
        messages=sum(r.messages for r in runs),
    )


HEADER = (
    f"{'members':>7}  {'load':<13} {'server':<17} {'deliveries/s':>12} {'p50 ms':>7} "
    f"{'p95 ms':>7} {'p99 ms':>7} {'CPU ms/msg':>10} {'msgs':>6} {'lost':>4}"
)


def line(size: int, load: str, name: str, s: Summary) -> str:
    lost = s.lost + s.duplicates + s.refused
    return (
        f"{size:>7}  {load:<13} {name:<17} {s.rate:>12,.0f} {s.p50:>7.2f} {s.p95:>7.2f} "
        f"{s.p99:>7.2f} {s.cpu:>10.2f} {s.messages:>6} {lost:>4}"
    )


# --- Main -----------------------------------------------------------------------------


async def measure(
    servers: list[Server],
    sizes: list[int],
    rounds: int,
    seconds: float,
    paced_share: float,
    profiling: bool,
    throughput_aim: dict[int, float],
) -> tuple[list[str], bool]:
    """Every size: closed-loop rounds, then paced rounds, the servers in turn (in a
    rotating order); returns the report lines and whether every delivery arrived once.
    ``profiling``: the first platform server is profiled from the first measured run."""
    bare, apps = servers[0], servers[1:]
    report: list[str] = [HEADER]
    aims: list[str] = []
    complete = True
    timeout = aiohttp.ClientTimeout(total=None)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for size in sizes:
            rooms = [Room(session, server, size) for server in servers]
            opened = time.perf_counter()
            for room in rooms:
                await room.open()
            for server in servers:
                await wait_for_listeners(server)
            print(
                f"\n{size} members: {len(rooms)} servers x ({size} members + {SENDERS} senders) "
                f"connected in {time.perf_counter() - opened:.1f} s",
                flush=True,
            )
            for room in rooms:  # warm-up, not measured: imports, caches, pools
                await room.run(min(1.0, seconds), None)
            if profiling:
                os.kill(apps[0].process.pid, signal.SIGUSR1)
            closed: dict[str, list[Run]] = {s.name: [] for s in servers}
            for number in range(rounds):
                order = rooms if number % 2 == 0 else rooms[::-1]
                for room in order:
                    run = await room.run(seconds, None)
                    closed[room.server.name].append(run)
                    print(f"  closed loop  {room.server.name:<17} {run.rate:>9,.0f}/s", flush=True)
            bare_closed = summarise(closed[bare.name])
            paced_rate = paced_share * throughput_aim[size] * bare_closed.rate / size
            paced: dict[str, list[Run]] = {s.name: [] for s in servers}
            for number in range(rounds):
                order = rooms if number % 2 == 0 else rooms[::-1]
                for room in order:
                    run = await room.run(seconds, paced_rate)
                    paced[room.server.name].append(run)
                    p50, p95, _ = run.percentiles()
                    print(
                        f"  paced        {room.server.name:<17} p50 {p50:.2f} ms, p95 {p95:.2f} ms",
                        flush=True,
                    )
            await asyncio.gather(*(room.close() for room in rooms))

            summaries = {
                "closed": {n: summarise(r) for n, r in closed.items()},
                "paced": {n: summarise(r) for n, r in paced.items()},
            }
            load_names = {"closed": f"closed, {WINDOW} max", "paced": f"{paced_rate:,.0f} msg/s"}
            for kind in ("closed", "paced"):
                for name, summary in summaries[kind].items():
                    report.append(line(size, load_names[kind], name, summary))
                    complete &= summary.lost + summary.duplicates + summary.refused == 0
            for app in apps:
                closed_app, paced_app = summaries["closed"][app.name], summaries["paced"][app.name]
                paced_bare = summaries["paced"][bare.name]
                share, aim = closed_app.rate / bare_closed.rate, throughput_aim[size]
                aims.append(
                    f"{size:>4} members  {app.name:<17} deliveries/s {share:>4.0%} of bare "
                    f"({closed_app.rate:,.0f} / {bare_closed.rate:,.0f})".ljust(84)
                    + f"aim >= {aim:.0%}   {verdict(share >= aim)}"
                )
                extra = paced_app.p95 - paced_bare.p95
                text = (
                    f"{'':>13}{app.name:<17} paced p95 {paced_app.p95:.1f} ms = bare "
                    f"{extra:+.1f} ms (x{paced_app.p95 / paced_bare.p95:.1f})"
                ).ljust(84)
                if size in P95_AIM_MS:
                    limit = P95_AIM_MS[size]
                    text += f"aim <= bare +{limit:.0f} ms   {verdict(extra <= limit)}"
                else:
                    text += "(no aim at this size)"
                aims.append(text)
                if paced_app.messages < 0.95 * paced_bare.messages:
                    aims.append(
                        f"{'':>13}{app.name:<17} (could not carry the paced rate: its paced "
                        "row is a closed loop in effect, latency includes queueing)"
                    )
                # CPU per delivery: both rows carry the same deliveries per message.
                cpu_ratio, cpu_aim = paced_app.cpu / paced_bare.cpu, CPU_AIM[size]
                aims.append(
                    (
                        f"{'':>13}{app.name:<17} paced CPU/delivery "
                        f"{paced_app.cpu * 1000 / size:.0f} us = x{cpu_ratio:.2f} of bare "
                        f"({paced_bare.cpu * 1000 / size:.0f} us)"
                    ).ljust(84)
                    + f"aim <= x{cpu_aim:.1f}   {verdict(cpu_ratio <= cpu_aim)}"
                )
    title = f"Ratios and aims (medians of {rounds} round(s)):"
    return [*report, "", title, *aims], complete


def print_profile(path: Path) -> None:
    for order in ("tottime", "cumulative"):
        print(f"\nProfile of the platform's server, by {order}:")
        pstats.Stats(str(path)).sort_stats(order).print_stats(35)
        if os.environ.get("BENCH_CALLEES"):
            pstats.Stats(str(path)).sort_stats(order).print_callees(os.environ["BENCH_CALLEES"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of short runs")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per load and size")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one run")
    parser.add_argument(
        "--sizes", type=lambda v: [int(s) for s in v.split(",")], default=list(SIZES)
    )
    parser.add_argument(
        "--paced-share",
        type=float,
        default=PACED_SHARE,
        help="paced rate as a share of aim x bare throughput (default %(default)s)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the platform's SQLite server under cProfile and print where time goes",
    )
    parser.add_argument(
        "--redis",
        action="store_true",
        help="two processes per stack joined by Redis (NETWORK_BENCH_REDIS_URL), the "
        "platform on PostgreSQL (NETWORK_BENCH_DATABASE_URL)",
    )
    args = parser.parse_args()
    if args.profile and args.redis:
        parser.error("--profile profiles the one-process SQLite server: not with --redis")
    if args.quick:
        args.rounds, args.seconds = 1, 1.5
    unknown = sorted(set(args.sizes) - set(SIZES))
    if unknown:
        parser.error(f"sizes are among {SIZES}, not {unknown}")
    members = max(args.sizes)
    pg_server = postgres_url()
    redis_server = redis_url() if args.redis else None
    if args.redis and not (redis_server and pg_server):
        raise SystemExit("--redis needs Redis and PostgreSQL (NETWORK_BENCH_*_URL)")
    forget_network_settings()

    with (
        tempfile.TemporaryDirectory(prefix="network-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        servers: list[Server] = []
        stack.callback(lambda: [stop(s) for s in servers])
        profile = workdir / "app.prof" if args.profile else None
        started = time.perf_counter()
        if redis_server and pg_server:
            # Two processes of each stack, on one Redis channel of their own per stack.
            tag = uuid.uuid4().hex[:8]
            bare_queue = {"redis_url": redis_server, "redis_channel": f"bench-bare-{tag}"}
            servers.append(start_bare(workdir, 2, bare_queue))
            app_queue = {"redis_url": redis_server, "redis_channel": f"bench-app-{tag}"}
            database_url = stack.enter_context(postgres_database(pg_server))
            servers.append(
                start_app(
                    "app x2 PG+Redis", workdir / "pg", database_url, members, None, 2, app_queue
                )
            )
            throughput_aim = REDIS_THROUGHPUT_AIM
            shape = "two processes per stack joined by Redis, members spread over both"
        else:
            servers.append(start_bare(workdir))
            sqlite_instance = workdir / "sqlite"
            sqlite_url = f"sqlite:///{sqlite_instance / 'network.db'}"
            servers.append(start_app("app (SQLite)", sqlite_instance, sqlite_url, members, profile))
            if pg_server:
                database_url = stack.enter_context(postgres_database(pg_server))
                servers.append(start_app("app (PostgreSQL)", workdir / "pg", database_url, members))
            throughput_aim = THROUGHPUT_AIM
            shape = "one process per stack"
        print(
            f"Servers up in {time.perf_counter() - started:.1f} s ({members} accounts, a topic "
            f"channel per size; {shape}); every server process on core {SERVER_CORE}, the "
            f"load generator on core {LOAD_CORE}; {args.rounds} round(s) of "
            f"{args.seconds:.1f} s runs per load.",
            flush=True,
        )
        if pg_server:
            print("PostgreSQL (and Redis) run unpinned on this machine: they share both cores.")
        pin_load_generator()
        print(f"Before the runs: {load_note()}", flush=True)
        report, complete = asyncio.run(
            measure(
                servers,
                args.sizes,
                args.rounds,
                args.seconds,
                args.paced_share,
                args.profile,
                throughput_aim,
            )
        )
        print(f"After the runs: {load_note()}", flush=True)
        for server in servers:
            stop(server)
        print()
        print("\n".join(report))
        if profile is not None and profile.exists():
            print_profile(profile)
    if not complete:
        print("\nFAILED: some deliveries were lost, duplicated or refused (the 'lost' column).")
        sys.exit(1)
    print("\nEvery delivery arrived exactly once.")


if __name__ == "__main__":
    main()
