"""The bare stack that ``bench/http_api.py`` compares the platform's HTTP API against: a
Flask route returning a small JSON document, served by the same eventlet WSGI server as
the platform (``network.server``: monkey-patched, Nagle's algorithm off), one process; no
database, no authentication, no session, no policy.

Run as ``python bench/bare_http.py --port N`` (the benchmark starts it, pinned to a core).
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402 - monkey-patching comes before everything else

eventlet.monkey_patch()

import argparse  # noqa: E402
import socket  # noqa: E402
from typing import Any  # noqa: E402

import eventlet.wsgi  # noqa: E402
from flask import Flask, jsonify  # noqa: E402

app = Flask(__name__)


@app.get("/bare")
def bare() -> Any:
    # About the shape of GET /api/v1/me.
    return jsonify(
        {
            "id": 1,
            "email": "bench.member@example.org",
            "name": "Bench Member",
            "is_admin": False,
            "locale": "en",
            "timezone": "UTC",
            "memberships": [{"network": "wacap", "role": "contact_point"}],
        }
    )


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    listener = eventlet.listen((args.host, args.port))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, log_output=False)
