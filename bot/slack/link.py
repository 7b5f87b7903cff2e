"""The connection to Slack that the sender, the bolt app and the roster share: its
configuration, one HTTP session, the installation store, bot tokens (rotated when they
near expiry) and the pacer."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import SLACK_POSTS_PER_MINUTE, Settings
from bot.slack.crypto import Sealer
from bot.slack.install_store import DatabaseInstallationStore
from bot.slack.pacing import Pacer
from bot.slack.responses import slack_error_code
from storage.core.db import Database

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
JSON = {"Content-Type": "application/json; charset=utf-8"}
POSTS_PER_MINUTE = SLACK_POSTS_PER_MINUTE  # chat.postMessage per workspace
HEADROOM = 0.99  # pace a little under the limit: arrival jitter must not cross it
TIER_2 = 20.0  # users.list
TIER_3 = 50.0  # chat.update, conversations.open, conversations.history
TIER_4 = 100.0  # users.info, auth.test, files.getUploadURLExternal, files.completeUploadExternal
CHANNEL_SECONDS = 1.0  # chat.postMessage: about one a second in any one channel
# oauth.v2.access's definitive "no" to a token refresh: asking again cannot help, the
# workspace must reinstall (or the app's credentials be fixed). Anything else (5xx,
# 429, an unreadable answer, a timeout) is Slack's passing trouble.
REFRESH_REFUSED = frozenset(
    {
        "invalid_refresh_token",
        "invalid_grant_type",
        "invalid_client",
        "invalid_client_id",
        "bad_client_secret",
        "token_revoked",
        "token_expired",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "no_permission",
        "team_access_not_granted",
        "org_login_required",
        "ekm_access_denied",
    }
)


def refresh_refused(error: SlackApiError) -> bool:
    """A token refresh Slack refused for good (see REFRESH_REFUSED)."""
    return slack_error_code(error) in REFRESH_REFUSED


@dataclass(frozen=True)
class SlackConfig:
    api_url: str
    bot_token: str | None
    signing_secret: str | None
    app_token: str | None
    client_id: str | None
    client_secret: str | None
    secret_key: str | None
    posts_per_minute: float = POSTS_PER_MINUTE
    timeout: int = 15

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackConfig:
        def secret(value: object) -> str | None:
            return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]

        url = settings.slack_api_url or DEFAULT_API_URL
        return cls(
            api_url=url if url.endswith("/") else url + "/",
            bot_token=secret(settings.slack_bot_token),
            signing_secret=secret(settings.slack_signing_secret),
            app_token=secret(settings.slack_app_token),
            client_id=settings.slack_client_id,
            client_secret=secret(settings.slack_client_secret),
            secret_key=secret(settings.secret_key),
            posts_per_minute=settings.slack_posts_per_minute,
        )

    @property
    def oauth(self) -> bool:
        """Multi-workspace: tokens come from installations in our database."""
        return bool(self.client_id and self.client_secret)


class SlackLink:
    def __init__(self, config: SlackConfig, db: Database) -> None:
        self.config = config
        self.db = db
        self.store: DatabaseInstallationStore | None = None
        if not config.oauth and not config.bot_token:
            # Else every send would fail as "not installed" and switch people off.
            raise ValueError(
                "Slack needs SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET (installs over OAuth)"
            )
        if config.oauth:
            if not config.secret_key:
                raise ValueError(
                    "PULSECOACH_SECRET_KEY is required with SLACK_CLIENT_ID: "
                    "Slack tokens are stored encrypted with a key derived from it"
                )
            self.store = DatabaseInstallationStore(
                db, Sealer(config.secret_key), client_id=config.client_id or ""
            )
        # Every method we call is paced by its own tier, per workspace: a 429 on one
        # (say conversations.open, while checking an uncertain post) then never holds
        # back the others, and none of them gets a 429 in the first place.
        self.pacer = Pacer(
            {
                "chat.postMessage": config.posts_per_minute * HEADROOM,
                "users.list": TIER_2 * HEADROOM,
                "chat.update": TIER_3 * HEADROOM,
                "conversations.open": TIER_3 * HEADROOM,
                "conversations.history": TIER_3 * HEADROOM,
                "users.info": TIER_4 * HEADROOM,
                "auth.test": TIER_4 * HEADROOM,
                # A digest's chart, uploaded after its post where Slack cannot fetch it.
                "files.getUploadURLExternal": TIER_4 * HEADROOM,
                "files.completeUploadExternal": TIER_4 * HEADROOM,
            },
            per_channel={"chat.postMessage": CHANNEL_SECONDS},
        )
        # Named in every send's User-Agent: which process (and link) made a call.
        self.agent = f"pulsecoach/{os.getpid()}.{uuid.uuid4().hex[:6]}"
        self._session: aiohttp.ClientSession | None = None
        self._sender: AsyncWebClient | None = None
        self._rotation_locks: dict[str, asyncio.Lock] = {}
        # Deliberately no retries on the sending client: a retried post can double a
        # message; the sender decides what to retry, and looks before it posts again.
        self.interactive = AsyncWebClient(
            base_url=config.api_url,
            timeout=config.timeout,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            ],
        )

    @property
    def session(self) -> aiohttp.ClientSession:
        """One pooled HTTP session, made inside the running event loop on first use."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout)
            )
            self.interactive.session = self._session
        return self._session

    @property
    def sender(self) -> AsyncWebClient:
        if self._sender is None:
            self._sender = AsyncWebClient(
                base_url=self.config.api_url,
                user_agent_prefix=self.agent,
                timeout=self.config.timeout,
                session=self.session,
                retry_handlers=[],
            )
        self._sender.session = self.session
        return self._sender

    async def respond(self, url: str, body: dict[str, Any]) -> tuple[int, str]:
        """POST to a `response_url` (updates of the clicked message, ephemeral notices):
        status and body. Plain aiohttp on the pooled session, one retry when the
        connection broke: this runs after every click, and slack_sdk's webhook client
        costs more than the post itself. orjson: a pulse message is ~10 KB of JSON, which
        the standard library takes ~0.14 ms to encode."""
        data = orjson.dumps(body)
        for attempt in (1, 2):
            try:
                async with self.session.post(url, data=data, headers=JSON) as response:
                    return response.status, await response.text()
            except aiohttp.ClientConnectionError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def bot_token(self, team_id: str) -> str | None:
        """The workspace's bot token; refreshed first when token rotation says so."""
        if self.store is None:
            return self.config.bot_token
        bot = await self.store.bot_for_team(team_id)
        if bot is None or not bot.bot_refresh_token:
            return bot.bot_token if bot else None
        lock = self._rotation_locks.setdefault(team_id, asyncio.Lock())
        async with lock:  # one refresh at a time: a refresh token is good for one use
            # From the database: an earlier holder of the lock (or another process) may
            # have refreshed already, and the cached refresh token is then used up.
            bot = await self.store.bot_for_team(team_id, fresh=True)
            if bot is None:
                return None
            rotator = AsyncTokenRotator(
                client_id=self.config.client_id or "",
                client_secret=self.config.client_secret or "",
                client=self.sender,
            )
            try:
                fresh = await rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=120
                )
            except SlackTokenRotationError as error:
                # Refused because another process used this refresh token first? Then
                # its new token is in the database by now (it saves as soon as it has it).
                stored = await self.store.bot_for_team(team_id, fresh=True)
                if (
                    refresh_refused(error.api_error)
                    and stored is not None
                    and stored.bot_refresh_token != bot.bot_refresh_token
                ):
                    return str(stored.bot_token)
                raise
            if fresh is not None:
                await self.store.async_save_bot(fresh)
                log.info("rotated the bot token of Slack team %s", team_id)
                return str(fresh.bot_token)
            return str(bot.bot_token)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
