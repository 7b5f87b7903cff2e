"""A local stand-in of the Bot Connector service (the activity's `serviceUrl`) on an
ephemeral loopback port, for tests and benchmarks: the real botframework-connector
client posts our cards to it, and it records them.

It keeps each conversation's activities (posts, replies, updates in place), answers
member lookups from a roster, serves OpenID metadata and signing keys for JWT tests
(`token()` signs one like the Bot Framework would), and can be told to misbehave: a
share of sends answered 429 (with Retry-After) or 502 (nothing posted; or another
status, such as 412 or 504), a share of posts taken and then answered 502 (the answer
lost: a retry doubles them), and 403 for conversations the bot is no longer in.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

TENANT = "tenant-0001"
BOT_ID = "28:pulsecoach-bot"
ISSUER = "https://api.botframework.com"


@dataclass
class Sent:
    conversation: str
    activity: dict[str, Any]
    id: str
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def current(self) -> dict[str, Any]:
        return self.updates[-1] if self.updates else self.activity

    @property
    def card(self) -> dict[str, Any] | None:
        attachments = self.current.get("attachments") or []
        return attachments[0]["content"] if attachments else None


@dataclass
class Faults:
    throttle: float = 0.0  # share of sends answered 429
    bad_gateway: float = 0.0  # share answered 502 (or `gateway_status`), nothing posted
    gateway_status: int = 502
    taken_then_502: float = 0.0  # share of posts recorded, then answered 502
    retry_after: float = 0.05  # 0: a 429 without Retry-After
    forbidden: set[str] = field(default_factory=set)  # conversation ids: 403
    seed: int = 7


class ConnectorStandIn:
    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.random = random.Random(self.faults.seed)
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, str, int]] = []  # (method, path, status)
        self.members: dict[str, dict[str, Any]] = {}  # user id -> TeamsChannelAccount JSON
        self.authorizations: list[str] = []
        self.taken_then_lost = 0  # posts recorded whose answer was a 502
        self._ids = itertools.count(1)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread()
        self.url = ""

    # ------------------------------------------------------------------ reading

    def to(self, conversation: str) -> list[Sent]:
        return [s for s in self.sent if s.conversation == conversation]

    def cards_to(self, conversation: str) -> list[dict[str, Any]]:
        return [s.card for s in self.to(conversation) if s.card is not None]

    def texts_to(self, conversation: str) -> list[str]:
        return [str(s.current.get("text")) for s in self.to(conversation) if s.current.get("text")]

    def status_count(self, status: int) -> int:
        return sum(1 for _, _, s in self.calls if s == status)

    # ------------------------------------------------------------------ tokens

    def token(self, app_id: str, service_url: str, key: Any = None, **claims: Any) -> str:
        """A Bot Framework channel token for `app_id`, signed by this stand-in's key
        (or by `key`: a forgery)."""
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 10,
            "exp": now + 600,
            **claims,
        }
        signer = key or self._key
        return jwt.encode(payload, signer, algorithm="RS256", headers={"kid": "standin"})

    # ------------------------------------------------------------------ handlers

    def _fault(self, conversation: str) -> web.Response | None:
        if conversation in self.faults.forbidden:
            return web.json_response(
                {"error": {"code": "BotNotInConversationRoster", "message": "not in roster"}},
                status=403,
            )
        roll = self.random.random()
        if roll < self.faults.throttle:
            after = self.faults.retry_after
            headers = {"Retry-After": str(after)} if after else {}
            return web.json_response({"error": {"code": "Throttled"}}, status=429, headers=headers)
        if roll < self.faults.throttle + self.faults.bad_gateway:
            status = self.faults.gateway_status
            if status == 502:  # a gateway's page, not the Connector's JSON
                return web.Response(status=502, text="bad gateway")
            return web.json_response({"error": {"code": f"Status{status}"}}, status=status)
        return None

    async def _post(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        self.authorizations.append(request.headers.get("Authorization", ""))
        fault = self._fault(conversation)
        if fault is not None:
            self.calls.append(("POST", request.path, fault.status))
            return fault
        activity = await request.json()
        sent = Sent(conversation, activity, f"act-{next(self._ids)}")
        self.sent.append(sent)
        if self.random.random() < self.faults.taken_then_502:  # posted; the answer lost
            self.taken_then_lost += 1
            self.calls.append(("POST", request.path, 502))
            return web.Response(status=502, text="bad gateway")
        self.calls.append(("POST", request.path, 200))
        return web.json_response({"id": sent.id})

    async def _put(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        activity_id = request.match_info["activity"]
        fault = self._fault(conversation)
        if fault is not None:
            self.calls.append(("PUT", request.path, fault.status))
            return fault
        found = next(
            (s for s in self.sent if s.id == activity_id and s.conversation == conversation), None
        )
        if found is None:
            self.calls.append(("PUT", request.path, 404))
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        found.updates.append(await request.json())
        self.calls.append(("PUT", request.path, 200))
        return web.json_response({"id": activity_id})

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["user"])
        self.calls.append(("GET", request.path, 200 if member else 404))
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(member)

    async def _openid(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk |= {"kid": "standin", "use": "sig", "endorsements": ["msteams", "emulator"]}
        return web.json_response({"keys": [jwk]})

    # ------------------------------------------------------------------ server

    async def start(self) -> ConnectorStandIn:
        """Serve from a thread of its own: botbuilder fetches the OpenID metadata with
        blocking `requests` calls, which a server on the caller's loop could not answer."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        await asyncio.get_running_loop().run_in_executor(None, ready.wait, 10)
        return self

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._start())
        ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
        app.router.add_get("/v3/conversations/{conversation}/members/{user}", self._member)
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    @property
    def openid_url(self) -> str:
        return f"{self.url}/openid"

    async def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        runner, loop = self._runner, self._loop
        done = asyncio.run_coroutine_threadsafe(runner.cleanup(), loop)
        await asyncio.wrap_future(done)
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 10)
        loop.close()
