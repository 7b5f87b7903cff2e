"""How team contracts look in chat: the norms with acknowledgement, the editing form, a
check's closing line and results — neutral messages only (the check itself, and its
private form, in `check_view`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Message,
    Text,
    TextInput,
)
from handlers.commitments.follow_through import ContractCheckComments, ContractCheckResult
from handlers.contracts.check_view import check_ref
from prompts.texts import text
from storage.contracts.models import ContractVersion

ACK = "contract.ack"
EDIT = "contract.edit"
SAVE = "contract.save"
NORMS_INPUT = "norms"
MAX_NORMS = 10
NORM_MAX = 200


def contract_ref(team_id: int) -> str:
    return f"contract:{team_id}"


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
