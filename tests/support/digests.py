"""Coach digest test helpers: closed pulse rounds, an organisation with history, sending."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import Pulsecoach
from handlers.digests.send import DigestOptions, send_digest
from storage.digests import queries as digests
from storage.digests.models import Digest
from storage.pulse.models import PulseAnswer, PulseComment, PulseInvite, PulseRound
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import ITEMS, build_org

REVERSED = {"mistakes_held_against", "reject_different", "hard_to_ask_for_help"}
SIX = ("ana", "ben", "chloe", "dev", "eve", "fay")
LAST_SESSION = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
NEXT_SESSION = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
COMMENTS = [
    "Decisions get made after the meeting, in side conversations.",
    "Our meetings run over and decisions are unclear.",
    "I do not feel safe to disagree with the decision once it is made.",
    "Too much workload before the launch; meetings eat the week.",
    "Ben keeps interrupting in meetings, see http://intranet.example/notes",
]


async def add_round(
    app: Pulsecoach,
    ids: dict[str, int],
    number: int,
    closed_at: datetime,
    scores: dict[str, int],
    comments: list[str] = (),  # type: ignore[assignment]
    invited: tuple[str, ...] = SIX,
) -> None:
    """A closed round: `scores[handle]` answers every item (reverse items too)."""
    items = list(ITEMS)
    async with app.db.session() as session:
        round_ = PulseRound(
            program_id=ids["program"],
            team_id=ids["team"],
            number=number,
            status="closed",
            item_keys=items,
            privacy="anonymous",
            min_respondents=3,
            min_comments=5,
            opened_at=closed_at - timedelta(days=3),
            closes_at=closed_at,
            closed_at=closed_at,
        )
        session.add(round_)
        await session.flush()
        rid = round_.id or 0
        for handle in invited:
            session.add(PulseInvite(round_id=rid, person_id=ids[handle], answered=handle in scores))
        for n, score in enumerate(scores.values()):
            for item in items:
                # Reverse items are answered so that they score `score` too.
                answer = 8 - score if item in REVERSED else score
                session.add(
                    PulseAnswer(round_id=rid, respondent=f"r{n}", item_key=item, score=answer)
                )
        for n, text in enumerate(comments):
            session.add(PulseComment(round_id=rid, respondent=f"r{n}", text=text))


async def org_with_history(
    tmp_path: Path, clock: FakeClock, executives: tuple[str, ...] = SIX
) -> tuple[Pulsecoach, dict[str, int]]:
    app, ids = await build_org(tmp_path, clock, executives=executives)
    everyone = {h: 6 for h in executives}
    await add_round(
        app, ids, 1, datetime(2026, 10, 26, 12, tzinfo=UTC), everyone, invited=executives
    )
    lower = {h: 4 for h in executives}
    await add_round(
        app, ids, 2, datetime(2026, 11, 16, 12, tzinfo=UTC), lower, COMMENTS, invited=executives
    )
    async with app.db.session() as session:
        await digests.add_session(session, ids["team"], LAST_SESSION, "config")
        await digests.add_session(session, ids["team"], NEXT_SESSION, "config")
    return app, ids


async def send(app: Pulsecoach, options: DigestOptions, occasion: str = "demand:1") -> Digest:
    sent = await send_digest(
        app.services, "leadership", reason="on_demand", occasion=occasion, options=options
    )
    async with app.db.session() as session:
        row = await digests.digest(session, sent[0].digest_id)
    assert row is not None
    return row


def shown(row: Digest) -> str:
    return json.dumps(row.message, ensure_ascii=False)
