"""contract checks' answers held apart until the close, and the figures of checks whose
ratings were purged

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.core.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "SELECT id FROM contract_check WHERE status = 'open'"


def upgrade() -> None:
    op.create_table(
        "contract_open_rating",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("norm_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["contract_check.id"]),
        sa.PrimaryKeyConstraint("check_id", "respondent", "norm_key"),
    )
    op.create_table(
        "contract_open_comment",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["contract_check.id"]),
        sa.PrimaryKeyConstraint("check_id", "respondent"),
    )
    op.create_table(
        "contract_check_summary",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("kept_at", storage.core.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["contract_check.id"]),
        sa.PrimaryKeyConstraint("check_id"),
    )
    # Checks open during the upgrade: their answers move apart, to be sealed at close.
    op.execute(
        "INSERT INTO contract_open_rating (check_id, respondent, norm_key, score) "
        "SELECT check_id, respondent, norm_key, score FROM contract_rating "
        f"WHERE check_id IN ({_OPEN})"
    )
    op.execute(
        "INSERT INTO contract_open_comment (check_id, respondent, text) "
        f"SELECT check_id, respondent, text FROM contract_comment WHERE check_id IN ({_OPEN})"
    )
    op.execute(f"DELETE FROM contract_rating WHERE check_id IN ({_OPEN})")
    op.execute(f"DELETE FROM contract_comment WHERE check_id IN ({_OPEN})")


def downgrade() -> None:
    op.execute(
        "INSERT INTO contract_rating (check_id, respondent, norm_key, score) "
        "SELECT check_id, respondent, norm_key, score FROM contract_open_rating"
    )
    op.execute(
        "INSERT INTO contract_comment (check_id, respondent, text) "
        "SELECT check_id, respondent, text FROM contract_open_comment"
    )
    op.drop_table("contract_check_summary")
    op.drop_table("contract_open_comment")
    op.drop_table("contract_open_rating")
