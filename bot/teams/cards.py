"""The neutral message model rendered as Adaptive Cards (schema 1.5), within the rules
Teams enforces: the version, the element and action types it renders, at most six
actions in a row, and a message of about 28 KB.

Every button is an `Action.Submit` whose data carries the neutral action id, value and
message ref (`{"pc": ..., "v": ..., "r": ...}`): Teams posts it back as the activity's
`value`, and the click reaches the same handler as on every channel. A button that
opens a private Form (`form_action`, the pulse's Answer) asks Teams for a dialog
instead (`msteams.type = task/fetch`), and so does a button submitting free-text
inputs, which never sit in a chat card (dialogs.py): what someone chooses or types is
in no version of any message. Texts are made inert: no
Markdown link and no mention can be forged from what a person wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from bot.core.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Image,
    Message,
    Question,
    Text,
)
from bot.teams import forms
from prompts.texts import text as say

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
# What Teams renders of schema 1.5 (and all this renderer makes).
ELEMENTS = frozenset(
    {"TextBlock", "FactSet", "Image", "ActionSet", "Container", "ColumnSet", "Column"}
)
INPUTS = frozenset({"Input.Text", "Input.ChoiceSet"})  # in dialogs only (see problems)
ACTIONS = frozenset({"Action.Submit", "Action.OpenUrl"})
MAX_ACTIONS = 6  # Teams' host config shows at most six actions in a row
MAX_BYTES = 28_000  # a Teams message (activity and card) is refused above ~28 KB
CARD_BUDGET = 24_000  # the card's share, leaving room for the activity around it
TEXT_MAX = 4_000
ACTION = "pc"  # data keys: the neutral action id, its value, the message ref
VALUE = "v"
REF = "r"


def inert(text: str) -> str:
    """Text shown as written: Markdown links and HTML-ish tags cannot be formed."""
    cleaned = text.replace("](", "] (").replace("<", "‹").replace(">", "›")
    return cleaned[:TEXT_MAX]


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": inert(text), "wrap": True, **style}


def submit(title: str, action_id: str, value: str, ref: str, **extra: Any) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": title[:80],
        "data": {ACTION: action_id, VALUE: value, REF: ref},
    }
    action.update(extra)
    return action


def fetching(action: dict[str, Any]) -> dict[str, Any]:
    """The action asks Teams for a dialog (an invoke `task/fetch` with its data)."""
    action["data"]["msteams"] = {"type": "task/fetch"}
    return action


def _rows(actions: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """ActionSets of at most six, balanced (a 7-point scale is 4 + 3, not 6 + 1)."""
    if not actions:
        return
    count = -(-len(actions) // MAX_ACTIONS)
    size = -(-len(actions) // count)
    for start in range(0, len(actions), size):
        yield {"type": "ActionSet", "actions": list(actions[start : start + size])}


def _question(question: Question, ref: str) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = [_text(question.prompt, weight="Bolder", spacing="Medium")]
    buttons = []
    for choice in question.choices:
        chosen = choice.value == question.selected
        action = submit(
            f"✓ {choice.label}" if chosen else choice.label,
            question.action_id,
            question.value_prefix + choice.value,
            ref,
        )
        if chosen:
            action["style"] = "positive"
        buttons.append(action)
    body += _rows(buttons)
    if question.low_label and question.high_label and question.choices:
        anchors = (
            f"{question.choices[0].label} = {question.low_label} · "
            f"{question.choices[-1].label} = {question.high_label}"
        )
        body.append(_text(anchors, size="Small", isSubtle=True, spacing="None"))
    return body


def _image(image: Image) -> list[dict[str, Any]]:
    # Teams fetches card images itself over https; a data: URL (the inline SVG chart)
    # or a loopback server it cannot reach is left out: the text sparkline stays.
    if not image.url.startswith("https://"):
        return []
    return [{"type": "Image", "url": image.url, "altText": inert(image.alt)[:200]}]


def block(block: Block, ref: str) -> list[dict[str, Any]]:
    if isinstance(block, Text):
        styles: dict[str, dict[str, Any]] = {
            "heading": {"size": "Medium", "weight": "Bolder"},
            "notice": {"color": "Accent"},
            "muted": {"isSubtle": True, "size": "Small"},
            "plain": {},
        }
        return [_text(block.text, **styles[block.style])]
    if isinstance(block, Question):
        return _question(block, ref)
    if isinstance(block, Buttons):
        actions = []
        for button in block.buttons:
            extra = {"style": "positive" if button.style == "primary" else "destructive"}
            action = submit(
                button.label,
                button.action_id,
                button.value,
                ref,
                **(extra if button.style != "default" else {}),
            )
            # A private form opens in a dialog: the button's action answers task/fetch.
            actions.append(fetching(action) if button.form_action else action)
        return list(_rows(actions))
    if isinstance(block, Fields):
        facts = [{"title": inert(f.label), "value": inert(f.value)} for f in block.fields]
        return [{"type": "FactSet", "facts": facts}]
    if isinstance(block, Context):
        return [_text(line, size="Small", isSubtle=True, spacing="Small") for line in block.lines]
    if isinstance(block, Divider):
        return [{"type": "Container", "separator": True, "spacing": "Medium", "items": []}]
    if isinstance(block, Image):
        return _image(block)
    return []  # a TextInput never shows in a chat card: see forms.py


def card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }


def size(content: dict[str, Any]) -> int:
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def _fit(body: list[dict[str, Any]]) -> dict[str, Any]:
    """The card, its last blocks replaced by a note when it would pass the budget."""
    whole = card(body)
    if size(whole) <= CARD_BUDGET:
        return whole
    note = _text(say("teams.render.shortened"), isSubtle=True, size="Small")
    keep = len(body)
    while keep > 0 and size(card([*body[:keep], note])) > CARD_BUDGET:
        keep = keep * 3 // 4 if keep > 8 else keep - 1
    return card([*body[:keep], note])


def _opener(form: forms.Form, button: Button, ref: str) -> dict[str, Any]:
    """The button that opens the form's dialog (task/fetch) in place of its submit."""
    action = fetching(submit(f"{button.label}…", forms.OPEN, "", ref, style="positive"))
    action["data"][forms.FORM] = form.encode()
    return action


def _body(message: Message) -> list[dict[str, Any]]:
    form = forms.form_of(message)
    body: list[dict[str, Any]] = []
    for item in message.blocks:
        if isinstance(item, Buttons) and form is not None and item.buttons:
            first = item.buttons[0]
            if (first.action_id, first.value) == (form.action_id, form.value):
                rest = (
                    block(Buttons(buttons=item.buttons[1:]), message.ref)
                    if item.buttons[1:]
                    else []
                )
                actions = [_opener(form, first, message.ref)]
                actions += [a for row in rest for a in row["actions"]]
                body += _rows(actions)
                form = None  # one opener per form
                continue
        body += block(item, message.ref)
    return body


def render(message: Message) -> dict[str, Any]:
    """One chat card; its free-text form (if any) behind a dialog opener button."""
    body = _body(message)
    if not body:
        body = [_text(message.text or " ")]
    return _fit(body)


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": content}


def problems(content: dict[str, Any], dialog: bool = False) -> list[str]:
    """What Teams would refuse or not show in this card, and what our privacy rule
    forbids (an input in a chat card: what it holds would be kept in the message):
    empty when it is fine. `dialog`: the card is a dialog's (task module)."""
    found: list[str] = []
    if content.get("type") != "AdaptiveCard":
        found.append("not an AdaptiveCard")
    if content.get("version") != VERSION:
        found.append(f"version {content.get('version')!r}, not {VERSION}")
    if size(content) > MAX_BYTES:
        found.append(f"{size(content)} bytes, over {MAX_BYTES}")
    inputs: list[str] = []
    keys: set[str] = set()  # Teams merges inputs into the data: a shared key is lost

    def check_actions(actions: list[dict[str, Any]], here: str) -> None:
        for action in actions:
            if action.get("type") not in ACTIONS:
                found.append(f"{here}: action type {action.get('type')!r}")
            if action.get("type") != "Action.Submit":
                continue
            if not isinstance(action.get("data"), dict):
                found.append(f"{here}: Action.Submit without object data")
            else:
                keys.update(action["data"])
            if not isinstance(action.get("title"), str) or not action["title"].strip():
                found.append(f"{here}: Action.Submit without a title")

    def check_input(item: dict[str, Any], here: str) -> None:
        kind = item.get("type")
        if not dialog:
            found.append(f"{here}: {kind} in a chat card")
        if not isinstance(item.get("id"), str) or not item["id"]:
            found.append(f"{here}: {kind} without an id")
        else:
            inputs.append(item["id"])
        if kind == "Input.ChoiceSet":
            choices = item.get("choices")
            if not isinstance(choices, list) or not choices or len(choices) > 100:
                found.append(f"{here}: Input.ChoiceSet needs 1-100 choices")
                return
            values = [c.get("value") for c in choices if isinstance(c, dict)]
            titles = [c.get("title") for c in choices if isinstance(c, dict)]
            if not all(isinstance(x, str) for x in [*values, *titles]) or len(values) < len(
                choices
            ):
                found.append(f"{here}: a choice without a text title and value")
            if "value" in item and item["value"] not in values:
                found.append(f"{here}: value {item['value']!r} is none of its choices")
        elif kind == "Input.Text":
            limit = item.get("maxLength")
            if not isinstance(limit, int) or limit < 1:
                found.append(f"{here}: Input.Text without a positive maxLength")
            elif len(str(item.get("value", ""))) > limit:
                found.append(f"{here}: value longer than its maxLength")

    def walk(items: list[dict[str, Any]], where: str) -> None:
        for n, item in enumerate(items):
            kind = item.get("type")
            here = f"{where}[{n}]"
            if kind in INPUTS:
                check_input(item, here)
            elif kind not in ELEMENTS:
                found.append(f"{here}: element type {kind!r}")
            if kind == "TextBlock" and not isinstance(item.get("text"), str):
                found.append(f"{here}: TextBlock without text")
            actions = item.get("actions") or []
            if kind == "ActionSet" and not 0 < len(actions) <= MAX_ACTIONS:
                found.append(f"{here}: {len(actions)} actions")
            check_actions(actions, here)
            walk(item.get("items") or [], f"{here}.items")
            for column in item.get("columns") or []:
                walk(column.get("items") or [], f"{here}.columns")

    walk(content.get("body") or [], "body")
    top = content.get("actions") or []
    if len(top) > MAX_ACTIONS:
        found.append(f"actions: {len(top)} actions")
    check_actions(top, "actions")
    if len(set(inputs)) < len(inputs):
        found.append(f"input ids repeated: {sorted({i for i in inputs if inputs.count(i) > 1})}")
    if clash := sorted(keys.intersection(inputs)):
        found.append(f"input ids {clash} are also keys of an action's data")
    return found
