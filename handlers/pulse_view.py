"""How a pulse looks in chat: the neutral messages for one person's round."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import (
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
from storage.pulse_models import PulseRound

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
    assert round_.id is not None
    scale = instrument.scale
    total = len(round_.item_keys)
    answered = sum(1 for key in round_.item_keys if key in mine)
    progress = text(
        "pulse.progress",
        locale,
        answered=answered,
        total=total,
        closes=local_time(round_.closes_at, tz),
    )
    privacy_key = "pulse.anonymous" if round_.privacy == "anonymous" else "pulse.confidential"
    blocks: list = [
        Text(text=text("pulse.intro.heading", locale, team=team_name), style="heading"),
        Text(text=instrument.intro_for(locale)),
    ]
    choices = tuple(Choice(value=str(point), label=str(point)) for point in scale.points)
    for number, key in enumerate(round_.item_keys, start=1):
        item = instrument.item(key)
        blocks.append(
            Question(
                action_id=ANSWER,
                prompt=f"{number}. {item.text_for(locale)}",
                choices=choices,
                selected=str(mine[key]) if key in mine else None,
                value_prefix=f"{round_.id}:{key}:",
                low_label=scale.anchor_for(scale.min, locale),
                high_label=scale.anchor_for(scale.max, locale),
            )
        )
    blocks += [
        TextInput(
            input_id=COMMENT_INPUT,
            label=text("pulse.comment.label", locale),
            placeholder=text("pulse.comment.placeholder", locale),
            multiline=True,
            value=comment or "",
            max_length=COMMENT_MAX,
        ),
        Buttons(
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
        ),
        Divider(),
        Context(
            lines=(
                progress,
                text(privacy_key, locale, threshold=round_.min_respondents),
            )
        ),
    ]
    if answered == total:
        blocks.insert(-2, Text(text=text("pulse.done", locale, total=total), style="notice"))
    return Message(ref=round_ref(round_.id), text=progress, blocks=tuple(blocks))


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
