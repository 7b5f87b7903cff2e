"""The organisation file (`pulsecoach apply FILE.yaml`) as pydantic models.

Top-level sections, each an optional list, applied in this order::

    workspaces:   Slack workspaces, Teams tenants, or the (single) local workspace
    people:       people by handle, unique within their workspace
    teams:        teams by key, unique within their workspace, with their members by role

Unknown keys are errors at every level, so a typo never passes silently. A later section
(pulse `programs:`, `contracts:`, `sessions:`) is added to `Config` explicitly, as one more
optional list, with its applier registered in `handlers/config/apply.py`.

Inside an entry, a field that is left out keeps its stored value when the entry exists
already, and takes its default when it is created; an optional field given as `null`
is cleared. `working_hours` and `leave` are replaced as a whole when given.

Validators raise `FieldError` for problems below the field they check; everything
about *where* in the file lives in `handlers/config/loader.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictStr,
    field_validator,
    model_validator,
)

from storage.models import Role

Loc = tuple[str | int, ...]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ROLES: tuple[str, ...] = tuple(role.value for role in Role)
ChannelName = Literal["local", "slack", "teams"]


class ConfigError(ValueError):
    """A config file that cannot be applied; `str()` is ``file:line: field: reason``."""

    def __init__(self, file: str, line: int | None, field: str | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


class FieldError(ValueError):
    """A problem at a place in the file.

    Raised in validators, `loc` is relative to the field being validated; raised by a
    section applier, it is the full path from the top of the file, e.g.
    ``("teams", 0, "members", "coach", 1)``.
    """

    def __init__(self, loc: Sequence[str | int], reason: str) -> None:
        super().__init__(reason)
        self.loc: Loc = tuple(loc)
        self.reason = reason


def format_loc(loc: Sequence[str | int]) -> str:
    """``("people", 2, "timezone")`` -> ``people[2].timezone``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --------------------------------------------------------------------------- scalar types

_KEY = re.compile(r"[a-z0-9_-]{1,64}")
_HANDLE = re.compile(r"[a-z0-9._-]{1,64}")
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LOCALE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid key (lowercase letters, digits, '_' and '-')")
    return value


def _handle(value: str) -> str:
    if not _HANDLE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid handle (lowercase letters, digits, '.', '_' and '-')"
        )
    return value


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > 200:
        raise ValueError("must be at most 200 characters")
    return value


def _timezone(value: str) -> str:
    if value not in _known_zones():
        raise ValueError(f"{value!r} is not an IANA time zone")
    return value


def _clock_time(value: str) -> str:
    match = _HHMM.fullmatch(value.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time HH:MM")
    return f"{int(match[1]):02d}:{match[2]}"


def _weekday(value: str) -> str:
    text = value.strip().lower()
    if text in WEEKDAYS:
        return text
    if text in _FULL_WEEKDAYS:
        return WEEKDAYS[_FULL_WEEKDAYS.index(text)]
    raise ValueError(f"{value!r} is not a weekday ({', '.join(WEEKDAYS)})")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _locale(value: str) -> str:
    if len(value) > 16 or not _LOCALE.fullmatch(value):
        raise ValueError(f"{value!r} is not a locale (e.g. 'en', 'de', 'pt-BR')")
    return value


def _external_id(value: str) -> str:
    if not value.strip() or len(value) > 128:
        raise ValueError("must be 1 to 128 characters")
    return value


def _date_only(value: Any) -> Any:
    """A calendar date (YAML ``2026-12-24`` or the same text quoted), never a number."""
    if isinstance(value, datetime):
        raise ValueError("must be a date YYYY-MM-DD, without a time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date YYYY-MM-DD")


def _instant(value: Any) -> Any:
    if isinstance(value, datetime | str):
        return value
    raise ValueError(f"{value!r} is not a date and time (e.g. 2026-12-01T09:00:00+01:00)")


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


Key = Annotated[StrictStr, AfterValidator(_key)]
Handle = Annotated[StrictStr, AfterValidator(_handle)]
Name = Annotated[StrictStr, AfterValidator(_name)]
TimeZone = Annotated[StrictStr, AfterValidator(_timezone)]
ClockTime = Annotated[StrictStr, AfterValidator(_clock_time)]
Weekday = Annotated[StrictStr, AfterValidator(_weekday)]
Email = Annotated[StrictStr, AfterValidator(_email)]
Locale = Annotated[StrictStr, AfterValidator(_locale)]
ExternalId = Annotated[StrictStr, AfterValidator(_external_id)]
Day = Annotated[date, BeforeValidator(_date_only)]
Instant = Annotated[AwareDatetime, BeforeValidator(_instant)]
Address = dict[StrictStr, JsonValue]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- workspaces


class WorkspaceSpec(_Spec):
    """A Slack workspace, a Teams tenant, or the local channel (at most one)."""

    key: Key
    name: Name
    channel: ChannelName
    external_id: ExternalId | None = None
    timezone: TimeZone
    holidays: Annotated[list[Day], BeforeValidator(_none_as_empty_list)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _external_id_required(self) -> WorkspaceSpec:
        if self.external_id is None and self.channel != "local":
            what = "Slack team id" if self.channel == "slack" else "Teams tenant id"
            raise FieldError(("external_id",), f"required for a {self.channel} workspace ({what})")
        return self

    @property
    def effective_external_id(self) -> str:
        """The external id; a local workspace defaults to its key."""
        return self.external_id if self.external_id is not None else self.key

    @property
    def holiday_list(self) -> list[str]:
        """The holidays as stored: sorted ISO dates, each once."""
        return sorted({day.isoformat() for day in self.holidays})


# --------------------------------------------------------------------------- people


class WorkingHours(_Spec):
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    start: ClockTime = "09:00"
    end: ClockTime = "18:00"

    @model_validator(mode="after")
    def _sensible(self) -> WorkingHours:
        if not self.days:
            raise FieldError(("days",), "needs at least one working day")
        if self.end <= self.start:
            raise FieldError(("end",), f"must be after start ({self.start})")
        return self

    @property
    def day_numbers(self) -> list[int]:
        """Monday = 0, sorted, each once (as `Person.work_days`)."""
        return sorted({WEEKDAYS.index(day) for day in self.days})


class Leave(_Spec):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: Day | None = Field(default=None, alias="from")
    until: Day | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Leave:
        if self.from_ is not None and self.until is not None and self.until < self.from_:
            raise FieldError(("until",), f"must not be before from ({self.from_.isoformat()})")
        return self


class ChatSpec(_Spec):
    """Per-channel addresses. The local address is automatic ({"inbox": handle})."""

    slack: Address | None = None
    teams: Address | None = None

    @field_validator("slack")
    @classmethod
    def _slack_user(cls, value: Address | None) -> Address | None:
        if value is not None and not isinstance(value.get("user_id"), str):
            raise FieldError(("user_id",), "a Slack address needs user_id (e.g. U01ABC)")
        return value

    @field_validator("teams")
    @classmethod
    def _teams_not_empty(cls, value: Address | None) -> Address | None:
        if value is not None and not value:
            raise ValueError("a Teams address must not be empty")
        return value

    def addresses(self) -> dict[str, dict[str, Any]]:
        """The addresses given, by channel."""
        found: dict[str, dict[str, Any]] = {}
        if self.slack is not None:
            found["slack"] = dict(self.slack)
        if self.teams is not None:
            found["teams"] = dict(self.teams)
        return found


class PersonSpec(_Spec):
    handle: Handle
    workspace: Key
    name: Name
    email: Email | None = None
    timezone: TimeZone | None = None
    locale: Locale = "en"
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    chat: ChatSpec = Field(default_factory=ChatSpec)
    snoozed_until: Instant | None = None
    leave: Leave | None = None


# --------------------------------------------------------------------------- teams


class TeamSpec(_Spec):
    """A team; its membership is made to match `members` exactly when applied."""

    key: Key
    workspace: Key
    name: Name
    timezone: TimeZone | None = None
    members: dict[StrictStr, Annotated[list[Handle], BeforeValidator(_none_as_empty_list)]]

    @field_validator("members")
    @classmethod
    def _known_roles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for role, handles in value.items():
            if role not in ROLES:
                raise FieldError((role,), f"{role!r} is not a role ({', '.join(ROLES)})")
            seen: set[str] = set()
            for index, handle in enumerate(handles):
                if handle in seen:
                    raise FieldError((role, index), f"{handle!r} is listed twice as {role}")
                seen.add(handle)
        return value

    def member_list(self) -> list[tuple[str, str, int]]:
        """(role, handle, index in that role's list), roles in the canonical order."""
        return [
            (role, handle, index)
            for role in ROLES
            for index, handle in enumerate(self.members.get(role, []))
        ]


# --------------------------------------------------------------------------- the file


class Config(_Spec):
    """The whole file. Later sections are added here explicitly, each an optional list."""

    workspaces: list[WorkspaceSpec] = Field(default_factory=list)
    people: list[PersonSpec] = Field(default_factory=list)
    teams: list[TeamSpec] = Field(default_factory=list)

    _sections_may_be_empty = field_validator("workspaces", "people", "teams", mode="before")(
        _none_as_empty_list
    )
