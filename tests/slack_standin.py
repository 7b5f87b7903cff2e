"""A local stand-in of the Slack Web API (and of response URLs) on an ephemeral loopback
port, for tests and benchmarks: point `SLACK_API_URL` at `standin.api_url`.

It records every call, keeps each DM's messages (with their metadata) and the files
uploaded to them (files.getUploadURLExternal, the upload to the URL it gives, which is
on the stand-in too and recorded as method "upload", then files.completeUploadExternal),
and can be told to misbehave: answer 429 with Retry-After, answer 5xx (with or without having posted
the message), answer an error such as `user_not_found`, fail a share of calls at
random, or enforce a per-workspace limit per method over a sliding minute.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

TEAM = "T0PULSE"
BOT_TOKEN = "xoxb-standin-bot-token"


@dataclass
class Call:
    method: str
    team: str | None
    args: dict[str, Any]
    status: int
    error: str | None
    at: float


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    posted: bool = False  # the call took effect although it failed (an ambiguous 5xx)
    count: int = 1


@dataclass
class Team:
    id: str
    name: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)


class SlackStandIn:
    def __init__(self, seed: int = 7) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies posted to response URLs
        self.teams: dict[str, Team] = {}
        self.tokens: dict[str, str] = {}  # token -> team id
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel -> msgs
        self.views: dict[str, dict[str, Any]] = {}  # user -> published Home view
        self.opened: list[dict[str, Any]] = []  # views.open payloads
        self.files: dict[str, dict[str, Any]] = {}  # file id -> name, length, bytes
        self.shared: list[dict[str, Any]] = []  # completed uploads: file, channel, thread
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.random_failures: dict[str, tuple[float, int]] = {}
        self.random_posted: dict[str, float] = {}  # method -> share that posted first
        self.limits: dict[str, int] = {}  # method -> calls per minute per team
        self._windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> team
        self.token_lifetime = 43200
        self.delay = 0.0
        self.respond_delay = 0.0  # seconds a response_url takes to answer
        # method -> how many answers to cut off mid-JSON (after the call took effect)
        self.unreadable: dict[str, int] = defaultdict(int)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_replies: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
        self._ts = 0.0
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.add_team(TEAM, "Acme", BOT_TOKEN)

    # ------------------------------------------------------------------ set-up

    def add_team(self, team_id: str, name: str, token: str) -> Team:
        team = self.teams.setdefault(team_id, Team(team_id, name))
        self.tokens[token] = team_id
        return team

    def add_user(
        self,
        user_id: str,
        email: str | None = None,
        tz: str = "Europe/Berlin",
        team: str = TEAM,
        deleted: bool = False,
    ) -> None:
        self.teams[team].users[user_id] = {
            "id": user_id,
            "team_id": team,
            "deleted": deleted,
            "tz": tz,
            "profile": {"email": email} if email else {},
        }

    def fail(self, method: str, **fault: Any) -> None:
        """The next call(s) of `method` fail this way (see Fault)."""
        self.faults[method].append(Fault(**fault))

    def fail_randomly(self, method: str, share: float, status: int = 500) -> None:
        self.random_failures[method] = (share, status)

    def post_before_failing(self, method: str, share: float) -> None:
        """Of the calls `fail_randomly` fails, this share took effect first (an
        ambiguous 5xx: the message was posted, the answer says it was not)."""
        self.random_posted[method] = share

    def limit(self, method: str, per_minute: int) -> None:
        self.limits[method] = per_minute

    def add_oauth_code(self, code: str, team_id: str, name: str, rotating: bool = False) -> None:
        self.oauth_codes[code] = {"team": team_id, "name": name, "rotating": rotating}

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

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal hands out (files.slack.com in Slack):
        the raw bytes, answered in plain text; `fail("upload", status=…)` refuses it."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        pending = self.files.get(file_id)
        status, body = 200, f"OK - {len(data)}"
        if self.faults["upload"]:
            fault = self.faults["upload"][0]
            fault.count -= 1
            if fault.count <= 0:
                self.faults["upload"].popleft()
            status, body = fault.status if fault.status != 200 else 500, "upload failed"
        elif pending is None:
            status, body = 404, "no such upload"
        else:
            pending["data"] = data
        args = {"file_id": file_id, "size": len(data)}
        team = pending["team"] if pending else None
        error = None if status == 200 else body
        self.calls.append(Call("upload", team, args, status, error, time.monotonic()))
        return web.Response(text=body, status=status, content_type="text/plain")

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
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.unreadable[method] > 0:
            self.unreadable[method] -= 1
            return web.Response(text='{"ok": tr', status=status, content_type="application/json")
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self, method: str, team: str | None, token: str | None, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "oauth.v2.access":
            if self.faults[method]:  # one call each; fails before any code or token is used
                fault = self.faults[method].popleft()
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                status = 429 if fault.retry_after else fault.status
                return status, {"ok": False, "error": fault.error or "internal_error"}, headers
            return 200, self._oauth(args), {}
        if method == "apps.connections.open" and (token or "").startswith("xapp-"):
            return 200, {"ok": True, "url": self.url.replace("http", "ws") + "/socket"}, {}
        if team is None:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method in self.limits:
            window = self._windows[(team, method)]
            now = time.monotonic()
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= self.limits[method]:
                wait = max(1, math.ceil(window[0] + 60 - now))
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
            window.append(now)
        if self.faults[method]:
            fault = self.faults[method][0]
            fault.count -= 1
            if fault.count <= 0:
                self.faults[method].popleft()
            if fault.posted:
                self._handle(method, team, args)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            status = 429 if fault.retry_after else fault.status
            return status, {"ok": False, "error": fault.error or "internal_error"}, headers
        if method in self.random_failures:
            share, status = self.random_failures[method]
            if self._rng.random() < share:
                if method in self.random_posted and (
                    self._rng.random() < self.random_posted[method]
                ):
                    self._handle(method, team, args)
                return status, {"ok": False, "error": "internal_error"}, {}
        return 200, self._handle(method, team, args), {}

    # ------------------------------------------------------------------ methods

    def _next_ts(self) -> str:
        """Real epoch time, as Slack's ts, strictly increasing."""
        self._ts = max(time.time(), self._ts + 0.000001)
        return f"{self._ts:.6f}"

    def _user(self, team: str, user: str) -> dict[str, Any] | None:
        users = self.teams[team].users
        if not users:  # no roster given: everyone exists
            return {
                "id": user,
                "team_id": team,
                "deleted": False,
                "tz": "Europe/Berlin",
                "profile": {},
            }
        return users.get(user)

    def _handle(self, method: str, team: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": team,
                "team": self.teams[team].name,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "url": "https://acme.slack.test/",
            }
        if method == "chat.postMessage":
            channel = str(args["channel"])
            if channel.startswith("U"):
                found = self._user(team, channel)
                if found is None:
                    return {"ok": False, "error": "channel_not_found"}
                if found["deleted"]:
                    return {"ok": False, "error": "user_disabled"}
                channel = f"D{channel}"
            message = {
                "ts": self._next_ts(),
                "text": args.get("text"),
                "blocks": args.get("blocks"),
                "metadata": args.get("metadata"),
                "bot_id": "BBOT",
            }
            self.messages[channel].append(message)
            return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}
        if method == "chat.update":
            for message in self.messages.get(str(args["channel"]), []):
                if message["ts"] == args["ts"]:
                    message.update(text=args.get("text"), blocks=args.get("blocks"))
                    return {"ok": True, "channel": args["channel"], "ts": args["ts"]}
            return {"ok": False, "error": "message_not_found"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "views.publish":
            self.views[str(args["user_id"])] = args["view"]
            return {"ok": True, "view": {**args["view"], "id": "VHOME"}}
        if method in ("views.open", "views.push"):
            if not args.get("trigger_id"):
                return {"ok": False, "error": "invalid_trigger_id"}
            self.opened.append(args["view"])
            return {"ok": True, "view": {**args["view"], "id": f"V{len(self.opened)}"}}
        if method == "views.update":
            return {"ok": True, "view": args.get("view")}
        if method == "users.info":
            found = self._user(team, str(args.get("user")))
            return (
                {"ok": True, "user": found} if found else {"ok": False, "error": "user_not_found"}
            )
        if method == "users.lookupByEmail":
            for user in self.teams[team].users.values():
                if user["profile"].get("email", "").lower() == str(args["email"]).lower():
                    return {"ok": True, "user": user}
            return {"ok": False, "error": "users_not_found"}
        if method == "files.getUploadURLExternal":
            if not args.get("filename") or not str(args.get("length") or "").isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{len(self.files) + 1:06d}"
            self.files[file_id] = {
                "id": file_id,
                "team": team,
                "filename": args["filename"],
                "length": int(args["length"]),
                "alt_txt": args.get("alt_txt"),
                "data": None,
            }
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            listed = json.loads(args.get("files") or "[]")
            known = [self.files.get(str(f.get("id"))) for f in listed]
            if not listed or any(f is None or f["data"] is None for f in known):
                return {"ok": False, "error": "file_not_found"}
            shared = []
            for entry, found in zip(listed, known, strict=True):
                assert found is not None
                share = {
                    "file_id": found["id"],
                    "filename": found["filename"],
                    "alt_txt": found["alt_txt"],
                    "data": found["data"],
                    "title": entry.get("title"),
                    "channel_id": args.get("channel_id"),
                    "thread_ts": args.get("thread_ts"),
                    "initial_comment": args.get("initial_comment"),
                }
                self.shared.append(share)
                shared.append(
                    {"id": found["id"], "title": entry.get("title"), "name": found["filename"]}
                )
            return {"ok": True, "files": shared}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args['users']}"}}
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            found = [
                m for m in self.messages.get(str(args["channel"]), []) if float(m["ts"]) >= oldest
            ]
            return {"ok": True, "messages": list(reversed(found)), "has_more": False}
        return {"ok": False, "error": "unknown_method"}

    def _oauth(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("grant_type") == "refresh_token":
            team = self.refresh_tokens.pop(str(args.get("refresh_token")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return self._grant(team, rotating=True)
        code = self.oauth_codes.pop(str(args.get("code")), None)
        if code is None:
            return {"ok": False, "error": "invalid_code"}
        self.add_team(code["team"], code["name"], f"xoxb-unused-{code['team']}")
        return {
            **self._grant(code["team"], rotating=code["rotating"]),
            "app_id": "A0PULSE",
            "bot_user_id": "UBOT",
            "scope": "chat:write,im:write,im:history,commands,users:read,users:read.email,"
            "files:write",
            "team": {"id": code["team"], "name": code["name"]},
            "enterprise": None,
            "authed_user": {"id": "UINSTALLER"},
            "is_enterprise_install": False,
        }

    def _grant(self, team: str, rotating: bool) -> dict[str, Any]:
        token = f"xoxb-{team}-{self._rng.getrandbits(48):012x}"
        self.tokens[token] = team
        grant: dict[str, Any] = {"ok": True, "access_token": token, "token_type": "bot"}
        if rotating:
            refresh = f"xoxe-{self._rng.getrandbits(48):012x}"
            self.refresh_tokens[refresh] = team
            grant.update(refresh_token=refresh, expires_in=self.token_lifetime)
        return grant
