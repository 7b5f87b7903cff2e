"""The retention period (#13): per workspace (`retention_months`, default 24), raw
answers and comments of closed rounds, ratings and comments of closed contract checks,
commitment reflections, the local chat history and the texts of digests sent are purged
once older than the period; the figures stay.

Before a round's answers go, its figures are stored as results show them
(handlers/pulse/kept.py), in the same transaction, so results, trends and digests read
the same afterwards; a contract check's likewise before its ratings go
(handlers/contracts/kept.py), so its results, follow-through and digests do. Each
transaction removes at most `batch` rows: an interrupted run resumes where it stopped,
and a second run finds nothing. The leader runs it daily
(`FEATURE.jobs`); `pulsecoach retention run [--dry-run]` on demand. The audit row names
kinds and counts, never data."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Refused
from handlers.commitments.follow_through import check_figures
from handlers.context import Services
from handlers.contracts import kept as check_kept
from handlers.pulse import kept
from handlers.pulse.results import round_summary
from handlers.pulse.rounds import instrument_for
from storage.contracts import retention as check_retention
from storage.core import audit, retention
from storage.core.models import Workspace

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 500
ACTOR = "system:retention"
# The kinds purged row by row (pulse rounds go a round at a time, figures kept first).
_ROWS = (retention.CONTRACT_COMMENTS, retention.REFLECTIONS, retention.CHAT, retention.DIGESTS)


def cutoff(now: datetime, months: int) -> datetime:
    """`now` less whole calendar months (31 March less one month: the last of February)."""
    month = now.month - 1 - months
    year = now.year + month // 12
    month = month % 12 + 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


@dataclass
class Purged:
    """One workspace's purge (or, dry, what it would remove): rows by kind."""

    workspace: str
    months: int
    before: datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(retention.KINDS, 0))
    rounds: int = 0  # rounds whose figures were kept
    checks: int = 0  # contract checks whose figures were kept

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        return [f"{kind}: {n}" for kind, n in self.counts.items() if n]


async def _workspaces(services: Services) -> list[Workspace]:
    async with services.db.session() as session:
        return await retention.workspaces(session)


async def preview(services: Services) -> list[Purged]:
    """What a purge now would remove, per workspace; changes nothing."""
    now = services.clock.now()
    found = []
    for workspace in await _workspaces(services):
        before = cutoff(now, workspace.retention_months)
        async with services.db.session() as session:
            counts = await retention.count(session, workspace.id or 0, before)
        found.append(Purged(workspace.key, workspace.retention_months, before, counts))
    return found


def _figures(services: Services, due: retention.DueRound) -> dict[str, object] | None:
    """The round's figures as results show them; None when they cannot be computed
    (its instrument is gone, or its answers contradict it): results could not show
    them either, and the answers still go."""
    try:
        instrument = instrument_for(services, due.program)
        summary = round_summary(instrument, due.round, due.invited, due.answers)
    except (Refused, ValueError) as error:
        log.warning("round %s: no figures kept (%s)", due.round.id, error)
        return None
    return kept.to_json(summary)


async def _each_due(
    services: Services,
    due: Callable[[AsyncSession], Awaitable[Sequence[T]]],
    purge: Callable[[AsyncSession, T], Awaitable[None]],
) -> None:
    """Purge what `due` finds, a batch per transaction, until it finds nothing."""
    while True:
        async with services.db.session() as session:
            found = await due(session)
            if not found:
                return
            for one in found:
                await purge(session, one)


async def _purge_rounds(services: Services, done: Purged, workspace_id: int, batch: int) -> None:
    async def due(session: AsyncSession) -> list[retention.DueRound]:
        return await retention.rounds_due(session, workspace_id, done.before, batch)

    async def purge(session: AsyncSession, one: retention.DueRound) -> None:
        answers, comments = await retention.purge_round(
            session, one.round.id or 0, _figures(services, one)
        )
        done.counts[retention.PULSE_ANSWERS] += answers
        done.counts[retention.PULSE_COMMENTS] += comments
        done.rounds += 1

    await _each_due(services, due, purge)


def _check_figures(due: check_retention.DueCheck) -> dict[str, object] | None:
    """The check's figures as its results compute them; None when they cannot be (its
    ratings contradict it): results could not show them either, and the ratings go."""
    version = due.version
    keys = due.check.norm_keys
    norms = [n for n in (version.norms if version else []) if n["key"] in keys]
    try:
        figures = check_figures(due.check, norms, due.ratings, due.invited)
    except ValueError as error:
        log.warning("contract check %s: no figures kept (%s)", due.check.id, error)
        return None
    return check_kept.to_json(figures)


async def _purge_checks(services: Services, done: Purged, workspace_id: int, batch: int) -> None:
    async def due(session: AsyncSession) -> list[check_retention.DueCheck]:
        return await check_retention.checks_due(session, workspace_id, done.before, batch)

    async def purge(session: AsyncSession, one: check_retention.DueCheck) -> None:
        ratings = await check_retention.purge_check(session, one.check.id or 0, _check_figures(one))
        done.counts[retention.CONTRACT_RATINGS] += ratings
        done.checks += 1

    await _each_due(services, due, purge)


async def _purge_workspace(services: Services, workspace: Workspace, batch: int) -> Purged:
    now = services.clock.now()
    done = Purged(
        workspace.key, workspace.retention_months, cutoff(now, workspace.retention_months)
    )
    workspace_id = workspace.id or 0
    try:
        await _purge_rounds(services, done, workspace_id, batch)
        await _purge_checks(services, done, workspace_id, batch)
        for kind in _ROWS:
            while True:
                async with services.db.session() as session:
                    removed = await retention.purge_batch(
                        session, kind, workspace_id, done.before, batch
                    )
                done.counts[kind] += removed
                if removed < batch:
                    break
    finally:  # interrupted too: what did go is on record
        if done.total:
            async with services.db.session() as session:
                audit.record(
                    session,
                    ACTOR,
                    "retention.purge",
                    f"workspace:{workspace.key}",
                    months=workspace.retention_months,
                    before=done.before.isoformat(),
                    removed={kind: n for kind, n in done.counts.items() if n},
                    rounds_kept=done.rounds,
                    checks_kept=done.checks,
                )
    return done


async def purge(services: Services, batch: int = BATCH) -> list[Purged]:
    """Purge every workspace past its period; then have the database reclaim the rows."""
    done = [await _purge_workspace(services, w, batch) for w in await _workspaces(services)]
    if any(one.total for one in done):
        await services.db.scrub((), retention.TABLES)
    return done


async def purge_job(services: Services) -> None:
    """The leader's daily run."""
    for one in await purge(services):
        if one.total:
            log.info("retention purge of %s: %s", one.workspace, "; ".join(one.lines()))
