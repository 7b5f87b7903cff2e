"""Clicks, modal submissions, `/pulse` and DMs: each acknowledged at once, turned into
a neutral event for the router after the ack, and its Reply carried out where the
person acted (see replies.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.events import (
    ActionEvent,
    Actor,
    FieldErrors,
    Refused,
    Reply,
    TextEvent,
    UnknownAction,
)
from bot.slack import forms
from bot.slack.actors import Actors
from bot.slack.background import AfterAck
from bot.slack.inbound import problem
from bot.slack.render import neutral_action, ref_of_block
from bot.slack.replies import Replies, Surface
from handlers.router import Router
from prompts.texts import text as say

log = logging.getLogger(__name__)

COMMAND = "/pulse"
SUBMIT_DEADLINE = 2.0  # a view submission waits this long for errors to show in the modal
IGNORED_KINDS = 256  # kinds of ignored payload remembered (each logged once); then quiet


class Interactions:
    def __init__(self, router: Router, actors: Actors, replies: Replies, after: AfterAck) -> None:
        self.router = router
        self.actors = actors
        self.replies = replies
        self.after = after
        self._unknown_actions: set[str] = set()
        self._ignored: set[str] = set()

    async def _react(self, event: ActionEvent | TextEvent) -> Reply | None:
        """The router's reply; a refusal becomes a notice."""
        try:
            if isinstance(event, ActionEvent):
                return await self.router.on_action(event)
            return await self.router.on_text(event)
        except FieldErrors as wrong:  # the form again, each error beside its field
            return Reply(update=wrong.form)
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

    async def on_ignored(self, ack: Any, body: dict[str, Any]) -> None:
        """What pulsecoach has no use for (a closed modal, a shortcut, an event it did
        not subscribe to, another app's modal): acknowledged, else Slack retries or
        shows an error, and logged once per kind."""
        await ack()
        self.ignore(kind_of(body))

    def ignore(self, kind: str, why: str = "nothing here handles it") -> None:
        if kind not in self._ignored and len(self._ignored) < IGNORED_KINDS:
            self._ignored.add(kind)
            log.info("slack: ignoring %s: %s", kind, why)

    async def on_action(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        self.after.spawn(self._action(body, client, time.monotonic()), "block action")

    async def _action(self, body: dict[str, Any], client: AsyncWebClient, at: float) -> None:
        action = body["actions"][0]
        team, user = team_of(body), body["user"]["id"]
        container = body.get("container") or {}  # inbound.py checked their types
        view_type = (body.get("view") or {}).get("type")
        channel = body.get("channel")  # an object here, a string in events
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
            channel=channel.get("id") if isinstance(channel, dict) else None,
            trigger_id=body.get("trigger_id"),
            replace=kind == "message",
            at=at,
        )
        neutral = neutral_action(str(action.get("action_id", "")))
        if neutral == forms.OPEN:
            try:
                form = forms.Form.decode(str(action.get("value") or ""))
            except ValueError:
                self.ignore("block_actions pc.form", "malformed: its value is not a form")
                return
            await self.replies.open_opener(form, surface)
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

    async def on_submit(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        metadata = forms.metadata_of(view)
        if metadata is None:
            await ack()
            self.ignore("view_submission pc.form", "malformed: private_metadata")
            return
        team, user = team_of(body), body["user"]["id"]
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
        if isinstance(error, FieldErrors):  # every one at once, beside its field
            known = {b.get("block_id") for b in view.get("blocks") or []}
            beside = {f"in|{k}": v[:150] for k, v in error.errors.items() if f"in|{k}" in known}
            if beside:
                await ack(response_action="errors", errors=beside)
                return
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

    async def on_command(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
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

    async def on_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        self.after.spawn(self._dm(team_of(body), event, client), "direct message")

    async def _dm(self, team: str, event: dict[str, Any], client: AsyncWebClient) -> None:
        user = str(event.get("user", ""))
        actor = await self.actors.resolve(team, user, client.token)
        if actor is None:
            return
        surface = Surface(team=team, user=user, kind="dm", client=client, channel=event["channel"])
        reply = await self._react(TextEvent(actor, str(event.get("text") or "")))
        if reply is not None:
            await self.replies.apply(reply, surface, actor.person_id)


def unreadable(body: dict[str, Any]) -> str | None:
    """Why bolt's matchers or our listeners could not read this payload (they would
    raise: a 500 and Slack's retries), or None. Only Slack can send it: it is signed.
    The HTTP route checks before bolt parses; Socket Mode payloads are checked here."""
    return problem(body)


def kind_of(body: dict[str, Any]) -> str:
    """A payload's kind, for logging: its type and callback id or event type."""
    kind = f"{body.get('type') or 'unknown'!s:.40}"
    event, view = body.get("event"), body.get("view")
    if kind == "event_callback":
        return f"event {event.get('type') if isinstance(event, dict) else None!s:.40}"
    callback = body.get("callback_id") or (
        view.get("callback_id") if isinstance(view, dict) else None
    )
    return f"{kind} {callback!s:.40}" if callback else kind


def team_of(body: dict[str, Any]) -> str:
    """The workspace of a payload, wherever this kind of payload keeps it."""
    team, user = body.get("team"), body.get("user")
    if isinstance(team, dict):
        team = team.get("id")
    found = body.get("team_id") or team
    if not found and isinstance(user, dict):
        found = user.get("team_id")
    return str(found or "")
