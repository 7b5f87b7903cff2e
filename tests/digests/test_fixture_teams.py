"""Fixture teams a coach meets — improving, declining, split, silent, one loud
commenter — and what each digest must say: its flags, its trend's story and the topics
its focus questions are drawn from, on the fallback path and on the model path (the
model stand-in answers; the signals it is given are the same)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Pulsecoach
from handlers.digests.send import DigestOptions
from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.contracts.models import (
    ContractAck,
    ContractCheck,
    ContractCheckInvite,
    ContractRating,
    ContractVersion,
    TeamContract,
)
from storage.digests import queries as digests
from storage.pulse.models import PulseParticipant
from tests.support.clock import FakeClock
from tests.support.digests import LAST_SESSION, SIX, add_round, send, shown
from tests.support.llm_standin import LLMStandIn, summarizer
from tests.support.pulse_fixtures import build_org

Ids = dict[str, int]


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def _all(score: int) -> dict[str, int]:
    return dict.fromkeys(SIX, score)


async def _improving(app: Pulsecoach, ids: Ids) -> None:
    """A dip after a reorganisation, then recovery to the highest point."""
    await add_round(app, ids, 1, _at(10, 12), _all(5))
    await add_round(app, ids, 2, _at(10, 26), _all(3))
    await add_round(app, ids, 3, _at(11, 9), _all(5))
    await add_round(app, ids, 4, _at(11, 16), _all(6))


async def _declining(app: Pulsecoach, ids: Ids) -> None:
    """Scores fall; the contract's weakest norm is low and one version is not
    acknowledged by all; one commitment slipped, one waits for its leader."""
    await add_round(app, ids, 1, _at(10, 26), _all(6))
    await add_round(app, ids, 2, _at(11, 16), _all(3))
    async with app.db.session() as session:
        contract = TeamContract(team_id=ids["team"], current_version=1)
        session.add(contract)
        await session.flush()
        norms = [
            {"key": "room", "text": "We disagree in the room"},
            {"key": "time", "text": "On time"},
        ]
        version = ContractVersion(contract_id=contract.id or 0, version=1, norms=norms)
        session.add(version)
        await session.flush()
        for handle in SIX[:4]:
            session.add(ContractAck(version_id=version.id or 0, person_id=ids[handle]))
        for number, (day, room) in enumerate(((19, 3), (9, 2)), start=1):
            closed = _at(10 if number == 1 else 11, day)
            check = ContractCheck(
                contract_id=contract.id or 0,
                team_id=ids["team"],
                version_id=version.id or 0,
                number=number,
                status="closed",
                norm_keys=["room", "time"],
                privacy="anonymous",
                min_respondents=3,
                min_comments=5,
                opened_at=closed - timedelta(days=3),
                closes_at=closed,
                closed_at=closed,
            )
            session.add(check)
            await session.flush()
            for n, handle in enumerate(SIX):
                session.add(ContractCheckInvite(check_id=check.id or 0, person_id=ids[handle]))
                for key, score in (("room", room), ("time", 5)):
                    session.add(
                        ContractRating(
                            check_id=check.id or 0, respondent=f"r{n}", norm_key=key, score=score
                        )
                    )
        kept = Commitment(
            person_id=ids["ana"],
            team_id=ids["team"],
            behaviour="ask for dissent before every decision",
            ends_on=date(2027, 3, 1),
            confirmed_at=_at(9, 1),
        )
        proposal = Commitment(
            person_id=ids["ben"],
            team_id=ids["team"],
            behaviour="hold a weekly open hour",
            ends_on=date(2027, 3, 1),
            status="pending",
        )
        session.add_all([kept, proposal])
        await session.flush()
        # Kept before the period, missed in it: the rates count the last 4 and 12 answered
        # check-ins, as the leader's own view does, not only the period's.
        outcomes = ["kept", "kept", "kept", "kept", "missed", "missed"]
        for week, outcome in enumerate(outcomes):
            asked = _at(9, 25) + timedelta(weeks=week)
            session.add(
                CommitmentCheckIn(
                    commitment_id=kept.id or 0,
                    occurrence=f"{asked:%Y-%m-%d}",
                    asked_at=asked,
                    outcome=outcome,
                )
            )


async def _split(app: Pulsecoach, ids: Ids) -> None:
    await add_round(app, ids, 1, _at(10, 26), _all(4))
    half = {h: (7 if n < 3 else 1) for n, h in enumerate(SIX)}
    await add_round(app, ids, 2, _at(11, 16), half)


async def _silent(app: Pulsecoach, ids: Ids) -> None:
    await add_round(app, ids, 1, _at(10, 26), _all(5))
    await add_round(app, ids, 2, _at(11, 9), {"ana": 5, "ben": 4})
    await add_round(app, ids, 3, _at(11, 16), {"ana": 5, "ben": 4})
    async with app.db.session() as session:  # as closing those rounds left it
        for handle in SIX[2:]:
            streak = PulseParticipant(
                program_id=ids["program"], person_id=ids[handle], unanswered_streak=2
            )
            session.add(streak)


LOUD = (
    "Ben keeps interrupting me in EVERY meeting and nobody says anything!!! "
    "Call me at +44 20 7946 0958 if you want the details."
)


async def _loud(app: Pulsecoach, ids: Ids) -> None:
    await add_round(app, ids, 1, _at(10, 26), _all(5))
    await add_round(app, ids, 2, _at(11, 16), _all(5), [LOUD])


@dataclass(frozen=True)
class Team:
    id: str
    build: Callable[[Pulsecoach, Ids], Awaitable[None]]
    flags: tuple[str, ...]  # each in some flag
    topics: tuple[str, ...]  # the first signals' topics, strongest first
    questions: tuple[str, ...]  # the topics the fallback's questions come from
    says: tuple[str, ...] = ()  # in the digest as shown


TEAMS = [
    Team(
        "improving",
        _improving,
        flags=(),
        topics=("rise", "recovery"),
        questions=("rise", "recovery"),
        says=(
            "Over 4 rounds: lowest 33 (26 Oct), highest 83 (16 Nov); now 83, rising.",
            "The direction last changed at 26 Oct. That is the highest of the 4 rounds.",
            "more than the ±",
        ),
    ),
    Team(
        "declining",
        _declining,
        flags=(
            "fell 50 points since the last round",
            "2 of the team have not acknowledged the current contract (version 1)",
            "Ana missed 2 recent check-in(s)",
        ),
        topics=("drop", "contract", "acknowledgement", "commitments", "no_commitment"),
        questions=("drop", "contract", "commitments"),
        says=(
            "Weakest norm: “We disagree in the room” at 25/100 (checks: 50 → 25).",
            "Not yet acknowledged version 1: Eve, Fay.",
            "Leaders with no open commitment: Ben, Chloe, Dev, Eve, Fay.",
            "Proposals waiting for their leader: Ben: hold a weekly open hour.",
            "kept 50% of the last 4 answered check-ins, 67% of all 6",
        ),
    ),
    Team(
        "split",
        _split,
        flags=("Answers are divided on",),
        topics=("split",),
        questions=("split",),
        says=("No stage clearly weakest", "50% favourable, 50% unfavourable", "within the ±"),
    ),
    Team(
        "silent",
        _silent,
        flags=("4 of the team have not answered the last 2+ pulses",),
        topics=("participation",),
        questions=("participation",),
        says=("Score of round 3: 2 respondents; results show from 3.",),
    ),
    Team(
        "loud-commenter",
        _loud,
        flags=(),
        topics=("comments",),
        questions=("comments",),
        says=(
            "Too few comments for themes (1)",
            "(name removed) keeps interrupting me in EVERY meeting",
            "Call me at (phone removed) if you want the details.",
        ),
    ),
]


def _check(row: Any, team: Team) -> None:
    content = row.content
    for flag in team.flags:
        assert any(flag in f for f in content["flags"]), (flag, content["flags"])
    topics = [s["topic"] for s in content["signals"]]
    assert topics[: len(team.topics)] == list(team.topics), topics
    text = shown(row)
    for said in team.says:
        assert said in text, said
    assert "Ben keeps" not in text and "7946" not in text


@pytest.mark.parametrize("team", TEAMS, ids=[t.id for t in TEAMS])
async def test_fixture_team_on_the_fallback(tmp_path: Path, clock: FakeClock, team: Team) -> None:
    app, ids = await build_org(tmp_path, clock, executives=SIX)
    async with app.db.session() as session:
        await digests.add_session(session, ids["team"], LAST_SESSION, "config")
    await team.build(app, ids)
    row = await send(app, DigestOptions())
    _check(row, team)
    # The fallback asks the questions of the strongest signals of each part of the
    # page, never a tie's; general questions fill up to three.
    questions = row.content["summary"]["focus_questions"]
    topics = {s["question"]: s["topic"] for s in row.content["signals"]}
    assert [topics.get(q, "general") for q in questions] == [
        *team.questions,
        *["general"] * (3 - len(team.questions)),
    ]
    if team.id == "split":
        assert not any(s["topic"].startswith("stage:") for s in row.content["signals"])
    if team.id == "loud-commenter":
        assert row.content["summary"]["themes"] == []  # one comment is not a theme
    await app.db.dispose()


@pytest.mark.parametrize("team", TEAMS, ids=[t.id for t in TEAMS])
async def test_fixture_team_on_the_model_path(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn, team: Team
) -> None:
    app, ids = await build_org(tmp_path, clock, executives=SIX)
    async with app.db.session() as session:
        await digests.add_session(session, ids["team"], LAST_SESSION, "config")
    await team.build(app, ids)
    row = await send(app, DigestOptions(summarizer=summarizer(llm)))
    assert row.summary_source == "llm"
    _check(row, team)
    # The model was given the team's signals (no commitments: those are per coach).
    figures = json.loads(
        llm.requests[0]["messages"][1]["content"].split("(JSON):\n")[1].split("\n\nAnonymous")[0]
    )
    given = [s["topic"] for s in figures["signals_for_focus_questions"]]
    team_topics = [t for t in team.topics if t not in ("commitments", "no_commitment")]
    assert given[: len(team_topics)] == team_topics
    assert "Ana" not in json.dumps(figures) and "Eve" not in json.dumps(figures)
    await app.db.dispose()
