"""field-grade smart charging: chargers' learned facts and clock offsets, read-back state,
samples by receive time

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa

import csms.store.types
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chargers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charger_type_source', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('max_power_source', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('connector_type', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('supply_phases', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('phase_wiring_source', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('clock_offset_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('clock_checked_at', csms.store.types.UTCDateTime(),
                                      nullable=True))
    # What the registry already said was the operator's.
    op.execute("UPDATE chargers SET charger_type_source = 'operator' "
               "WHERE charger_type IS NOT NULL")
    op.execute("UPDATE chargers SET max_power_source = 'operator' "
               "WHERE max_power_w IS NOT NULL")
    op.execute("UPDATE chargers SET phase_wiring_source = 'operator' "
               "WHERE phase_wiring <> 'L1L2L3'")
    with op.batch_alter_table('charger_capabilities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('composite', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table('smart_charging_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('readback_mismatches', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('readback_got_w', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('readback_cap_w', sa.Float(), nullable=True))
    op.create_index('ix_samples_session_received', 'meter_samples',
                    ['session_id', 'received_at'], unique=False)
    op.create_index('ix_samples_charger_received', 'meter_samples',
                    ['charger_id', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_samples_charger_received', table_name='meter_samples')
    op.drop_index('ix_samples_session_received', table_name='meter_samples')
    with op.batch_alter_table('smart_charging_state', schema=None) as batch_op:
        batch_op.drop_column('readback_cap_w')
        batch_op.drop_column('readback_got_w')
        batch_op.drop_column('readback_mismatches')
    with op.batch_alter_table('charger_capabilities', schema=None) as batch_op:
        batch_op.drop_column('composite')
    with op.batch_alter_table('chargers', schema=None) as batch_op:
        batch_op.drop_column('clock_checked_at')
        batch_op.drop_column('clock_offset_s')
        batch_op.drop_column('phase_wiring_source')
        batch_op.drop_column('supply_phases')
        batch_op.drop_column('connector_type')
        batch_op.drop_column('max_power_source')
        batch_op.drop_column('charger_type_source')
