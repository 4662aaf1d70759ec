"""Benchmark: the platform's HTTP API next to a bare Flask route, both on eventlet.

Run as ``.venv/bin/python bench/http_api.py`` (``--quick`` for a short run); not part of
the test suite. (Not ``bench/http.py``: a script's folder comes first on ``sys.path``, and
a module of that name would hide the standard library's ``http`` from every script here.)

What it measures (issue 7, "Benchmarks"):

- The platform exactly as ``network serve`` runs it (eventlet, one process) on a fresh
  SQLite file holding the demo's networks and a directory of ``--entries`` fictional
  contact points (3,000 by default, bulk-loaded as ``bench/directory.py`` does), with a
  member of every network and an API token of theirs (``accounts.create_token``):
  - ``GET /api/v1/me`` with ``Authorization: Bearer``: token check, user, memberships, JSON;
  - ``GET /api/v1/contact-points?…``: the faceted directory search, a mix of free text
    (``q=``), one and two facets, pages and sorts (``directory.search_urls``), each
    answer with its items and facet counts;
  - ``GET /directory/?…``: the same searches as the HTML page, signed in through the
    login form (session cookie): the template and the facet sidebar on top.
- The bare stack in the same invocation: a Flask route returning a JSON document of the
  size of ``/me``, on the same eventlet WSGI server (``bench/bare_http.py``).

Method. The servers run pinned to one core (``taskset``), the load generator (aiohttp,
keep-alive connections) to the other. Closed loop: ``--concurrency`` requests in flight
(8), the next sent as soon as one answers. Runs of the three alternate, round after round,
in a rotating order; the table shows the median over rounds of requests per second and
of each run's p50/p95/p99 latency. Any answer other than 200 fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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
    percentiles_ms,
    pin_load_generator,
    start,
    start_platform,
    stop,
    verdict,
)

# requests/s ÷ bare, at least
AIMS = {"API GET /me": 0.50, "faceted search": 0.25, "search page": 0.25}


def prepare(instance: Path, database_url: str, entries: int) -> tuple[str, list[str], list[str]]:
    """The directory and a member's token; returns it and the search URLs (API, page)."""
    import directory  # bench/directory.py: the bulk load and the search mix

    from network.extensions import db
    from network.models.people import User
    from network.services import accounts

    context = app_context(instance, database_url)
    try:
        world = directory.load(entries)
        member = db.session.execute(
            db.select(User).filter_by(email="bench.member@example.org")
        ).scalar_one()
        token = accounts.create_token(member, "bench")[1]
        db.session.commit()
    finally:
        close_app_context(context)
    return (
        token,
        directory.search_urls(world, 500, "/api/v1/contact-points"),
        directory.search_urls(world, 500, "/directory/", seed=8),
    )


async def session_cookie(server: Server) -> str:
    """Sign the member in through the real login form; returns the ``Cookie`` header."""
    import directory

    jar = aiohttp.CookieJar(unsafe=True)  # cookies of an IP address
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{server.url}/login") as answer:
            page = await answer.text()
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if found is None:
            raise SystemExit("no CSRF token on /login")
        form = {
            "email": "bench.member@example.org",
            "password": directory.PASSWORD,
            "csrf_token": found[1],
        }
        async with session.post(f"{server.url}/login", data=form, allow_redirects=False) as answer:
            if answer.status != 302:
                raise SystemExit(f"sign-in failed: {answer.status}")
        return "; ".join(f"{c.key}={c.value}" for c in jar)


@dataclass
class Target:
    name: str
    server: Server
    paths: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    rates: list[float] = field(default_factory=list)
    cuts: list[tuple[float, float, float]] = field(default_factory=list)
    requests: int = 0
    failures: list[str] = field(default_factory=list)


async def closed_loop(
    session: aiohttp.ClientSession, target: Target, seconds: float, concurrency: int
) -> None:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    started = loop.time()
    counter = iter(range(10**9))

    async def worker() -> None:
        while loop.time() - started < seconds:
            path = target.paths[next(counter) % len(target.paths)]
            sent = loop.time()
            async with session.get(target.server.url + path, headers=target.headers) as answer:
                await answer.read()
                if answer.status != 200:
                    target.failures.append(f"{path}: {answer.status}")
            latencies.append(loop.time() - sent)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = loop.time() - started
    target.rates.append(len(latencies) / elapsed)
    target.cuts.append(percentiles_ms(latencies))
    target.requests += len(latencies)


async def measure(targets: list[Target], rounds: int, seconds: float, concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency * len(targets))
    async with aiohttp.ClientSession(connector=connector) as session:
        for target in targets:  # warm-up, not measured: imports, caches, pools
            await closed_loop(session, target, min(1.0, seconds), concurrency)
            target.rates.clear()
            target.cuts.clear()
            target.requests = 0
        for number in range(rounds):
            shift = number % len(targets)
            for target in targets[shift:] + targets[:shift]:
                await closed_loop(session, target, seconds, concurrency)
                p50, p95, _ = target.cuts[-1]
                print(
                    f"  {target.name:<16} {target.rates[-1]:>8,.0f} req/s  "
                    f"p50 {p50:.2f} ms  p95 {p95:.2f} ms",
                    flush=True,
                )


def report(targets: list[Target], rounds: int, concurrency: int) -> list[str]:
    lines = [
        f"{'request':<16} {'server':<14} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'requests':>8} {'failed':>6}"
    ]
    for t in targets:
        cuts = [median([c[i] for c in t.cuts]) for i in range(3)]
        lines.append(
            f"{t.name:<16} {t.server.name:<14} {median(t.rates):>8,.0f} {cuts[0]:>7.2f} "
            f"{cuts[1]:>7.2f} {cuts[2]:>7.2f} {t.requests:>8} {len(t.failures):>6}"
        )
    bare = median(targets[0].rates)
    lines += ["", f"Ratios and aims (medians of {rounds} round(s), {concurrency} in flight):"]
    for t in targets[1:]:
        share, aim = median(t.rates) / bare, AIMS[t.name]
        lines.append(
            f"  {t.name:<16} {share:>4.0%} of the bare route's requests/s "
            f"({median(t.rates):,.0f} / {bare:,.0f})".ljust(72)
            + f"aim >= {aim:.0%}   {verdict(share >= aim)}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of short runs")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each request")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one run")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--entries", type=int, default=3000, help="directory entries")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 2.0
    forget_network_settings()

    with (
        tempfile.TemporaryDirectory(prefix="network-bench-http-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        servers: list[Server] = []
        stack.callback(lambda: [stop(s) for s in servers])
        started = time.perf_counter()
        instance = workdir / "sqlite"
        database_url = f"sqlite:///{instance / 'network.db'}"
        token, search_paths, page_paths = prepare(instance, database_url, args.entries)
        port = free_port()
        command = [sys.executable, str(ROOT / "bench" / "bare_http.py"), "--port", str(port)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        servers.append(start("bare", command, env, workdir / "bare.log", port))
        servers.append(start_platform("app (SQLite)", instance, database_url))
        bare, app = servers
        auth = {"Authorization": f"Bearer {token}"}
        targets = [
            Target("bare route", bare, ["/bare"]),
            Target("API GET /me", app, ["/api/v1/me"], auth),
            Target("faceted search", app, search_paths, auth),
            Target("search page", app, page_paths, {"Cookie": asyncio.run(session_cookie(app))}),
        ]
        print(
            f"Servers up in {time.perf_counter() - started:.1f} s ({args.entries:,} directory "
            f"entries on SQLite); servers on core {SERVER_CORE}, load generator on core "
            f"{LOAD_CORE}; {args.rounds} round(s) of {args.seconds:.1f} s runs, "
            f"{args.concurrency} requests in flight.",
            flush=True,
        )
        pin_load_generator()
        print(f"Before the runs: {load_note()}", flush=True)
        asyncio.run(measure(targets, args.rounds, args.seconds, args.concurrency))
        print(f"After the runs: {load_note()}", flush=True)
        for server in servers:
            stop(server)
    print()
    print("\n".join(report(targets, args.rounds, args.concurrency)))
    failures = [f for t in targets for f in t.failures]
    if failures:
        print(f"\nFAILED: {len(failures)} answer(s) other than 200, e.g. {failures[:3]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
