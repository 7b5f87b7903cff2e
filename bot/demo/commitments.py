"""The demo team's contract and commitments, with history: two contract versions (most
have acknowledged the current one, two have not yet), four closed contract checks, and
commitments with about eight weeks of check-ins — one of them proposed by the coach and
waiting for the leader's confirmation.

From a fixed seed (the same demo every time); running it twice adds nothing. Checks are
stored the way real anonymous checks end up: closed, keyless, ratings under opaque tokens.
"""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from handlers.commitments.schedule import (
    cadence_of,
    context_of,
    enqueue,
    leader_availability,
    plan_in,
)
from handlers.commitments.view import confirm_message
from handlers.contracts.commands import save_version
from handlers.contracts.schedule import plan_in as plan_contract
from handlers.pulse.rounds import rotation
from scheduler.calendar.localtime import plan_occurrence
from storage.commitments import queries as commitments
from storage.commitments.models import Commitment
from storage.contracts import queries as contracts
from storage.contracts.models import ContractCheck
from storage.core import directory, outbox
from storage.core.models import Role, Team

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.essentials import Essentials

TEAM = "leadership"
FIRST_NORMS = [
    "We disagree in the room, not after.",
    "We ask for help before we are stuck.",
    "We say what we see, kindly and directly.",
]
NORMS = [
    *FIRST_NORMS,
    "We decide who decides before we discuss.",
]
NOT_YET_ACKNOWLEDGED = ("daniel", "chloe")
CHECK_LEVELS = (3.1, 3.4, 3.2, 3.8)  # how well the team lived its norms, check by check
CHECK_COMMENTS = (
    "The Thursday review was the first time we really argued it out in the room.",
    "Decisions still get reopened in one-to-ones afterwards.",
    "Asking for help is easier since the offsite.",
    "We could name the decision owner earlier.",
    "Feedback in the ops meeting was direct and kind.",
)
# handle, behaviour, why, link, partner (with summary), visibility, kept tendency
COMMITMENTS = (
    (
        "maya",
        "ask for dissent before every decision",
        "The team agrees with me too fast.",
        ("stage", "challenger"),
        None,
        "team",
        0.75,
    ),
    (
        "oliver",
        "admit one mistake openly in the Monday meeting",
        "Mistakes are hidden, so repeated.",
        ("stage", "learner"),
        "priya",
        "coach",
        0.6,
    ),
    (
        "priya",
        "name the decision owner at the start of each discussion",
        None,
        ("norm", "we_decide_who_decides_before"),
        None,
        "coach",
        0.85,
    ),
    (
        "daniel",
        "hold back my view until two others have spoken",
        "Quieter voices matter.",
        ("stage", "contributor"),
        None,
        "coach",
        0.5,
    ),
)
REFLECTIONS = (
    "Asked twice; the second time someone actually pushed back.",
    "Ran out of time and decided alone again.",
    "Felt awkward, but it opened the discussion.",
    "Forgot in the first meeting, did it in the second.",
    "The team noticed and said so.",
)


async def seed_commitments(app: Essentials) -> list[str]:
    """Add the demo contract and commitments once; returns what it did, for the console."""
    services = app.services
    now, rng = services.clock.now(), random.Random(20261126)
    lines: list[str] = []
    async with services.db.session() as session:
        team = await directory.team_by_key(session, TEAM)
        if team is None:
            return ["demo contracts skipped: no demo team"]
        if await contracts.for_team(session, team.id or 0) is None:
            lines.append(await _contract(session, team, now, rng))
        else:
            lines.append("demo contract already there")
        if await commitments.of_team(session, team.id or 0):
            lines.append("demo commitments already there")
        else:
            lines.append(await _commitments(session, team, now, rng))
    return lines


async def _contract(session: AsyncSession, team: Team, now: datetime, rng: random.Random) -> str:
    coach = (await directory.members(session, team.id or 0, Role.COACH))[0]
    executives = await directory.members(session, team.id or 0, Role.EXECUTIVE)
    first, _ = await save_version(session, now, team, FIRST_NORMS, coach.id)
    first.created_at = now - timedelta(weeks=12)
    current, _ = await save_version(session, now, team, NORMS, coach.id)
    current.created_at = now - timedelta(weeks=8, days=4)
    session.add_all([first, current])
    for person in executives:
        await contracts.acknowledge(session, first.id or 0, person.id or 0, first.created_at)
        if person.handle not in NOT_YET_ACKNOWLEDGED:
            acked = current.created_at + timedelta(days=rng.randint(0, 4), hours=rng.randint(1, 8))
            await contracts.acknowledge(session, current.id or 0, person.id or 0, acked)
            await outbox.cancel_pending(session, f"contract:{current.id}:ack:{person.id}", "demo")
    contract = await contracts.for_team(session, team.id or 0)
    assert contract is not None
    keys = [n["key"] for n in current.norms]
    for number, level in enumerate(CHECK_LEVELS, start=1):
        opened = now - timedelta(weeks=2 * (len(CHECK_LEVELS) - number) + 1, hours=3)
        asked = rotation(keys, contract.norms_per_check, number)
        check = await contracts.create_check(
            session,
            ContractCheck(
                contract_id=contract.id or 0,
                team_id=team.id or 0,
                version_id=current.id or 0,
                number=number,
                occurrence=opened.date().isoformat(),
                norm_keys=asked,
                privacy=contract.privacy,
                min_respondents=contract.min_respondents,
                min_comments=contract.min_comments,
                opened_at=opened,
                closes_at=opened + timedelta(hours=contract.window_hours),
            ),
            [p.id or 0 for p in executives],
        )
        for person in executives:
            if rng.random() > 0.85:
                continue
            token = secrets.token_hex(20)  # as after close: linked to nobody
            for key in asked:
                score = min(5, max(1, round(level + rng.gauss(0, 0.8))))
                await contracts.save_rating(session, check.id or 0, token, key, score)
            if rng.random() < 0.5:
                await contracts.save_comment(
                    session, check.id or 0, token, rng.choice(CHECK_COMMENTS)
                )
            invite = await contracts.invite_for(session, check.id or 0, person.id or 0)
            assert invite is not None
            invite.answered = True
            session.add(invite)
        await contracts.close_check(session, check, check.closes_at)
    await plan_contract(session, now, contract)
    return f"added the demo contract (2 versions) and {len(CHECK_LEVELS)} closed contract checks"


async def _commitments(session: AsyncSession, team: Team, now: datetime, rng: random.Random) -> str:
    people = {p.handle: p for p in await directory.members(session, team.id or 0)}
    coach = (await directory.members(session, team.id or 0, Role.COACH))[0]
    count = 0
    for handle, behaviour, why, link, partner, visibility, tendency in COMMITMENTS:
        leader = people[handle]
        c = Commitment(
            person_id=leader.id or 0,
            team_id=team.id or 0,
            behaviour=behaviour,
            why=why,
            stage=link[1] if link[0] == "stage" else None,
            norm_key=link[1] if link[0] == "norm" else None,
            ends_on=(now + timedelta(weeks=6)).date(),
            visibility=visibility,
            partner_id=people[partner].id if partner else None,
            partner_summary=partner is not None,
            created_by=leader.id,
            created_at=now - timedelta(weeks=8, days=3),
            confirmed_at=now - timedelta(weeks=8, days=3),
        )
        await commitments.add(session, c)
        await _history(session, c, now, rng, tendency)
        await plan_in(session, now, c)
        count += 1
    proposal = Commitment(
        person_id=people["weiling"].id or 0,
        team_id=team.id or 0,
        behaviour="ask each direct report what I should stop doing",
        why="Proposed after our last session: feedback flows only one way.",
        stage="learner",
        ends_on=(now + timedelta(weeks=10)).date(),
        status="pending",
        created_by=coach.id,
    )
    await commitments.add(session, proposal)
    card = confirm_message(proposal, coach.name)
    weiling = people["weiling"].id or 0
    await enqueue(
        session, f"commitment:{proposal.id}:confirm", weiling, "commitment-confirm", card, now
    )
    return f"added {count} demo commitments with 8 weeks of check-ins, and 1 proposal"


async def _history(
    session: AsyncSession, c: Commitment, now: datetime, rng: random.Random, tendency: float
) -> None:
    """About eight weekly check-ins in the leader's own time: mostly kept for some,
    a mixed picture for others, the odd skipped or unanswered week."""
    person, team, workspace = await context_of(session, c)
    av = leader_availability(c, person, team, workspace)
    day: date = (now - timedelta(weeks=8)).astimezone(av.tz).date()
    for _ in range(12):
        day = cadence_of(c).next_occurrence(day)
        asked = plan_occurrence(cadence_of(c), av, day, f"commitment:{c.id}").utc
        if asked >= now:
            break
        checkin = await commitments.ensure_checkin(session, c.id or 0, day.isoformat(), asked)
        roll = rng.random()
        if roll < 0.08:
            continue  # unanswered
        outcome = (
            "skipped"
            if roll < 0.15
            else "kept"
            if roll < 0.15 + tendency * 0.85
            else rng.choice(("partly", "missed"))
        )
        checkin.outcome, checkin.answered_at = (
            outcome,
            asked + timedelta(minutes=rng.randint(5, 300)),
        )
        if rng.random() < 0.45:
            checkin.reflection = rng.choice(REFLECTIONS)
        session.add(checkin)
