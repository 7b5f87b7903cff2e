"""Eight weeks of plausible pulse history for the demo team, so results and trends
have something to show, plus an open round for the visitor to answer.

Generated from a fixed seed (the same demo every time) and stored exactly as real
anonymous rounds end up: closed, keyless, answers under opaque tokens."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.events import Refused
from handlers.pulse.rounds import open_round
from storage.core import directory
from storage.core.models import Role
from storage.pulse import history as pulse_history
from storage.pulse import rounds as pulse
from storage.pulse.models import PulseRound

if TYPE_CHECKING:
    from bot.essentials import Essentials

TEAM = "leadership"
# The team's feeling of safety week by week on the 1–7 scale: a dip in week 5
# (a tense reorganisation) that the coach's digest flags, then recovery.
WEEKLY_LEVEL = (4.4, 4.6, 4.7, 4.8, 3.9, 4.5, 4.9, 5.1)
COMMENTS = (
    "Disagreement in the Monday meeting felt more welcome than before.",
    "The reorg decisions were made before we discussed them.",
    "I still hesitate to admit mistakes in front of the CEO.",
    "We interrupt each other a lot when time is short.",
    "Good to see people asking for help openly this week.",
    "Hard topics get parked instead of discussed.",
    "More space for the quieter voices, please.",
)


async def seed_pulse_history(app: Essentials, weeks: int = len(WEEKLY_LEVEL)) -> list[str]:
    services = app.services
    rng = random.Random(20261125)
    now = services.clock.now()
    async with services.db.session() as session:
        team = await directory.team_by_key(session, TEAM)
        programs = await pulse.programs_for_team(session, team.id or 0) if team else []
        if team is None or not programs:
            return ["demo pulse history skipped: no program for the demo team"]
        program = programs[0]
        if await pulse_history.closed_rounds(session, team.id or 0, 1, program.id):
            return ["demo pulse history already there"]
        executives = await directory.members(session, team.id or 0, Role.EXECUTIVE)
        instrument = services.instruments[program.instrument]
        scale = instrument.scale
        leaning = {p.id or 0: rng.uniform(-0.6, 0.6) for p in executives}
        for index, level in enumerate(WEEKLY_LEVEL[-weeks:]):
            opened = now - timedelta(weeks=weeks - index, hours=2)
            # Everyone, or now and then a week with three away: rounds whose respondents
            # differ by one or two people are withheld (handlers/pulse/visibility.py).
            ids = [p.id or 0 for p in executives]
            travel = rng.random() < 0.25 and index < weeks - 1  # the latest: everyone
            away = set(rng.sample(ids, 3)) if travel else set()
            answering = [p for p in executives if (p.id or 0) not in away]
            round_ = await pulse.create_round(
                session,
                PulseRound(
                    program_id=program.id or 0,
                    team_id=team.id or 0,
                    number=index + 1,
                    kind="scheduled",
                    status="open",
                    item_keys=[i.key for i in instrument.items],
                    privacy=program.privacy,
                    min_respondents=program.min_respondents,
                    min_comments=program.min_comments,
                    opened_at=opened,
                    closes_at=opened + timedelta(hours=program.window_hours),
                    occurrence=opened.date().isoformat(),
                ),
                [p.id or 0 for p in executives],
            )
            answers: list[tuple[str, str, int]] = []
            comments: list[tuple[str, str]] = []
            for person in answering:
                token = secrets.token_hex(20)  # as after close: linked to nobody
                for item in instrument.items:
                    felt = level + leaning[person.id or 0] + rng.gauss(0, 0.8)
                    score = min(scale.max, max(scale.min, round(felt)))
                    answers.append(
                        (token, item.key, scale.reverse(score) if item.reverse else score)
                    )
                if rng.random() < 0.4 or (person is answering[-1] and not comments):
                    comments.append((token, rng.choice(COMMENTS)))  # a round has one at least
            await pulse_history.store_history(
                session,
                round_,
                {p.id or 0 for p in answering},
                answers,
                comments,
                closed_at=round_.closes_at,
            )
    return [f"added {weeks} weeks of demo pulse history"]


async def open_demo_round(app: Essentials) -> list[str]:
    """A round open now, so the visitor can answer a pulse as an executive."""
    try:
        opened = await open_round(app.services, TEAM, kind="manual")
    except Refused as refused:
        return [f"no new demo round: {refused}"]
    return [f"opened pulse round {opened.number} for {len(opened.invited)} executives"]
