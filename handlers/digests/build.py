"""What a coach digest says, for the period since the last coaching session.

Every figure comes from the aggregate, threshold-checked pulse results
(`handlers/pulse/results.py`) and the contract and commitment reports, shown only as
`visibility` allows (every threshold check of the digest is there); where one is
withheld, the digest says so and why. `story` reads the figures (noise, trend, split),
`sections` builds the page's parts, `signals` what the session questions come from.
The team part is built once per occasion; the commitments part per coach. The content
is a pydantic model stored with the digest, so a past digest re-renders as it was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.commitments import follow_through
from handlers.context import Services, no_team
from handlers.digests import period as digest_period
from handlers.digests import sections, visibility
from handlers.digests.content import (
    DigestContent,
    FollowLine,
    Reason,
    ScoreLine,
    Signal,
    StageLine,
    SummaryPart,
    figures,
)
from handlers.digests.hygiene import redact
from handlers.digests.names import name_forms
from handlers.digests.signals import signals
from handlers.digests.story import ends, noise, story
from handlers.pulse import results as pulse_results
from handlers.pulse.results import RoundResult, TeamResults
from handlers.pulse.rounds import team_and_program
from handlers.pulse.scoring import DROP_ALERT_POINTS
from prompts.instruments import STAGE_LABELS
from prompts.texts import text
from storage.commitments import queries as storage_commitments
from storage.commitments.models import Commitment
from storage.contracts import queries as storage_contracts
from storage.core.models import Person, Role, Team
from storage.digests import queries as digests
from storage.pulse.models import PulseProgram

# The chart shows at most this many rounds; the period's figures (response rate,
# comments, baseline) count every round since the last session, however many.
TREND_ROUNDS = 16
UNANSWERED_STREAK = 2
CONTRACT_HISTORY = timedelta(days=365)  # contract checks before the period, for the trend


class TeamPart(BaseModel):
    """Everything of a digest that is the same for every coach of the team."""

    content: DigestContent  # follow empty, summary a placeholder until `finish`
    request: dict[str, Any]
    comments: list[str]
    stage_scores: dict[str, float]
    coaches: list[int]
    names: list[str]
    team_id: int
    follow: dict[int, list[FollowLine]]  # by coach id
    signals: list[Signal]  # the team's (no commitments: those are per coach)


def _pom(result: RoundResult | None, stage: str | None = None) -> float | None:
    if result is None:
        return None
    if stage is None:
        return result.summary.overall.percent_of_max if result.summary.overall else None
    stat = (result.summary.stages or {}).get(stage)  # type: ignore[call-overload]
    return stat.percent_of_max if stat else None


def _change(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _score_and_stages(
    results: TeamResults, period: list[RoundResult], baseline: RoundResult | None
) -> tuple[ScoreLine | None, list[StageLine], list[str]]:
    latest = results.latest
    if latest is None:
        return None, [], []
    withheld: list[str] = []
    previous = baseline or (results.rounds[-2] if len(results.rounds) > 1 else None)
    basis = "since the last session" if baseline else "since the previous round"
    summary = latest.summary
    overall = summary.overall
    if overall is None:
        withheld.append(
            text("digest.withheld.score", number=latest.round.number, why=summary.withheld)
        )
    scale = results.instrument.scale
    score = ScoreLine(
        round_number=latest.round.number,
        scale=f"{scale.min}–{scale.max}",
        closed_at=latest.round.closed_at,
        score=overall.percent_of_max if overall else None,
        mean=overall.mean if overall else None,
        favorable=overall.percent_favorable if overall else None,
        change=_change(_pom(previous), _pom(latest)),
        change_basis=basis,
        withheld=summary.withheld,
        respondents=summary.respondents,
        noise=noise(scale, visibility.overall(previous), overall),
        favorable_from=scale.anchors[scale.favorable_from]["en"],
        favorable_share=ends(scale, overall)[0] if overall else None,
        unfavorable_share=ends(scale, overall)[1] if overall else None,
    )
    stages = []
    for stage in results.instrument.stages:
        value = _pom(latest, stage)
        why = None
        if value is None:
            why = summary.withheld or (
                f"fewer than {summary.threshold} people answered its questions"
            )
            if overall is not None:
                withheld.append(f"{STAGE_LABELS[stage]}: {why}.")
        stages.append(
            StageLine(
                key=stage,
                label=STAGE_LABELS[stage],
                score=value,
                change=_change(_pom(previous, stage), value),
                withheld=why,
            )
        )
    for r in (r for r in period if r.comments is None):
        withheld.append(
            text("digest.withheld.comments", number=r.round.number, why=r.comments_withheld)
        )
    return score, stages, withheld


def _flags(
    results: TeamResults,
    score: ScoreLine | None,
    baseline: RoundResult | None,
    unanswered: tuple[int, int],
) -> list[str]:
    flags = [alert.message for alert in results.alerts() if alert.kind != "item_below_midpoint"]
    previous = results.rounds[-2] if len(results.rounds) > 1 else None
    if (
        score is not None
        and baseline is not previous  # else the round-to-round alert says it already
        and score.change_basis == "since the last session"
        and score.change is not None
        and score.score is not None
        and -score.change >= DROP_ALERT_POINTS
    ):
        before = score.score - score.change
        flags.append(
            text("digest.drop.session", fall=-score.change, before=before, after=score.score)
        )
    count, paused = unanswered
    if count:
        paused_text = text("digest.unanswered.paused", paused=paused) if paused else ""
        flags.append(
            text("digest.unanswered", count=count, streak=UNANSWERED_STREAK, paused=paused_text)
        )
    return flags


@dataclass(frozen=True)
class _Loaded:
    team: Team
    people: list[tuple[Person, str]]
    names: list[str]  # everyone's in the workspace
    results: TeamResults  # every round of the period and TREND_ROUNDS before it
    start: datetime | None  # the previous session, if any
    period_start: datetime
    unanswered: tuple[int, int]
    contracts: follow_through.ContractReport  # a year of checks before the period too
    commitments: list[tuple[Commitment, str | None, list[storage_commitments.Outcome]]]
    proposals: list[Commitment]  # pending: waiting for their leader
    contract_version: int | None
    acknowledged: set[int] | None  # who acknowledged the current version


async def _results(
    services: Services,
    session: AsyncSession,
    team: Team,
    program: PulseProgram,
    since: datetime,
) -> TeamResults:
    """As `pulse_results.program_results`, but with every round closed since `since`
    (however many) and the TREND_ROUNDS before it: three queries."""
    assert team.id is not None and program.id is not None
    rounds = await digests.digest_rounds(session, team.id, program.id, since, TREND_ROUNDS)
    return await pulse_results.rounds_results(services, session, team, program, rounds)


async def _load(services: Services, team_key: str, at: datetime, commitments: bool) -> _Loaded:
    """Everything a digest is built from, in at most sixteen queries however long the
    history: the team (with its workspace, program, plan and unanswered counts), its
    people with the names of everyone in the workspace, sessions, the pulse rounds of
    the period (and the chart's before it) with their answers and comments, the
    contract checks of the last year with theirs, the current contract version and who
    acknowledged it, pending proposals and, with `commitments`, the team's commitments
    with the outcomes of all their check-ins. The reads run one after another in one
    session: that measured faster than concurrent sessions (bench/digest_bench.py)."""
    async with services.db.session() as session:
        subject = await digests.digest_subject(session, team_key, UNANSWERED_STREAK)
        if subject is None:
            raise no_team(team_key)
        team, program = subject.team, subject.program
        assert team.id is not None
        if program is None:  # refused, saying what to do
            _, program = await team_and_program(session, team_key, None)
        assert subject.workspace.id is not None
        people, everyone = await digests.people_and_names(session, team.id, subject.workspace.id)
        times = await digest_period.planned_times(
            session, subject.plan, team, subject.workspace, at
        )
        start = times.previous(before=at)
        period_start = start or at - timedelta(days=digest_period.LOOKBACK_DAYS)
        results = await _results(services, session, team, program, period_start)
        report = await follow_through.contract_report(
            services, team.id, period_start - CONTRACT_HISTORY, session
        )
        # The figures count every check-in, as the leader's own view does: "the last 4"
        # means the same in both (only commitments closed before the period drop out).
        rows = (
            await storage_commitments.followed(session, team.id, period_start, all_checkins=True)
            if commitments
            else []
        )
        proposals = await storage_commitments.of_team(session, team.id, ["pending"])
        contract = await storage_contracts.for_team(session, team.id)
        version = await storage_contracts.current_version(session, contract) if contract else None
        acknowledged = (
            set(await storage_contracts.acknowledged(session, version.id or 0))
            if version is not None
            else None
        )
    return _Loaded(
        team,
        people,
        name_forms(everyone),
        results,
        start,
        period_start,
        subject.unanswered,
        report,
        rows,
        proposals,
        version.version if version is not None else None,
        acknowledged,
    )


async def build_team_part(
    services: Services,
    team_key: str,
    at: datetime,
    reason: Reason,
    session_at: datetime | None,
    follow_for: Sequence[int] = (),
) -> TeamPart:
    """The team's figures for the period ending `at`, and the commitments as each coach
    in `follow_for` may see them. The number of queries does not grow with the history
    nor with the number of coaches."""
    loaded = await _load(services, team_key, at, commitments=bool(follow_for))
    team, people, results = loaded.team, loaded.people, loaded.results
    start, period_start = loaded.start, loaded.period_start
    assert team.id is not None
    closed = [(r, r.round.closed_at or r.round.opened_at) for r in results.rounds]
    period = [r for r, t in closed if period_start <= t <= at]
    earlier = [r for r, t in closed if t < period_start and r.summary.overall is not None]
    baseline = earlier[-1] if start and earlier else None
    score, stages, withheld = _score_and_stages(results, period, baseline)
    stale = None
    if results.latest is not None and not period:
        closed_at = results.latest.round.closed_at or results.latest.round.opened_at
        stale = text(
            "digest.stale", number=results.latest.round.number, closed=f"{closed_at:%d %b %Y}"
        )
    names = loaded.names
    contracts, contract_comments, contract_withheld = sections.contract_lines(
        loaded.contracts, period_start
    )
    follows = [
        sections.follow_lines(
            follow_through.follow_through_of(
                loaded.commitments, coach, {role for p, role in people if p.id == coach}
            )
        )
        for coach in follow_for
    ]
    usable = visibility.comments(period) + contract_comments
    comments = [redact(c, names) for c in usable]
    weakest_items, strongest_items = sections.items(results, results.latest if period else None)
    contract = sections.contract_story(
        loaded.contracts, loaded.contract_version, loaded.acknowledged, people, period_start
    )
    flags = _flags(results, score, baseline, loaded.unanswered)
    flags += [
        text("digest.split.flag", item=i.text, favorable=i.favorable, unfavorable=i.unfavorable)
        for i in weakest_items + strongest_items
        if i.split
    ]
    if contract is not None and contract.unacknowledged:
        flags.append(
            text(
                "digest.unacknowledged.flag",
                count=len(contract.unacknowledged),
                version=contract.version,
            )
        )
    flags += [
        text("digest.contract.low", norm=c.norm, percent=c.percent)
        for c in contracts
        if c.percent is not None and c.percent < 50
    ]
    for c in (c for c in contracts if c.withheld):
        withheld.append(text("digest.withheld.contract", norm=c.norm, why=c.withheld))
    withheld += contract_withheld
    # The chart keeps its cap; the figures above counted the whole period.
    charted = TeamResults(
        results.team_key, results.team_name, results.instrument, results.rounds[-TREND_ROUNDS:]
    )
    shown = closed[-TREND_ROUNDS:]
    first_in_period = next((i for i, (_, t) in enumerate(shown) if t >= period_start), None)
    series = {"Score": charted.trend} | {
        STAGE_LABELS[s]: charted.stage_trend(s) for s in charted.instrument.stages
    }
    content = DigestContent(
        team_key=team.key,
        team_name=team.name,
        reason=reason,
        period_start=period_start,
        period_end=at,
        since_session=start is not None,
        session_at=session_at,
        rounds_in_period=len(period),
        score=score,
        stages=stages,
        respondents=sum(r.summary.respondents for r in period),
        invited=sum(r.summary.invited for r in period),
        trend_labels=[f"{t:%d %b}" for _, t in shown],
        trend=series,
        period_index=first_in_period,
        stale=stale,
        contracts=contracts,
        follow=None,
        flags=flags,
        withheld=withheld,
        summary=SummaryPart(themes=[], risks=[], focus_questions=[], source="fallback"),
        story=story([f"{t:%d %b}" for _, t in shown], charted.trend),
        weakest_items=weakest_items,
        strongest_items=strongest_items,
        contract=contract,
        leaders_without=sections.leaders_without(people, (c for c, _, _ in loaded.commitments))
        if follow_for
        else None,
        pending=sections.pending(loaded.proposals, {p.id or 0: p.name for p, _ in people})
        if follow_for
        else None,
        comments=sections.shown_comments(usable, names),
        comments_used=len(usable),
    )
    team_signals = signals(content)
    stage_scores = {s.key: s.score for s in stages if s.score is not None}
    # Norm texts are free text too: the model sees them with names and links redacted.
    for_model = content.model_copy(
        update={
            "contracts": [c.model_copy(update={"norm": redact(c.norm, names)}) for c in contracts],
            "flags": [redact(f, names) for f in flags],
            "contract": contract.model_copy(
                update={"weakest": redact(contract.weakest or "", names), "unacknowledged": []}
            )
            if contract
            else None,
            "signals": [g.model_copy(update={"why": redact(g.why, names)}) for g in team_signals],
        }
    )
    return TeamPart(
        content=content,
        request=figures(for_model),
        comments=comments,
        stage_scores=stage_scores,
        coaches=[p.id or 0 for p, role in people if role == Role.COACH],
        names=names,
        team_id=team.id,
        follow=dict(zip(follow_for, follows, strict=True)),
        signals=team_signals,
    )
