"""Building blocks of the organisation file: errors that know where they point, the
scalar field types (keys, handles, time zones, clock times …) and the strict base model
every section's spec derives from."""

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
    JsonValue,
    StrictStr,
)

from storage.core.models import Role

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


def none_as_empty_list(value: Any) -> Any:
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


class Spec(BaseModel):
    """Strict: unknown keys are errors at every level."""

    model_config = ConfigDict(extra="forbid", frozen=True)
