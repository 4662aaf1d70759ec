"""Bounded load test (issue 8, "Load"): ramp to 500 connected users over 60 s across
channels, sending and reading, on loopback; then check that nothing acknowledged is missing.

Run as ``.venv/bin/python bench/load.py`` (``--quick``: 100 users over 15 s); not part of
the test suite. What it does:

- The platform exactly as ``network serve`` runs it (eventlet, one process) on a fresh
  SQLite file (``--postgres``: a fresh database on the local PostgreSQL), with ``--users``
  accounts of one network spread over topic channels of ``--channel-size`` members, each
  with an API token (made through the services).
- The users arrive evenly over ``--ramp`` seconds and stay ``--hold`` seconds more. Each
  connects its socket with its token, joins its channel, then until the end sends a
  message every ``--send-every`` seconds (a ``send`` with a client id, acknowledged) and
  reads over HTTP every ``--read-every`` seconds (alternately its channel's new messages
  and ``/api/v1/me``, with its bearer token), with random phase.
- Pass when: server errors (HTTP 5xx, socket acknowledgements ``ok: false``, refused or
  dropped connections) are under 0.025% of all operations; HTTP p99 latency is under 2 s;
  and every acknowledged message is stored exactly once (each channel's history read back
  through the API at the end). Exit status 1 otherwise.

The load generator (aiohttp, ``bench/sio_client.py``) is pinned to the other core from the
server. Results go to ``bench/RESULTS.md`` by hand, with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from harness import (
    app_context,
    close_app_context,
    forget_network_settings,
    load_note,
    percentiles_ms,
    pin_load_generator,
    postgres_database,
    postgres_url,
    raise_open_files,
    start_platform,
    stop,
    verdict,
)
from sio_client import Connection

ERROR_AIM = 0.00025  # server errors per operation, below
P99_AIM_S = 2.0  # HTTP latency, p99 below


@dataclass
class Tally:
    operations: int = 0
    errors: list[str] = field(default_factory=list)
    http_seconds: list[float] = field(default_factory=list)
    acked: dict[int, list[str]] = field(default_factory=dict)  # channel -> client ids
    deliveries: int = 0
    peak_connected: int = 0
    connected: int = 0

    def error(self, what: str) -> None:
        self.errors.append(what)


def prepare(users: int, channel_size: int) -> tuple[list[str], list[int], list[int]]:
    """Accounts with tokens, and topic channels of ``channel_size`` consecutive users;
    returns the tokens, each user's channel and the channel ids."""
    from network.extensions import db
    from network.services import accounts, demo, messaging

    network = demo._ensure_networks()["wacap"]
    db.session.commit()
    people = [
        accounts.create_user(
            f"load.user.{i:04d}@example.org",
            f"Load User {i:04d}",
            None,
            memberships=[("wacap", "contact_point")],
        )
        for i in range(users)
    ]
    channels = []
    for start in range(0, users, channel_size):
        group = people[start : start + channel_size]
        channels.append(
            messaging.create_channel(
                "topic",
                group[0],
                name=f"Load {start // channel_size + 1}",
                network=network,
                member_ids=[u.id for u in group[1:]],
            ).id
        )
    tokens = [accounts.create_token(user, "load")[1] for user in people]
    return tokens, [channels[i // channel_size] for i in range(users)], channels


async def user(
    index: int,
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    channel_id: int,
    args: argparse.Namespace,
    stop_at: float,
    tally: Tally,
) -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(index)

    def on_event(frame: str, _at: float) -> None:
        if frame.startswith('42["message"'):
            tally.deliveries += 1

    connection = Connection(session, url, on_event)
    tally.operations += 1
    try:
        await connection.connect({"token": token})
        joined = await connection.call("join", {"channel_id": channel_id, "after_seq": 0})
    except Exception as exc:
        tally.error(f"connect/join of user {index}: {exc!r}")
        return
    if not joined.get("ok"):
        tally.error(f"join refused for user {index}: {joined}")
        return
    tally.connected += 1
    tally.peak_connected = max(tally.peak_connected, tally.connected)
    headers = {"Authorization": f"Bearer {token}"}
    last_seq = joined.get("last_seq", 0)
    next_send = loop.time() + rng.uniform(0, args.send_every)
    next_read = loop.time() + rng.uniform(0, args.read_every)
    reads = 0
    try:
        while True:
            now = loop.time()
            if now >= stop_at:
                break
            await asyncio.sleep(max(0.0, min(next_send, next_read, stop_at) - now))
            now = loop.time()
            if now >= stop_at:
                break
            if now >= next_send:
                next_send += args.send_every
                client_id = uuid.uuid4().hex
                tally.operations += 1
                try:
                    ack = await connection.call(
                        "send",
                        {"channel_id": channel_id, "client_id": client_id, "body": f"load {index}"},
                    )
                except Exception as exc:
                    tally.error(f"send of user {index}: {exc!r}")
                    continue
                if ack.get("ok"):
                    tally.acked.setdefault(channel_id, []).append(client_id)
                    last_seq = max(last_seq, ack["seq"])
                else:
                    tally.error(f"send refused for user {index}: {ack}")
            if loop.time() >= next_read:
                next_read += args.read_every
                reads += 1
                path = (
                    f"/api/v1/channels/{channel_id}/messages?after_seq={max(0, last_seq - 20)}"
                    if reads % 2
                    else "/api/v1/me"
                )
                tally.operations += 1
                started = loop.time()
                try:
                    async with session.get(url + path, headers=headers) as response:
                        await response.read()
                        tally.http_seconds.append(loop.time() - started)
                        if response.status >= 500:
                            tally.error(f"HTTP {response.status} on {path}")
                except Exception as exc:
                    tally.error(f"HTTP {path}: {exc!r}")
    finally:
        if connection.closed_reason is not None:
            tally.error(f"connection of user {index} closed: {connection.closed_reason}")
        tally.connected -= 1
        await connection.close()


async def history(session: aiohttp.ClientSession, url: str, token: str, channel: int) -> list[str]:
    found: list[str] = []
    after = 0
    while True:
        async with session.get(
            f"{url}/api/v1/channels/{channel}/messages?after_seq={after}&limit=200",
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            items = json.loads(await response.read())["items"]
        if not items:
            return found
        found += [m["client_id"] for m in items]
        after = items[-1]["seq"]


async def run(url: str, tokens: list[str], of: list[int], channels: list[int], args: Any) -> Tally:
    tally = Tally()
    pin_load_generator()
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        begin = loop.time()
        stop_at = begin + args.ramp + args.hold
        tasks = []
        for index, token in enumerate(tokens):
            arrive = begin + args.ramp * index / len(tokens)
            await asyncio.sleep(max(0.0, arrive - loop.time()))
            tasks.append(
                asyncio.create_task(
                    user(index, session, url, token, of[index], args, stop_at, tally)
                )
            )
        await asyncio.gather(*tasks)
        # Every acknowledged message is stored exactly once.
        owner = {channel: tokens[of.index(channel)] for channel in channels}
        for channel in channels:
            stored = await history(session, url, owner[channel], channel)
            acked = tally.acked.get(channel, [])
            counts: dict[str, int] = {}
            for client_id in stored:
                counts[client_id] = counts.get(client_id, 0) + 1
            missing = [c for c in acked if counts.get(c, 0) != 1]
            if missing:
                tally.error(f"channel {channel}: {len(missing)} acknowledged not stored once")
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 users over 15 s")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--channel-size", type=int, default=50)
    parser.add_argument("--ramp", type=float, default=60.0)
    parser.add_argument("--hold", type=float, default=20.0)
    parser.add_argument("--send-every", type=float, default=10.0)
    parser.add_argument("--read-every", type=float, default=10.0)
    parser.add_argument("--postgres", action="store_true", help="on the local PostgreSQL")
    args = parser.parse_args()
    if args.quick:
        args.users, args.ramp, args.hold = 100, 15.0, 5.0
    forget_network_settings()
    raise_open_files(4 * args.users + 256)
    print(load_note())
    with (
        tempfile.TemporaryDirectory(prefix="network-load-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        instance = Path(tmp)
        if args.postgres:
            server_url = postgres_url()
            if server_url is None:
                raise SystemExit("no PostgreSQL: set NETWORK_BENCH_DATABASE_URL")
            database_url = stack.enter_context(postgres_database(server_url))
        else:
            database_url = f"sqlite:///{instance / 'load.db'}"
        started = time.monotonic()
        context = app_context(instance, database_url)
        tokens, of, channels = prepare(args.users, args.channel_size)
        close_app_context(context)
        print(
            f"{args.users} users in {len(channels)} channels ready in "
            f"{time.monotonic() - started:.1f} s; ramp {args.ramp:.0f} s, hold {args.hold:.0f} s"
        )
        server = start_platform("app", instance, database_url)
        stack.callback(stop, server)
        cpu_before = server.cpu_seconds()
        tally = asyncio.run(run(server.urls[0], tokens, of, channels, args))
        cpu = server.cpu_seconds() - cpu_before
    sent = sum(len(v) for v in tally.acked.values())
    error_rate = len(tally.errors) / max(1, tally.operations)
    p50, p95, p99 = percentiles_ms(tally.http_seconds)
    ok_errors = error_rate < ERROR_AIM
    ok_latency = p99 / 1000 < P99_AIM_S
    ok_stored = not any("not stored once" in e for e in tally.errors)
    print(
        f"\npeak connected users   {tally.peak_connected}"
        f"\noperations             {tally.operations:,} (connects, sends, HTTP reads)"
        f"\nmessages acknowledged  {sent:,}; deliveries received {tally.deliveries:,}"
        f"\nHTTP reads             {len(tally.http_seconds):,}: p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, p99 {p99:.1f} ms"
        f"\nserver CPU             {cpu:.1f} s"
        f"\n\nserver errors  {len(tally.errors)} = {100 * error_rate:.4f}% "
        f"(aim < {100 * ERROR_AIM:.3f}%)  {verdict(ok_errors)}"
        f"\nHTTP p99       {p99:.1f} ms (aim < {P99_AIM_S * 1000:.0f} ms)  {verdict(ok_latency)}"
        f"\nstored once    every acknowledged message: {verdict(ok_stored)}"
    )
    for line in tally.errors[:10]:
        print("  ", line)
    print(load_note())
    if not (ok_errors and ok_latency and ok_stored):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
