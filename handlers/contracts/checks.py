"""Answering a contract check in chat: the private form (every rating, 1–5, and an
optional comment, saved at once), or skip. Ratings are stored under the check's
respondent token, never a person id; the invite only records that someone answered,
for response rates. No message any channel keeps shows a rating or a comment."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import ActionEvent, Refused, Reply
from handlers.commitments.follow_through import CONTRACT_SCALE
from handlers.context import ActionHandler, Services
from handlers.contracts import check_view as view
from handlers.contracts.check_view import CheckLayout
from handlers.contracts.view import status_message
from prompts.texts import text
from scheduler.calendar.people import person_timezone
from storage.contracts import queries as contracts
from storage.contracts.models import ContractCheck
from storage.core import directory
from storage.core.models import Person


def _id(value: str) -> int:
    head = value.split(":", 1)[0]
    if not head.isdigit():
        raise Refused(text("contract.refused.unreadable"))
    return int(head)


async def _check_for(
    session: AsyncSession, event: ActionEvent, check_id: int
) -> tuple[ContractCheck, str, Person]:
    """The open check, this person's invite and token; refuses forged and late clicks."""
    check = await contracts.check(session, check_id)
    invite = await contracts.invite_for(session, check_id, event.actor.person_id) if check else None
    person = await directory.person(session, event.actor.person_id)
    if check is None or invite is None or person is None:
        raise Refused(text("contract.refused.not_invited"))
    token = await contracts.respondent_token(session, check, person.id or 0)
    if check.status != "open" or token is None:
        raise Refused(text("contract.refused.closed"))
    return check, token, person


async def _layout(session: AsyncSession, check: ContractCheck, person: Person) -> CheckLayout:
    team = await directory.team(session, check.team_id)
    version = await contracts.version(session, check.version_id)
    assert team is not None and version is not None
    workspace = await directory.workspace(session, team.workspace_id)
    norms = [n for n in version.norms if n["key"] in check.norm_keys]
    tz = person_timezone(person, team, workspace)
    return CheckLayout(check, team.name, norms, tz, person.locale)


async def _mark_answered(session: AsyncSession, check_id: int, person_id: int) -> None:
    invite = await contracts.invite_for(session, check_id, person_id)
    assert invite is not None
    invite.answered = True  # who answered, never what: for response rates
    session.add(invite)


def _score(raw: str) -> int:
    if not raw.lstrip("-").isdigit():
        raise Refused(text("contract.refused.unreadable"))
    score = int(raw)
    if not CONTRACT_SCALE.min <= score <= CONTRACT_SCALE.max:
        raise Refused(text("contract.refused.scale", score=score))
    return score


def _form_ratings(check: ContractCheck, inputs: Mapping[str, str]) -> dict[str, int]:
    """The chosen ratings by norm; an empty choice is left unrated."""
    ratings: dict[str, int] = {}
    for field, raw in inputs.items():
        if field == view.COMMENT_INPUT:
            continue
        if field not in check.norm_keys:
            raise Refused(text("contract.refused.input", field=field))
        if raw.strip():
            ratings[field] = _score(raw.strip())
    return ratings


def _comment(raw: str) -> str:
    comment = raw.strip()
    if len(comment) > view.COMMENT_MAX:
        raise Refused(
            text("contract.check.comment.too_long", max=view.COMMENT_MAX, length=len(comment))
        )
    return comment


async def on_open(services: Services, event: ActionEvent) -> Reply:
    """Rate / Change: the person's private form, read from the open check."""
    async with services.db.session() as session:
        check, token, person = await _check_for(session, event, _id(event.value))
        layout = await _layout(session, check, person)
        mine = await contracts.ratings_of(session, check.id or 0, token)
        comment = await contracts.comment_of(session, check.id or 0, token)
    return Reply(form=layout.form(mine, comment))


async def on_submit(services: Services, event: ActionEvent) -> Reply:
    """The private form, submitted: every rating and the comment in one transaction,
    all checked before anything is written. The kept message is updated to the
    person's progress; no notice is stored (it would mark who answered when)."""
    box = event.inputs.get(view.COMMENT_INPUT)  # None: a form without the box
    comment = _comment(box or "")
    async with services.db.session() as session:
        check, token, person = await _check_for(session, event, _id(event.value))
        check_id = check.id or 0
        ratings = _form_ratings(check, event.inputs)
        saved = await contracts.comment_of(session, check_id, token)
        withdrawn = box is not None and not comment and saved is not None  # box emptied
        if not ratings and not comment and not withdrawn:
            raise Refused(text("contract.check.form.empty", person.locale))
        stored = [
            await contracts.save_rating(session, check_id, token, norm_key, score)
            for norm_key, score in ratings.items()
        ]
        if comment and comment != saved:
            stored.append(await contracts.save_comment(session, check_id, token, comment))
        if not all(stored):  # closed since it was read: nothing of this is kept
            raise Refused(text("contract.refused.closed", person.locale))
        if withdrawn:
            await contracts.withdraw_comment(session, check_id, token)
        await _mark_answered(session, check_id, person.id or 0)
        mine = await contracts.ratings_of(session, check_id, token)
        update = (await _layout(session, check, person)).message(mine)
    return Reply(update=update)


async def on_rate(services: Services, event: ActionEvent) -> Reply:
    """One rating by itself (API clients, and the scale buttons of check messages sent
    before the private form): stored, and the clicked message redrawn without values."""
    parts = event.value.split(":")
    if len(parts) != 3 or not parts[0].isdigit():
        raise Refused(text("contract.refused.unreadable"))
    check_id, norm_key = int(parts[0]), parts[1]
    async with services.db.session() as session:
        check, token, person = await _check_for(session, event, check_id)
        if norm_key not in check.norm_keys:
            raise Refused(text("contract.refused.norm"))
        if not await contracts.save_rating(session, check_id, token, norm_key, _score(parts[2])):
            raise Refused(text("contract.refused.closed", person.locale))
        await _mark_answered(session, check_id, person.id or 0)
        mine = await contracts.ratings_of(session, check_id, token)
        return Reply(update=(await _layout(session, check, person)).message(mine))


async def on_comment(services: Services, event: ActionEvent) -> Reply:
    """A comment by itself (the Send comment button of check messages sent before the
    private form): stored, and the message redrawn without it."""
    comment = _comment(event.inputs.get(view.COMMENT_INPUT, ""))
    if not comment:
        raise Refused(text("contract.check.comment.empty"))
    async with services.db.session() as session:
        check, token, person = await _check_for(session, event, _id(event.value))
        if not await contracts.save_comment(session, check.id or 0, token, comment):
            raise Refused(text("contract.refused.closed", person.locale))
        await _mark_answered(session, check.id or 0, person.id or 0)
        mine = await contracts.ratings_of(session, check.id or 0, token)
        update = (await _layout(session, check, person)).message(mine)
    return Reply(update=update, notice=text("contract.check.comment.saved", person.locale))


async def on_skip(services: Services, event: ActionEvent) -> Reply:
    check_id = _id(event.value)
    async with services.db.session() as session:
        _, _, person = await _check_for(session, event, check_id)
        invite = await contracts.invite_for(session, check_id, person.id or 0)
        assert invite is not None
        invite.skipped = True
        session.add(invite)
    return Reply(update=status_message(check_id, text("contract.check.skipped", person.locale)))


ACTIONS: dict[str, ActionHandler] = {
    view.OPEN: on_open,
    view.SUBMIT: on_submit,
    view.RATE: on_rate,
    view.COMMENT: on_comment,
    view.SKIP: on_skip,
}
