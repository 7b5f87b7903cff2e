"""How a pulse looks in chat: the neutral messages for one person's round."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.messages import (
    Block,
    Button,
    Buttons,
    Choice,
    Context,
    Divider,
    Message,
    Question,
    Text,
    TextInput,
)
from prompts.instruments import Instrument
from prompts.texts import text
from storage.pulse.models import PulseRound

ANSWER = "pulse.answer"
COMMENT = "pulse.comment"
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
    """What one round's message looks like for one locale and time zone, except the
    person's answers and comment: built once, then every click's message is put
    together from these parts (the message is rebuilt after each click)."""

    def __init__(
        self, round_: PulseRound, team_name: str, instrument: Instrument, tz: ZoneInfo, locale: str
    ) -> None:
        assert round_.id is not None
        self.ref = round_ref(round_.id)
        self.locale = locale
        self.keys = tuple(round_.item_keys)
        self.closes = local_time(round_.closes_at, tz)
        scale = instrument.scale
        self.head = (
            Text(text=text("pulse.intro.heading", locale, team=team_name), style="heading"),
            Text(text=instrument.intro_for(locale)),
        )
        self.choices = tuple(Choice(value=str(point), label=str(point)) for point in scale.points)
        self.anchors = (scale.anchor_for(scale.min, locale), scale.anchor_for(scale.max, locale))
        self.prompts = {
            key: f"{number}. {instrument.item(key).text_for(locale)}"
            for number, key in enumerate(self.keys, start=1)
        }
        self.value_prefix = f"{round_.id}:"
        # Each item as it looks unanswered (None) and with a point chosen, made on first use.
        self.questions: dict[tuple[str, str | None], Question] = {}
        self.comment_box = self._comment_box("")
        self.buttons = Buttons(
            buttons=(
                Button(
                    action_id=COMMENT,
                    value=str(round_.id),
                    label=text("pulse.button.comment", locale),
                ),
                Button(
                    action_id=SKIP, value=str(round_.id), label=text("pulse.button.skip", locale)
                ),
                Button(
                    action_id=SNOOZE,
                    value=str(round_.id),
                    label=text("pulse.button.snooze", locale),
                ),
            )
        )
        privacy_key = "pulse.anonymous" if round_.privacy == "anonymous" else "pulse.confidential"
        self.privacy = text(privacy_key, locale, threshold=round_.min_respondents)
        self.done = Text(text=text("pulse.done", locale, total=len(self.keys)), style="notice")

    def question(self, key: str, selected: str | None) -> Question:
        found = self.questions.get((key, selected))
        if found is None:
            low, high = self.anchors
            found = self.questions[(key, selected)] = Question(
                action_id=ANSWER,
                prompt=self.prompts[key],
                choices=self.choices,
                selected=selected,
                value_prefix=f"{self.value_prefix}{key}:",
                low_label=low,
                high_label=high,
            )
        return found

    def _comment_box(self, comment: str) -> TextInput:
        return TextInput(
            input_id=COMMENT_INPUT,
            label=text("pulse.comment.label", self.locale),
            placeholder=text("pulse.comment.placeholder", self.locale),
            multiline=True,
            value=comment,
            max_length=COMMENT_MAX,
        )

    def message(self, mine: dict[str, int], comment: str | None = None) -> Message:
        total = len(self.keys)
        answered = sum(1 for key in self.keys if key in mine)
        progress = text(
            "pulse.progress", self.locale, answered=answered, total=total, closes=self.closes
        )
        blocks: list[Block] = [*self.head]
        for key in self.keys:
            blocks.append(self.question(key, str(mine[key]) if key in mine else None))
        blocks += [self._comment_box(comment) if comment else self.comment_box, self.buttons]
        if answered == total:
            blocks.append(self.done)
        blocks += [Divider(), Context(lines=(progress, self.privacy))]
        return Message(ref=self.ref, text=progress, blocks=tuple(blocks))


def pulse_message(
    round_: PulseRound,
    team_name: str,
    instrument: Instrument,
    tz: ZoneInfo,
    mine: dict[str, int],
    comment: str | None = None,
    locale: str = "en",
) -> Message:
    """One message with every item as a row of scale buttons, the person's own
    answers highlighted (shown to them alone), and a running count."""
    return PulseLayout(round_, team_name, instrument, tz, locale).message(mine, comment)


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
