"""Log lines for an operator: a round opened or closed, with its counts (never who
answered what). Written after the round's transaction committed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.pulse.rounds import RoundClosed, RoundOpened

log = logging.getLogger("handlers.pulse")


def opened(results: Sequence[RoundOpened | Exception]) -> None:
    for result in results:
        if isinstance(result, Exception) or result.already:
            continue
        log.info(
            "pulse round %d opened for team %s: %d invited",
            result.round_id,
            result.team,
            len(result.invited),
            extra={
                "event": "round.opened",
                "round": result.round_id,
                "team": result.team,
                "number": result.number,
                "invited": len(result.invited),
                "left_out": len(result.left_out),
            },
        )


def closed(result: RoundClosed) -> None:
    log.info(
        "pulse round %d closed for team %s: %d of %d answered",
        result.round_id,
        result.team,
        result.answered,
        result.invited,
        extra={
            "event": "round.closed",
            "round": result.round_id,
            "team": result.team,
            "invited": result.invited,
            "answered": result.answered,
            "paused": len(result.paused),
        },
    )
