"""Coaching sessions and coach digests.

- `coaching_plan`: per team, the recurring session rule (optional), the digest lead
  time and the optional weekly digest. Times are local wall times in the plan's zone.
- `coaching_session`: one-off sessions (from config or chat), stored as UTC instants.
- `digest`: every digest sent, per coach and occasion: what was sent (the message and
  the structured content), to whom, and which summary (prompt version and model, or the
  fallback and why). One row per (coach, occasion), so a retry never builds a second.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.core.models import created_column, utc_column
from storage.core.types import UTCDateTime


class CoachingPlan(SQLModel, table=True):
    __tablename__ = "coaching_plan"
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", unique=True)
    timezone: str | None = Field(default=None, max_length=64)  # None: the team's zone
    frequency: str | None = Field(default=None, max_length=16)  # None: one-off dates only
    weekday: int | None = None
    at: str | None = Field(default=None, max_length=5)
    anchor: date | None = None
    lead_hours: int = 24
    weekly_weekday: int | None = None  # None: no weekly digest
    weekly_at: str | None = Field(default=None, max_length=5)
    created_at: datetime = created_column()


class CoachingSession(SQLModel, table=True):
    __tablename__ = "coaching_session"
    __table_args__ = (UniqueConstraint("team_id", "starts_at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    source: str = Field(default="chat", max_length=16)  # config | chat
    cancelled: bool = False
    created_at: datetime = created_column()


class Digest(SQLModel, table=True):
    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("coach_id", "occasion"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    coach_id: int = Field(foreign_key="person.id", index=True)
    # session:<UTC minute>:t<team> | weekly:<UTC minute>:t<team> |
    # demand:<UTC hour>:t<team>:r<latest closed round id> (before 2026-12: no :t<team>)
    occasion: str = Field(max_length=100)
    reason: str = Field(max_length=16)  # session | weekly | on_demand
    period_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    period_end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    session_at: datetime | None = utc_column()
    summary_source: str = Field(max_length=16)  # llm | fallback
    fallback_reason: str | None = Field(default=None, max_length=300)
    prompt_version: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=100)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    chart_token: str = Field(max_length=64)  # unguessable part of the chart URL
    outbox_key: str = Field(max_length=200)
    created_at: datetime = created_column()


class ModelBreaker(SQLModel, table=True):
    """The language model's failure state, shared by every process and CLI run: while
    `open_until` is ahead, summaries skip the model (keyed by endpoint and model)."""

    __tablename__ = "model_breaker"
    key: str = Field(primary_key=True, max_length=300)
    open_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    tripped_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reason: str = Field(max_length=300)
    failures: int = 1  # in a row, since the model last answered
