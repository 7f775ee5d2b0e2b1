"""auth hardening: password-less chargers opt-in, API token expiry, server-side console sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 00:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import csms.store.types
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chargers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_unauthenticated', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    # Chargers that connected without a password keep doing so after the upgrade (csms serve
    # lists them at start); new ones need a password or the explicit flag.
    op.execute("UPDATE chargers SET allow_unauthenticated = TRUE "
               "WHERE password_hash IS NULL AND security_profile = 0")
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', csms.store.types.UTCDateTime(),
                                      nullable=True))
    op.create_table('console_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', csms.store.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', csms.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sessions_token_hash'), ['token_hash'],
                              unique=True)
        batch_op.create_index(batch_op.f('ix_console_sessions_user_id'), ['user_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_console_sessions_token_hash'))
    op.drop_table('console_sessions')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('chargers', schema=None) as batch_op:
        batch_op.drop_column('allow_unauthenticated')
