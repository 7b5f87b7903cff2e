"""What the Slack stand-in (tests/slack_standin.py) holds: its default workspace and bot
token, the calls it records, the faults it is told to answer with, its workspaces, and
`StandInState`, all of its state in one place, set up in one `__init__`.

Each part of the stand-in (faults, Web API methods, users, files, OAuth, Socket Mode)
is a mixin on `StandInState` in a module of its own, so each names the state it uses."""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.slack.tiers import CHANNEL_SECONDS, POSTS_PER_MINUTE, TIERS

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
    agent: str = ""  # the caller's User-Agent: which process made the call


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


class StandInState:
    """What the stand-in holds, set up empty (but for one workspace and its bot token)."""

    def __init__(self, seed: int = 7, strict: bool = False) -> None:
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
        self.channel_seconds: float | None = None  # chat.postMessage: 1 per channel per …
        self._windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._channel_posts: dict[tuple[str, str], float] = {}  # (team, channel) -> last
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
        if strict:
            self.strict()

    def strict(self, posts_per_minute: int = POSTS_PER_MINUTE, scale: float = 1.0) -> None:
        """Enforce Slack's documented limits (tiers.py): every method's tier per
        workspace, chat.postMessage per workspace and per channel. `scale` multiplies
        the tiers (a scaled-down test runs `scale` times faster than Slack allows)."""
        self.limits.update({method: int(n * scale) for method, n in TIERS.items()})
        self.limits["chat.postMessage"] = posts_per_minute
        self.channel_seconds = CHANNEL_SECONDS

    def add_team(self, team_id: str, name: str, token: str) -> Team:
        team = self.teams.setdefault(team_id, Team(team_id, name))
        self.tokens[token] = team_id
        return team
