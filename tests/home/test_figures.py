"""One definition per figure (#15.2): each figure is computed once here, straight from
the database rows of the demo organisation, and the home view, `results`, the CLI's
`--json` and the coach digest must all show that very number."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import Pulsecoach
from bot.core.events import Actor, Reply, TextEvent
from bot.core.messages import Message
from bot.demo.load import load_demo
from bot.settings import Settings
from handlers.commitments.follow_through import SCORES
from prompts.instruments import load_instruments
from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.core.models import Person
from storage.digests.models import Digest
from storage.pulse.models import PulseAnswer, PulseComment, PulseInvite, PulseRound

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Demo:
    app: Pulsecoach
    url: str
    ids: dict[str, int]

    async def say(self, handle: str, said: str) -> Reply:
        event = TextEvent(Actor(self.ids[handle], 1, "local"), said)
        return await self.app.router.on_text(event)


@pytest.fixture
async def demo(tmp_path: Path, no_env: None) -> AsyncIterator[Demo]:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    app = Pulsecoach.build(Settings(PULSECOACH_DATABASE_URL=url))
    await app.db.upgrade()
    await load_demo(app)
    async with app.db.session() as session:
        people = (await session.exec(select(Person))).all()
    try:
        yield Demo(app, url, {p.handle: p.id or 0 for p in people})
    finally:
        await app.db.dispose()


def lines_of(message: Message) -> list[str]:
    """Every piece of text a person reads in a message."""
    out: list[str] = []
    for block in message.blocks:
        data = block.model_dump()
        out += [data[k] for k in ("text", "prompt") if isinstance(data.get(k), str)]
        out += list(data.get("lines") or [])
        out += [f"{f['label']}: {f['value']}" for f in data.get("fields") or []]
    return out


@dataclass(frozen=True)
class Truth:
    score: int
    favorable: int
    respondents: int
    invited: int
    answered: dict[int, int]
    comments: int


async def truth(demo: Demo) -> Truth:
    """The latest closed round's figures, computed from the rows and the instrument."""
    instrument = load_instruments([])["team_safety"]
    scale = instrument.scale
    async with demo.app.db.session() as session:
        latest = (
            await session.exec(
                select(PulseRound)
                .where(PulseRound.status == "closed")
                .order_by(col(PulseRound.closed_at).desc())
            )
        ).first()
        assert latest is not None
        answers = (
            await session.exec(select(PulseAnswer).where(PulseAnswer.round_id == latest.id))
        ).all()
        invites = (
            await session.exec(select(PulseInvite).where(PulseInvite.round_id == latest.id))
        ).all()
        comments = (
            await session.exec(select(PulseComment).where(PulseComment.round_id == latest.id))
        ).all()
    reverse = {i.key for i in instrument.items if i.reverse}
    scored = [scale.reverse(a.score) if a.item_key in reverse else a.score for a in answers]
    mean = sum(scored) / len(scored)
    respondents = len({a.respondent for a in answers})
    return Truth(
        score=round((mean - scale.min) / (scale.max - scale.min) * 100),
        favorable=round(sum(1 for s in scored if s >= scale.favorable_from) / len(scored) * 100),
        respondents=respondents,
        invited=len(invites),
        answered={p: sum(1 for a in answers if a.score == p) for p in scale.points},
        comments=len(comments) if respondents >= latest.min_comments else 0,
    )


def cli_json(demo: Demo) -> dict[str, Any]:
    env = {**os.environ, "PULSECOACH_DATABASE_URL": demo.url}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "pulse", "results", "leadership", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


async def test_every_view_shows_the_same_pulse_figures(demo: Demo) -> None:
    t = await truth(demo)
    spread = " · ".join(f"{p}: {n}" for p, n in t.answered.items())

    # `results` (the coach).
    [results] = (await demo.say("elena", "results")).messages
    shown = lines_of(results)
    assert any(s.startswith(f"Score (0–100): {t.score}") for s in shown), shown
    assert f"Favorable: {t.favorable}%" in shown
    assert any(s.startswith(f"Responses: {t.respondents} of {t.invited}") for s in shown)
    assert (
        f"How people answered, as asked (1 = Strongly disagree … 7 = Strongly agree): {spread}"
        in shown
    )
    assert sum(1 for s in shown if s.startswith("“")) == t.comments

    # The home view.
    home = (await demo.say("elena", "home")).messages
    card = next(m for m in home if m.ref == "home:results:leadership")
    assert any(
        f"Score {t.score}/100" in s
        and f"{t.favorable}% favourable" in s
        and f"{t.respondents} of {t.invited} answered" in s
        for s in lines_of(card)
    ), lines_of(card)

    # The CLI's --json.
    data = cli_json(demo)
    latest = data["rounds"][-1]
    assert round(latest["overall"]["percent_of_max"]) == t.score
    assert round(latest["overall"]["percent_favorable"]) == t.favorable
    assert (latest["respondents"], latest["invited"]) == (t.respondents, t.invited)
    assert latest["overall"]["answered"] == {str(p): n for p, n in t.answered.items()}
    assert len(latest["comments"] or []) == t.comments

    # The coach's digest.
    await demo.say("elena", "digest")
    async with demo.app.db.session() as session:
        row = (await session.exec(select(Digest).order_by(col(Digest.id).desc()))).first()
    assert row is not None
    digest = lines_of(Message.model_validate(row.message))
    assert any(s.startswith(f"Score (0–100): {t.score}") for s in digest), digest
    assert f"Favorable: {t.favorable}%" in digest
    assert any(f"{t.respondents} of {t.invited}" in s for s in digest)
    # Comments that results show are comments the digest used (never "none could be").
    assert t.comments > 0
    assert not any("no comments could be used" in s for s in digest)


def kept(rows: list[CommitmentCheckIn]) -> tuple[str, int]:
    counted = [r.outcome for r in rows if r.outcome in SCORES]
    last4 = counted[-4:]
    return f"{sum(SCORES[o] for o in last4) / len(last4) * 100:.0f}%", len(counted)


async def test_follow_through_is_the_same_in_the_leaders_view_and_the_digest(
    demo: Demo,
) -> None:
    async with demo.app.db.session() as session:
        daniel = demo.ids["daniel"]
        [commitment] = (
            await session.exec(select(Commitment).where(Commitment.person_id == daniel))
        ).all()
        rows = list(
            (
                await session.exec(
                    select(CommitmentCheckIn)
                    .where(CommitmentCheckIn.commitment_id == commitment.id)
                    .order_by(col(CommitmentCheckIn.occurrence))
                )
            ).all()
        )
    rate_4, counted = kept(rows)
    label = f"kept {rate_4} of the last 4 answered check-ins"
    assert counted >= 4  # the demo has the history for the full label

    [own] = (await demo.say("daniel", "commitments")).messages
    assert any(s.startswith(f"Follow-through: {label}") for s in lines_of(own)), lines_of(own)

    await demo.say("elena", "digest")
    async with demo.app.db.session() as session:
        row = (await session.exec(select(Digest).order_by(col(Digest.id).desc()))).first()
    assert row is not None
    digest = "\n".join(lines_of(Message.model_validate(row.message)))
    assert f"Daniel Okafor — {commitment.behaviour}: {label}" in digest
