"""The bare stack that ``bench/messaging.py`` compares the platform against: Flask-SocketIO
on eventlet, one process, a room broadcast per message; no database, no authentication,
no rendering, no encryption. Its listener has Nagle's algorithm off, as the platform's
server has (``network.server``), so the two differ only in what a message costs.

It speaks the platform's events (API.md) so that one load generator drives both: ``join``
puts the connection in the channel's room; ``send`` emits a ``message`` event of the same
shape and about the same size as the platform's to that room, then acknowledges. Run as
``python bench/bare_socketio.py --port N`` (the benchmark starts it, pinned to a core).

With ``--redis URL --channel NAME`` it is one of several processes joined by
Flask-SocketIO's stock Redis ``message_queue`` (python-socketio's ``RedisManager``), the
bare counterpart of the platform's processes behind Redis.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402 - monkey-patching comes before everything else

eventlet.monkey_patch()

import argparse  # noqa: E402
import itertools  # noqa: E402
import socket  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import eventlet.wsgi  # noqa: E402
from flask import Flask  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

app = Flask(__name__)
socketio = SocketIO()  # set up in __main__ (with or without Redis)
numbers = itertools.count(1)


@socketio.on("join")
def join(data: dict[str, Any]) -> dict[str, Any]:
    join_room(f"channel:{data['channel_id']}")
    return {"ok": True, "channel_id": data["channel_id"], "last_seq": 0, "messages": []}


@socketio.on("send")
def send(data: dict[str, Any]) -> dict[str, Any]:
    number = next(numbers)
    channel_id = data["channel_id"]
    payload = {
        "channel_id": channel_id,
        "id": number,
        "seq": number,
        "client_id": data["client_id"],
        "parent_id": None,
        "parent": None,
        "reply_count": 0,
        "author": {"id": 1, "name": "Bench Member 0001"},
        "html": f"<p>{data['body']}</p>\n",
        "created_at": datetime.now(UTC).isoformat(),
        "edited_at": None,
        "deleted": False,
        "attachments": [],
    }
    socketio.emit("message", payload, to=f"channel:{channel_id}")
    return {"ok": True, "id": number, "seq": number, "created": True}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", help="Redis URL of the message queue (several processes)")
    parser.add_argument("--channel", default="flask-socketio", help="its Redis channel")
    args = parser.parse_args()
    socketio.init_app(
        app,
        async_mode="eventlet",
        manage_session=False,
        message_queue=args.redis,
        channel=args.channel,
    )
    # As the platform's server does (network.server): socketio.run's eventlet server on a
    # listener with Nagle's algorithm off, inherited by every accepted socket.
    listener = eventlet.listen((args.host, args.port))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, log_output=False)
