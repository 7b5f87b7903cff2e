"""Carrying out a neutral Reply where the person acted: a message, the Home tab, a modal,
the slash command, or a DM.

- update: the clicked message is replaced through its `response_url` (not chat.update:
  response URLs carry no Web API rate limit, and 10,000 people answering seven items
  each would exhaust chat.update's ~50 per minute), one at a time per message and
  newest only (updates.py); from the Home tab, the person's DM copy of that message
  is updated (chat.update, queued the same way, waiting on its pacer without an
  after-ack slot) and the Home tab published again.
- notice: an ephemeral message where they clicked or typed; on the Home tab, a banner.
- messages: after a slash command, ephemeral; from the Home tab, a modal while the
  click's trigger is fresh; otherwise new messages in the person's DM. A message that
  asks for text opens as a modal straight away.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.events import Reply
from bot.core.messages import Form as PrivateForm
from bot.core.messages import Message
from bot.core.messenger import PermanentDeliveryError, TemporaryDeliveryError
from bot.slack import forms
from bot.slack.blockkit import MODAL_BUTTON, MODAL_TITLE, escape, plain
from bot.slack.commands import slack_form
from bot.slack.home import Home
from bot.slack.link import SlackLink
from bot.slack.render import form_modal, private_form_modal, render_message, render_surface
from bot.slack.responses import slack_error_code
from bot.slack.sender import SlackMessenger
from bot.slack.updates import MessageUpdates
from prompts.texts import text as say

log = logging.getLogger(__name__)

TRIGGER_SECONDS = 2.5  # a trigger_id lives 3 s after the click; keep a margin
SOFT_ERRORS = (SlackApiError, TimeoutError, aiohttp.ClientError)


@dataclass
class Surface:
    """Where the person acted, and the means Slack gave us to answer there."""

    team: str
    user: str
    kind: str  # "message" | "home" | "command" | "dm" | "other"
    client: AsyncWebClient
    response_url: str | None = None
    channel: str | None = None
    trigger_id: str | None = None
    replace: bool = False  # an update replaces the message at response_url
    at: float = field(default_factory=time.monotonic)

    @property
    def trigger_fresh(self) -> bool:
        return bool(self.trigger_id) and time.monotonic() - self.at < TRIGGER_SECONDS

    def metadata(self, action_id: str, value: str, replace: bool) -> dict[str, Any]:
        """What a modal must remember to answer where it was opened."""
        return {
            "a": action_id,
            "v": value,
            "k": self.kind,
            "r": self.response_url,
            "x": int(replace),
            "ch": self.channel,
        }

    @classmethod
    def of_modal(
        cls, team: str, user: str, client: AsyncWebClient, metadata: dict[str, Any]
    ) -> Surface:
        return cls(
            team=team,
            user=user,
            kind=str(metadata.get("k") or "other"),
            client=client,
            response_url=metadata.get("r"),
            channel=metadata.get("ch"),
            replace=bool(metadata.get("x")),
        )


class Replies:
    def __init__(
        self, link: SlackLink, messenger: SlackMessenger, home: Home, updates: MessageUpdates
    ) -> None:
        self.link = link
        self.messenger = messenger
        self.home = home
        self.updates = updates

    async def apply(self, reply: Reply, surface: Surface, person_id: int) -> None:
        if reply.form is not None:
            await self.open_private(reply.form, surface)
        messages = list(reply.messages)
        form = next((m for m in messages if forms.form_of(m) is not None), None)
        if form is not None and surface.trigger_fresh and await self.open_form(form, surface):
            messages.remove(form)
        queued = None
        if reply.update is not None:
            queued = await self._update(reply.update, surface, person_id)
        banner = None
        if reply.notice and queued is not None:  # after the update it comes with
            url, note = surface.response_url, reply.notice
            self.updates.submit(queued, lambda: self._ephemeral(url, note), droppable=False)
        elif reply.notice:
            banner = await self.notice(reply.notice, surface)
        for message in messages:
            await self._message(message, surface, person_id)
        if surface.kind == "home":
            await self.home.publish(surface.client, surface.user, person_id, banner)

    async def open_form(self, message: Message, surface: Surface, replace: bool = False) -> bool:
        """A message asking for text, as a modal; False when Slack would not open it."""
        form = forms.form_of(message)
        if form is None:
            return False
        view = form_modal(message, surface.metadata(form.action_id, form.value, replace))
        return view is not None and await self._open(surface, view)

    async def open_private(self, form: PrivateForm, surface: Surface) -> None:
        """A private form as a modal; its submission updates the message it came from.
        Slack gives 3 s to open one: when the trigger went stale, the person is asked
        to press the button again."""
        metadata = surface.metadata(form.action_id, form.value, replace=True)
        if not (
            surface.trigger_fresh and await self._open(surface, private_form_modal(form, metadata))
        ):
            await self.notice(say("slack.form.again"), surface)

    async def open_opener(self, form: forms.Form, surface: Surface) -> bool:
        """The modal behind an opener button; its submission replaces the message."""
        metadata = surface.metadata(form.action_id, form.value, replace=True)
        return await self._open(surface, forms.modal(form, metadata))

    async def _open(self, surface: Surface, view: dict[str, Any]) -> bool:
        if not surface.trigger_id:
            return False
        try:
            await surface.client.views_open(trigger_id=surface.trigger_id, view=view)
        except SOFT_ERRORS as error:
            log.warning("slack: could not open a modal: %s", _why(error))
            return False
        return True

    async def _update(self, message: Message, surface: Surface, person_id: int) -> str | None:
        """Update the message; the key of the update queue when it was queued."""
        if surface.kind == "home":
            self.updates.submit(
                f"{surface.team}:{surface.user}:{message.ref}",  # the DM copy's own queue
                lambda: self._update_copy(person_id, surface.team, message),
                paced=True,  # chat.update's pacer: no after-ack slot while waiting
            )
            return None
        if not (surface.replace and surface.response_url):
            return None
        url = surface.response_url

        async def send() -> None:  # rendered only if no newer update replaced it
            await self._respond(url, replace_original=True, **render_message(message).payload())

        key = f"{surface.team}:{surface.user}:{message.ref}"
        self.updates.submit(key, send)
        return key

    async def _update_copy(self, person_id: int, team: str, message: Message) -> None:
        """The person's DM copy of a message they answered on the Home tab."""
        try:
            await self.messenger.update_existing(person_id, team, message)
        except (TemporaryDeliveryError, PermanentDeliveryError) as error:
            log.warning("slack: could not update the DM copy of %s: %s", message.ref, error)

    async def notice(self, note: str, surface: Surface) -> str | None:
        """Say something to this person only; on the Home tab, returns it as a banner."""
        if surface.kind == "home":
            return note
        if surface.response_url:
            await self._ephemeral(surface.response_url, note)
        elif surface.kind == "dm" and surface.channel:  # never into a shared channel
            try:
                await surface.client.chat_postMessage(
                    channel=surface.channel, text=escape(slack_form(note))
                )
            except SOFT_ERRORS as error:
                log.warning("slack: could not answer in the DM: %s", _why(error))
        return None

    async def _message(self, message: Message, surface: Surface, person_id: int) -> None:
        if surface.kind == "command" and surface.response_url:
            await self._respond(
                surface.response_url,
                response_type="ephemeral",
                replace_original=False,
                **render_message(message).payload(),
            )
            return
        if surface.kind == "home" and surface.trigger_fresh:
            view = {
                "type": "modal",
                "title": plain(message.text, MODAL_TITLE),
                "close": plain(say("slack.modal.close"), MODAL_BUTTON),
                "blocks": render_surface([message]) or [],
            }
            if await self._open(surface, view):
                return
        address = {"user_id": surface.user, "team_id": surface.team}
        try:
            await self.messenger.deliver(person_id, address, message, fresh=True)
        except (TemporaryDeliveryError, PermanentDeliveryError) as error:
            log.warning("slack: could not send %s: %s", message.ref, error)

    async def _ephemeral(self, url: str | None, note: str) -> None:
        if url:
            await self._respond(
                url,
                text=escape(slack_form(note)),
                response_type="ephemeral",
                replace_original=False,
            )

    async def _respond(self, url: str, **body: Any) -> None:
        try:
            status, answer = await self.link.respond(url, body)
        except (TimeoutError, aiohttp.ClientError) as error:
            log.warning("slack: response_url failed: %s", type(error).__name__)
            return
        if status != 200:
            log.warning("slack: response_url answered %s %s", status, answer[:200])


def _why(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return slack_error_code(error)
    return type(error).__name__
