"""smart charging state: when an EV's maximum was learned

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa

import csms.store.types
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('smart_charging_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ev_max_at', csms.store.types.UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('smart_charging_state', schema=None) as batch_op:
        batch_op.drop_column('ev_max_at')
