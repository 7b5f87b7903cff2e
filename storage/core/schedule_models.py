"""Schedules as data: one row per scheduled subject (a pulse program, a commitment,
a coaching session …) with the next instant it is due. The dispatcher reads only the
rows that are due, so a pass costs what is due, not what exists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.core.models import utc_column
from storage.core.types import UTCDateTime


class ScheduleEntry(SQLModel, table=True):
    __tablename__ = "schedule_entry"
    __table_args__ = (UniqueConstraint("kind", "subject_id"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    subject_id: int
    due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    occurrence: str | None = Field(default=None, max_length=32)  # nominal date it is due for
    last_run_at: datetime | None = utc_column()
    last_outcome: str | None = Field(default=None, max_length=300)
