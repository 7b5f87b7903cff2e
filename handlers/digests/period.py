"""When a team's coaching sessions are: one-off sessions and the plan's recurring rule,
turned into UTC instants in the plan's time zone (DST handled by `scheduler.calendar.localtime`).

A rule occurrence can be cancelled by a cancelled `coaching_session` row at the same
instant, so "skip the December session" needs no change to the rule.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.calendar.localtime import Cadence, local_instant, resolve_timezone
from storage.core.models import Team, Workspace
from storage.digests import queries as digests
from storage.digests.models import CoachingPlan

LOOKBACK_DAYS = 42  # the period of a digest when no earlier session is known
WINDOW = timedelta(days=400)
DEFAULT_LEAD_HOURS = 24


def plan_zone(plan: CoachingPlan | None, team: Team, workspace: Workspace | None) -> ZoneInfo:
    return resolve_timezone(
        plan.timezone if plan else None, team.timezone, workspace.timezone if workspace else None
    )


def rule_times(plan: CoachingPlan, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Occurrences of the plan's recurring rule in [start, end)."""
    if not plan.frequency or plan.weekday is None or not plan.at:
        return []
    cadence = Cadence.parse(plan.frequency, plan.weekday, plan.at, anchor=plan.anchor)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    times = [local_instant(day, cadence.at, tz)[0] for day in cadence.occurrences(first, last)]
    return [t for t in times if start <= t < end]


@dataclass(frozen=True)
class SessionTimes:
    plan: CoachingPlan | None
    tz: ZoneInfo
    instants: tuple[datetime, ...] = field(default_factory=tuple)  # sorted, not cancelled

    @property
    def lead(self) -> timedelta:
        return timedelta(hours=self.plan.lead_hours if self.plan else DEFAULT_LEAD_HOURS)

    def previous(self, before: datetime) -> datetime | None:
        index = bisect_left(self.instants, before)
        return self.instants[index - 1] if index else None

    def upcoming(self, after: datetime) -> list[datetime]:
        return list(self.instants[bisect_right(self.instants, after) :])


async def session_times(
    session: AsyncSession, team: Team, workspace: Workspace | None, around: datetime
) -> SessionTimes:
    """Sessions within about a year either side of `around` (two queries)."""
    assert team.id is not None
    plan = await digests.plan_for(session, team.id)
    return await planned_times(session, plan, team, workspace, around)


async def planned_times(
    session: AsyncSession,
    plan: CoachingPlan | None,
    team: Team,
    workspace: Workspace | None,
    around: datetime,
) -> SessionTimes:
    """`session_times` with the team's plan already loaded (one query)."""
    assert team.id is not None
    rows = await digests.sessions_of(session, team.id, cancelled=True)
    tz = plan_zone(plan, team, workspace)
    start, end = around - WINDOW, around + WINDOW
    cancelled = {r.starts_at for r in rows if r.cancelled}
    found = {r.starts_at for r in rows if not r.cancelled and start <= r.starts_at < end}
    if plan is not None:
        found |= set(rule_times(plan, tz, start, end))
    return SessionTimes(plan, tz, tuple(sorted(found - cancelled)))
