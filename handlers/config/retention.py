"""The retention check of a config apply (and so of the admin chat): a workspace's
retention period is never shorter than the longest answer window in it, whichever side
the file changes. A month counts as 30 days here; windows in days are hours / 24.

Runs after every section, inside the apply's transaction, on what the file left in the
database: an error rolls the whole file back."""

from __future__ import annotations

import math

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.config.base import Ids, id_of
from handlers.config.fields import FieldError
from handlers.config.schema import Config
from storage.core import config_state
from storage.core.models import Workspace

MONTH_DAYS = 30


def _days(hours: float) -> str:
    days = hours / 24
    return f"{days:.0f} days" if days >= 1 else "under a day"


def _what(window: config_state.Window) -> str:
    if window.kind == "pulse program":
        return f"pulse program {window.program!r} of team {window.team!r}"
    if window.kind == "contract":
        return f"the contract checks of team {window.team!r}"
    return f"{window.kind} {window.number} of team {window.team!r}"


async def _longest(session: AsyncSession, workspace: Workspace) -> config_state.Window | None:
    """The longest answer window longer than the workspace's retention period, if any."""
    found = await config_state.windows(session, id_of(workspace))
    period_hours = workspace.retention_months * MONTH_DAYS * 24
    longer = [w for w in found if w.hours > period_hours]
    return max(longer, key=lambda w: w.hours) if longer else None


def _months_needed(hours: float) -> str:
    months = max(1, math.ceil(hours / 24 / MONTH_DAYS))
    return f"{months} month" if months == 1 else f"{months} months"


async def check_retention(session: AsyncSession, cfg: Config, ids: Ids) -> None:
    for index, spec in enumerate(cfg.workspaces):
        workspace = ids.workspaces.get(spec.key)
        if workspace is None or "retention_months" not in spec.model_fields_set:
            continue
        window = await _longest(session, workspace)
        if window is not None:
            months = workspace.retention_months
            raise FieldError(
                ("workspaces", index, "retention_months"),
                f"{months} months ({months * MONTH_DAYS} days) is shorter than the answer "
                f"window of {_what(window)} ({window.hours:.0f} h, {_days(window.hours)}): "
                f"set at least {_months_needed(window.hours)}, or shorten or end that "
                "window first",
            )
    entries: list[tuple[str, int, str, str, str | None]] = [
        ("programs", i, s.workspace, s.team, s.key) for i, s in enumerate(cfg.programs)
    ]
    entries += [("contracts", i, s.workspace, s.team, None) for i, s in enumerate(cfg.contracts)]
    for section, index, key, team, program in entries:
        workspace = await ids.workspace(session, key)
        if workspace is None:
            continue
        period_hours = workspace.retention_months * MONTH_DAYS * 24
        kind = "pulse program" if section == "programs" else "contract"
        mine = [
            w
            for w in await config_state.windows(session, id_of(workspace))
            if (w.kind, w.team, w.program) == (kind, team, program) and w.hours > period_hours
        ]
        if mine:
            months, hours = workspace.retention_months, mine[0].hours
            where = ("window_hours",) if section == "programs" else ("checks", "window_hours")
            raise FieldError(
                (section, index, *where),
                f"{hours:.0f} h ({_days(hours)}) is longer than the retention period of "
                f"workspace {workspace.key!r}, {months} months ({months * MONTH_DAYS} days): "
                f"raise its retention_months to at least {_months_needed(hours)} first, or "
                "shorten the window",
            )
