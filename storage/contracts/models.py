"""Tables of team contracts: versioned norms, acknowledgements and contract checks.

Contracts are versioned: editing the norms adds a `contract_version`, and every member is
asked to acknowledge the current version. Acknowledgements name the person (by nature).

Contract checks follow the pulse approach to anonymity, by schema and in the files:
while a check is open its ratings and comments are held apart (`contract_open_rating`,
`contract_open_comment`) under respondent tokens, in anonymous mode an HMAC with the
check's key (`contract_check_key`); the close seals them (storage/contracts/seal.py) into
`contract_rating` and `contract_comment` in random order under fresh tokens, and deletes
the key. Invites say who was asked and whether they answered, never what, and ratings
carry no timestamp. When the retention period purges a closed check's ratings, its
figures are kept first in `contract_check_summary`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.core.models import created_column, utc_column
from storage.core.types import UTCDateTime


class TeamContract(SQLModel, table=True):
    """A team's contract: its check cadence and thresholds; the norms are in versions."""

    __tablename__ = "team_contract"
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", unique=True)
    current_version: int = 0
    frequency: str = Field(default="biweekly", max_length=16)
    weekday: int = 2
    at: str = Field(default="10:00", max_length=5)
    norms_per_check: int = 2
    window_hours: int = 72
    privacy: str = Field(default="anonymous", max_length=16)
    min_respondents: int = 3
    min_comments: int = 5
    team_sees_results: bool = True
    active: bool = True
    created_at: datetime = created_column()


class ContractVersion(SQLModel, table=True):
    """One version of the norms: a list of {"key", "text"}."""

    __tablename__ = "contract_version"
    __table_args__ = (UniqueConstraint("contract_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="team_contract.id", index=True)
    version: int
    norms: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = created_column()


class ContractAck(SQLModel, table=True):
    __tablename__ = "contract_ack"
    __table_args__ = (UniqueConstraint("version_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="contract_version.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    acked_at: datetime = created_column()


class ContractCheck(SQLModel, table=True):
    """One round of rating how well the team lived one or two norms."""

    __tablename__ = "contract_check"
    __table_args__ = (
        UniqueConstraint("contract_id", "number"),
        UniqueConstraint("contract_id", "occurrence", name="uq_contract_check_occurrence"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="team_contract.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    version_id: int = Field(foreign_key="contract_version.id")
    number: int
    occurrence: str | None = Field(default=None, max_length=32)
    status: str = Field(default="open", max_length=8, index=True)
    norm_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Snapshots: locked for the life of the check.
    privacy: str = Field(max_length=16)
    min_respondents: int
    min_comments: int
    opened_at: datetime = created_column()
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    closed_at: datetime | None = utc_column()


class ContractCheckKey(SQLModel, table=True):
    """The per-check secret linking tokens to people while open; deleted at close."""

    __tablename__ = "contract_check_key"
    check_id: int = Field(foreign_key="contract_check.id", primary_key=True)
    key: str = Field(max_length=128)


class ContractCheckInvite(SQLModel, table=True):
    __tablename__ = "contract_check_invite"
    __table_args__ = (UniqueConstraint("check_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="contract_check.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    answered: bool = False
    skipped: bool = False


class ContractRating(SQLModel, table=True):
    __tablename__ = "contract_rating"
    __table_args__ = (UniqueConstraint("check_id", "respondent", "norm_key"),)
    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="contract_check.id", index=True)
    respondent: str = Field(max_length=64)
    norm_key: str = Field(max_length=64)
    score: int


class ContractComment(SQLModel, table=True):
    __tablename__ = "contract_comment"
    __table_args__ = (UniqueConstraint("check_id", "respondent"),)
    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="contract_check.id", index=True)
    respondent: str = Field(max_length=64)
    text: str = Field(max_length=1000)


class ContractOpenRating(SQLModel, table=True):
    """A rating of a check still open: held apart until the close seals it."""

    __tablename__ = "contract_open_rating"
    check_id: int = Field(foreign_key="contract_check.id", primary_key=True)
    respondent: str = Field(max_length=64, primary_key=True)
    norm_key: str = Field(max_length=64, primary_key=True)
    score: int


class ContractOpenComment(SQLModel, table=True):
    __tablename__ = "contract_open_comment"
    check_id: int = Field(foreign_key="contract_check.id", primary_key=True)
    respondent: str = Field(max_length=64, primary_key=True)
    text: str = Field(max_length=1000)


class ContractCheckSummary(SQLModel, table=True):
    """A closed check's figures, kept when the retention period purged its ratings
    (handlers/contracts/kept.py reads and writes `summary`)."""

    __tablename__ = "contract_check_summary"
    check_id: int = Field(foreign_key="contract_check.id", primary_key=True)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    kept_at: datetime = created_column()
