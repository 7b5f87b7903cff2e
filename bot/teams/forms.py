"""Free-text inputs in Teams: the neutral model submits a message's text inputs with its
next button; Teams asks for text in a dialog (a task module), so nothing a person
types ever sits in a chat message.

A message with inputs shows, in place of that button, an opener ("Send comment…")
whose `Action.Submit` asks Teams for a dialog (`msteams.type = task/fetch`); its data
carries the little form: what to ask and which action to call. The dialog's
submission (`task/submit`) comes back as the original action with `inputs`. What a
person wrote before is never put in the form: it would be stored in the card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.messages import Buttons, Message, TextInput

OPEN = "pc.form"  # the opener's action id
FORM = "f"  # the opener's data key holding the form


@dataclass(frozen=True)
class Form:
    action_id: str
    value: str
    submit: str
    inputs: tuple[TextInput, ...]

    def encode(self) -> dict[str, Any]:
        return {
            "a": self.action_id,
            "v": self.value,
            "s": self.submit,
            "i": [
                {
                    "id": i.input_id,
                    "l": i.label,
                    "p": i.placeholder,
                    "m": int(i.multiline),
                    "x": i.max_length,
                }
                for i in self.inputs
            ],
        }

    @classmethod
    def decode(cls, data: Any) -> Form | None:
        """The form an opener carried; None when it is not one (forged, truncated)."""
        try:
            inputs = tuple(
                TextInput(
                    input_id=str(i["id"]),
                    label=str(i["l"]),
                    placeholder=str(i.get("p", "")),
                    multiline=bool(i.get("m")),
                    max_length=int(i.get("x", 1000)),
                )
                for i in data["i"]
            )
            return cls(str(data["a"]), str(data["v"]), str(data["s"]), inputs)
        except (KeyError, TypeError, ValueError):
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


def input_key(input_id: str) -> str:
    """The id of a dialog's Input.Text: prefixed, so it never collides with data keys."""
    return f"in.{input_id}"


def inputs_of(value: dict[str, Any]) -> dict[str, str]:
    """Typed text from a submission's value, by neutral input id."""
    return {
        key[3:]: str(text)
        for key, text in value.items()
        if key.startswith("in.") and isinstance(text, (str, int, float))
    }
