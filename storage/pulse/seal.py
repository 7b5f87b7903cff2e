"""Sealing a round at close (storage/core/sealing.py says what and why): its open
answers and comments (`pulse_open_answer`, `pulse_open_comment`, under HMAC tokens
whose key is in `pulse_round_key`) copied into `pulse_answer` and `pulse_comment`.
Answer transactions hold the round FOR SHARE (storage/pulse/answers.py), so the
close's first statement waits for them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import sealing
from storage.pulse.models import (
    PulseAnswer,
    PulseComment,
    PulseInvite,
    PulseOpenAnswer,
    PulseOpenComment,
    PulseRound,
    PulseRoundKey,
)

# Tables whose deleted row versions held something that linked a person to an answer:
# rewritten whole (small: only open rounds' rows live there).
REWRITTEN = ("pulse_open_answer", "pulse_open_comment", "pulse_round_key")
# Tables the close changes rows of: their dead versions are reclaimed.
VACUUMED = ("pulse_answer", "pulse_comment", "pulse_invite", "local_message", "outbox_message")

SPEC = sealing.Sealing(
    parent=PulseRound.__table__,  # type: ignore[attr-defined]
    parent_column="round_id",
    key="item_key",
    open_answers=PulseOpenAnswer.__table__,  # type: ignore[attr-defined]
    open_comments=PulseOpenComment.__table__,  # type: ignore[attr-defined]
    secret=PulseRoundKey.__table__,  # type: ignore[attr-defined]
    invites=PulseInvite.__table__,  # type: ignore[attr-defined]
    answers=PulseAnswer.__table__,  # type: ignore[attr-defined]
    comments=PulseComment.__table__,  # type: ignore[attr-defined]
    rewritten=REWRITTEN,
    vacuumed=VACUUMED,
)


async def seal(session: AsyncSession, round_: PulseRound, now: datetime) -> None:
    await sealing.seal(session, SPEC, round_.id or 0, round_.privacy == "anonymous", now)
    round_.status = "closed"
    round_.closed_at = now
    session.add(round_)
