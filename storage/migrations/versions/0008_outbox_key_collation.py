"""outbox dedupe keys compare bytewise on PostgreSQL

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Cancelling by prefix is a key range, which equals "starts with" only under bytewise
# order; an ICU or glibc database collation orders punctuation otherwise. SQLite's
# BINARY already is bytewise (and has no "C" collation): nothing to do there.
def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Rebuilds the unique index on dedupe_key with the new collation.
    op.alter_column(
        "outbox_message",
        "dedupe_key",
        type_=sa.String(length=200, collation="C"),
        existing_type=sa.String(length=200),
        existing_nullable=False,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # No COLLATE clause: back to the database's default collation.
    op.alter_column(
        "outbox_message",
        "dedupe_key",
        type_=sa.String(length=200),
        existing_type=sa.String(length=200, collation="C"),
        existing_nullable=False,
    )
