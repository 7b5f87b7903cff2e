"""How commitments look in chat: check-ins, lists with follow-through, forms, proposals
and the partner's weekly summary — neutral messages only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core.messages import (
    Block,
    Button,
    Buttons,
    Choice,
    Context,
    Divider,
    Field_,
    Fields,
    Message,
    Question,
    Text,
    TextInput,
)
from handlers.commitments.follow_through import (
    CommitmentFollowThrough,
    Figures,
    kept_text,
)
from prompts.instruments import STAGE_LABELS
from prompts.texts import text
from storage.commitments.models import Commitment, CommitmentCheckIn

CHECKIN = "commitment.checkin"
REFLECT = "commitment.reflect"
CREATE = "commitment.create"
CONFIRM = "commitment.confirm"
DECLINE = "commitment.decline"
PAUSE = "commitment.pause"
CONTINUE = "commitment.continue"
COMPLETE = "commitment.complete"
DROP = "commitment.drop"
OUTCOMES = ("kept", "partly", "missed", "skipped")
REFLECTION_INPUT = "reflection"
REFLECTION_MAX = 280
FORM_INPUTS = ("behaviour", "why", "until", "options")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_LISTED = 10  # 4 blocks each: stays well inside Slack's 50 blocks per message


def checkin_ref(checkin_id: int) -> str:
    return f"commitment-checkin:{checkin_id}"


def cadence_text(c: Commitment) -> str:
    return text(f"commitment.cadence.{c.frequency}", day=DAYS[c.weekday], at=c.at)


def link_text(c: Commitment) -> str | None:
    if c.stage:
        return STAGE_LABELS.get(c.stage, c.stage)  # type: ignore[call-overload]
    return f"norm: {c.norm_key}" if c.norm_key else None


def checkin_message(
    c: Commitment, checkin: CommitmentCheckIn, last: bool = False, locale: str = "en"
) -> Message:
    """The weekly question; after an answer the same message shows it and says thanks."""
    assert checkin.id is not None
    question = text("commitment.checkin.question", locale, behaviour=c.behaviour)
    blocks: list[Block] = [
        Text(
            text=text("commitment.checkin.heading", locale, behaviour=c.behaviour), style="heading"
        ),
        Question(
            action_id=CHECKIN,
            prompt=question,
            choices=tuple(
                Choice(value=o, label=text(f"commitment.outcome.{o}", locale)) for o in OUTCOMES
            ),
            selected=checkin.outcome,
            value_prefix=f"{checkin.id}:",
        ),
        TextInput(
            input_id=REFLECTION_INPUT,
            label=text("commitment.reflection.label", locale),
            placeholder=text("commitment.reflection.placeholder", locale),
            value=checkin.reflection or "",
            max_length=REFLECTION_MAX,
        ),
        Buttons(
            buttons=(
                Button(
                    action_id=REFLECT,
                    value=str(checkin.id),
                    label=text("commitment.button.reflect", locale),
                ),
            )
        ),
    ]
    if checkin.outcome:
        thanks = text(f"commitment.thanks.{checkin.outcome}", locale)
        blocks.insert(2, Text(text=thanks, style="notice"))
    lines = [text("commitment.checkin.context", locale, day=checkin.occurrence)]
    if last:
        lines.append(text("commitment.checkin.last", locale, ends=c.ends_on, id=c.id))
    blocks.append(Context(lines=tuple(lines)))
    return Message(ref=checkin_ref(checkin.id), text=question, blocks=tuple(blocks))


def nudge_message(c: Commitment, checkin: CommitmentCheckIn, locale: str = "en") -> Message:
    body = text("commitment.nudge", locale, behaviour=c.behaviour)
    ref = f"{checkin_ref(checkin.id or 0)}:nudge"
    return Message(ref=ref, text=body, blocks=(Text(text=body),))


def _controls(c: Commitment, locale: str) -> Buttons | None:
    value = str(c.id)
    if c.status == "active":
        keys = ((PAUSE, "pause"), (COMPLETE, "complete"), (DROP, "drop"))
    elif c.status == "paused":
        keys = ((CONTINUE, "continue"), (COMPLETE, "complete"), (DROP, "drop"))
    else:
        return None
    return Buttons(
        buttons=tuple(
            Button(
                action_id=action,
                value=value,
                label=text(f"commitment.button.{key}", locale),
                style="danger" if key == "drop" else "default",
            )
            for action, key in keys
        )
    )


def commitment_blocks(
    c: Commitment,
    f: Figures,
    partner: str | None,
    locale: str = "en",
    with_controls: bool = True,
    with_note: bool = True,
) -> list[Block]:
    fields = [
        Field_(label=text("commitment.field.status", locale), value=c.status),
        Field_(label=text("commitment.field.cadence", locale), value=cadence_text(c)),
        Field_(label=text("commitment.field.ends", locale), value=c.ends_on.isoformat()),
        Field_(
            label=text("commitment.field.kept", locale),
            value=kept_text(f.kept_rate_4, f.kept_rate_12, f.counted, locale),
        ),
        Field_(label=text("commitment.field.streak", locale), value=str(f.streak)),
    ]
    if partner:
        shared = " (weekly summary)" if c.partner_summary else ""
        fields.append(
            Field_(label=text("commitment.field.partner", locale), value=partner + shared)
        )
    if link := link_text(c):
        fields.append(Field_(label=text("commitment.field.link", locale), value=link))
    blocks: list[Block] = [Text(text=f"#{c.id} · {c.behaviour}", style="heading")]
    if c.why:
        blocks.append(Context(lines=(c.why,)))
    blocks.append(Fields(fields=tuple(fields)))
    if with_note and f.last_reflection:
        label = text("commitment.field.last_note", locale)
        blocks.append(Context(lines=(f"{label}: “{f.last_reflection}”",)))
    if with_controls and (controls := _controls(c, locale)):
        blocks.append(controls)
    return blocks


def list_message(
    person_id: int,
    rows: Sequence[tuple[Commitment, Figures, str | None]],
    overall: Figures | None,
    locale: str = "en",
) -> Message:
    """A leader's own commitments with follow-through (also their home view section)."""
    title = text("commitment.list.title", locale)
    blocks: list[Block] = [Text(text=title, style="heading")]
    if not rows:
        blocks.append(Text(text=text("commitment.list.none", locale)))
    if overall and overall.counted:
        blocks.append(
            Context(
                lines=(
                    text(
                        "commitment.list.overall",
                        locale,
                        kept=kept_text(
                            overall.kept_rate_4, overall.kept_rate_12, overall.counted, locale
                        ),
                        streak=overall.streak,
                    ),
                )
            )
        )
    for c, f, partner in rows[:MAX_LISTED]:
        blocks += [Divider(), *commitment_blocks(c, f, partner, locale)]
    return Message(ref=f"commitments:{person_id}", text=title, blocks=tuple(blocks))


def team_message(team_key: str, team_name: str, rows: Sequence[CommitmentFollowThrough]) -> Message:
    """What a coach (or a teammate, for team-visible ones) sees of a team's commitments."""
    title = text("commitment.list.team", team=team_name)
    blocks: list[Block] = [Text(text=title, style="heading")]
    if not rows:
        blocks.append(Text(text=text("commitment.list.team_none", team=team_name)))
    for r in rows[: MAX_LISTED * 2]:
        line = (
            f"{r.person_name} · #{r.commitment_id} {r.behaviour} ({r.status}) — "
            f"{kept_text(r.kept_rate_4, r.kept_rate_12, r.counted)}, streak {r.streak}"
        )
        blocks.append(Text(text=line))
        if r.last_reflection:
            blocks.append(Context(lines=(f"Last note: “{r.last_reflection}”",)))
    return Message(ref=f"commitments-team:{team_key}", text=title, blocks=tuple(blocks))


def confirm_message(c: Commitment, coach: str, locale: str = "en") -> Message:
    heading = text("commitment.confirm.heading", locale, coach=coach)
    body = text(
        "commitment.confirm.body",
        locale,
        behaviour=c.behaviour,
        ends=c.ends_on,
        cadence=cadence_text(c),
    )
    buttons = (
        Button(
            action_id=CONFIRM,
            value=str(c.id),
            label=text("commitment.button.confirm", locale),
            style="primary",
        ),
        Button(action_id=DECLINE, value=str(c.id), label=text("commitment.button.decline", locale)),
    )
    blocks: list[Block] = [Text(text=heading, style="heading"), Text(text=body)]
    if c.why:
        blocks.append(Context(lines=(c.why,)))
    blocks.append(Buttons(buttons=buttons))
    return Message(ref=f"commitment-confirm:{c.id}", text=heading, blocks=tuple(blocks))


def form_message(locale: str = "en") -> Message:
    title = text("commitment.form.title", locale)
    inputs = [
        TextInput(
            input_id="behaviour",
            label=text("commitment.form.behaviour", locale),
            placeholder=text("commitment.form.behaviour.placeholder", locale),
            max_length=300,
        ),
        TextInput(input_id="why", label=text("commitment.form.why", locale), max_length=500),
        TextInput(input_id="until", label=text("commitment.form.until", locale), max_length=10),
        TextInput(
            input_id="options",
            label=text("commitment.form.options", locale),
            placeholder=text("commitment.form.options.placeholder", locale),
            max_length=300,
        ),
    ]
    save = Button(action_id=CREATE, label=text("commitment.button.save", locale), style="primary")
    help_line = text("commitment.help.manage", locale)
    blocks: list[Block] = [
        Text(text=title, style="heading"),
        *inputs,
        Buttons(buttons=(save,)),
        Context(lines=(help_line,)),
    ]
    return Message(ref="commitment-form", text=title, blocks=tuple(blocks))


def help_message(locale: str = "en") -> Message:
    title = text("commitment.help.title", locale)
    return Message(
        ref="commitment-help",
        text=title,
        blocks=(
            Text(text=title, style="heading"),
            Text(text=text("commitment.help.body", locale)),
            Text(text=text("commitment.help.manage", locale)),
        ),
    )


def partner_message(
    c: Commitment, leader: str, last: CommitmentCheckIn | None, f: Figures, locale: str = "en"
) -> Message:
    """The partner's weekly summary: the outcome and figures, never the leader's notes."""
    outcome = last.outcome if last and last.outcome else "none"
    heading = text("commitment.partner.heading", locale, leader=leader)
    body = text(
        "commitment.partner.body",
        locale,
        leader=leader,
        behaviour=c.behaviour,
        outcome=text(f"commitment.outcome.{outcome}", locale),
        kept=kept_text(f.kept_rate_4, f.kept_rate_12, f.counted, locale),
        streak=f.streak,
    )
    week = last.occurrence if last else date.min.isoformat()
    return Message(
        ref=f"commitment-partner:{c.id}:{week}",
        text=body,
        blocks=(
            Text(text=heading, style="heading"),
            Text(text=body),
            Context(lines=(text("commitment.partner.context", locale, leader=leader),)),
        ),
    )
