"""How the Slack stand-in misbehaves when told to, and the gate every Web API call
passes before it is handled: OAuth and Socket Mode opening (no bot token needed), the
token check, per-workspace limits per method over a sliding minute and
chat.postMessage's per channel (429 with Retry-After; `strict()` sets Slack's tiers),
queued faults (429, 5xx, an error, with or without the call taking effect) and random
failures."""

from __future__ import annotations

import math
import time
from typing import Any

from tests.support.slack.methods import WebApiMethods
from tests.support.slack.oauth import OAuth
from tests.support.slack.state import Fault


class Faults(OAuth, WebApiMethods):
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

    def _limited(
        self, method: str, team: str, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """429 with Retry-After when the call is over its method's limit in this
        workspace (a sliding minute) or, for a post, its channel's (one per
        `channel_seconds`); else the call counts against both and None."""
        now = time.monotonic()
        wait = 0.0
        channel = ""
        if method == "chat.postMessage" and self.channel_seconds:
            channel = str(args.get("channel", ""))
            channel = f"D{channel}" if channel.startswith("U") else channel
            last = self._channel_posts.get((team, channel))
            if last is not None and now - last < self.channel_seconds:
                wait = last + self.channel_seconds - now
        window = self._windows[(team, method)] if method in self.limits else None
        if window is not None:
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= self.limits[method]:
                wait = max(wait, window[0] + 60 - now)
        if wait > 0:
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return 429, {"ok": False, "error": "ratelimited"}, headers
        if window is not None:
            window.append(now)
        if channel:
            self._channel_posts[(team, channel)] = now
        return None

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
        if (limited := self._limited(method, team, args)) is not None:
            return limited
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
