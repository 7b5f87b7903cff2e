"""How a pulse looks in chat: the neutral messages for one person's round."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
from prompts.instruments import Instrument
from prompts.texts import text
from storage.pulse.models import PulseRound

ANSWER = "pulse.answer"
OPEN = "pulse.open"
SUBMIT = "pulse.submit"
SKIP = "pulse.skip"
SNOOZE = "pulse.snooze"
RESUME = "pulse.resume"
COMMENT_INPUT = "comment"
COMMENT_MAX = 1000


def round_ref(round_id: int) -> str:
    return f"pulse:{round_id}"


def local_time(when: datetime, tz: ZoneInfo) -> str:
    """A short local date and time, e.g. 'Thu 26 Nov 09:30'."""
    return when.astimezone(tz).strftime("%a %d %b %H:%M")


class PulseLayout:
    """One round as one locale and time zone sees it, built once per round.

    Two views: `message`, the chat message every channel keeps (Slack and Teams keep
    every version of it), which says how far the person got and never what they
    chose; and `form`, the private form (a Slack modal, the local chat's dialog)
    opened from its Answer button, read from the open round, never stored."""

    def __init__(
        self, round_: PulseRound, team_name: str, instrument: Instrument, tz: ZoneInfo, locale: str
    ) -> None:
        assert round_.id is not None
        self.ref = round_ref(round_.id)
        self.locale = locale
        self.keys = tuple(round_.item_keys)
        self.closes = local_time(round_.closes_at, tz)
        self.value = str(round_.id)
        scale = instrument.scale
        self.heading = Text(
            text=text("pulse.intro.heading", locale, team=team_name), style="heading"
        )
        self.title = text("pulse.form.title", locale)
        self.intro = Text(text=instrument.intro_for(locale))
        self.choices = tuple(Choice(value=str(point), label=str(point)) for point in scale.points)
        self.anchors = (scale.anchor_for(scale.min, locale), scale.anchor_for(scale.max, locale))
        self.prompts = {
            key: f"{number}. {instrument.item(key).text_for(locale)}"
            for number, key in enumerate(self.keys, start=1)
        }
        self.prompt = Text(
            text=text("pulse.prompt", locale, total=len(self.keys), closes=self.closes)
        )
        privacy_key = "pulse.anonymous" if round_.privacy == "anonymous" else "pulse.confidential"
        self.privacy = text(privacy_key, locale, threshold=round_.min_respondents)
        self.more = (
            Button(action_id=SKIP, value=self.value, label=text("pulse.button.skip", locale)),
            Button(action_id=SNOOZE, value=self.value, label=text("pulse.button.snooze", locale)),
        )

    def _opener(self, label_key: str) -> Button:
        return Button(
            action_id=OPEN,
            value=self.value,
            label=text(label_key, self.locale),
            style="primary",
            form_action=SUBMIT,
        )

    def message(self, mine: Mapping[str, object]) -> Message:
        """The kept message: progress only ("3 of 7 answered"), never a value."""
        total = len(self.keys)
        answered = sum(1 for key in self.keys if key in mine)
        if answered == 0:
            opener, status = "pulse.button.answer", None
        elif answered < total:
            opener = "pulse.button.continue"
            status = text("pulse.progress", self.locale, answered=answered, total=total)
        else:
            opener, status = "pulse.button.change", text("pulse.answered", self.locale)
        lines = (status, self.privacy) if status else (self.privacy,)
        summary = status or text("pulse.prompt", self.locale, total=total, closes=self.closes)
        return Message(
            ref=self.ref,
            text=f"{self.heading.text}: {summary}",
            blocks=(
                self.heading,
                self.prompt,
                Buttons(buttons=(self._opener(opener), *self.more)),
                Context(lines=lines),
            ),
        )

    def form(self, mine: Mapping[str, int], comment: str | None) -> Form:
        """The private form: every item with the person's own answer selected, the
        comment box with their saved comment, the limit and whether it is saved."""
        low, high = self.anchors
        questions = tuple(
            Question(
                action_id=ANSWER,
                input_id=key,
                prompt=self.prompts[key],
                choices=self.choices,
                selected=str(mine[key]) if key in mine else None,
                low_label=low,
                high_label=high,
            )
            for key in self.keys
        )
        answered = sum(1 for key in self.keys if key in mine)
        saved = (
            text("pulse.comment.saved_note", self.locale, length=len(comment), max=COMMENT_MAX)
            if comment
            else text("pulse.comment.limit", self.locale, max=COMMENT_MAX)
        )
        progress = text("pulse.progress", self.locale, answered=answered, total=len(self.keys))
        return Form(
            ref=self.ref,
            title=self.title,
            action_id=SUBMIT,
            value=self.value,
            submit_label=text("pulse.button.save", self.locale),
            blocks=(
                self.heading,
                self.intro,
                *questions,
                TextInput(
                    input_id=COMMENT_INPUT,
                    label=text("pulse.comment.label", self.locale),
                    placeholder=text("pulse.comment.placeholder", self.locale),
                    multiline=True,
                    value=comment or "",
                    max_length=COMMENT_MAX,
                ),
                Context(lines=(saved, progress, self.privacy)),
            ),
        )


def pulse_message(
    round_: PulseRound,
    team_name: str,
    instrument: Instrument,
    tz: ZoneInfo,
    mine: Mapping[str, object],
    locale: str = "en",
) -> Message:
    """The kept message of one person's round: a short prompt, how far they got, and
    the Answer button that opens their private form."""
    return PulseLayout(round_, team_name, instrument, tz, locale).message(mine)


def closed_message(
    round_: PulseRound,
    team_name: str,
    tz: ZoneInfo,
    invited: int,
    answered: int,
    locale: str = "en",
) -> Message:
    """Replaces the pulse message at close: no answers remain in anyone's chat copy."""
    assert round_.id is not None and round_.closed_at is not None
    body = text(
        "pulse.closed.body",
        locale,
        closed=local_time(round_.closed_at, tz),
        answered=answered,
        invited=invited,
    )
    return Message(
        ref=round_ref(round_.id),
        text=body,
        blocks=(
            Text(text=text("pulse.closed.heading", locale, team=team_name), style="heading"),
            Text(text=body),
        ),
    )


def status_message(round_id: int, note: str) -> Message:
    """The pulse message replaced by a one-line status (skipped, snoozed)."""
    return Message(ref=round_ref(round_id), text=note, blocks=(Text(text=note, style="notice"),))


def paused_message(program_id: int, team_name: str, locale: str = "en") -> Message:
    note = text("pulse.paused", locale, team=team_name)
    return Message(
        ref=f"pulse-paused:{program_id}",
        text=note,
        blocks=(
            Text(text=note),
            Buttons(
                buttons=(
                    Button(
                        action_id=RESUME,
                        value=str(program_id),
                        label=text("pulse.button.resume", locale),
                        style="primary",
                    ),
                )
            ),
        ),
    )
