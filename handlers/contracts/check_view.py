"""How a contract check looks in chat: the kept message (the norms asked and how far the
person got, never a rating or a comment) and the private form that holds their answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.core.messages import (
    Button,
    Buttons,
    Choice,
    Context,
    Form,
    Message,
    Question,
    Text,
    TextInput,
)
from handlers.commitments.follow_through import CONTRACT_SCALE
from handlers.pulse.view import local_time
from prompts.texts import text
from storage.contracts.models import ContractCheck

OPEN = "contract.open"
SUBMIT = "contract.submit"
SKIP = "contract.skip"
# One rating or one comment by itself: API clients, and buttons of check messages sent
# before the private form (their click is stored and the message redrawn without values).
RATE = "contract.rate"
COMMENT = "contract.comment"
COMMENT_INPUT = "comment"
COMMENT_MAX = 1000


def check_ref(check_id: int) -> str:
    return f"contract-check:{check_id}"


class CheckLayout:
    """One check as one person's locale and time zone see it.

    `message` is what every channel keeps (Slack and Teams keep every version of it):
    the same for everyone who rated as many norms, whatever they chose. `form` is the
    private form (a Slack modal, a Teams dialog, the local chat's dialog) read from the
    open check, never stored."""

    def __init__(
        self,
        check: ContractCheck,
        team_name: str,
        norms: Sequence[dict[str, str]],
        tz: ZoneInfo,
        locale: str,
    ) -> None:
        assert check.id is not None
        self.ref = check_ref(check.id)
        self.value = str(check.id)
        self.locale = locale
        self.keys = tuple(n["key"] for n in norms)
        self.norms = tuple(f"{n}. {norm['text']}" for n, norm in enumerate(norms, start=1))
        self.closes = local_time(check.closes_at, tz)
        self.threshold = check.min_comments
        self.heading = Text(
            text=text("contract.check.heading", locale, team=team_name), style="heading"
        )
        self.intro = Text(text=text("contract.check.intro", locale))
        privacy = "anonymous" if check.privacy == "anonymous" else "confidential"
        self.privacy = text(f"contract.check.{privacy}", locale, threshold=check.min_respondents)

    def _progress(self, answered: int) -> str:
        total = len(self.keys)
        if answered == 0:
            return text("contract.check.prompt", self.locale, closes=self.closes)
        if answered < total:
            return text(
                "contract.check.progress",
                self.locale,
                answered=answered,
                total=total,
                closes=self.closes,
            )
        return text("contract.check.done", self.locale)

    def message(self, mine: Mapping[str, object]) -> Message:
        """The kept message: the norms as text, progress, Rate/Change and Skip."""
        answered = sum(1 for key in self.keys if key in mine)
        if answered == 0:
            label = "contract.check.button.rate"
        elif answered < len(self.keys):
            label = "contract.check.button.continue"
        else:
            label = "contract.check.button.change"
        opener = Button(
            action_id=OPEN,
            value=self.value,
            label=text(label, self.locale),
            style="primary",
            form_action=SUBMIT,
        )
        skip = Button(
            action_id=SKIP, value=self.value, label=text("contract.check.button.skip", self.locale)
        )
        progress = self._progress(answered)
        return Message(
            ref=self.ref,
            text=f"{self.heading.text}: {progress}",
            blocks=(
                self.heading,
                self.intro,
                *(Text(text=norm) for norm in self.norms),
                Buttons(buttons=(opener, skip)),
                Context(lines=(progress, self.privacy)),
            ),
        )

    def form(self, mine: Mapping[str, int], comment: str | None) -> Form:
        """The private form: each norm with the person's own rating selected, the
        comment box with their saved comment, its limit and whether it is saved."""
        scale = CONTRACT_SCALE
        choices = tuple(Choice(value=str(p), label=str(p)) for p in scale.points)
        low = scale.anchor_for(scale.min, self.locale)
        high = scale.anchor_for(scale.max, self.locale)
        questions = tuple(
            Question(
                action_id=RATE,
                input_id=key,
                prompt=prompt,
                choices=choices,
                selected=str(mine[key]) if key in mine else None,
                low_label=low,
                high_label=high,
            )
            for key, prompt in zip(self.keys, self.norms, strict=True)
        )
        saved = (
            text(
                "contract.check.comment.saved_note",
                self.locale,
                length=len(comment),
                max=COMMENT_MAX,
            )
            if comment
            else text("contract.check.comment.limit", self.locale, max=COMMENT_MAX)
        )
        answered = sum(1 for key in self.keys if key in mine)
        return Form(
            ref=self.ref,
            title=text("contract.check.form.title", self.locale),
            action_id=SUBMIT,
            value=self.value,
            submit_label=text("contract.check.button.save", self.locale),
            blocks=(
                self.heading,
                self.intro,
                *questions,
                TextInput(
                    input_id=COMMENT_INPUT,
                    label=text("contract.check.comment.label", self.locale),
                    placeholder=text(
                        "contract.check.comment.placeholder", self.locale, threshold=self.threshold
                    ),
                    multiline=True,
                    value=comment or "",
                    max_length=COMMENT_MAX,
                ),
                Context(lines=(saved, self._progress(answered), self.privacy)),
            ),
        )
