"""Closing a round: its answers sealed and the key destroyed (storage/pulse/seal.py),
late messages cancelled, everyone's copy of the pulse replaced, the fatigue governor
updated and the results relayed; then the database scrubbed of what the open round
left in its files. All of it here, whether or not a sender is running: the local
chat's copies of the round's message are removed in the same transaction (the outbox
then delivers the closing note as a new message)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Refused
from handlers.context import Services
from handlers.pulse import said
from handlers.pulse.outbox import outgoing
from handlers.pulse.results import results_message, team_results
from handlers.pulse.rounds import (
    PAUSE_AFTER_UNANSWERED,
    RoundClosed,
    team_and_program,
)
from handlers.pulse.view import closed_message, paused_message, round_ref
from prompts.texts import text
from scheduler.calendar.people import person_timezone
from storage.channels import local_inbox
from storage.core import audit, directory, outbox
from storage.core.models import Role
from storage.pulse import rounds as pulse
from storage.pulse import seal
from storage.pulse.models import PulseRound


async def close_round(services: Services, round_id: int, actor: str = "scheduler") -> RoundClosed:
    now = services.clock.now()
    async with services.db.session() as session:
        round_ = await session.get(PulseRound, round_id)
        if round_ is None or round_.status != "open":
            raise Refused(text("pulse.refused.round_not_open", number=round_id))
        team = await directory.team(session, round_.team_id)
        assert team is not None and team.id is not None
        workspace = await directory.workspace(session, team.workspace_id)
        await pulse.close_round(session, round_, now)
        await outbox.cancel_pending(session, f"pulse:{round_id}:", "the round closed")
        invites = await pulse.invites(session, round_id)
        # Each copy's version and update time counted that person's saves: gone.
        await local_inbox.remove(session, [i.person_id for i in invites], round_ref(round_id))
        answered = sum(1 for i in invites if i.answered)
        paused: list[str] = []
        batch: list[outbox.Outgoing] = []
        for invite in invites:
            person = await directory.person(session, invite.person_id)
            assert person is not None
            tz = person_timezone(person, team, workspace)
            closed = closed_message(round_, team.name, tz, len(invites), answered, person.locale)
            batch.append(
                outgoing(
                    f"pulse-closed:{round_id}:{person.id}",
                    person,
                    "pulse-closed",
                    closed,
                    now,
                    None,
                )
            )
            if round_.kind == "test":
                continue
            state = await pulse.participant(session, round_.program_id, invite.person_id)
            state.unanswered_streak = (
                0 if (invite.answered or invite.skipped) else state.unanswered_streak + 1
            )
            if state.unanswered_streak >= PAUSE_AFTER_UNANSWERED and state.paused_at is None:
                state.paused_at = now
                paused.append(person.handle)
                message = paused_message(round_.program_id, team.name, person.locale)
                batch.append(
                    outgoing(
                        f"pulse-paused:{round_id}:{person.id}",
                        person,
                        "pulse-paused",
                        message,
                        now,
                        None,
                    )
                )
            session.add(state)
        await outbox.enqueue_many(session, batch)
        audit.record(
            session,
            actor,
            "pulse.close",
            f"team:{team.key}",
            round=round_id,
            answered=answered,
            invited=len(invites),
        )
        if round_.kind != "test":
            await session.flush()
            await _relay_results(services, session, team.key, round_id)
        team_key = team.key
    await services.db.scrub(seal.REWRITTEN, seal.VACUUMED)
    done = RoundClosed(round_id, team_key, len(invites), answered, paused)
    said.closed(done)
    return done


async def _relay_results(
    services: Services, session: AsyncSession, team_key: str, round_id: int
) -> None:
    """The coach (and the team, where the program allows) gets the round's results,
    in the same unit of work as the close: a crash never loses them."""
    results = await team_results(services, team_key, session=session)
    now = services.clock.now()
    team, program = await team_and_program(session, team_key, None)
    assert team.id is not None
    readers = await directory.members(session, team.id, Role.COACH)
    if program.team_sees_results:
        readers += [
            p for p in await directory.members(session, team.id, Role.EXECUTIVE) if p not in readers
        ]
    message = results_message(results)
    await outbox.enqueue_many(
        session,
        [
            outgoing(f"pulse-results:{round_id}:{p.id}", p, "pulse-results", message, now, None)
            for p in readers
        ],
    )


async def close_team_round(services: Services, team_key: str, actor: str = "cli") -> RoundClosed:
    async with services.db.session() as session:
        _, program = await team_and_program(session, team_key, None)
        assert program.id is not None
        current = await pulse.open_round(session, program.id)
    if current is None or current.id is None:
        raise Refused(text("pulse.refused.none_open", team=team_key))
    return await close_round(services, current.id, actor)


async def close_due_rounds(services: Services) -> list[RoundClosed]:
    """Rounds whose window has ended close by themselves (a scheduler job)."""
    async with services.db.session() as session:
        due = await pulse.rounds_due_to_close(session, services.clock.now())
    return [await close_round(services, r.id or 0) for r in due]
