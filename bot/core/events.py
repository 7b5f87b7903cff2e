"""Neutral inbound events and the replies handlers give to them."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.messages import Form, Message


@dataclass(frozen=True)
class Actor:
    """Who did something, as resolved by the channel adapter."""

    person_id: int
    workspace_id: int
    channel: str


@dataclass(frozen=True)
class ActionEvent:
    """A click on a button or scale choice in a bot message."""

    actor: Actor
    action_id: str
    value: str
    message_ref: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TextEvent:
    """A text message (or slash command) sent to the bot."""

    actor: Actor
    text: str


@dataclass(frozen=True)
class Reply:
    """What the adapter does in answer: update the clicked message in place, show a
    short notice to the actor only, send further messages to the actor, and/or open a
    private form for the actor (never stored as a message: see `Form`)."""

    update: Message | None = None
    notice: str | None = None
    messages: tuple[Message, ...] = ()
    form: Form | None = None


class UnknownAction(LookupError):
    """No handler knows this action id."""


class Refused(ValueError):
    """A well-formed request that is not allowed or not possible; the message says why."""


class FieldErrors(Refused):
    """A form with wrong values: every field's error at once (input id -> reason), and
    the form again with the values as submitted and each error beside its field."""

    def __init__(self, errors: dict[str, str], form: Message) -> None:
        super().__init__("\n".join(errors.values()))
        self.errors = errors
        self.form = form
