"""Free-text inputs in Slack: the neutral model submits a message's text inputs with its
next button; Slack asks for text in a modal.

So a message with inputs shows, in place of that button, an opener ("Send comment…")
whose value carries the little form (what to ask, which action to call). A click opens
the modal; its submission comes back as the original action with `inputs`. A form too
big for a button value (2,000 characters) is shown inline instead: Slack allows input
blocks in messages and sends their state with the next click.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from bot.core.messages import Block, Button, Buttons, Choice, Message, TextInput
from bot.slack.blockkit import (
    BUTTON_VALUE,
    INPUT_LABEL,
    INPUT_MAX,
    MODAL_BUTTON,
    MODAL_TITLE,
    PLACEHOLDER,
    PRIVATE_METADATA,
    plain,
)
from prompts.texts import text as say

OPEN = "pc.form"  # the opener button's action id
CALLBACK = "pc.form"  # the modal's callback id


@dataclass(frozen=True)
class Form:
    action_id: str
    value: str
    submit: str
    inputs: tuple[TextInput, ...]

    def encode(self, prefill: bool = True, placeholders: bool = True) -> str:
        return json.dumps(
            {
                "a": self.action_id,
                "v": self.value,
                "s": self.submit,
                "i": [
                    {
                        "id": i.input_id,
                        "l": i.label,
                        "p": i.placeholder if placeholders else "",
                        "m": int(i.multiline),
                        "x": i.max_length,
                        "val": i.value if prefill else "",
                        **({"k": i.kind} if i.kind != "text" else {}),
                        **({"o": [[c.value, c.label] for c in i.options]} if i.options else {}),
                    }
                    for i in self.inputs
                ],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def compact(self) -> str | None:
        """The form as a button value, dropping prefill and placeholders if it must."""
        if any(i.value for i in self.inputs):  # holds what someone wrote: never kept
            return _compact.__wrapped__(self)
        return _compact(self)

    @classmethod
    def decode(cls, value: str) -> Form:
        """The form an opener button carries; ValueError when the value is not one."""
        try:
            return cls._decode(json.loads(value))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            raise ValueError("not a form") from None

    @classmethod
    def _decode(cls, data: Any) -> Form:
        inputs = tuple(
            TextInput(
                input_id=str(i["id"]),
                label=str(i["l"]),
                placeholder=str(i.get("p", "")),
                multiline=bool(i.get("m")),
                max_length=int(i.get("x", 1000)),
                value=str(i.get("val", "")),
                kind="number" if i.get("k") == "number" else "text",
                options=tuple(Choice(value=str(v), label=str(lbl)) for v, lbl in i.get("o", [])),
            )
            for i in data["i"]
        )
        return cls(str(data["a"]), str(data["v"]), str(data["s"]), inputs)


@functools.lru_cache(maxsize=1024)
def _compact(form: Form) -> str | None:
    # Remembered (empty forms only): a pulse message carries the same comment box
    # through every click's render.
    for options in ({}, {"prefill": False}, {"prefill": False, "placeholders": False}):
        encoded = form.encode(**options)
        if len(encoded) <= BUTTON_VALUE:
            return encoded
    return None


def form_of(message: Message) -> Form | None:
    """The message's inputs and the button that submits them (the first one after)."""
    inputs: list[TextInput] = []
    for block in message.blocks:
        if isinstance(block, TextInput):
            inputs.append(block)
        elif isinstance(block, Buttons) and inputs and block.buttons:
            submit = block.buttons[0]
            return Form(submit.action_id, submit.value, submit.label, tuple(inputs))
    return None


def with_openers(message: Message) -> list[Block]:
    """The message's blocks with its inputs folded into an opener button, when they fit."""
    form = form_of(message)
    encoded = form.compact() if form else None
    if form is None or encoded is None:
        return list(message.blocks)
    blocks: list[Block] = []
    replaced = False
    for block in message.blocks:
        if isinstance(block, TextInput):
            continue
        if isinstance(block, Buttons) and not replaced and block.buttons:
            first = block.buttons[0]
            if (first.action_id, first.value) == (form.action_id, form.value):
                opener = Button(
                    action_id=OPEN,
                    value=encoded,
                    label=f"{first.label}…",
                    style="primary" if first.style == "default" else first.style,
                )
                block = Buttons(buttons=(opener, *block.buttons[1:]))
                replaced = True
        blocks.append(block)
    return blocks


def _element(block: TextInput) -> dict[str, Any]:
    """The control: a select for fixed choices, a number input, else free text."""
    if block.options:
        options = [
            {"text": plain(c.label, 75), "value": c.value[:150]} for c in block.options[:100]
        ]
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": block.input_id,
            "options": options,
        }
        chosen = next((o for o in options if o["value"] == block.value), None)
        if chosen is not None:
            element["initial_option"] = chosen
        return element
    if block.kind == "number":
        element = {"type": "number_input", "action_id": block.input_id, "is_decimal_allowed": False}
        if block.value.lstrip("-").isdigit():
            element["initial_value"] = block.value
    else:
        element = {
            "type": "plain_text_input",
            "action_id": block.input_id,
            "multiline": block.multiline,
            "max_length": max(1, min(block.max_length, INPUT_MAX)),
        }
        if block.value:
            element["initial_value"] = block.value[:INPUT_MAX]
    if block.placeholder:
        element["placeholder"] = plain(block.placeholder, PLACEHOLDER)
    return element


def inline_input(block: TextInput, block_id: str) -> dict[str, Any]:
    """An input block: in a modal, or inline in a message when no opener fits."""
    element = _element(block)
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,  # emptiness is the handler's to refuse, in its own words
        "label": plain(block.label, INPUT_LABEL),
        "element": element,
        **({"hint": plain(block.error, INPUT_LABEL)} if block.error else {}),
    }


def modal(
    form: Form, metadata: dict[str, Any], title: str | None = None, intro: list[Any] | None = None
) -> dict[str, Any]:
    """The modal asking for the form's inputs; `intro` blocks go above them."""
    packed = json.dumps(metadata, separators=(",", ":"))
    if len(packed) > PRIVATE_METADATA:
        packed = json.dumps({k: v for k, v in metadata.items() if k not in ("r", "x")})
    blocks = list(intro or [])
    blocks += [inline_input(i, f"in|{i.input_id}") for i in form.inputs]
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": plain(title or form.submit, MODAL_TITLE),
        "submit": plain(form.submit, MODAL_BUTTON),
        "close": plain(say("slack.modal.cancel"), MODAL_BUTTON),
        "private_metadata": packed,
        "blocks": blocks[:100],
    }


def inputs_of(state: Any) -> dict[str, str]:
    """Typed text and chosen options from a view's or message's `state.values`, by
    input id (a menu left unchosen is left out); what is not shaped like Slack's state
    is left out."""
    found: dict[str, str] = {}
    values = state.get("values") if isinstance(state, dict) else None
    for actions in values.values() if isinstance(values, dict) else ():
        for action_id, element in actions.items() if isinstance(actions, dict) else ():
            if not isinstance(element, dict):
                continue
            kind = element.get("type")
            if kind in ("plain_text_input", "number_input"):
                value = element.get("value")
            elif kind in ("static_select", "radio_buttons"):
                chosen = element.get("selected_option")
                value = chosen.get("value") if isinstance(chosen, dict) else None
            else:
                continue
            found[str(action_id)] = value if isinstance(value, str) else ""
    return found


def metadata_of(view: dict[str, Any]) -> dict[str, Any] | None:
    """The `private_metadata` `modal` packed, or None when it is not a JSON object of
    the fields it writes."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(metadata, dict):
        return None
    texts = ("a", "v", "k", "r", "ch")
    if any(metadata.get(key) is not None and not isinstance(metadata[key], str) for key in texts):
        return None
    return metadata


def error_block(blocks: list[dict[str, Any]], reason: str) -> str:
    """Which input of a modal a refusal is about: the one it names, else the first."""
    inputs = [b for b in blocks if b.get("type") == "input"]
    lowered = reason.lower()
    for block in inputs:
        label, element = block.get("label"), block.get("element")
        label = str(label.get("text") or "").lower() if isinstance(label, dict) else ""
        input_id = element.get("action_id") if isinstance(element, dict) else None
        input_id = str(input_id or "").lower()
        if (label and label in lowered) or (input_id and input_id in lowered):
            return str(block.get("block_id") or "")
    return str(inputs[0].get("block_id") or "") if inputs else ""
