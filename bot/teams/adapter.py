"""botbuilder's CloudAdapter as pulsecoach configures it: JWT validation of every
incoming activity when MICROSOFT_APP_ID is set; none at all in dev mode
(`PULSECOACH_TEAMS=dev`, no app id: for the Bot Framework Emulator or a stand-in).

Outgoing calls go through the real Bot Connector client (botframework-connector).
Two things botbuilder does by default are turned off here: a new MSAL app (and so a
token request) for every connector client, i.e. for every proactive message
(credentials are kept per app id and scope), and msrest's own retries of a POST that
answered 5xx, which would repeat sends behind the outbox's back and outside the pace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConfiguration, ServiceClientCredentialsFactory
from botframework.connector.auth import AuthenticationConstants as Constants
from msrest.authentication import Authentication

from bot.settings import Settings

log = logging.getLogger(__name__)

CONNECTOR_KEY = "ConnectorClient"  # BotAdapter.BOT_CONNECTOR_CLIENT_KEY: a turn's connector


@dataclass(frozen=True)
class TeamsAuth:
    """What the adapter is built from. `openid_metadata_url` and `credentials` replace
    Microsoft's endpoints (the stand-in's in tests; None in production)."""

    app_id: str
    password: str
    tenant_id: str
    app_type: str
    dev: bool
    openid_metadata_url: str | None = None
    credentials: ServiceClientCredentialsFactory | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TeamsAuth:
        password = settings.microsoft_app_password
        return cls(
            app_id=settings.microsoft_app_id or "",
            password=password.get_secret_value() if password else "",
            tenant_id=settings.microsoft_app_tenant_id or "",
            app_type=settings.microsoft_app_type or "MultiTenant",
            dev=settings.teams_dev,
        )

    @property
    def validates(self) -> bool:
        return bool(self.app_id)


class _Configuration:
    """The attribute bag ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, auth: TeamsAuth) -> None:
        self.APP_ID = auth.app_id
        self.APP_PASSWORD = auth.password
        self.APP_TENANTID = auth.tenant_id
        self.APP_TYPE = auth.app_type
        if auth.openid_metadata_url:
            # botbuilder then takes every endpoint from here: the public cloud's, but
            # for the OpenID metadata (where the channel's signing keys are listed).
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = auth.openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = Constants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = Constants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = Constants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                Constants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            )
            self.OAUTH_URL = Constants.OAUTH_URL
            self.CALLER_ID = CallerIdConstants.public_azure_channel


class _KeptCredentials(ServiceClientCredentialsFactory):
    """One credentials object (so one MSAL token cache) per app id, scope and login
    endpoint, instead of a new one for every connector client."""

    def __init__(self, inner: ServiceClientCredentialsFactory) -> None:
        self.inner = inner
        self._kept: dict[tuple[str, str, str, bool], Authentication] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self.inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self.inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        key = (app_id or "", oauth_scope or "", login_endpoint or "", validate_authority)
        found = self._kept.get(key)
        if found is None:
            found = await self.inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            self._kept[key] = found
        return found


def build_adapter(auth: TeamsAuth) -> CloudAdapter:
    configuration = _Configuration(auth)
    credentials = auth.credentials or ConfigurationServiceClientCredentialFactory(configuration)
    authentication = ConfigurationBotFrameworkAuthentication(
        configuration,
        credentials_factory=_KeptCredentials(credentials),
        auth_configuration=AuthenticationConfiguration(),
    )
    adapter = CloudAdapter(authentication)
    adapter.on_turn_error = None  # our turn logic handles its own errors
    return adapter


def no_retries(context: TurnContext) -> None:
    """The turn's connector client sends each call once: the outbox and the pacer
    decide about another try."""
    client: Any = context.turn_state.get(CONNECTOR_KEY)
    if client is not None:
        client.config.retry_policy.retries = 0
