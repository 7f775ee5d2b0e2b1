"""ROI inputs per site (capex and installation per charger kind, opex, selling price, grid
connection, fleet size): one JSON object, empty = the csms.economics defaults

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing sites get {}: every input at its default, so their payback reads as before.
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('economics', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('economics')
