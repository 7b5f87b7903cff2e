"""Pulse tables. Anonymity is a property of the schema:

- While a round is open, answers and comments are held apart, in `pulse_open_answer`
  and `pulse_open_comment`, under a respondent token: in anonymous mode
  HMAC(round key, person id), the round key in `pulse_round_key`. The close
  (storage/pulse/seal.py) moves them into `pulse_answer` and `pulse_comment` in one
  transaction, in random order, under fresh random tokens (comments under tokens of
  their own), deletes the open rows and the key, and has the database rewrite the
  pages they were in: from then on nothing in the database links an answer to a
  person. In confidential mode the token is derived from the person id, and results
  are only ever shown in aggregate.
- `pulse_invite` says who was asked and whether they answered (never what), for
  reminders and response rates. It stores no answer time; answers carry no
  timestamp at all, so the round itself is the finest grain of time kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.core.models import created_column, utc_column
from storage.core.types import UTCDateTime


class PulseProgram(SQLModel, table=True):
    __tablename__ = "pulse_program"
    __table_args__ = (UniqueConstraint("team_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    key: str = Field(max_length=64)
    instrument: str = Field(max_length=64)
    items_per_pulse: int | None = None  # None: every item, every round
    rotation_rounds: int | None = None  # every item asked at least once every K rounds
    frequency: str = Field(default="weekly", max_length=16)
    weekday: int = 0
    at: str = Field(default="09:30", max_length=5)
    spread_until: str | None = Field(default=None, max_length=5)
    window_hours: int = 72
    reminders: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    privacy: str = Field(default="anonymous", max_length=16)
    min_respondents: int = 3
    min_comments: int = 5
    team_sees_results: bool = False
    active: bool = True
    created_at: datetime = created_column()


class PulseRound(SQLModel, table=True):
    __tablename__ = "pulse_round"
    __table_args__ = (
        UniqueConstraint("program_id", "number"),
        # A scheduled occurrence opens one round, however often it is dispatched.
        UniqueConstraint("program_id", "occurrence", name="uq_pulse_round_occurrence"),
    )
    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="pulse_program.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    number: int
    kind: str = Field(default="scheduled", max_length=16)  # scheduled | manual | test
    occurrence: str | None = Field(default=None, max_length=32)
    status: str = Field(default="open", max_length=8, index=True)  # open | closed
    item_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Snapshots: thresholds and privacy are locked for the life of the round.
    privacy: str = Field(max_length=16)
    min_respondents: int
    min_comments: int
    opened_at: datetime = created_column()
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    closed_at: datetime | None = utc_column()


class PulseRoundKey(SQLModel, table=True):
    """The per-round secret that links a respondent token to a person while the round
    is open. Deleted at close (anonymous mode)."""

    __tablename__ = "pulse_round_key"
    round_id: int = Field(foreign_key="pulse_round.id", primary_key=True)
    key: str = Field(max_length=128)


class PulseInvite(SQLModel, table=True):
    __tablename__ = "pulse_invite"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulse_round.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    answered: bool = False
    skipped: bool = False


class PulseAnswer(SQLModel, table=True):
    __tablename__ = "pulse_answer"
    __table_args__ = (UniqueConstraint("round_id", "respondent", "item_key"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulse_round.id", index=True)
    respondent: str = Field(max_length=64)
    item_key: str = Field(max_length=64)
    score: int


class PulseOpenAnswer(SQLModel, table=True):
    """An answer of a round still open, held apart from closed rounds' answers: the
    close moves it, and this table's pages are rewritten (no id: no arrival order)."""

    __tablename__ = "pulse_open_answer"
    round_id: int = Field(foreign_key="pulse_round.id", primary_key=True)
    respondent: str = Field(max_length=64, primary_key=True)
    item_key: str = Field(max_length=64, primary_key=True)
    score: int


class PulseOpenComment(SQLModel, table=True):
    __tablename__ = "pulse_open_comment"
    round_id: int = Field(foreign_key="pulse_round.id", primary_key=True)
    respondent: str = Field(max_length=64, primary_key=True)
    text: str = Field(max_length=1000)


class PulseComment(SQLModel, table=True):
    __tablename__ = "pulse_comment"
    __table_args__ = (UniqueConstraint("round_id", "respondent"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulse_round.id", index=True)
    respondent: str = Field(max_length=64)
    text: str = Field(max_length=1000)


class PulseParticipant(SQLModel, table=True):
    """Per person and program: the fatigue governor's memory."""

    __tablename__ = "pulse_participant"
    __table_args__ = (UniqueConstraint("program_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="pulse_program.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    unanswered_streak: int = 0
    paused_at: datetime | None = utc_column()


class PulseRoundSummary(SQLModel, table=True):
    """A closed round's figures as results show them, kept when the retention period
    purges its answers (handlers/home/retention.py): results, trends and digests read
    this instead of the answers that are gone. Only aggregates above the round's
    thresholds: summarize() leaves out what it withholds."""

    __tablename__ = "pulse_round_summary"
    round_id: int = Field(foreign_key="pulse_round.id", primary_key=True)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    kept_at: datetime = created_column()
