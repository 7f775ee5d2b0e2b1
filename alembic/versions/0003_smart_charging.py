"""smart charging state, capabilities, site load

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:02:31.822907
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import csms.store.types
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('site_load',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('timestamp', csms.store.types.UTCDateTime(), nullable=False),
    sa.Column('limit_kw', sa.Float(), nullable=False),
    sa.Column('planned_ev_kw', sa.Float(), nullable=False),
    sa.Column('measured_ev_kw', sa.Float(), nullable=False),
    sa.Column('base_kw', sa.Float(), nullable=False),
    sa.Column('pv_kw', sa.Float(), nullable=False),
    sa.Column('policy', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name='fk_site_load_site', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('site_load', schema=None) as batch_op:
        batch_op.create_index('ix_site_load_site_ts', ['site_id', 'timestamp'], unique=False)

    op.create_table('charger_capabilities',
    sa.Column('charger_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('protocol', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rate_units', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('max_stack_level', sa.Integer(), nullable=False),
    sa.Column('max_periods', sa.Integer(), nullable=False),
    sa.Column('max_profiles', sa.Integer(), nullable=False),
    sa.Column('evses', sa.Integer(), nullable=False),
    sa.Column('probed', sa.Boolean(), nullable=False),
    sa.Column('probed_at', csms.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['charger_id'], ['chargers.id'], name='fk_capabilities_charger', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('charger_id')
    )
    op.create_table('smart_charging_state',
    sa.Column('charger_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('transaction_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=True),
    sa.Column('limit_w', sa.Float(), nullable=True),
    sa.Column('limit_value', sa.Float(), nullable=True),
    sa.Column('limit_unit', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('number_phases', sa.Integer(), nullable=True),
    sa.Column('sent_at', csms.store.types.UTCDateTime(), nullable=True),
    sa.Column('lease_until', csms.store.types.UTCDateTime(), nullable=True),
    sa.Column('accepted', sa.Boolean(), nullable=True),
    sa.Column('readback_ok', sa.Boolean(), nullable=True),
    sa.Column('why', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('measured_w', sa.Float(), nullable=True),
    sa.Column('measured_at', csms.store.types.UTCDateTime(), nullable=True),
    sa.Column('ev_max_w', sa.Float(), nullable=True),
    sa.Column('obeying', sa.Boolean(), nullable=False),
    sa.Column('violations', sa.Integer(), nullable=False),
    sa.Column('flagged_at', csms.store.types.UTCDateTime(), nullable=True),
    sa.Column('updated_at', csms.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['charger_id'], ['chargers.id'], name='fk_sc_state_charger', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('charger_id', 'evse_id')
    )


def downgrade() -> None:
    op.drop_table('smart_charging_state')
    op.drop_table('charger_capabilities')
    with op.batch_alter_table('site_load', schema=None) as batch_op:
        batch_op.drop_index('ix_site_load_site_ts')

    op.drop_table('site_load')
