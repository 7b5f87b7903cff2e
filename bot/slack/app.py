"""The bolt AsyncApp and its listeners: clicks, modal submissions, `/pulse`, the Home
tab, DMs, uninstalls and token revocations — all turned into neutral events for the
router, acknowledged first and worked on after (see background.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.events import ActionEvent, Actor, Refused, Reply, TextEvent, UnknownAction
from bot.slack import forms
from bot.slack.actors import Actors
from bot.slack.background import AfterAck
from bot.slack.dedupe import EventIds
from bot.slack.home import Home
from bot.slack.install_store import DatabaseStateStore
from bot.slack.link import SlackLink
from bot.slack.render import neutral_action, ref_of_block
from bot.slack.replies import Replies, Surface
from bot.slack.roster import Roster
from bot.slack.sender import UNAUTHORISED_REASON, SlackMessenger
from handlers.context import Services
from handlers.router import Router
from prompts.texts import text as say
from storage import slack_store

log = logging.getLogger(__name__)

# Keep in step with manifests/slack/manifest.yaml.
SCOPES = ("chat:write", "im:write", "im:history", "commands", "users:read", "users:read.email")
COMMAND = "/pulse"
EVENTS = ("app_home_opened", "message.im", "app_uninstalled", "tokens_revoked")
UNINSTALLED = "slack app uninstalled"
REVOKED = "slack tokens revoked"
SUBMIT_DEADLINE = 2.0  # a view submission waits this long for errors to show in the modal


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
        self.replies = Replies(link, messenger, self.home)
        self.after = AfterAck()
        self.events = EventIds(link.db)
        self._unknown_actions: set[str] = set()
        self.bolt = self._build(public_url)
        self._listen()

    # ------------------------------------------------------------------ setup

    def _build(self, public_url: str) -> AsyncApp:
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
            return AsyncApp(**common)
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
        return AsyncApp(**common, authorize=authorize, oauth_settings=oauth)  # type: ignore[arg-type]

    def _listen(self) -> None:
        bolt = self.bolt
        bolt.middleware(self._dedupe)
        bolt.action(re.compile(".*"))(self._on_action)
        bolt.view(forms.CALLBACK)(self._on_submit)
        bolt.command(COMMAND)(self._on_command)
        bolt.event("app_home_opened")(self._on_home)
        bolt.event("message")(self._on_message)
        bolt.event("app_uninstalled")(self._on_uninstalled)
        bolt.event("tokens_revoked")(self._on_revoked)

    async def _dedupe(self, body: dict[str, Any], next: Any) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await self.events.first_time(str(event_id)):
            log.info("slack: event %s seen before (a retry): acknowledged, not processed", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    # ------------------------------------------------------------------ OAuth

    async def _installed(self, args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        team = installation.team_id or ""
        async with self.link.db.session() as session:
            await slack_store.ensure_workspace(session, team, installation.team_name or team)
            await slack_store.reactivate_team(
                session, team, (UNINSTALLED, REVOKED, UNAUTHORISED_REASON)
            )
        self.actors.forget()
        self.after.spawn(self.roster.sync(team), "roster sync after install")
        log.info("slack: installed in team %s", team)
        return await args.default.success(args)

    async def _failed(self, args: AsyncFailureArgs) -> BoltResponse:
        log.warning("slack: an install failed: %s", args.reason)
        return await args.default.failure(args)

    # ------------------------------------------------------------------ interactions

    async def _react(self, event: ActionEvent | TextEvent) -> Reply | None:
        """The router's reply; a refusal becomes a notice."""
        try:
            if isinstance(event, ActionEvent):
                return await self.router.on_action(event)
            return await self.router.on_text(event)
        except Refused as refused:
            return Reply(notice=str(refused))
        except UnknownAction:
            return None

    def _known(self, action_id: str) -> bool:
        if self.router.knows_action(action_id):
            return True
        if action_id not in self._unknown_actions:
            self._unknown_actions.add(action_id)
            log.info("slack: ignoring unknown action id %r", action_id)
        return False

    async def _on_action(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        self.after.spawn(self._action(body, client, time.monotonic()), "block action")

    async def _action(self, body: dict[str, Any], client: AsyncWebClient, at: float) -> None:
        action = body["actions"][0]
        team, user = _team(body), body["user"]["id"]
        container = body.get("container") or {}
        view_type = (body.get("view") or {}).get("type")
        kind = (
            "message"
            if container.get("type") == "message"
            else "home"
            if view_type == "home"
            else "other"
        )
        surface = Surface(
            team=team,
            user=user,
            kind=kind,
            client=client,
            response_url=body.get("response_url"),
            channel=(body.get("channel") or {}).get("id"),
            trigger_id=body.get("trigger_id"),
            replace=kind == "message",
            at=at,
        )
        neutral = neutral_action(str(action.get("action_id", "")))
        if neutral == forms.OPEN:
            await self.replies.open_opener(forms.Form.decode(action.get("value", "")), surface)
            return
        if not self._known(neutral):
            return
        actor = await self.actors.resolve(team, user, client.token)
        if actor is None:
            return
        event = ActionEvent(
            actor=actor,
            action_id=neutral,
            value=str(action.get("value", "")),
            message_ref=ref_of_block(action.get("block_id")),
            inputs=forms.inputs_of(body.get("state")),
        )
        reply = await self._react(event)
        if reply is not None:
            await self.replies.apply(reply, surface, actor.person_id)

    async def _on_submit(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        team, user = _team(body), body["user"]["id"]
        neutral = str(metadata.get("a", ""))
        if not self._known(neutral):
            await ack()
            return
        inputs = forms.inputs_of(view.get("state"))
        surface = Surface.of_modal(team, user, client, metadata)

        async def attempt() -> tuple[Actor | None, Reply]:
            actor = await self.actors.resolve(team, user, client.token)
            if actor is None:
                return None, Reply()
            event = ActionEvent(actor, neutral, str(metadata.get("v", "")), None, inputs)
            return actor, await self.router.on_action(event)

        work = asyncio.ensure_future(attempt())
        done, _ = await asyncio.wait({work}, timeout=SUBMIT_DEADLINE)
        if not done:  # slow: close the modal now, answer when the work is done
            await ack()
            self.after.spawn(self._finish(work, surface), "slow view submission")
            return
        error = work.exception()
        if isinstance(error, Refused):
            block = forms.error_block(view.get("blocks") or [], str(error))
            await ack(response_action="errors", errors={block: str(error)[:150]})
            return
        await ack()
        if error is not None:
            log.error("slack: a view submission failed", exc_info=error)
            await self.replies.notice(say("slack.notice.failed"), surface)
            return
        actor, reply = work.result()
        if actor is not None:
            self.after.spawn(self.replies.apply(reply, surface, actor.person_id), "view submission")

    async def _finish(self, work: asyncio.Future[Any], surface: Surface) -> None:
        try:
            actor, reply = await work
        except Refused as refused:
            await self.replies.notice(str(refused), surface)
            return
        if actor is not None:
            await self.replies.apply(reply, surface, actor.person_id)

    async def _on_command(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        self.after.spawn(self._command(body, client, time.monotonic()), "slash command")

    async def _command(self, body: dict[str, Any], client: AsyncWebClient, at: float) -> None:
        team, user = str(body.get("team_id", "")), str(body.get("user_id", ""))
        surface = Surface(
            team=team,
            user=user,
            kind="command",
            client=client,
            response_url=body.get("response_url"),
            channel=body.get("channel_id"),
            trigger_id=body.get("trigger_id"),
            at=at,
        )
        actor = await self.actors.resolve(team, user, client.token)
        if actor is None:
            await self.replies.notice(say("slack.notice.unknown_user"), surface)
            return
        reply = await self._react(TextEvent(actor, f"{COMMAND} {body.get('text') or ''}"))
        if reply is not None:
            await self.replies.apply(reply, surface, actor.person_id)

    # ------------------------------------------------------------------ events

    async def _on_home(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") == "home":
            self.after.spawn(self._home(_team(body), event["user"], client), "home tab")

    async def _home(self, team: str, user: str, client: AsyncWebClient) -> None:
        actor = await self.actors.resolve(team, user, client.token)
        await self.home.publish(client, user, actor.person_id if actor else None)
        if actor is not None and client.token:
            await self.roster.refresh(team, actor.person_id, user, client.token)

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        self.after.spawn(self._dm(_team(body), event, client), "direct message")

    async def _dm(self, team: str, event: dict[str, Any], client: AsyncWebClient) -> None:
        user = str(event.get("user", ""))
        actor = await self.actors.resolve(team, user, client.token)
        if actor is None:
            return
        surface = Surface(team=team, user=user, kind="dm", client=client, channel=event["channel"])
        reply = await self._react(TextEvent(actor, str(event.get("text") or "")))
        if reply is not None:
            await self.replies.apply(reply, surface, actor.person_id)

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        self.after.spawn(
            self._gone(_team(body), body.get("enterprise_id"), UNINSTALLED), "uninstall"
        )

    async def _on_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        tokens = event.get("tokens") or {}
        team, enterprise = _team(body), body.get("enterprise_id")
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


def _team(body: dict[str, Any]) -> str:
    """The workspace of a payload, wherever this kind of payload keeps it."""
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    return str(team or (body.get("user") or {}).get("team_id") or "")
