"""Dialogs (task modules): the private surface of Teams. Nothing shown in a dialog is
a chat message, so Teams keeps no version of it in the conversation.

Two kinds open from a card's `task/fetch`:

- a message's free-text inputs (forms.py): the opener carries the little form, its
  submission comes back as the neutral action with `inputs`;
- a private Form (`Button.form_action`, e.g. the pulse's Answer): the button's own
  action runs, and the Form it answers (read from the open round, the person's own
  answers chosen) is shown; questions as choice sets, text inputs filled with what
  they saved. Its submission is the Form's action with every field in `inputs`.

A refusal shows in the dialog, above the fields, which keep what was submitted (in
the dialog only: nothing of it reaches the chat)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bot.core.messages import Form, Question, TextInput
from bot.teams import cards, forms
from prompts.texts import text as say

INPUT_MAX = 4000
TITLE_MAX = 60
LAYOUT = "pf"  # a private form's submit data: its layout without answers, to show again
CARD = "c"  # ... and the chat card it was opened from (task/submit carries no replyToId)


def _text_input(field: TextInput, value: str) -> dict[str, Any]:
    limit = max(1, min(field.max_length, INPUT_MAX))
    element: dict[str, Any] = {
        "type": "Input.Text",
        "id": forms.input_key(field.input_id),
        "label": cards.inert(field.label)[:200],
        "isMultiline": field.multiline,
        "maxLength": limit,
    }
    if field.placeholder:
        element["placeholder"] = field.placeholder[:150]
    if value:  # within its limit (only a forged submission is longer)
        element["value"] = value[:limit]
    return element


def _attention(error: str | None) -> list[dict[str, Any]]:
    if not error:
        return []
    return [{"type": "TextBlock", "text": cards.inert(error), "wrap": True, "color": "Attention"}]


def form_card(
    form: forms.Form, ref: str, typed: dict[str, str] | None = None, error: str | None = None
) -> dict[str, Any]:
    body = _attention(error)
    for field in form.inputs:
        body.append(_text_input(field, (typed or {}).get(field.input_id, "")))
    content = cards.card(body)
    action = cards.submit(form.submit, form.action_id, form.value, ref)
    action["data"][forms.FORM] = form.encode()  # to show the form again after a refusal
    content["actions"] = [action]
    return content


def _choice_set(question: Question, value: str | None) -> dict[str, Any]:
    """One question as a compact menu, its ends labelled (a 7-point scale as seven
    radio buttons per item would make a long dialog)."""
    last = len(question.choices) - 1
    choices = []
    for n, choice in enumerate(question.choices):
        anchor = question.low_label if n == 0 else question.high_label if n == last else None
        label = f"{choice.label} — {anchor}" if anchor else choice.label
        choices.append({"title": cards.inert(label)[:200], "value": choice.value})
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": forms.input_key(question.input_id or ""),
        "label": cards.inert(question.prompt)[:400],
        "style": "compact",
        "isMultiSelect": False,
        "placeholder": say("teams.dialog.choose"),
        "choices": choices,
    }
    if value in {c["value"] for c in choices}:
        element["value"] = value
    return element


def layout(form: Form) -> dict[str, Any]:
    """The form without anyone's answers: what to ask, never what was chosen."""
    blank: list[Any] = []
    for block in form.blocks:
        if isinstance(block, Question):
            block = block.model_copy(update={"selected": None})
        elif isinstance(block, TextInput):
            block = block.model_copy(update={"value": "", "error": None})
        blank.append(block)
    return form.model_copy(update={"blocks": tuple(blank)}).model_dump(mode="json")


def layout_of(data: Any) -> Form | None:
    """The layout a private form's submission carried; None when it is not one."""
    try:
        return Form.model_validate(data)
    except (ValidationError, TypeError, ValueError, RecursionError):
        return None


def private_card(
    form: Form,
    card_id: str | None = None,
    typed: Mapping[str, str] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """A private Form as a dialog card: `typed` (a refused submission) in place of
    the values the form came with."""
    body = _attention(error)
    for block in form.blocks:
        if isinstance(block, Question) and block.input_id:
            chosen = typed.get(block.input_id) if typed is not None else block.selected
            body.append(_choice_set(block, chosen))
        elif isinstance(block, TextInput):
            value = typed.get(block.input_id, "") if typed is not None else block.value
            body.append(_text_input(block, value))
        else:
            body += cards.block(block, form.ref)
    content = cards.card(body)
    action = cards.submit(form.submit_label, form.action_id, form.value, form.ref)
    if card_id:
        action["data"][CARD] = card_id[:200]
    content["actions"] = [action]
    action["data"][LAYOUT] = layout(form)
    if cards.size(content) > cards.CARD_BUDGET:  # a refusal then closes the dialog instead
        del action["data"][LAYOUT]
    return content


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
