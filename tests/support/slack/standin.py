"""A local stand-in of the Slack Web API (and of response URLs) on an ephemeral loopback
port, for tests and benchmarks: point `SLACK_API_URL` at `standin.api_url`.

It records every call, keeps each DM's messages (with their metadata) and the files
uploaded to them (files.getUploadURLExternal, the upload to the URL it gives, which is
on the stand-in too and recorded as method "upload", then files.completeUploadExternal),
and can be told to misbehave: answer 429 with Retry-After, answer 5xx (with or without having posted
the message), answer an error such as `user_not_found`, fail a share of calls at
random, or enforce a per-workspace limit per method over a sliding minute.

This module is the entry (`SlackStandIn`, `TEAM`, `BOT_TOKEN`): reading what was
recorded, and the server. The parts are mixins of their own modules: the faults and the
gate every call passes (slack_standin_faults.py), the Web API methods' answers
(slack_standin_methods.py), the roster (slack_standin_users.py), file uploads
(slack_standin_files.py), OAuth (slack_standin_oauth.py), Socket Mode
(slack_standin_socket.py); its state and what it records, slack_standin_state.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from tests.support.slack.faults import Faults
from tests.support.slack.socket import SocketMode
from tests.support.slack.state import BOT_TOKEN, TEAM, Call

__all__ = ["BOT_TOKEN", "TEAM", "SlackStandIn"]


class SlackStandIn(Faults, SocketMode):
    """`await SlackStandIn().start()`, point the app at `api_url`, then read what it
    recorded (`calls`, `of`, `dm`, `responses`, `shared`, ...); `stop()` at the end."""

    # ------------------------------------------------------------------ reading

    def of(self, method: str, ok: bool | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (ok is None or (c.status == 200 and not c.error) == ok)
        ]

    def dm(self, user: str) -> list[dict[str, Any]]:
        return self.messages.get(f"D{user}", [])

    # ------------------------------------------------------------------ server

    async def start(self) -> SlackStandIn:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str = "r") -> str:
        return f"{self.url}/respond/{key}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json(loads=orjson.loads)  # cheap: benches post thousands
        if self.respond_delay:
            await asyncio.sleep(self.respond_delay)
        body["_key"] = request.match_info["key"]
        self.responses.append(body)
        return web.Response(text="ok", content_type="text/plain")

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(dict(parse_qsl(raw.decode())))
        return args

    def _token(self, request: web.Request, args: dict[str, Any]) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header.removeprefix("Bearer ")
        return args.pop("token", None)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        token = self._token(request, args)
        team = self.tokens.get(token or "")
        status, body, headers = self._answer(method, team, token, args)
        self.calls.append(
            Call(
                method,
                team,
                args,
                status,
                body.get("error") if not body.get("ok") else None,
                time.monotonic(),
                request.headers.get("User-Agent", ""),
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.unreadable[method] > 0:
            self.unreadable[method] -= 1
            return web.Response(text='{"ok": tr', status=status, content_type="application/json")
        return web.json_response(body, status=status, headers=headers)
