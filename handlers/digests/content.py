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
    respondents: int = 0
    noise: float | None = None  # ± points the score moves by chance with this few people
    favorable_from: str | None = None  # the answer from which an answer is favourable
    favorable_share: float | None = None  # percent of answers at the favourable end
    unfavorable_share: float | None = None  # ... and at the mirrored unfavourable end

    @property
    def real_change(self) -> bool | None:
        """Whether the change is larger than chance would make it (None: unknown)."""
        if self.change is None or self.noise is None:
            return None
        return abs(self.change) > self.noise


class StoryLine(BaseModel):
    """The trend's story over the rounds shown."""

    rounds: int
    low: float
    low_label: str
    high: float
    high_label: str
    latest: float
    direction: Literal["rising", "falling", "flat"]
    turn_label: str | None  # the round where the direction last changed
    latest_is_high: bool
    latest_is_low: bool


class ItemLine(BaseModel):
    key: str
    text: str
    score: float
    favorable: float  # percent of answers at the favourable end
    unfavorable: float  # ... and at the unfavourable end
    respondents: int
    split: bool  # both ends hold at least a quarter of the answers


class ContractStory(BaseModel):
    """The contract: its weakest norm and that norm's trend, and who has not
    acknowledged the current version (acknowledging is not anonymous)."""

    version: int | None
    weakest: str | None
    weakest_percent: float | None
    weakest_trend: list[float | None] = []
    unacknowledged: list[str] = []


class Signal(BaseModel):
    """Something in the figures worth a session question: its topic, why, and the
    question the fallback asks about it (the model gets topic and why)."""

    topic: str
    why: str
    question: str


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
    skipped: bool = False  # the model was not asked: it stopped answering recently


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
    # Added for issue #16 (defaults: digests stored before still load).
    story: StoryLine | None = None
    weakest_items: list[ItemLine] = []
    strongest_items: list[ItemLine] = []
    contract: ContractStory | None = None
    leaders_without: list[str] | None = None  # None: commitments not available
    pending: list[str] | None = None  # proposals waiting for their leader, "name: behaviour"
    comments: list[str] = []  # shown as written (redacted) when too few for themes
    signals: list[Signal] = []

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
            "noise_band_points": r(score.noise),
            "change_larger_than_noise": score.real_change,
            "respondents": score.respondents,
            "percent_favorable": r(score.favorable_share),
            "percent_unfavorable": r(score.unfavorable_share),
            "withheld": score.withheld,
        },
        "trend_story": None if content.story is None else content.story.model_dump(),
        "weakest_items": [i.model_dump() for i in content.weakest_items],
        "strongest_items": [i.model_dump() for i in content.strongest_items],
        "contract": None
        if content.contract is None
        else {
            "weakest_norm": content.contract.weakest,
            "weakest_percent": r(content.contract.weakest_percent),
            "weakest_trend": [r(v) for v in content.contract.weakest_trend],
        },
        "comments_usable": content.comments_used,
        "signals_for_focus_questions": [{"topic": s.topic, "why": s.why} for s in content.signals],
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
