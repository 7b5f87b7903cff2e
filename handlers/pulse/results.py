"""Team results over time: scores, spread, stages, trend, alerts and comments —
always in aggregate and only above the thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Refused
from bot.core.messages import Context, Field_, Fields, Image, Message, Text
from handlers.context import Services
from handlers.pulse import kept as kept_figures
from handlers.pulse.chart import data_url, trend_svg
from handlers.pulse.rounds import instrument_for, team_and_program
from handlers.pulse.scoring import (
    Alert,
    Response,
    RoundSummary,
    Stat,
    alerts,
    change,
    sparkline,
    summarize,
)
from handlers.pulse.visibility import apply_rule, comment_threshold
from prompts.instruments import STAGE_LABELS, Instrument
from prompts.texts import text
from storage.core.models import Team
from storage.pulse import history as pulse_history
from storage.pulse.models import PulseProgram, PulseRound


@dataclass(frozen=True)
class RoundResult:
    round: PulseRound
    summary: RoundSummary
    comments: list[str] | None  # None: withheld under the comment threshold
    comments_withheld: str | None


@dataclass(frozen=True)
class TeamResults:
    team_key: str
    team_name: str
    instrument: Instrument
    rounds: list[RoundResult]

    @property
    def latest(self) -> RoundResult | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def trend(self) -> list[float | None]:
        return [
            r.summary.overall.percent_of_max if r.summary.overall else None for r in self.rounds
        ]

    def stage_trend(self, stage: str) -> list[float | None]:
        values: list[float | None] = []
        for r in self.rounds:
            stat = (r.summary.stages or {}).get(stage)  # type: ignore[call-overload]
            values.append(stat.percent_of_max if stat else None)
        return values

    def alerts(self) -> list[Alert]:
        if not self.rounds:
            return []
        previous = self.rounds[-2].summary if len(self.rounds) > 1 else None
        return alerts(self.instrument, previous, self.rounds[-1].summary)

    def change(self) -> float | None:
        trend = self.trend
        return change(trend[-2], trend[-1]) if len(trend) > 1 else None


async def team_results(
    services: Services, team_key: str, limit: int = 12, session: AsyncSession | None = None
) -> TeamResults:
    """Closed rounds only: live results of an open round would let someone watch
    the numbers move as each person answers. With `session`, reads inside that unit
    of work (e.g. the one closing a round)."""
    if session is None:
        async with services.db.session() as own:
            return await team_results(services, team_key, limit, own)
    team, program = await team_and_program(session, team_key, None)
    return await program_results(services, session, team, program, limit)


async def program_results(
    services: Services, session: AsyncSession, team: Team, program: PulseProgram, limit: int
) -> TeamResults:
    """`team_results` for a team and program already loaded (three queries)."""
    assert team.id is not None and program.id is not None
    rounds = await pulse_history.closed_rounds_invited(session, team.id, limit, program.id)
    return await rounds_results(services, session, team, program, rounds)


def round_summary(
    instrument: Instrument,
    round_: PulseRound,
    invited: int,
    answers: Sequence[tuple[str, str, int]],
) -> RoundSummary:
    """A closed round's figures from its answers (respondent, item, score), before the
    visibility rule (handlers/pulse/visibility.py) compares it with its neighbours."""
    return summarize(
        instrument,
        [Response(respondent, item, score) for respondent, item, score in answers],
        invited=max(invited, len({a[0] for a in answers})),
        threshold=round_.min_respondents,
    )


async def rounds_results(
    services: Services,
    session: AsyncSession,
    team: Team,
    program: PulseProgram,
    rounds: Sequence[tuple[PulseRound, int]],
) -> TeamResults:
    """The results of closed rounds already loaded with their invite counts (two
    queries): comments only from rounds that reach their comment threshold."""
    ids = [r.id or 0 for r, _ in rounds]
    answers = await pulse_history.responses(session, ids)
    texts = await pulse_history.comments(session, ids)
    answered = await pulse_history.answered_by(session, ids)
    # Rounds past the retention period: their answers are gone, their figures kept.
    kept = await pulse_history.kept_summaries(session, ids)
    instrument = instrument_for(services, program)
    summaries = []
    for round_, invited in rounds:
        rid = round_.id or 0
        if rid in kept:
            summary = kept_figures.from_json(kept[rid])
        else:
            summary = round_summary(instrument, round_, invited, answers[rid])
        summaries.append((summary, answered[rid], round_.min_respondents, round_.min_comments))
    results = []
    for (round_, _), summary in zip(rounds, apply_rule(summaries), strict=True):
        rid = round_.id or 0
        comments_from = comment_threshold(round_.min_respondents, round_.min_comments)
        if summary.respondents >= comments_from:
            results.append(RoundResult(round_, summary, texts[rid], None))
        else:
            reason = text(
                "pulse.results.comments_from",
                respondents=summary.respondents,
                minimum=comments_from,
            )
            results.append(RoundResult(round_, summary, None, reason))
    return TeamResults(team.key, team.name, instrument, results)


def spread_text(answered: dict[int, int]) -> str:
    """The spread as shown everywhere: answers as given, point by point."""
    return " · ".join(f"{point}: {count}" for point, count in answered.items())


def spread_lines(instrument: Instrument, stat: Stat) -> tuple[str, ...]:
    """The spread, labelled: on the scale people answered (before reverse scoring),
    with a word on the reversed questions when the instrument has any."""
    scale = instrument.scale
    if not stat.answered:  # withheld under the comment threshold (handlers/pulse/visibility)
        return (text("results.spread.withheld"),)
    line = text(
        "results.spread",
        low=f"{scale.min} = {scale.anchor_for(scale.min)}",
        high=f"{scale.max} = {scale.anchor_for(scale.max)}",
        spread=spread_text(stat.answered),
    )
    if any(item.reverse for item in instrument.items):
        return (line, text("results.spread.reversed"))
    return (line,)


def _fmt(value: float | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.0f}{suffix}"


def results_message(results: TeamResults, with_chart: bool = True) -> Message:
    ref = f"results:{results.team_key}"
    latest = results.latest
    heading = Text(text=text("pulse.results.heading", team=results.team_name), style="heading")
    if latest is None:
        note = text("pulse.results.none")
        return Message(ref=ref, text=note, blocks=(heading, Text(text=note)))
    summary = latest.summary
    rate = f"{summary.respondents} of {summary.invited}" + (
        f" ({summary.response_rate * 100:.0f}%)" if summary.response_rate is not None else ""
    )
    blocks: list[Any] = [
        heading,
        Context(
            lines=(
                f"Round {latest.round.number}, "
                f"{latest.round.opened_at:%d %b %Y} · {results.instrument.name_for('en')}",
            )
        ),
    ]
    if summary.overall is None:
        blocks.append(Text(text=f"Results withheld: {summary.withheld}.", style="notice"))
        blocks.append(Fields(fields=(Field_(label="Responses", value=rate),)))
    else:
        overall = summary.overall
        delta = results.change()
        scale = results.instrument.scale
        blocks.append(
            Fields(
                fields=(
                    Field_(
                        label="Score (0–100)",
                        value=f"{overall.percent_of_max:.0f}"
                        + (f" ({delta:+.0f})" if delta is not None else ""),
                    ),
                    Field_(label=f"Mean ({scale.min}–{scale.max})", value=f"{overall.mean:.2f}"),
                    Field_(label="Favorable", value=f"{overall.percent_favorable:.0f}%"),
                    Field_(label="Responses", value=rate),
                )
            )
        )
        blocks.append(Context(lines=spread_lines(results.instrument, overall)))
        stage_fields = tuple(
            Field_(
                label=STAGE_LABELS[stage], value=_fmt(stat.percent_of_max) if stat else "withheld"
            )
            for stage, stat in (summary.stages or {}).items()
        )
        if stage_fields:
            blocks.append(Fields(fields=stage_fields))
    blocks.append(
        Text(text=f"Trend: {sparkline(results.trend)}  (last {len(results.rounds)} rounds)")
    )
    for alert in results.alerts():
        blocks.append(Text(text=f"⚠ {alert.message}", style="notice"))
    if latest.comments is None:
        blocks.append(
            Context(lines=(text("pulse.results.comments_withheld", why=latest.comments_withheld),))
        )
    elif latest.comments:
        blocks.append(Text(text=text("pulse.results.comments"), style="plain"))
        blocks.append(Context(lines=tuple(f"“{c}”" for c in latest.comments)))
    if with_chart and len(results.rounds) > 1:
        series = {"Score": results.trend} | {
            STAGE_LABELS[s]: results.stage_trend(s) for s in results.instrument.stages
        }
        labels = [f"#{r.round.number}" for r in results.rounds]
        blocks.append(
            Image(url=data_url(trend_svg(labels, series)), alt=text("pulse.results.trend_alt"))
        )
    score = (
        text("pulse.results.score", score=_fmt(summary.overall.percent_of_max))
        if summary.overall
        else text("pulse.results.score_withheld")
    )
    text_line = text("pulse.results.summary", team=results.team_name, score=score)
    return Message(ref=ref, text=text_line, blocks=tuple(blocks))


def results_json(results: TeamResults) -> dict[str, Any]:
    def stat(s: Any) -> dict[str, Any] | None:
        if s is None:
            return None
        return {
            "answers": s.n,
            "respondents": s.respondents,
            "mean": round(s.mean, 3),
            "percent_of_max": round(s.percent_of_max, 1),
            "percent_favorable": round(s.percent_favorable, 1),
            "distribution": {str(k): v for k, v in s.distribution.items()},
            "answered": {str(k): v for k, v in s.answered.items()},
        }

    rounds = []
    for r in results.rounds:
        summ = r.summary
        rounds.append(
            {
                "round": r.round.number,
                "opened_at": r.round.opened_at.isoformat(),
                "closed_at": r.round.closed_at.isoformat() if r.round.closed_at else None,
                "invited": summ.invited,
                "respondents": summ.respondents,
                "response_rate": summ.response_rate,
                "threshold": summ.threshold,
                "withheld": summ.withheld,
                "overall": stat(summ.overall),
                "stages": {k: stat(v) for k, v in (summ.stages or {}).items()},
                "items": {k: stat(v) for k, v in (summ.items or {}).items()},
                "comments": r.comments,
                "comments_withheld": r.comments_withheld,
            }
        )
    return {
        "team": results.team_key,
        "instrument": results.instrument.key,
        "trend": results.trend,
        "sparkline": sparkline(results.trend),
        "change": results.change(),
        "alerts": [
            {"kind": a.kind, "message": a.message, "subject": a.subject} for a in results.alerts()
        ],
        "rounds": rounds,
    }


def ensure_can_see(roles: set[str], team_sees_results: bool) -> None:
    if "coach" in roles or (team_sees_results and roles & {"executive", "sponsor"}):
        return
    raise Refused(
        text(
            "pulse.refused.results_shared"
            if team_sees_results
            else "pulse.refused.results_coach_only"
        )
    )
