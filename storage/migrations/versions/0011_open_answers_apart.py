"""answers of open rounds held apart until the close

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "SELECT id FROM pulse_round WHERE status = 'open'"


def upgrade() -> None:
    op.create_table(
        "pulse_open_answer",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("item_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("round_id", "respondent", "item_key"),
    )
    op.create_table(
        "pulse_open_comment",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("round_id", "respondent"),
    )
    # Rounds open during the upgrade: their answers move apart, to be sealed at close.
    op.execute(
        "INSERT INTO pulse_open_answer (round_id, respondent, item_key, score) "
        f"SELECT round_id, respondent, item_key, score FROM pulse_answer WHERE round_id IN ({_OPEN})"
    )
    op.execute(
        "INSERT INTO pulse_open_comment (round_id, respondent, text) "
        f"SELECT round_id, respondent, text FROM pulse_comment WHERE round_id IN ({_OPEN})"
    )
    op.execute(f"DELETE FROM pulse_answer WHERE round_id IN ({_OPEN})")
    op.execute(f"DELETE FROM pulse_comment WHERE round_id IN ({_OPEN})")


def downgrade() -> None:
    op.execute(
        "INSERT INTO pulse_answer (round_id, respondent, item_key, score) "
        "SELECT round_id, respondent, item_key, score FROM pulse_open_answer"
    )
    op.execute(
        "INSERT INTO pulse_comment (round_id, respondent, text) "
        "SELECT round_id, respondent, text FROM pulse_open_comment"
    )
    op.drop_table("pulse_open_comment")
    op.drop_table("pulse_open_answer")
