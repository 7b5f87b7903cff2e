"""Dialogs (task modules): the private surface of Teams. A form opener's `task/fetch`
is answered with a card asking for the form's inputs; its `task/submit` comes back as
the neutral action with `inputs`. A refusal shows in the dialog, above the inputs,
which keep what was typed (in the dialog only: nothing of it reaches the chat)."""

from __future__ import annotations

from typing import Any

from bot.core.messages import Message
from bot.teams import cards, forms
from prompts.texts import text as say

INPUT_MAX = 4000
TITLE_MAX = 60


def form_card(
    form: forms.Form, ref: str, typed: dict[str, str] | None = None, error: str | None = None
) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    if error:
        body.append(
            {"type": "TextBlock", "text": cards.inert(error), "wrap": True, "color": "Attention"}
        )
    for field in form.inputs:
        element: dict[str, Any] = {
            "type": "Input.Text",
            "id": forms.input_key(field.input_id),
            "label": cards.inert(field.label)[:200],
            "isMultiline": field.multiline,
            "maxLength": max(1, min(field.max_length, INPUT_MAX)),
        }
        if field.placeholder:
            element["placeholder"] = field.placeholder[:150]
        if typed and typed.get(field.input_id):
            element["value"] = typed[field.input_id][:INPUT_MAX]
        body.append(element)
    content = cards.card(body)
    action = cards.submit(form.submit, form.action_id, form.value, ref)
    action["data"][forms.FORM] = form.encode()  # to show the form again after a refusal
    content["actions"] = [action]
    return content


def message_card(message: Message) -> dict[str, Any]:
    """A reply shown in the dialog it came from (what a dialog click answered)."""
    return cards.render(message)


def continue_with(title: str, content: dict[str, Any]) -> dict[str, Any]:
    """The invoke answer that shows (or keeps) a dialog with this card."""
    return {
        "task": {
            "type": "continue",
            "value": {"title": title[:TITLE_MAX], "card": cards.attachment(content)},
        }
    }


def message(note: str) -> dict[str, Any]:
    """The invoke answer that closes the dialog with a short message."""
    return {"task": {"type": "message", "value": note[:500]}}


def refused() -> dict[str, Any]:
    return message(say("teams.dialog.unavailable"))
