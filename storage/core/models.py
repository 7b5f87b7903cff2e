"""Core tables: who is who, how to reach them, what we send, and what was done.

Capabilities (pulse, commitments, digests) keep their tables in modules of their
own; every table is registered on `SQLModel.metadata` for Alembic.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.core.types import UTCDateTime, utcnow


def utc_column(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def created_column() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Role(StrEnum):
    EXECUTIVE = "executive"
    COACH = "coach"
    ADMIN = "admin"
    SPONSOR = "sponsor"


class Channel(StrEnum):
    LOCAL = "local"
    SLACK = "slack"
    TEAMS = "teams"


class Workspace(SQLModel, table=True):
    """One Slack workspace, one Teams tenant, or the local channel."""

    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    timezone: str = Field(default="UTC", max_length=64)
    holidays: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Raw answers, comments, reflections, chat history and digest texts older than this
    # are purged (aggregates stay): handlers/home/retention.py.
    retention_months: int = Field(default=24, sa_column_kwargs={"server_default": "24"})
    created_at: datetime = created_column()


class Person(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "handle"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    handle: str = Field(max_length=64)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    timezone: str | None = Field(default=None, max_length=64)
    locale: str = Field(default="en", max_length=16)
    work_days: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], sa_column=Column(JSON, nullable=False)
    )
    work_start: str = Field(default="09:00", max_length=5)
    work_end: str = Field(default="18:00", max_length=5)
    # None: no quiet hours at all. No column default: the ORM fills a None with the
    # column's default on INSERT, which would turn "quiet: off" back on.
    quiet_hours: str | None = Field(
        default="20:00-08:00", max_length=11, sa_column_kwargs={"default": None}
    )
    snoozed_until: datetime | None = utc_column()
    leave_from: date | None = None
    leave_until: date | None = None
    paused_at: datetime | None = utc_column()
    created_at: datetime = created_column()


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    key: str = Field(max_length=64)
    name: str = Field(max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_column()


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("team_id", "person_id", "role"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)


class ChatAddress(SQLModel, table=True):
    """How to reach a person proactively on one channel (a Slack user id, a Teams
    conversation reference, the local inbox)."""

    __tablename__ = "chat_address"
    __table_args__ = (UniqueConstraint("person_id", "channel"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(max_length=16)
    address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = True
    inactive_reason: str | None = Field(default=None, max_length=200)
    updated_at: datetime = created_column()


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent failure, kept for the record
    CANCELLED = "cancelled"  # its moment passed before it could be sent
    MISSED = "missed"  # due while we were down and no longer meaningful


class OutboxMessage(SQLModel, table=True):
    """Every outgoing message is written here first; the sender delivers it once."""

    __tablename__ = "outbox_message"
    # A lane's claim: its workspace's people's pending rows, by due time. Without it
    # PostgreSQL, its statistics stale after a fan-out of thousands was written, was
    # seen to AND the status index with the person index: ~3 s a claim, not ~10 ms.
    __table_args__ = (
        Index(
            "ix_outbox_pending_person",
            "person_id",
            "not_before",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    # Bytewise on PostgreSQL ("C"), as SQLite's BINARY already is: cancelling by prefix
    # is a key range, which equals "starts with" only under bytewise order.
    dedupe_key: str = Field(
        sa_column=Column(
            String(200).with_variant(String(200, collation="C"), "postgresql"),
            unique=True,
            nullable=False,
        )
    )
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=32)
    ref: str = Field(max_length=200, description="logical message id, for updates in place")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    not_before: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    expires_at: datetime | None = utc_column()
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    channel: str | None = Field(default=None, max_length=16)
    external_ref: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    claimed_until: datetime | None = utc_column()
    created_at: datetime = created_column()
    sent_at: datetime | None = utc_column()


class LocalMessage(SQLModel, table=True):
    """The local channel's chat history: what the web chat shows a person."""

    __tablename__ = "local_message"
    __table_args__ = (UniqueConstraint("person_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    ref: str = Field(max_length=200)
    sender: str = Field(max_length=8)  # "bot" or "user"
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 1
    created_at: datetime = created_column()
    updated_at: datetime = created_column()


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_column()
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    target: str = Field(max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
