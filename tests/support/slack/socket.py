"""Socket Mode on the Slack stand-in: the WebSocket apps.connections.open points an
app token at, which says hello, carries the envelopes a test pushes and records acks."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.support.slack.state import StandInState


class SocketMode(StandInState):
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: hello, then envelopes pushed by the test; acks are recorded."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        async for frame in socket:
            if frame.type == 1:  # text
                self.socket_replies.append(json.loads(frame.data))
        return socket

    async def push(self, envelope: dict[str, Any]) -> None:
        await self.sockets[-1].send_json(envelope)
