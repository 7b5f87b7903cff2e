"""A local OpenAI-compatible stand-in: `POST /v1/chat/completions` on an ephemeral
loopback port, answering from a script and recording every request body.

    async with llm_standin() as llm:
        llm.push(ok({"themes": [], "risks": [], "focus_questions": ["a?", "b?", "c?"]}))
        ... OpenAISummarizer(model="stand-in", base_url=llm.base_url) ...
        assert len(llm.requests) == 1

Answers: `ok(payload)` (200, the payload as the message content), `raw(text)` (200,
any content), `status(code, retry_after=None, headers=None)` (an error), `hang()`
(never answers until the stand-in stops). With the script empty it answers `ok(GOOD)`.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.llm.summarizer import OpenAISummarizer

GOOD: dict[str, Any] = {
    "themes": ["Decisions are made outside the meeting", "Workload is high before launches"],
    "risks": ["Challenger safety is low: dissent may go underground"],
    "focus_questions": [
        "Where do decisions really get made in this team?",
        "What would make it easier to disagree in the room?",
        "How can the team protect time before launches?",
    ],
}


@dataclass(frozen=True)
class Answer:
    kind: str  # ok | status | hang
    content: str = ""
    code: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def ok(payload: dict[str, Any]) -> Answer:
    return Answer("ok", json.dumps(payload))


def raw(content: str) -> Answer:
    return Answer("ok", content)


def status(
    code: int, retry_after: str | None = None, headers: dict[str, str] | None = None
) -> Answer:
    """An error answer; `retry_after` sets Retry-After, `headers` any others (e.g.
    retry-after-ms)."""
    sent = {"Retry-After": retry_after} if retry_after is not None else {}
    return Answer("status", code=code, headers=sent | (headers or {}))


def hang() -> Answer:
    return Answer("hang")


class LLMStandIn:
    def __init__(self) -> None:
        self.script: deque[Answer] = deque()
        self.requests: list[dict[str, Any]] = []
        self.base_url = ""
        self._stop = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def push(self, *answers: Answer) -> None:
        self.script.extend(answers)

    def bodies(self) -> str:
        """Every request body as one text, for "was X ever sent?" checks."""
        return "\n".join(json.dumps(body, ensure_ascii=False) for body in self.requests)

    async def _completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        answer = self.script.popleft() if self.script else ok(GOOD)
        if answer.kind == "hang":
            await self._stop.wait()
            raise web.HTTPServiceUnavailable()
        if answer.kind == "status":
            error = {"error": {"message": "scripted error", "type": "server_error"}}
            return web.json_response(error, status=answer.code, headers=answer.headers)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "stand-in"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/v1"

    async def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            await self._runner.cleanup()


@asynccontextmanager
async def llm_standin() -> AsyncIterator[LLMStandIn]:
    standin = LLMStandIn()
    await standin.start()
    try:
        yield standin
    finally:
        await standin.stop()


def summarizer(llm: LLMStandIn, **options: Any) -> OpenAISummarizer:
    defaults: dict[str, Any] = {"timeout": 2.0, "attempts": 3, "total_seconds": 6.0}
    defaults["initial_wait"] = 0.05
    return OpenAISummarizer(model="stand-in-1", base_url=llm.base_url, **(defaults | options))
