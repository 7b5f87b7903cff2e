"""Answering a contract check in chat: a rating per norm (1–5), an optional comment, or
skip. Ratings are stored under the check's respondent token, never a person id; the
invite only records that someone answered, for response rates."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import ActionEvent, Refused, Reply
from bot.core.messages import Message
from handlers.commitments.follow_through import CONTRACT_SCALE
from handlers.context import ActionHandler, Services
from handlers.contracts import view
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


async def _rerender(
    session: AsyncSession, check: ContractCheck, token: str, person: Person
) -> Message:
    team = await directory.team(session, check.team_id)
    version = await contracts.version(session, check.version_id)
    assert team is not None and version is not None
    workspace = await directory.workspace(session, team.workspace_id)
    norms = [n for n in version.norms if n["key"] in check.norm_keys]
    return view.check_message(
        check,
        team.name,
        norms,
        person_timezone(person, team, workspace),
        await contracts.ratings_of(session, check.id or 0, token),
        await contracts.comment_of(session, check.id or 0, token),
        person.locale,
    )


async def on_rate(services: Services, event: ActionEvent) -> Reply:
    parts = event.value.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].lstrip("-").isdigit():
        raise Refused(text("contract.refused.unreadable"))
    check_id, norm_key, score = int(parts[0]), parts[1], int(parts[2])
    async with services.db.session() as session:
        check, token, person = await _check_for(session, event, check_id)
        if norm_key not in check.norm_keys:
            raise Refused(text("contract.refused.norm"))
        if not CONTRACT_SCALE.min <= score <= CONTRACT_SCALE.max:
            raise Refused(text("contract.refused.scale", score=score))
        await contracts.save_rating(session, check_id, token, norm_key, score)
        invite = await contracts.invite_for(session, check_id, person.id or 0)
        assert invite is not None
        invite.answered = True  # who answered, never what: for response rates
        session.add(invite)
        return Reply(update=await _rerender(session, check, token, person))


async def on_comment(services: Services, event: ActionEvent) -> Reply:
    comment = event.inputs.get(view.COMMENT_INPUT, "").strip()
    if not comment:
        raise Refused(text("contract.check.comment.empty"))
    if len(comment) > view.COMMENT_MAX:
        raise Refused(
            text("contract.check.comment.too_long", max=view.COMMENT_MAX, length=len(comment))
        )
    async with services.db.session() as session:
        check, token, person = await _check_for(session, event, _id(event.value))
        await contracts.save_comment(session, check.id or 0, token, comment)
        update = await _rerender(session, check, token, person)
    return Reply(update=update, notice=text("contract.check.comment.saved", person.locale))


async def on_skip(services: Services, event: ActionEvent) -> Reply:
    check_id = _id(event.value)
    async with services.db.session() as session:
        _, _, person = await _check_for(session, event, check_id)
        invite = await contracts.invite_for(session, check_id, person.id or 0)
        assert invite is not None
        invite.skipped = True
        session.add(invite)
    return Reply(
        update=view.status_message(check_id, text("contract.check.skipped", person.locale))
    )


ACTIONS: dict[str, ActionHandler] = {
    view.RATE: on_rate,
    view.COMMENT: on_comment,
    view.SKIP: on_skip,
}
