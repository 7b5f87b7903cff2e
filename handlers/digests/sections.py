"""Parts of the digest page built from loaded rows: the questions (items), the
contract's story, the commitments' gaps, and comments shown as written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from handlers.commitments import follow_through
from handlers.digests import visibility
from handlers.digests.content import ContractLine, ContractStory, FollowLine, ItemLine
from handlers.digests.fallback import THEMES_FROM
from handlers.digests.hygiene import PLACEHOLDERS, inert, redact
from handlers.digests.story import item_line
from handlers.pulse.results import RoundResult, TeamResults
from storage.commitments.models import Commitment
from storage.core.models import Person, Role

SHOWN_ITEMS = 2
MAX_SHOWN_COMMENTS = 8
TREND_CHECKS = 6


def items(
    results: TeamResults, latest: RoundResult | None
) -> tuple[list[ItemLine], list[ItemLine]]:
    """The weakest and the strongest questions of the latest round (visible ones)."""
    scale = results.instrument.scale
    lines = sorted(
        (
            item_line(scale, key, _item_text(results, key), stat)
            for key, stat in visibility.items(latest).items()
        ),
        key=lambda i: (i.score, i.key),
    )
    if len(lines) < 2:
        return lines, []
    count = min(SHOWN_ITEMS, len(lines) // 2)
    return lines[:count], lines[::-1][:count]


def _item_text(results: TeamResults, key: str) -> str:
    item = results.instrument.item(key)
    return item.text_for("en") + (" (reverse-scored)" if item.reverse else "")


def contract_story(
    report: follow_through.ContractReport,
    version: int | None,
    acknowledged: set[int] | None,
    people: Sequence[tuple[Person, str]],
    period_start: datetime,
) -> ContractStory | None:
    """The weakest norm of the period's latest check and its trend over the last
    checks, and the executives who have not acknowledged the current version."""
    if version is None and not report.results:
        return None
    latest: dict[str, follow_through.ContractCheckResult] = {}
    for r in report.results:
        if r.closed_at is None or r.closed_at >= period_start:
            latest[r.norm_key] = r
    shown = [r for r in latest.values() if visibility.norm_shown(r)]
    weakest = min(shown, key=lambda r: (r.percent_of_max or 0.0, r.norm_key), default=None)
    trend: list[float | None] = []
    if weakest is not None:
        checks = sorted({r.check_number for r in report.results})[-TREND_CHECKS:]
        by_check = {
            r.check_number: r.percent_of_max
            for r in report.results
            if r.norm_key == weakest.norm_key and visibility.norm_shown(r)
        }
        trend = [by_check.get(n) for n in checks]
    missing = (
        sorted(
            {p.name for p, role in people if role == Role.EXECUTIVE and p.id not in acknowledged}
        )
        if acknowledged is not None
        else []
    )
    return ContractStory(
        version=version,
        weakest=weakest.norm_text if weakest else None,
        weakest_percent=weakest.percent_of_max if weakest else None,
        weakest_trend=trend,
        unacknowledged=missing,
    )


def leaders_without(
    people: Sequence[tuple[Person, str]], commitments: Iterable[Commitment]
) -> list[str]:
    """Executives with no open commitment, once anyone in the team has one (before
    that the team has not started on commitments, and the digest says so)."""
    holding = {c.person_id for c in commitments if c.status in ("active", "paused")}
    if not holding:
        return []
    return sorted({p.name for p, role in people if role == Role.EXECUTIVE and p.id not in holding})


def pending(proposals: Sequence[Commitment], names: dict[int, str]) -> list[str]:
    return [f"{names.get(c.person_id, '?')}: {c.behaviour[:120]}" for c in proposals]


def shown_comments(comments: Sequence[str], names: Sequence[str]) -> list[str]:
    """Comments as a coach may read them when too few for themes: redacted (names
    and contact details say what was removed) and inert in any channel."""
    if not comments or len(comments) >= THEMES_FROM:
        return []
    shown = []
    for comment in comments[:MAX_SHOWN_COMMENTS]:
        marked = PLACEHOLDERS.sub(lambda m: f"({m.group()[1:-1]} removed)", redact(comment, names))
        if line := inert(marked, names, limit=400):
            shown.append(line)
    return shown


def contract_lines(
    report: follow_through.ContractReport, since: datetime
) -> tuple[list[ContractLine], list[str], list[str]]:
    """Each norm's latest check in the period, the checks' comments that met their
    threshold, and what was withheld."""
    latest: dict[str, ContractLine] = {}
    for r in report.results:
        if r.closed_at is not None and r.closed_at < since:
            continue
        latest[r.norm_key] = ContractLine(
            norm=r.norm_text,
            respondents=r.respondents,
            mean=r.mean,
            percent=r.percent_of_max,
            withheld=r.withheld,
        )
    withheld: list[str] = []
    if not latest:  # no check closed in the period: no comments either
        return [], [], withheld
    checks = [c for c in report.comments if c.closed_at is None or c.closed_at >= since]
    for check in checks:
        if check.comments is None:
            withheld.append(f"Comments of contract check {check.check_number}: {check.withheld}.")
    return list(latest.values()), visibility.contract_comments(checks), withheld


def follow_lines(rows: list[follow_through.CommitmentFollowThrough]) -> list[FollowLine]:
    return [
        FollowLine(
            person=r.person_name,
            behaviour=r.behaviour,
            status=r.status,
            kept_4=r.kept_rate_4,
            kept_12=r.kept_rate_12,
            streak=r.streak,
            reflection=r.last_reflection,
            missed=r.missed_recent,
            counted=r.counted,
        )
        for r in rows
    ]
