"""One incoming activity, turned into neutral events for the router:

- installationUpdate / conversationUpdate (the bot added to, or removed from, a
  person's personal chat): the conversation reference stored, or the address marked
  inactive; a welcome card after an install.
- message with text (personal chat): a text command (help, results, commitments,
  digest, snooze, admin, ...), as the local chat's text.
- message with a `value` (an Action.Submit of one of our cards): the neutral action
  with its value, the clicked card updated with the answer.
- invoke task/fetch and task/submit: a dialog opened (a private Form, such as the
  pulse's answers, or a message's free-text inputs), and its submission, which
  updates the chat card it came from.

Every path answers a person it cannot serve in words (unknown tenant, unknown person,
a button that no longer works, a message too long), ignores what it has no use for,
and stores nothing for either. An invoke is always answered 200: Teams shows any
other status as an error, and a 501 is botbuilder's default.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.core.events import ActionEvent, Actor, Refused, Reply, TextEvent, UnknownAction
from bot.teams import cards, dialogs, forms
from bot.teams.actors import Actors, Who
from bot.teams.replies import Replies, Where
from handlers.router import Router
from prompts.texts import text as say
from storage.channels import teams as teams_store

log = logging.getLogger(__name__)

TEXT_MAX = 4000
UNINSTALLED = "teams: app uninstalled by the user"
MENTION = re.compile(r"<at>.*?</at>", re.S)
IGNORED_KINDS = 256


class Turns:
    def __init__(self, router: Router, actors: Actors, replies: Replies) -> None:
        self.router = router
        self.actors = actors
        self.replies = replies
        self._ignored: set[str] = set()

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        kind = activity.type
        try:
            if kind == ActivityTypes.message:
                await self._message(context)
            elif kind == ActivityTypes.invoke:
                await self._invoke(context)
            elif kind == ActivityTypes.installation_update:
                await self._installation(context, str(activity.action or ""))
            elif kind == ActivityTypes.conversation_update:
                await self._conversation_update(context)
            else:
                self.ignore(f"activity {kind!s:.40}")
        except Exception:
            log.exception("teams: a %s activity failed", kind)
            if kind == ActivityTypes.invoke:
                await answer(context, dialogs.message(say("teams.notice.failed")))
            elif kind == ActivityTypes.message:
                await self._say(context, say("teams.notice.failed"))

    def ignore(self, kind: str) -> None:
        if kind not in self._ignored and len(self._ignored) < IGNORED_KINDS:
            self._ignored.add(kind)
            log.info("teams: ignoring %s: nothing here handles it", kind)

    # ------------------------------------------------------------------ who

    async def _actor(
        self, context: TurnContext, quiet: bool = False
    ) -> tuple[Actor | None, Who | None]:
        """The person acting; when unknown, told so (unless `quiet`)."""
        who = Who.of(context.activity)
        if who is None or not await self.actors.tenant_known(who.tenant):
            if not quiet:
                await self._say(context, say("teams.notice.unknown_tenant"))
            return None, who
        actor = await self.actors.resolve(context, who)
        if actor is None and not quiet:
            await self._say(context, say("teams.notice.unknown_user"))
        return actor, who

    @staticmethod
    def _where(context: TurnContext, who: Who, card_ref: str | None = None) -> Where:
        activity = context.activity
        return Where(
            tenant=who.tenant,
            conversation=activity.conversation.id if activity.conversation else "",
            card_id=activity.reply_to_id or None,
            card_ref=card_ref,
        )

    async def _say(self, context: TurnContext, note: str) -> None:
        conversation = context.activity.conversation
        who = Who.of(context.activity)
        where = Where(
            tenant=who.tenant if who else "", conversation=conversation.id if conversation else ""
        )
        await self.replies.say(context, note, where)

    # ------------------------------------------------------------------ messages

    async def _message(self, context: TurnContext) -> None:
        activity = context.activity
        if isinstance(activity.value, dict) and activity.value:
            await self._submit(context, activity.value)
            return
        said = MENTION.sub("", activity.text or "").strip()
        if not said:
            return  # a reaction, an attachment without words: nothing to do
        if _conversation_type(activity) != "personal":
            await self._say(context, say("teams.notice.personal_only"))
            return
        if len(said) > TEXT_MAX:
            await self._say(context, say("teams.notice.too_long", limit=TEXT_MAX))
            return
        actor, who = await self._actor(context)
        if actor is None or who is None:
            return
        reply = await self._react(TextEvent(actor, said))
        if reply is not None:
            await self.replies.apply(context, reply, actor.person_id, self._where(context, who))

    async def _submit(self, context: TurnContext, value: dict[str, Any]) -> None:
        """A click on a card in the chat."""
        action_id = value.get(cards.ACTION)
        if not isinstance(action_id, str):
            self.ignore("a card submission without our action id")
            return
        if not self.router.knows_action(action_id):
            log.info("teams: unknown action id %r", action_id[:80])
            await self._say(context, say("teams.notice.unknown_action"))
            return
        actor, who = await self._actor(context)
        if actor is None or who is None:
            return
        event = _event(actor, action_id, value)
        reply = await self._react(event)
        if reply is not None:
            where = self._where(context, who, event.message_ref)
            await self.replies.apply(context, reply, actor.person_id, where)

    async def _react(self, event: ActionEvent | TextEvent) -> Reply | None:
        try:
            if isinstance(event, ActionEvent):
                return await self.router.on_action(event)
            return await self.router.on_text(event)
        except Refused as refused:
            return Reply(notice=str(refused))
        except UnknownAction:
            return Reply(notice=say("teams.notice.unknown_action"))

    # ------------------------------------------------------------------ dialogs

    async def _invoke(self, context: TurnContext) -> None:
        activity = context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        inner = value.get("data")
        data: dict[str, Any] = inner if isinstance(inner, dict) else value
        if activity.name == "task/fetch":
            await answer(context, await self._open(context, data))
        elif activity.name == "task/submit":
            await answer(context, await self._dialog_submit(context, data))
        else:
            self.ignore(f"invoke {activity.name!s:.40}")
            await answer(context, None)

    async def _open(self, context: TurnContext, data: dict[str, Any]) -> dict[str, Any]:
        action_id = data.get(cards.ACTION)
        if action_id == forms.OPEN or forms.FORM in data:
            return await self._open_inputs(context, data)
        asked = await self._dialog_event(context, data)
        if isinstance(asked, dict):
            return asked
        event, who = asked
        try:  # a private form's button: its handler reads the form (e.g. the open round)
            reply = await self.router.on_action(event)
        except Refused as refused:  # a closed round, a pulse not theirs: said, nothing more
            return dialogs.message(str(refused))
        except UnknownAction:
            return dialogs.refused()
        if reply.form is not None:  # task/submit will not say which card: the dialog keeps it
            card = dialogs.private_card(reply.form, card_id=context.activity.reply_to_id)
            return dialogs.continue_with(reply.form.title, card)
        # No form after all: carried out like a click, its notice in place of a dialog.
        await self._quietly(context, reply, event, self._where(context, who, event.message_ref))
        return dialogs.message(reply.notice or say("teams.dialog.unavailable"))

    async def _open_inputs(self, context: TurnContext, data: dict[str, Any]) -> dict[str, Any]:
        """The dialog of a message's free-text inputs: the form its opener carried."""
        form = forms.Form.decode(data.get(forms.FORM))
        ref = data.get(cards.REF)
        if form is None or not isinstance(ref, str) or not self.router.knows_action(form.action_id):
            return dialogs.refused()
        actor, _ = await self._actor(context, quiet=True)
        if actor is None:
            return dialogs.message(say("teams.notice.unknown_user"))
        return dialogs.continue_with(form.submit, dialogs.form_card(form, ref))

    async def _dialog_submit(
        self, context: TurnContext, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        asked = await self._dialog_event(context, data)
        if isinstance(asked, dict):
            return asked
        event, who = asked
        card_id = data.get(dialogs.CARD)
        try:
            reply = await self.router.on_action(event)
        except Refused as refused:  # shown in the dialog, which keeps what was submitted
            return self._again(data, event.inputs, str(refused))
        except UnknownAction:
            return dialogs.refused()
        # The chat card is updated (progress only, for a private form); the dialog closes.
        where = Where(
            tenant=who.tenant,
            conversation=context.activity.conversation.id,
            card_id=card_id if isinstance(card_id, str) and card_id else None,
            card_ref=event.message_ref,
        )
        await self._quietly(context, reply, event, where)
        return dialogs.message(reply.notice) if reply.notice else None

    async def _dialog_event(
        self, context: TurnContext, data: dict[str, Any]
    ) -> tuple[ActionEvent, Who] | dict[str, Any]:
        """The neutral action a dialog's invoke asks for and who asks; else the
        invoke's answer refusing it."""
        action_id = data.get(cards.ACTION)
        if not isinstance(action_id, str) or not self.router.knows_action(action_id):
            return dialogs.refused()
        actor, who = await self._actor(context, quiet=True)
        if actor is None or who is None:
            return dialogs.message(say("teams.notice.unknown_user"))
        return _event(actor, action_id, data), who

    async def _quietly(
        self, context: TurnContext, reply: Reply, event: ActionEvent, where: Where
    ) -> None:
        """A reply in the chat, all but its notice (the invoke's answer shows that)."""
        quiet = Reply(update=reply.update, messages=reply.messages)
        await self.replies.apply(context, quiet, event.actor.person_id, where)

    @staticmethod
    def _again(data: dict[str, Any], inputs: dict[str, str], reason: str) -> dict[str, Any]:
        """The dialog again with the refusal above what was submitted; closed with the
        reason when the submission does not say what the dialog was."""
        ref, card_id = data.get(cards.REF), data.get(dialogs.CARD)
        private = dialogs.layout_of(data.get(dialogs.LAYOUT)) if dialogs.LAYOUT in data else None
        same = private is not None and (private.action_id, private.value) == (
            data.get(cards.ACTION),
            data.get(cards.VALUE),
        )
        if private is not None and same:
            card = dialogs.private_card(
                private, card_id if isinstance(card_id, str) else None, inputs, reason
            )
            return dialogs.continue_with(private.title, card)
        form = forms.Form.decode(data.get(forms.FORM))
        if form is None or not isinstance(ref, str):
            return dialogs.message(reason)
        return dialogs.continue_with(form.submit, dialogs.form_card(form, ref, inputs, reason))

    # ------------------------------------------------------------------ installs

    async def _installation(self, context: TurnContext, action: str) -> None:
        if _conversation_type(context.activity) != "personal":
            self.ignore(f"installationUpdate in a {_conversation_type(context.activity)}")
            return
        if action.startswith("add"):
            await self._actor(context, quiet=True)  # stores the conversation reference
        elif action.startswith("remove"):
            await self._uninstalled(context)

    async def _conversation_update(self, context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = any(m.id == bot_id for m in activity.members_added or [])
        removed = any(m.id == bot_id for m in activity.members_removed or [])
        if _conversation_type(activity) != "personal" or not (added or removed):
            self.ignore("conversationUpdate not about the bot in a personal chat")
            return
        if removed:
            await self._uninstalled(context)
            return
        actor, who = await self._actor(context, quiet=True)
        if actor is None or who is None:
            return
        reply = await self._react(TextEvent(actor, "help"))
        name = context.activity.from_property.name if context.activity.from_property else None
        welcome = say("teams.welcome", name=name or "there")
        await self.replies.say(context, welcome, self._where(context, who))
        if reply is not None:
            await self.replies.apply(context, reply, actor.person_id, self._where(context, who))

    async def _uninstalled(self, context: TurnContext) -> None:
        who = Who.of(context.activity)
        if who is None or not who.aad_object_id:
            return
        async with self.actors.db.session() as session:
            found = await teams_store.person_for_aad(session, who.tenant, who.aad_object_id)
            if found is None:
                return
            await teams_store.deactivate(session, found[0], UNINSTALLED)
        self.actors.forget(found[0])
        log.info("teams: person %s uninstalled the app: address inactive", found[0])


def _event(actor: Actor, action_id: str, data: dict[str, Any]) -> ActionEvent:
    """The neutral action of a card's or dialog's data (and the inputs Teams merged in)."""
    ref = data.get(cards.REF)
    return ActionEvent(
        actor=actor,
        action_id=action_id,
        value=str(data.get(cards.VALUE, "")),
        message_ref=ref if isinstance(ref, str) else None,
        inputs=forms.inputs_of(data),
    )


def _conversation_type(activity: Activity) -> str:
    conversation = activity.conversation
    return str(getattr(conversation, "conversation_type", None) or "personal")


async def answer(context: TurnContext, body: dict[str, Any] | None) -> None:
    """The invoke's answer: 200, with a body when there is one."""
    await context.send_activity(
        Activity(
            type=ActivityTypes.invoke_response,
            value=InvokeResponse(status=int(HTTPStatus.OK), body=body),
        )
    )
