"""Slack tables: installations and bots (tokens only as ciphertext), OAuth states, seen
event ids, and where each delivered message lives in Slack.

Token columns hold Fernet ciphertext made in `bot/slack/`; storage never sees a token.
Ids that Slack may omit (enterprise, team, user) are stored as "" rather than NULL, so
the unique constraints hold on PostgreSQL too (NULLs never collide there).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.core.models import created_column, utc_column
from storage.core.types import UTCDateTime


class SlackInstallation(SQLModel, table=True):
    """One installation per workspace (or org) and installing user; the latest wins."""

    __tablename__ = "slack_installation"
    __table_args__ = (UniqueConstraint("client_id", "enterprise_id", "team_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(default="", max_length=64)
    enterprise_id: str = Field(default="", max_length=32)
    team_id: str = Field(default="", max_length=32, index=True)
    user_id: str = Field(default="", max_length=32)
    is_enterprise_install: bool = False
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secrets: str = Field(sa_column=Column(Text, nullable=False))  # ciphertext
    installed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class SlackBot(SQLModel, table=True):
    """The bot token of one workspace (or org), rotated in place."""

    __tablename__ = "slack_bot"
    __table_args__ = (UniqueConstraint("client_id", "enterprise_id", "team_id"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(default="", max_length=64)
    enterprise_id: str = Field(default="", max_length=32)
    team_id: str = Field(default="", max_length=32, index=True)
    is_enterprise_install: bool = False
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secrets: str = Field(sa_column=Column(Text, nullable=False))  # ciphertext
    installed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SlackOAuthState(SQLModel, table=True):
    """An OAuth `state` issued by /slack/install, consumed once by the redirect."""

    __tablename__ = "slack_oauth_state"
    state: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class SlackEvent(SQLModel, table=True):
    """Events API ids already taken: Slack retries an event until acked (up to 3 times)."""

    __tablename__ = "slack_event"
    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class SlackMessage(SQLModel, table=True):
    """Where a person's message with a given ref lives in Slack, so the next message with
    that ref updates it in place. `ts` is NULL while a post's outcome is unknown (a
    timeout or 5xx): the next attempt looks in the conversation before posting again."""

    __tablename__ = "slack_message"
    __table_args__ = (UniqueConstraint("person_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    )
    ref: str = Field(max_length=200)
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    attempted_at: datetime | None = utc_column()
    updated_at: datetime = created_column()
