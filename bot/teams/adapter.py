"""botbuilder's CloudAdapter as pulsecoach configures it: JWT validation of every
incoming activity when MICROSOFT_APP_ID is set; none at all in dev mode
(`PULSECOACH_TEAMS=dev`, no app id: for the Bot Framework Emulator or a stand-in).

Outgoing calls go through the real Bot Connector client (botframework-connector).
Three things botbuilder does by default are turned off here: a new connector client
(a new HTTP session and connection) for every turn and every proactive message, a new
MSAL app (and so a token request) with each (credentials are kept per app id and
scope), and msrest's own retries of a POST that answered 5xx, which would repeat sends
behind the outbox's back and outside the pace.
"""

from __future__ import annotations

import json
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
from botframework.connector.auth import (
    AuthenticationConfiguration,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
)
from botframework.connector.auth import AuthenticationConstants as Constants
from msrest import Serializer
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


class _JsonSerializer(Serializer):
    """msrest walks a card (an "object" attribute) value by value with checks at every
    step: ~15 ms for a 9 KB card, more than the rest of a send. A card is plain JSON
    already; it is copied as such, the same result at a hundredth of the cost."""

    def serialize_object(self, attr: Any, **kwargs: Any) -> Any:
        if type(attr) in (dict, list):
            try:
                return json.loads(json.dumps(attr))
            except (TypeError, ValueError):
                pass  # something else inside: msrest's own way
        return super().serialize_object(attr, **kwargs)


def _fast(client: Any) -> Any:
    serializer = _JsonSerializer(client._serialize.dependencies)
    client._serialize = client.conversations._serialize = serializer
    return client


class _KeptConnectors(ConnectorFactory):
    """Connector clients kept per app id, service URL and audience: botbuilder makes a
    new one (a new HTTP session, so a new connection) for every turn and every
    proactive message; a fan-out to thousands would spend its time opening them."""

    def __init__(self, inner: ConnectorFactory, kept: dict[tuple[str, str, str], Any], app: str):
        self.inner = inner
        self.kept = kept
        self.app = app

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self.app, service_url, audience or "")
        client = self.kept.get(key)
        if client is None:
            client = _fast(await self.inner.create(service_url, audience))
            if len(self.kept) > 1000:  # service URLs are a few per region: never many
                self.kept.clear()
            self.kept[key] = client
        return client


class _Authentication(ConfigurationBotFrameworkAuthentication):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connectors: dict[tuple[str, str, str], Any] = {}

    def _kept(self, factory: ConnectorFactory, claims: ClaimsIdentity | None) -> ConnectorFactory:
        app = ""
        if claims is not None:
            app = str(claims.get_claim_value(Constants.AUDIENCE_CLAIM) or "")
        return _KeptConnectors(factory, self._connectors, app)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._kept(super().create_connector_factory(claims_identity), claims_identity)

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._kept(result.connector_factory, result.claims_identity)
        return result


def build_adapter(auth: TeamsAuth) -> CloudAdapter:
    configuration = _Configuration(auth)
    credentials = auth.credentials or ConfigurationServiceClientCredentialFactory(configuration)
    authentication = _Authentication(
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
