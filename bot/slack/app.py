"""The bolt AsyncApp: built for one workspace (SLACK_BOT_TOKEN) or for installs over
OAuth, with its listeners wired — clicks, modals, `/pulse` and DMs in interactions.py;
here the Home tab, installs, uninstalls, token revocations and the event-id dedupe.
Every listener acknowledges first and works after (see background.py)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import forms
from bot.slack.actors import Actors
from bot.slack.background import AfterAck
from bot.slack.dedupe import EventIds
from bot.slack.home import Home
from bot.slack.install_store import DatabaseStateStore
from bot.slack.interactions import COMMAND, Interactions, team_of, unreadable
from bot.slack.link import SlackLink
from bot.slack.reasons import NOT_INSTALLED, REVOKED, UNINSTALLED
from bot.slack.replies import Replies
from bot.slack.roster import Roster
from bot.slack.sender import UNAUTHORISED_REASON, SlackMessenger
from bot.slack.updates import MessageUpdates
from handlers.context import Services
from handlers.router import Router
from storage.channels import slack as slack_store

log = logging.getLogger(__name__)

# Keep in step with manifests/slack/manifest.yaml.
SCOPES = (
    "chat:write",
    "im:write",
    "im:history",
    "commands",
    "users:read",
    "users:read.email",
    "files:write",  # the digest's chart, uploaded where Slack cannot fetch it by URL
)
EVENTS = ("app_home_opened", "message.im", "app_uninstalled", "tokens_revoked")
# Addresses switched off for these come back once the app works in the workspace again.
INSTALL_REASONS = (UNINSTALLED, REVOKED, UNAUTHORISED_REASON, NOT_INSTALLED)


class _Bolt(AsyncApp):
    """bolt, without its own signature check on the way the HTTP route comes in: the
    route (mount.py) has checked the signature on the raw bytes, and the payload's
    shape, before it builds the request (inbound.py), and calls `dispatch_checked`.

    Any other way in (Socket Mode's handler; anything calling `async_dispatch`) still
    has both checks: bolt's signature check (which lets Socket Mode pass, it has no
    signatures), then the shape check, where a payload bolt's matchers could not read
    (a block_actions without actions) is acknowledged and ignored: bolt itself would
    raise reading it, answer 500, and Slack would send it again."""

    def __init__(self, ignore: Callable[[str], None], **options: Any) -> None:
        super().__init__(**options, request_verification_enabled=False)
        self._ignore = ignore
        self._verify = AsyncRequestVerification(options.get("signing_secret") or "")

    async def dispatch_checked(self, req: AsyncBoltRequest) -> BoltResponse:
        """For a request whose signature and payload were checked already (inbound.py)."""
        return await super().async_dispatch(req)

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        async def checked() -> BoltResponse:
            why = unreadable(req.body)
            if why is None:
                return await self.dispatch_checked(req)
            self._ignore(why)
            return BoltResponse(status=200, body="")

        return await self._verify.async_process(
            req=req, resp=BoltResponse(status=200), next=checked
        )


class _Dedupe(AsyncMiddleware):
    """An event Slack sent again (a retry, maybe to another process) is acknowledged
    and not processed. A class middleware, not a function one: bolt would work out a
    function's keyword arguments on every request, clicks included (~0.1 ms each)."""

    def __init__(self, events: EventIds) -> None:
        self.events = events

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await self.events.first_time(str(event_id)):
            log.info("slack: event %s seen before (a retry): acknowledged, not processed", event_id)
            return BoltResponse(status=200, body="")
        return await next()


class SlackChannel:
    def __init__(
        self,
        link: SlackLink,
        messenger: SlackMessenger,
        router: Router,
        services: Services,
        public_url: str = "",
    ) -> None:
        self.link = link
        self.router = router
        self.roster = Roster(link)
        self.actors = Actors(link.db, self.roster)
        self.home = Home(services)
        self.after = AfterAck()
        self.replies = Replies(link, messenger, self.home, MessageUpdates(self.after))
        self.events = EventIds(link.db)
        self.interactions = Interactions(router, self.actors, self.replies, self.after)
        self.bolt = self._build(public_url)
        self._listen()

    # ------------------------------------------------------------------ setup

    def _build(self, public_url: str) -> _Bolt:
        config, store = self.link.config, self.link.store
        common: dict[str, Any] = {
            "name": "pulsecoach",
            "logger": logging.getLogger("slack_bolt.pulsecoach"),
            # Listeners ack first and hand their work to AfterAck; see background.py.
            "process_before_response": True,
            "signing_secret": config.signing_secret or "",
            "client": self.link.interactive,
        }
        if store is None:
            self.link.interactive.token = config.bot_token
            return _Bolt(self.interactions.ignore, **common)
        authorize = AsyncInstallationStoreAuthorize(
            logger=common["logger"],
            installation_store=store,
            client_id=config.client_id,
            client_secret=config.client_secret,
            bot_only=True,
            cache_enabled=True,  # else every request costs an auth.test call
            client=self.link.interactive,
        )
        redirect = f"{public_url.rstrip('/')}/slack/oauth_redirect" if public_url else None
        oauth = AsyncOAuthSettings(
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=list(SCOPES),
            user_scopes=[],
            redirect_uri=redirect,
            installation_store=store,
            installation_store_bot_only=True,
            state_store=DatabaseStateStore(self.link.db),
            callback_options=AsyncCallbackOptions(success=self._installed, failure=self._failed),
        )
        return _Bolt(self.interactions.ignore, **common, authorize=authorize, oauth_settings=oauth)

    def _listen(self) -> None:
        bolt = self.bolt
        bolt.use(_Dedupe(self.events))
        interactions = self.interactions
        bolt.action(re.compile(".*"))(interactions.on_action)
        bolt.view(forms.CALLBACK)(interactions.on_submit)
        bolt.command(COMMAND)(interactions.on_command)
        bolt.event("message")(interactions.on_message)
        bolt.event("app_home_opened")(self._on_home)
        bolt.event("app_uninstalled")(self._on_uninstalled)
        bolt.event("tokens_revoked")(self._on_revoked)
        # After the real listeners (bolt runs the first that matches): the rest is
        # acknowledged and ignored, where bolt would answer 404 and Slack retry.
        anything = re.compile(".*")
        bolt.view(anything)(interactions.on_ignored)
        bolt.view_closed(anything)(interactions.on_ignored)
        bolt.shortcut(anything)(interactions.on_ignored)
        bolt.event(anything)(interactions.on_ignored)

    # ------------------------------------------------------------------ OAuth

    async def _installed(self, args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        team = installation.team_id or ""
        async with self.link.db.session() as session:
            await slack_store.ensure_workspace(session, team, installation.team_name or team)
            await slack_store.reactivate_team(session, team, INSTALL_REASONS)
        self.actors.forget()
        self.after.spawn(self.roster.sync(team), "roster sync after install", patient=True)
        log.info("slack: installed in team %s", team)
        return await args.default.success(args)

    async def _failed(self, args: AsyncFailureArgs) -> BoltResponse:
        log.warning("slack: an install failed: %s", args.reason)
        return await args.default.failure(args)

    # ------------------------------------------------------------------ events

    async def _on_home(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") == "home":
            self.after.spawn(self._home(team_of(body), event["user"], client), "home tab")

    async def _home(self, team: str, user: str, client: AsyncWebClient) -> None:
        actor = await self.actors.resolve(team, user, client.token)
        await self.home.publish(client, user, actor.person_id if actor else None)
        if actor is not None and client.token:
            await self.roster.refresh(team, actor.person_id, user, client.token)

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        self.after.spawn(
            self._gone(team_of(body), body.get("enterprise_id"), UNINSTALLED), "uninstall"
        )

    async def _on_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        tokens = event.get("tokens") or {}
        team, enterprise = team_of(body), body.get("enterprise_id")
        if tokens.get("bot"):
            self.after.spawn(self._gone(team, enterprise, REVOKED), "bot token revoked")
        store = self.link.store
        for user in tokens.get("oauth") or []:
            if store is not None:
                self.after.spawn(
                    store.async_delete_installation(
                        enterprise_id=enterprise, team_id=team, user_id=user
                    ),
                    "user token revoked",
                )

    async def _gone(self, team: str, enterprise: str | None, reason: str) -> None:
        """Tokens deleted, every address in the workspace inactive until a reinstall."""
        if self.link.store is not None:
            await self.link.store.async_delete_all(enterprise_id=enterprise, team_id=team)
        async with self.link.db.session() as session:
            count = await slack_store.deactivate_team(session, team, reason)
        self.actors.forget()
        log.warning("slack: %s in team %s: %d addresses inactive", reason, team, count)
