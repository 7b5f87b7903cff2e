"""slack installations, bots, oauth states, events and message locations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.core.types


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('slack_installation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enterprise_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('is_enterprise_install', sa.Boolean(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('secrets', sa.Text(), nullable=False),
    sa.Column('installed_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'enterprise_id', 'team_id', 'user_id')
    )
    with op.batch_alter_table('slack_installation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_installation_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_slack_installation_installed_at'), ['installed_at'], unique=False)

    op.create_table('slack_bot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enterprise_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('is_enterprise_install', sa.Boolean(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('secrets', sa.Text(), nullable=False),
    sa.Column('installed_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'enterprise_id', 'team_id')
    )
    with op.batch_alter_table('slack_bot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_bot_team_id'), ['team_id'], unique=False)

    op.create_table('slack_oauth_state',
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('state')
    )
    with op.batch_alter_table('slack_oauth_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_oauth_state_expires_at'), ['expires_at'], unique=False)

    op.create_table('slack_event',
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('slack_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_event_received_at'), ['received_at'], unique=False)

    op.create_table('slack_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('attempted_at', storage.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'ref')
    )


def downgrade() -> None:
    op.drop_table('slack_message')
    with op.batch_alter_table('slack_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_event_received_at'))
    op.drop_table('slack_event')
    with op.batch_alter_table('slack_oauth_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_oauth_state_expires_at'))
    op.drop_table('slack_oauth_state')
    with op.batch_alter_table('slack_bot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_bot_team_id'))
    op.drop_table('slack_bot')
    with op.batch_alter_table('slack_installation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_installation_installed_at'))
        batch_op.drop_index(batch_op.f('ix_slack_installation_team_id'))
    op.drop_table('slack_installation')
