"""coaching sessions and coach digests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.core.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coaching_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("frequency", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("anchor", sa.Date(), nullable=True),
        sa.Column("lead_hours", sa.Integer(), nullable=False),
        sa.Column("weekly_weekday", sa.Integer(), nullable=True),
        sa.Column("weekly_at", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("created_at", storage.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id"),
    )

    op.create_table(
        "coaching_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", storage.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "starts_at"),
    )
    with op.batch_alter_table("coaching_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coaching_session_starts_at"), ["starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_coaching_session_team_id"), ["team_id"], unique=False)

    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("period_start", storage.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", storage.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("session_at", storage.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("summary_source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "fallback_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True
        ),
        sa.Column("prompt_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("chart_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("outbox_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", storage.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coach_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("coach_id", "occasion"),
    )
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_coach_id"), ["coach_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_digest_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_team_id"))
        batch_op.drop_index(batch_op.f("ix_digest_coach_id"))
    op.drop_table("digest")
    with op.batch_alter_table("coaching_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coaching_session_team_id"))
        batch_op.drop_index(batch_op.f("ix_coaching_session_starts_at"))
    op.drop_table("coaching_session")
    op.drop_table("coaching_plan")
