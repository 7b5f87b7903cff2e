"""An organisation with raw data on both sides of the retention cutoff (the clock's
23 Nov 2026 less 24 months: 23 Nov 2024), and reads of the raw tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from bot.app import Pulsecoach
from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.contracts.models import (
    ContractCheck,
    ContractComment,
    ContractRating,
    ContractVersion,
    TeamContract,
)
from storage.core.models import LocalMessage
from storage.digests.models import Digest
from tests.support.digests import COMMENTS, SIX, add_round

OLD = datetime(2024, 6, 3, 12, tzinfo=UTC)  # past the cutoff
NEW = datetime(2026, 10, 5, 12, tzinfo=UTC)  # within the period
CUTOFF = datetime(2024, 11, 23, 9, tzinfo=UTC)
# Words that must be gone from the raw tables after a purge, and ones that must stay.
GONE = ("OLD REFLECTION", "OLD CHAT", "OLD DIGEST", "OLD CONTRACT COMMENT", *COMMENTS[:2])
NORMS = [
    {"key": "room", "text": "We disagree in the room."},
    {"key": "help", "text": "We ask for help early."},
]
# Check number -> respondent -> a score per norm: four rate the first norm, two the
# second (shown, and withheld under the threshold of 3).
CHECK_RATINGS = {
    1: {"t1": (2, 5), "t2": (3, 4), "t3": (4,), "t4": (5,)},
    2: {"t1": (1, 1), "t2": (2, 2), "t3": (5,)},
}
KEPT = ("NEW REFLECTION", "NEW CHAT", "NEW DIGEST", "NEW CONTRACT COMMENT", "A recent comment")


async def seed(app: Pulsecoach, ids: dict[str, int]) -> None:
    """Three closed rounds (two past the cutoff) and, on each side of it, a reflection,
    a chat message, a digest and a closed contract check with ratings and a comment."""
    await add_round(
        app, ids, 1, datetime(2024, 9, 2, 12, tzinfo=UTC), {h: 6 for h in SIX}, COMMENTS[:1]
    )
    scores = {h: 3 + n % 3 for n, h in enumerate(SIX)}
    await add_round(app, ids, 2, datetime(2024, 10, 21, 12, tzinfo=UTC), scores, COMMENTS[1:2])
    recent = {h: 5 for h in SIX}
    await add_round(app, ids, 3, datetime(2025, 3, 3, 12, tzinfo=UTC), recent, ["A recent comment"])
    async with app.db.session() as session:
        commitment = Commitment(
            person_id=ids["ana"],
            team_id=ids["team"],
            behaviour="Ask first",
            ends_on=date(2027, 1, 1),
        )
        session.add(commitment)
        await session.flush()
        for when, words in ((OLD, "OLD REFLECTION"), (NEW, "NEW REFLECTION")):
            session.add(
                CommitmentCheckIn(
                    commitment_id=commitment.id or 0,
                    occurrence=f"{when:%Y-%m-%d}",
                    asked_at=when,
                    answered_at=when,
                    outcome="kept",
                    reflection=words,
                )
            )
            session.add(
                LocalMessage(
                    person_id=ids["ana"],
                    ref=f"chat:{when:%Y}",
                    sender="bot",
                    payload={"text": words.replace("REFLECTION", "CHAT")},
                    created_at=when,
                    updated_at=when,
                )
            )
            words = words.replace("REFLECTION", "DIGEST")
            session.add(
                Digest(
                    team_id=ids["team"],
                    coach_id=ids["cora"],
                    occasion=f"weekly:{when:%Y}",
                    reason="weekly",
                    period_start=when,
                    period_end=when,
                    summary_source="fallback",
                    content={"summary": words},
                    message={"ref": f"digest:{when:%Y}", "text": words},
                    chart_token=f"token{when:%Y}",
                    outbox_key=f"digest:{when:%Y}",
                    created_at=when,
                )
            )
        contract = TeamContract(team_id=ids["team"])
        session.add(contract)
        await session.flush()
        version = ContractVersion(contract_id=contract.id or 0, version=1, norms=NORMS)
        session.add(version)
        await session.flush()
        for number, when in ((1, OLD), (2, NEW)):
            check = ContractCheck(
                contract_id=contract.id or 0,
                team_id=ids["team"],
                version_id=version.id or 0,
                number=number,
                norm_keys=[n["key"] for n in NORMS],
                status="closed",
                privacy="anonymous",
                min_respondents=3,
                min_comments=5,
                opened_at=when,
                closes_at=when,
                closed_at=when,
            )
            session.add(check)
            await session.flush()
            words = "OLD CONTRACT COMMENT" if when == OLD else "NEW CONTRACT COMMENT"
            session.add(ContractComment(check_id=check.id or 0, respondent="r0", text=words))
            for who, scores in CHECK_RATINGS[number].items():
                for norm, score in zip(NORMS[: len(scores)], scores, strict=True):
                    rating = ContractRating(
                        check_id=check.id or 0, respondent=who, norm_key=norm["key"], score=score
                    )
                    session.add(rating)


async def raw(app: Pulsecoach, query: str) -> list[tuple[Any, ...]]:
    async with app.db.engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(text(query))).all()]


async def raw_text(app: Pulsecoach) -> str:
    """Every row of the tables that hold raw text, as one string."""
    found = []
    for table in (
        "pulse_comment",
        "commitment_checkin",
        "local_message",
        "digest",
        "contract_comment",
    ):
        found += [str(row) for row in await raw(app, f"SELECT * FROM {table}")]
    return "\n".join(found)
