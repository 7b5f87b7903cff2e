"""Slack installations in pulsecoach's own database, tokens sealed with Fernet.

Also the OAuth state store, so several processes can share an install flow. Finds are
cached for a short time: bolt looks the bot up on every request, and the ack path must
stay fast; saves and deletes in this process drop the cache at once.
"""

from __future__ import annotations

import logging
import secrets as random_secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.slack.crypto import Sealer
from storage.channels import slack as slack_store
from storage.channels.slack_models import SlackBot, SlackInstallation
from storage.core.db import Database

log = logging.getLogger(__name__)

BOT_SECRETS = ("bot_token", "bot_refresh_token")
USER_SECRETS = ("user_token", "user_refresh_token", "incoming_webhook_url")
INSTALLATION_DETAILS = (
    "app_id",
    "enterprise_name",
    "enterprise_url",
    "team_name",
    "bot_id",
    "bot_user_id",
    "bot_scopes",
    "bot_token_expires_at",
    "user_scopes",
    "user_token_expires_at",
    "incoming_webhook_channel",
    "incoming_webhook_channel_id",
    "incoming_webhook_configuration_url",
    "token_type",
)
BOT_DETAILS = (
    "app_id",
    "enterprise_name",
    "team_name",
    "bot_id",
    "bot_user_id",
    "bot_scopes",
    "bot_token_expires_at",
)


def _key(value: str | None) -> str:
    return value or ""


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(
        self, db: Database, sealer: Sealer, client_id: str = "", cache_seconds: float = 30.0
    ) -> None:
        self.db = db
        self.sealer = sealer
        self.client_id = client_id
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    # ---------------------------------------------------------------- saves

    async def async_save(self, installation: Installation) -> None:
        enterprise = _key(installation.enterprise_id)
        team = "" if installation.is_enterprise_install else _key(installation.team_id)
        row = SlackInstallation(
            client_id=self.client_id,
            enterprise_id=enterprise,
            team_id=team,
            user_id=_key(installation.user_id),
            is_enterprise_install=bool(installation.is_enterprise_install),
            details={name: getattr(installation, name) for name in INSTALLATION_DETAILS},
            secrets=self.sealer.seal(
                {name: getattr(installation, name) for name in BOT_SECRETS + USER_SECRETS}
            ),
            installed_at=_when(installation.installed_at),
        )
        async with self.db.session() as session:
            await slack_store.upsert_installation(session, row)
        self._cache.clear()
        if installation.bot_token:
            await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        row = SlackBot(
            client_id=self.client_id,
            enterprise_id=_key(bot.enterprise_id),
            team_id="" if bot.is_enterprise_install else _key(bot.team_id),
            is_enterprise_install=bool(bot.is_enterprise_install),
            details={name: getattr(bot, name) for name in BOT_DETAILS},
            secrets=self.sealer.seal({name: getattr(bot, name) for name in BOT_SECRETS}),
            installed_at=_when(bot.installed_at),
        )
        async with self.db.session() as session:
            await slack_store.upsert_bot(session, row)
        self._cache.clear()

    # ---------------------------------------------------------------- finds

    def _cached(self, key: tuple[str, ...]) -> tuple[bool, Any]:
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def _remember(self, key: tuple[str, ...], value: Any) -> Any:
        self._cache[key] = (time.monotonic() + self.cache_seconds, value)
        return value

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        team = "" if is_enterprise_install else _key(team_id)
        key = ("bot", _key(enterprise_id), team)
        hit, value = self._cached(key)
        if hit:
            return value
        async with self.db.session() as session:
            row = await slack_store.find_bot(session, self.client_id, _key(enterprise_id), team)
        return self._remember(key, self._bot(row) if row else None)

    async def bot_for_team(self, team_id: str, fresh: bool = False) -> Bot | None:
        """The bot of a workspace, for sending outside a Slack request. `fresh` reads
        the database, not the cache: before a token refresh, another process may have
        used up the refresh token we remember."""
        key = ("team-bot", team_id)
        hit, value = self._cached(key)
        if hit and not fresh:
            return value
        async with self.db.session() as session:
            row = await slack_store.bot_for_team(session, self.client_id, team_id)
        return self._remember(key, self._bot(row) if row else None)

    def _bot(self, row: SlackBot) -> Bot:
        return Bot(
            enterprise_id=row.enterprise_id or None,
            team_id=row.team_id or None,
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
            **row.details,
            **self.sealer.open(row.secrets),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team = "" if is_enterprise_install else _key(team_id)
        key = ("installation", _key(enterprise_id), team, user_id or "\0latest")
        hit, value = self._cached(key)
        if hit:
            return value
        async with self.db.session() as session:
            row = await slack_store.find_installation(
                session, self.client_id, _key(enterprise_id), team, user_id
            )
        if row is None:
            return self._remember(key, None)
        installation = Installation(
            enterprise_id=row.enterprise_id or None,
            team_id=row.team_id or None,
            user_id=row.user_id,
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
            **row.details,
            **self.sealer.open(row.secrets),
        )
        return self._remember(key, installation)

    # ---------------------------------------------------------------- deletes

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        async with self.db.session() as session:
            await slack_store.delete_bot(
                session, self.client_id, _key(enterprise_id), _key(team_id)
            )
        self._cache.clear()

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        async with self.db.session() as session:
            await slack_store.delete_installations(
                session, self.client_id, _key(enterprise_id), _key(team_id), user_id
            )
        self._cache.clear()

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    # ---------------------------------------------------------------- key rotation

    async def reseal_all(self) -> int:
        """Re-encrypt every stored token under the newest key; returns rows rewritten."""
        async with self.db.session() as session:
            rows = await slack_store.all_sealed(session)
            for row in rows:
                row.secrets = self.sealer.reseal(row.secrets)
                session.add(row)
        self._cache.clear()
        return len(rows)


class DatabaseStateStore(AsyncOAuthStateStore):
    """OAuth `state` values in the database: issued once, consumed once, expiring."""

    def __init__(self, db: Database, expiration_seconds: int = 600) -> None:
        self.db = db
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = random_secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(seconds=self.expiration_seconds)
        async with self.db.session() as session:
            await slack_store.add_state(session, state, expires)
        return state

    async def async_consume(self, state: str) -> bool:
        async with self.db.session() as session:
            return await slack_store.consume_state(session, state, datetime.now(UTC))
