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

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from handlers.config.contract_spec import CommitmentSpec, ContractSpec
from handlers.config.fields import (
    ROLES,
    WEEKDAYS,
    Address,
    ChannelName,
    ClockTime,
    Day,
    Email,
    ExternalId,
    FieldError,
    Handle,
    Instant,
    Key,
    Locale,
    Name,
    Spec,
    TimeZone,
    Weekday,
    _clock_time,
    none_as_empty_list,
)
from handlers.config.program_spec import ProgramSpec
from handlers.config.session_spec import SessionsSpec

_Spec = Spec
_none_as_empty_list = none_as_empty_list

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
    # Raw answers, comments, reflections, chat history and digest texts older than
    # this are purged; figures stay (handlers/home/retention.py). 0: kept only until
    # the round closes, refused while any answer window is open longer
    # (handlers/config/retention.py).
    retention_months: StrictInt = Field(24, ge=0, le=120)

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


def _quiet_window(value: str | None) -> str | None:
    """'HH:MM-HH:MM' (may wrap midnight), or null / 'off' for no quiet hours."""
    if value is None or value.strip().lower() == "off":
        return None
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f"{value!r} is not a window HH:MM-HH:MM (or off)")
    start, end = _clock_time(start), _clock_time(end)
    if start == end:
        raise ValueError(f"{value!r} is an empty window")
    return f"{start}-{end}"


class WorkingHours(_Spec):
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    start: ClockTime = "09:00"
    end: ClockTime = "18:00"
    # Nothing is sent in these hours, even inside working hours.
    quiet: Annotated[StrictStr | None, AfterValidator(_quiet_window)] = "20:00-08:00"

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
    def _teams_user(cls, value: Address | None) -> Address | None:
        """A Teams person is named by their Azure AD object id; without one, they are
        matched by email when they first write to the bot or install it."""
        if value is None:
            return value
        if not isinstance(value.get("aad_object_id"), str) or not value["aad_object_id"]:
            raise FieldError(
                ("aad_object_id",),
                "a Teams address needs aad_object_id (the user's Azure AD object id); "
                "leave chat.teams out to match the person by email",
            )
        unknown = sorted(set(value) - {"aad_object_id"})
        if unknown:
            raise FieldError((unknown[0],), "a Teams address takes aad_object_id only")
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
    programs: list[ProgramSpec] = Field(default_factory=list)
    contracts: list[ContractSpec] = Field(default_factory=list)
    commitments: list[CommitmentSpec] = Field(default_factory=list)
    sessions: list[SessionsSpec] = Field(default_factory=list)

    _sections_may_be_empty = field_validator(
        "workspaces",
        "people",
        "teams",
        "programs",
        "contracts",
        "commitments",
        "sessions",
        mode="before",
    )(_none_as_empty_list)
