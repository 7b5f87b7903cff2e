"""The spec of a pulse program entry (`programs:` in the organisation file)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt, model_validator

from handlers.config.fields import ClockTime, FieldError, Key, Spec, Weekday


class CadenceSpec(Spec):
    frequency: Literal["weekly", "biweekly", "monthly"] = "weekly"
    weekday: Weekday = "mon"
    at: ClockTime = "09:30"
    spread_until: ClockTime | None = None

    @model_validator(mode="after")
    def _spread_after_at(self) -> CadenceSpec:
        if self.spread_until is not None and self.spread_until <= self.at:
            raise FieldError(("spread_until",), f"must be after at ({self.at})")
        return self


class RemindersSpec(Spec):
    halfway: StrictBool = True
    before_close_hours: StrictInt | None = Field(12, ge=1, le=168)
    max: StrictInt = Field(2, ge=0, le=3)


class ThresholdsSpec(Spec):
    respondents: StrictInt = Field(3, ge=3, le=50)
    comments: StrictInt = Field(5, ge=3, le=50)

    @model_validator(mode="after")
    def _comments_never_below_respondents(self) -> ThresholdsSpec:
        # Comments under the respondent threshold would show what the scores withhold:
        # with 3 of 5 needed for scores, 3 people's comments would be readable.
        if self.comments < self.respondents:
            raise FieldError(
                ("comments",),
                f"must be at least the respondents threshold ({self.respondents}): comments "
                "from fewer people than scores need would show what the scores withhold",
            )
        return self


class ProgramSpec(Spec):
    key: Key
    workspace: Key
    team: Key
    instrument: Key
    items_per_pulse: StrictInt | None = Field(None, ge=1, le=50)
    rotation_rounds: StrictInt | None = Field(None, ge=1, le=52)
    cadence: CadenceSpec = Field(default_factory=CadenceSpec)
    window_hours: StrictInt = Field(72, ge=1, le=336)
    reminders: RemindersSpec = Field(default_factory=RemindersSpec)
    privacy: Literal["anonymous", "confidential"] = "anonymous"
    thresholds: ThresholdsSpec = Field(default_factory=ThresholdsSpec)
    team_sees_results: StrictBool = False
    active: StrictBool = True
