"""the fleet's vehicle registry: charging facts per vehicle, linked to an id token and to the
EV identity a 2.0.1 / 2.1 charger reports

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import csms.store.types
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'vehicles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column('battery_wh', sa.Float(), nullable=False),
        sa.Column('ac_phases', sa.Integer(), nullable=False),
        sa.Column('ac_max_w', sa.Float(), nullable=False),
        sa.Column('dc_max_w', sa.Float(), nullable=False),
        sa.Column('v2g', sa.Boolean(), nullable=False),
        sa.Column('id_token', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column('ev_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('created_at', csms.store.types.UTCDateTime(), nullable=False),
        # Deleting an id token unlinks its vehicle; the vehicle stays in the registry.
        sa.ForeignKeyConstraint(['id_token'], ['id_tokens.id_token'],
                                name='fk_vehicles_id_token', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ev_id'),
        sa.UniqueConstraint('id_token'),
        sa.UniqueConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('vehicles')
