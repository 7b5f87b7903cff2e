"""Tables of accountability commitments and their check-ins.

Commitments belong to one leader and are not anonymous: the leader and their coach see
them (and the team, when the leader chooses). A check-in is one row per commitment and
occurrence, so double clicks and retries update it instead of adding rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.core.models import created_column, utc_column


class Commitment(SQLModel, table=True):
    """One leader's behaviour to practise, with its check-in cadence (leader's local time)."""

    __tablename__ = "commitment"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    behaviour: str = Field(max_length=300)
    why: str | None = Field(default=None, max_length=500)
    stage: str | None = Field(default=None, max_length=16)  # a Clark stage, or
    norm_key: str | None = Field(default=None, max_length=64)  # a contract norm
    frequency: str = Field(default="weekly", max_length=16)
    weekday: int = 4
    at: str = Field(default="16:00", max_length=5)
    ends_on: date
    visibility: str = Field(default="coach", max_length=8)  # coach | team
    partner_id: int | None = Field(default=None, foreign_key="person.id")
    partner_summary: bool = False  # the leader's opt-in to a weekly summary for the partner
    status: str = Field(default="active", max_length=12, index=True)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    snoozed_until: datetime | None = utc_column()
    created_at: datetime = created_column()
    confirmed_at: datetime | None = utc_column()
    closed_at: datetime | None = utc_column()


class CommitmentCheckIn(SQLModel, table=True):
    __tablename__ = "commitment_checkin"
    __table_args__ = (UniqueConstraint("commitment_id", "occurrence"),)
    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    occurrence: str = Field(max_length=32)  # the nominal local date it asks about
    asked_at: datetime = created_column()
    outcome: str | None = Field(default=None, max_length=8)  # kept | partly | missed | skipped
    reflection: str | None = Field(default=None, max_length=280)
    answered_at: datetime | None = utc_column()
