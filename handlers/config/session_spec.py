"""The spec of a coaching-sessions entry (`sessions:` in the organisation file)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictInt

from handlers.config.fields import ClockTime, Day, Key, Spec, TimeZone, Weekday, none_as_empty_list


def _local_datetime(value: Any) -> Any:
    """A session time: "2026-12-03 15:00" (local to the plan's zone) or with an offset."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        raise ValueError(f"{value} needs a time of day, e.g. '{value} 15:00'")
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date and time, e.g. '2026-12-03 15:00'")


SessionTime = Annotated[datetime, BeforeValidator(_local_datetime)]


class RuleSpec(Spec):
    """A recurring session: every week, every second week (in the week of `anchor`) or
    the first `weekday` of each month, at a local time."""

    frequency: Literal["weekly", "biweekly", "monthly"]
    weekday: Weekday
    at: ClockTime
    anchor: Day | None = None


class WeeklyDigestSpec(Spec):
    weekday: Weekday = "mon"
    at: ClockTime = "08:00"


class SessionsSpec(Spec):
    workspace: Key
    team: Key
    timezone: TimeZone | None = None  # default: the team's, then the workspace's
    every: RuleSpec | None = None
    dates: Annotated[list[SessionTime], BeforeValidator(none_as_empty_list)] = Field(
        default_factory=list
    )
    digest_lead_hours: StrictInt = Field(24, ge=1, le=336)
    weekly_digest: WeeklyDigestSpec | None = None
