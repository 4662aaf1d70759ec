"""Running the real server (what ``network serve`` runs) as a subprocess for the browser
and the real-server Socket.IO tests: a free loopback port, readiness, and stopping."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

STARTUP_SECONDS = 30
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[Any], log: Path) -> None:
    """Poll ``/healthz`` until it answers 200; fail with the server's log if the process
    exits or does not answer within ``STARTUP_SECONDS``."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            error.close()  # a 503 while it starts: it holds the answer's socket
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling interval of a bounded readiness loop, not a timing guess
    pytest.fail(f"no answer on /healthz within {STARTUP_SECONDS} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate the server, killing it if it does not stop within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def launch(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start exactly what ``network serve`` runs (eventlet) on ``port``, output to ``log``."""
    from network.server import BOOTSTRAP

    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", BOOTSTRAP, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
