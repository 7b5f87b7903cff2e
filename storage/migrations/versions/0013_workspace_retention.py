"""per-workspace retention period, and the figures of rounds whose answers were purged

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_months", sa.Integer(), nullable=False, server_default="24")
        )
    op.create_table(
        "pulse_round_summary",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("kept_at", storage.core.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("round_id"),
    )


def downgrade() -> None:
    op.drop_table("pulse_round_summary")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("retention_months")
