"""The stored shape of a coach digest: a pydantic model kept with each digest as JSON,
so a past digest is re-rendered (and its chart redrawn) exactly as it was sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from handlers.pulse.scoring import sparkline

Reason = Literal["session", "weekly", "on_demand"]


class ScoreLine(BaseModel):
    round_number: int
    scale: str  # e.g. "1–7"
    closed_at: datetime | None
    score: float | None
    mean: float | None
    favorable: float | None
    change: float | None
    change_basis: str  # "since the last session" | "since the previous round"
    withheld: str | None


class StageLine(BaseModel):
    key: str
    label: str
    score: float | None
    change: float | None
    withheld: str | None


class ContractLine(BaseModel):
    norm: str
    respondents: int
    mean: float | None
    percent: float | None
    withheld: str | None


class FollowLine(BaseModel):
    person: str
    behaviour: str
    status: str
    kept_4: float | None
    kept_12: float | None
    streak: int
    reflection: str | None
    missed: int
    counted: int = 0  # answered check-ins in all: the windows' exact label


class SummaryPart(BaseModel):
    themes: list[str]
    risks: list[str]
    focus_questions: list[str]
    source: Literal["llm", "fallback"]
    model: str | None = None
    prompt_version: str | None = None
    reason: str | None = None


class DigestContent(BaseModel):
    team_key: str
    team_name: str
    reason: Reason
    period_start: datetime
    period_end: datetime
    since_session: bool
    session_at: datetime | None
    rounds_in_period: int
    score: ScoreLine | None
    stages: list[StageLine]
    respondents: int
    invited: int
    trend_labels: list[str]
    trend: dict[str, list[float | None]]
    period_index: int | None  # first trend point inside the period
    stale: str | None
    contracts: list[ContractLine] | None  # None: contract checks not available
    follow: list[FollowLine] | None  # None: commitments not available
    flags: list[str]
    withheld: list[str]
    summary: SummaryPart
    # Comments that met their round's threshold (the rule results use too): read for
    # themes, and counted so the digest never says there were none.
    comments_used: int = 0

    @property
    def sparkline(self) -> str:
        return sparkline(self.trend.get("Score", []))


def figures(content: DigestContent) -> dict[str, Any]:
    """Aggregates for the model: no names, no commitments (those are per coach)."""

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    score = content.score
    return {
        "scale": "percent of maximum, 0-100, after reverse scoring; midpoint 50",
        "period": {
            "from": content.period_start.date().isoformat(),
            "to": content.period_end.date().isoformat(),
        },
        "rounds_closed_in_period": content.rounds_in_period,
        "score": None
        if score is None
        else {
            "latest": r(score.score),
            "change": r(score.change),
            "change_basis": score.change_basis,
            "withheld": score.withheld,
        },
        "stages": {
            s.label: {"score": r(s.score), "change": r(s.change)}
            if s.score is not None
            else "withheld"
            for s in content.stages
        },
        "response_rate": round(content.respondents / content.invited, 2)
        if content.invited
        else None,
        "score_trend": [r(v) for v in content.trend.get("Score", [])],
        "flags": content.flags,
        "contract_checks": [
            {"norm": c.norm, "percent": r(c.percent)}
            if c.withheld is None
            else {"norm": c.norm, "withheld": True}
            for c in content.contracts or []
        ],
    }
