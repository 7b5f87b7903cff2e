"""Follow-through figures of commitments and results of contract checks: the neutral report
API that the chat views and the coach digests share.

Definitions (also the help text's):

- A check-in *counts* when it was answered Kept, Partly or Missed. "Skip this week" and
  unanswered check-ins say nothing about the behaviour, so they neither count nor break
  anything.
- Kept rate over the last N: of the last N counted check-ins, Kept scores 1, Partly ½,
  Missed 0; the mean (0–1), or None before the first counted check-in.
- Streak: counted check-ins in a row, newest first, that were Kept.
- Contract checks use the pulse rules: nothing under the check's threshold of respondents,
  no norm answered by fewer than the threshold, comments only from `min_comments`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Services
from handlers.contracts import kept
from prompts.instruments import Instrument, Item, Scale
from prompts.texts import text
from storage.commitments import queries as commitments
from storage.commitments.models import Commitment
from storage.contracts import queries as contracts
from storage.contracts.models import ContractCheck
from storage.core import directory

SCORES = {"kept": 1.0, "partly": 0.5, "missed": 0.0}
CONTRACT_SCALE = Scale.model_validate(
    {
        "min": 1,
        "max": 5,
        "favorable_from": 4,
        "anchors": {point: {"en": text(f"contract.scale.{point}")} for point in range(1, 6)},
    }
)


@dataclass(frozen=True)
class Figures:
    kept_rate_4: float | None
    kept_rate_12: float | None
    streak: int
    last_reflection: str | None
    missed_recent: int  # "Missed" answers among the last 4 counted check-ins
    unanswered_recent: int  # unanswered among the last 4 asked (a current one included)
    counted: int  # counted check-ins in all


class Answered(Protocol):
    """A check-in as figures read it: a full row or a `commitments.Outcome`."""

    @property
    def outcome(self) -> str | None: ...

    @property
    def reflection(self) -> str | None: ...


def figures(checkins: Sequence[Answered]) -> Figures:
    """Figures of one commitment's (or, pooled, one leader's) check-ins, oldest first."""
    counted = [c.outcome for c in checkins if c.outcome in SCORES]

    def rate(n: int) -> float | None:
        last = counted[-n:]
        return sum(SCORES[o] for o in last) / len(last) if last else None

    streak = 0
    for outcome in reversed(counted):
        if outcome != "kept":
            break
        streak += 1
    reflections = [c.reflection for c in checkins if c.reflection]
    return Figures(
        kept_rate_4=rate(4),
        kept_rate_12=rate(12),
        streak=streak,
        last_reflection=reflections[-1] if reflections else None,
        missed_recent=sum(1 for o in counted[-4:] if o == "missed"),
        unanswered_recent=sum(1 for c in checkins[-4:] if c.outcome is None),
        counted=len(counted),
    )


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def kept_text(
    kept_rate_4: float | None, kept_rate_12: float | None, counted: int, locale: str = "en"
) -> str:
    """The follow-through figures with their exact windows, the one wording every view
    and the digest use: "of the last 4" only when there were 4 to count."""
    if counted == 0:
        return text("commitment.kept.none", locale)
    if counted < 4:
        return text("commitment.kept.few", locale, rate=percent(kept_rate_4), counted=counted)
    if counted < 12:
        return text(
            "commitment.kept.some",
            locale,
            rate_4=percent(kept_rate_4),
            rate_all=percent(kept_rate_12),
            counted=counted,
        )
    return text(
        "commitment.kept.many", locale, rate_4=percent(kept_rate_4), rate_12=percent(kept_rate_12)
    )


@dataclass(frozen=True)
class CommitmentFollowThrough:
    """One commitment's follow-through. `last_reflection` is None for viewers who see the
    commitment only because it is visible to the team: reflections are for the leader
    and their coach. Added beyond the agreed fields (with defaults): `unanswered_recent`,
    `counted`, `team_id`, `visibility`."""

    commitment_id: int
    person_id: int
    person_name: str
    behaviour: str
    status: str
    kept_rate_4: float | None
    kept_rate_12: float | None
    streak: int
    last_reflection: str | None
    missed_recent: int
    unanswered_recent: int = 0
    counted: int = 0
    team_id: int = 0
    visibility: str = "coach"


async def _viewer_roles(session: AsyncSession, viewer: int | None, team_id: int) -> set[str]:
    if viewer is None:
        return set()
    return {role for team, role in await directory.roles_of(session, viewer) if team.id == team_id}


def sees(c: Commitment, viewer: int | None, roles: set[str]) -> tuple[bool, bool]:
    """(may see the commitment, may see its reflections) for a viewer with `roles` in its
    team. None is the system. Admins see no one's commitments but their own."""
    if viewer is None or viewer == c.person_id or "coach" in roles:
        return True, True
    if c.visibility == "team" and roles & {"executive", "sponsor"}:
        return True, False
    return False, False


def follow_through_of(
    rows: Sequence[tuple[Commitment, str | None, Sequence[Answered]]],
    viewer_person_id: int | None,
    roles: set[str],
) -> list[CommitmentFollowThrough]:
    """`follow_through` of commitments loaded by `commitments.followed` (for every viewer
    at once), as a viewer with `roles` in the team may see them."""
    out: list[CommitmentFollowThrough] = []
    for c, name, checkins in rows:
        visible, reflections = sees(c, viewer_person_id, roles)
        if not visible:
            continue
        f = figures(checkins)
        out.append(
            CommitmentFollowThrough(
                commitment_id=c.id or 0,
                person_id=c.person_id,
                person_name=name if name is not None else "?",
                behaviour=c.behaviour,
                status=c.status,
                kept_rate_4=f.kept_rate_4,
                kept_rate_12=f.kept_rate_12,
                streak=f.streak,
                last_reflection=f.last_reflection if reflections else None,
                missed_recent=f.missed_recent,
                unanswered_recent=f.unanswered_recent,
                counted=f.counted,
                team_id=c.team_id,
                visibility=c.visibility,
            )
        )
    return sorted(out, key=lambda r: (r.person_name, r.commitment_id))


async def follow_through(
    services: Services, team_id: int, viewer_person_id: int | None, since: datetime | None = None
) -> list[CommitmentFollowThrough]:
    """Confirmed commitments of a team that the viewer may see, with figures from the
    check-ins asked since `since` (all when None); commitments closed before `since`
    are left out. Ordered by leader name, then commitment."""
    async with services.db.session() as session:
        roles = await _viewer_roles(session, viewer_person_id, team_id)
        rows = await commitments.followed(session, team_id, since)
    return follow_through_of(rows, viewer_person_id, roles)


@dataclass(frozen=True)
class ContractCheckResult:
    """One norm in one closed contract check. `mean` (1–5) and `percent_of_max` (0–100)
    are None when withheld, and `withheld` says why. Added beyond the agreed fields (with
    defaults): `check_number`, `closed_at`, `invited`, `percent_favorable`."""

    norm_key: str
    norm_text: str
    respondents: int
    mean: float | None
    percent_of_max: float | None
    withheld: str | None
    check_number: int = 0
    closed_at: datetime | None = None
    invited: int = 0
    percent_favorable: float | None = None


@dataclass(frozen=True)
class ContractCheckComments:
    """What people wrote in one closed check: None (withheld) under `min_comments`."""

    check_number: int
    closed_at: datetime | None
    comments: tuple[str, ...] | None
    withheld: str | None


def norms_instrument(norms: Sequence[dict[str, str]]) -> Instrument:
    """The norms as an instrument, so checks are scored exactly like pulses."""
    items = tuple(Item(key=n["key"], text={"en": n["text"]}, dimension="norm") for n in norms)
    return Instrument(
        key="contract",
        version=1,
        name={"en": text("contract.instrument")},
        scale=CONTRACT_SCALE,
        items=items,
    )


@dataclass(frozen=True)
class _Closed:
    check: ContractCheck
    norms: list[dict[str, str]]  # the norms it asked about, as worded in its version
    figures: kept.CheckFigures
    comments: list[str]


def check_figures(
    check: ContractCheck,
    norms: Sequence[dict[str, str]],
    ratings: Sequence[tuple[str, str, int]],
    invited: int,
) -> kept.CheckFigures:
    """A closed check's figures from its ratings (what the retention period keeps)."""
    instrument = norms_instrument(norms) if norms else None
    return kept.figures(instrument, ratings, invited, check.min_respondents)


async def _closed(session: AsyncSession, team_id: int, since: datetime | None) -> list[_Closed]:
    """Closed checks with their versions, ratings (or, once the retention period purged
    them, the figures kept) and comments: three queries at most."""
    checks = await contracts.closed_checks_with_versions(session, team_id, since)
    ratings, texts = await contracts.answers(session, [c.id or 0 for c, _, _ in checks])
    purged = [cid for cid, rows in ratings.items() if not rows]
    summaries = await contracts.kept_summaries(session, purged)
    out = []
    for check, version, invited in checks:
        norms = [n for n in (version.norms if version else []) if n["key"] in check.norm_keys]
        rid = check.id or 0
        found = summaries.get(rid)
        figures = (
            kept.from_json(found)
            if found is not None
            else check_figures(check, norms, ratings[rid], invited)
        )
        out.append(_Closed(check, norms, figures, texts[rid]))
    return out


@dataclass(frozen=True)
class ContractReport:
    """Results and comments of the same closed checks, loaded once."""

    results: list[ContractCheckResult]
    comments: list[ContractCheckComments]


async def contract_report(
    services: Services,
    team_id: int,
    since: datetime | None = None,
    session: AsyncSession | None = None,
) -> ContractReport:
    """`contract_results` and `contract_comments` together. With `session`, reads inside
    that unit of work."""
    if session is None:
        async with services.db.session() as own:
            return await contract_report(services, team_id, since, own)
    closed = await _closed(session, team_id, since)
    return ContractReport(_results(closed), _comments(closed))


async def contract_results(
    services: Services, team_id: int, since: datetime | None = None
) -> list[ContractCheckResult]:
    """Per closed check (oldest first, closed since `since`) and asked norm: the aggregate."""
    return (await contract_report(services, team_id, since)).results


async def contract_comments(
    services: Services, team_id: int, since: datetime | None = None
) -> list[ContractCheckComments]:
    """Per closed check (oldest first, closed since `since`): its comments, or why not."""
    return (await contract_report(services, team_id, since)).comments


def _results(closed_checks: list[_Closed]) -> list[ContractCheckResult]:
    results: list[ContractCheckResult] = []
    for closed in closed_checks:
        check, norms, summary = closed.check, closed.norms, closed.figures.summary
        if not norms or summary is None:
            continue
        for norm in norms:
            stat = (summary.items or {}).get(norm["key"])
            answered = closed.figures.answered.get(norm["key"], 0)
            reason = summary.withheld or (
                None
                if stat
                else text("contract.withheld.norm", answered=answered, threshold=summary.threshold)
            )
            results.append(
                ContractCheckResult(
                    norm_key=norm["key"],
                    norm_text=norm["text"],
                    respondents=stat.respondents if stat else answered,
                    mean=stat.mean if stat else None,
                    percent_of_max=stat.percent_of_max if stat else None,
                    withheld=None if stat else reason,
                    check_number=check.number,
                    closed_at=check.closed_at,
                    invited=summary.invited,
                    percent_favorable=stat.percent_favorable if stat else None,
                )
            )
    return results


def _comments(closed_checks: list[_Closed]) -> list[ContractCheckComments]:
    out: list[ContractCheckComments] = []
    for closed in closed_checks:
        respondents = closed.figures.respondents
        minimum = closed.check.min_comments
        shown = respondents >= minimum
        out.append(
            ContractCheckComments(
                check_number=closed.check.number,
                closed_at=closed.check.closed_at,
                comments=tuple(closed.comments) if shown else None,
                withheld=None
                if shown
                else text("contract.withheld.comments", respondents=respondents, minimum=minimum),
            )
        )
    return out
