"""A second server started on a port that a running server holds fails at once and says
why, instead of silently sharing the port (eventlet's listener turns SO_REUSEPORT on by
default: the kernel would then hand each connection to either process, a stale one with
old code included)."""

from __future__ import annotations

import os
import subprocess
import urllib.parse

from tests.realtime_server.conftest import WAIT_SECONDS, LiveServer
from tests.server_process import launch


def test_a_second_server_on_a_busy_port_refuses_to_start(live_server: LiveServer, tmp_path):
    port = urllib.parse.urlsplit(live_server.url).port
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETWORK_")}
    env["NETWORK_INSTANCE_PATH"] = str(tmp_path)
    env["PYTHONUNBUFFERED"] = "1"
    log = tmp_path / "second.log"
    second = launch(env, port, log)
    try:
        code = second.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        second.kill()
        second.wait()
        raise AssertionError(f"the second server kept running:\n{log.read_text()}") from None
    assert code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in log.read_text()
    # The first one still answers.
    assert live_server.api("sender", "/me")["email"] == "contact.senegal@example.org"
