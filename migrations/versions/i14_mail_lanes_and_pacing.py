"""Mail lanes (transactional before bulk) and the shared count behind MAIL_MAX_PER_SECOND

Revision ID: i14_mail_lanes
Revises: i16_webhooks
Create Date: 2026-11-25 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_mail_lanes'
down_revision = 'i16_webhooks'
branch_labels = None
depends_on = None

BULK_KINDS = ('reminder', 'message', 'recording')


def upgrade():
    op.create_table('mail_send_window',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('second', sa.BigInteger(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_send_window'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lane', sa.Integer(), nullable=False, server_default='0'))
    # Rows already queued take the lane their kind has from now on.
    outbox = sa.table('outbox_message', sa.column('kind', sa.String), sa.column('lane', sa.Integer))
    op.execute(outbox.update().where(outbox.c.kind.in_(BULK_KINDS)).values(lane=1))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('lane', server_default=None)
        batch_op.drop_index('ix_outbox_message_status_next_attempt_at')
        batch_op.create_index('ix_outbox_message_claim', ['status', 'lane', 'next_attempt_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_claim')
        batch_op.create_index('ix_outbox_message_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.drop_column('lane')
    op.drop_table('mail_send_window')
