"""How team contracts look in chat: the norms with acknowledgement, the editing form, the
anonymous contract check and its results — neutral messages only."""

from __future__ import annotations

from collections.abc import Sequence
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
from handlers.commitments.follow_through import (
    CONTRACT_SCALE,
    ContractCheckComments,
    ContractCheckResult,
)
from handlers.pulse.view import local_time
from prompts.texts import text
from storage.contracts.models import ContractCheck, ContractVersion

ACK = "contract.ack"
EDIT = "contract.edit"
SAVE = "contract.save"
RATE = "contract.rate"
COMMENT = "contract.comment"
SKIP = "contract.skip"
NORMS_INPUT = "norms"
COMMENT_INPUT = "comment"
COMMENT_MAX = 1000
MAX_NORMS = 10
NORM_MAX = 200


def contract_ref(team_id: int) -> str:
    return f"contract:{team_id}"


def check_ref(check_id: int) -> str:
    return f"contract-check:{check_id}"


def contract_message(
    team_id: int,
    team_name: str,
    version: ContractVersion | None,
    acked_at: datetime | None,
    asked: bool,
    roster: tuple[int, Sequence[str]] | None = None,
    locale: str = "en",
) -> Message:
    """The current norms. `asked`: the viewer acknowledges (an executive); `roster`:
    (acknowledged, names still waiting), shown to coaches and admins with an edit button."""
    heading = text("contract.heading", locale, team=team_name)
    if version is None:
        note = text("contract.none", locale, team=team_name)
        blocks: list[Block] = [Text(text=heading, style="heading"), Text(text=note)]
    else:
        day = f"{version.created_at:%d %b %Y}"
        blocks = [
            Text(text=heading, style="heading"),
            Context(lines=(text("contract.version", locale, version=version.version, date=day),)),
            *(Text(text=f"{n}. {norm['text']}") for n, norm in enumerate(version.norms, 1)),
        ]
        if asked and acked_at is None:
            blocks.append(Text(text=text("contract.ask", locale)))
            ack = Button(
                action_id=ACK,
                value=str(version.id),
                label=text("contract.button.ack", locale),
                style="primary",
            )
            blocks.append(Buttons(buttons=(ack,)))
        elif asked and acked_at is not None:
            done = text("contract.acked", locale, version=version.version, date=f"{acked_at:%d %b}")
            blocks.append(Context(lines=(done,)))
    if roster is not None:
        acked, waiting = roster
        lines = [text("contract.ack.status", locale, acked=acked, total=acked + len(waiting))]
        lines.append(
            text("contract.ack.waiting", locale, names=", ".join(waiting))
            if waiting
            else text("contract.ack.everyone", locale)
        )
        if version is not None:
            blocks += [Divider(), Context(lines=tuple(lines))]
        edit = Button(
            action_id=EDIT, value=str(team_id), label=text("contract.button.edit", locale)
        )
        blocks.append(Buttons(buttons=(edit,)))
    return Message(ref=contract_ref(team_id), text=heading, blocks=tuple(blocks))


def form_message(
    team_id: int, team_name: str, version: ContractVersion | None, locale: str = "en"
) -> Message:
    title = text("contract.form.title", locale, team=team_name)
    current = "\n".join(n["text"] for n in version.norms) if version else ""
    next_version = (version.version if version else 0) + 1
    save = Button(
        action_id=SAVE,
        value=str(team_id),
        label=text("contract.form.save", locale),
        style="primary",
    )
    return Message(
        ref=f"contract-form:{team_id}",
        text=title,
        blocks=(
            Text(text=title, style="heading"),
            TextInput(
                input_id=NORMS_INPUT,
                label=text("contract.form.label", locale, max=MAX_NORMS),
                placeholder=text("contract.form.placeholder", locale),
                multiline=True,
                value=current,
                max_length=MAX_NORMS * (NORM_MAX + 1),
            ),
            Buttons(buttons=(save,)),
            Context(lines=(text("contract.form.context", locale, version=next_version),)),
        ),
    )


def check_message(
    check: ContractCheck,
    team_name: str,
    norms: Sequence[dict[str, str]],
    tz: ZoneInfo,
    mine: dict[str, int],
    comment: str | None = None,
    locale: str = "en",
) -> Message:
    """One row of 1–5 buttons per norm asked, the person's own ratings shown to them alone."""
    assert check.id is not None
    scale = CONTRACT_SCALE
    answered = sum(1 for n in norms if n["key"] in mine)
    progress = text(
        "contract.check.progress",
        locale,
        answered=answered,
        total=len(norms),
        closes=local_time(check.closes_at, tz),
    )
    choices = tuple(Choice(value=str(p), label=str(p)) for p in scale.points)
    blocks: list[Block] = [
        Text(text=text("contract.check.heading", locale, team=team_name), style="heading"),
        Text(text=text("contract.check.intro", locale)),
    ]
    for norm in norms:
        blocks.append(
            Question(
                action_id=RATE,
                prompt=norm["text"],
                choices=choices,
                selected=str(mine[norm["key"]]) if norm["key"] in mine else None,
                value_prefix=f"{check.id}:{norm['key']}:",
                low_label=scale.anchor_for(scale.min, locale),
                high_label=scale.anchor_for(scale.max, locale),
            )
        )
    if norms and answered == len(norms):
        blocks.append(Text(text=text("contract.check.done", locale), style="notice"))
    privacy = "anonymous" if check.privacy == "anonymous" else "confidential"
    blocks += [
        TextInput(
            input_id=COMMENT_INPUT,
            label=text("contract.check.comment.label", locale),
            placeholder=text(
                "contract.check.comment.placeholder", locale, threshold=check.min_comments
            ),
            multiline=True,
            value=comment or "",
            max_length=COMMENT_MAX,
        ),
        Buttons(
            buttons=(
                Button(
                    action_id=COMMENT,
                    value=str(check.id),
                    label=text("contract.check.button.comment", locale),
                ),
                Button(
                    action_id=SKIP,
                    value=str(check.id),
                    label=text("contract.check.button.skip", locale),
                ),
            )
        ),
        Context(
            lines=(
                progress,
                text(f"contract.check.{privacy}", locale, threshold=check.min_respondents),
            )
        ),
    ]
    return Message(ref=check_ref(check.id), text=progress, blocks=tuple(blocks))


def status_message(check_id: int, note: str) -> Message:
    """The check replaced by one line: skipped, or closed (no ratings stay in chat)."""
    return Message(ref=check_ref(check_id), text=note, blocks=(Text(text=note, style="notice"),))


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def results_message(
    team_key: str,
    team_name: str,
    results: Sequence[ContractCheckResult],
    comments: Sequence[ContractCheckComments],
    last: int = 3,
    locale: str = "en",
) -> Message:
    """The last few closed checks, norm by norm, only above the thresholds."""
    heading = text("contract.results.heading", locale, team=team_name)
    blocks: list[Block] = [Text(text=heading, style="heading")]
    numbers = sorted({r.check_number for r in results})[-last:]
    if not numbers:
        blocks.append(Text(text=text("contract.results.none", locale)))
    notes = {c.check_number: c for c in comments}
    for number in numbers:
        rows = [r for r in results if r.check_number == number]
        closed = f"{rows[0].closed_at:%d %b %Y}" if rows[0].closed_at else "?"
        line = text(
            "contract.results.check", locale, number=number, closed=closed, invited=rows[0].invited
        )
        blocks += [Divider(), Context(lines=(line,))]
        for r in rows:
            figure = (
                text(
                    "contract.results.figure",
                    locale,
                    mean=_fmt(r.mean),
                    score=_fmt(r.percent_of_max, 0),
                    answers=r.respondents,
                )
                if r.withheld is None
                else text("contract.results.withheld", locale, why=r.withheld)
            )
            blocks.append(
                Text(text=text("contract.results.norm", locale, norm=r.norm_text, figure=figure))
            )
        note = notes.get(number)
        if note and note.comments:
            blocks.append(Text(text=text("contract.results.comments", locale)))
            blocks.append(Context(lines=tuple(f"“{c}”" for c in note.comments)))
        elif note and note.withheld:
            blocks.append(
                Context(
                    lines=(
                        text("contract.results.comments_withheld", locale, reason=note.withheld),
                    )
                )
            )
    return Message(ref=f"contract-results:{team_key}", text=heading, blocks=tuple(blocks))
