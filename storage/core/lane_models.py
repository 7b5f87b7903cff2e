"""Sending lanes spread over processes (PostgreSQL): one lease per workspace whose
holder alone sends that workspace's paced messages, with a fencing token that grows on
every change of holder, and the sending processes' heartbeats, by which each takes its
fair share of lanes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from storage.core.types import UTCDateTime


class LaneLease(SQLModel, table=True):
    __tablename__ = "lane_lease"
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    holder: str = Field(max_length=100)
    token: int = Field(sa_column=Column(BigInteger(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LaneNode(SQLModel, table=True):
    __tablename__ = "lane_node"
    node: str = Field(max_length=100, primary_key=True)
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
