"""sending lanes leased per workspace across processes, the senders' heartbeats, and
an index for a lane's claim

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lane_lease",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", storage.core.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"]),
        sa.PrimaryKeyConstraint("workspace_id"),
    )
    op.create_table(
        "lane_node",
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("seen_at", storage.core.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("node"),
    )
    op.create_index("ix_lane_node_seen_at", "lane_node", ["seen_at"])
    # A lane's claim: the pending rows of its workspace's people, by due time.
    op.create_index(
        "ix_outbox_pending_person",
        "outbox_message",
        ["person_id", "not_before"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_person", table_name="outbox_message")
    op.drop_index("ix_lane_node_seen_at", table_name="lane_node")
    op.drop_table("lane_node")
    op.drop_table("lane_lease")
