"""security profiles per charger, password rotation, charger certificates

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03 07:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import csms.store.types
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chargers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('security_profile', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('password_pending_hash',
                                      sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('password_pending_at', csms.store.types.UTCDateTime(),
                                      nullable=True))
    # A charger registered with a password used security profile 1.
    op.execute("UPDATE chargers SET security_profile = 1 WHERE password_hash IS NOT NULL")

    op.create_table('charger_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('charger_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('certificate_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('serial_hex', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sha256_hex', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('not_before', csms.store.types.UTCDateTime(), nullable=False),
    sa.Column('not_after', csms.store.types.UTCDateTime(), nullable=False),
    sa.Column('chain_pem', sa.Text(), nullable=True),
    sa.Column('created_at', csms.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', csms.store.types.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', csms.store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['charger_id'], ['chargers.id'], name='fk_certificates_charger',
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('charger_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charger_certificates_charger_id'), ['charger_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_charger_certificates_sha256_hex'), ['sha256_hex'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('charger_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charger_certificates_sha256_hex'))
        batch_op.drop_index(batch_op.f('ix_charger_certificates_charger_id'))
    op.drop_table('charger_certificates')
    with op.batch_alter_table('chargers', schema=None) as batch_op:
        batch_op.drop_column('password_pending_at')
        batch_op.drop_column('password_pending_hash')
        batch_op.drop_column('security_profile')
