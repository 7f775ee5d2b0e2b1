"""a TransactionEvent replay is the same seqNo, eventType and timestamp (seqNo may restart);
sessions indexed by when they started arriving (the overview's meter-data alert)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 02:50:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A charger that reboots mid-transaction numbers its events from 0 again: (session, seqNo)
    # alone made those events look like replays and dropped them.
    with op.batch_alter_table('transaction_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tx_event_seq', type_='unique')
        batch_op.create_unique_constraint(
            'uq_tx_event_seq', ['session_id', 'seq_no', 'event_type', 'timestamp'])
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_started_received_at', ['started_received_at'])


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_started_received_at')
    with op.batch_alter_table('transaction_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tx_event_seq', type_='unique')
        batch_op.create_unique_constraint('uq_tx_event_seq', ['session_id', 'seq_no'])
