"""The neutral message model: what the bot says, independent of any chat platform.

Handlers build these; each channel adapter renders them (the local web chat as
JSON, Slack as Block Kit, Teams as Adaptive Cards). Every interactive element
carries a stable `action_id` and a `value`, so a click comes back the same way
on every channel.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Block(BaseModel):
    model_config = ConfigDict(frozen=True)


class Text(_Block):
    """`literal`: the text is shown exactly as written, never read as markup by any
    channel (no bold, links, mentions or code in Slack mrkdwn, Teams markdown or the
    local chat): for text people or a language model wrote."""

    type: Literal["text"] = "text"
    text: str
    style: Literal["plain", "heading", "notice", "muted"] = "plain"
    literal: bool = False


class Choice(_Block):
    value: str
    label: str


class Question(_Block):
    """A question answered on a scale of choices: in a message, one click; in a Form
    (`input_id` set), a field whose chosen value is submitted with the form."""

    type: Literal["question"] = "question"
    action_id: str
    input_id: str | None = None
    prompt: str
    choices: tuple[Choice, ...]
    selected: str | None = None
    value_prefix: str = ""  # prepended to the choice value: binds the click to its context
    low_label: str | None = None
    high_label: str | None = None


class Button(_Block):
    """`form_action`: the button opens a private Form whose submission comes back as
    this action (so a channel knows the submission belongs to this message)."""

    action_id: str
    value: str = ""
    label: str
    style: Literal["default", "primary", "danger"] = "default"
    form_action: str | None = None


class Buttons(_Block):
    type: Literal["buttons"] = "buttons"
    buttons: tuple[Button, ...]


class TextInput(_Block):
    """A field, submitted together with the next button click in its message: free
    text, a whole number (`kind="number"`), or one of fixed `options` (a select).
    `error` says what was wrong with the value last submitted, shown beside it."""

    type: Literal["input"] = "input"
    input_id: str
    label: str
    placeholder: str = ""
    multiline: bool = False
    value: str = ""
    max_length: int = 1000
    kind: Literal["text", "number"] = "text"
    options: tuple[Choice, ...] = ()
    error: str | None = None


class Field_(_Block):
    label: str
    value: str


class Fields(_Block):
    type: Literal["fields"] = "fields"
    fields: tuple[Field_, ...]


class Context(_Block):
    """`literal`: as `Text.literal`, for every line."""

    type: Literal["context"] = "context"
    lines: tuple[str, ...]
    literal: bool = False


class Divider(_Block):
    type: Literal["divider"] = "divider"


class Image(_Block):
    """A picture by URL. `attachment` optionally names the same picture as bytes a
    channel can fetch through an image resolver (see `bot/images.py`) and send as a
    file where it cannot show the URL (Slack, when the server has no public https URL)."""

    type: Literal["image"] = "image"
    url: str
    alt: str
    attachment: str | None = None


Block = Annotated[
    Text | Question | Buttons | TextInput | Fields | Context | Divider | Image,
    Field(discriminator="type"),
]


class Message(_Block):
    """One chat message. `ref` is its logical identity: sending a message with a ref
    the person already has updates that message in place."""

    ref: str
    text: str  # plain-text fallback for notifications and clients without rich layout
    blocks: tuple[Block, ...] = ()

    def action_ids(self) -> set[str]:
        ids: set[str] = set()
        for block in self.blocks:
            if isinstance(block, Question):
                ids.add(block.action_id)
            elif isinstance(block, Buttons):
                ids.update(button.action_id for button in block.buttons)
                ids.update(b.form_action for b in block.buttons if b.form_action)
        return ids


class Form(_Block):
    """A private form for one person: a Slack modal, the local chat's dialog, a Teams
    dialog. Never kept as a chat message, so it may show what that person chose (their
    own answers while a round is open) where no message may. Submitting it sends
    `action_id` with `value`, and in `inputs` each question's chosen value by its
    `input_id` and each text input's text (unanswered questions are left out)."""

    ref: str
    title: str
    action_id: str
    value: str
    submit_label: str
    blocks: tuple[Block, ...] = ()


def notice(ref: str, text: str) -> Message:
    """A short text-only message."""
    return Message(ref=ref, text=text, blocks=(Text(text=text),))
