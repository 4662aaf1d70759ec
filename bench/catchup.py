"""Benchmark: a client that rejoins a channel 1,000 messages behind.

Run as ``.venv/bin/python bench/catchup.py`` (``--quick`` for fewer rounds); not part of
the test suite. What it measures (issue 7, "Benchmarks"):

- The platform exactly as ``network serve`` runs it (eventlet, one process), on a fresh
  SQLite file and on a fresh PostgreSQL database (``NETWORK_BENCH_DATABASE_URL``, by
  default the local server; made and dropped by the benchmark), holding a topic channel
  of two members with ``--messages`` (1,000) messages posted through the services
  (``messaging.post_message``: Markdown, bleach, encryption, search index, ``seq``).
- A member's client (``bench/sio_client``, token authentication) connects afresh and
  sends ``join`` with ``after_seq`` 0. The acknowledgement carries at most one page of
  what was missed and ``more``; the client joins again from the last ``seq`` it holds,
  as the platform's own client does, until it holds every message. Timed: from the first
  ``join`` to holding all of them (the connection itself is timed apart).

Method: the server pinned to one core, the client to the other; the databases in turn
(rotating order), ``--rounds`` times; the table shows the median and the slowest round,
and the pages it took. A round that misses or repeats a message fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from harness import (
    LOAD_CORE,
    SERVER_CORE,
    Server,
    app_context,
    close_app_context,
    forget_network_settings,
    load_note,
    median,
    pin_load_generator,
    postgres_database,
    postgres_url,
    start_platform,
    stop,
)
from sio_client import Connection


def prepare(instance: Path, database_url: str, messages: int) -> tuple[int, str]:
    """A channel of two members with ``messages`` messages; returns it and the reader's
    token."""
    from network.extensions import db
    from network.services import accounts, demo, messaging

    context = app_context(instance, database_url)
    try:
        network = demo._ensure_networks()["wacap"]
        db.session.commit()
        author, reader = (
            accounts.create_user(
                f"bench.{who}@example.org",
                f"Bench {who.title()}",
                None,
                memberships=[("wacap", "contact_point")],
            )
            for who in ("author", "reader")
        )
        channel = messaging.create_channel(
            "topic", author, name="Bench catch-up", network=network, member_ids=[reader.id]
        )
        channel_id = channel.id
        for number in range(messages):
            messaging.post_message(
                channel_id,
                author,
                f"Catch-up message **{number}**: the hearing moved to Thursday.",
                f"bench-catchup-{number:05d}",
            )
        token = accounts.create_token(reader, "bench")[1]
    finally:
        close_app_context(context)
    return channel_id, token


@dataclass
class Result:
    server: Server
    channel_id: int
    token: str
    seconds: list[float] = field(default_factory=list)
    connect: list[float] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def rejoin(session: aiohttp.ClientSession, result: Result, expected: int) -> None:
    loop = asyncio.get_running_loop()
    connection = Connection(session, result.server.url, lambda _frame, _at: None)
    began = loop.time()
    await connection.connect({"token": result.token})
    connected = loop.time()
    held: set[int] = set()
    after_seq, pages, repeated = 0, 0, 0
    while True:
        ack = await connection.call(
            "join", {"channel_id": result.channel_id, "after_seq": after_seq}
        )
        pages += 1
        if not ack.get("ok"):
            result.failures.append(f"join refused: {ack}")
            break
        for message in ack["messages"]:
            repeated += message["seq"] in held
            held.add(message["seq"])
        if ack["messages"]:
            after_seq = max(after_seq, *(m["seq"] for m in ack["messages"]))
        if not ack["more"]:
            break
    done = loop.time()
    await connection.close()
    if len(held) != expected or repeated:
        result.failures.append(f"held {len(held)} of {expected}, {repeated} repeated")
    result.connect.append(connected - began)
    result.seconds.append(done - connected)
    result.pages.append(pages)


async def measure(results: list[Result], rounds: int, expected: int) -> None:
    async with aiohttp.ClientSession() as session:
        for result in results:  # warm-up, not measured
            await rejoin(session, result, expected)
            result.seconds.clear()
            result.connect.clear()
            result.pages.clear()
        for number in range(rounds):
            shift = number % len(results)
            for result in results[shift:] + results[:shift]:
                await rejoin(session, result, expected)
                print(
                    f"  {result.server.name:<17} {result.seconds[-1] * 1000:>8.1f} ms "
                    f"({result.pages[-1]} pages)",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--messages", type=int, default=1000, help="messages behind")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 2
    pg_server = postgres_url()
    forget_network_settings()

    with (
        tempfile.TemporaryDirectory(prefix="network-bench-catchup-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        results: list[Result] = []
        stack.callback(lambda: [stop(r.server) for r in results])
        started = time.perf_counter()
        databases = [("app (SQLite)", workdir / "sqlite", None)]
        if pg_server:
            databases.append(("app (PostgreSQL)", workdir / "pg", pg_server))
        for name, instance, server_url in databases:
            if server_url is None:
                database_url = f"sqlite:///{instance / 'network.db'}"
            else:
                database_url = stack.enter_context(postgres_database(server_url))
            channel_id, token = prepare(instance, database_url, args.messages)
            server = start_platform(name, instance, database_url)
            results.append(Result(server, channel_id, token))
        print(
            f"Servers up in {time.perf_counter() - started:.1f} s ({args.messages:,} messages "
            f"each); server on core {SERVER_CORE}, client on core {LOAD_CORE}; "
            f"{args.rounds} round(s).",
            flush=True,
        )
        pin_load_generator()
        print(f"Before the runs: {load_note()}", flush=True)
        asyncio.run(measure(results, args.rounds, args.messages))
        print(f"After the runs: {load_note()}", flush=True)
    print()
    print(
        f"{'server':<17} {'messages':>8} {'pages':>5} {'join→all ms':>11} {'slowest ms':>10} "
        f"{'per msg µs':>10} {'connect ms':>10}"
    )
    for r in results:
        took = median(r.seconds)
        print(
            f"{r.server.name:<17} {args.messages:>8} {median(r.pages):>5.0f} "
            f"{took * 1000:>11.1f} {max(r.seconds) * 1000:>10.1f} "
            f"{took * 1e6 / args.messages:>10.0f} {median(r.connect) * 1000:>10.1f}"
        )
    print(f"(medians of {args.rounds} round(s); no aim is set for catch-up)")
    failures = [f for r in results for f in r.failures]
    if failures:
        print(f"\nFAILED: {failures[:3]}")
        sys.exit(1)
    print("Every round held every message exactly once.")


if __name__ == "__main__":
    main()
