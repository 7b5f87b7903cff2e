"""team contracts (versions, acknowledgements, anonymous checks) and commitments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:30:00

Only new tables: nothing existing is touched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.core.types


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('commitment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('behaviour', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('why', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('norm_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('frequency', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('visibility', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('partner_summary', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('snoozed_until', storage.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', storage.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', storage.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['partner_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_team_id'), ['team_id'], unique=False)

    op.create_table('team_contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('frequency', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('norms_per_check', sa.Integer(), nullable=False),
    sa.Column('window_hours', sa.Integer(), nullable=False),
    sa.Column('privacy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('min_respondents', sa.Integer(), nullable=False),
    sa.Column('min_comments', sa.Integer(), nullable=False),
    sa.Column('team_sees_results', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id')
    )
    op.create_table('commitment_checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('occurrence', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('asked_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('reflection', sqlmodel.sql.sqltypes.AutoString(length=280), nullable=True),
    sa.Column('answered_at', storage.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('commitment_id', 'occurrence')
    )
    with op.batch_alter_table('commitment_checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_checkin_commitment_id'), ['commitment_id'], unique=False)

    op.create_table('contract_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('norms', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['team_contract.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_id', 'version')
    )
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_version_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_ack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('acked_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['contract_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'person_id')
    )
    with op.batch_alter_table('contract_ack', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_ack_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_ack_version_id'), ['version_id'], unique=False)

    op.create_table('contract_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('occurrence', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('norm_keys', sa.JSON(), nullable=False),
    sa.Column('privacy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('min_respondents', sa.Integer(), nullable=False),
    sa.Column('min_comments', sa.Integer(), nullable=False),
    sa.Column('opened_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', storage.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', storage.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['team_contract.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['contract_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_id', 'number'),
    sa.UniqueConstraint('contract_id', 'occurrence', name='uq_contract_check_occurrence')
    )
    with op.batch_alter_table('contract_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_check_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_check_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_check_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_check_team_id'), ['team_id'], unique=False)

    op.create_table('contract_check_invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('skipped', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['contract_check.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('check_id', 'person_id')
    )
    with op.batch_alter_table('contract_check_invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_check_invite_check_id'), ['check_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_check_invite_person_id'), ['person_id'], unique=False)

    op.create_table('contract_check_key',
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['contract_check.id'], ),
    sa.PrimaryKeyConstraint('check_id')
    )
    op.create_table('contract_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('respondent', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['contract_check.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('check_id', 'respondent')
    )
    with op.batch_alter_table('contract_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_comment_check_id'), ['check_id'], unique=False)

    op.create_table('contract_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('respondent', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('norm_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['contract_check.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('check_id', 'respondent', 'norm_key')
    )
    with op.batch_alter_table('contract_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_rating_check_id'), ['check_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contract_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_rating_check_id'))

    op.drop_table('contract_rating')
    with op.batch_alter_table('contract_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_comment_check_id'))

    op.drop_table('contract_comment')
    op.drop_table('contract_check_key')
    with op.batch_alter_table('contract_check_invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_check_invite_person_id'))
        batch_op.drop_index(batch_op.f('ix_contract_check_invite_check_id'))

    op.drop_table('contract_check_invite')
    with op.batch_alter_table('contract_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_check_team_id'))
        batch_op.drop_index(batch_op.f('ix_contract_check_status'))
        batch_op.drop_index(batch_op.f('ix_contract_check_contract_id'))
        batch_op.drop_index(batch_op.f('ix_contract_check_closes_at'))

    op.drop_table('contract_check')
    with op.batch_alter_table('contract_ack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_ack_version_id'))
        batch_op.drop_index(batch_op.f('ix_contract_ack_person_id'))

    op.drop_table('contract_ack')
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_version_contract_id'))

    op.drop_table('contract_version')
    with op.batch_alter_table('commitment_checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_checkin_commitment_id'))

    op.drop_table('commitment_checkin')
    op.drop_table('team_contract')
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_team_id'))
        batch_op.drop_index(batch_op.f('ix_commitment_status'))
        batch_op.drop_index(batch_op.f('ix_commitment_person_id'))

    op.drop_table('commitment')
