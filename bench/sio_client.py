"""A minimal Socket.IO client for load generation: Socket.IO v5 over Engine.IO v4, on an
aiohttp websocket, nothing else.

The official python-socketio client runs every event handler through its own machinery
and saturates near 9.5k deliveries/s, below what one eventlet server core can push; a
benchmark needs a client that costs much less than the server it measures. This one
speaks the text frames directly:

    server → "0{...}"          Engine.IO open (sid, ping interval)
    client → "40{auth}"        Socket.IO connect to "/" with the auth object
    server → "40{...}"/"44{…}"  connected / refused
    client → "42<id>[ev,data]"  an event that wants an acknowledgement
    server → "43<id>[ack]"      the acknowledgement
    server → "42[ev,data]"      an event (``message``, ``typing``…)
    server → "2" / client "3"  ping / pong (the server pings in Engine.IO v4)

No polling transport, no binary attachments, no reconnection, one namespace.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

EventHandler = Callable[[str, float], None]


class SocketIOError(Exception):
    """The server refused the connection or closed it."""


class Connection:
    """One Socket.IO connection; events other than acknowledgements go to ``on_event`` as
    the raw frame (``42[...]``) with the loop time it was read at, so the caller decodes
    only what it needs."""

    def __init__(self, session: aiohttp.ClientSession, url: str, on_event: EventHandler) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.on_event = on_event
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_ack = 0
        self._connected: asyncio.Future[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self.closed_reason: str | None = None

    async def connect(self, auth: dict[str, Any] | None = None, timeout: float = 30) -> None:
        ws_url = self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.session.ws_connect(
            ws_url, origin=self.url, autoping=False, max_msg_size=0, compress=0
        )
        first = await asyncio.wait_for(self.ws.receive(), timeout)  # the "0{...}" open packet
        if first.type != aiohttp.WSMsgType.TEXT or not first.data.startswith("0"):
            raise SocketIOError(f"no Engine.IO open packet: {first!r}")
        self._connected = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        await self.ws.send_str("40" + (json.dumps(auth) if auth else ""))
        await asyncio.wait_for(self._connected, timeout)

    async def _read(self) -> None:
        if self.ws is None:
            raise SocketIOError("not connected")
        loop = asyncio.get_running_loop()
        while True:
            message = await self.ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                self._close(f"websocket {message.type.name}")
                return
            data: str = message.data
            kind = data[:2]
            if kind == "42":
                self.on_event(data, loop.time())
            elif kind == "43":
                bracket = data.index("[", 2)
                future = self._acks.pop(int(data[2:bracket]), None)
                if future is not None and not future.done():
                    future.set_result(json.loads(data[bracket:])[0])
            elif data == "2":
                await self.ws.send_str("3")
            elif kind == "40":
                if self._connected is not None and not self._connected.done():
                    self._connected.set_result(None)
            elif kind == "44":
                self._close(f"refused: {data[2:]}")
                return
            elif data.startswith("0"):
                continue
            elif kind == "41" or data == "1":
                self._close("closed by the server")
                return

    def _close(self, reason: str) -> None:
        self.closed_reason = reason
        error = SocketIOError(reason)
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(error)
        for future in self._acks.values():
            if not future.done():
                future.set_exception(error)
        self._acks.clear()

    async def emit(self, event: str, data: Any) -> asyncio.Future[Any]:
        """Send an event that asks for an acknowledgement; returns, once the frame is
        written, the future of the acknowledgement."""
        if self.ws is None:
            raise SocketIOError("not connected")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.closed_reason is not None:
            future.set_exception(SocketIOError(self.closed_reason))
            return future
        self._next_ack += 1
        self._acks[self._next_ack] = future
        frame = f"42{self._next_ack}" + json.dumps([event, data], separators=(",", ":"))
        await self.ws.send_str(frame)
        return future

    async def call(self, event: str, data: Any, timeout: float = 30) -> Any:
        return await asyncio.wait_for(await self.emit(event, data), timeout)

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
