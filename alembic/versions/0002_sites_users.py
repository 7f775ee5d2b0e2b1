"""sites, charger site membership, users

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:59:08.526854
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import csms.store.types
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('voltage_level', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('capacity_kw', sa.Float(), nullable=False),
    sa.Column('transformer_kva', sa.Float(), nullable=True),
    sa.Column('short_circuit_mva', sa.Float(), nullable=True),
    sa.Column('tariff', sa.JSON(), nullable=False),
    sa.Column('pv_kwp', sa.Float(), nullable=False),
    sa.Column('base_load_profile', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('base_load_peak_kw', sa.Float(), nullable=False),
    sa.Column('policy', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('policy_params', sa.JSON(), nullable=False),
    sa.Column('control_period_s', sa.Integer(), nullable=False),
    sa.Column('created_at', csms.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', csms.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    with op.batch_alter_table('chargers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('phase_wiring', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default='L1L2L3'))
        batch_op.add_column(sa.Column('max_power_w', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('charger_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f('ix_chargers_site_id'), ['site_id'], unique=False)
        batch_op.create_foreign_key('fk_chargers_site_id_sites', 'sites', ['site_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('chargers', schema=None) as batch_op:
        batch_op.drop_constraint('fk_chargers_site_id_sites', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_chargers_site_id'))
        batch_op.drop_column('charger_type')
        batch_op.drop_column('max_power_w')
        batch_op.drop_column('phase_wiring')
        batch_op.drop_column('site_id')

    op.drop_table('users')
    op.drop_table('sites')
