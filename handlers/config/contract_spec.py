"""The specs of `contracts:` and `commitments:` entries in the organisation file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr

from handlers.config.fields import ClockTime, Day, Handle, Key, Spec, Weekday
from handlers.config.program_spec import ThresholdsSpec

Frequency = Literal["weekly", "biweekly", "monthly"]


class ContractChecksSpec(Spec):
    frequency: Frequency = "biweekly"
    weekday: Weekday = "wed"
    at: ClockTime = "10:00"
    norms_per_check: StrictInt = Field(2, ge=1, le=2)
    window_hours: StrictInt = Field(72, ge=1, le=336)


class ContractSpec(Spec):
    """A team's norms (each change is a new version members acknowledge) and its checks."""

    workspace: Key
    team: Key
    norms: list[StrictStr] = Field(min_length=1)
    checks: ContractChecksSpec = Field(default_factory=ContractChecksSpec)
    privacy: Literal["anonymous", "confidential"] = "anonymous"
    thresholds: ThresholdsSpec = Field(default_factory=ThresholdsSpec)
    team_sees_results: StrictBool = True
    active: StrictBool = True


class CheckInCadenceSpec(Spec):
    frequency: Frequency = "weekly"
    weekday: Weekday = "fri"
    at: ClockTime = "16:00"


class CommitmentSpec(Spec):
    """One leader's commitment, known by (workspace, person, behaviour)."""

    workspace: Key
    person: Handle
    team: Key | None = None  # needed only when the person leads several teams
    behaviour: StrictStr = Field(min_length=1, max_length=300)
    why: StrictStr | None = Field(None, max_length=500)
    stage: Literal["inclusion", "learner", "contributor", "challenger"] | None = None
    norm: Key | None = None
    cadence: CheckInCadenceSpec = Field(default_factory=CheckInCadenceSpec)
    until: Day
    visibility: Literal["coach", "team"] = "coach"
    partner: Handle | None = None
    partner_summary: StrictBool = False
    status: Literal["active", "paused", "completed", "dropped"] = "active"
