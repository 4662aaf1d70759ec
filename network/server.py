"""The production server: eventlet with psycopg2 made cooperative.

``network serve`` starts a fresh interpreter that monkey-patches before anything else is
imported (``BOOTSTRAP``), then calls ``main``. The application itself knows nothing of
eventlet.
"""

from __future__ import annotations

import argparse
import logging

BOOTSTRAP = (
    "import warnings; warnings.filterwarnings('ignore', message=r'\\s*Eventlet is deprecated'); "
    "import eventlet; eventlet.monkey_patch(); "
    "from network.server import main; main()"
)
log = logging.getLogger("network.server")


def main() -> None:
    """Serve on eventlet; call only from ``BOOTSTRAP`` (after monkey-patching)."""
    from psycogreen.eventlet import patch_psycopg

    # psycopg2 waits on the eventlet hub instead of blocking the OS thread.
    patch_psycopg()

    from network import create_app
    from network.extensions import socketio

    parser = argparse.ArgumentParser(description="Serve the platform with eventlet.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app = create_app({"SOCKETIO_ASYNC_MODE": "eventlet"})
    log.info("serving on http://%s:%d", args.host, args.port)
    socketio.run(app, host=args.host, port=args.port, log_output=False)
