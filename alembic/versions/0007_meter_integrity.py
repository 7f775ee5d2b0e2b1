"""meter integrity: one row per reading, plausibility flags, the latest register's time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 00:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa

import csms.store.types
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One reading of one meter at one instant (a 1.6 MeterValues re-sent after a stall was stored
# twice). NULLs are distinct in a unique index, hence coalesce.
READING_KEY = ("charger_id", "coalesce(session_id, 0)", "evse_id", "timestamp", "measurand",
               "coalesce(phase, '')", "coalesce(location, '')")


def upgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_register_at', csms.store.types.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('meter_flags', sa.JSON(), nullable=True))
    with op.batch_alter_table('meter_samples', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag', sa.String(), nullable=True))
    key = ", ".join(READING_KEY)
    # Keep the first copy of each reading already stored twice.
    op.execute(f"DELETE FROM meter_samples WHERE id NOT IN "
               f"(SELECT MIN(id) FROM meter_samples GROUP BY {key})")
    op.execute(f"CREATE UNIQUE INDEX ux_samples_reading ON meter_samples ({key})")


def downgrade() -> None:
    op.execute("DROP INDEX ux_samples_reading")
    with op.batch_alter_table('meter_samples', schema=None) as batch_op:
        batch_op.drop_column('flag')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('meter_flags')
        batch_op.drop_column('last_register_at')
