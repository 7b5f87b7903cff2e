"""Sealing a contract check at close (storage/core/sealing.py says what and why): its
open ratings and comments (`contract_open_rating`, `contract_open_comment`, anonymous
ones under HMAC tokens whose key is in `contract_check_key`) copied into
`contract_rating` and `contract_comment`. Rating and comment writes hold the check
FOR SHARE (storage/contracts/queries.py), so the close's first statement waits for
them and later ones find it closed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.contracts.models import (
    ContractCheck,
    ContractCheckInvite,
    ContractCheckKey,
    ContractComment,
    ContractOpenComment,
    ContractOpenRating,
    ContractRating,
)
from storage.core import sealing

SPEC = sealing.Sealing(
    parent=ContractCheck.__table__,  # type: ignore[attr-defined]
    parent_column="check_id",
    key="norm_key",
    open_answers=ContractOpenRating.__table__,  # type: ignore[attr-defined]
    open_comments=ContractOpenComment.__table__,  # type: ignore[attr-defined]
    secret=ContractCheckKey.__table__,  # type: ignore[attr-defined]
    invites=ContractCheckInvite.__table__,  # type: ignore[attr-defined]
    answers=ContractRating.__table__,  # type: ignore[attr-defined]
    comments=ContractComment.__table__,  # type: ignore[attr-defined]
    rewritten=("contract_open_rating", "contract_open_comment", "contract_check_key"),
    vacuumed=(
        "contract_rating",
        "contract_comment",
        "contract_check_invite",
        "local_message",
        "outbox_message",
    ),
)


async def seal(session: AsyncSession, check: ContractCheck, now: datetime) -> None:
    await sealing.seal(session, SPEC, check.id or 0, check.privacy == "anonymous", now)
    check.status, check.closed_at = "closed", now
    session.add(check)
